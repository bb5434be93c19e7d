"""The officials' inbox of reflections, limited to their communes: filter, read (voice notes, photos,
the map position), assign, note, answer in text or voice, hand on to another commune or an agency, merge
duplicates, close; urgent and overdue tickets stand out; Excel export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from admin.common import PAGE_SIZE, Page, local_period, private_file, redirect, render
from admin.deps import (
    AdminDep,
    AnswererDep,
    ProvinceAdminDep,
    SessionDep,
    admin_gettext,
    csrf_protect,
)
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.areas import service as areas
from bot.areas.service import Area
from bot.audio import service as audio
from bot.bulletins.compose import attachment
from bot.conversation.feedback import (
    STATUS_LABELS,
    answer_messages,
    merged_message,
    moved_message,
)
from bot.conversation.types import Outgoing, Reply
from bot.db import local_today
from bot.errors import Refusal
from bot.feedback import categories as category_service
from bot.feedback import reply_templates as template_service
from bot.feedback import service as feedback
from bot.feedback.models import Category, ReplyTemplate, Ticket, TicketStatus
from bot.i18n import mark
from bot.media import store
from bot.messages import service as messages
from bot.people import service as people
from bot.runtime import runtime_of
from bot.security import client_ip
from bot.spreadsheet import workbook

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
MAX_VOICE_REPLY_MB = 10
DUE_SOON_DAYS = 7  # "due this week" on the dashboard: a deadline within the next seven days
EVENT_LABELS = {
    "reply": mark("Trả lời"),
    "note": mark("Ghi chú nội bộ"),
    "status": mark("Trạng thái"),
    "assign": mark("Giao cho"),
    "satisfied": mark("Người dân hài lòng"),
    "unsatisfied": mark("Người dân chưa hài lòng"),
    "reopened": mark("Mở lại"),
    "transfer": mark("Chuyển xã"),
    "forward": mark("Chuyển đơn vị"),
    "merged": mark("Gộp vào phản ánh"),
    "merged_in": mark("Gộp thêm phản ánh trùng"),
    "erased": mark("Đã xóa dữ liệu, phản ánh tự đóng"),
}
Outbox = list[tuple[str, int | None, list[Reply]]]  # (address, person id, replies)


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


def _filter(request: Request, admin: AdminUser, shown: Inbox) -> feedback.TicketFilter:
    """The inbox filter from the query string, always inside the admin's communes."""
    today = _today(request)
    since, until = local_period(shown.start, shown.end, ZoneInfo(runtime_of(request).settings.timezone))
    return feedback.TicketFilter(
        communes=accounts.scope(admin),
        status=TicketStatus(shown.status) if shown.status in TicketStatus.__members__ else None,
        category_id=int(shown.category) if shown.category.isdigit() else None,
        commune_code=int(shown.commune) if shown.commune.isdigit() else None,
        overdue_on=today if shown.overdue else None,
        open_only=shown.open,
        due_within=(today, today + timedelta(days=DUE_SOON_DAYS - 1)) if shown.due == "soon" else None,
        since=since,
        until=until,
    )


def _filter_communes(session: Session, admin: AdminUser) -> list[Area]:
    """The communes the inbox can be narrowed to, by name: the official's own, or for an admin of every
    commune those that have reflections (the whole country's would be thousands)."""
    scope = accounts.scope(admin)
    codes = scope if scope is not None else feedback.ticket_communes(session)
    return sorted((a for code in codes if (a := areas.get_commune(code)) is not None), key=lambda a: a.name)


class Inbox(BaseModel):
    """The inbox's filters as typed in its query string (the dashboard's numbers link to them)."""

    status: str = ""
    category: str = ""
    commune: str = ""
    overdue: bool = False
    open: bool = False  # waiting for an official
    due: str = ""  # 'soon': due within DUE_SOON_DAYS days and not overdue yet
    start: str = ""  # received from this local day ...
    end: str = ""  # ... to this one, both included

    @property
    def query(self) -> str:
        """The same filters for the pager's links."""
        return urlencode({k: "true" if v is True else v for k, v in self.model_dump().items() if v})


