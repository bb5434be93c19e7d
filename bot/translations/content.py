"""Translating content in the workbench: a Q&A entry's question and answer per language, drafted by one
person and approved by a second. People read a translation only once it is approved, and only while
neither it nor the Vietnamese it was checked against has changed since; a draft never reaches them.
The caller commits."""

from __future__ import annotations

import hashlib
import re
from calendar import month_name
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import AdminUser
from bot.db import utcnow
from bot.i18n import SOURCE_LANGUAGE, mark
from bot.qa.models import QAEntry
from bot.translations.models import ContentReview, TranslationState
from bot.translations.service import TranslationError

QA = "qa"
FIELDS = ("question", "answer")
# A document's number and sign (1719/QĐ-TTg, 88/2019/QH14): a number, a slash, and letters somewhere.
DOCUMENT = re.compile(r"\d+(?:/[\w.-]*\w)+")
THOUSANDS = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def source_hash(entry: QAEntry) -> str:
    """The Vietnamese a translation was checked against: when it changes, the approval no longer holds."""
    return hashlib.sha256(f"{entry.question}\x00{entry.answer}".encode()).hexdigest()


def working(entry: QAEntry, language: str) -> dict[str, str]:
    """An entry's current translation into a language (what the editor, imports and the workbench wrote)."""
    found = entry.translations.get(language) or {}
    return {name: str(found.get(name) or "").strip() for name in FIELDS}


# --- what people read -----------------------------------------------------------------------------


def _holds(entry: QAEntry, language: str, review: ContentReview | None) -> bool:
    """Whether an approval still covers the entry's translation: the same text, the same Vietnamese."""
    return (
        review is not None
        and review.reviewed is not None
        and review.reviewed == working(entry, language)
        and review.source_hash == source_hash(entry)
    )


def readable(session: Session, entries: Iterable[QAEntry], language: str | None) -> dict[str, dict[str, str]]:
    """The approved translations people of a language may read, by entry id (one query, none for
    Vietnamese); an entry absent here is shown in Vietnamese."""
    wanted = {e.id: e for e in entries}
    if not language or language == SOURCE_LANGUAGE or not wanted:
        return {}
    rows = session.scalars(
        select(ContentReview).where(
            ContentReview.kind == QA,
            ContentReview.language == language,
            ContentReview.item_id.in_(wanted),
            ContentReview.reviewed.is_not(None),
        )
    )
    return {
        r.item_id: working(wanted[r.item_id], language)
        for r in rows
        if _holds(wanted[r.item_id], language, r)
    }


# --- checks ---------------------------------------------------------------------------------------


def figures(text: str) -> set[str]:
    """The numbers a text states, written one way: 2,5% and 2.5%, 100.000 and 100,000, '14 October' and
    14/10 all reduce to the digits a reader compares."""
    for number, month in enumerate(month_name[1:], start=1):
        text = re.sub(rf"\b{month}\b", str(number), text)
    text = THOUSANDS.sub("", text).replace(",", ".")
    return {n.lstrip("0") or "0" for n in NUMBER.findall(text)}


def documents(text: str) -> set[str]:
    """The document numbers a text cites (1719/QĐ-TTg), which a translation keeps letter for letter."""
    return {d for d in DOCUMENT.findall(text) if any(c.isalpha() for c in d)}


def lost_figures(entry: QAEntry, translation: dict[str, str]) -> list[str]:
    """The numbers and document numbers of the Vietnamese that a translation does not state."""
    source, text = f"{entry.question}\n{entry.answer}", f"{translation['question']}\n{translation['answer']}"
    lost = sorted(d for d in documents(source) if d not in text)
    return lost + sorted(figures(source) - figures(text), key=lambda n: (len(n), n))


# --- the workbench's rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One Q&A entry as the workbench shows it in a language."""

    entry: QAEntry
    translation: dict[str, str]
    review: ContentReview | None
    state: TranslationState
    lost: list[str]

    @property
    def shipped_unreviewed(self) -> bool:
        """A translation that came with the content (nobody drafted it here) and nobody approved yet."""
        return self.state == TranslationState.draft and (
            self.review is None or self.review.drafted_by is None
        )

    @property
    def stale(self) -> bool:
        """Approved once, but the Vietnamese changed since: people read the Vietnamese until re-approved."""
        return (
            self.state != TranslationState.reviewed
            and self.review is not None
            and self.review.reviewed is not None
            and self.review.source_hash != source_hash(self.entry)
        )


def _item(entry: QAEntry, language: str, review: ContentReview | None) -> Item:
    """An entry's translation, its state and the figures it loses."""
    translation = working(entry, language)
    if not translation["answer"]:
        state = TranslationState.untranslated
    else:
        state = TranslationState.reviewed if _holds(entry, language, review) else TranslationState.draft
    lost = lost_figures(entry, translation) if translation["answer"] else []
    return Item(entry, translation, review, state, lost)


