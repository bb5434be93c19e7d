"""Every admin page in a real headless Chromium on a 360 px phone and a 1366 px laptop: on the phone the
menu is folded and no page scrolls sideways; the dashboard's charts are drawn by Loa Bản's own Chart.js under
the strict CSP, and hostile titles stay text."""

from __future__ import annotations

from playwright import sync_api
from sqlalchemy import select

from bot.accounts.models import AdminUser
from bot.bulletins.models import Bulletin
from bot.db import Database
from bot.feedback.models import Ticket
from bot.people.models import Person
from bot.qa.models import OpenQuestion, QAEntry, QuestionStatus
from tests.browser import look
from tests.fakes.server import LiveServer
from tests.test_admin import make_admin
from tests.test_browser import sign_in
from tests.test_dashboard import build
from tests.test_polls import _poll

HOSTILE = "<img src=x onerror=document.title='pwned'> Ý kiến về chợ"
PAGES = [
    "/admin",
    "/admin?days=365",
    "/admin/people",
    "/admin/people?standing=onboarded&commune=3549",
    "/admin/bulletins",
    "/admin/bulletins/new",
    "/admin/polls",
    "/admin/polls/new",
    "/admin/prestigious",
    "/admin/feedback",
    "/admin/feedback?open=true",
    "/admin/feedback-categories",
    "/admin/feedback-templates",
    "/admin/qa",
    "/admin/qa/new",
    "/admin/questions",
    "/admin/villages",
    "/admin/admins",
    "/admin/admins/new",
    "/admin/audit",
    "/admin/reports",
    "/admin/password",
]


def detail_pages(db: Database, poll_id: int) -> list[str]:
    """The pages of one record each: person, ticket, bulletin, poll, entry, question, admin."""
    with db.transaction() as session:
        first = {
            model: session.scalar(select(model.id).order_by(model.id).limit(1))
            for model in (Person, Ticket, Bulletin, QAEntry, AdminUser)
        }
        answered = session.scalar(
            select(OpenQuestion.id).where(OpenQuestion.status == QuestionStatus.answered)
        )
    found = [
        f"/admin/people/{first[Person]}",
        f"/admin/feedback/{first[Ticket]}",
        f"/admin/bulletins/{first[Bulletin]}",
        f"/admin/polls/{poll_id}",
        f"/admin/questions/{answered}/to-entry",
        f"/admin/admins/{first[AdminUser]}",
    ]
    return found + ([f"/admin/qa/{first[QAEntry]}"] if first[QAEntry] else [])


def test_every_admin_page_fits_a_phone_and_a_laptop(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    build(db)
    poll_id = _poll(db, title=HOSTILE)
    make_admin(db, "tinh")
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, f"{live.url}/admin/login")
    page.wait_for_url(f"{live.url}/admin")
    assert not page.is_visible("header nav"), "the menu is folded on a phone"
    assert page.locator("header").bounding_box()["height"] < 80, "the folded header takes one line"  # type: ignore[index]
    page.click("label.nav-button")
    assert page.is_visible("header nav a[href='/admin/feedback']")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas.dashboard-chart'))"
    )
    for screen, height in ((360, 740), (1366, 768)):
        page.set_viewport_size({"width": screen, "height": height})
        for path in [*PAGES, *detail_pages(db, poll_id)]:
            assert page.goto(f"{live.url}{path}").status == 200, path  # type: ignore[union-attr]
            width = page.evaluate("document.documentElement.scrollWidth")
            name = path.replace("/", "-").replace("?", "_").replace("&", "_").replace("=", "-")
            look(page, db, f"admin-{screen}{name}.png")
            assert width <= screen, f"{path} is {width} px wide on a {screen} px screen"
            assert page.is_visible("header nav") == (screen > 640), f"{path}: the menu folds only on a phone"
    page.goto(f"{live.url}/admin")
    assert HOSTILE in page.inner_text("#polls"), "a hostile poll title is shown as text"
    assert page.title() != "pwned" and refused == [], refused
