"""Two-way feedback end to end, over Telegram, Zalo and the web chat: a reflection with text, a voice note, a
photo and a location becomes a ticket with a code and a due date; officials of the commune (and only
they) read it, answer it, and the answer reaches the person, who says whether it helped."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import sqlite3
import subprocess
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from bot.accounts.models import Role
from bot.areas import service as areas
from bot.areas import villages as village_service
from bot.audio import ffmpeg, stt
from bot.config import Settings
from bot.db import Database
from bot.feedback import categories as category_service
from bot.feedback import reply_templates as template_service
from bot.feedback import service as feedback
from bot.feedback.models import Ticket, TicketStatus
from bot.jobs.models import Job
from bot.media import transcripts
from bot.media.models import Media
from bot.people import service as people
from bot.people.models import PersonRole
from tests import factories
from tests.conftest import webhook_settings
from tests.drivers import (
    Driver,
    Seen,
    TelegramDriver,
    WebDriver,
    ZaloDriver,
    on_channel,
    onboard,
    wait_for_text,
)
from tests.factories import PNG
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import csrf, login, make_admin

PHONG_THO, MUONG_TE = 3549, 3445
VN = ZoneInfo("Asia/Ho_Chi_Minh")
_chat_ids = itertools.count(9_100_001)


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, tmp_path: Path) -> Settings:
    """A webhook deployment with files kept under the test's folder and a 1 MB upload limit."""
    return webhook_settings(
        database_url, fake_telegram, fake_zalo, media_dir=tmp_path / "media", max_upload_mb=1, quiet_hours=""
    )


@pytest.fixture(params=["telegram", "zalo", "web"])
def person(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
) -> Driver:
    """An onboarded person in Phong Thổ on each channel."""
    driver = on_channel(request.param, client, fake_telegram, db, next(_chat_ids), fake_zalo)
    onboard(driver)
    return driver


def file_reflection(
    person: Driver, *, text: str = "Cầu treo bản Nậm Xe bị gãy một nhịp, trẻ con không đi học được."
) -> str:
    """Go through 'Góp ý – Phản ánh' to the naming question with text only; returns the category payload."""
    categories = person.tap("fb")
    road = categories[-1].payload("Đường sá")
    person.tap(road)
    person.send(text)
    return road


def send_named(person: Driver, name: str = "Lò Thị Mai") -> list[Seen]:
    """Choose to send one's name (typed where no app told it) and leave no phone number."""
    asked = person.tap("fb_send:named")
    if "Bạn tên là gì" in asked[-1].text:
        person.send(name)
    return person.tap("fb_phone:skip")


def ticket_of(db: Database, urn: str) -> Ticket:
    """The person's only ticket."""
    with db.transaction() as session:
        person_row = people.get_by_urn(session, urn)
        assert person_row is not None
        [ticket] = feedback.of_person(session, person_row.id)
        return ticket


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_a_reflection_with_voice_photo_and_location_is_answered_and_reopened_once(
    person: Driver, client: httpx.Client, db: Database, tmp_path: Path, settings: Settings
) -> None:
    file_reflection(person)
    note = factories.tone(tmp_path / "note.ogg", codec="libopus")
    got_voice = person.send_file(note, "voice", "audio/ogg")
    assert "1 ghi âm" in got_voice[-1].text and "lời bạn viết" in got_voice[-1].text
    person.send_file(PNG, "photo", "image/png" if isinstance(person, WebDriver) else "image/jpeg")
    located = person.send_location(22.6301, 103.3504)
    assert "vị trí" in located[-1].text
    asked = person.tap("fb_done")
    assert "ẩn danh" in asked[-1].text
    done = send_named(person)
    assert "Mã phản ánh: PA-" in done[0].text and "trước ngày" in done[0].text

    ticket = ticket_of(db, person.urn)
    assert ticket.code in done[0].text and ticket.status == TicketStatus.new
    assert (ticket.latitude, ticket.longitude) == (22.6301, 103.3504) and ticket.commune_code == PHONG_THO
    assert sorted(a.kind for a in ticket.attachments) == ["photo", "voice"]
    stored = {a.kind: (Path(settings.media_dir) / a.media.path).read_bytes() for a in ticket.attachments}
    assert stored["voice"] == note and stored["photo"] == PNG, (
        "kept exactly as sent, before the person was told"
    )
    mine = person.tap("fb_mine")
    assert ticket.code in mine[0].text and "Mới" in mine[0].text

    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    inbox = client.get("/admin/feedback").text
    assert ticket.code in inbox and "Cầu treo bản Nậm Xe" in inbox
    page = client.get(f"/admin/feedback/{ticket.id}")
    assert "openstreetmap.org/?mlat=22.6301" in page.text
    # Telegram gives the name with each update, Zalo through its profile API, the web chat not at all
    names = {
        TelegramDriver: "A Páo",
        ZaloDriver: f"Zalo {getattr(person, 'user_id', '')}",
    }  # Zalo: its profile; the web chat: the name typed when asked
    assert names.get(type(person), "Lò Thị Mai") in page.text, "named: who sent it"
    for attachment in ticket.attachments:
        served = client.get(f"/admin/feedback/{ticket.id}/files/{attachment.id}")
        assert served.status_code == 200 and served.content == stored[attachment.kind]
    client.post(
        f"/admin/feedback/{ticket.id}/status", data={"csrf_token": csrf(page), "status": "in_progress"}
    )
    client.post(
        f"/admin/feedback/{ticket.id}/note", data={"csrf_token": csrf(page), "text": "Đã báo phòng Kinh tế."}
    )
    answered = client.post(
        f"/admin/feedback/{ticket.id}/reply",
        data={"csrf_token": csrf(page), "text": "Xã đã cử người sửa cầu, xong trong tuần này."},
    )
    assert answered.status_code == 303
    answer = wait_for_text(person, "Xã đã cử người sửa cầu")
    assert answer.buttons == [
        ("😊 Hài lòng", f"fb_ok:{ticket.id}"),
        ("😞 Chưa hài lòng", f"fb_no:{ticket.id}"),
        ("🔊 Nghe", f"listen:fb:{ticket.id}"),  # a written answer can be heard
    ]

    why = person.tap(f"fb_no:{ticket.id}")
    assert "vì sao" in why[0].text
    reopened = person.send("Cầu vẫn chưa sửa.")
    assert "Đã mở lại phản ánh" in reopened[0].text
    assert ticket_of(db, person.urn).status == TicketStatus.in_progress
    client.post(
        f"/admin/feedback/{ticket.id}/reply", data={"csrf_token": csrf(page), "text": "Đã sửa xong cầu."}
    )
    wait_for_text(person, "Đã sửa xong cầu")
    person.tap(f"fb_no:{ticket.id}")
    closed = person.send("Vẫn chưa ổn.")
    assert "đã được xem lại một lần nên đã đóng" in closed[0].text
    final = ticket_of(db, person.urn)
    assert final.status == TicketStatus.closed and final.satisfied is False and final.reopened
    history = client.get(f"/admin/feedback/{ticket.id}").text
    assert "Đã báo phòng Kinh tế." in history and "Cầu vẫn chưa sửa." in history


