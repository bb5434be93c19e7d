"""A commune officer sees only their communes: for every admin list and detail route, an officer of Phong
Thổ neither opens (404) nor finds in a list anything of Mường Tè; bulletins included (those addressed to
another commune), while a bulletin for the whole province stays readable without the other communes'
relays or chat addresses."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.accounts.models import AdminUser, Role
from bot.areas import villages as village_service
from bot.bulletins import service as bulletins
from bot.bulletins.models import Delivery, DeliveryStatus
from bot.config import Settings
from bot.db import Database
from bot.feedback import reply_templates as template_service
from bot.feedback import service as feedback
from bot.media import service as media
from bot.media import store
from bot.people import service as people
from bot.people.models import PersonRole
from bot.qa import service as qa
from bot.qa.models import ForwardReason
from tests import factories
from tests.factories import PNG
from tests.test_admin import MUONG_TE, PHONG_THO, login, make_admin

LAI_CHAU = 12
OTHER = "Vàng A Sử"  # a person of Mường Tè
OTHER_URN = "web:muongte-0123456789abcdef"
OTHER_VILLAGE = "Bản Pa Vệ Sử"
OTHER_BULLETIN = "Lịch họp riêng xã Mường Tè"
PROVINCE_BULLETIN = "Thông báo chung toàn tỉnh"
OWN_BULLETIN = "Lịch tiêm phòng xã Phong Thổ"


@dataclass(frozen=True)
class Other:
    """What belongs to Mường Tè, by id."""

    person: int
    ticket: int
    ticket_code: str
    attachment: int
    answer: int
    question: int
    invite: str
    bulletin: int
    picture: int
    picture_url: str
    province_bulletin: int


@pytest.fixture
def other(client: httpx.Client, db: Database, settings: Settings) -> Other:
    """Mường Tè's people, ticket (with a photo and a voice answer), question, invite, village, shared reply
    template and bulletin; a province-wide bulletin with a Mường Tè relay and a failed delivery; and the
    Phong Thổ officer 'xa' signed in."""
    make_admin(db, "tinh")
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    person_id = factories.add_person(db, OTHER_URN, commune=MUONG_TE, province=LAI_CHAU, name=OTHER)
    root = store.of(settings)
    photo_file = media.upload(db, root, b"\xff\xd8\xff\xe0muong-te", kind="photo", mime="image/jpeg")
    voice_file = media.upload(db, root, b"OggS-answer", kind="voice", mime="audio/ogg")
    picture_file = media.upload(db, root, PNG, kind="image", mime="image/png")
    with db.transaction() as session:
        province_admin = session.scalars(select(AdminUser).where(AdminUser.username == "tinh")).one()
        person = people.get(session, person_id=person_id)
        assert person is not None
        village = village_service.create(session, commune_code=MUONG_TE, name=OTHER_VILLAGE)
        person.village_id, person.role = village.id, PersonRole.prestigious
        photo = media.record(session, root, photo_file)
        filing = feedback.Filing(None, "Đường vào bản Mường Tè sạt lở.", media_ids=(("photo", photo.id),))
        ticket = feedback.create(
            session,
            person=person,
            urn=OTHER_URN,
            filing=filing,
            now=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        voice = media.record(session, root, voice_file)
        feedback.answer(ticket, province_admin.id, "Đã báo huyện.", voice)
        question = qa.ask_officials(
            session, person=person, text="Hỏi riêng xã Mường Tè", reason=ForwardReason.typed
        )
        invite = people.create_invite(session, commune_code=MUONG_TE, created_by=province_admin.id)
        template_service.create(
            session,
            owner_id=province_admin.id,
            title="Mẫu Mường Tè",
            text="Trả lời Mường Tè",
            commune_code=MUONG_TE,
        )
        picture = media.record(session, root, picture_file)
        theirs = bulletins.create(
            session,
            title=OTHER_BULLETIN,
            versions=[("vi", "Họp ở nhà văn hóa Mường Tè.", None)],
            audience=bulletins.Audience(communes=(MUONG_TE,)),
            image_ids=[picture.id],
            created_by=province_admin.id,
        )
        everyone = bulletins.create(
            session,
            title=PROVINCE_BULLETIN,
            versions=[("vi", "Cả tỉnh chú ý mưa lũ.", None)],
            audience=bulletins.Audience(provinces=(LAI_CHAU,)),
            created_by=province_admin.id,
        )
        bulletins.create(
            session,
            title=OWN_BULLETIN,
            versions=[("vi", "Tiêm phòng ở Phong Thổ.", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
            created_by=province_admin.id,
        )
        bulletins.record_relay(session, everyone, person, households=30, method="meeting")
        session.add(
            Delivery(
                bulletin_id=everyone.id,
                person_id=person.id,
                urn=OTHER_URN,
                channel="web",
                language="vi",
                status=DeliveryStatus.failed,
                error="Không gửi được",
            )
        )
        session.flush()
        found = Other(
            person=person.id,
            ticket=ticket.id,
            ticket_code=ticket.code,
            attachment=ticket.attachments[0].id,
            answer=next(e.id for e in ticket.events if e.media_id is not None),
            question=question.id,
            invite=invite.code,
            bulletin=theirs.id,
            picture=picture.id,
            picture_url=media.url(picture),
            province_bulletin=everyone.id,
        )
    login(client, "xa")
    return found


def refused(client: httpx.Client, url: str) -> None:
    """The officer gets a 404 that names nothing of Mường Tè."""
    answer = client.get(url, headers={"Accept": "text/html"})
    assert answer.status_code == 404, url
    assert OTHER not in answer.text and OTHER_BULLETIN not in answer.text


def test_bulletin_list(client: httpx.Client, other: Other) -> None:
    listing = client.get("/admin/bulletins").text
    assert OTHER_BULLETIN not in listing
    assert PROVINCE_BULLETIN in listing and OWN_BULLETIN in listing, "what reaches Phong Thổ is listed"
    assert OTHER_BULLETIN not in client.get("/admin/bulletins", params={"q": "Mường Tè"}).text


def test_bulletin_detail(client: httpx.Client, other: Other) -> None:
    refused(client, f"/admin/bulletins/{other.bulletin}")
    shared = client.get(f"/admin/bulletins/{other.province_bulletin}")
    assert shared.status_code == 200 and PROVINCE_BULLETIN in shared.text
    assert OTHER_VILLAGE not in shared.text, "no relay coverage of another commune"
    assert OTHER_URN not in shared.text, "no chat address of another commune's person"


def test_bulletin_progress(client: httpx.Client, other: Other) -> None:
    refused(client, f"/admin/bulletins/{other.bulletin}/progress")
    shared = client.get(f"/admin/bulletins/{other.province_bulletin}/progress")
    assert shared.status_code == 200 and OTHER_URN not in shared.text


def test_bulletin_media_of_a_draft(client: httpx.Client, other: Other) -> None:
    refused(client, f"/admin/bulletins/{other.bulletin}/media/{other.picture}")
    assert httpx.get(str(client.base_url) + other.picture_url).status_code == 404, "a draft's picture"
    login(client, "tinh")
    page = client.get(f"/admin/bulletins/{other.bulletin}").text
    assert f"/admin/bulletins/{other.bulletin}/media/{other.picture}" in page
    served = client.get(f"/admin/bulletins/{other.bulletin}/media/{other.picture}")
    assert served.content == PNG and served.headers["cache-control"] == "private, no-store"


def test_people(client: httpx.Client, other: Other) -> None:
    assert OTHER not in client.get("/admin/people").text
    assert OTHER not in client.get("/admin/people", params={"q": "Vàng"}).text
    refused(client, f"/admin/people/{other.person}")


def test_tickets(client: httpx.Client, other: Other) -> None:
    assert other.ticket_code not in client.get("/admin/feedback").text
    assert other.ticket_code not in client.get("/admin/feedback", params={"commune": MUONG_TE}).text
    refused(client, f"/admin/feedback/{other.ticket}")


def test_ticket_files(client: httpx.Client, other: Other) -> None:
    refused(client, f"/admin/feedback/{other.ticket}/files/{other.attachment}")
    refused(client, f"/admin/feedback/{other.ticket}/events/{other.answer}/voice")


def test_ticket_export(client: httpx.Client, other: Other) -> None:
    for params in ({}, {"commune": str(MUONG_TE)}):
        sheet = load_workbook(
            io.BytesIO(client.get("/admin/feedback/export.xlsx", params=params).content)
        ).active
        assert sheet is not None and sheet.max_row == 1, "only the header"


def test_questions(client: httpx.Client, other: Other) -> None:
    assert "Hỏi riêng xã Mường Tè" not in client.get("/admin/questions").text
    refused(client, f"/admin/questions/{other.question}/to-entry")


def test_prestigious_persons_and_invites(client: httpx.Client, other: Other) -> None:
    page = client.get("/admin/prestigious").text
    assert OTHER not in page and other.invite not in page and OTHER_VILLAGE not in page


def test_villages(client: httpx.Client, other: Other) -> None:
    assert OTHER_VILLAGE not in client.get("/admin/villages", params={"q": "Mường Tè"}).text
    refused(client, f"/admin/villages?commune={MUONG_TE}")


def test_reply_templates(client: httpx.Client, other: Other) -> None:
    assert "Mẫu Mường Tè" not in client.get("/admin/feedback-templates").text


def test_dashboard(client: httpx.Client, other: Other) -> None:
    page = client.get("/admin").text
    assert "Mường Tè" not in page
