"""Stored XSS through translated labels: Jinja's newstyle `_()` marks what it returns as safe HTML, so a
label that falls back to stored data (a category an admin named, a ticket event, a relay's method) must be
translated in Python and reach the page as escaped text; no template passes anything but a literal to
`_()`, and in a real browser a hostile category label is shown, never run."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import jinja2
from jinja2 import nodes

from bot.bulletins import service as bulletins
from bot.bulletins.models import Relay
from bot.config import PROJECT_ROOT
from bot.db import Database
from bot.feedback import categories as category_service
from bot.feedback import service as feedback
from bot.feedback.models import TicketEvent
from bot.people import service as people
from tests import factories
from tests.fakes.server import LiveServer
from tests.test_admin import PHONG_THO, csrf, login, make_admin
from tests.test_browser import sign_in, sync_api

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TEMPLATE_FOLDERS = ("admin/templates", "bot/channels/web_templates")
GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
_chat_ids = itertools.count(9_500_001)


def gettext_calls_on_data(template: Path) -> list[str]:
    """`_()` calls in a template whose first argument is not a literal string, as 'file:line'."""
    tree = jinja2.Environment(extensions=["jinja2.ext.i18n"]).parse(template.read_text(encoding="utf-8"))
    return [
        f"{template.relative_to(PROJECT_ROOT)}:{call.lineno}"
        for call in tree.find_all(nodes.Call)
        if isinstance(call.node, nodes.Name)
        and call.node.name in GETTEXT_NAMES
        and not (call.args and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str))
    ]


def test_no_template_passes_anything_but_a_literal_to_gettext() -> None:
    templates = [t for folder in TEMPLATE_FOLDERS for t in sorted((PROJECT_ROOT / folder).rglob("*.html"))]
    assert len(templates) > 20, "the scan reads the templates"
    assert [hit for t in templates for hit in gettext_calls_on_data(t)] == [], (
        "translate labels in Python (the `label(labels, key)` helper): `_()` marks its result safe HTML"
    )


def filed_ticket(db: Database, category_label: str) -> int:
    """A ticket from a person of Phong Thổ in the category of that name; its id."""
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=12)
    with db.transaction() as session:
        category = next(c for c in category_service.get_all(session) if c.label == category_label)
        person_row = people.get_by_urn(session, f"telegram:{chat}")
        assert person_row is not None
        ticket = feedback.create(
            session,
            person=person_row,
            urn=person_row.identities[0].urn,
            filing=feedback.Filing(category.id, "x"),
            now=datetime.now(VN),
        )
        return ticket.id


def test_a_category_an_admin_named_with_markup_is_shown_as_text(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    hostile = '<img src=x onerror="alert(1)">Nước'
    client.post(
        "/admin/feedback-categories",
        data={
            "csrf_token": csrf(client.get("/admin/feedback-categories")),
            "label": hostile,
            "active": "true",
        },
    )
    ticket_id = filed_ticket(db, hostile)
    for url in ("/admin/feedback", f"/admin/feedback/{ticket_id}", "/admin/feedback-categories"):
        page = client.get(url).text
        assert "<img src=x" not in page and "&lt;img src=x" in page, url


def test_stored_event_and_relay_values_without_a_label_are_shown_as_text(
    client: httpx.Client, db: Database
) -> None:
    chat = next(_chat_ids)
    person_id = factories.add_person(
        db, f"telegram:{chat}", commune=PHONG_THO, province=12, role="prestigious"
    )
    ticket_id = filed_ticket(db, "Đường sá, cầu cống")
    with db.transaction() as session:
        session.add_all(
            [
                TicketEvent(ticket_id=ticket_id, kind="<b>sửa</b>", text=""),
                TicketEvent(ticket_id=ticket_id, kind="status", text="<i>chờ</i>"),
            ]
        )
        bulletin = bulletins.create(
            session,
            title="Tiêm phòng",
            versions=[("vi", "Tiêm phòng cho trâu bò.", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
        )
        session.add(
            Relay(bulletin_id=bulletin.id, person_id=person_id, commune_code=PHONG_THO, method="<b>họp</b>")
        )
        session.flush()
        bulletin_id = bulletin.id
    make_admin(db, "tinh")
    login(client, "tinh")
    ticket_page = client.get(f"/admin/feedback/{ticket_id}").text
    assert "&lt;b&gt;sửa&lt;/b&gt;" in ticket_page and "<b>sửa" not in ticket_page
    assert "&lt;i&gt;chờ&lt;/i&gt;" in ticket_page and "<i>chờ" not in ticket_page
    assert " · Mới</h1>" in ticket_page, "a label of the catalog still reads as one"
    bulletin_page = client.get(f"/admin/bulletins/{bulletin_id}").text
    assert "&lt;b&gt;họp&lt;/b&gt;: 1" in bulletin_page and "<b>họp" not in bulletin_page


HOSTILE_LABELS = ("<img src=x onerror=window.__xss=1>Nước", "<script>window.__xss=1</script>Điện")


def test_hostile_category_labels_are_shown_never_run_in_a_browser(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    make_admin(db, "tinh")
    sign_in(page, f"{live.url}/admin/login")
    page.wait_for_url(f"{live.url}/admin")
    for hostile in HOSTILE_LABELS:  # typed into the admin's own form, as an official would
        page.goto(f"{live.url}/admin/feedback-categories")
        page.fill("input[placeholder='Tên lĩnh vực mới']", hostile)
        page.click("text=Thêm lĩnh vực")
        page.wait_for_load_state("load")
    ticket_ids = [filed_ticket(db, hostile) for hostile in HOSTILE_LABELS]

    page.goto(f"{live.url}/admin/feedback-categories")
    shown = [
        page.input_value(f"input[name=label] >> nth={i}")
        for i in range(page.locator("input[name=label]").count())
    ]
    assert set(HOSTILE_LABELS) <= set(shown), "each name stands in its box as typed"
    assert page.evaluate("typeof window.__xss") == "undefined"
    for url in ("/admin/feedback", *(f"/admin/feedback/{i}" for i in ticket_ids)):
        page.goto(f"{live.url}{url}")
        page.wait_for_load_state("load")  # a broken image's onerror would have fired by now
        text = page.inner_text("main")
        assert any(hostile in text for hostile in HOSTILE_LABELS), url
        assert page.evaluate("typeof window.__xss") == "undefined", url
    page.goto(f"{live.url}/admin/feedback")
    assert all(hostile in page.inner_text("main") for hostile in HOSTILE_LABELS)
    assert page.locator("main img[src=x]").count() == 0 and page.locator("main script").count() == 0
