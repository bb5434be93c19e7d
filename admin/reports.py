"""Báo cáo định kỳ: choose a period (the six-monthly and yearly ones end on the plans' dates, or any range)
and a scope (the province, a commune, an officer's communes), see the report's tables and charts, and
download it as DOCX, XLSX or PDF. Commune officers get reports of their own communes only."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.common import render
from admin.deps import AdminDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.db import local_today
from bot.i18n import mark
from bot.reports import documents, reminders
from bot.reports import service as reports
from bot.reports.models import ReportEvent
from bot.reports.service import Period, Report, Scope, commune_label
from bot.reports.tables import sections
from bot.runtime import runtime_of

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
LONGEST = timedelta(days=3 * 366)  # a longer range is refused: reports cover months, not decades
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Choice:
    """What the form asked for, as given back to it."""

    period: str  # half-2026, year-2026 or range
    start: date
    end: date
    scope: str  # province, commune-<code> or officer-<id>


def presets(today: date) -> list[tuple[str, Period]]:
    """The plans' periods around today: six months ending 20/6 and the year ending 15/12, this year's and
    last year's, the next one due first."""
    found = []
    for year in (today.year + 1, today.year, today.year - 1):
        found += [(f"year-{year}", reports.whole_year(year)), (f"half-{year}", reports.half_year(year))]
    due = [p for p in found if p[1].end >= today and p[1].start <= today]
    return due + [p for p in found if p[1].end < today][:3]


def _period(choice: str, start: date | None, end: date | None, today: date) -> Period:
    """The period a form names, or a 400 page."""
    for key, period in presets(today):
        if key == choice:
            return period
    if choice != "range" or start is None or end is None or end < start or end - start > LONGEST:
        raise HTTPException(status_code=400, detail=mark("Khoảng thời gian không hợp lệ."))
    return Period(start, end)


def _scopes(session: Session, admin: AdminUser, _: Callable[[str], str]) -> list[tuple[str, str, Scope]]:
    """The scopes this admin may choose, as (key, label, scope): the province, each commune with people,
    each officer's communes; an officer: their communes together and one by one."""
    allowed = accounts.scope(admin)
    if allowed is not None:
        own = [("own", _("Các xã của tôi"), reports.scopes_of(allowed))] if len(allowed) > 1 else []
        return own + [(f"commune-{c}", commune_label(c), Scope((c,))) for c in sorted(allowed)]
    known = session.scalars(
        select(ReportEvent.commune_code).where(ReportEvent.commune_code.is_not(None)).distinct()
    )
    communes = sorted({c for c in known if c is not None}, key=commune_label)
    officers = session.scalars(
        select(AdminUser).where(AdminUser.role == Role.commune_officer, AdminUser.active)
    )
    return (
        [("province", _("Toàn tỉnh"), Scope())]
        + [(f"commune-{c}", commune_label(c), Scope((c,))) for c in communes]
        + [
            (f"officer-{o.id}", o.full_name or o.username, reports.scopes_of(o.commune_codes))
            for o in officers
            if o.commune_codes
        ]
    )


def _scope(session: Session, admin: AdminUser, key: str) -> Scope:
    """The scope a form names, among those this admin may choose, or a 404 page."""
    for name, _label, scope in _scopes(session, admin, str):
        if name == key and reports.may_see(accounts.scope(admin), scope):
            return scope
    raise HTTPException(status_code=404, detail=mark("Không có phạm vi báo cáo này."))


@dataclass
class Asked:
    """The query every report route reads: the period's key (or 'range' with its days) and the scope's."""

    period: str = ""
    start: date | None = None
    end: date | None = None
    scope: str = ""


AskedDep = Annotated[Asked, Depends()]


def _report(request: Request, session: Session, admin: AdminUser, asked: Asked) -> tuple[Report, Choice]:
    """The report the query asks for, in the admin's bounds."""
    settings = runtime_of(request).settings
    today = local_today(settings.timezone)
    key = asked.scope or _scopes(session, admin, admin_gettext(request))[0][0]
    period_key = asked.period or presets(today)[0][0]
    chosen = _period(period_key, asked.start, asked.end, today)
    report = reports.build(
        session,
        chosen,
        _scope(session, admin, key),
        ZoneInfo(settings.timezone),
        answer_days=settings.question_answer_days,
    )
    return report, Choice(period_key, chosen.start, chosen.end, key)


@router.get("/reports", response_class=HTMLResponse)
def report_page(
    request: Request, session: SessionDep, admin: AdminDep, asked: AskedDep, made: bool = False
) -> Response:
    """The form; once 'Tạo báo cáo' is pressed, the report's sections, tables and charts below it."""
    settings = runtime_of(request).settings
    today = local_today(settings.timezone)
    _ = admin_gettext(request)
    report, choice = _report(request, session, admin, asked) if made else (None, None)
    due = reminders.due_on(today)
    return render(
        request,
        "reports.html",
        admin,
        presets=presets(today),
        scopes=_scopes(session, admin, _),
        choice=choice or Choice(presets(today)[0][0], today - timedelta(days=30), today, ""),
        report=report,
        sections=sections(report, _) if report else [],
        charts=_charts(report) if report else {},
        period_line=documents.period_line(report, _) if report else "",
        scope_line=documents.scope_line(report, _) if report else "",
        query=request.url.query,
        pdf=documents.has_office(),
        due=reminders.announce(due, _, settings.admin_language) if due else "",
        draft=reminders.draft_query(due, admin) if due else "",
    )


def _charts(report: Report) -> dict[str, str]:
    """The charts' data for Chart.js: subscribed people by commune, and month by month."""
    return {
        "communes": json.dumps(
            {
                "labels": [r.name for r in report.reach.communes],
                "counts": [r.subscribed for r in report.reach.communes],
            }
        ),
        "months": json.dumps(
            {"labels": [m.month for m in report.months], "counts": [m.subscribed for m in report.months]}
        ),
    }


def _filename(report: Report, suffix: str) -> str:
    """'bao-cao-2025-12-16-2026-12-15.docx'."""
    return f"bao-cao-{report.period.start.isoformat()}-{report.period.end.isoformat()}.{suffix}"


def _download(body: bytes, media_type: str, name: str) -> Response:
    """A file to save, not to show."""
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/reports/report.docx")
def report_docx(request: Request, session: SessionDep, admin: AdminDep, asked: AskedDep) -> Response:
    """The report as a Word document, the admin's unit in its title block."""
    report, _choice = _report(request, session, admin, asked)
    body = documents.docx(report, admin_gettext(request), unit=admin.unit.upper())
    return _download(body, DOCX, _filename(report, "docx"))


@router.get("/reports/report.xlsx")
def report_xlsx(request: Request, session: SessionDep, admin: AdminDep, asked: AskedDep) -> Response:
    """The report's tables as a workbook, a sheet each."""
    report, _choice = _report(request, session, admin, asked)
    return _download(documents.xlsx(report, admin_gettext(request)), XLSX, _filename(report, "xlsx"))


@router.get("/reports/report.pdf")
def report_pdf(request: Request, session: SessionDep, admin: AdminDep, asked: AskedDep) -> Response:
    """The Word document turned into PDF by LibreOffice, where it is installed."""
    report, _choice = _report(request, session, admin, asked)
    body = documents.pdf(documents.docx(report, admin_gettext(request), unit=admin.unit.upper()))
    if body is None:
        raise HTTPException(status_code=404, detail=mark("Máy chủ chưa cài LibreOffice để tạo PDF."))
    return _download(body, "application/pdf", _filename(report, "pdf"))
