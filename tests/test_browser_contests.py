"""A contest's admin pages in a real headless Chromium on a 360 px phone: hostile text in a question, an
option and a participant's name stays text, no script is refused by the strict CSP, and no page scrolls
sideways."""

from __future__ import annotations

from playwright import sync_api

from bot.contests import service as contests
from bot.db import Database
from tests.browser import look
from tests.factories import add_person
from tests.fakes.server import LiveServer
from tests.test_admin import PHONG_THO, make_admin
from tests.test_browser import sign_in
from tests.test_contests import LAI_CHAU, _all_right, _contest, _rounds

expect = sync_api.expect
HOSTILE = "<img src=x onerror=document.title='pwned'> Luật nào?"


def test_a_contests_pages_fit_a_phone_and_keep_hostile_text_as_text(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    contest_id = _contest(db, title=HOSTILE)
    [round_id, _] = _rounds(db, contest_id)
    with db.transaction() as session:
        contest = contests.get(session, contest_id=contest_id)
        assert contest is not None
        draft = contests.QuestionDraft(
            {"vi": HOSTILE}, ({"vi": "<b onmouseover=alert(1)>A</b>"}, {"vi": "B"}), 0
        )
        contests.write_question(session, contest, None, draft)
    person_id = add_person(db, "web:" + "c" * 40, commune=PHONG_THO, province=LAI_CHAU)
    _all_right(db, round_id, person_id, "<svg onload=document.title='pwned'>")
    make_admin(db, "tinh")
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, f"{live.url}/admin/login")
    page.wait_for_url(f"{live.url}/admin")
    page.goto(f"{live.url}/admin/contests/{contest_id}")
    expect(page.locator("h1")).to_have_text(HOSTILE)
    page.goto(f"{live.url}/admin/contests/{contest_id}/rounds/{round_id}")
    expect(page.locator("#ranking")).to_contain_text("<svg onload=document.title='pwned'>")
    for path in (
        "/admin/contests",
        "/admin/contests/new",
        f"/admin/contests/{contest_id}",
        f"/admin/contests/{contest_id}/rounds/{round_id}",
        f"/admin/contests/{contest_id}/questions/new",
    ):
        page.goto(f"{live.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        look(page, db, f"admin-360{path.replace('/', '-')}.png")
        assert width <= 360, f"{path} is {width} px wide on a 360 px screen"
    assert page.title() != "pwned" and refused == [], refused