def items(session: Session, language: str, *, q: str = "", state: str = "") -> list[Item]:
    """Every Q&A entry in a language by id, filtered by a search (Vietnamese, translation, id) and state."""
    reviews = {
        r.item_id: r
        for r in session.scalars(
            select(ContentReview).where(ContentReview.kind == QA, ContentReview.language == language)
        )
    }
    found = [
        _item(e, language, reviews.get(e.id)) for e in session.scalars(select(QAEntry).order_by(QAEntry.id))
    ]
    if state:
        found = [i for i in found if i.state.value == state]
    needle = q.strip().lower()
    if needle:
        found = [
            i
            for i in found
            if needle
            in " ".join([i.entry.id, i.entry.question, i.entry.answer, *i.translation.values()]).lower()
        ]
    return found


# --- changes --------------------------------------------------------------------------------------


def _review(session: Session, entry_id: str, language: str) -> ContentReview:
    """An entry's review row in a language, created empty when it has none."""
    row = session.scalar(
        select(ContentReview).where(
            ContentReview.kind == QA, ContentReview.item_id == entry_id, ContentReview.language == language
        )
    )
    if row is None:
        row = ContentReview(kind=QA, item_id=entry_id, language=language, source_hash="")
        session.add(row)
    return row


def save(
    session: Session, admin: AdminUser, language: str, entry: QAEntry, question: str, answer: str
) -> Item:
    """Store a draft translation of an entry; people keep reading Vietnamese until a second person approves.
    Refused when empty or when it drops a number or a document number of the Vietnamese."""
    if language == SOURCE_LANGUAGE:
        raise TranslationError(mark("Tiếng Việt là ngôn ngữ gốc, không cần dịch."))
    translation = {"question": question.strip(), "answer": answer.strip()}
    if not translation["question"] or not translation["answer"]:
        raise TranslationError(mark("Cần dịch cả câu hỏi và câu trả lời."))
    lost = lost_figures(entry, translation)
    if lost:
        raise TranslationError(
            mark("Bản dịch thiếu {names}: con số và số hiệu văn bản phải giữ đúng như tiếng Việt."),
            names=", ".join(lost),
        )
    if working(entry, language) != translation:
        entry.translations = {**entry.translations, language: translation}
        note_draft(session, admin, entry.id, language)
    session.flush()
    return _item(entry, language, _review(session, entry.id, language))


def note_draft(session: Session, admin: AdminUser, entry_id: str, language: str) -> None:
    """Record who wrote an entry's translation last, so that person cannot approve it."""
    row = _review(session, entry_id, language)
    row.drafted_by, row.drafted_at = admin.id, utcnow()


def translations_of(session: Session) -> dict[str, dict[str, Any]]:
    """Every entry's translations as they stand, to tell afterwards which ones an editor changed."""
    return {i: dict(t or {}) for i, t in session.execute(select(QAEntry.id, QAEntry.translations))}


def note_edits_since(session: Session, admin: AdminUser, before: dict[str, dict[str, Any]]) -> None:
    """An editor wrote translations outside the workbench (the Q&A editor, a file import): each one they
    changed or added is their draft, which they cannot approve themselves."""
    for entry_id, after in translations_of(session).items():
        old = before.get(entry_id) or {}
        for language, new in after.items():
            was = old.get(language) or {}
            if any(str(was.get(f) or "").strip() != str((new or {}).get(f) or "").strip() for f in FIELDS):
                note_draft(session, admin, entry_id, language)
    session.flush()


def approve(session: Session, admin: AdminUser, language: str, entry: QAEntry) -> Item:
    """A second person approves an entry's current translation; people of that language read it from
    their next question on."""
    translation = working(entry, language)
    if not translation["answer"]:
        raise TranslationError(mark("Chưa có bản dịch để duyệt."))
    row = _review(session, entry.id, language)
    if row.drafted_by == admin.id:
        raise TranslationError(mark("Người dịch không tự duyệt bản dịch của mình: cần một người thứ hai."))
    row.reviewed, row.source_hash = translation, source_hash(entry)
    row.reviewed_by, row.reviewed_at, row.shipped = admin.id, utcnow(), False
    session.flush()
    return _item(entry, language, row)


def mark_shipped(session: Session, entry_ids: Iterable[str], languages: Iterable[str]) -> int:
    """Count the translations shipped with the content in languages the team writes well as approved by
    shipping them (no person's name on it); returns how many were marked. Others stay drafts."""
    marked = 0
    for entry in session.scalars(select(QAEntry).where(QAEntry.id.in_(list(entry_ids)))):
        for language in languages:
            if not working(entry, language)["answer"]:
                continue
            row = _review(session, entry.id, language)
            if _holds(entry, language, row):
                continue
            row.reviewed, row.source_hash, row.shipped = working(entry, language), source_hash(entry), True
            row.drafted_by = row.reviewed_by = None
            row.reviewed_at = utcnow()
            marked += 1
    session.flush()
    return marked
