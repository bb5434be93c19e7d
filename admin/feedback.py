"""The officials' inbox of reflections, limited to their communes: filter, read (voice notes, photos,
the map position), assign, note, answer in text or voice, close; overdue tickets stand out; Excel export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.deps import (
    AdminDep,
    AnswererDep,
    ProvinceAdminDep,
    SessionDep,
    admin_gettext,
    client_ip,
    csrf_protect,
)
from admin.views import PAGE_SIZE, Page, redirect, render
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.audio import service as audio
from bot.audio.ffmpeg import AudioError
from bot.bulletins.compose import attachment
from bot.conversation.feedback import STATUS_LABELS, answer_messages
from bot.conversation.types import Outgoing
from bot.db import local_today
from bot.feedback import service as feedback
from bot.feedback.models import Category, Ticket, TicketStatus
from bot.i18n import mark
from bot.messages import service as messages
from bot.people import service as people
from bot.runtime import runtime_of
from bot.spreadsheet import workbook

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
MAX_VOICE_REPLY_MB = 10
EVENT_LABELS = {
    "reply": mark("Trả lời"),
    "note": mark("Ghi chú nội bộ"),
    "status": mark("Trạng thái"),
    "assign": mark("Giao cho"),
    "satisfied": mark("Người dân hài lòng"),
    "unsatisfied": mark("Người dân chưa hài lòng"),
    "reopened": mark("Mở lại"),
}


CALLERS = (Role.province_admin, Role.commune_officer)  # the officials who call people back


def _sees_phone(admin: AdminUser) -> bool:
    """Phone numbers are for the officials answering for a commune, not for editors or viewers (the
    ticket itself is only ever shown inside the reader's communes)."""
    return admin.role in CALLERS


def category_label(request: Request) -> Callable[[Category | None], str]:
    """A category's name in the admin's language, as plain text: the defaults are catalog entries, the
    ones admins add are shown as typed, so they never go through the templates' `_()`, which would mark
    them safe HTML."""
    gettext = admin_gettext(request)
    return lambda category: gettext(category.label) if category is not None else "—"


def _ticket(session: Session, admin: AdminUser, ticket_id: int) -> Ticket:
    """A ticket of the admin's communes, or a 404 page: outside them it does not exist for this admin."""
    ticket = feedback.get(session, ticket_id)
    if ticket is None or not feedback.in_scope(ticket, accounts.scope(admin)):
        raise HTTPException(status_code=404, detail=mark("Không có phản ánh này trong phạm vi của bạn."))
    return ticket


def _today(request: Request) -> date:
    """Today in the deployment's time zone (deadlines are local days)."""
    return local_today(runtime_of(request).settings.timezone)


def _filter(
    admin: AdminUser, status: str, category: str, commune: str, overdue: bool, today: date
) -> feedback.TicketFilter:
    """The inbox filter from the query string, always inside the admin's communes."""
    return feedback.TicketFilter(
        communes=accounts.scope(admin),
        status=TicketStatus(status) if status in TicketStatus.__members__ else None,
        category_id=int(category) if category.isdigit() else None,
        commune_code=int(commune) if commune.isdigit() else None,
        overdue_on=today if overdue else None,
    )


@router.get("/feedback", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    status: str = "",
    category: str = "",
    commune: str = "",
    overdue: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Tickets open first, by due date; overdue ones marked."""
    today = _today(request)
    flt = _filter(admin, status, category, commune, overdue, today)
    rows, total = feedback.get_all(session, flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    query = f"status={status}&category={category}&commune={commune}" + ("&overdue=true" if overdue else "")
    return render(
        request,
        "feedback.html",
        admin,
        rows=rows,
        page=Page(page, total),
        query=query,
        status_filter=status,
        category=category,
        commune=commune,
        overdue=overdue,
        today=today,
        categories=feedback.categories(session, active_only=False),
        category_label=category_label(request),
        status_labels=STATUS_LABELS,
        is_overdue=feedback.is_overdue,
        scope=accounts.scope(admin),
        link_code=request.query_params.get("link"),
    )


@router.post("/feedback/link")
def link_code(request: Request, session: SessionDep, admin: AnswererDep) -> Response:
    """A one-time code to send to the bot (/link CODE), so new reflections are announced in that chat."""
    code = accounts.new_link_code(session, admin)
    accounts.audit(session, admin, "chat_link_code", admin.username, client_ip(request))
    return redirect(f"/admin/feedback?link={code}")


@router.get("/feedback/export.xlsx")
def export(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    start: str = "",
    end: str = "",
    commune: str = "",
) -> Response:
    """Tickets of a period (local days, both included) and area, as a spreadsheet."""
    zone = ZoneInfo(runtime_of(request).settings.timezone)

    def moment(text: str, shift: int) -> datetime | None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime.combine(day + timedelta(days=shift), time(), zone)

    flt = feedback.TicketFilter(
        communes=accounts.scope(admin),
        commune_code=int(commune) if commune.isdigit() else None,
        since=moment(start, 0),
        until=moment(end, 1),
    )
    _ = admin_gettext(request)
    header = [
        _("Mã"),
        _("Ngày gửi"),
        _("Lĩnh vực"),
        _("Mã xã"),
        _("Xã, phường"),
        _("Thôn, bản"),
        _("Người gửi"),
        _("Số điện thoại"),
        _("Thay mặt (số người)"),
        _("Trạng thái"),
        _("Hạn trả lời"),
        _("Nội dung"),
        _("Trả lời"),
        _("Hài lòng"),
    ]
    rows = feedback.export_rows(session, flt, phones=_sees_phone(admin), zone=zone)
    body = workbook(_("Phản ánh"), header, rows)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="loaban-phan-anh.xlsx"'},
    )


@router.get("/feedback/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, session: SessionDep, admin: AdminDep, ticket_id: int) -> Response:
    """One ticket: content, files, position, history, and what the official can do with it."""
    ticket = _ticket(session, admin, ticket_id)
    person = people.get(session, ticket.person_id) if ticket.person_id and not ticket.anonymous else None
    admins = accounts.get_all(session)
    colleagues = [
        a
        for a in admins
        if a.active and a.role in accounts.BULLETIN_AUTHORS and feedback.in_scope(ticket, accounts.scope(a))
    ]
    return render(
        request,
        "ticket.html",
        admin,
        ticket=ticket,
        person=person,
        phone=ticket.phone if _sees_phone(admin) else None,
        category_label=category_label(request),
        colleagues=colleagues,
        names={a.id: a.full_name or a.username for a in admins},
        overdue=feedback.is_overdue(ticket, _today(request)),
        status_labels=STATUS_LABELS,
        event_labels=EVENT_LABELS,
        can_act=admin.role in accounts.BULLETIN_AUTHORS,
    )


@router.get("/feedback/{ticket_id}/files/{attachment_id}")
def ticket_file(
    session: SessionDep, request: Request, admin: AdminDep, ticket_id: int, attachment_id: int
) -> Response:
    """A file of a ticket, only for admins of its commune (people's photos are not public)."""
    ticket = _ticket(session, admin, ticket_id)
    found = next((a for a in ticket.attachments if a.id == attachment_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có tệp này."))
    path = Path(runtime_of(request).settings.media_dir) / found.media.path
    return FileResponse(path, media_type=found.media.mime, headers={"Cache-Control": "private, no-store"})


@router.post("/feedback/{ticket_id}/status")
def ticket_status(
    request: Request, session: SessionDep, admin: AnswererDep, ticket_id: int, status: Annotated[str, Form()]
) -> Response:
    """Move the ticket along: received, in progress, closed."""
    ticket = _ticket(session, admin, ticket_id)
    if status not in TicketStatus.__members__ or status in (TicketStatus.new, TicketStatus.answered):
        raise HTTPException(status_code=400, detail=mark("Trạng thái không hợp lệ."))
    feedback.set_status(ticket, TicketStatus(status), admin.id)
    accounts.audit(session, admin, "ticket_status", ticket.code, client_ip(request), status=status)
    return redirect(f"/admin/feedback/{ticket.id}")


@router.post("/feedback/{ticket_id}/assign")
def ticket_assign(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    ticket_id: int,
    assignee: Annotated[str, Form()] = "",
) -> Response:
    """Hand the ticket to a colleague who may see it."""
    ticket = _ticket(session, admin, ticket_id)
    colleague = accounts.get(session, int(assignee)) if assignee.isdigit() else None
    if colleague is not None and not feedback.in_scope(ticket, accounts.scope(colleague)):
        raise HTTPException(status_code=400, detail=mark("Người này không phụ trách xã của phản ánh."))
    feedback.assign(
        ticket, admin.id, colleague.id if colleague else None, colleague.username if colleague else ""
    )
    feedback.receive(ticket, admin.id)
    accounts.audit(session, admin, "ticket_assigned", ticket.code, client_ip(request))
    return redirect(f"/admin/feedback/{ticket.id}")


@router.post("/feedback/{ticket_id}/note")
def ticket_note(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    ticket_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """An internal note; the person never sees it."""
    ticket = _ticket(session, admin, ticket_id)
    try:
        feedback.note(ticket, admin.id, text)
    except feedback.FeedbackError as exc:
        raise HTTPException(status_code=400, detail=exc.msgid) from exc
    return redirect(f"/admin/feedback/{ticket.id}")


@router.post("/feedback/{ticket_id}/reply")
def ticket_reply(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    background: BackgroundTasks,
    ticket_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
    voice: UploadFile | None = None,
) -> Response:
    """Answer in text and/or a voice recording (made in the browser or uploaded); it reaches the person
    where they wrote from, after the commit, with 'Hài lòng / Chưa hài lòng'."""
    runtime = runtime_of(request)
    ticket = _ticket(session, admin, ticket_id)
    stored = None
    if voice is not None and voice.filename:
        try:
            clip = audio.recording(voice.file.read(), voice.filename, MAX_VOICE_REPLY_MB * 1_000_000)
        except AudioError as exc:
            _ = admin_gettext(request)
            raise HTTPException(
                status_code=400, detail=_("Không dùng được tệp ghi âm: {reason}").format(reason=exc)
            ) from exc
        stored = audio.store(session, Path(runtime.settings.media_dir), clip).voice
    try:
        feedback.answer(ticket, admin.id, text, stored)
    except feedback.FeedbackError as exc:
        raise HTTPException(status_code=400, detail=exc.msgid) from exc
    person = people.get(session, ticket.person_id) if ticket.person_id else None
    gettext = runtime.catalogs.gettext(person.language if person else ticket.language)
    voice_note = attachment(Path(runtime.settings.media_dir), stored, "voice") if stored else None
    replies = answer_messages(gettext, ticket, text, voice_note)
    person_id = person.id if person else None
    ids = messages.record_outbound_many(
        session,
        person_id=person_id,
        urn=ticket.urn,
        items=[("text", r.text, r.to_payload()) for r in replies],
    )
    background.add_task(
        runtime.hub.deliver, [Outgoing(i, ticket.urn, r) for i, r in zip(ids, replies, strict=True)]
    )
    accounts.audit(session, admin, "ticket_answered", ticket.code, client_ip(request))
    return redirect(f"/admin/feedback/{ticket.id}")


@router.get("/feedback-categories", response_class=HTMLResponse)
def category_page(
    request: Request, session: SessionDep, admin: ProvinceAdminDep, error: str = ""
) -> Response:
    """The categories people choose from, each with its deadline in working days."""
    return render(
        request,
        "feedback_categories.html",
        admin,
        status=400 if error else 200,
        rows=feedback.categories(session, active_only=False),
        category_label=category_label(request),
        error=error,
    )


def _hours(typed: str) -> int | None:
    """An urgent category's hours as typed: empty is none, and what is not a whole number counts as 0,
    which the service refuses with its reason."""
    typed = typed.strip()
    if not typed:
        return None
    return int(typed) if typed.lstrip("-").isdigit() else 0


@router.post("/feedback-categories")
def category_save(
    request: Request,
    session: SessionDep,
    admin: ProvinceAdminDep,
    label: Annotated[str, Form()],
    deadline_days: Annotated[int, Form()] = 10,
    position: Annotated[int, Form()] = 100,
    active: Annotated[bool, Form()] = False,
    category_id: Annotated[str, Form()] = "",
    deadline_hours: Annotated[str, Form()] = "",
) -> Response:
    """Add a category, or change one (its name, deadline in working days or, urgent, in hours, order,
    whether people can pick it)."""
    existing = feedback.get_category(session, int(category_id)) if category_id.isdigit() else None
    try:
        saved = feedback.save_category(
            session,
            existing,
            label=label,
            deadline_days=deadline_days,
            position=position,
            active=active,
            deadline_hours=_hours(deadline_hours),
        )
    except feedback.FeedbackError as exc:
        return category_page(request, session, admin, error=exc.translate(admin_gettext(request)))
    accounts.audit(session, admin, "feedback_category_saved", saved.code, client_ip(request))
    return redirect("/admin/feedback-categories")
