"""Media in S3-compatible object storage, against a real S3 HTTP server on loopback (moto's server mode):
a bulletin uploaded on one machine is sent by a worker on another whose media folder is empty; people's
photos and voice notes reach the store and officials play them from it; a Zalo person's signed link
streams from it; erasure removes a person's objects, and is refused, not claimed, when the store fails."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from alembic import command
from moto.server import ThreadedMotoServer
from PIL import Image
from sqlalchemy import Connection, Engine, event, func, select

from bot.audio import ffmpeg
from bot.bulletins import service as bulletins
from bot.bulletins import voices  # noqa: F401  (it tells the sweep which parked recordings wait)
from bot.bulletins.models import AUDIO_STORAGE_ERROR as STORAGE_ERROR
from bot.bulletins.models import AUDIO_UPLOAD_PREFIX as UPLOAD_PREFIX
from bot.bulletins.models import Bulletin
from bot.config import Settings
from bot.conversation.types import Outgoing
from bot.db import Database, utcnow
from bot.feedback.models import Ticket
from bot.media import service as media
from bot.media import store, sweep
from bot.media.models import Media
from bot.messages.models import Direction, Message, Status
from bot.migrations import alembic_config, upgrade
from bot.people import service as people
from bot.privacy import service as privacy
from tests import factories
from tests.conftest import TG_TOKEN, make_settings, webhook_settings
from tests.drivers import TelegramDriver, WebDriver, ZaloDriver, on_channel, onboard, wait_for_text
from tests.factories import PNG, wait_done
from tests.fakes.server import LiveServer, free_port
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.security.test_private_media import ANSWER, PHOTO, answer_by_voice
from tests.test_admin import login, make_admin
from tests.test_bulletins import PHONG_THO, telegram_person
from tests.test_bulletins_admin import create, send, wait_audio
from tests.test_privacy import READY, file_reflection

pytestmark = pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
CREDENTIALS = {"aws_access_key_id": "loaban-test", "aws_secret_access_key": "loaban-test-secret"}


@pytest.fixture
def s3() -> Iterator[str]:
    """A real S3 HTTP server (moto) on a free loopback port; its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    """The settings that put a deployment's media in the bucket (created here), under a prefix."""
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS).create_bucket(
        Bucket=bucket
    )
    return {
        "media_url": f"s3://{bucket}/loaban",
        "s3_endpoint_url": endpoint,
        "s3_region": "us-east-1",
        "s3_access_key_id": CREDENTIALS["aws_access_key_id"],
        "s3_secret_access_key": CREDENTIALS["aws_secret_access_key"],
    }


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object in the bucket, by name, with its bytes."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    names = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {name: client.get_object(Bucket=bucket, Key=name)["Body"].read() for name in names}


def files_under(folder: Path) -> list[Path]:
    """The files a media folder holds (none when it was never made)."""
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def bucket() -> str:
    """A bucket of this test's own."""
    return f"loaban-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(
    database_url: str,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    tmp_path: Path,
    s3: str,
    bucket: str,
) -> Settings:
    """Machine A: the admin's server, media in S3, sending left to workers elsewhere."""
    return webhook_settings(
        database_url,
        fake_telegram,
        fake_zalo,
        media_dir=tmp_path / "machine-a",
        run_worker=False,
        quiet_hours="",
        qa_semantic=False,
        relay_lead_minutes=0,
        delivery_chat_interval_seconds=0.05,
        tts_engine="espeak",
        **s3_settings(s3, bucket),
    )


