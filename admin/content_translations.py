"""The workbench's "Nội dung" section: per language, every Q&A entry's question and answer, every
contest question's text, options and explanation, every poll not closed yet (introduction, questions
and choices, as one item) and every draft bulletin's text beside the Vietnamese, with its state; a translator
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
from bot.bulletins import voices
from bot.bulletins.models import Bulletin
from bot.contests.models import ContestQuestion
from bot.i18n import mark
from bot.polls.models import Poll
from bot.qa import service as qa
from bot.qa.models import QAEntry
from bot.runtime import runtime_of
from bot.security import client_ip
from bot.translations import content as content_translations
from bot.translations import service as translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
Kind = Literal["qa", "contest", "poll", "bulletin"]


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
    found: content_translations.Content | None = None
    if kind == "qa":
        found = qa.get(session, entry_id=key)
    elif key.isdigit() and len(key) < 10:
        found = (
            session.get(Poll, int(key))
            if kind == "poll"
            else session.get(Bulletin, int(key))
            if kind == "bulletin"
            else session.get(ContestQuestion, int(key))
        )
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có nội dung này."))
    return found


def _fitted(typed: list[str], count: int) -> list[str]:
    """Repeated fields as many as the Vietnamese has, trimmed, a missing one empty."""
    labels = [label.strip() for label in typed][:count]
    return labels + [""] * (count - len(labels))


def _typed(item: content_translations.Content, fields: dict[str, Any]) -> dict[str, Any]:
    """The translation a form carries, in the item's shape (an option per Vietnamese option, a question
    and a choice per Vietnamese one)."""
    if isinstance(item, QAEntry):
        return {"question": fields["question"].strip(), "answer": fields["answer"].strip()}
    if isinstance(item, Bulletin):
        return {"text": fields["text"].strip()}
    if isinstance(item, Poll):
        source = content_translations.source(item)
        return {
            "title": fields["title"].strip(),
            "intro": fields["intro"].strip(),
            "questions": _fitted(fields["questions"], len(source["questions"])),
            "choices": _fitted(fields["choices"], len(source["choices"])),
        }
    return {
        "text": fields["text"].strip(),
        "options": _fitted(fields["options"], len(item.options)),
        "explanation": fields["explanation"].strip(),
    }


def _target(item: content_translations.Content) -> tuple[str, dict[str, str]]:
    """What the audit log names: the item, a contest question by its contest (the question in the
    details, as contests' own log does)."""
    if isinstance(item, ContestQuestion):
        return f"contest:{item.contest_id}", {"question": str(item.id)}
    return f"{content_translations.kind_of(item)}:{item.id}", {}


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
    title: Annotated[str, Form(max_length=200)] = "",
    intro: Annotated[str, Form(max_length=2000)] = "",
    poll_question: Annotated[list[str] | None, Form()] = None,
    choice: Annotated[list[str] | None, Form()] = None,
    bulletin_text: Annotated[str, Form(max_length=20000)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    state: Annotated[str, Form(max_length=20)] = "",
    page: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    """Store a draft of an item's translation, or approve it as the second person (people read it from
    their next message); a refusal (a part or a figure missing, one's own draft) says why and keeps the
    text typed."""
    checked_language(request, admin, language)
    item, ip = _item(session, kind, entry_id), client_ip(request)
    fields = {
        "question": question,
        "answer": answer,
        "text": bulletin_text if kind == "bulletin" else text,
        "options": option or [],
        "explanation": explanation,
        "title": title,
        "intro": intro,
        "questions": poll_question or [],
        "choices": choice or [],
    }
    typed = _typed(item, fields)
    target, about = _target(item)
    try:
        if action == "save":
            before = content_translations.working(item, language)
            content_translations.save(session, admin, language, item, typed)
            if isinstance(item, Bulletin) and content_translations.working(item, language) != before:
                # Its audio in that language is made again from the new text, as on the bulletin's page.
                version = item.version(language)
                assert version is not None
                voices.remake(session, item, version, runtime_of(request).settings, None)
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