def test_the_prompt_invites_only_what_the_app_can_send(person: Driver) -> None:
    road = person.tap("fb")[-1].payload("Đường sá")
    asked = person.tap(road)[-1].text
    empty = person.tap("fb_done")[0].text
    if isinstance(person, WebDriver):  # no recorder in the web chat: a recording or photo goes with 📎
        assert "tin nhắn thoại" not in asked and "bấm 📎 để gửi kèm ảnh hay tệp ghi âm" in asked
        assert "bấm 📍 để gửi vị trí" in asked and "bấm 📎" in empty and "gửi ghi âm" not in empty
    else:
        assert "gửi tin nhắn thoại" in asked and "📎" not in asked
        assert "Hãy gõ chữ, gửi ghi âm hoặc ảnh." in empty
    said = person.send("Cầu treo bản Nà Phặc bị đứt dây.")[-1].text
    assert said.startswith("Đã nhận: lời bạn viết."), "what was collected, in words a villager reads"


def test_a_danger_filed_as_routine_is_asked_once_whether_it_is_an_emergency(
    person: Driver, db: Database
) -> None:
    file_reflection(person, text="Sat lo dat lap duong vao ban, nha ong Pao bi nut.")  # typed without marks
    asked = person.tap("fb_done")[-1]
    assert asked.text.startswith("Việc này có khẩn cấp không?") and "🚨 Khẩn cấp" in asked.text
    moved = person.tap(asked.payload("Có, chuyển sang Khẩn cấp"))
    assert "113" in moved[0].text and "ẩn danh" in moved[-1].text, (
        "the emergency numbers, then filing goes on"
    )
    person.tap("fb_send:anon")
    ticket = ticket_of(db, person.urn)
    with db.transaction() as session:
        category = category_service.get(session, category_id=ticket.category_id or 0)
        assert category is not None and category.deadline_hours and ticket.due_at is not None

    file_reflection(person, text="Trời mưa to, lũ về làm ngập ruộng ngô.")
    again = person.tap("fb_done")[-1]
    assert "khẩn cấp" in again.text
    kept = person.tap(again.payload("Không, gửi như đã chọn"))
    assert "khẩn cấp" not in kept[-1].text and "ẩn danh" in kept[-1].text
    assert "khẩn cấp" not in person.tap("fb_done")[-1].text, "asked once"


def test_anonymous_reflections_hide_the_sender_but_answers_still_reach_them(
    person: Driver, client: httpx.Client, db: Database
) -> None:
    file_reflection(person, text="Có người lạ gọi điện đòi chuyển tiền <script>alert(1)</script>\u202e")
    person.tap("fb_done")
    done = person.tap("fb_send:anon")
    ticket = ticket_of(db, person.urn)
    assert ticket.anonymous and ticket.code in done[0].text
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket.id}").text
    assert "Ẩn danh" in page and "A Páo" not in page and person.urn.split(":")[1] not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    client.post(
        f"/admin/feedback/{ticket.id}/reply",
        data={"csrf_token": csrf(client.get(f"/admin/feedback/{ticket.id}")), "text": "Đừng chuyển tiền."},
    )
    answer = wait_for_text(person, "Đừng chuyển tiền.")
    person.tap(answer.buttons[0][1])
    assert ticket_of(db, person.urn).status == TicketStatus.closed
    workbook = load_workbook(io.BytesIO(client.get("/admin/feedback/export.xlsx").content)).active
    [header, row] = list(workbook.values)
    assert row[0] == ticket.code
    for column in ("Người gửi", "Số điện thoại"):
        assert row[header.index(column)] in ("", None), f"no {column} in the export for anonymous senders"


def test_a_prestigious_person_files_on_behalf_of_villagers(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    elder = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(elder)
    with db.transaction() as session:
        found = people.get_by_urn(session, elder.urn)
        assert found is not None
        found.role = PersonRole.prestigious
    file_reflection(elder, text="Cả bản chưa có nước sạch.")
    asked = elder.tap("fb_done")
    assert "thay cho khoảng bao nhiêu người" in asked[-1].text
    elder.tap("fb_for:30")
    send_named(elder)
    ticket = ticket_of(db, elder.urn)
    assert ticket.on_behalf_of == 30
    make_admin(db, "tinh")
    login(client, "tinh")
    assert "khoảng 30 người" in client.get(f"/admin/feedback/{ticket.id}").text


def test_deadlines_count_working_days_and_overdue_tickets_stand_out(
    client: httpx.Client, db: Database
) -> None:
    friday = date(2026, 11, 20)
    assert feedback.working_days_after(friday, 1) == date(2026, 11, 23), "Saturday and Sunday do not count"
    assert feedback.working_days_after(friday, 10) == date(2026, 12, 4)
    assert feedback.working_days_after(friday, 1, holidays={date(2026, 11, 23)}) == date(2026, 11, 24)

    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=12)
    with db.transaction() as session:
        person_row = people.get_by_urn(session, f"telegram:{chat}")
        assert person_row is not None
        late = feedback.create(
            session,
            person=person_row,
            urn=f"telegram:{chat}",
            filing=feedback.Filing(1, "Đường lầy."),
            now=datetime.combine(friday, time(9), VN),
        )
        on_time = feedback.create(
            session,
            person=person_row,
            urn=f"telegram:{chat}",
            filing=feedback.Filing(1, "Điện chập chờn."),
            now=datetime.now(VN),
        )
        late_code, on_time_code = late.code, on_time.code
        session.execute(
            update(Ticket).where(Ticket.id == late.id).values(due_on=date.today() - timedelta(days=1))
        )
    make_admin(db, "tinh")
    login(client, "tinh")
    inbox = client.get("/admin/feedback").text
    assert inbox.index(late_code) < inbox.index(on_time_code), "the most urgent first"
    assert 'class="overdue"' in inbox and "Quá hạn" in inbox
    only_late = client.get("/admin/feedback", params={"overdue": "true"}).text
    assert late_code in only_late and on_time_code not in only_late
    assert "1 phản ánh quá hạn" in client.get("/admin").text, "the dashboard points at overdue tickets"


