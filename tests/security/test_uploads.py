"""Files are what their content is, not what they were declared as: a program sent as a photo, an SVG
sent as a PNG are refused with a clear answer, a person's photo is kept without the EXIF GPS of where it
was taken, and the same bytes sent as two types are kept as both."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from PIL import Image

from bot.config import Settings
from bot.db import Database
from bot.feedback.models import Ticket
from tests.drivers import Driver, TelegramDriver, WebDriver, onboard
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_feedback import file_reflection, ticket_of

REFUSED = "không phải là ảnh, ghi âm, video hay tệp PDF"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(2000)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
GPS_IFD = 0x8825


def photo_with_gps() -> bytes:
    """A phone's photo that says where it was taken (22.63 N, 103.35 E)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (22.0, 37.0, 48.0), 3: "E", 4: (103.0, 21.0, 1.0)})
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def filed(person: Driver, db: Database) -> Ticket:
    """Send what was composed, anonymously, and read the ticket back."""
    person.tap("fb_done")
    person.tap("fb_send:anon")
    return ticket_of(db, person.urn)


def test_a_program_or_a_script_declared_as_a_photo_is_refused(client: httpx.Client, db: Database) -> None:
    person = WebDriver(client)
    onboard(person)
    file_reflection(person, text="Ảnh cầu gãy.")
    for data, mime in ((EXE, "image/jpeg"), (SVG, "image/png"), (SVG, "application/pdf")):
        answer = person.send_file(data, "photo", mime)
        assert REFUSED in answer[-1].text, mime
    ticket = filed(person, db)
    assert ticket.text == "Ảnh cầu gãy." and ticket.attachments == [], "nothing of them was kept"


def test_a_photo_is_kept_without_where_it_was_taken(
    client: httpx.Client, db: Database, settings: Settings
) -> None:
    sent = photo_with_gps()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS_IFD), "the photo says where it was taken"
    person = WebDriver(client)
    onboard(person)
    file_reflection(person)
    assert person.send_file(sent, "photo", "image/png")[-1].text.startswith("🖼 Đã nhận ảnh.")
    [attached] = filed(person, db).attachments
    kept = (Path(settings.media_dir) / attached.media.path).read_bytes()
    picture = Image.open(io.BytesIO(kept))
    assert attached.media.mime == "image/jpeg" and picture.format == "JPEG", (
        "the content's type, not the declared"
    )
    assert picture.size == (32, 24)
    assert not picture.getexif().get_ifd(GPS_IFD) and b"PhoneMaker" not in kept


def test_the_same_bytes_sent_as_two_types_are_kept_as_both(client: httpx.Client, db: Database) -> None:
    clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(500)
    person = WebDriver(client)
    onboard(person)
    file_reflection(person)
    person.send_file(clip, "video", "video/mp4")
    person.send_file(clip, "audio", "audio/mp4")
    ticket = filed(person, db)
    assert sorted((a.kind, a.media.mime) for a in ticket.attachments) == [
        ("audio", "audio/mp4"),
        ("video", "video/mp4"),
    ]


def test_a_program_sent_as_a_telegram_photo_is_refused(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    person = TelegramDriver(client, fake_telegram, db, 9_300_001)
    onboard(person)
    file_reflection(person, text="Ảnh cầu gãy.")
    assert REFUSED in person.send_file(EXE, "photo", "image/jpeg")[-1].text
    assert filed(person, db).attachments == []
