"""The workbench's "Nội dung" section: per language, every Q&A entry's question and answer beside its
Vietnamese, with its state; a translator drafts, a second person approves, and people of that language
read the approved translation from their next question on (never a draft). Translators see only their
languages."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.common import PAGE_SIZE, Page, redirect, render
from admin.deps import SessionDep, admin_gettext, csrf_protect
from admin.translations import STATE_FILTERS, WorkbenchDep, checked_language
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.i18n import mark
from bot.qa import service as qa
from bot.qa.models import QAEntry
from bot.security import client_ip
from bot.translations import content as content_translations
from bot.translations import service as translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])


def _listing(
    request: Request,
    session: Session,
    admin: AdminUser,
    language: str,
    *,
    q: str = "",
    state: str = "",
    page: int = 1,
    status: int = 200,
    error: str = "",
    kept: dict[str, str] | None = None,
) -> Response:
    """One language's Q&A entries, searched, filtered by state and paged; a refused save keeps its text."""
    found = content_translations.items(session, language, q=q, state=state)
    paging = Page(max(1, page), len(found))
    names = {a.id: a.username for a in accounts.get_all(session)}
    return render(
        request,
        "translation_content.html",
        admin,
        status=status,
        language=language,
        rows=found[paging.offset : paging.offset + PAGE_SIZE],
        page=paging,
        q=q,
        state=state,
        states=STATE_FILTERS,
        state_labels=translations.STATE_LABELS,
        shipped_label=admin_gettext(request)(translations.SHIPPED_LABEL),
        names=names,
        error=error,
        kept=kept or {},
    )


@router.get("/translations/{language}/content", response_class=HTMLResponse)
def content_page(
    request: Request,
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    q: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Every Q&A entry of one language, searchable and filtered by state."""
    checked_language(request, admin, language)
    return _listing(request, session, admin, language, q=q, state=state, page=page)


def _entry(session: Session, entry_id: str) -> QAEntry:
    """The entry a form names, or a 404 page."""
    entry = qa.get(session, entry_id=entry_id)
    if entry is None:
        raise HTTPException(status_code=404, detail=mark("Không có mục hỏi đáp này."))
    return entry


@router.post("/translations/{language}/content/{action}", response_class=HTMLResponse)
def content_change(
    request: Request,
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    action: Literal["save", "approve"],
    entry_id: Annotated[str, Form(max_length=80)],
    question: Annotated[str, Form(max_length=2000)] = "",
    answer: Annotated[str, Form(max_length=10000)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    state: Annotated[str, Form(max_length=20)] = "",
    page: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    """Store a draft of an entry's translation, or approve it as the second person (people read it from
    their next question); a refusal (a figure lost, one's own draft) says why and keeps the text typed."""
    checked_language(request, admin, language)
    entry, ip = _entry(session, entry_id), client_ip(request)
    try:
        if action == "save":
            content_translations.save(session, admin, language, entry, question, answer)
            accounts.audit(
                session, admin, "content_translation_saved", f"qa:{entry.id}", ip, language=language
            )
        else:
            content_translations.approve(session, admin, language, entry)
            accounts.audit(
                session, admin, "content_translation_approved", f"qa:{entry.id}", ip, language=language
            )
    except translations.TranslationError as exc:
        message = exc.translate(admin_gettext(request))
        kept = {"entry_id": entry.id, "question": question, "answer": answer} if action == "save" else None
        return _listing(
            request, session, admin, language, q=q or entry.id, status=400, error=message, kept=kept
        )
    back = urlencode({"q": q, "state": state, "page": page})
    return redirect(f"/admin/translations/{language}/content?{back}#e-{entry.id}")
