"""The translation workbench ("Bản dịch"): per language, every catalog message with its Vietnamese source,
where it appears, a chat-bubble preview, the translation and its state; a translator drafts, a second
person approves, and people read an approved string from their next message on. Files go out and come
back as .po or .xlsx. Translators see only this page and only their languages."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.common import PAGE_SIZE, Page, redirect, render
from admin.deps import SessionDep, admin_gettext, csrf_protect, require
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.i18n import SOURCE_LANGUAGE, SourceMessage, mark
from bot.runtime import runtime_of
from bot.security import client_ip
from bot.translations import service as translations
from bot.translations.models import TranslationState
from bot.voice import prompts

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
WorkbenchDep = Annotated[AdminUser, Depends(require(Role.province_admin, Role.editor, Role.translator))]
STATE_FILTERS = ("", *(s.value for s in TranslationState))


def workable(request: Request, admin: AdminUser) -> list[str]:
    """The languages this admin translates: a translator's own, everyone else's every offered one."""
    offered = [code for code in runtime_of(request).catalogs.available if code != SOURCE_LANGUAGE]
    scope = accounts.languages_of(admin)
    return offered if scope is None else [code for code in offered if code in scope]


def checked_language(request: Request, admin: AdminUser, language: str) -> str:
    """A language this admin may open, or a 403 page (a 404 would tell which languages exist)."""
    if language not in workable(request, admin):
        raise HTTPException(status_code=403, detail=mark("Bạn không có quyền làm việc này."))
    return language


def source_of(request: Request, session: Session, msgid: str, context: str) -> SourceMessage:
    """The catalog message a form names, or a 404 page."""
    found = translations.find(session, runtime_of(request).catalogs, msgid, context)
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có câu này trong danh mục."))
    return found


@router.get("/translations", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, admin: WorkbenchDep) -> Response:
    """Progress per language the admin works on."""
    catalogs = runtime_of(request).catalogs
    rows = [translations.progress(session, catalogs, code) for code in workable(request, admin)]
    return render(request, "translations.html", admin, rows=rows)


def listing(
    request: Request,
    session: Session,
    admin: AdminUser,
    language: str,
    *,
    q: str = "",
    state: str = "",
    everything: bool = False,
    page: int = 1,
    status: int = 200,
    error: str = "",
    problems: list[str] | None = None,
    saved: int | None = None,
) -> Response:
    """One language's messages, filtered and paged, with the content that lacks it (also the page a
    refused prompt recording comes back to)."""
    catalogs, gettext = runtime_of(request).catalogs, admin_gettext(request)
    entries = translations.entries(session, catalogs, language)
    if not everything:  # officials' admin strings matter less to a village's translator
        entries = [e for e in entries if e.place is None or e.place.people]
    if state:
        entries = [e for e in entries if e.state.value == state]
    needle = q.strip().lower()
    if needle:
        entries = [e for e in entries if needle in e.source.msgid.lower() or needle in e.text.lower()]
    paging = Page(max(1, page), len(entries))
    shown = entries[paging.offset : paging.offset + PAGE_SIZE]
    return render(
        request,
        "translation_language.html",
        admin,
        status=status,
        language=language,
        progress=translations.progress(session, catalogs, language),
        rows=shown,
        clips=prompts.of_rows(session, [e.source for e in shown], language),  # spoken prompts' recordings
        page=paging,
        q=q,
        state=state,
        everything=everything,
        states=STATE_FILTERS,
        state_labels=translations.STATE_LABELS,
        shipped_label=gettext(translations.SHIPPED_LABEL),
        admin_text=gettext,  # where people meet each message, in words
        too_long=translations.too_long_for_phones,
        placeholders=lambda text: sorted(translations.placeholders(text)),
        missing=translations.missing_content(session, catalogs, language),
        content_kinds=translations.CONTENT_KINDS,
        error=error,
        problems=problems or [],
        saved=saved,
    )


@router.get("/translations/{language}", response_class=HTMLResponse)
def language_page(
    request: Request,
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    q: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    everything: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Every message of one language, searchable and filtered by state."""
    checked_language(request, admin, language)
    return listing(request, session, admin, language, q=q, state=state, everything=everything, page=page)


@router.get("/translations/{language}/export.{fmt}")
def export(request: Request, session: SessionDep, admin: WorkbenchDep, language: str, fmt: str) -> Response:
    """The language's catalog to translate offline: .po for translation tools, .xlsx for Excel."""
    checked_language(request, admin, language)
    catalogs = runtime_of(request).catalogs
    if fmt == "po":
        body, mime = translations.export_po(session, catalogs, language), "text/x-gettext-translation"
    elif fmt == "xlsx":
        body = translations.export_xlsx(session, catalogs, language)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise HTTPException(status_code=404, detail=mark("Chỉ xuất được .po hoặc .xlsx."))
    disposition = f'attachment; filename="loaban-{language}.{fmt}"'
    return Response(body, media_type=mime, headers={"Content-Disposition": disposition})


@router.post("/translations/{language}/import", response_class=HTMLResponse)
def import_file(
    request: Request, session: SessionDep, admin: WorkbenchDep, language: str, file: UploadFile
) -> Response:
    """A translated file back: changed strings become drafts; any bad row refuses the whole file, each
    bad row named with its line."""
    checked_language(request, admin, language)
    _ = admin_gettext(request)
    catalogs = runtime_of(request).catalogs
    filename = file.filename or ""
    try:
        rows = translations.read_upload(filename, file.file.read())
    except translations.TranslationError as exc:
        return listing(request, session, admin, language, status=400, error=exc.translate(_))
    report = translations.import_rows(session, catalogs, admin, language, rows)
    if report.errors:
        problems = [e.text(_) for e in report.errors]
        return listing(request, session, admin, language, status=400, problems=problems)
    accounts.audit(
        session,
        admin,
        "translations_imported",
        f"translation:{language}",
        client_ip(request),
        saved=report.saved,
    )
    return listing(request, session, admin, language, saved=report.saved)


@router.post("/translations/{language}/{action}", response_class=HTMLResponse)
def change(
    request: Request,
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    action: Literal["save", "approve"],
    msgid: Annotated[str, Form(max_length=5000)],
    text: Annotated[str, Form(max_length=5000)] = "",
    context: Annotated[str, Form(max_length=200)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Store a draft, or approve the current translation as the second person (people read it from
    their next message); a refusal (a placeholder lost, a label too long, one's own draft) says why."""
    checked_language(request, admin, language)
    source, catalogs, ip = (
        source_of(request, session, msgid, context),
        runtime_of(request).catalogs,
        client_ip(request),
    )
    try:
        if action == "save":
            translations.save(session, catalogs, admin, language, source, text.strip())
            accounts.audit(
                session, admin, "translation_saved", f"translation:{language}", ip, msgid=msgid[:200]
            )
        else:
            translations.approve(session, catalogs, admin, language, source)
            accounts.audit(
                session, admin, "translation_approved", f"translation:{language}", ip, msgid=msgid[:200]
            )
    except translations.TranslationError as exc:
        message = exc.translate(admin_gettext(request))
        return listing(request, session, admin, language, q=q or msgid[:60], status=400, error=message)
    return redirect(f"/admin/translations/{language}?q={quote(q)}")