@router.get("/feedback", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    shown: Annotated[Inbox, Query()],
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Tickets open first, by due date; overdue ones marked."""
    today = _today(request)
    flt = _filter(request, admin, shown)
    rows, total = feedback.get_all(session, flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "feedback.html",
        admin,
        rows=rows,
        page=Page(page, total),
        query=shown.query,
        status_filter=shown.status,
        category=shown.category,
        commune=shown.commune,
        overdue=shown.overdue,
        shown=shown,
        due_soon_days=DUE_SOON_DAYS,
        today=today,
        categories=category_service.get_all(session, active_only=False),
        category_label=category_label(request),
        status_labels=STATUS_LABELS,
        is_overdue=feedback.is_overdue,
        hours_left=feedback.hours_left,
        filter_communes=_filter_communes(session, admin),
        link_code=request.query_params.get("link"),
        moved=request.query_params.get("moved"),
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
    since, until = local_period(start, end, zone)
    flt = feedback.TicketFilter(
        communes=accounts.scope(admin),
        commune_code=int(commune) if commune.isdigit() else None,
        since=since,
        until=until,
    )
    _ = admin_gettext(request)
    header = [
        _("Mã"),
        _("Ngày gửi"),
        _("Lĩnh vực"),
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
    rows = feedback.export_rows(
        session, flt, phones=_sees_phone(admin), zone=zone, translate=_, statuses=STATUS_LABELS
    )
    body = workbook(_("Phản ánh"), header, rows)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="loaban-phan-anh.xlsx"'},
    )


@router.get("/feedback-templates", response_class=HTMLResponse)
def templates_page(request: Request, session: SessionDep, admin: AnswererDep, error: str = "") -> Response:
    """The answers an official keeps: their own and those shared with their communes."""
    return render(
        request,
        "feedback_templates.html",
        admin,
        status=400 if error else 200,
        rows=template_service.get_all(session, owner_id=admin.id, communes=accounts.scope(admin)),
        communes=[a for code in accounts.scope(admin) or [] if (a := areas.get_commune(code)) is not None],
        may_delete=lambda t: _may_delete(admin, t),
        error=error,
    )


def _may_delete(admin: AdminUser, template: ReplyTemplate) -> bool:
    """Its owner, a province admin, or an official of the commune it is shared with."""
    scope = accounts.scope(admin)
    shared_here = template.commune_code is not None and (scope is None or template.commune_code in scope)
    return template.owner_id == admin.id or admin.role == Role.province_admin or shared_here


@router.post("/feedback-templates")
def template_create(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    title: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=8000)] = "",
    share: Annotated[str, Form()] = "",
) -> Response:
    """Keep an answer to reuse; shared only with a commune the official answers for."""
    commune = int(share) if share.isdigit() else None
    if commune is not None and commune not in (accounts.scope(admin) or []):
        raise HTTPException(status_code=400, detail=mark("Xã này không thuộc phạm vi của bạn."))
    try:
        saved = template_service.create(
            session, owner_id=admin.id, title=title, text=text, commune_code=commune
        )
    except feedback.FeedbackError as exc:
        return templates_page(request, session, admin, error=exc.translate(admin_gettext(request)))
    accounts.audit(session, admin, "reply_template_created", f"template:{saved.id}", client_ip(request))
    return redirect("/admin/feedback-templates")


@router.post("/feedback-templates/{template_id}/delete")
def template_delete(request: Request, session: SessionDep, admin: AnswererDep, template_id: int) -> Response:
    """Forget a reply template one may manage."""
    template = template_service.get(session, template_id=template_id)
    if template is None or not _may_delete(admin, template):
        raise HTTPException(status_code=404, detail=mark("Không có mẫu trả lời này."))
    template_service.delete(session, template=template)
    accounts.audit(session, admin, "reply_template_deleted", f"template:{template_id}", client_ip(request))
    return redirect("/admin/feedback-templates")


@router.get("/feedback/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    request: Request, session: SessionDep, admin: AdminDep, ticket_id: int, template: int = 0
) -> Response:
    """One ticket: content, files, position, history, and what the official can do with it; `template`
    puts one of the official's reply templates in the answer box (the page's script does it in place)."""
    ticket = _ticket(session, admin, ticket_id)
    return _ticket_view(request, session, admin, ticket, template=template)


def _ticket_view(
    request: Request,
    session: Session,
    admin: AdminUser,
    ticket: Ticket,
    *,
    template: int = 0,
    draft: str = "",
    refused: Refusal | None = None,
) -> Response:
    """The ticket's page; an answer refused before anything was stored comes back to it with why, and what
    the official typed still in the answer box."""
    templates = template_service.get_all(session, owner_id=admin.id, communes=[ticket.commune_code or 0])
    person = (
        people.get(session, person_id=ticket.person_id) if ticket.person_id and not ticket.anonymous else None
    )
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
        status=400 if refused else 200,
        error=refused.translate(admin_gettext(request)) if refused else "",
        ticket=ticket,
        person=person,
        phone=ticket.phone if _sees_phone(admin) else None,
        category_label=category_label(request),
        colleagues=colleagues,
        transfer_choices=transfer_choices(admin, ticket),
        templates=templates,
        draft=draft or next((t.text for t in templates if t.id == template), ""),
        merge_candidates=feedback.merge_candidates(session, ticket),
        names={a.id: a.full_name or a.username for a in admins},
        overdue=feedback.is_overdue(ticket, _today(request)),
        hours_left=feedback.hours_left(ticket),
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
    return private_file(request, found.media if found else None)


@router.get("/feedback/{ticket_id}/events/{event_id}/voice")
def ticket_voice(
    session: SessionDep, request: Request, admin: AdminDep, ticket_id: int, event_id: int
) -> Response:
    """An official's voice answer on a ticket, only for admins of its commune (it is not public)."""
    ticket = _ticket(session, admin, ticket_id)
    found = next((e for e in ticket.events if e.id == event_id), None)
    return private_file(request, found.media if found else None)


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
    colleague = accounts.get(session, admin_id=int(assignee)) if assignee.isdigit() else None
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


