"""The admin's first page: who Loa Bản really reaches, what waits for an official, what is being sent,
over a period the official chooses; every number links to the list it counts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin import translations
from admin.common import render
from admin.deps import AdminDep, SessionDep, csrf_protect
from admin.feedback import DUE_SOON_DAYS
from admin.qa import WAITS, waited, waiting_since
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.bulletins import service as bulletins
from bot.bulletins import timing
from bot.channels import service as channels
from bot.config import Settings
from bot.contests import service as contests
from bot.conversation.feedback import STATUS_LABELS as TICKET_LABELS
from bot.db import local_today, midnights, utcnow
from bot.feedback import service as feedback
from bot.jobs import service as jobs
from bot.jobs.base import JOB_TYPES
from bot.messages import service as messages
from bot.people import service as people
from bot.people.service import PersonFilter, Standing
from bot.people.windows import reply_windows
from bot.polls import service as polls
from bot.qa import service as qa
from bot.qa.models import QuestionStatus
from bot.runtime import runtime_of

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
FAILED_JOBS_SHOWN = 10
PRESETS = (7, 30, 90, 365)  # the periods offered as one click, in days up to today
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """The local days the period figures count, both included."""

    first: date
    last: date

    @classmethod
    def chosen(cls, today: date, days: int, start: str, end: str) -> Period:
        """The typed range when it makes sense, else the last `days` days (a preset) up to today."""
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            days = days if days in PRESETS else DEFAULT_DAYS
            return cls(today - timedelta(days=days - 1), today)
        return cls(min(first, last), max(first, last))

    @property
    def query(self) -> dict[str, str]:
        """The period as the lists behind the numbers read it."""
        return {"start": self.first.isoformat(), "end": self.last.isoformat()}

    def edges(self, zone: ZoneInfo) -> list[datetime]:
        """The local midnights that begin each day of the period, and the one that ends it."""
        return midnights(self.first, (self.last - self.first).days + 1, zone)


def link(path: str, **params: object) -> str:
    """The list behind a number, with the filters that make its length that number."""
    kept = {k: str(v) for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    days: int = DEFAULT_DAYS,
    start: str = "",
    end: str = "",
) -> Response:
    """Who Loa Bản reaches and what waits, in the admin's scope and the chosen period; a translator's home
    is the workbench."""
    if admin.role == Role.translator:
        return translations.overview(request, session, admin)
    settings = runtime_of(request).settings
    today = local_today(settings.timezone)
    period = Period.chosen(today, days, start, end)
    return render(
        request,
        "dashboard.html",
        admin,
        period=period,
        presets=PRESETS,
        preset=next((n for n in PRESETS if period == Period.chosen(today, n, "", "")), None),
        link=link,
        zalo=settings.zalo_enabled,
        zalo_token_expiry=channels.token_expiry(session, "zalo"),
        ticket_labels=TICKET_LABELS,
        due_soon_days=DUE_SOON_DAYS,
        **figures(session, settings, admin, period),
        # Work given up (a bulletin's audio that could not be made) concerns the whole deployment: province
        # admins see it, with the reason, so that someone acts on it.
        failed_jobs=jobs.given_up(session, FAILED_JOBS_SHOWN) if admin.role == Role.province_admin else [],
        job_labels={kind: job.label for kind, job in JOB_TYPES.items() if job.label},
    )


def figures(session: Session, settings: Settings, admin: AdminUser, period: Period) -> dict[str, Any]:
    """Every figure of the page, in the admin's communes (bench/report.py times this very function)."""
    edges = period.edges(ZoneInfo(settings.timezone))
    scope = accounts.scope(admin)
    onboarded = PersonFilter(commune_codes=scope, standing=Standing.onboarded)
    new = dict(people.new_per_day(session, onboarded, edges))
    return {
        **_reach(people.tally(session, PersonFilter(commune_codes=scope))),
        "joined": sum(new.values()),
        "by_channel": people.count_by_channel(session, onboarded, reply_windows(settings)),
        "charts": _charts(session, edges, new, scope, settings.timezone),
        **_waiting(session, scope, local_today(settings.timezone), (edges[0], edges[-1])),
        "running": _running(session, settings, admin),
        **_polls(session, scope),
        **_contests(session, scope),
    }


