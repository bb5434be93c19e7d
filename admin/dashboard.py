"""The admin's first page: who Loa Bản reaches and how much it is used."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from admin import translations
from admin.common import render
from admin.deps import AdminDep, SessionDep, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.channels import service as channels
from bot.contests import service as contests
from bot.conversation.feedback import STATUS_LABELS as TICKET_LABELS
from bot.db import local_today, utcnow
from bot.feedback import service as feedback
from bot.jobs import service as jobs
from bot.jobs.base import JOB_TYPES
from bot.messages import service as messages
from bot.people import service as people
from bot.people.windows import reply_windows
from bot.polls import service as polls
from bot.runtime import runtime_of

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
FAILED_JOBS_SHOWN = 10


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, admin: AdminDep) -> Response:
    """Who Loa Bản reaches and how much it is used, in the admin's scope; a translator's home is the
    workbench."""
    if admin.role == Role.translator:
        return translations.overview(request, session, admin)
    scope = accounts.scope(admin)
    since = utcnow() - timedelta(days=14)
    per_day: dict[str, dict[str, int]] = {}
    for day, direction, n in messages.count_per_day(session, since, scope):
        per_day.setdefault(day, {"in": 0, "out": 0})[direction] = n
    settings = runtime_of(request).settings
    tickets, overdue = feedback.summary(session, scope, local_today(settings.timezone))
    open_polls = polls.open_now(session, scope)
    # Work given up (a bulletin's audio that could not be made) concerns the whole deployment: province
    # admins see it, with the reason, so that someone acts on it.
    failed_jobs = jobs.given_up(session, FAILED_JOBS_SHOWN) if admin.role == Role.province_admin else []
    open_rounds = contests.open_rounds(session, scope)
    return render(
        request,
        "dashboard.html",
        admin,
        total=people.count_all(session, scope),
        by_language=people.count_by_language(session, scope),
        by_channel=people.count_by_channel(session, scope, reply_windows(settings)),
        zalo=settings.zalo_enabled,
        zalo_token_expiry=channels.token_expiry(session, "zalo"),
        by_commune=people.count_by_commune(session, scope),
        new_per_day=people.new_per_day(session, since, scope),
        messages_per_day=sorted(per_day.items()),
        tickets=tickets,
        overdue=overdue,
        ticket_labels=TICKET_LABELS,
        open_polls=open_polls,
        poll_counts=polls.counts(session, [p.id for p in open_polls], scope),
        failed_jobs=failed_jobs,
        job_labels={kind: job.label for kind, job in JOB_TYPES.items() if job.label},
        open_rounds=open_rounds,
        round_counts={r.id: contests.results(session, r, by="commune", communes=scope) for r in open_rounds},
    )
