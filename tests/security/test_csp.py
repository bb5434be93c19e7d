"""The Content-Security-Policy: the admin runs no script but its own files (no inline <script>, no
onsubmit=), and everything it does — htmx search, confirmations, reply templates — still works in a real
Chromium that reports no violation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from playwright import sync_api

from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.areas import villages as village_service
from bot.db import Database
from bot.feedback import reply_templates as template_service
from bot.feedback import service as feedback
from bot.people import service as people
from tests.factories import add_person
from tests.fakes.server import LiveServer
from tests.test_admin import login, make_admin
from tests.test_browser import ADMIN_PAGES, sign_in


def csp_of(response: httpx.Response | sync_api.Response | None) -> dict[str, str]:
    """The policy's directives by name."""
    assert response is not None
    header = response.headers["content-security-policy"]
    return {d.split()[0]: d.strip() for d in header.split(";") if d.strip()}


def test_admin_pages_allow_only_the_sites_own_scripts(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    for path in ["/admin/login", *ADMIN_PAGES, "/no-such-page", "/chat"]:
        policy = csp_of(client.get(path))
        assert policy["script-src"] == "script-src 'self'", path
        assert policy["default-src"] == "default-src 'self'" and policy["object-src"] == "object-src 'none'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'", path


def a_ticket_with_a_template(db: Database) -> int:
    """A ticket in Phong Thổ and a reply template its officer may use."""
    add_person(db, "telegram:9900003", commune=3549, province=12)
    make_admin(db, "xa", Role.commune_officer, communes=(3549,))
    with db.transaction() as session:
        person = people.get_by_urn(session, "telegram:9900003")
        officer = accounts.get_by_username(session, "xa")
        assert person is not None and officer is not None
        ticket = feedback.create(
            session,
            person=person,
            urn="telegram:9900003",
            filing=feedback.Filing(1, "Mất nước."),
            now=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        template_service.create(
            session, owner_id=officer.id, title="Đã nhận", text="Xã đã nhận.", commune_code=None
        )
        village_service.create(session, commune_code=3549, name="Bản Nậm Xe")
        return ticket.id


def test_the_admin_works_in_chromium_under_the_policy(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    ticket_id = a_ticket_with_a_template(db)
    add_person(db, "telegram:9900004", commune=3549, province=12, name="Lò Văn Páo")
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    sign_in(page, f"{live.url}/admin/login", "xa")
    page.wait_for_url(f"{live.url}/admin")
    for path in ADMIN_PAGES[:-2]:  # an officer does not see accounts and the audit log
        assert "script-src" in csp_of(page.goto(f"{live.url}{path}")), path

    page.goto(f"{live.url}/admin/people")
    page.fill("input[name=q]", "Lò Văn")  # htmx under the policy
    sync_api.expect(page.locator("#people-rows tbody tr")).to_have_count(1)
    sync_api.expect(page.locator("#people-rows")).to_contain_text("Lò Văn Páo")

    page.goto(f"{live.url}/admin/villages?commune=3549")
    page.click("form[data-confirm] button[type=submit]")
    assert dialogs == ["Xóa thôn này?"], "asked before deleting, and the answer 'no' kept it"
    page.goto(f"{live.url}/admin/villages?commune=3549")
    assert "Bản Nậm Xe" in page.content()

    page.goto(f"{live.url}/admin/feedback/{ticket_id}")
    page.click("a.use-template")
    assert page.input_value("#reply-text") == "Xã đã nhận."
    assert violations == []
