"""Admin pages for the policy Q&A: entries (list, search, edit with translations, import, export) and the
inbox of people's questions the bot could not answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from admin.common import PAGE_SIZE, ROLE_LABELS, Page, commune_name, province_name, redirect, render
from admin.deps import (
    AdminDep,
    AnswererDep,
    EditorDep,
    FormDep,
    SessionDep,
    admin_gettext,
    csrf_protect,
)
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.areas import service as areas
from bot.content import ContentError, knowledge_rows
from bot.conversation import listen
from bot.conversation.types import Outgoing, Reply
from bot.db import utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.messages import service as messages
from bot.people import service as people
from bot.qa import service as qa
from bot.qa.models import EntryStatus, ForwardReason, OpenQuestion, QuestionStatus
from bot.qa.spreadsheet import xlsx_from_rows
from bot.runtime import runtime_of
from bot.security import client_ip
from bot.translations import content as content_translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])


# --- Q&A entries -------------------------------------------------------------


def _listing(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    q: str = "",
    status: EntryStatus | None = None,
    page: int = 1,
    code: int = 200,
    report: qa.ImportReport | None = None,
    problems: list[str] | None = None,
) -> Response:
    """The list of entries as searched and filtered, with an import's report when there is one."""
    rows, total = qa.get_all(session, query=q, status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "qa.html",
        admin,
        status=code,
        rows=rows,
        page=Page(page, total),
        q=q,
        only=status,
        empty=not rows and not qa.any_entries(session),
        area_names=area_names,
        can_import=accounts.can_edit_content(admin),
        report=report,
        problems=problems or [],
    )


def area_names(provinces: list[int], communes: list[int]) -> list[str]:
    """Where an entry holds, by name; none means nationwide."""
    return [province_name(code) for code in provinces] + [commune_name(code) for code in communes]


