"""The periodic report in Debian's Chromium: made from the form, its charts drawn, a hostile village name
shown as text, wide tables scrolling inside their box on a 360 px phone; screenshots to look at."""

from __future__ import annotations

from playwright import sync_api

from bot.db import Database
from tests.browser import look
from tests.fakes.server import LiveServer
from tests.reports_history import HOSTILE, build
from tests.test_admin import make_admin
from tests.test_browser import sign_in

expect = sync_api.expect


def test_the_report_page_on_a_desk_and_on_a_phone(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    """'Tạo báo cáo' for the 2026 year shows every section with both charts drawn; the hostile village
    is a table cell's text (no dialog runs); at 360 px nothing overflows the screen."""
    build(db)
    make_admin(db, "tinh")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for width in (1366, 360):
        page.set_viewport_size({"width": width, "height": 900})
        if width == 1366:
            sign_in(page, f"{live.url}/admin/login")
            page.wait_for_url(f"{live.url}/admin")
        page.goto(f"{live.url}/admin/reports")
        page.select_option("select[name=period]", "year-2026")
        page.select_option("select[name=scope]", "province")
        page.click("text=Tạo báo cáo")
        expect(page.locator("h3").first).to_contain_text("1. Người dân được tiếp cận")
        page.wait_for_function(
            "() => window.Chart && [...document.querySelectorAll('canvas.report-chart')]"
            ".every((c) => Chart.getChart(c))"
        )
        expect(page.locator("td", has_text=HOSTILE).first).to_be_visible()
        look(page, db, f"admin-{width}-reports.png")
        if width == 360:
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert dialogs == []
