"""A poll's results in a real headless Chromium on a 360 px phone: the charts are drawn by Loa Bản's own
Chart.js under the strict CSP (no script refused) and again when htmx brings fresher results, the page does
not scroll sideways, hostile text stays text."""

from __future__ import annotations

from playwright import sync_api

from bot.db import Database
from bot.people.models import Person
from bot.polls import service as polls
from tests.browser import look
from tests.factories import add_person
from tests.fakes.server import LiveServer
from tests.test_admin import MUONG_TE, PHONG_THO, make_admin
from tests.test_browser import sign_in
from tests.test_polls import LAI_CHAU, _poll

expect = sync_api.expect
HOSTILE = "<img src=x onerror=document.title='pwned'> Chợ họp ngày nào?"


def test_a_polls_results_fit_a_phone_with_their_charts_drawn(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    poll_id = _poll(db, single=HOSTILE)
    for index, commune in enumerate((PHONG_THO, PHONG_THO, MUONG_TE)):
        person_id = add_person(db, f"web:{index}" + "b" * 40, commune=commune, province=LAI_CHAU)
        with db.transaction() as session:
            poll = polls.get(session, poll_id=poll_id)
            person = session.get(Person, person_id)
            assert poll is not None and person is not None
            response = polls.start(session, poll, person, "web")
            polls.answer(
                session, response, poll.questions[0], choice_ids=[poll.questions[0].choices[index % 2].id]
            )
    make_admin(db, "tinh")
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, f"{live.url}/admin/login")
    page.wait_for_url(f"{live.url}/admin")
    page.goto(f"{live.url}/admin/polls/{poll_id}")
    expect(page.locator("h3").first).to_contain_text(HOSTILE)  # shown as text, never run
    drawn = page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas.poll-chart'))"
    )
    assert drawn, "the chart is drawn"
    person_id = add_person(db, "web:late" + "b" * 40, commune=MUONG_TE, province=LAI_CHAU)
    with db.transaction() as session:  # a fourth answer arrives; htmx brings it without a reload
        poll = polls.get(session, poll_id=poll_id)
        person = session.get(Person, person_id)
        assert poll is not None and person is not None
        response = polls.start(session, poll, person, "web")
        polls.answer(session, response, poll.questions[0], choice_ids=[poll.questions[0].choices[0].id])
    assert page.get_attribute("#results", "hx-trigger") == "every 15s", "an open poll's results refresh"
    page.evaluate(  # what the next refresh does, without waiting for it
        "htmx.ajax('GET', document.getElementById('results').getAttribute('hx-get'),"
        " {target: '#results', swap: 'outerHTML'})"
    )
    expect(page.locator("#results")).to_contain_text("4 người đã bắt đầu")
    page.wait_for_function("() => Chart.getChart(document.querySelector('#results canvas.poll-chart'))")
    for path in ("/admin/polls", "/admin/polls/new", f"/admin/polls/{poll_id}"):
        page.goto(f"{live.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        look(page, db, f"admin-360{path.replace('/', '-')}.png")
        assert width <= 360, f"{path} is {width} px wide on a 360 px screen"
    assert page.title() != "pwned" and refused == [], refused
