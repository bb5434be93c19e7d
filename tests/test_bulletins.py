"""Bulletins end to end: audio made by the real gTTS client (against a loopback stand-in) or espeak-ng,
transcoded by ffmpeg, sent by the worker through the fake Telegram server within its limits, relayed by
prestigious persons, replayed from the menu, held in quiet hours, and taken again after a kill -9."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.audio import ffmpeg
from bot.audio import service as audio
from bot.bulletins import service as bulletins
from bot.bulletins.models import Delivery, DeliveryStatus, Relay
from bot.config import Settings
from bot.db import Database
from bot.media import store
from bot.people.models import Person
from tests import factories
from tests.conftest import TG_TOKEN, make_settings, webhook_settings
from tests.drivers import TelegramDriver
from tests.factories import add_person, wait_done
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.fakes.server import LiveServer, free_port
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_admin import login, make_admin

PHONG_THO, MUONG_TE, LAI_CHAU = 3549, 3445, 12
TEXT = "Từ ngày 1 tháng 12, hộ nghèo được vay vốn ưu đãi tại Ngân hàng Chính sách xã hội. Mang theo căn cước."
_chats = itertools.count(8_100_001)

pytestmark = pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleTTS]:
    """The gTTS endpoint stand-in on loopback."""
    fake = FakeGoogleTTS().start()
    yield fake
    fake.stop()


def bulletin_settings(
    database_url: str, fake: FakeBotAPI, media: Path, google: FakeGoogleTTS, **kw: Any
) -> Settings:
    """A webhook deployment that sends bulletins, with no quiet hours and no relay lead unless asked."""
    values: dict[str, Any] = {
        "media_dir": media,
        "gtts_url": google.url,
        "quiet_hours": "",
        "relay_lead_minutes": 0,
        "delivery_chat_interval_seconds": 0.05,
    }
    return webhook_settings(database_url, fake, **(values | kw))


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS) -> Settings:
    """This module's settings (the shared fixture's, plus bulletin knobs)."""
    return bulletin_settings(database_url, fake_telegram, tmp_path / "media", google)


def make_bulletin(
    db: Database, settings: Settings, *, title: str = "Vay vốn hộ nghèo", text: str = TEXT, **audience: Any
) -> int:
    """A Vietnamese bulletin with gTTS audio for an audience (Phong Thổ by default), as a draft."""
    clip = audio.clip_for(settings, text, "vi")
    audience.setdefault("communes", (PHONG_THO,))
    uploaded = audio.upload(db, store.of(settings), clip) if clip else None
    with db.transaction() as session:
        stored = audio.record(session, store.of(settings), uploaded) if uploaded else None
        bulletin = bulletins.create(
            session, title=title, versions=[("vi", text, stored)], audience=bulletins.Audience(**audience)
        )
        return bulletin.id


def send(db: Database, bulletin_id: int, *, lead: int = 0, urgent: bool = False) -> int:
    """Queue a draft for its audience."""
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        return bulletins.send(session, bulletin, lead=timedelta(minutes=lead), urgent=urgent)


def telegram_person(db: Database, **kw: Any) -> int:
    """An onboarded Telegram person in Phong Thổ (unless told otherwise); returns the chat id."""
    chat_id = next(_chats)
    kw.setdefault("commune", PHONG_THO)
    add_person(db, f"telegram:{chat_id}", province=LAI_CHAU, **kw)
    return chat_id


def test_a_bulletin_reaches_its_audience_as_a_voice_note_uploaded_once(
    live: LiveServer, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, settings: Settings
) -> None:
    villagers = [telegram_person(db) for _ in range(3)]
    elder = telegram_person(db, role="prestigious")
    elsewhere = telegram_person(db, commune=MUONG_TE)
    blocked, gone = telegram_person(db), telegram_person(db)
    fake_telegram.blocked.add(blocked)
    fake_telegram.unknown_chats.add(gone)
    web_session = client.post("/chat/api/sessions").json()["session"]
    add_person(db, f"web:{web_session}", commune=PHONG_THO, province=LAI_CHAU)
    bulletin_id = make_bulletin(db, settings)

    with db.transaction() as session:
        reach = bulletins.reach(session, bulletins.Audience(communes=(PHONG_THO,)))
    assert (reach.total, reach.prestigious, reach.by_channel) == (7, 1, {"telegram": 6, "web": 1})
    assert send(db, bulletin_id) == 7
    progress = wait_done(db, bulletin_id)

    assert progress.to_json() | {"possible_duplicates": 0} == {
        "total": 7,
        "sent": 5,
        "failed": 2,
        "pending": 0,
        "blocked": 1,
        "cancelled": 0,
        "unreachable": 0,
        "possible_duplicates": 0,
    }
    voices = fake_telegram.sent(method="sendVoice")
    assert sorted(c.chat_id for c in voices) == sorted([*villagers, elder])
    uploads = [c for c in voices if c.files]
    assert len(uploads) == 1, "the voice note is uploaded once, then re-sent by file_id"
    assert uploads[0].files["voice"].startswith(b"OggS")
    for chat in villagers:
        [voice] = fake_telegram.sent(chat)
        assert "Vay vốn hộ nghèo" in voice.params["caption"] and "căn cước" in voice.params["caption"]
        assert [label for label, _ in voice.buttons] == ["📻 Bản tin khác", "☰ Menu chính"]
    read_aloud, elder_voice = fake_telegram.sent(elder)
    assert "Xin đọc cho bà con nghe" in read_aloud.params["text"] and TEXT in read_aloud.params["text"]
    assert elder_voice.buttons == [("✅ Đã truyền đạt cho bà con", f"relay:{bulletin_id}")]
    assert fake_telegram.sent(elsewhere) == []
    with db.transaction() as session:
        person = session.scalar(select(Person).where(Person.id == _person_of(session, blocked)))
        assert person is not None and person.subscribed is False
        refused, lost = bulletins.failures(session, bulletin_id)
        assert refused.status == DeliveryStatus.blocked and "blocked" in (refused.error or "")
        assert lost.status == DeliveryStatus.failed and "chat not found" in (lost.error or "").lower()
        assert lost.attempts == 1, "a permanent error is not retried"
        blocked_id = _person_of(session, blocked)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/bulletins/{bulletin_id}").text
    failed = page.split("Không gửi được hoặc đang chờ", 1)[1].split("</table>", 1)[0]
    assert failed.count("<td>Telegram</td>") == 2 and f'href="/admin/people/{blocked_id}"' in failed
    assert "telegram:" not in page, "the app by name, the person behind a link, no chat address"

    polled = client.get("/chat/api/messages", params={"session": web_session}).json()["replies"]
    assert polled[0]["audio_url"].endswith(".ogg") and "Vay vốn hộ nghèo" in polled[0]["text"]
    voice_file = client.get(polled[0]["audio_url"])
    assert voice_file.status_code == 200 and voice_file.headers["content-type"] == "audio/ogg"
    feed = client.get(f"/feeds/{PHONG_THO}/vi.xml")
    assert feed.status_code == 200 and "<title>Vay vốn hộ nghèo</title>" in feed.text
    mp3_url = feed.text.split('enclosure url="https://loaban.example.org', 1)[1].split('"', 1)[0]
    station = client.get(mp3_url)
    assert station.status_code == 200 and station.headers["content-type"] == "audio/mpeg"
    assert client.get(f"/feeds/{MUONG_TE}/vi.xml").text.count("<item>") == 0


def _statuses(db: Database) -> set[DeliveryStatus]:
    """The statuses of all outbox rows now."""
    with db.transaction() as session:
        return set(session.scalars(select(Delivery.status)))


def _person_of(session: Any, chat_id: int) -> int:
    """The person id behind a Telegram chat."""
    from bot.people import service as people

    person = people.get_by_urn(session, f"telegram:{chat_id}")
    assert person is not None
    return person.id


def test_a_prestigious_person_gets_it_first_and_confirms_the_relay(
    live: LiveServer, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, settings: Settings
) -> None:
    elder_chat = telegram_person(db, role="prestigious")
    villager = telegram_person(db)
    bulletin_id = make_bulletin(db, settings)
    send(db, bulletin_id, lead=60)
    fake_telegram.wait_for(lambda: len(fake_telegram.sent(elder_chat)) == 2)
    fake_telegram.wait_for(lambda: _statuses(db) == {DeliveryStatus.sent, DeliveryStatus.pending})
    with db.transaction() as session:
        rows = {r.prestigious: r for r in session.scalars(select(Delivery))}
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None and bulletin.send_at is not None
    assert rows[True].status == DeliveryStatus.sent and rows[False].status == DeliveryStatus.pending
    assert rows[False].due_at - bulletin.send_at == timedelta(minutes=60)
    assert fake_telegram.sent(villager) == []
    assert "bà con nhận sau 60 phút" in fake_telegram.sent(elder_chat)[0].params["text"]

    elder = TelegramDriver(client, fake_telegram, db, elder_chat)
    asked = elder.tap(f"relay:{bulletin_id}")
    assert "bao nhiêu hộ" in asked[0].text
    how = elder.tap(asked[0].payload("30–50"))
    assert "bằng cách nào" in how[0].text
    thanks = elder.tap(how[0].payload("Loa phát thanh"))
    assert "Đã ghi nhận" in thanks[0].text
    with db.transaction() as session:
        [relay] = session.scalars(select(Relay)).all()
        assert (relay.households, relay.method, relay.commune_code) == (30, "loudspeaker", PHONG_THO)
        [cover] = bulletins.coverage(session, bulletin_id)
        assert (cover.relays, cover.households, cover.methods) == (1, 30, {"loudspeaker": 1})


def test_a_language_without_the_bulletin_gets_vietnamese_with_a_note_and_the_menu_replays_it(
    live: LiveServer, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, settings: Settings
) -> None:
    chat = telegram_person(db, language="hmn")
    bulletin_id = make_bulletin(db, settings)
    send(db, bulletin_id)
    wait_done(db, bulletin_id)
    [voice] = fake_telegram.sent(chat)
    assert "đây là bản tiếng Việt" in voice.params["caption"] and "Lus Hmoob" in voice.params["caption"]

    person = TelegramDriver(client, fake_telegram, db, chat)
    listing = person.tap("news")
    assert "Bản tin gần đây" in listing[0].text
    person.tap(listing[0].payload("Vay vốn"))
    fake_telegram.wait_for(lambda: len(fake_telegram.sent(chat, "sendVoice")) == 2)
    assert "Vay vốn hộ nghèo" in fake_telegram.sent(chat, "sendVoice")[-1].params["caption"]


def test_quiet_hours_hold_ordinary_bulletins_but_not_urgent_ones(
    database_url: str, db: Database, fake_telegram: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    now = datetime.now(UTC)
    window = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
    settings = bulletin_settings(
        database_url, fake_telegram, tmp_path / "media", google, quiet_hours=window, timezone="UTC"
    )
    chat = telegram_person(db)
    from bot.server import create_app

    server = LiveServer(create_app(settings)).start()
    try:
        ordinary = make_bulletin(db, settings, title="Họp thôn")
        send(db, ordinary)
        urgent = make_bulletin(db, settings, title="Lũ quét: sơ tán ngay")
        send(db, urgent, urgent=True)
        wait_done(db, urgent)
        time.sleep(1.0)
        with db.transaction() as session:
            assert bulletins.progress(session, ordinary).pending == 1
        assert ["Lũ quét" in c.params["caption"] for c in fake_telegram.sent(chat)] == [True]
    finally:
        server.stop()


def test_the_platform_rate_limit_is_honoured_and_nobody_is_lost(
    database_url: str, db: Database, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    strict = FakeBotAPI(TG_TOKEN, global_rate=8).start()
    try:
        settings = bulletin_settings(database_url, strict, tmp_path / "media", google)
        chats = [telegram_person(db) for _ in range(24)]
        from bot.server import create_app

        server = LiveServer(create_app(settings)).start()
        try:
            bulletin_id = make_bulletin(db, settings)
            send(db, bulletin_id)
            progress = wait_done(db, bulletin_id, timeout=60)
        finally:
            server.stop()
        assert progress.sent == 24
        assert any(c.status == 429 for c in strict.calls), "the fake's 8/s limit was hit"
        assert sorted(c.chat_id for c in strict.sent(method="sendVoice")) == sorted(chats)
    finally:
        strict.stop()


def test_a_worker_killed_mid_broadcast_resumes_losing_no_one(
    database_url: str, db: Database, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """kill -9 a `loaban worker` process at about a third of a broadcast, start another: everyone gets it,
    and the only repeats are rows that were in flight, which the status counts."""
    worker: dict[str, subprocess.Popen[bytes]] = {}
    killed: list[int] = []

    def kill_at_a_third(call: Any) -> None:
        if call.method == "sendVoice" and call.status == 200 and not killed and len(fake.sent()) >= 20:
            killed.append(len(fake.sent()))
            os.kill(worker["proc"].pid, signal.SIGKILL)

    fake = FakeBotAPI(TG_TOKEN, latency=0.02, on_call=kill_at_a_third).start()
    try:
        settings = bulletin_settings(database_url, fake, tmp_path / "media", google)
        chats = [telegram_person(db) for _ in range(60)]
        bulletin_id = make_bulletin(db, settings)
        send(db, bulletin_id)
        env = os.environ | {
            "LOABAN_DATABASE_URL": database_url,
            "LOABAN_TELEGRAM_TOKEN": TG_TOKEN,
            "LOABAN_TELEGRAM_API_URL": fake.url,
            "LOABAN_MEDIA_DIR": str(settings.media_dir),
            "LOABAN_QUIET_HOURS": "",
            "LOABAN_QA_SEMANTIC": "false",
            "LOABAN_DELIVERY_CONCURRENCY": "8",
            "LOABAN_PORT": str(free_port()),
        }
        command = [sys.executable, "-m", "bot.cli", "worker"]
        worker["proc"] = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        assert worker["proc"].wait(timeout=60) == -signal.SIGKILL and killed
        worker["proc"] = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            progress = wait_done(db, bulletin_id, timeout=60)
        finally:
            worker["proc"].send_signal(signal.SIGTERM)
            worker["proc"].wait(timeout=30)
    finally:
        fake.stop()
    received = [c.chat_id for c in fake.sent(method="sendVoice")]
    assert set(received) == set(chats), "nobody is lost"
    duplicates = len(received) - len(set(received))
    assert progress.sent == 60 and duplicates <= progress.retaken <= 8


def test_recordings_in_every_accepted_format_and_a_corrupt_file(
    tmp_path: Path, google: FakeGoogleTTS
) -> None:
    settings = make_settings("sqlite://", media_dir=tmp_path, gtts_url=google.url)
    for fmt, codec in [("mp3", "libmp3lame"), ("m4a", "aac"), ("ogg", "libvorbis"), ("wav", "pcm_s16le")]:
        path = tmp_path / f"phone.{fmt}"
        factories.tone(path, 3, codec)
        clip = audio.clip_for(settings, "", "hmn", (path.read_bytes(), path.name))
        assert clip is not None and clip.voice.startswith(b"OggS") and 2.9 < clip.seconds < 3.2, fmt
    with pytest.raises(audio.RecordingError) as broken:
        audio.clip_for(settings, "", "hmn", (b"ID3" + os.urandom(5000), "broken.mp3"))
    assert broken.value.msgid == audio.UNREADABLE
    with pytest.raises(ffmpeg.AudioError, match="Loại tệp này không dùng được"):  # the worker logs it so
        audio.clip_for(settings, "", "hmn", (b"MZ...", "virus.exe"))


def test_speech_is_opus_at_about_16_kbps_cached_and_falls_back_to_espeak(
    tmp_path: Path, google: FakeGoogleTTS
) -> None:
    settings = make_settings("sqlite://", media_dir=tmp_path, gtts_url=google.url)
    before = len(google.requests)
    clip = audio.clip_for(settings, TEXT, "vi")
    assert clip is not None and clip.source == "gtts:vi" and len(google.requests) > before
    (tmp_path / "v.ogg").write_bytes(clip.voice)
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,channels:format=bit_rate",
            "-of",
            "csv=p=0",
            str(tmp_path / "v.ogg"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert probe[0] == "opus,1" and 13_000 < int(probe[1]) < 20_000, "16 kbit/s: clear speech, few bytes"
    database = Database(f"sqlite:///{tmp_path / 'cache.db'}")
    from bot.migrations import upgrade

    upgrade(database.url)
    uploaded = audio.upload(database, store.of(settings), clip)
    with database.transaction() as session:
        audio.record(session, store.of(settings), uploaded)
    database.dispose()
    requests = len(google.requests)
    again = audio.clip_for(settings, TEXT, "vi")
    assert again is not None and again.voice == clip.voice and len(google.requests) == requests, "cached"
    google.fail = True
    try:
        fallback = audio.clip_for(settings, "Một bản tin khác.", "vi")
    finally:
        google.fail = False
    assert fallback is not None and fallback.source == "espeak:vi"
    assert audio.clip_for(settings, "Ua tsaug", "hmn") is None, "no engine speaks H'Mông: a person records it"


def test_the_command_line_creates_sends_and_reports(
    database_url: str, db: Database, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """The documented interface: create prints the id, send queues, status --json has the counts."""
    chats = [telegram_person(db) for _ in range(2)]
    (tmp_path / "tin.txt").write_text(TEXT, encoding="utf-8")
    env = os.environ | {
        "LOABAN_DATABASE_URL": database_url,
        "LOABAN_MEDIA_DIR": str(tmp_path / "media"),
        "LOABAN_GTTS_URL": google.url,
        "LOABAN_LOG_LEVEL": "warning",
    }

    def loaban(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    bulletin_id = loaban(
        "bulletin",
        "create",
        "--title",
        "Vay vốn",
        "--text-file",
        str(tmp_path / "tin.txt"),
        "--lang",
        "vi",
        "--area",
        str(PHONG_THO),
        "--role",
        "villager",
    )
    assert bulletin_id.isdigit()
    assert "2 recipients queued" in loaban("bulletin", "send", bulletin_id)
    status = json.loads(loaban("bulletin", "status", bulletin_id, "--json"))
    assert {k: status[k] for k in ("total", "sent", "failed", "pending")} == {
        "total": 2,
        "sent": 0,
        "failed": 0,
        "pending": 2,
    }
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=int(bulletin_id))
        assert bulletin is not None and bulletin.versions[0].audio_source == "gtts:vi"
    assert len(chats) == 2


def test_two_processes_share_one_sender_and_send_each_message_once(
    database_url: str, db: Database, fake_telegram: FakeBotAPI, settings: Settings
) -> None:
    """Two Loa Bản servers on one database: one holds the sender lease, so the per-bot limit holds and
    nobody gets a bulletin twice; when it stops, the other takes over the rest."""
    hand_over(db, fake_telegram, settings)


def test_a_sender_slower_than_its_lease_is_not_raced_by_the_next(
    database_url: str, db: Database, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """Each send takes longer than the whole lease: the sender renews it on a thread of its own while
    sending and while finishing at a stop, so the other server never sends the same rows beside it."""
    fake = FakeBotAPI(TG_TOKEN, chat_burst=30, latency=2.0).start()
    try:
        slow = bulletin_settings(database_url, fake, tmp_path / "media", google, delivery_lease_seconds=1.5)
        hand_over(db, fake, slow)
    finally:
        fake.stop()


def hand_over(db: Database, fake: FakeBotAPI, settings: Settings) -> None:
    """Thirty people, two servers; the first stops after ten voice notes: everyone gets exactly one."""
    from bot.server import create_app

    chats = [telegram_person(db) for _ in range(30)]
    first = LiveServer(create_app(settings)).start()
    second = LiveServer(create_app(settings)).start()
    try:
        bulletin_id = make_bulletin(db, settings)
        send(db, bulletin_id)
        fake.wait_for(lambda: len(fake.sent(method="sendVoice")) >= 10, timeout=30)
        first.stop()
        wait_done(db, bulletin_id, timeout=60)
    finally:
        second.stop()
    received = [c.chat_id for c in fake.sent(method="sendVoice")]
    assert sorted(received) == sorted(chats)
