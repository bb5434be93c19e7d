"""'🔊 Nghe' under answers, over Telegram, Zalo and the web chat: the answer arrives as a voice note in its
language, made by a job outside any transaction the first time and sent from the cache the second time
(no speech made again, and on Telegram not even uploaded again); an official's answer can be heard too,
and nobody can hear someone else's answer by forging a payload."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from bot.config import Settings
from bot.db import Database
from bot.media import store
from bot.people import service as people
from bot.privacy import service as privacy
from bot.qa import service as qa
from bot.qa.models import OpenQuestion
from bot.voice.models import VoiceClip
from tests.conftest import knowledge_of, webhook_settings
from tests.drivers import Driver, TelegramDriver, WebDriver, ZaloDriver, on_channel, onboard, wait_for_text
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

_chat_ids = itertools.count(7_300_001)
KB = Path(__file__).parent / "data" / "qa_places.yaml"
QUESTION = "the bao hiem y te cho nguoi dan toc co mat tien ko"


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleTTS]:
    """The gTTS endpoint stand-in on loopback: it counts every piece of speech asked of it."""
    fake = FakeGoogleTTS().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(
    database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, google: FakeGoogleTTS
) -> Settings:
    """Both platforms, speech by gTTS through the stand-in."""
    return webhook_settings(database_url, fake_telegram, fake_zalo, gtts_url=google.url, tts_engine="gtts")


@pytest.fixture
def person(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
    live: LiveServer,
) -> Driver:
    """An onboarded person of Xã Phong Thổ on each channel, with the tests' knowledge base."""
    with db.transaction() as session:
        report = qa.import_rows(session, yaml.safe_load(KB.read_text(encoding="utf-8")))
        assert not report.errors, report.errors
    knowledge_of(live).warm()
    driver = on_channel(request.param, client, fake_telegram, db, next(_chat_ids), fake_zalo)
    onboard(driver)
    return driver


pytestmark = pytest.mark.parametrize("person", ["telegram", "zalo", "web"], indirect=True)


def voice_notes(person: Driver) -> list[bytes | str]:
    """The voice notes that reached the person: the audio Telegram was sent (or its file id when sent
    again), the playable file the web chat gets, the link Zalo shows."""
    if isinstance(person, TelegramDriver):
        calls = person.fake.sent(person.chat_id, "sendVoice")
        return [c.files.get("voice") or str(c.params.get("voice")) for c in calls]
    if isinstance(person, ZaloDriver):
        return [s.text for s in person.fake.to(person.user_id) if s.text.startswith("🔊")]
    assert isinstance(person, WebDriver)
    polled = person.client.get("/chat/api/messages", params={"session": person.session}).json()
    urls = [r["audio_url"] for r in polled["replies"] if r["audio_url"]]
    return [person.client.get(url).content for url in urls]


def heard(person: Driver, count: int, timeout: float = 20.0) -> list[bytes | str]:
    """Wait until `count` voice notes reached the person."""
    deadline = time.monotonic() + timeout
    while len(found := voice_notes(person)) < count:
        assert time.monotonic() < deadline, f"{len(found)} voice notes of {count}"
        time.sleep(0.05)
    return found


def test_an_answer_is_heard_and_a_second_tap_makes_no_speech(
    person: Driver, db: Database, google: FakeGoogleTTS
) -> None:
    answer = person.send(QUESTION)[0]
    assert answer.text.startswith("❓ Bạn hỏi:")
    listen = answer.payload("🔊 Nghe")
    before = len(google.requests)
    person.tap(listen)
    [first] = heard(person, 1)
    said = [text for text, _lang in google.requests[before:]]
    assert any("bảo hiểm y tế" in s.lower() for s in said), "the answer itself was read, in Vietnamese"
    assert {lang for _t, lang in google.requests[before:]} == {"vi"}
    if isinstance(first, bytes):
        assert first.startswith(b"OggS"), "an OGG/Opus voice note"
    made = len(google.requests)

    person.tap(listen)
    notes = heard(person, 2)
    assert len(google.requests) == made, "the second tap made no speech"
    if isinstance(person, TelegramDriver):
        assert isinstance(notes[1], str) and notes[1] and notes[1] != notes[0], (
            "re-sent by Telegram's file id"
        )
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(VoiceClip)) == 1


def test_a_forged_payload_cannot_read_out_someone_elses_answer(person: Driver, db: Database) -> None:
    if isinstance(person, ZaloDriver):
        pytest.skip("a Zalo tap is the text of a button shown, never a payload")
    with db.transaction() as session:
        question = OpenQuestion(text="của người khác", answer="Bí mật của người khác.", person_id=None)
        session.add(question)
        session.flush()
        question_id = question.id
    refused = person.tap(f"listen:oq:{question_id}")
    assert "không đọc thành tiếng được" in refused[-1].text
    person.tap("listen:fb:999999")  # no such ticket (on Telegram the screen already says so)
    time.sleep(0.5)
    assert voice_notes(person) == []


def test_an_officials_answer_can_be_heard_and_goes_when_the_person_erases_their_data(
    person: Driver, client: httpx.Client, db: Database, settings: Settings
) -> None:
    from bot.accounts.models import Role
    from tests.test_admin import csrf, login, make_admin

    person.send("con bò nhà tôi bị ốm thì gọi ai")
    person.tap("qa_send")
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    with db.transaction() as session:
        waiting = session.scalars(select(OpenQuestion)).one()
    with httpx.Client(base_url=str(client.base_url)) as officer:
        login(officer, "phongtho")
        inbox = officer.get("/admin/questions")
        officer.post(
            f"/admin/questions/{waiting.id}/answer",
            data={"answer": "Gọi cán bộ thú y xã.", "csrf_token": csrf(inbox)},
        )
    reached = wait_for_text(person, "Gọi cán bộ thú y xã")
    person.tap(reached.payload("🔊 Nghe"))
    heard(person, 1)

    with db.transaction() as session:  # the person erases their data: the answer's voice goes with it
        [clip] = session.scalars(select(VoiceClip)).all()
        kept = Path(settings.media_dir) / clip.media.path
        found = people.get_by_urn(session, person.urn)
        assert found is not None and kept.exists()
        privacy.erase(session, store.of(settings), found)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(VoiceClip)) == 0
    assert not kept.exists()