def _reach(tallies: list[people.Tally]) -> dict[str, object]:
    """People by standing, and those who finished onboarding by commune and by language, most first."""
    standings: Counter[str] = Counter()
    communes: Counter[int | None] = Counter()
    languages: Counter[str] = Counter()
    for t in tallies:
        standings.update({s.value: n for s, n in t.standings.items()})
        communes[t.commune_code] += t.standings[Standing.onboarded]
        languages[t.language] += t.standings[Standing.onboarded]
    return {
        "standings": {s.value: standings[s.value] for s in Standing},
        "by_commune": [(c, n) for c, n in sorted(communes.items(), key=lambda r: (-r[1], r[0] or 0)) if n],
        "by_language": [(lang, n) for lang, n in languages.most_common() if n],
    }


def _waiting(
    session: Session, scope: list[int] | None, today: date, period: tuple[datetime, datetime]
) -> dict[str, object]:
    """What waits for an official: tickets open, overdue, due soon, and questions forwarded to them, how
    many of them have waited longer than 1, 3 and 7 days, and the longest wait."""
    soon, now = (today, today + timedelta(days=DUE_SOON_DAYS - 1)), utcnow()
    oldest, waiting = qa.questions(session, QuestionStatus.open, scope, limit=1)
    longer = {
        days: qa.questions(
            session, QuestionStatus.open, scope, limit=0, asked_before=waiting_since(days, now)
        )[1]
        for days in WAITS
    }
    return {
        "tickets": feedback.count_by_status(session, feedback.TicketFilter(communes=scope)),
        "tickets_open": feedback.count(session, feedback.TicketFilter(communes=scope, open_only=True)),
        "overdue": feedback.count(session, feedback.TicketFilter(communes=scope, overdue_on=today)),
        "due_soon": feedback.count(session, feedback.TicketFilter(communes=scope, due_within=soon)),
        "tickets_received": feedback.count(
            session, feedback.TicketFilter(communes=scope, since=period[0], until=period[1])
        ),
        "questions_waiting": waiting,
        "questions_longer": longer,  # days: how many have waited longer
        "oldest_wait": waited(oldest[0].created_at, now) if oldest else None,
    }


def _running(session: Session, settings: Settings, admin: AdminUser) -> list[bulletins.Running]:
    """The sends under way that the official may see, each with when it should be over."""
    every = bulletins.running(
        session,
        utcnow(),
        settings.telegram_max_messages_per_second,
        quiet=timing.parse_quiet_hours(settings.quiet_hours),
        zone=ZoneInfo(settings.timezone),
    )
    scope = accounts.scope(admin)
    return [r for r in every if bulletins.open_to(session, r.bulletin, scope, admin.id)]


def _polls(session: Session, scope: list[int] | None) -> dict[str, object]:
    """The polls open now, and how many started and finished each (in the official's communes)."""
    open_polls = polls.open_now(session, scope)
    return {"open_polls": open_polls, "poll_counts": polls.counts(session, [p.id for p in open_polls], scope)}


def _contests(session: Session, scope: list[int] | None) -> dict[str, object]:
    """The contest rounds open now, and how many started and finished each (in the official's communes)."""
    open_rounds = contests.open_rounds(session, scope)
    counts = {r.id: contests.results(session, r, by="commune", communes=scope) for r in open_rounds}
    return {"open_rounds": open_rounds, "round_counts": counts}


def _charts(
    session: Session, edges: list[datetime], new: dict[date, int], scope: list[int] | None, zone: str
) -> dict[str, str]:
    """The period's two day-by-day series (people who joined, messages each way), quiet days included, as
    Chart.js data (drawn by dashboard.js; no inline script)."""
    days = [edge.date() for edge in edges[:-1]]
    sent: dict[str, dict[date, int]] = {"in": {}, "out": {}}
    for day, direction, n in messages.count_per_day(session, edges, scope, zone):
        sent[direction][day] = n
    labels = [d.strftime("%d/%m") for d in days]
    series = [[new.get(d, 0) for d in days]], [[sent[way].get(d, 0) for d in days] for way in ("in", "out")]
    return {
        "people": json.dumps({"labels": labels, "series": series[0]}),
        "messages": json.dumps({"labels": labels, "series": series[1]}),
    }
