"""Translators record spoken prompts in the workbench: a H'Mông translator records a prompt in a real
Chromium with a fake microphone (tap or hold 🎤, a running timer, cancel), it waits as a draft until a
second person approves it, and a person who chose H'Mông and spoken prompts then hears that recording
just before the prompt's buttons on Telegram, Zalo and the web chat. H'Mông has no engine voice: a prompt
nobody recorded comes in Vietnamese, which the person is told once (by the recorded note when there is
one). A whole spoken onboarding of recordings is measured against 200 KB."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.accounts.models import AuditEntry, Role
from bot.audio import ffmpeg
from bot.config import Settings
from bot.conversation.types import Button, Outgoing, Reply
from bot.db import Database
from bot.i18n import SourceMessage
from bot.jobs import service as jobs
from bot.jobs.base import Work
from bot.media import store
from bot.media.models import Media
from bot.people import service as people
from bot.privacy.notice import NOTICE
from bot.voice import notes, prompts
from bot.voice.models import VoiceClip
from bot.voice.service import Spoken
from tests.browser import ARTIFACTS, CHROMIUM
from tests.conftest import webhook_settings
from tests.drivers import Driver, Seen, TelegramDriver, WebDriver, ZaloDriver, on_channel
from tests.factories import PNG
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import csrf
from tests.test_browser import sign_in
from tests.test_browser_voice import phone, probe, sync_api  # noqa: F401  (the fake-microphone phone)
from tests.test_translations import add_admin, signed_in

PROVINCE = SourceMessage("Bạn ở tỉnh hay thành phố nào? Chọn bên dưới, hoặc gõ tên (không dấu cũng được).")
COMMUNE_FRAGMENT = "Bạn ở xã, phường nào của"
NOTE_FRAGMENT = "chưa có lời đọc bằng tiếng H'Mông"
BUDGET = 200_000  # bytes of voice for the whole onboarding
_chat_ids = itertools.count(7_600_001)


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo) -> Settings:
    """Vietnamese speech by espeak-ng, offline; it has no H'Mông voice (nor has any engine)."""
    return webhook_settings(database_url, fake_telegram, fake_zalo, tts_engine="espeak")


def timeline(person: Driver) -> list[tuple[str, bytes | str]]:
    """What reached the person, in order: ('voice', a note's bytes or Telegram file id) or ('text', text)."""
    if isinstance(person, TelegramDriver):
        calls = [c for m in ("sendVoice", "sendMessage") for c in person.fake.calls_to(m)]
        mine = sorted(
            (c for c in calls if c.status == 200 and c.chat_id == person.chat_id), key=lambda c: c.at
        )
        return [
            ("voice", c.files.get("voice") or str(c.params.get("voice")))
            if c.method == "sendVoice"
            else ("text", str(c.params.get("text")))
            for c in mine
        ]
    if isinstance(person, ZaloDriver):  # a voice note is a link to play it
        return [
            ("voice", person.client.get(httpx.URL(s.text.split()[-1]).raw_path.decode()).content)
            if s.text.startswith("🔊")
            else ("text", s.text)
            for s in person.fake.to(person.user_id)
        ]
    assert isinstance(person, ListeningWeb)
    replies = person.client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
    return [
        ("voice", person.client.get(r["audio_url"]).content)
        if r["audio_url"]
        else ("text", r["text"] or person.texts.get(r["id"], ""))
        for r in replies
    ]


class ListeningWeb(WebDriver):
    """A web chat person whose page keeps the text of each reply it was answered with: what Loa Bản sent
    a person who has not agreed to the privacy notice is blanked once sent, so a later poll shows none."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(client)
        self.texts: dict[int, str] = {}

    def _replies(self, response: httpx.Response) -> list[Seen]:
        self.texts.update({r["id"]: r["text"] for r in response.json().get("replies", [])})
        return super()._replies(response)


def shown(items: list[tuple[str, bytes | str]]) -> list[str]:
    """A timeline's tail, readable in a failure message."""
    return [f"voice {len(s)} B" if kind == "voice" else str(s)[:60] for kind, s in items[-5:]]


def before(person: Driver, fragment: str, *, strictly: bool = True) -> bytes | str:
    """Wait for a prompt and a voice note next to it (just before it, or `strictly` False also just
    after); returns that note."""
    deadline = time.monotonic() + 30
    while True:
        items = timeline(person)
        found = [i for i, (kind, said) in enumerate(items) if kind == "text" and fragment in str(said)]
        if found:
            at = found[-1]
            near = items[at - 1 : at] + ([] if strictly else items[at + 1 : at + 2])
            notes = [said for kind, said in near if kind == "voice"]
            if notes:
                return notes[0]
        assert time.monotonic() < deadline, f"no voice note with {fragment!r}: {shown(items)}"
        time.sleep(0.1)


