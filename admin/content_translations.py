"""The workbench's "Nội dung" section: per language, every Q&A entry's question and answer and every
contest question's text, options and explanation beside the Vietnamese, with its state; a translator
drafts, a second person approves, and people of that language read the approved translation from their
next message on (never a draft). Translators see only their languages."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.common import PAGE_SIZE, Page, redirect, render
from admin.deps import SessionDep, admin_gettext, csrf_protect
from admin.translations import STATE_FILTERS, WorkbenchDep, checked_language
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.contests.models import ContestQuestion
from bot.i18n import mark
from bot.qa import service as qa
from bot.qa.models import QAEntry
from bot.security import client_ip
from bot.translations import content as content_translations
from bot.translations import service as translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
Kind = Literal["qa", "contest"]


def _listing(
    request: Request,
    session: Session,
    admin: AdminUser,
    language: str,
    kind: str,
    *,
    q: str = "",
    state: str = "",
    page: int = 1,
    status: int = 200,
    error: str = "",
    kept: dict[str, Any] | None = None,
) -> Response:
    """One language's content of a kind, searched, filtered by state and paged; a refused save keeps the
    text typed."""
    found = content_translations.items(session, kind, language, q=q, state=state)
    paging = Page(max(1, page), len(found))
    names = {a.id: a.username for a in accounts.get_all(session)}
    return render(
        request,
        "translation_content.html",
        admin,
        status=status,
        language=language,
        kind=kind,
        kinds=content_translations.KINDS,
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
    kind: Kind = "qa",
    q: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Every Q&A entry or contest question of one language, searchable and filtered by state."""
    checked_language(request, admin, language)
    return _listing(request, session, admin, language, kind, q=q, state=state, page=page)


def _item(session: Session, kind: Kind, key: str) -> content_translations.Content:
    """The item a form names, or a 404 page."""
    found = (
        qa.get(session, entry_id=key)
        if kind == "qa"
        else session.get(ContestQuestion, int(key))
        if key.isdigit() and len(key) < 10
        else None
    )
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có nội dung này."))
    return found


def _typed(item: content_translations.Content, fields: dict[str, str], options: list[str]) -> dict[str, Any]:
    """The translation a form carries, in the item's shape (an option per Vietnamese option)."""
    if isinstance(item, QAEntry):
        return {"question": fields["question"].strip(), "answer": fields["answer"].strip()}
    labels = [label.strip() for label in options][: len(item.options)]
    return {
        "text": fields["text"].strip(),
        "options": labels + [""] * (len(item.options) - len(labels)),
        "explanation": fields["explanation"].strip(),
    }


@router.post("/translations/{language}/content/{action}", response_class=HTMLResponse)
def content_change(
    request: Request,
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    action: Literal["save", "approve"],
    entry_id: Annotated[str, Form(max_length=80)],
    kind: Annotated[Kind, Form()] = "qa",
    question: Annotated[str, Form(max_length=2000)] = "",
    answer: Annotated[str, Form(max_length=10000)] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    option: Annotated[list[str] | None, Form()] = None,
    explanation: Annotated[str, Form(max_length=4000)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    state: Annotated[str, Form(max_length=20)] = "",
    page: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    """Store a draft of an item's translation, or approve it as the second person (people read it from
    their next message); a refusal (a part or a figure missing, one's own draft) says why and keeps the
    text typed."""
    checked_language(request, admin, language)
    item, ip = _item(session, kind, entry_id), client_ip(request)
    fields = {"question": question, "answer": answer, "text": text, "explanation": explanation}
    typed = _typed(item, fields, option or [])
    # A contest question is named by its contest, the question in the details (as contests' own log does).
    target, about = (
        (f"qa:{item.id}", {})
        if isinstance(item, QAEntry)
        else (f"contest:{item.contest_id}", {"question": str(item.id)})
    )
    try:
        if action == "save":
            content_translations.save(session, admin, language, item, typed)
            accounts.audit(
                session, admin, "content_translation_saved", target, ip, language=language, **about
            )
        else:
            content_translations.approve(session, admin, language, item)
            accounts.audit(
                session, admin, "content_translation_approved", target, ip, language=language, **about
            )
    except translations.TranslationError as exc:
        message = exc.translate(admin_gettext(request))
        kept = {"key": str(item.id), **typed} if action == "save" else None
        return _listing(
            request, session, admin, language, kind, q=q or str(item.id), status=400, error=message, kept=kept
        )
    back = urlencode({"kind": kind, "q": q, "state": state, "page": page})
    return redirect(f"/admin/translations/{language}/content?{back}#e-{item.id}")
