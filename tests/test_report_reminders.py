"""Reminders of the plans' report dates: ten days before 20/6 the province admins and commune officers who
linked a Telegram chat are told once — whatever the number of processes, their ticks and restarts — which
report is due, with a link to its draft scoped to them; the report page says so to everyone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.accounts.models import Role
from bot.config import Settings
from bot.db import Database
from bot.i18n import Catalogs
from bot.reports import reminders
from bot.reports.models import ReportReminder
from bot.server import create_app
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_admin import login, make_admin
from tests.test_feedback import MUONG_TE, PHONG_THO, link_official_chat
from tests.test_restarts import start_together

DUE_TEXT = "Báo cáo 6 tháng (21/12/2025 – 20/06/2026) cần gửi trước 20/06/2026."
DRAFT = "https://loaban.example.org/admin/reports?made=1&period=half-2026&scope="


class Calendar:
    """The deployment's local date as the reminders and the report page read it."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self, _zone: str) -> date:
        """The day set, wherever the deployment is."""
        return self.day


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch) -> Calendar:
    """9/6/2026, the day before the six-monthly report's reminder, until a test turns the page."""
    day = Calendar(date(2026, 6, 9))
    monkeypatch.setattr(reminders, "local_today", day.today)
    monkeypatch.setattr("admin.reports.local_today", day.today)
    return day


@pytest.fixture
def live(settings: Settings, calendar: Calendar) -> Iterator[LiveServer]:
    """The first process, started on the calendar's day."""
    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


def reminders_to(fake: FakeBotAPI, chat_id: int) -> list[str]:
    """The reminders a chat received."""
    texts = [str(call.params.get("text", "")) for call in fake.sent(chat_id, "sendMessage")]
    return [text for text in texts if DUE_TEXT in text]


def tick(db: Database, settings: Settings) -> list[Any]:
    """One look at the calendar, as each process takes every hour."""
    return reminders.check(db, settings, Catalogs(settings.locales_dir, settings.languages))


def test_linked_officials_are_reminded_once_with_their_own_draft(
    calendar: Calendar, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, settings: Settings
) -> None:
    make_admin(db, "tinh")
    make_admin(db, "tinhkhac")  # no linked chat: sees the banner only
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    make_admin(db, "hai_xa", Role.commune_officer, communes=(PHONG_THO, MUONG_TE))
    province = link_official_chat(client, db, fake_telegram, "tinh")
    officer = link_official_chat(client, db, fake_telegram, "xa")
    both = link_official_chat(client, db, fake_telegram, "hai_xa")
    chats = (province.chat_id, officer.chat_id, both.chat_id)

    assert tick(db, settings) == [], "9/6 is eleven days before 20/6"
    login(client, "tinhkhac")
    assert "cần gửi trước" not in client.get("/admin/reports").text

    calendar.day = date(2026, 6, 10)
    others = start_together(settings, 2)  # two processes look at the calendar as they start
    try:
        fake_telegram.wait_for(lambda: all(reminders_to(fake_telegram, chat) for chat in chats))
        assert tick(db, settings) == [] and tick(db, settings) == [], "later ticks send nothing"
        others[0].stop()
        LiveServer(create_app(settings)).start().stop()  # a restart looks again
    finally:
        for server in others:
            server.stop()
    time.sleep(0.5)  # anything sent twice would have arrived by now
    [told_province] = reminders_to(fake_telegram, province.chat_id)
    [told_officer] = reminders_to(fake_telegram, officer.chat_id)
    [told_both] = reminders_to(fake_telegram, both.chat_id)
    assert told_province.endswith(DRAFT + "province")
    assert told_officer.endswith(f"{DRAFT}commune-{PHONG_THO}")
    assert told_both.endswith(DRAFT + "own")
    with db.transaction() as session:
        assert session.scalars(select(ReportReminder.period)).all() == ["half-2026"] * 3

    calendar.day = date(2026, 6, 11)  # an official who links their chat later in the window is told then
    make_admin(db, "muon", Role.commune_officer, communes=(MUONG_TE,))
    late = link_official_chat(client, db, fake_telegram, "muon")
    [queued] = tick(db, settings)
    assert queued.urn == late.urn and queued.reply.text.endswith(f"{DRAFT}commune-{MUONG_TE}")
    assert tick(db, settings) == []
    with db.transaction() as session:
        assert len(session.scalars(select(ReportReminder.id)).all()) == 4
    login(client, "tinhkhac")

    page = client.get("/admin/reports").text  # the admin without a chat: no message, the banner
    assert DUE_TEXT in page and "/admin/reports?made=1&amp;period=half-2026&amp;scope=province" in page
    login(client, "xa")
    draft = client.get(told_officer.split("loaban.example.org", 1)[1])
    assert draft.status_code == 200 and DUE_TEXT in draft.text
    assert f'value="commune-{PHONG_THO}" selected' in draft.text


def test_a_reminder_missed_on_the_first_day_is_sent_on_a_later_one() -> None:
    assert reminders.due_on(date(2026, 6, 9)) is None
    for day in (date(2026, 6, 10), date(2026, 6, 15), date(2026, 6, 20)):
        due = reminders.due_on(day)
        assert due is not None and due.key == "half-2026"
    assert reminders.due_on(date(2026, 6, 21)) is None
    assert reminders.due_on(date(2026, 12, 4)) is None
    due = reminders.due_on(date(2026, 12, 5))
    assert due is not None and due.key == "year-2026"