def test_the_inbox_is_narrowed_to_one_of_the_officers_communes_chosen_by_name(
    client: httpx.Client, db: Database
) -> None:
    """An officer does not know commune codes: the filter offers their communes by name."""
    codes = []
    for commune in (PHONG_THO, MUONG_TE):
        chat = next(_chat_ids)
        factories.add_person(db, f"telegram:{chat}", commune=commune, province=12)
        with db.transaction() as session:
            person_row = people.get_by_urn(session, f"telegram:{chat}")
            assert person_row is not None
            filing = feedback.Filing(1, "Đường lầy.")
            ticket = feedback.create(
                session, person=person_row, urn=f"telegram:{chat}", filing=filing, now=datetime.now(VN)
            )
            codes.append(ticket.code)
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO, MUONG_TE))
    login(client, "xa")
    inbox = client.get("/admin/feedback").text
    assert "mã xã" not in inbox
    picker = inbox[inbox.index('<select name="commune"') :].split("</select>")[0]
    assert re.findall(r'<option value="(\d*)"[^>]*>([^<]+)</option>', picker) == [
        ("", "Mọi xã"),
        (str(MUONG_TE), "Xã Mường Tè"),
        (str(PHONG_THO), "Xã Phong Thổ"),
    ]
    narrowed = client.get("/admin/feedback", params={"commune": MUONG_TE}).text
    assert codes[1] in narrowed and codes[0] not in narrowed
    assert f'<option value="{MUONG_TE}" selected>Xã Mường Tè</option>' in narrowed


def test_an_officer_can_neither_read_nor_answer_a_ticket_outside_their_communes(
    client: httpx.Client, db: Database
) -> None:
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=MUONG_TE, province=12)
    with db.transaction() as session:
        person_row = people.get_by_urn(session, f"telegram:{chat}")
        assert person_row is not None
        ticket = feedback.create(
            session,
            person=person_row,
            urn=f"telegram:{chat}",
            filing=feedback.Filing(1, "Đất bị lấn."),
            now=datetime.now(VN),
        )
        ticket.attachments.append(feedback.Attachment(kind="photo", media_id=_a_media(session)))
        session.flush()
        ticket_id, attachment_id, code = ticket.id, ticket.attachments[0].id, ticket.code
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    token = csrf(client.get("/admin/feedback"))
    assert code not in client.get("/admin/feedback").text
    assert client.get(f"/admin/feedback/{ticket_id}").status_code == 404
    assert client.get(f"/admin/feedback/{ticket_id}/files/{attachment_id}").status_code == 404
    for action, data in [
        ("status", {"status": "closed"}),
        ("assign", {"assignee": ""}),
        ("note", {"text": "x"}),
        ("reply", {"text": "x"}),
    ]:
        refused = client.post(f"/admin/feedback/{ticket_id}/{action}", data={"csrf_token": token, **data})
        assert refused.status_code == 404, action
    workbook = load_workbook(io.BytesIO(client.get("/admin/feedback/export.xlsx").content)).active
    assert workbook.max_row == 1, "only the header: the ticket is outside the officer's communes"
    with db.transaction() as session:
        unchanged = session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        assert unchanged is not None and unchanged.status == TicketStatus.new and not unchanged.events


def _a_media(session: object) -> int:
    """A stored picture to attach (straight in the database)."""
    from bot.media.models import Media

    row = Media(key="f" * 64, kind="photo", mime="image/png", path="ff/x.png", size=3)
    session.add(row)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return row.id


def test_a_file_over_the_size_limit_gets_a_clear_answer_and_the_text_is_kept(
    person: Driver, db: Database
) -> None:
    file_reflection(person, text="Trường học dột.")
    refused = person.send_file(b"\xff\xd8\xff" + bytes(1_200_000), "photo", "image/jpeg")
    assert "Tệp lớn quá (tối đa 1 MB)" in refused[-1].text
    person.tap("fb_done")
    send_named(person)
    ticket = ticket_of(db, person.urn)
    assert ticket.text == "Trường học dột." and ticket.attachments == []