def stored_clip(db: Database, settings: Settings, source: SourceMessage, origin: str) -> bytes:
    """The bytes of a prompt's H'Mông recording, draft or approved."""
    with db.transaction() as session:
        clip = session.scalars(
            select(VoiceClip).where(
                VoiceClip.key == prompts.clip_key(source, "hmn"), VoiceClip.origin == origin
            )
        ).one()
        return store.of(settings).get(clip.media.path)


def listening_in_hmong(person: Driver) -> None:
    """/start, '🔊 Nghe hướng dẫn', then H'Mông from the language question read aloud."""
    person.tap(person.send("/start")[-1].payload("🔊 Nghe hướng dẫn"))
    before(person, "Bạn chọn ngôn ngữ nhé", strictly=False)
    person.tap("lang:hmn")


@pytest.fixture
def newcomer(
    client: httpx.Client, fake_telegram: FakeBotAPI, db: Database, fake_zalo: FakeZalo
) -> Callable[[str], Driver]:
    """A new person on a channel, each time it is called."""

    def on(channel: str) -> Driver:
        if channel == "web":
            return ListeningWeb(client)
        return on_channel(channel, client, fake_telegram, db, next(_chat_ids), fake_zalo)

    return on


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)")
def test_a_prompt_recorded_in_the_browser_reaches_hmong_listeners_on_every_channel(
    phone: sync_api.Page,  # noqa: F811
    live: LiveServer,
    db: Database,
    settings: Settings,
    newcomer: Callable[[str], Driver],
) -> None:
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    add_admin(db, "duyet-hmn", Role.translator, ("hmn",))
    add_admin(db, "dich-km", Role.translator, ("km",))
    sign_in(phone, f"{live.url}/admin/login", "dich-hmn")
    phone.goto(f"{live.url}/admin/translations/hmn?q=B%E1%BA%A1n%20%E1%BB%9F%20t%E1%BB%89nh")
    row = phone.locator("section.translation", has_text="Bạn ở tỉnh hay thành phố nào?")
    sync_api.expect(row.get_by_text("chưa có bản ghi đã duyệt")).to_be_visible()
    assert phone.locator(".prompt-clip").count() == 1, "only a prompt people hear can be recorded"

    row.get_by_role("button", name="🎤 Ghi âm").tap()  # a tap records until ✔ or ✖
    sync_api.expect(row.locator(".clip-time")).to_have_text("0:01", timeout=5_000)
    row.get_by_role("button", name="✖ Hủy").click()
    sync_api.expect(row.get_by_role("button", name="🎤 Ghi âm")).to_be_visible()
    with db.transaction() as session:
        assert session.scalars(select(VoiceClip)).all() == [], "a cancelled recording keeps nothing"

    mic = row.get_by_role("button", name="🎤 Ghi âm").bounding_box()
    assert mic is not None
    x, y = mic["x"] + mic["width"] / 2, mic["y"] + mic["height"] / 2
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    sync_api.expect(row.locator(".clip-time")).to_have_text("0:02", timeout=5_000)  # held: the timer runs
    time.sleep(0.5)
    with phone.expect_navigation():
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})  # let go: kept
    row = phone.locator("section.translation", has_text="Bạn ở tỉnh hay thành phố nào?")
    sync_api.expect(row.get_by_text("bản ghi chờ duyệt")).to_be_visible()
    assert row.locator("audio").count() == 1, "the draft can be played back"
    assert " KB" in row.inner_text(), "its length and weight shown"
    ARTIFACTS.mkdir(exist_ok=True)
    row.screenshot(path=str(ARTIFACTS / "workbench-prompt-clip-360.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "fits a phone"

    draft = stored_clip(db, settings, PROVINCE, "draft")
    with db.transaction() as session:
        clip = session.scalars(select(VoiceClip)).one()
        path = Path(settings.media_dir) / clip.media.path
        clip_id = clip.id
    heard = probe(path)
    assert heard["format"] == "ogg" and heard["codec_name"] == "opus" and heard["channels"] == 1
    assert 1.5 <= float(str(heard["seconds"])) <= 6

    translator, reviewer, other = (signed_in(live, u) for u in ("dich-hmn", "duyet-hmn", "dich-km"))
    played = translator.get(f"/admin/translations/hmn/clips/{clip_id}.ogg")
    assert played.status_code == 200 and played.content == draft
    assert other.get(f"/admin/translations/hmn/clips/{clip_id}.ogg").status_code == 403, "not their language"
    form = {"msgid": PROVINCE.msgid}
    token = csrf(translator.get("/admin/translations/hmn"))
    refused = translator.post("/admin/translations/hmn/clips/approve", data={"csrf_token": token, **form})
    assert refused.status_code == 400 and "người thứ hai" in refused.text, "nobody approves their own"
    km_token = csrf(other.get("/admin/translations/km"))
    assert (
        other.post("/admin/translations/hmn/clips/approve", data={"csrf_token": km_token, **form}).status_code
        == 403
    )

    early = newcomer("web")
    listening_in_hmong(early)
    heard_early = before(early, "Bạn ở tỉnh hay thành phố nào?", strictly=False)
    assert heard_early != draft, "a draft is never played to people"

    token = csrf(reviewer.get("/admin/translations/hmn"))
    approved = reviewer.post("/admin/translations/hmn/clips/approve", data={"csrf_token": token, **form})
    assert approved.status_code == 303
    assert stored_clip(db, settings, PROVINCE, "recorded") == draft
    with db.transaction() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"prompt_clip_recorded", "prompt_clip_approved"} <= actions

    for channel in ("telegram", "zalo", "web"):
        person = newcomer(channel)
        listening_in_hmong(person)
        assert before(person, "Bạn ở tỉnh hay thành phố nào?") == draft, f"the recording, on {channel}"
        person.send("lai chau")  # nobody recorded the commune prompt, and no engine speaks H'Mông
        vietnamese = before(person, COMMUNE_FRAGMENT, strictly=False)
        assert vietnamese != draft and (isinstance(vietnamese, str) or vietnamese.startswith(b"OggS"))
        told = [s for kind, s in timeline(person) if kind == "text" and NOTE_FRAGMENT in str(s)]
        assert len(told) == 1, f"told once that some prompts come in Vietnamese, on {channel}"

    token = csrf(reviewer.get("/admin/translations/hmn"))
    removed = reviewer.post("/admin/translations/hmn/clips/delete", data={"csrf_token": token, **form})
    assert removed.status_code == 303
    with db.transaction() as session:
        assert session.scalars(select(VoiceClip).where(VoiceClip.origin != "tts")).all() == []
        assert "prompt_clip_deleted" in set(session.scalars(select(AuditEntry.action)))
    assert not path.exists(), "the recording's file went with it"


def espeak_recording(text: str) -> tuple[bytes, float]:
    """A stand-in for a translator's reading of a prompt: espeak-ng reads it (at a person's pace), and it
    goes through the same transcoding as an upload."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "vi", "-s", "150", "--stdout", text], capture_output=True, check=True
    )
    return ffmpeg.voice_note(wav.stdout, strict=False)


def approve_recording(db: Database, settings: Settings, source: SourceMessage, language: str) -> None:
    """A prompt recorded by one translator and approved by another, through the service."""
    voice, seconds = espeak_recording(source.msgid.replace("{province}", ""))
    files = store.of(settings)
    uploaded = prompts.upload(db, files, voice, seconds)
    with db.transaction() as session:
        prompts.record(session, files, source, language, 1, uploaded)
        prompts.approve(session, files, source, language, 2)


def test_the_note_is_heard_in_the_language_when_recorded_and_a_recorded_onboarding_fits_200_kb(
    live: LiveServer, db: Database, settings: Settings, newcomer: Callable[[str], Driver]
) -> None:
    channel = "web"
    note = SourceMessage(prompts.FALLBACK_NOTE)
    approve_recording(db, settings, note, "hmn")
    approve_recording(db, settings, PROVINCE, "hmn")
    person = newcomer(channel)
    listening_in_hmong(person)
    before(person, "Bạn ở tỉnh hay thành phố nào?")
    items = timeline(person)
    assert not any(NOTE_FRAGMENT in str(s) for kind, s in items if kind == "text"), "heard, not read"
    assert ("voice", stored_clip(db, settings, note, "recorded")) in items, "the note in H'Mông"

    commune = next(m for m in prompts.messages() if m.msgid.startswith(COMMUNE_FRAGMENT))
    village = next(m for m in prompts.messages() if m.msgid.startswith("Bạn ở thôn, bản nào?"))
    menu = next(m for m in prompts.messages() if m.msgid.startswith("Bạn cần gì?"))
    for source in (commune, village, SourceMessage(NOTICE), menu):
        approve_recording(db, settings, source, "hmn")
    person = newcomer(channel)
    listening_in_hmong(person)
    before(person, "Bạn ở tỉnh hay thành phố nào?")
    person.send("lai chau")
    before(person, COMMUNE_FRAGMENT)
    person.send("phong tho")
    before(person, "Trước khi bắt đầu, xin bạn đọc điều này")
    person.tap("consent:yes")
    before(person, "Bạn cần gì? Bấm vào một nút:")
    notes = [said for kind, said in timeline(person) if kind == "voice"]
    assert all(isinstance(n, bytes) for n in notes)
    spent = sum(len(n) for n in notes)
    print(
        f"\nrecorded spoken-prompt onboarding on {channel}: "
        f"{len(notes)} notes, {spent / 1000:.1f} KB of voice"
    )
    assert not any(NOTE_FRAGMENT in str(s) for kind, s in timeline(person) if kind == "text")
    assert 0 < spent <= BUDGET


def test_an_upload_that_is_no_recording_is_refused_in_words_on_the_translators_page(
    live: LiveServer, db: Database
) -> None:
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    translator = signed_in(live, "dich-hmn")
    searched = "Bạn ở tỉnh"
    for upload, refusal in [
        (None, "Chưa có bản ghi âm."),
        (("trong.webm", b""), "Tệp ghi âm trống."),
        (("dai.ogg", bytes(5_000_001)), "Tệp lớn quá (tối đa 5 MB)."),
        (("anh.png", PNG), "Loại tệp này không dùng được: hãy gửi tệp âm thanh"),
        (("hong.ogg", b"OggS" + bytes(3000)), "Không đọc được tệp ghi âm này, có thể tệp bị hỏng"),
    ]:
        token = csrf(translator.get("/admin/translations/hmn"))
        refused = translator.post(
            "/admin/translations/hmn/clips/record",
            data={"csrf_token": token, "msgid": PROVINCE.msgid, "q": searched},
            files={"clip": (upload[0], upload[1], "audio/ogg")} if upload else None,
        )
        assert refused.status_code == 400 and refusal in refused.text, (upload, refused.text[-2000:])
        assert f'name="q" value="{searched}"' in refused.text, "the search the translator typed is kept"
        assert PROVINCE.msgid in refused.text, "their row is still in front of them"
    with db.transaction() as session:
        assert session.scalars(select(VoiceClip)).all() == [], "nothing refused is kept"


def test_a_new_draft_replaces_the_old_one_and_the_same_file_sent_twice_is_kept(
    db: Database, settings: Settings
) -> None:
    files = store.of(settings)
    first, seconds = espeak_recording("một")
    second, _s = espeak_recording("hai")
    one, again, two = (prompts.upload(db, files, voice, seconds) for voice in (first, first, second))
    with db.transaction() as session:
        prompts.record(session, files, PROVINCE, "hmn", 1, one)
        prompts.record(session, files, PROVINCE, "hmn", 1, again)  # the same file sent again
    assert stored_clip(db, settings, PROVINCE, "draft") == first, "its file is still there"
    with db.transaction() as session:
        old = prompts.clips(session, PROVINCE, "hmn").draft
        assert old is not None
        old_path = old.media.path
        prompts.record(session, files, PROVINCE, "hmn", 1, two)
        assert prompts.approved(session, PROVINCE, "hmn") is None, "a draft is not heard"
        with pytest.raises(prompts.ClipError):
            prompts.approve(session, files, PROVINCE, "hmn", 1)
    assert stored_clip(db, settings, PROVINCE, "draft") == second
    assert not files.exists(old_path), "the replaced draft's file is gone"
    with db.transaction() as session:
        prompts.approve(session, files, PROVINCE, "hmn", 2)
        heard = prompts.approved(session, PROVINCE, "hmn")
        assert heard is not None and files.get(heard.path) == second
        assert prompts.clips(session, PROVINCE, "hmn").draft is None
        with pytest.raises(prompts.ClipError):
            prompts.record(session, files, SourceMessage("Đã đổi ngôn ngữ."), "hmn", 1, one)


def test_held_prompts_go_out_each_after_its_recording_or_its_made_speech(
    db: Database, settings: Settings
) -> None:
    """The job that holds prompts back until their speech is made keeps a recording in its place."""
    files = store.of(settings)
    approve_recording(db, settings, PROVINCE, "hmn")
    with db.transaction() as session:
        person, _new = people.get_or_create_by_urn(session, "web:held")
        recorded = prompts.approved(session, PROVINCE, "hmn")
        assert recorded is not None
        steps: list[tuple[Spoken | Media | None, Reply]] = [
            (Spoken("Bạn cần gì? Bấm vào một nút:", "vi"), Reply("[1]", (Button("A", "a"),))),
            (None, Reply("[2]")),
            (recorded, Reply("[3]", (Button("B", "b"),))),
        ]
        notes.queue_prompts(session, "web:held", person, steps)
        recorded_bytes = files.get(recorded.path)
    with db.transaction() as session:
        [claim] = jobs.claim(session, [notes.PROMPTS_JOB], 1, 60, 5, lambda _s, _j, _r: None)
    sent: list[Outgoing] = []
    notes.send_prompts(Work(db, settings, claim, sent.extend))
    shown = [o.reply.text if o.reply.attachment is None else o.reply.attachment.kind for o in sent]
    assert shown == ["voice", "[1]", "[2]", "voice", "[3]"]
    with db.transaction() as session:
        attached = sent[3].reply.attachment
        last = session.get(Media, attached.media_id) if attached is not None else None
        assert last is not None and files.get(last.path) == recorded_bytes, "the recording itself"
