"""The officials' flows in a real headless Chromium: moving and merging tickets, choosing a bulletin's
audience by names and confirming it, and reading the audit log and the Excel export without raw codes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright import sync_api

from bot.accounts.models import Role
from bot.audio import ffmpeg
from bot.bulletins import service as bulletins
from bot.bulletins.models import BulletinStatus
from bot.db import Database
from bot.feedback import service as feedback
from bot.feedback.models import TicketStatus
from bot.people import service as people
from tests.factories import add_person
from tests.fakes.server import LiveServer
from tests.test_admin import make_admin
from tests.test_browser import sign_in
from tests.test_bulletins import LAI_CHAU, MUONG_TE, PHONG_THO, google, settings

__all__ = ["google", "settings"]  # fixtures shared with test_bulletins

expect = sync_api.expect


def a_ticket(db: Database, urn: str, text: str, commune: int = PHONG_THO) -> tuple[int, str]:
    """A person of the commune and the ticket they filed; its id and code."""
    add_person(db, urn, commune=commune, province=LAI_CHAU)
    with db.transaction() as session:
        person = people.get_by_urn(session, urn)
        assert person is not None
        ticket = feedback.create(
            session,
            person=person,
            urn=urn,
            filing=feedback.Filing(1, text),
            now=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        return ticket.id, ticket.code


def test_an_officer_moves_a_ticket_to_another_commune(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    ticket_id, code = a_ticket(db, "telegram:9910001", "Đường liên xã qua Mường Tè sạt taluy.")
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    make_admin(db, "xakhac", Role.commune_officer, communes=(MUONG_TE,))

    sign_in(page, f"{live.url}/admin/login", "xa")
    page.goto(f"{live.url}/admin/feedback/{ticket_id}")
    page.locator("summary", has_text="Chuyển xã").click()  # the fold opens
    fold = page.locator("form[action$='/transfer']")
    fold.locator("select[name=commune]").select_option(label="Xã Mường Tè")
    fold.locator("input[name=reason]").fill("Đường do Mường Tè quản lý")
    fold.get_by_role("button", name="Chuyển xã").click()
    page.wait_for_url("**/admin/feedback?moved=*")
    expect(page.get_by_role("status")).to_contain_text(f"Đã chuyển phản ánh {code}")
    assert code not in page.inner_text("table.inbox"), "the moving officer no longer sees it"
    gone = page.goto(f"{live.url}/admin/feedback/{ticket_id}")
    assert gone is not None and gone.status == 404

    page.context.clear_cookies()
    sign_in(page, f"{live.url}/admin/login", "xakhac")
    page.goto(f"{live.url}/admin/feedback")
    page.get_by_role("link", name=code).click()
    history = page.locator("ol.history")
    expect(history).to_contain_text("Xã Phong Thổ → Xã Mường Tè")
    expect(history).to_contain_text("Đường do Mường Tè quản lý")
    expect(history).to_contain_text("xa · Chuyển xã")


def test_an_officer_merges_a_duplicate_into_the_main_ticket(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    main_id, main_code = a_ticket(db, "telegram:9910002", "Mất điện cả bản Nậm Xe từ hôm qua.")
    duplicate_id, duplicate_code = a_ticket(db, "telegram:9910003", "Bản Nậm Xe mất điện.")
    a_ticket(db, "telegram:9910004", "Mất điện.", commune=MUONG_TE)
    make_admin(db, "tinh")

    sign_in(page, f"{live.url}/admin/login")
    page.goto(f"{live.url}/admin/feedback/{duplicate_id}")
    page.locator("summary", has_text="Gộp phản ánh trùng").click()
    fold = page.locator("form[action$='/merge']")
    choices = fold.locator("select[name=main] option")
    expect(choices).to_have_count(2)  # "— chọn —" and the one ticket of the same commune
    fold.locator("select[name=main]").select_option(label=f"{main_code} — Mất điện cả bản Nậm Xe từ hôm qua.")
    fold.locator("input[name=note]").fill("Cùng một sự cố")
    fold.get_by_role("button", name="Gộp phản ánh trùng").click()
    page.wait_for_url(f"**/admin/feedback/{main_id}")
    expect(page.locator("main")).to_contain_text(duplicate_code)
    expect(page.locator("main")).to_contain_text("Cùng một sự cố")
    with db.transaction() as session:
        closed = feedback.get(session, duplicate_id)
        assert closed is not None and closed.status == TicketStatus.closed and closed.duplicate_of == main_id


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_a_bulletins_audience_is_picked_by_name_and_confirmed(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    for chat, commune in ((9920001, PHONG_THO), (9920002, PHONG_THO), (9920003, MUONG_TE)):
        add_person(db, f"telegram:{chat}", commune=commune, province=LAI_CHAU)
    make_admin(db, "tinh")

    sign_in(page, f"{live.url}/admin/login")
    page.goto(f"{live.url}/admin/bulletins/new")
    page.fill("input[name=title]", "Lịch tiêm chủng")
    page.fill("textarea[name=text_vi]", "Thứ Hai tiêm chủng tại trạm y tế xã.")
    page.get_by_label("Chỉ những nơi chọn dưới đây").check()
    page.fill("#commune-q", "phong tho")  # without diacritics
    found = page.locator("#communes label", has_text="Xã Phong Thổ")
    found.locator("input").check()
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.wait_for_url("**/admin/bulletins/*")
    bulletin_id = int(page.url.rsplit("/", 1)[1])

    send = page.get_by_role("button", name="Gửi…")
    for _ in range(100):  # the button waits for the audio to be made
        if send.is_enabled():
            break
        page.wait_for_timeout(200)
        page.reload()
    send.click()
    expect(page.locator("p.big")).to_have_text("Gửi cho 2 người?")
    page.get_by_role("button", name="Gửi cho 2 người").click()
    page.wait_for_url(f"**/admin/bulletins/{bulletin_id}")
    with db.transaction() as session:
        sent = bulletins.get(session, bulletin_id=bulletin_id)
        assert sent is not None and sent.status in (BulletinStatus.sending, BulletinStatus.done)


def test_the_audit_log_and_the_export_show_words_not_codes(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    ticket_id, code = a_ticket(db, "telegram:9910005", "Cầu treo bản Pa Vây Sử bị gãy.")
    make_admin(db, "tinh")

    sign_in(page, f"{live.url}/admin/login")
    page.goto(f"{live.url}/admin/feedback/{ticket_id}")
    page.locator("select[name=status]").select_option(label="Đang xử lý")
    page.get_by_role("button", name="Đổi trạng thái").click()
    page.wait_for_url(f"**/admin/feedback/{ticket_id}")
    page.goto(f"{live.url}/admin/feedback-templates")
    page.fill("input[name=title]", "Đã nhận")
    page.fill("textarea[name=text]", "Xã đã nhận phản ánh.")
    page.get_by_role("button", name="Lưu mẫu").click()
    page.wait_for_url("**/admin/feedback-templates*")

    page.goto(f"{live.url}/admin/audit")
    audit = page.inner_text("main")
    for said in ("Đổi trạng thái phản ánh", f"Phản ánh {code}", "trạng thái: Đang xử lý", "Thêm mẫu trả lời"):
        assert said in audit, said
    for raw in ("in_progress", "ticket_", "reply_template", "template:", "\\u"):
        assert raw not in audit, raw

    page.goto(f"{live.url}/admin/feedback")
    page.locator("summary", has_text="Tải Excel").click()
    with page.expect_download() as downloading:
        page.locator("form[action$='export.xlsx'] button").click()
    download = downloading.value
    assert download.suggested_filename == "loaban-phan-anh.xlsx"
    with open(download.path(), "rb") as sheet:  # Chromium's temporary name has no .xlsx ending
        [header, row] = list(load_workbook(sheet).active.values)
    exported = dict(zip(header, row, strict=True))
    assert (exported["Trạng thái"], exported["Xã, phường"]) == ("Đang xử lý", "Xã Phong Thổ")
    for raw in ("in_progress", "received", "no", "yes", 3549, "3549"):
        assert raw not in exported.values(), raw
