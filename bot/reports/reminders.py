"""Reminders of the plans' report dates: from ten days before 20/6 (six-monthly) and 15/12 (yearly) until
the day itself, province admins and commune officers who linked a chat are told once which report is due,
with a link to its draft in the admin; the admins' report page says so in that window too."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.config import Settings
from bot.conversation.types import Outgoing, Reply
from bot.db import Database, local_today
from bot.i18n import Catalogs, format_day, mark
from bot.messages import service as messages
from bot.reports.models import ReportReminder
from bot.reports.service import Period, half_year, whole_year

log = logging.getLogger(__name__)
AHEAD = timedelta(days=10)  # the plans' reports are announced this long before they are due
CHECK_EVERY = 3600.0  # seconds between looks at the calendar; a process also looks when it starts


@dataclass(frozen=True)
class Due:
    """A report whose due date is near: its preset key ('half-2026'), name and period (due on its end)."""

    key: str
    name: str  # marked for translation
    period: Period


def due_on(today: date) -> Due | None:
    """The report to remind of on a local day: due within `AHEAD` days, the due day included."""
    for due in (
        Due(f"half-{today.year}", mark("Báo cáo 6 tháng"), half_year(today.year)),
        Due(f"year-{today.year}", mark("Báo cáo năm"), whole_year(today.year)),
    ):
        if due.period.end - AHEAD <= today <= due.period.end:
            return due
    return None


def announce(due: Due, gettext: Callable[[str], str], language: str | None) -> str:
    """'Báo cáo 6 tháng (21/12/2025 – 20/06/2026) cần gửi trước 20/06/2026.', for a chat and a banner."""
    return gettext("{report} ({start} – {end}) cần gửi trước {due}.").format(
        report=gettext(due.name),
        start=format_day(due.period.start, language),
        end=format_day(due.period.end, language),
        due=format_day(due.period.end, language),
    )


def draft_query(due: Due, admin: AdminUser) -> str:
    """The report page's query with the period and the admin's scope chosen: the province, or an officer's
    communes (together when they have several)."""
    allowed = accounts.scope(admin)
    scope = "province" if allowed is None else (f"commune-{allowed[0]}" if len(allowed) == 1 else "own")
    return urlencode({"made": 1, "period": due.key, "scope": scope})


def remind(
    session: Session, today: date, settings: Settings, gettext: Callable[[str], str]
) -> list[Outgoing]:
    """Queue the reminder due today, if any, to every linked official not yet told, in the caller's
    transaction; the row saying who was told is unique, so a second process's try adds nothing."""
    due = due_on(today)
    if due is None:
        return []
    told = set(session.scalars(select(ReportReminder.admin_id).where(ReportReminder.period == due.key)))
    head = announce(due, gettext, settings.admin_language)
    outgoing = []
    for admin in accounts.linked(session):
        if admin.id in told or accounts.scope(admin) == [] or admin.chat_urn is None:
            continue
        try:
            with session.begin_nested():
                session.add(ReportReminder(period=due.key, admin_id=admin.id))
        except IntegrityError:
            continue
        link = f"{settings.base_url}/admin/reports?{draft_query(due, admin)}"
        reply = Reply(text=f"📅 {head}\n" + gettext("Bản nháp đã chuẩn bị sẵn: {link}").format(link=link))
        [queued] = messages.record_outbound_many(
            session, person_id=None, urn=admin.chat_urn, items=[("text", reply.text, reply.to_payload())]
        )
        outgoing.append(Outgoing(queued, admin.chat_urn, reply))
    return outgoing


def check(db: Database, settings: Settings, catalogs: Catalogs) -> list[Outgoing]:
    """Look at today's local date and queue its reminder, committed before it is sent."""
    with db.transaction() as session:
        return remind(
            session, local_today(settings.timezone), settings, catalogs.gettext(settings.admin_language)
        )


async def keep_reminding(
    db: Database,
    settings: Settings,
    catalogs: Catalogs,
    deliver: Callable[[Sequence[Outgoing]], Awaitable[Any]],
) -> None:
    """Look at the calendar at start and every `CHECK_EVERY` seconds, so a process that was down on the
    first day of the window still reminds on a later one; what a crash leaves unsent the outbox resends."""
    while True:
        try:
            outgoing = await asyncio.to_thread(check, db, settings, catalogs)
            if outgoing:
                await deliver(outgoing)
        except Exception:
            log.exception("could not check the report calendar; looked at again later")
        await asyncio.sleep(CHECK_EVERY)
