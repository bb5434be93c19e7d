"""People's files are not public by their hash: a ticket photo or an official's voice answer is served only
to an official of the commune, or to the person through a link only their chat received (a per-message
token in the web chat, a signed expiring link on Zalo); a bulletin's audio and pictures stay public; once
the person erases their data, nothing of theirs is served."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from bot.audio import ffmpeg
from bot.bulletins import service as bulletins
from bot.config import Settings
from bot.db import Database
from bot.feedback.models import Ticket
from bot.media import service as media
from bot.media import store
from bot.media.models import Media
from bot.people import service as people
from tests import factories
from tests.drivers import WebDriver, ZaloDriver, on_channel, onboard, wait_for_text
from tests.factories import PNG, photo
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import csrf, login, make_admin
from tests.test_privacy import file_reflection, send_bulletin, settings

PHOTO = photo()
ANSWER = "Tuần sau xã sửa cầu."
__all__ = ["settings"]  # the privacy tests' deployment: files under the test's folder, no quiet hours
needs_ffmpeg = pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")


def reflect_with_photo(person: WebDriver | ZaloDriver, db: Database) -> tuple[int, str]:
    """A web chat person files a reflection with a photo; (ticket id, the photo's public-looking URL)."""
    onboard(person)
    file_reflection(person, (PHOTO, "photo", "image/jpeg"))
    with db.transaction() as session:
        found = people.get_by_urn(session, person.urn)
        assert found is not None
        ticket = session.scalars(select(Ticket).where(Ticket.person_id == found.id)).one()
        return ticket.id, media.url(ticket.attachments[0].media)


def answer_by_voice(client: httpx.Client, db: Database, ticket_id: int, tmp_path: Path) -> None:
    """The province official answers the ticket with a recording."""
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket_id}")
    recording = tmp_path / "tra-loi.wav"
    factories.tone(recording)
    sent = client.post(
        f"/admin/feedback/{ticket_id}/reply",
        data={"csrf_token": csrf(page), "text": ANSWER},
        files={"voice": ("tra-loi.wav", recording.read_bytes(), "audio/wav")},
    )
    assert sent.status_code == 303


def polled_audio(person: WebDriver) -> str:
    """The audio URL of the official's answer as the person's web chat received it."""
    polled = person.client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
    [url] = [r["audio_url"] for r in polled if ANSWER in r["text"] and r["audio_url"]]
    return str(url)


def voice_answer_url(db: Database) -> str:
    """The hash URL of the answer's recording, which anyone who ever saw it could share."""
    with db.transaction() as session:
        stored = session.scalars(select(Media).where(Media.kind == "voice", Media.mime == "audio/ogg")).one()
        return media.url(stored)


def test_a_ticket_photo_is_not_served_by_its_hash(client: httpx.Client, db: Database) -> None:
    person = WebDriver(client)
    ticket_id, photo_url = reflect_with_photo(person, db)
    stranger = httpx.get(str(client.base_url) + photo_url)
    assert stranger.status_code == 404 and PHOTO not in stranger.content
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket_id}").text
    [file_id] = {part.split('"')[0] for part in page.split(f"/admin/feedback/{ticket_id}/files/")[1:]}
    official = client.get(f"/admin/feedback/{ticket_id}/files/{file_id}")
    assert official.status_code == 200 and official.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(official.content)) as shown:
        assert shown.size == (8, 8), "the photo as kept (drawn again from its pixels)"
    assert official.headers["cache-control"] == "private, no-store"


def test_a_bulletins_picture_and_audio_stay_public(
    client: httpx.Client, db: Database, settings: Settings
) -> None:
    onboard(WebDriver(client))
    bulletin_id = send_bulletin(db, settings)
    voice = b"OggS" + os.urandom(128)
    uploaded = media.upload(db, store.of(settings), voice, kind="voice", mime="audio/ogg")
    with db.transaction() as session:
        stored = media.record(session, store.of(settings), uploaded)
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        bulletin.versions[0].voice_id = stored.id
        audio = media.url(stored)
        picture = media.url(session.scalars(select(Media).where(Media.mime == "image/png")).one())
    for url, content in ((picture, PNG), (audio, voice)):
        served = httpx.get(str(client.base_url) + url)
        assert served.status_code == 200 and served.content == content
        assert "public" in served.headers["cache-control"]


@needs_ffmpeg
def test_only_the_person_hears_their_officials_voice_answer_in_the_web_chat(
    client: httpx.Client, db: Database, tmp_path: Path
) -> None:
    person = WebDriver(client)
    ticket_id, _photo = reflect_with_photo(person, db)
    answer_by_voice(client, db, ticket_id, tmp_path)
    wait_for_text(person, ANSWER)
    url = polled_audio(person)
    assert url.startswith("/chat/api/media/")
    heard = httpx.get(str(client.base_url) + url)
    assert heard.status_code == 200 and heard.content.startswith(b"OggS")
    assert heard.headers["cache-control"] == "private, no-store"

    other = WebDriver(client)
    polled = client.get("/chat/api/messages", params={"session": other.session}).json()["replies"]
    assert not any(r["audio_url"] for r in polled), "another session is never given the answer"
    message_id = url.split("/chat/api/media/")[1].split("?")[0]
    for guess in (f"/chat/api/media/{message_id}?token={'A' * 32}", voice_answer_url(db)):
        assert httpx.get(str(client.base_url) + guess).status_code == 404, guess
    page = client.get(f"/admin/feedback/{ticket_id}").text
    [own] = [part.split('"')[0] for part in page.split('<audio controls preload="none" src="')[1:]]
    assert client.get(own).content.startswith(b"OggS"), "the commune's officials still hear it"


@needs_ffmpeg
def test_a_zalo_person_gets_a_signed_link_that_nobody_can_forge(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, tmp_path: Path
) -> None:
    person = on_channel("zalo", client, fake_telegram, db, 9_400_001, fake_zalo)
    assert isinstance(person, ZaloDriver)
    ticket_id, _photo = reflect_with_photo(person, db)
    answer_by_voice(client, db, ticket_id, tmp_path)
    text = wait_for_text(person, ANSWER).text
    link = text.split("🔊 ", 1)[1].split()[0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert "sig=" in path and "expires=" in path
    assert httpx.get(str(client.base_url) + path).content.startswith(b"OggS")
    forged = path[:-1] + ("0" if path[-1] != "0" else "1")
    assert httpx.get(str(client.base_url) + forged).status_code == 404


@needs_ffmpeg
def test_after_erasure_nothing_of_the_person_is_served(
    client: httpx.Client, db: Database, settings: Settings, tmp_path: Path
) -> None:
    person = WebDriver(client)
    ticket_id, photo_url = reflect_with_photo(person, db)
    answer_by_voice(client, db, ticket_id, tmp_path)
    wait_for_text(person, ANSWER)
    url = polled_audio(person)
    assert httpx.get(str(client.base_url) + url).status_code == 200
    person.tap("settings")
    person.tap("erase")
    person.tap("erase_yes")
    for gone in (url, photo_url):
        assert httpx.get(str(client.base_url) + gone).status_code == 404, gone
    photo_file = Path(settings.media_dir) / photo_url.split("/media/")[1][:2] / photo_url.split("/media/")[1]
    assert not photo_file.exists()