@router.get("/qa", response_class=HTMLResponse)
def qa_list(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    q: str = "",
    status: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Entries with where they hold, their status, how often each was served and how people rated it;
    search (without marks or in shorthand too), one status only (the filter's 'all' sends none), pages."""
    only = EntryStatus(status) if status in {s.value for s in EntryStatus} else None
    return _listing(request, session, admin, q=q, status=only, page=page)


@router.get("/qa/export.{fmt}")
def qa_export(session: SessionDep, admin: AdminDep, fmt: str) -> Response:
    """Download every entry as YAML or Excel, in the format the import reads back."""
    rows = qa.export_rows(session)
    if fmt == "xlsx":
        return Response(
            xlsx_from_rows(rows),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="loaban-hoi-dap.xlsx"'},
        )
    if fmt == "yaml":
        return Response(
            yaml.safe_dump(rows, allow_unicode=True, sort_keys=False),
            media_type="application/yaml; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="loaban-hoi-dap.yaml"'},
        )
    raise HTTPException(status_code=404, detail=mark("Chỉ xuất được YAML hoặc Excel."))


@router.post("/qa/import", response_class=HTMLResponse)
def qa_import(
    request: Request,
    session: SessionDep,
    admin: EditorDep,
    file: UploadFile,
    skip_bad: Annotated[bool, Form()] = False,
) -> Response:
    """Import a YAML or Excel file; a bad row refuses the whole file unless 'skip bad rows' is ticked."""
    _ = admin_gettext(request)
    filename = file.filename or ""
    before = content_translations.translations_of(session)
    try:
        rows, first_line = knowledge_rows(filename, file.file.read())
        report = qa.import_rows(session, rows, skip_bad=skip_bad, first_line=first_line)
        problems = [e.text(_) for e in report.errors]
    except ContentError as exc:
        report = qa.ImportReport()
        problems = [_("Không đọc được tệp ({reason}).").format(reason=exc)]
    refused = bool(problems) and not skip_bad
    if not refused:  # a refused file wrote nothing
        content_translations.note_edits_since(session, admin, before)
        accounts.audit(
            session,
            admin,
            "qa_imported",
            filename[:200],
            client_ip(request),
            created=report.created,
            updated=report.updated,
            skipped=len(problems),
        )
    return _listing(request, session, admin, code=400 if refused else 200, report=report, problems=problems)


# --- questions the bot could not answer ------------------------------------


def get_question_in_scope(session: Session, admin: AdminUser, question_id: int) -> OpenQuestion:
    """A question from the admin's communes, or a 404 page."""
    question = qa.get_question(session, question_id)
    scope = accounts.scope(admin)
    if question is None or (scope is not None and question.commune_code not in scope):
        raise HTTPException(status_code=404, detail=mark("Không có câu hỏi này trong phạm vi của bạn."))
    return question


WAITS = (1, 3, 7)  # the 'waiting longer than' filters offered, in days


def waiting_since(days: int, now: datetime) -> datetime | None:
    """When a question must have been sent to be waiting longer than `days` days (None: any)."""
    return now - timedelta(days=days) if days in WAITS else None


@router.get("/questions", response_class=HTMLResponse)
def questions_page(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    page: Annotated[int, Query(ge=1)] = 1,
    over: int = 0,
) -> Response:
    """'Câu hỏi bà con gửi cán bộ': the questions people chose to send, waiting for an official (all, or
    those waiting longer than `over` days), the longest waiting first, each with where the person lives
    and what Loa Bản answered or offered; recent answers."""
    scope, now = accounts.scope(admin), utcnow()
    over = over if over in WAITS else 0
    waiting, total = qa.questions(
        session,
        QuestionStatus.open,
        scope,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        asked_before=waiting_since(over, now),
    )
    answered, _ = qa.questions(session, QuestionStatus.answered, scope, limit=20)
    missed = qa.missed(session, scope)
    shown = waiting + answered
    return render(
        request,
        "questions.html",
        admin,
        waiting=waiting,
        page=Page(page, total),
        answered=answered,
        villages=areas.village_names(session, {q.village_id for q in shown if q.village_id is not None}),
        missed=missed,
        entries=qa.entry_questions(
            session,
            {e for q in waiting for e in [*q.offered, q.answered_with] if e is not None}
            | {m.entry_id for m in missed if m.entry_id is not None},
        ),
        waited=partial(waited, now=now),
        waits=WAITS,
        over=over,
        reasons=ForwardReason,
        can_answer=admin.role != Role.viewer,
    )


def waited(since: datetime, now: datetime) -> tuple[int, str]:
    """A question's wait in its largest whole unit, (3, 'days') or (5, 'hours'): who waited longest shows."""
    minutes = max(1, int((now - since).total_seconds() // 60))
    if minutes >= 24 * 60:
        return minutes // (24 * 60), "days"
    if minutes >= 60:
        return minutes // 60, "hours"
    return minutes, "minutes"


@router.post("/questions/{question_id}/answer")
def answer_question(
    request: Request,
    session: SessionDep,
    admin: AnswererDep,
    background: BackgroundTasks,
    question_id: int,
    answer: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    """Answer a person's question; it reaches them where they asked, in their language, after the commit."""
    question = get_question_in_scope(session, admin, question_id)
    qa.answer_question(session, question, answer=answer, admin_id=admin.id)
    person = people.get(session, person_id=question.person_id) if question.person_id else None
    urn = messages.last_inbound_urn(session, person.id) if person else None
    if person is not None and urn is not None:
        runtime = runtime_of(request)
        _ = runtime.catalogs.gettext(person.language)
        reply = Reply(
            _("Cán bộ xã trả lời câu hỏi của bạn «{question}»:\n\n{answer}").format(
                question=question.text, answer=question.answer
            ),
            (listen.button(_, "oq", str(question.id)),),
        )
        message_id = messages.record_outbound(
            session, person_id=person.id, urn=urn, kind="text", text=reply.text, payload=reply.to_payload()
        )
        background.add_task(runtime.hub.deliver, [Outgoing(message_id, urn, reply)])
    accounts.audit(session, admin, "question_answered", f"question:{question.id}", client_ip(request))
    return redirect("/admin/questions")


def _question_to_add(session: Session, admin: AdminUser, question_id: int) -> OpenQuestion:
    """An answered question of the admin's communes not yet in the Q&A, or a 409 page."""
    question = get_question_in_scope(session, admin, question_id)
    if question.status != QuestionStatus.answered or question.entry_id:
        raise HTTPException(
            status_code=409, detail=mark("Câu hỏi này chưa được trả lời hoặc đã thành mục hỏi đáp.")
        )
    return question


def _answered_by(
    session: Session, question: OpenQuestion, admin: AdminUser, gettext: Callable[[str], str]
) -> str:
    """Who answered, as the source people read under the answer: 'Lò Thị Hoa, UBND xã Phong Thổ'; an
    account without a unit is named by its role and communes."""
    official = (
        accounts.get(session, admin_id=question.answered_by) if question.answered_by else None
    ) or admin
    unit = official.unit or ", ".join(
        [gettext(ROLE_LABELS[official.role]), *map(commune_name, official.commune_codes)]
    )
    return f"{official.full_name or official.username}, {unit}"


@router.get("/questions/{question_id}/to-entry", response_class=HTMLResponse)
def question_to_entry_form(
    request: Request, session: SessionDep, admin: AnswererDep, question_id: int
) -> Response:
    """'Thêm vào hỏi đáp': the editor on a new draft made from an answered question, for the official to
    write the clear question everyone may ask."""
    question = _question_to_add(session, admin, question_id)
    source = _answered_by(session, question, admin, admin_gettext(request))
    return _entry_form(request, admin, qa.draft_from_question(question, source=source), question=question)


@router.post("/questions/{question_id}/to-entry")
def question_to_entry(
    request: Request, session: SessionDep, admin: AnswererDep, form: FormDep, question_id: int
) -> Response:
    """Save the entry made from an answered question; a commune officer saves a draft, which an editor or
    a province admin reviews and publishes: an answer to one person is not answered to all unchecked."""
    question = _question_to_add(session, admin, question_id)
    row = _row_from_form(form, "")
    if row["status"] != EntryStatus.draft.value and not accounts.can_edit_content(admin):
        raise HTTPException(
            status_code=403, detail=mark("Chỉ biên tập viên và quản trị tỉnh đăng được mục hỏi đáp.")
        )
    try:
        report = qa.entry_from_question(session, question, row)
    except Refusal as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    if report.errors:
        _ = admin_gettext(request)
        return _entry_form(request, admin, row, question=question, errors=[e.text(_) for e in report.errors])
    accounts.audit(
        session,
        admin,
        "qa_entry_from_question",
        f"qa:{question.entry_id}",
        client_ip(request),
        status=row["status"],
    )
    return redirect(f"/admin/qa/{question.entry_id}?saved=true")


# --- one entry: view, edit with translations, delete -------------------------------------------


def _entry_form(
    request: Request,
    admin: AdminUser,
    row: dict[str, Any],
    *,
    new: bool = True,
    question: OpenQuestion | None = None,
    errors: list[str] | None = None,
    saved: bool = False,
) -> Response:
    """The entry editor (read-only for those who may not edit), with the refusal's reasons if any; on an
    answered question, a commune officer may write the draft but not publish it."""
    languages = [lang for lang in runtime_of(request).catalogs.languages() if lang.code != "vi"]
    area = row.get("area") or {}
    can_publish = accounts.can_edit_content(admin)
    if question is not None:
        action = f"/admin/questions/{question.id}/to-entry"
    else:
        action = "/admin/qa/" + ("new" if new else quote(str(row["id"]), safe=""))
    return render(
        request,
        "qa_entry.html",
        admin,
        status=400 if errors else 200,
        row=row,
        new=new,
        question=question,
        action=action,
        errors=errors or [],
        saved=saved,
        languages=languages,
        can_edit=can_publish or question is not None,
        can_publish=can_publish,
        provinces=areas.provinces(),
        chosen_provinces=area.get("provinces") or [],
        chosen=_communes(area.get("communes") or []),
        matches=[],
    )


def _communes(codes: list[Any]) -> list[areas.Area]:
    """The communes of some codes, skipping any that is not one (the import's checks name it)."""
    return [c for code in codes if isinstance(code, int) and (c := areas.get_commune(code)) is not None]


@router.get("/communes", response_class=HTMLResponse)
def commune_choices(
    request: Request,
    admin: AdminDep,
    commune_q: str = "",
    communes: Annotated[list[int] | None, Query()] = None,
    provinces: Annotated[list[int] | None, Query()] = None,
) -> Response:
    """The area picker's communes: the ticked ones stay, then up to 12 whose name holds the search, typed
    with or without marks; those of the ticked provinces, or of the ticked communes' or the officer's
    provinces, first: 'phong' in Lai Châu means Phong Thổ, not the wards of Huế."""
    chosen = _communes(communes or [])
    ticked = {c.code for c in chosen}
    near = set(provinces or []) | {c.province_code for c in chosen + _communes(admin.commune_codes)}
    found = areas.search(areas.all_communes(), commune_q) if commune_q.strip() else []
    others = [c for c in found if c.code not in ticked]
    matches = sorted(others, key=lambda c: c.province_code not in near)[:12]
    return render(
        request, "commune_picks.html", admin, chosen=chosen, matches=matches, commune_q=commune_q.strip()
    )


def _row_from_form(form: FormData, entry_id: str) -> dict[str, Any]:
    """The editor's fields in the import format, so one set of checks serves files and the form."""

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    def codes(name: str) -> list[Any]:  # anything but digits is kept for the checks to refuse
        return [int(v) if isinstance(v, str) and v.isdigit() else v for v in form.getlist(name)]

    translations = {
        code.removeprefix("tq_"): {"question": text(code), "answer": text("ta_" + code.removeprefix("tq_"))}
        for code in form
        if code.startswith("tq_") and (text(code) or text("ta_" + code.removeprefix("tq_")))
    }
    return {
        "id": entry_id,
        "question": text("question"),
        "answer": text("answer"),
        "alternatives": [line.strip() for line in text("alternatives").splitlines() if line.strip()],
        "tags": [tag.strip() for tag in text("tags").split(",") if tag.strip()],
        "source": {"document": text("source_document"), "section": text("source_section")},
        "valid_from": text("valid_from") or None,
        "valid_to": text("valid_to") or None,
        "status": text("status") or "draft",
        "translations": translations,
        "area": {"provinces": codes("provinces"), "communes": codes("communes")}
        if form.getlist("provinces") or form.getlist("communes")
        else None,
    }


@router.get("/qa/new", response_class=HTMLResponse)
def qa_entry_new(request: Request, admin: EditorDep) -> Response:
    """An empty editor for a new entry."""
    return _entry_form(request, admin, {"status": "draft", "tags": []})


@router.get("/qa/{entry_id}", response_class=HTMLResponse)
def qa_entry(
    request: Request, session: SessionDep, admin: AdminDep, entry_id: str, saved: bool = False
) -> Response:
    """One entry with its translations, use and ratings; editable by province admins and editors."""
    entry = qa.get(session, entry_id=entry_id)
    if entry is None:
        raise HTTPException(status_code=404, detail=mark("Không có mục hỏi đáp này."))
    return _entry_form(request, admin, qa.entry_row(entry) | {"entry": entry}, new=False, saved=saved)


@router.post("/qa/{entry_id}")
def qa_entry_save(
    request: Request, session: SessionDep, admin: EditorDep, form: FormDep, entry_id: str
) -> Response:
    """Save an entry through the import's own checks; a refused save shows why and keeps the input."""
    new = entry_id == "new"
    if new:
        entry_id = str(form.get("id") or "").strip()
        if qa.get(session, entry_id=entry_id) is not None:
            _ = admin_gettext(request)
            row = _row_from_form(form, entry_id)
            return _entry_form(
                request, admin, row, new=True, errors=[_("Mã '{id}' đã có.").format(id=entry_id)]
            )
    elif qa.get(session, entry_id=entry_id) is None:
        raise HTTPException(status_code=404, detail=mark("Không có mục hỏi đáp này."))
    row = _row_from_form(form, entry_id)
    before = content_translations.translations_of(session)
    report = qa.import_rows(session, [row])
    if report.errors:
        _ = admin_gettext(request)
        return _entry_form(request, admin, row, new=new, errors=[e.text(_) for e in report.errors])
    content_translations.note_edits_since(session, admin, before)
    accounts.audit(session, admin, "qa_entry_saved", f"qa:{entry_id}", client_ip(request))
    return redirect(f"/admin/qa/{entry_id}?saved=true")


@router.post("/qa/{entry_id}/delete")
def qa_entry_delete(request: Request, session: SessionDep, admin: EditorDep, entry_id: str) -> Response:
    """Remove an entry (the bot stops answering with it at once)."""
    entry = qa.get(session, entry_id=entry_id)
    if entry is None:
        raise HTTPException(status_code=404, detail=mark("Không có mục hỏi đáp này."))
    qa.delete(session, entry=entry)
    accounts.audit(session, admin, "qa_entry_deleted", f"qa:{entry_id}", client_ip(request))
    return redirect("/admin/qa")