def test_a_bulletin_uploaded_on_one_machine_is_sent_by_a_worker_on_another(
    client: httpx.Client,
    db: Database,
    database_url: str,
    fake_telegram: FakeBotAPI,
    settings: Settings,
    tmp_path: Path,
    s3: str,
    bucket: str,
) -> None:
    """The admin (machine A, no sender) uploads a recording and a picture; a `loaban worker` on machine B,
    whose media folder is empty, sends the voice note and the picture from the same S3 bucket."""
    villager = telegram_person(db, language="hmn")
    make_admin(db, "tinh")
    login(client, "tinh")
    recording = factories.tone(tmp_path / "elder.wav")
    made = create(
        client,
        {"title": "Tiêm vắc xin", "text_hmn": "Hnub Ib txhaj tshuaj.", "communes": str(PHONG_THO)},
        {"audio_hmn": ("elder.wav", recording, "audio/wav"), "images": ("poster.png", PNG, "image/png")},
    )
    assert made.status_code == 303
    url = made.headers["location"]
    page = wait_audio(client, url, timeout=60)
    assert page.count("<audio controls") == 1
    bulletin_id = int(url.rsplit("/", 1)[1])
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        assert bulletin is not None and bulletin.versions[0].voice is not None
        voice_key, picture_key = (
            bulletin.versions[0].voice.path,
            session.get(Media, bulletin.image_ids[0]).path,
        )
    stored = objects(s3, bucket)
    assert set(stored) == {f"loaban/{voice_key}", f"loaban/{picture_key}"} | {
        n for n in stored if n.endswith(".mp3")
    }, "the recording and the picture are in the bucket; the parked upload is gone"
    assert stored[f"loaban/{picture_key}"] == PNG and stored[f"loaban/{voice_key}"].startswith(b"OggS")
    assert files_under(settings.media_dir) == [], "machine A kept nothing on its own disk"
    [played] = [part.split('"')[0] for part in page.split('<audio controls preload="none" src="')[1:]]
    assert client.get(played).content == stored[f"loaban/{voice_key}"], "the official plays it from S3"

    machine_b = tmp_path / "machine-b"
    env = os.environ | {
        "LOABAN_DATABASE_URL": database_url,
        "LOABAN_TELEGRAM_TOKEN": TG_TOKEN,
        "LOABAN_TELEGRAM_API_URL": fake_telegram.url,
        "LOABAN_MEDIA_DIR": str(machine_b),
        "LOABAN_MEDIA_URL": settings.media_url,
        "LOABAN_S3_ENDPOINT_URL": s3,
        "LOABAN_S3_REGION": "us-east-1",
        "LOABAN_S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "LOABAN_S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "LOABAN_QUIET_HOURS": "",
        "LOABAN_QA_SEMANTIC": "false",
        "LOABAN_PORT": str(free_port()),
    }
    assert send(client, url, people=1).status_code == 303
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        progress = wait_done(db, bulletin_id, timeout=90)
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, errors = worker.communicate(timeout=30)
    assert progress.sent == 1 and progress.failed == 0, errors.decode(errors="replace")[-2000:]
    [voice, picture] = fake_telegram.sent(villager)
    assert voice.method == "sendVoice" and voice.files["voice"] == stored[f"loaban/{voice_key}"]
    assert picture.method == "sendPhoto" and picture.files["photo"] == PNG
    assert files_under(machine_b) == [], "machine B read everything from the bucket"


def reflect(person: ZaloDriver | WebDriver, db: Database, tmp_path: Path) -> tuple[Ticket, dict[str, bytes]]:
    """The person files a reflection with a photo and a voice note; the ticket, and the files as sent."""
    onboard(person)
    note = factories.tone(tmp_path / "note.ogg", codec="libopus")
    file_reflection(person, (PHOTO, "photo", "image/jpeg"), (note, "voice", "audio/ogg"))
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.urn == person.urn)).one()
        ticket.attachments.sort(key=lambda a: a.kind)
        return ticket, {"photo": PHOTO, "voice": note}