def voice_reply(
    request: Request, voice: UploadFile | None = None
) -> audio.UploadedClip | audio.RecordingError | None:
    """An official's recorded answer, checked, transcoded and written to the media store before the
    request's transaction opens (ffmpeg and an S3 upload take seconds, and a transaction held open that
    long would hold up other writers; a reply refused afterwards leaves only a stray copy); or why it
    cannot be used, for the ticket's page to say."""
    if voice is None or not voice.filename:
        return None
    limit = MAX_VOICE_REPLY_MB * 1_000_000
    try:
        clip = audio.recording(voice.file.read(limit + 1), voice.filename, limit)
    except audio.RecordingError as refused:
        return refused
    runtime = runtime_of(request)
    return audio.upload(runtime.db, store.of(runtime.settings), clip)


VoiceReplyDep = Annotated[audio.UploadedClip | audio.RecordingError | None, Depends(voice_reply)]


@router.post("/feedback/{ticket_id}/reply")
def ticket_reply(
    request: Request,
    clip: VoiceReplyDep,  # first: stored before `session` opens
    session: SessionDep,
    admin: AnswererDep,
    background: BackgroundTasks,
    ticket_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Answer in text and/or a voice recording (made in the browser or uploaded); it reaches the person
    where they wrote from, after the commit, with 'Hài lòng / Chưa hài lòng', and the senders of the
    duplicates closed into the ticket; a recording refused comes back to the page with what was typed."""
    runtime = runtime_of(request)
    ticket = _ticket(session, admin, ticket_id)
    if isinstance(clip, audio.RecordingError):
        return _ticket_view(request, session, admin, ticket, draft=text, refused=clip)
    stored = audio.record(session, store.of(runtime.settings), clip).voice if clip else None
    try:
        feedback.answer(ticket, admin.id, text, stored)
    except feedback.FeedbackError as exc:
        raise HTTPException(status_code=400, detail=exc.msgid) from exc
    voice_note = attachment(stored, "voice", private=True) if stored else None

    def answer_to(duplicate: Ticket | None) -> Callable[[Callable[[str], str]], list[Reply]]:
        return lambda gettext: answer_messages(gettext, ticket, text, voice_note, duplicate)

    senders = [ticket, *feedback.duplicates(session, ticket)]
    outbox = [_to_sender(session, request, t, answer_to(None if t is ticket else t)) for t in senders]
    queue_messages(session, request, background, outbox)
    accounts.audit(session, admin, "ticket_answered", ticket.code, client_ip(request))
    return redirect(f"/admin/feedback/{ticket.id}")


def _to_sender(
    session: Session, request: Request, ticket: Ticket, make: Callable[[Callable[[str], str]], list[Reply]]
) -> tuple[str, int | None, list[Reply]]:
    """Messages to a ticket's sender, where they wrote from, in their language (anonymous ones too)."""
    person = people.get(session, person_id=ticket.person_id) if ticket.person_id else None
    gettext = runtime_of(request).catalogs.gettext(person.language if person else ticket.language)
    return ticket.urn, person.id if person else None, make(gettext)


def queue_messages(session: Session, request: Request, background: BackgroundTasks, outbox: Outbox) -> None:
    """Record messages in the outbox within the request's transaction; they are sent after its commit."""
    outgoing: list[Outgoing] = []
    for urn, person_id, replies in outbox:
        items = [("text", r.text, r.to_payload()) for r in replies]
        ids = messages.record_outbound_many(session, person_id=person_id, urn=urn, items=items)
        outgoing += [Outgoing(i, urn, r) for i, r in zip(ids, replies, strict=True)]
    background.add_task(runtime_of(request).hub.deliver, outgoing)


def transfer_choices(admin: AdminUser, ticket: Ticket) -> list[Area]:
    """The communes an official may hand a ticket to: a commune officer, those of their own province(s);
    others, those of the ticket's province."""
    scope = accounts.scope(admin)
    codes = scope if scope is not None else [ticket.commune_code or 0]
    provinces = {a.province_code for code in codes if (a := areas.get_commune(code)) is not None}
    return [c for p in sorted(provinces) for c in areas.communes(p) if c.code != ticket.commune_code]


@router.post("/feedback/{ticket_id}/transfer")
def ticket_transfer(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    background: BackgroundTasks,
    ticket_id: int,
    commune: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Hand the ticket to another commune of the province; its officials are told at once, the sender
    learns where it went, and the sending officer no longer sees it."""
    ticket = _ticket(session, admin, ticket_id)
    choices = {c.code: c for c in transfer_choices(admin, ticket)}
    target = choices.get(int(commune)) if commune.isdigit() else None
    if target is None:
        raise HTTPException(
            status_code=400, detail=mark("Bạn chỉ chuyển được đến xã, phường trong tỉnh của mình.")
        )
    try:
        feedback.transfer(ticket, admin.id, target.code, reason)
    except feedback.FeedbackError as exc:
        raise HTTPException(status_code=400, detail=exc.translate(admin_gettext(request))) from exc
    _ = admin_gettext(request)
    told = _("Phản ánh {code} được chuyển đến {commune}: {reason}\n{url}").format(
        code=ticket.code,
        commune=target.name,
        reason=reason.strip(),
        url=f"{runtime_of(request).settings.base_url}/admin/feedback/{ticket.id}",
    )
    outbox: Outbox = [
        (a.chat_urn, None, [Reply(told)])
        for a in accounts.to_notify(session, target.code)
        if a.chat_urn and a.id != admin.id
    ]
    outbox.append(_to_sender(session, request, ticket, lambda g: [moved_message(g, ticket, target.name)]))
    queue_messages(session, request, background, outbox)
    accounts.audit(session, admin, "ticket_transferred", ticket.code, client_ip(request), commune=target.code)
    if feedback.in_scope(ticket, accounts.scope(admin)):
        return redirect(f"/admin/feedback/{ticket.id}")
    return redirect(f"/admin/feedback?moved={ticket.code}")


@router.post("/feedback/{ticket_id}/forward")
def ticket_forward(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    background: BackgroundTasks,
    ticket_id: int,
    agency: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Send the ticket on to the agency that can act; the sender learns which."""
    ticket = _ticket(session, admin, ticket_id)
    try:
        feedback.forward(ticket, admin.id, agency, reason)
    except feedback.FeedbackError as exc:
        raise HTTPException(status_code=400, detail=exc.translate(admin_gettext(request))) from exc
    where = ticket.agency or ""
    queue_messages(
        session,
        request,
        background,
        [_to_sender(session, request, ticket, lambda g: [moved_message(g, ticket, where)])],
    )
    accounts.audit(session, admin, "ticket_forwarded", ticket.code, client_ip(request), agency=where)
    return redirect(f"/admin/feedback/{ticket.id}")


@router.post("/feedback/{ticket_id}/merge")
def ticket_merge(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    background: BackgroundTasks,
    ticket_id: int,
    main: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Close this ticket as a duplicate of another of the same commune; its sender is told, and gets the
    main ticket's answers."""
    duplicate = _ticket(session, admin, ticket_id)
    target = _ticket(session, admin, int(main)) if main.isdigit() else None
    if target is None:
        raise HTTPException(status_code=400, detail=mark("Hãy chọn phản ánh chính."))
    try:
        feedback.merge(duplicate, target, admin.id, note)
    except feedback.FeedbackError as exc:
        raise HTTPException(status_code=400, detail=exc.translate(admin_gettext(request))) from exc
    told = _to_sender(session, request, duplicate, lambda g: [merged_message(g, duplicate, target)])
    queue_messages(session, request, background, [told])
    accounts.audit(session, admin, "ticket_merged", duplicate.code, client_ip(request), into=target.code)
    return redirect(f"/admin/feedback/{target.id}")


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
        rows=category_service.get_all(session, active_only=False),
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
    existing = category_service.get(session, category_id=int(category_id)) if category_id.isdigit() else None
    save = partial(category_service.update, category=existing) if existing else category_service.create
    try:
        saved = save(
            session,
            label=label,
            deadline_days=deadline_days,
            position=position,
            active=active,
            deadline_hours=_hours(deadline_hours),
        )
    except feedback.FeedbackError as exc:
        return category_page(request, session, admin, error=exc.translate(admin_gettext(request)))
    accounts.audit(
        session, admin, "feedback_category_saved", saved.code, client_ip(request), name=saved.label
    )
    return redirect("/admin/feedback-categories")