def test_a_redelivered_update_creates_no_second_ticket(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    file_reflection(person)
    person.tap("fb_done")
    person.tap("fb_send:named")
    update_json = factories.text_update(person.chat_id, "⏭ Không để số")
    assert person.post(update_json).status_code == 200
    assert person.post(update_json).status_code == 200
    person.wait_settled(str(update_json["update_id"]))
    with db.transaction() as session:
        assert len(session.scalars(select(Ticket)).all()) == 1


def test_officials_who_linked_their_chat_are_told_of_new_reflections(
    person: Driver, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    make_admin(db, "xakhac", Role.commune_officer, communes=(MUONG_TE,))
    login(client, "xa")
    made = client.post("/admin/feedback/link", data={"csrf_token": csrf(client.get("/admin/feedback"))})
    shown = client.get(made.headers["location"]).text
    code = shown.split("Gửi «/link ", 1)[1].split("»", 1)[0]
    official = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    linked = official.send(f"/link {code}")
    assert "Đã liên kết với tài khoản quản trị «xa»" in linked[0].text
    assert "Mã liên kết không đúng" in official.send(f"/link {code}")[0].text, "a code works once"

    file_reflection(person, text="Đường vào bản sạt lở.")
    asked = person.tap("fb_done")[-1]  # a landslide under 'Đường sá': asked once whether it is urgent
    person.tap(asked.payload("Không, gửi như đã chọn"))
    send_named(person)
    ticket = ticket_of(db, person.urn)
    told = wait_for_text(official, ticket.code)
    assert "Đường vào bản sạt lở." in told.text and f"/admin/feedback/{ticket.id}" in told.text
    assert "Phản ánh mới được báo cho bạn qua bot." in client.get("/admin/feedback").text


def test_admins_configure_categories_and_their_deadlines(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    assert client.get("/admin/feedback-categories").status_code == 403
    client.cookies.clear()
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get("/admin/feedback-categories")
    with db.transaction() as session:
        health = next(c for c in category_service.get_all(session) if c.code == "y-te")
        other = next(c for c in category_service.get_all(session) if c.code == "khac")
        health_id, other_id = health.id, other.id
    token = csrf(page)
    changed = client.post(
        "/admin/feedback-categories",
        data={
            "csrf_token": token,
            "category_id": health_id,
            "label": "Y tế",
            "deadline_days": 3,
            "active": "true",
        },
    )
    assert changed.status_code == 303
    refused = client.post(
        "/admin/feedback-categories",
        data={
            "csrf_token": token,
            "category_id": health_id,
            "label": "Y tế",
            "deadline_days": 0,
            "active": "true",
        },
    )
    assert refused.status_code == 400 and "từ 1 đến 60 ngày làm việc" in refused.text
    client.post(
        "/admin/feedback-categories",
        data={"csrf_token": token, "label": "Dịch bệnh gia súc", "active": "true"},
    )
    client.post(
        "/admin/feedback-categories",
        data={"csrf_token": token, "category_id": other_id, "label": "Khác", "deadline_days": 10},
    )

    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    labels = [label for label, _payload in person.tap("fb")[-1].buttons]
    assert "Dịch bệnh gia súc" in labels and "Khác" not in labels
    person.tap(f"fb_cat:{health_id}")
    person.send("Trạm y tế không có thuốc.")
    person.tap("fb_done")
    send_named(person)
    ticket = ticket_of(db, person.urn)
    filed_on = ticket.created_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()  # deadlines count local days
    assert ticket.due_on == feedback.working_days_after(filed_on, 3)


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_an_official_answers_with_a_voice_recording(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    file_reflection(person, text="Nhà văn hóa thôn bị dột.")
    person.tap("fb_done")
    send_named(person)
    ticket = ticket_of(db, person.urn)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket.id}")
    recording = tmp_path / "tra-loi.wav"
    factories.tone(recording)
    sent = client.post(
        f"/admin/feedback/{ticket.id}/reply",
        data={"csrf_token": csrf(page), "text": "Tuần sau xã sửa mái."},
        files={"voice": ("tra-loi.wav", recording.read_bytes(), "audio/wav")},
    )
    assert sent.status_code == 303
    fake_telegram.wait_for(lambda: len(fake_telegram.sent(person.chat_id, "sendVoice")) == 1)
    [voice] = fake_telegram.sent(person.chat_id, "sendVoice")
    assert "Tuần sau xã sửa mái." in voice.params["caption"] and voice.files["voice"].startswith(b"OggS")
    assert [label for label, _ in voice.buttons] == ["😊 Hài lòng", "😞 Chưa hài lòng"]
    typed = "Chiều mai cán bộ xã đến xem."
    for name, data, refusal in [
        ("hong.mp3", b"ID3" + bytes(3000), "Không đọc được tệp ghi âm này, có thể tệp bị hỏng"),
        ("trong.wav", b"", "Tệp ghi âm trống."),
        ("dai.wav", bytes(10_000_001), "Tệp lớn quá (tối đa 10 MB)."),
        ("anh.png", factories.PNG, "Loại tệp này không dùng được"),
    ]:
        bad = client.post(
            f"/admin/feedback/{ticket.id}/reply",
            data={"csrf_token": csrf(page), "text": typed},
            files={"voice": (name, data, "audio/wav")},
        )
        assert bad.status_code == 400 and refusal in bad.text, name
        assert re.search(rf'<textarea name="text" id="reply-text"[^>]*>{typed}</textarea>', bad.text), name
    assert len(fake_telegram.sent(person.chat_id, "sendVoice")) == 1, "nothing refused reached the person"
    assert "<audio controls" in client.get(f"/admin/feedback/{ticket.id}").text
    person.tap("fb_mine")
    again = person.tap(f"fb_view:{ticket.id}")
    assert any("Tuần sau xã sửa mái." in seen.text for seen in again)
    [_first, resent] = fake_telegram.sent(person.chat_id, "sendVoice")
    assert resent.files == {} and resent.params["voice"].startswith("F"), "the voice note, by its file id"
    assert "Tuần sau xã sửa mái." in resent.params["caption"]


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_a_voice_reply_is_transcoded_while_no_transaction_holds_the_database(
    client: httpx.Client,
    db: Database,
    database_url: str,
    fake_telegram: FakeBotAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ffmpeg takes seconds: a request's transaction held open meanwhile would keep every other writer
    waiting (on SQLite, whose write lock shows whether one is open, the whole deployment)."""
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's write lock is what shows an open transaction")
    transcode, free = ffmpeg.transcode, []

    def watched(data: bytes) -> tuple[bytes, bytes, float]:
        free.append(any(_writable(str(make_url(database_url).database)) for _try in range(10)))
        return transcode(data)

    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    file_reflection(person, text="Cầu treo bản Nậm Xe bị hỏng.")
    person.tap("fb_done")
    send_named(person)
    ticket = ticket_of(db, person.urn)
    make_admin(db, "tinh")
    login(client, "tinh")
    monkeypatch.setattr(ffmpeg, "transcode", watched)
    sent = client.post(
        f"/admin/feedback/{ticket.id}/reply",
        data={"csrf_token": csrf(client.get(f"/admin/feedback/{ticket.id}")), "text": "Xã đã báo huyện."},
        files={"voice": ("tra-loi.wav", factories.tone(tmp_path / "tra-loi.wav"), "audio/wav")},
    )
    assert sent.status_code == 303 and free == [True]
    fake_telegram.wait_for(lambda: len(fake_telegram.sent(person.chat_id, "sendVoice")) == 1)


AUTOMATIC = "(tự động, có thể sai)"


def file_voice_note(person: Driver, db: Database, note: bytes) -> Ticket:
    """A named reflection with a voice note, filed; returns its ticket."""
    file_reflection(person, text="Tôi gửi kèm ghi âm.")
    person.send_file(note, "voice", "audio/ogg")
    person.tap("fb_done")
    send_named(person)
    return ticket_of(db, person.urn)


@pytest.mark.skipif(
    not (stt.available() and shutil.which("espeak-ng")),
    reason="needs the optional speech recogniser (pip install '.[stt]'), ffmpeg and espeak-ng",
)
def test_an_official_reads_what_a_voice_note_says_marked_as_automatic(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    """The real recogniser, after the ticket is stored. espeak-ng's Vietnamese is hard even for it (most
    words of a sentence come out wrong; people's speech it reads well), but a short thanks it hears."""
    said = subprocess.run(
        ["espeak-ng", "-v", "vi", "-s", "140", "--stdout", "cảm ơn"], capture_output=True, check=True
    ).stdout
    note, _seconds = ffmpeg.voice_note(said, strict=False)
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    ticket = file_voice_note(person, db, note)
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    deadline = clock.monotonic() + 60
    while AUTOMATIC not in (page := client.get(f"/admin/feedback/{ticket.id}").text):
        assert clock.monotonic() < deadline, "the transcript never came"
        clock.sleep(0.5)
    assert "«cảm ơn»" in page


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_without_a_recogniser_nothing_is_queued_and_a_transcript_is_shown_escaped(
    client: httpx.Client,
    db: Database,
    fake_telegram: FakeBotAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stt, "available", lambda: False)
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    ticket = file_voice_note(person, db, factories.tone(tmp_path / "note.ogg", codec="libopus"))
    with db.transaction() as session:
        assert not session.scalars(select(Job).where(Job.kind == transcripts.TRANSCRIBE_JOB)).all()
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    assert AUTOMATIC not in client.get(f"/admin/feedback/{ticket.id}").text, "no transcript, no mark"

    [voice] = ticket.attachments
    hostile = "<script>alert(1)</script> đường"
    with db.transaction() as session:
        session.execute(update(Media).where(Media.id == voice.media_id).values(transcript=hostile))
    page = client.get(f"/admin/feedback/{ticket.id}").text
    assert "«&lt;script&gt;alert(1)&lt;/script&gt; đường» <small" in page and AUTOMATIC in page
    assert "<script>alert(1)" not in page


def _writable(path: str) -> bool:
    """Whether a writer can begin on the SQLite file within 50 ms (a passing transaction of another
    thread is waited out; a request's held open through a transcode is not)."""
    probe = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def test_a_file_telegram_will_not_give_is_reported_and_the_rest_kept(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    file_reflection(person, text="Điện chập chờn cả tuần.")
    lost = person.deliver(factories.voice_update(person.chat_id, "NO-SUCH-FILE", 2000))
    assert "Không nhận được tệp này" in lost[-1].text
    person.tap("fb_done")
    send_named(person)
    ticket = ticket_of(db, person.urn)
    assert ticket.text == "Điện chập chờn cả tuần." and ticket.attachments == []
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket.id}")
    client.post(f"/admin/feedback/{ticket.id}/assign", data={"csrf_token": csrf(page), "assignee": ""})
    me = client.get(f"/admin/feedback/{ticket.id}").text
    assert "Đã tiếp nhận" in me, "handing it on (or taking it) means it was received"


def test_the_name_and_phone_number_reach_the_ticket(
    person: Driver, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    file_reflection(person)
    person.tap("fb_done")
    asked = person.tap("fb_send:named")
    if isinstance(person, WebDriver):  # no app told the name: asked, in one step
        assert "Bạn tên là gì" in asked[-1].text
        asked = person.send("  Lò   Thị Mai ")
    assert "số điện thoại" in asked[-1].text and "Không để số" in asked[-1].text
    if isinstance(person, TelegramDriver):
        [contact] = [b for b in person.keyboard() if b.get("request_contact")]
        assert contact["text"] == "📞 Gửi số điện thoại của tôi"
    refused = person.send("0123 456 789")
    assert "Số «0123 456 789» chưa đúng" in refused[-1].text and "03, 05, 07, 08 hoặc 09" in refused[-1].text
    if isinstance(person, TelegramDriver):
        done = person.share_contact("84912345678")  # Telegram gives the number without its '+'
        assert person.keyboard() == [], "the keyboard under the input field is taken away"
    else:
        done = person.send("+84 912.345.678")
    name = {TelegramDriver: "A Páo", ZaloDriver: f"Zalo {getattr(person, 'user_id', '')}"}.get(
        type(person), "Lò Thị Mai"
    )
    assert "Mã phản ánh: PA-" in done[0].text
    assert f"Gửi kèm tên «{name}» và số điện thoại 0912345678." in done[0].text
    ticket = ticket_of(db, person.urn)
    assert (ticket.sender_name, ticket.phone) == (name, "0912345678")

    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    make_admin(db, "xem", Role.viewer)
    login(client, "xa")
    page = client.get(f"/admin/feedback/{ticket.id}").text
    assert name in page and 'href="tel:0912345678"' in page, "the commune's officer can call back"
    workbook = load_workbook(io.BytesIO(client.get("/admin/feedback/export.xlsx").content)).active
    [header, row] = list(workbook.values)
    assert row[header.index("Người gửi")] == name and row[header.index("Số điện thoại")] == "0912345678"
    client.cookies.clear()
    login(client, "xem")
    assert "0912345678" not in client.get(f"/admin/feedback/{ticket.id}").text, "not for viewers"

    file_reflection(person, text="Đèn đường bản Nậm Xe hỏng.")
    person.tap("fb_done")
    again = person.tap("fb_send:named")
    assert "Bạn tên là gì" not in again[-1].text, "the name is known now"
    person.tap("fb_phone:last")
    with db.transaction() as session:
        [newer, _older] = feedback.of_person(session, ticket.person_id or 0)
        assert (newer.sender_name, newer.phone) == (name, "0912345678"), "the number left last time"


def test_the_village_shows_in_the_inbox_the_ticket_and_the_export(client: httpx.Client, db: Database) -> None:
    with db.transaction() as session:
        village = village_service.create(session, commune_code=PHONG_THO, name="Bản Nậm Xe <b>")
        village_id = village.id
    person = WebDriver(client)
    first = person.send("/start")
    person.tap(first[-1].payload("Tiếng Việt"))
    person.send("lai chau")
    asked = person.send("phong tho")
    assert f"vil:{village_id}" in [payload for _label, payload in asked[-1].buttons]
    person.tap(f"vil:{village_id}")
    person.tap("consent:yes")
    file_reflection(person)
    person.tap("fb_done")
    person.tap("fb_send:anon")
    ticket = ticket_of(db, person.urn)
    assert ticket.village_id == village_id

    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    for url in ("/admin/feedback", f"/admin/feedback/{ticket.id}"):
        page = client.get(url).text
        assert "Bản Nậm Xe &lt;b&gt;" in page and "Xã Phong Thổ" in page, url
    workbook = load_workbook(io.BytesIO(client.get("/admin/feedback/export.xlsx").content)).active
    [header, row] = list(workbook.values)
    assert row[header.index("Thôn, bản")] == "Bản Nậm Xe <b>"
    assert row[header.index("Xã, phường")] == "Xã Phong Thổ"


def test_my_reflections_open_a_ticket_and_read_the_answer_again(
    person: Driver, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    file_reflection(person)
    photo = person.send_file(PNG, "photo", "image/png" if isinstance(person, WebDriver) else "image/jpeg")
    assert photo[-1].text.startswith("🖼 Đã nhận ảnh.") and "1 ảnh" in photo[-1].text
    if isinstance(person, TelegramDriver):
        [shown] = fake_telegram.sent(person.chat_id, "sendPhoto")
        assert shown.files == {} and fake_telegram.files[shown.params["photo"]][1] == PNG, (
            "the person's own photo, by the id Telegram keeps it under"
        )
    located = person.send_location(22.6301, 103.3504)
    assert located[-1].text.startswith("📍 Đã nhận vị trí đã gửi.")
    person.tap("fb_done")
    person.tap("fb_send:anon")
    ticket = ticket_of(db, person.urn)
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    page = client.get(f"/admin/feedback/{ticket.id}")
    client.post(
        f"/admin/feedback/{ticket.id}/reply",
        data={"csrf_token": csrf(page), "text": "Thứ Hai xã cử thợ lên sửa cầu."},
    )
    wait_for_text(person, "Thứ Hai xã cử thợ lên sửa cầu.")

    listed = person.tap("fb_mine")
    assert ticket.code in listed[0].text and "Đã trả lời" in listed[0].text
    opened = person.tap(listed[0].payload(ticket.code))
    text = "\n".join(seen.text for seen in opened)
    assert ticket.code in text and "Cầu treo bản Nậm Xe" in text
    assert "Cán bộ trả lời ngày" in text and "Thứ Hai xã cử thợ lên sửa cầu." in text
    assert [label for label, _payload in opened[-1].buttons][:2] == ["😊 Hài lòng", "😞 Chưa hài lòng"]
    if not isinstance(person, ZaloDriver):  # Zalo has no hidden button data to forge
        chat = next(_chat_ids)
        factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=12)
        with db.transaction() as session:
            other = people.get_by_urn(session, f"telegram:{chat}")
            assert other is not None
            theirs = feedback.create(
                session,
                person=other,
                urn=f"telegram:{chat}",
                filing=feedback.Filing(1, "Của người khác."),
                now=datetime.now(VN),
            )
            theirs_id = theirs.id
        refused = person.tap(f"fb_view:{theirs_id}")
        assert "Không tìm thấy phản ánh này." in refused[0].text
        assert all("Của người khác." not in seen.text for seen in refused)


def link_official_chat(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, username: str
) -> Driver:
    """An official logged in as `username` links a Telegram chat, where new reflections are announced."""
    login(client, username)
    made = client.post("/admin/feedback/link", data={"csrf_token": csrf(client.get("/admin/feedback"))})
    code = client.get(made.headers["location"]).text.split("Gửi «/link ", 1)[1].split("»", 1)[0]
    official = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    assert "Đã liên kết" in official.send(f"/link {code}")[0].text
    return official


def test_an_urgent_reflection_is_announced_at_once_and_due_within_hours(
    person: Driver, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    official = link_official_chat(client, db, fake_telegram, "xa")
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=12)
    with db.transaction() as session:
        neighbour = people.get_by_urn(session, f"telegram:{chat}")
        assert neighbour is not None
        older = feedback.create(
            session,
            person=neighbour,
            urn=neighbour.identities[0].urn,
            filing=feedback.Filing(1, "Đường lầy."),
            now=datetime.now(VN),
        )
        older.due_on, older_code = date.today() - timedelta(days=3), older.code

    categories = person.tap("fb")[-1]
    label, payload = categories.buttons[0]
    assert label == "🚨 Khẩn cấp: sạt lở, lũ, cháy, an ninh", "listed first"
    asked = person.tap(payload)
    assert "113 (công an), 114 (cứu hỏa, cứu nạn), 115 (cấp cứu)" in asked[-1].text
    person.send("Sạt lở đất vùi hai nhà ở bản Nậm Xe.")
    person.tap("fb_done")
    done = send_named(person)
    ticket = ticket_of(db, person.urn)
    assert ticket.urgent and ticket.due_at is not None
    assert abs((ticket.due_at - ticket.created_at) - timedelta(hours=24)) < timedelta(minutes=1)
    due = ticket.due_at.astimezone(VN)
    assert f"trước {due:%H:%M} ngày {due:%d/%m/%Y}" in done[0].text, "an hour, not only a day"
    told = wait_for_text(official, ticket.code)
    assert told.text.startswith(f"🚨 KHẨN CẤP — phản ánh mới {ticket.code}") and f"{due:%H:%M}" in told.text
    assert "Sạt lở đất vùi hai nhà" in told.text and f"/admin/feedback/{ticket.id}" in told.text

    inbox = client.get("/admin/feedback").text
    assert inbox.index(ticket.code) < inbox.index(older_code), "at the top, even before an overdue one"
    assert "🚨 " + ticket.code in inbox and 'class="urgent"' in inbox
    page = client.get(f"/admin/feedback/{ticket.id}")
    assert f"{due:%H:%M %d/%m/%Y}" in page.text
    client.post(f"/admin/feedback/{ticket.id}/reply", data={"csrf_token": csrf(page), "text": "Đã cử người."})
    handled = client.get("/admin/feedback").text
    assert handled.index(older_code) < handled.index(ticket.code), "answered: no longer at the top"


def test_admins_set_an_urgent_deadline_in_hours(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    with db.transaction() as session:
        urgent = next(c for c in category_service.get_all(session) if c.code == "khan-cap")
        assert urgent.deadline_hours == 24
        urgent_id = urgent.id
    token = csrf(client.get("/admin/feedback-categories"))
    form = {
        "csrf_token": token,
        "category_id": urgent_id,
        "label": "Khẩn cấp",
        "deadline_days": 1,
        "active": "true",
    }
    assert client.post("/admin/feedback-categories", data=form | {"deadline_hours": "6"}).status_code == 303
    assert 'name="deadline_hours" value="6"' in client.get("/admin/feedback-categories").text
    for wrong in ("0", "100", "sáu"):
        refused = client.post("/admin/feedback-categories", data=form | {"deadline_hours": wrong})
        assert refused.status_code == 400 and "từ 1 đến 72 giờ" in refused.text, wrong
    client.post("/admin/feedback-categories", data=form | {"deadline_hours": ""})
    with db.transaction() as session:
        changed = category_service.get(session, category_id=urgent_id)
        assert changed is not None and changed.deadline_hours is None, "no longer urgent"


def filed(person: Driver, db: Database, text: str) -> Ticket:
    """A named reflection with text only, filed through the conversation; its ticket."""
    file_reflection(person, text=text)
    person.tap("fb_done")
    send_named(person)
    with db.transaction() as session:
        found = people.get_by_urn(session, person.urn)
        assert found is not None
        return feedback.of_person(session, found.id)[0]


def test_a_ticket_moves_to_a_commune_of_the_province_or_an_agency(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    ticket = filed(person, db, "Đường liên xã qua Mường Tè sạt taluy.")
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    make_admin(db, "xakhac", Role.commune_officer, communes=(MUONG_TE,))
    receiving = link_official_chat(client, db, fake_telegram, "xakhac")
    client.cookies.clear()
    login(client, "xa")
    page = client.get(f"/admin/feedback/{ticket.id}")
    token = csrf(page)
    elsewhere = areas.communes(1)[0]  # a commune of Hà Nội, not of Lai Châu
    assert f'value="{MUONG_TE}"' in page.text and f'value="{elsewhere.code}"' not in page.text
    moving = f"/admin/feedback/{ticket.id}/transfer"
    refused = client.post(moving, data={"csrf_token": token, "commune": elsewhere.code, "reason": "x"})
    assert refused.status_code == 400 and "trong tỉnh của mình" in refused.text
    no_reason = client.post(moving, data={"csrf_token": token, "commune": MUONG_TE, "reason": " "})
    assert no_reason.status_code == 400 and "Hãy ghi lý do." in no_reason.text
    assert ticket_of(db, person.urn).commune_code == PHONG_THO

    moved = client.post(
        moving, data={"csrf_token": token, "commune": MUONG_TE, "reason": "Đường do Mường Tè quản lý"}
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"/admin/feedback?moved={ticket.code}"
    assert f"Đã chuyển phản ánh {ticket.code}" in client.get(moved.headers["location"]).text
    assert client.get(f"/admin/feedback/{ticket.id}").status_code == 404, (
        "the sending officer no longer sees it"
    )
    assert ticket.code not in client.get("/admin/feedback").text
    told = wait_for_text(person, "đã được chuyển đến Xã Mường Tè")
    assert ticket.code in told.text
    announced = wait_for_text(receiving, f"Phản ánh {ticket.code} được chuyển đến Xã Mường Tè")
    assert "Đường do Mường Tè quản lý" in announced.text

    client.cookies.clear()
    login(client, "xakhac")
    assert ticket.code in client.get("/admin/feedback").text, "the receiving officer sees it"
    page = client.get(f"/admin/feedback/{ticket.id}")
    assert "Xã Phong Thổ → Xã Mường Tè" in page.text and "Đường do Mường Tè quản lý" in page.text
    assert "<strong>xa</strong> · Chuyển xã" in page.text, "who moved it"
    hostile = "<script>alert(1)</script>Công an xã"
    forwarded = client.post(
        f"/admin/feedback/{ticket.id}/forward",
        data={"csrf_token": csrf(page), "agency": hostile, "reason": "Có dấu hiệu phá rừng"},
    )
    assert forwarded.status_code == 303
    page = client.get(f"/admin/feedback/{ticket.id}")
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;Công an xã" in page.text and "<script>alert(1)" not in page.text
    )
    assert ticket_of(db, person.urn).status == TicketStatus.in_progress
    wait_for_text(person, f"đã được chuyển đến {hostile} để giải quyết")


def test_a_duplicate_is_merged_and_both_people_get_the_answer(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    first = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    second = WebDriver(client)
    for person in (first, second):
        onboard(person)
    main = filed(first, db, "Mất điện cả bản Nậm Xe từ hôm qua.")
    duplicate = filed(second, db, "Bản Nậm Xe mất điện.")
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=MUONG_TE, province=12)
    with db.transaction() as session:
        far = people.get_by_urn(session, f"telegram:{chat}")
        assert far is not None
        other = feedback.create(
            session,
            person=far,
            urn=far.identities[0].urn,
            filing=feedback.Filing(1, "Mất điện."),
            now=datetime.now(VN),
        )
        other_id = other.id
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{duplicate.id}")
    assert f'<option value="{main.id}">' in page.text and f'<option value="{other_id}">' not in page.text
    merging = f"/admin/feedback/{duplicate.id}/merge"
    refused = client.post(merging, data={"csrf_token": csrf(page), "main": other_id})
    assert refused.status_code == 400 and "cùng xã" in refused.text
    merged = client.post(merging, data={"csrf_token": csrf(page), "main": main.id, "note": "Cùng một sự cố"})
    assert merged.status_code == 303 and merged.headers["location"] == f"/admin/feedback/{main.id}"
    told = wait_for_text(second, f"trùng với phản ánh {main.code}")
    assert duplicate.code in told.text
    with db.transaction() as session:
        closed = feedback.get(session, duplicate.id)
        assert closed is not None and closed.status == TicketStatus.closed and closed.duplicate_of == main.id
    page = client.get(f"/admin/feedback/{main.id}")
    assert duplicate.code in page.text and "Cùng một sự cố" in page.text

    client.post(
        f"/admin/feedback/{main.id}/reply",
        data={"csrf_token": csrf(page), "text": "Điện lực đang sửa đường dây."},
    )
    to_first = wait_for_text(first, "Điện lực đang sửa đường dây.")
    assert [label for label, _ in to_first.buttons] == ["😊 Hài lòng", "😞 Chưa hài lòng", "🔊 Nghe"]
    to_second = wait_for_text(second, "Điện lực đang sửa đường dây.")
    assert f"đã gộp phản ánh {duplicate.code} của bạn" in to_second.text and to_second.buttons == []
    second.tap("fb_mine")
    again = second.tap(f"fb_view:{duplicate.id}")
    text = "\n".join(seen.text for seen in again)
    assert f"Đã gộp vào phản ánh {main.code}" in text and "Điện lực đang sửa đường dây." in text


def test_officials_answer_with_reply_templates_they_keep(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    person = TelegramDriver(client, fake_telegram, db, next(_chat_ids))
    onboard(person)
    ticket = filed(person, db, "Xin hỗ trợ giống lúa.")
    for username, commune in (("xa", PHONG_THO), ("xa2", PHONG_THO), ("xakhac", MUONG_TE)):
        make_admin(db, username, Role.commune_officer, communes=(commune,))
    login(client, "xa")
    token = csrf(client.get("/admin/feedback-templates"))
    hostile = 'Xã đã nhận.</textarea><script>alert(1)</script> Sẽ trả lời trong tuần."'
    shared = {"csrf_token": token, "title": "<b>Đã nhận</b>", "text": hostile, "share": PHONG_THO}
    assert client.post("/admin/feedback-templates", data=shared).status_code == 303
    own = {"csrf_token": token, "title": "Riêng", "text": "Mẫu của riêng tôi."}
    assert client.post("/admin/feedback-templates", data=own).status_code == 303
    outside = client.post("/admin/feedback-templates", data=own | {"share": MUONG_TE})
    assert outside.status_code == 400 and "không thuộc phạm vi" in outside.text
    empty = client.post("/admin/feedback-templates", data=own | {"text": " "})
    assert empty.status_code == 400 and "Nội dung mẫu cần từ 1 đến 4000 ký tự." in empty.text
    listing = client.get("/admin/feedback-templates").text
    assert "&lt;b&gt;Đã nhận&lt;/b&gt;" in listing and "<script>alert(1)" not in listing
    with db.transaction() as session:
        ids = {
            t.title: t.id
            for t in template_service.get_all(session, owner_id=0, communes=[PHONG_THO, MUONG_TE])
        }
    assert list(ids) == ["<b>Đã nhận</b>"], "only shared templates are others' to see"

    client.cookies.clear()
    login(client, "xa2")
    page = client.get(f"/admin/feedback/{ticket.id}", params={"template": ids["<b>Đã nhận</b>"]}).text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Mẫu của riêng tôi." not in page, "someone else's own template"
    assert 'id="reply-text" rows="4" maxlength="4000">Xã đã nhận.&lt;/textarea&gt;' in page, (
        "in the answer box"
    )
    sent = client.post(
        f"/admin/feedback/{ticket.id}/reply",
        data={"csrf_token": csrf(client.get("/admin/feedback")), "text": hostile},
    )
    assert sent.status_code == 303
    wait_for_text(person, "Sẽ trả lời trong tuần.")

    client.cookies.clear()
    login(client, "xakhac")
    assert "Đã nhận" not in client.get("/admin/feedback-templates").text, "another commune's"
    refused = client.post(
        f"/admin/feedback-templates/{ids['<b>Đã nhận</b>']}/delete",
        data={"csrf_token": csrf(client.get("/admin/feedback-templates"))},
    )
    assert refused.status_code == 404


def test_the_export_says_status_and_satisfaction_in_words(client: httpx.Client, db: Database) -> None:
    person = WebDriver(client)
    onboard(person)
    file_reflection(person)
    person.tap("fb_done")
    send_named(person)
    ticket = ticket_of(db, person.urn)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket.id}")
    client.post(
        f"/admin/feedback/{ticket.id}/status", data={"csrf_token": csrf(page), "status": "in_progress"}
    )

    def exported() -> dict[str, Any]:
        """The ticket's row of the downloaded spreadsheet, by column title."""
        got = client.get("/admin/feedback/export.xlsx")
        assert got.status_code == 200
        [header, row] = list(load_workbook(io.BytesIO(got.content)).active.values)
        return dict(zip(header, row, strict=True))

    row = exported()
    assert (row["Trạng thái"], row["Hài lòng"], row["Lĩnh vực"]) == ("Đang xử lý", None, "Đường sá, cầu cống")
    client.post(f"/admin/feedback/{ticket.id}/reply", data={"csrf_token": csrf(page), "text": "Sẽ sửa cầu."})
    person.tap(wait_for_text(person, "Sẽ sửa cầu.").payload("Chưa hài lòng"))
    person.send("Chưa ai đến xem.")
    row = exported()
    assert (row["Trạng thái"], row["Hài lòng"]) == ("Đang xử lý", "Không"), "reopened, not satisfied"
    for code in ("in_progress", "no", "yes"):
        assert code not in row.values()