def test_peoples_files_live_in_the_store_and_a_zalo_link_streams_from_it(
    client: httpx.Client,
    db: Database,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    settings: Settings,
    tmp_path: Path,
    s3: str,
    bucket: str,
) -> None:
    person = on_channel("zalo", client, fake_telegram, db, 9_700_001, fake_zalo)
    assert isinstance(person, ZaloDriver)
    ticket, sent = reflect(person, db, tmp_path)
    stored = objects(s3, bucket)
    keys = {a.kind: f"loaban/{a.media.path}" for a in ticket.attachments}
    assert stored[keys["voice"]] == sent["voice"], "a voice note is kept exactly as sent"
    assert stored[keys["photo"]].startswith(b"\xff\xd8\xff"), "a photo is kept, drawn again from its pixels"
    assert not any(name.startswith("loaban/incoming/") for name in stored), "nothing parked is left"

    answer_by_voice(client, db, ticket.id, tmp_path)  # signs the province official in
    for attachment in ticket.attachments:
        played = client.get(f"/admin/feedback/{ticket.id}/files/{attachment.id}")
        assert played.status_code == 200 and played.content == stored[keys[attachment.kind]]
        assert played.headers["cache-control"] == "private, no-store"
    link = wait_for_text(person, ANSWER).text.split("🔊 ", 1)[1].split()[0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    heard = httpx.get(str(client.base_url) + path)
    assert heard.status_code == 200 and heard.content.startswith(b"OggS")
    assert heard.content in objects(s3, bucket).values(), "the official's answer is streamed from S3"
    assert httpx.get(str(client.base_url) + path[:-1] + ("0" if path[-1] != "0" else "1")).status_code == 404
    assert files_under(settings.media_dir) == []


def test_erasure_removes_the_persons_objects_and_is_refused_while_the_store_is_down(
    client: httpx.Client,
    db: Database,
    settings: Settings,
    tmp_path: Path,
    s3: str,
    bucket: str,
) -> None:
    person = WebDriver(client)
    ticket, _sent = reflect(person, db, tmp_path)
    theirs = {f"loaban/{a.media.path}" for a in ticket.attachments}
    assert theirs <= set(objects(s3, bucket))
    person.tap("settings")
    person.tap("my_data")
    wait_for_text(person, READY)
    exports = {n for n in objects(s3, bucket) if n.startswith("loaban/exports/")}
    assert len(exports) == 1, "the person's copy of their data is in the store too"

    person.tap("settings")
    person.tap("erase")
    refused = store.of(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(refused, "delete", _refuse)
        said = person.tap("erase_yes")
    assert "Chưa xóa được" in said[0].text and not any("Đã xóa" in s.text for s in said)
    with db.transaction() as session:
        assert session.scalars(select(Ticket).where(Ticket.urn == person.urn)).one().text, "nothing erased"
    assert theirs | exports <= set(objects(s3, bucket)), "and every file is still there, as they were told"

    done = person.tap("erase_yes")
    assert "Đã xóa" in done[0].text
    left = set(objects(s3, bucket))
    assert not (theirs | exports) & left, "their photo, voice note and data copy are gone from S3"


def _refuse(key: str) -> None:
    """An S3 DELETE that did not go through."""
    raise store.StoreError("S3 delete_object failed: EndpointConnectionError")


def test_replies_queued_before_the_store_name_their_files_by_key(database_url: str, db: Database) -> None:
    """Migration 0020: an outbox row written with a path on the old machine's disk (absolute, or relative
    to where it ran) names its file by store key, so any machine can resend it."""
    voice = {"kind": "voice", "media_id": 7, "url": "/media/ab.ogg", "duration": 3, "name": "", "echo": False}
    old = {
        "/srv/loaban/data/media/ab/abcd.ogg": "ab/abcd.ogg",
        "data/media/exports/tok.json": "exports/tok.json",
    }
    with db.transaction() as session:
        rows = [
            Message(
                urn="telegram:1",
                channel="telegram",
                direction=Direction.outbound,
                status=Status.pending,
                payload={"buttons": [], "attachment": voice | {"path": path, "platform_ids": []}},
            )
            for path in old
        ]
        plain = Message(
            urn="telegram:1",
            channel="telegram",
            direction=Direction.outbound,
            status=Status.pending,
            text='"path"',
            payload={"buttons": [{"label": "path", "payload": "path"}], "attachment": None},
        )
        session.add_all([*rows, plain])
        session.flush()
        ids = [r.id for r in rows]
        plain_id = plain.id
    command.downgrade(alembic_config(database_url), "0019")
    upgrade(database_url)
    with db.transaction() as session:
        payloads = {i: session.get(Message, i).payload for i in [*ids, plain_id]}  # type: ignore[union-attr]
    resent = [Outgoing.from_row(i, "telegram:1", "", payloads[i]).reply.attachment for i in ids]
    assert [a.key for a in resent if a is not None] == list(old.values())
    assert payloads[plain_id]["buttons"] == [{"label": "path", "payload": "path"}], "no attachment: untouched"


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_both_stores_keep_stream_and_delete_by_key_and_refuse_paths(
    kind: str, tmp_path: Path, s3: str, bucket: str
) -> None:
    extra = s3_settings(s3, bucket) if kind == "s3" else {}
    settings = make_settings("sqlite://", media_dir=tmp_path / "media", **extra)
    files = store.of(settings)
    assert isinstance(files, store.S3Store if kind == "s3" else store.FolderStore)
    big = os.urandom(3 * store.CHUNK + 5)
    files.put("ab/clip.ogg", big)
    assert files.exists("ab/clip.ogg") and files.get("ab/clip.ogg") == big
    assert b"".join(files.open("ab/clip.ogg")) == big
    with files.as_file("ab/clip.ogg") as copy:
        assert copy.suffix == ".ogg" and copy.read_bytes() == big, "ffmpeg gets a real file"
    files.delete("ab/clip.ogg")
    files.delete("ab/clip.ogg")  # already gone: nothing to do
    assert not files.exists("ab/clip.ogg")
    with pytest.raises(FileNotFoundError):
        files.get("ab/clip.ogg")
    for hostile in ("../outside", "/etc/passwd", "ab/../../x", "a\\b", ""):
        with pytest.raises(ValueError):
            files.put(hostile, b"x")
    assert not (tmp_path / "outside").exists()


class Passing(store.MediaStore):
    """A store that passes every call to the deployment's: the wrappers below change one or two."""

    def __init__(self, inner: store.MediaStore) -> None:
        self.inner = inner

    def put(self, key: str, data: bytes) -> None:
        """The inner store's."""
        self.inner.put(key, data)

    def renew(self, key: str, data: bytes) -> bool:
        """The inner store's."""
        return self.inner.renew(key, data)

    def written(self, key: str) -> datetime | None:
        """The inner store's."""
        return self.inner.written(key)

    def get(self, key: str) -> bytes:
        """The inner store's."""
        return self.inner.get(key)

    def open(self, key: str) -> Iterator[bytes]:
        """The inner store's."""
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        """The inner store's."""
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        """The inner store's."""
        self.inner.delete(key)

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """The inner store's."""
        return self.inner.listing()


class Watched(Passing):
    """The deployment's store, noting of each write whether the thread that made it had a transaction
    of the app's engine open (the caller's own: what would hold its locks across the upload). Other
    threads' transactions (the job runner polling, a page being read) are theirs, and not counted."""

    def __init__(self, inner: store.MediaStore, engine: Engine) -> None:
        super().__init__(inner)
        self.began: dict[int, int] = {}  # connection → the thread that began its transaction
        self.puts: list[tuple[str, bool]] = []  # (key, written inside a transaction)
        self._lock = threading.Lock()
        event.listen(engine, "begin", self._began)
        event.listen(engine, "commit", self._ended)
        event.listen(engine, "rollback", self._ended)

    def _began(self, connection: Connection) -> None:
        """A transaction began on this thread."""
        with self._lock:
            self.began[id(connection)] = threading.get_ident()

    def _ended(self, connection: Connection) -> None:
        """It committed or rolled back."""
        with self._lock:
            self.began.pop(id(connection), None)

    def put(self, key: str, data: bytes) -> None:
        """Note, then write."""
        with self._lock:
            inside = threading.get_ident() in self.began.values()
            self.puts.append((key, inside))
        self.inner.put(key, data)

    def renew(self, key: str, data: bytes) -> bool:
        """Note, then write."""
        with self._lock:
            self.puts.append((key, threading.get_ident() in self.began.values()))
        return self.inner.renew(key, data)


def test_nothing_is_written_to_the_store_inside_a_transaction(
    live: LiveServer,
    client: httpx.Client,
    db: Database,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3: str,
    bucket: str,
) -> None:
    """Issue 15: an S3 PUT never runs while its caller holds a transaction (and its row locks): not for a
    villager's photo and voice note, an official's voice answer, a bulletin's picture and recording, the
    audio a job makes, nor a copy of someone's data; and each still arrives and plays as before."""
    engine = live.server.config.app.state.runtime.db.engine
    watched = Watched(store.of(settings), engine)
    monkeypatch.setattr(store, "of", lambda _settings: watched)

    person = on_channel("telegram", client, fake_telegram, db, 9_700_002, fake_zalo)
    assert isinstance(person, TelegramDriver)
    ticket, sent = reflect(person, db, tmp_path)  # the conversation keeps the photo and the voice note
    answer_by_voice(client, db, ticket.id, tmp_path)  # the official answers by voice (signs in as "tinh")
    wait_for_text(person, ANSWER)
    [answer] = fake_telegram.sent(person.chat_id, "sendVoice")
    stored = objects(s3, bucket)
    assert answer.files["voice"].startswith(b"OggS") and answer.files["voice"] in stored.values()
    for attachment in ticket.attachments:
        played = client.get(f"/admin/feedback/{ticket.id}/files/{attachment.id}")
        assert played.status_code == 200 and played.content == stored[f"loaban/{attachment.media.path}"]
    assert stored[f"loaban/{ticket.attachments[1].media.path}"] == sent["voice"]

    made = create(
        client,
        {
            "title": "Tiêm vắc xin",
            "text_vi": "Thứ Hai tiêm vắc xin ở trạm y tế xã.",
            "communes": str(PHONG_THO),
        },
        {
            "audio_hmn": ("elder.wav", factories.tone(tmp_path / "elder.wav"), "audio/wav"),
            "images": ("poster.png", PNG, "image/png"),
        },
    )
    assert made.status_code == 303
    page = wait_audio(client, made.headers["location"], timeout=90)
    assert page.count("<audio controls") == 2, "the recording and the speech the job made both play"
    with db.transaction() as session:
        bulletin = session.get(Bulletin, int(made.headers["location"].rsplit("/", 1)[1]))
        assert bulletin is not None and all(v.voice is not None for v in bulletin.versions)
        picture = session.get(Media, bulletin.image_ids[0])
        assert picture is not None and objects(s3, bucket)[f"loaban/{picture.path}"] == PNG

    person.tap("settings")
    person.tap("my_data")
    wait_for_text(person, READY)
    [document] = fake_telegram.sent(person.chat_id, "sendDocument")
    copy = json.loads(document.files["document"])
    assert copy["chat_addresses"][0]["address"] == person.urn, "the data copy reached the person"

    written = [key for key, _inside in watched.puts]
    assert any(k.startswith("exports/") for k in written), "the data copy was written"
    assert sum(k.endswith(".jpg") for k in written) >= 1 and sum(k.endswith(".png") for k in written) >= 1
    assert sum(k.endswith(".mp3") for k in written) >= 2, "both versions' MP3s were written"
    assert [key for key, inside in watched.puts if inside] == [], "written while a transaction was open"


def test_a_file_is_written_first_and_its_row_recorded_after(db: Database, tmp_path: Path) -> None:
    """`upload` writes with no transaction open, `record` makes the row: a row another process recorded
    meanwhile under the same key is taken, not a unique violation; the same bytes stored under another
    type meanwhile get a key of their own; a file lost from the store since is written again, and so is
    one whose row was deleted between the upload and the record."""
    files = store.FolderStore(tmp_path / "media")
    clip = b"\x00\x00\x00\x18ftypmp42 a recording"
    ours = media.upload(db, files, clip, kind="voice", mime="audio/mp4")
    theirs = media.upload(db, files, clip, kind="voice", mime="audio/mp4")
    with db.transaction() as session:
        first = media.record(session, files, theirs)
    with db.transaction() as session:
        again = media.record(session, files, ours)
        assert again.id == first.id and session.scalar(select(func.count()).select_from(Media)) == 1

    video = media.upload(db, files, b"\x00\x00\x00\x18ftypmp42 a film", kind="video", mime="video/mp4")
    heard = media.upload(db, files, video.data, kind="voice", mime="audio/mp4")
    with db.transaction() as session:  # the same bytes kept as audio by someone else since the upload
        media.record(session, files, heard)
    with db.transaction() as session:
        kept = media.record(session, files, video)
        assert kept.mime == "video/mp4" and kept.key != video.key
        assert files.get(kept.path) == video.data

    files.delete(first.path)
    media.upload(db, files, clip, kind="voice", mime="audio/mp4")
    assert files.get(first.path) == clip, "a file lost from the store is written again"

    relied = media.upload(db, files, clip, kind="voice", mime="audio/mp4")  # found the row and its file
    with db.transaction() as session:  # which another process then deleted, file and row
        gone = session.get(Media, first.id)
        assert gone is not None
        media.delete(session, files, gone)
    with db.transaction() as session:
        again = media.record(session, files, relied)
        assert files.get(again.path) == clip, "the file is there again for its new row"


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_stray_files_a_day_old_are_swept_and_nothing_else(
    kind: str, database_url: str, db: Database, tmp_path: Path, s3: str, bucket: str
) -> None:
    """A file written for a transaction that then failed is only a stray copy, and so are a parked
    recording whose draft was refused and a data copy whose row is gone: a day later the sweep deletes
    them; files with a row, a parked recording a draft still waits for and a data copy still handed
    over stay."""
    extra = s3_settings(s3, bucket) if kind == "s3" else {}
    files = store.of(make_settings(database_url, media_dir=tmp_path / "media", **extra))
    kept = media.upload(db, files, PNG, kind="image", mime="image/png")
    with db.transaction() as session:
        media.record(session, files, kept)
    stray = media.upload(db, files, PNG + b"\0", kind="image", mime="image/png")  # its transaction failed
    waited = media.park(files, b"OggS a recording waiting for the audio job")
    refused = media.park(files, b"OggS the recording of a draft that was refused")
    person_id = factories.add_person(db, "telegram:9700009", commune=PHONG_THO, province=12)
    with db.transaction() as session:
        draft = bulletins.create(
            session,
            title="Lịch tiêm",
            versions=[("vi", "Tiêm phòng sáng thứ Hai.", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
        )
        draft.versions[0].audio_source = STORAGE_ERROR + UPLOAD_PREFIX + waited.removeprefix("incoming/")
        found = people.get(session, person_id=person_id)
        assert found is not None
        handed = privacy.export(session, files, found, "telegram:9700009", hours=24)
        handed_path = handed.path
    files.put(handed_path, b"{}")
    files.put("exports/copy.json", b"{}")  # its job stopped before it could remove it
    assert sweep.sweep(db, files, utcnow()) == 0, "nothing is a day old yet"
    assert sweep.sweep(db, files, utcnow() + timedelta(days=1, minutes=1)) == 3
    left = {key for key, _written in files.listing()}
    assert left == {kept.path, waited, handed_path}
    assert stray.path not in left and refused not in left and "exports/copy.json" not in left


class BetweenLookAndDelete(Passing):
    """The deployment's store, running `meanwhile` once when the sweep is about to delete (after it
    looked at the file again under its lock): another process's upload lands exactly there."""

    def __init__(self, inner: store.MediaStore, meanwhile: Any) -> None:
        super().__init__(inner)
        self.meanwhile = meanwhile

    def delete(self, key: str) -> None:
        """Let the other process write first, then delete."""
        self.meanwhile()
        self.inner.delete(key)


class Gated(BetweenLookAndDelete):
    """The other process's store: its write waits until the sweep is about to delete."""

    def __init__(self, inner: store.MediaStore) -> None:
        super().__init__(inner, None)
        self.go, self.written_over = threading.Event(), threading.Event()
        self.revived: bool | None = None

    def renew(self, key: str, data: bytes) -> bool:
        """Wait for the sweep, write, and say so."""
        assert self.go.wait(30)
        self.revived = self.inner.renew(key, data)
        self.written_over.set()
        return self.revived


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_file_uploaded_again_while_the_sweep_deletes_it_is_kept(
    kind: str, database_url: str, db: Database, tmp_path: Path, s3: str, bucket: str
) -> None:
    """A picture left stray a day ago is sent again (same bytes, same key): the upload writes it over the
    old copy just after the sweep's last look and just before its delete, then records its row. The row
    never names a missing file: the picture is there and opens."""
    extra = s3_settings(s3, bucket) if kind == "s3" else {}
    files = store.of(make_settings(database_url, media_dir=tmp_path / "media", **extra))
    picture = PNG + b"\0"
    stray = media.upload(db, files, picture, kind="image", mime="image/png")  # its transaction failed
    other = Gated(files)
    recorded: list[str] = []

    def upload_and_record() -> None:
        """Another process: the upload (its look-up, then its write over the old copy), then the row."""
        again = media.upload(db, other, picture, kind="image", mime="image/png")
        with db.transaction() as session:
            recorded.append(media.record(session, other, again).path)

    def meanwhile() -> None:
        """The other process's write lands between the sweep's look and its delete."""
        other.go.set()
        assert other.written_over.wait(30)

    uploader = threading.Thread(target=upload_and_record)
    uploader.start()
    sweeping = BetweenLookAndDelete(files, meanwhile)
    sweep.sweep(db, sweeping, utcnow() + timedelta(days=1, minutes=1))
    uploader.join(30)
    assert other.revived is True, "the upload found the old copy and said so"
    assert recorded == [stray.path]
    with db.transaction() as session:
        assert session.scalars(select(Media.path)).all() == [stray.path]
    with Image.open(io.BytesIO(files.get(stray.path))) as opened:
        assert opened.size == (1, 1), "the picture opens"
    assert files.get(stray.path) == picture
    assert sweep.sweep(db, files, utcnow() + timedelta(days=3)) == 0, "its row keeps it"


def test_a_new_file_is_written_in_one_request_and_pays_no_check(
    database_url: str, db: Database, tmp_path: Path, s3: str, bucket: str
) -> None:
    """The usual upload (bytes never stored before) is one conditional PUT, with no HEAD before or
    after and no lock: a person's voice note is no slower for the sweep's sake."""
    files = store.of(make_settings(database_url, media_dir=tmp_path / "media", **s3_settings(s3, bucket)))
    assert isinstance(files, store.S3Store)
    calls: list[str] = []
    files.client.meta.events.register("before-call.s3", lambda model, **_kw: calls.append(model.name))
    fresh = media.upload(db, files, PNG + b"\1", kind="image", mime="image/png")
    with db.transaction() as session:
        media.record(session, files, fresh)
    assert calls == ["PutObject"] and not fresh.revived
