"""Spoken prompts, first slice: "🔊 Nghe hướng dẫn" at the language step, then every onboarding prompt comes
with a voice note, its buttons numbered; the whole onboarding costs the person at most 200 KB of voice; a
prompt heard once is not made again and then comes just before its buttons (the first time, before the
person agreed to the privacy notice, the note follows its prompt)."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.db import Database
from bot.media import service as media
from bot.media import store
from bot.voice import service as voice
from bot.voice.models import VoiceClip
from bot.voice.service import Spoken
from tests.conftest import webhook_settings
from tests.drivers import Driver, TelegramDriver, WebDriver, on_channel
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

_chat_ids = itertools.count(7_400_001)
BUDGET = 200_000  # bytes of voice for the whole onboarding


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo) -> Settings:
    """Speech by espeak-ng, offline."""
    return webhook_settings(database_url, fake_telegram, fake_zalo, tts_engine="espeak")


def timeline(person: Driver) -> list[tuple[str, str, list[str]]]:
    """What reached the person, in order: ('voice', its bytes or file id, []) or ('text', text, labels)."""
    if isinstance(person, TelegramDriver):
        items: list[tuple[str, str, list[str]]] = []
        shown = [person.fake.calls_to(m) for m in ("sendVoice", "sendMessage", "editMessageText")]
        for c in sorted((c for calls in shown for c in calls), key=lambda c: c.at):
            if c.status != 200 or c.chat_id != person.chat_id:
                continue
            if c.method == "sendVoice":
                items.append(("voice", str(len(c.files.get("voice", b""))), []))
            else:  # sent, or in place of the message whose button was tapped
                items.append(("text", str(c.params.get("text")), [label for label, _p in c.buttons]))
        return items
    assert isinstance(person, WebDriver)
    replies = person.client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
    return [
        ("voice", str(len(person.client.get(r["audio_url"]).content)), [])
        if r["audio_url"]
        else ("text", r["text"], [b["label"] for b in r["buttons"]])
        for r in replies
    ]


def voiced(person: Driver, fragment: str, *, before: bool) -> list[str]:
    """Wait for a prompt and its voice note, just before it (or, `before` False, just before or after).
    Returns the prompt's button labels."""
    deadline = time.monotonic() + 30
    while True:
        items = timeline(person)
        found = [i for i, (kind, text, _b) in enumerate(items) if kind == "text" and fragment in text]
        if not found:
            assert time.monotonic() < deadline, f"{fragment!r} never reached the person"
            time.sleep(0.1)
            continue
        at = found[-1]
        near = [items[at - 1][0]] + ([] if before else [kind for kind, _t, _b in items[at + 1 : at + 2]])
        if "voice" in near:
            return items[at][2]
        assert time.monotonic() < deadline, f"no voice note with {fragment!r}: {items[at - 1 : at + 2]}"
        time.sleep(0.1)


@pytest.mark.parametrize("channel", ["telegram"])
def test_a_person_who_chose_to_listen_hears_each_prompt_before_its_buttons(
    channel: str, client: httpx.Client, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, db: Database
) -> None:
    person = on_channel(channel, client, fake_telegram, db, next(_chat_ids), fake_zalo)
    first = person.send("/start")
    listen = first[-1].payload("🔊 Nghe hướng dẫn")
    person.tap(listen)
    languages = voiced(person, "Bạn chọn ngôn ngữ nhé", before=False)  # asked again, read aloud
    assert languages[0].startswith("1️⃣ ") and not any("🔊" in label for label in languages)
    person.tap("lang:vi")
    labels = voiced(person, "Bạn ở tỉnh hay thành phố nào?", before=False)
    assert labels[0].startswith("1️⃣ ") and labels[1].startswith("2️⃣ "), "buttons told apart by number"
    person.send("lai chau")
    voiced(person, "Bạn ở xã, phường nào của Lai Châu?", before=False)
    person.send("phong tho")
    voiced(person, "Trước khi bắt đầu, xin bạn đọc điều này", before=False)
    person.tap("consent:yes")
    menu = voiced(person, "Bạn cần gì? Bấm vào một nút:", before=True)  # agreed: held until its clip is made
    assert any("Góp ý" in label for label in menu)
    deadline = time.monotonic() + 30
    while len(notes := [int(size) for kind, size, _b in timeline(person) if kind == "voice"]) < 5:
        assert time.monotonic() < deadline, f"{len(notes)} voice notes for 5 prompts"
        time.sleep(0.1)
    spent = sum(notes)
    print(f"\nspoken-prompt onboarding on {channel}: {spent / 1000:.1f} KB of voice")
    assert 0 < spent <= BUDGET

    with db.transaction() as session:
        made = session.scalar(select(func.count()).select_from(VoiceClip))
    other = on_channel(channel, client, fake_telegram, db, next(_chat_ids), fake_zalo)
    other.tap(other.send("/start")[-1].payload("🔊 Nghe hướng dẫn"))
    voiced(other, "Bạn chọn ngôn ngữ nhé", before=True)
    started = time.monotonic()
    other.tap("lang:vi")
    voiced(other, "Bạn ở tỉnh hay thành phố nào?", before=True)
    assert time.monotonic() - started < 5
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(VoiceClip)) == made, (
            "the prompt was not made again"
        )


def test_a_recorded_clip_takes_the_place_of_the_made_one(db: Database, settings: Settings) -> None:
    """A translator's recording of a prompt in their language (the workbench's, later) is what people hear."""
    root, said = store.of(settings), Spoken("Bạn ở tỉnh hay thành phố nào?", "vi")
    speech = voice.speak(settings, said)
    uploaded = voice.upload(db, root, speech)
    recorded = media.upload(db, root, b"OggS a person's voice", kind="voice", mime="audio/ogg")
    with db.transaction() as session:
        made = voice.keep(session, root, said, speech.engine, uploaded)
        assert voice.cached(session, said) == made
        recording = media.record(session, root, recorded)
        voice.record(session, said, recording)
    with db.transaction() as session:
        heard = voice.cached(session, said)
        assert heard is not None and heard.id == recording.id
        assert voice.cached(session, Spoken(said.text, "en")) is None, "per language"
