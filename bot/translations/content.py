"""Translating content in the workbench: a Q&A entry's question and answer, a contest question's text,
options and explanation, a poll's title, introduction, questions and choices (the whole poll as one
item, so it is asked in one language), a bulletin's text, per language, drafted by one person and
approved by a second. People read a translation only once it is approved, and only while neither it
nor the Vietnamese it was checked against has changed since; a draft never reaches them. The caller
commits."""

from __future__ import annotations

import hashlib
import json
import re
from calendar import month_name
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import AdminUser
from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinStatus
from bot.contests.models import ContestQuestion
from bot.contests.service import OPTION_LIMIT
from bot.db import utcnow
from bot.i18n import SOURCE_LANGUAGE, mark
from bot.polls.models import Poll, PollStatus
from bot.polls.service import CHOICE_LIMIT
from bot.qa.models import QAEntry
from bot.translations.models import ContentReview, TranslationState
from bot.translations.service import TranslationError

QA, CONTEST, POLL, BULLETIN = "qa", "contest", "poll", "bulletin"
KINDS = {
    QA: mark("Hỏi đáp"),
    CONTEST: mark("Câu hỏi cuộc thi"),
    POLL: mark("Thăm dò ý kiến"),
    BULLETIN: mark("Bản tin"),
}
QA_FIELDS = ("question", "answer")
# A document's number and sign (1719/QĐ-TTg, 88/2019/QH14): a number, a slash, and letters somewhere.
DOCUMENT = re.compile(r"\d+(?:/[\w.-]*\w)+")
THOUSANDS = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
NUMBER = re.compile(r"\d+(?:\.\d+)?")

Content = QAEntry | ContestQuestion | Poll | Bulletin


def kind_of(item: Content) -> str:
    """Which kind of content an item is, as stored in its review rows."""
    if isinstance(item, QAEntry):
        return QA
    if isinstance(item, Poll):
        return POLL
    return BULLETIN if isinstance(item, Bulletin) else CONTEST


def working(item: Content, language: str) -> dict[str, Any]:
    """An item's current translation into a language, as its editors, imports and the workbench wrote it."""
    if isinstance(item, QAEntry):
        found = item.translations.get(language) or {}
        return {name: str(found.get(name) or "").strip() for name in QA_FIELDS}
    if isinstance(item, Poll):  # the choices of every question, one after another
        return {
            "title": poll_title(item, language),
            "intro": str(item.intro.get(language) or "").strip(),
            "questions": [str(q.texts.get(language) or "").strip() for q in item.questions],
            "choices": [str(c.texts.get(language) or "").strip() for q in item.questions for c in q.choices],
        }
    if isinstance(item, Bulletin):
        return {"text": item.text_in(language).strip()}
    return {
        "text": str(item.texts.get(language) or "").strip(),
        "options": [str(option.get(language) or "").strip() for option in item.options],
        "explanation": str(item.explanation.get(language) or "").strip(),
    }


def poll_title(poll: Poll, language: str) -> str:
    """A poll's title as written in a language: the Vietnamese one is the poll's own title."""
    return (poll.title if language == SOURCE_LANGUAGE else str(poll.titles.get(language) or "")).strip()


def source(item: Content) -> dict[str, Any]:
    """The Vietnamese an item is translated from, in the shape of its translations."""
    if isinstance(item, QAEntry):
        return {"question": item.question, "answer": item.answer}
    return working(item, SOURCE_LANGUAGE)


def _write(item: Content, language: str, translation: dict[str, Any]) -> None:
    """Store a translation where the item keeps it (new containers, so the JSON columns see the change)."""
    if isinstance(item, QAEntry):
        item.translations = {**item.translations, language: translation}
        return
    if isinstance(item, Poll):
        item.titles = {**item.titles, language: translation["title"]}
        item.intro = {**item.intro, language: translation["intro"]}
        labels = iter(translation["choices"])
        for question, text in zip(item.questions, translation["questions"], strict=True):
            question.texts = {**question.texts, language: text}
            for choice in question.choices:
                choice.texts = {**choice.texts, language: next(labels)}
        return
    if isinstance(item, Bulletin):
        bulletins.set_version(item, language, translation["text"], None)
        return
    item.texts = {**item.texts, language: translation["text"]}
    item.options = [
        {**option, language: label}
        for option, label in zip(item.options, translation["options"], strict=True)
    ]
    item.explanation = {**item.explanation, language: translation["explanation"]}


def strings(fields: dict[str, Any]) -> list[str]:
    """Every piece of text of a translation or a source, in order."""
    return [s for value in fields.values() for s in (value if isinstance(value, list) else [value])]


def source_hash(item: Content) -> str:
    """The Vietnamese a translation was checked against: when it changes, the approval no longer holds."""
    return hashlib.sha256(json.dumps(source(item), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# --- what people read -----------------------------------------------------------------------------


def _holds(item: Content, language: str, review: ContentReview | None) -> bool:
    """Whether an approval still covers the item's translation: the same text, the same Vietnamese."""
    return (
        review is not None
        and review.reviewed is not None
        and review.reviewed == working(item, language)
        and review.source_hash == source_hash(item)
    )


def readable(session: Session, items: Iterable[Content], language: str | None) -> dict[str, dict[str, Any]]:
    """The approved translations people of a language may read, by item id (one query, none for
    Vietnamese); an item absent here is shown in Vietnamese."""
    wanted = {(kind_of(i), str(i.id)): i for i in items}
    if not language or language == SOURCE_LANGUAGE or not wanted:
        return {}
    rows = session.scalars(
        select(ContentReview).where(
            ContentReview.kind.in_(sorted({kind for kind, _ in wanted})),
            ContentReview.language == language,
            ContentReview.item_id.in_(sorted({key for _, key in wanted})),
            ContentReview.reviewed.is_not(None),
        )
    )
    found = {(r.kind, r.item_id): r for r in rows}
    return {
        key: working(item, language)
        for (kind, key), item in wanted.items()
        if _holds(item, language, found.get((kind, key)))
    }


def shown_language(session: Session, item: Content, language: str | None) -> str:
    """The language a person reads an item in: theirs when its translation is approved, else Vietnamese
    (never a mix of approved and draft parts)."""
    return language if language and str(item.id) in readable(session, [item], language) else SOURCE_LANGUAGE


def poll_titles(session: Session, found: list[Poll], language: str | None) -> dict[int, str]:
    """The titles people of a language read for some polls, by poll id (one query): theirs where the
    poll is shown in their language, else the Vietnamese."""
    approved = readable(session, found, language)
    return {p.id: approved[str(p.id)]["title"] if str(p.id) in approved else p.title for p in found}


def bulletin_reads_in(session: Session, bulletin: Bulletin, language: str) -> bool:
    """Whether people of a language get a bulletin's own version in it (text and the audio made from it):
    the Vietnamese, a version with no text (a recording), a bulletin with no Vietnamese to translate from
    (its versions are the official's own), or an approved translation."""
    if language == SOURCE_LANGUAGE or not bulletin.text_in(language) or not bulletin.text_in(SOURCE_LANGUAGE):
        return True
    return str(bulletin.id) in readable(session, [bulletin], language)


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


def lost_figures(item: Content, translation: dict[str, Any]) -> list[str]:
    """The numbers and document numbers of the Vietnamese that a translation does not state."""
    said, text = "\n".join(strings(source(item))), "\n".join(strings(translation))
    lost = sorted(d for d in documents(said) if d not in text)
    return lost + sorted(figures(said) - figures(text), key=lambda n: (len(n), n))


def settled(item: Content) -> bool:
    """Whether an item's translations can no longer change: a bulletin once sent or scheduled (everyone
    in a language gets the same message, however long the send takes), a poll once closed."""
    if isinstance(item, Bulletin):
        return item.status != BulletinStatus.draft
    return isinstance(item, Poll) and item.status == PollStatus.closed


def _incomplete(item: Content, translation: dict[str, Any]) -> TranslationError | None:
    """A refusal when a part the Vietnamese has is not translated (people would read a mix), else None."""
    pairs = zip(strings(source(item)), strings(translation), strict=True)
    if any(said.strip() and not text for said, text in pairs):
        return TranslationError(mark("Cần dịch đủ mọi phần mà câu gốc có."))
    return None


def _refusal(item: Content, translation: dict[str, Any]) -> TranslationError | None:
    """Why a translation cannot be saved, or None: every part the Vietnamese has is translated, options
    and choices fit their buttons, no number or document number is lost."""
    missing = _incomplete(item, translation)
    if missing is not None:
        return missing
    if any(len(label) > OPTION_LIMIT for label in translation.get("options", [])):
        return TranslationError(mark("Phương án dài quá (tối đa {limit} ký tự)."), limit=OPTION_LIMIT)
    if any(len(label) > CHOICE_LIMIT for label in translation.get("choices", [])):
        return TranslationError(mark("Lựa chọn dài quá (tối đa {limit} ký tự)."), limit=CHOICE_LIMIT)
    lost = lost_figures(item, translation)
    if lost:
        return TranslationError(
            mark("Bản dịch thiếu {names}: con số và số hiệu văn bản phải giữ đúng như tiếng Việt."),
            names=", ".join(lost),
        )
    return None


# --- the workbench's rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One piece of content as the workbench shows it in a language."""

    item: Content
    source: dict[str, Any]
    translation: dict[str, Any]
    review: ContentReview | None
    state: TranslationState
    lost: list[str]

    @property
    def key(self) -> str:
        """The item's id as forms carry it."""
        return str(self.item.id)

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
            and self.review.source_hash != source_hash(self.item)
        )


def _row(item: Content, language: str, review: ContentReview | None) -> Item:
    """An item's translation, its state and the figures it loses."""
    translation = working(item, language)
    if not any(strings(translation)):
        state, lost = TranslationState.untranslated, []
    else:
        state = TranslationState.reviewed if _holds(item, language, review) else TranslationState.draft
        lost = lost_figures(item, translation)
    return Item(item, source(item), translation, review, state, lost)


def _listed(session: Session, kind: str) -> Iterable[Content]:
    """The items of a kind the workbench lists: Q&A by id, contest questions by contest, polls not closed
    yet and draft bulletins that have a Vietnamese text (newest first), the only ones still translated."""
    if kind == QA:
        return session.scalars(select(QAEntry).order_by(QAEntry.id))
    if kind == POLL:
        return session.scalars(select(Poll).where(Poll.status != PollStatus.closed).order_by(Poll.id.desc()))
    if kind == BULLETIN:
        drafts = select(Bulletin).where(Bulletin.status == BulletinStatus.draft).order_by(Bulletin.id.desc())
        return [b for b in session.scalars(drafts) if any(strings(source(b)))]
    return session.scalars(select(ContestQuestion).order_by(ContestQuestion.contest_id, ContestQuestion.id))


def items(session: Session, kind: str, language: str, *, q: str = "", state: str = "") -> list[Item]:
    """Every item of a kind in a language that is still translated, filtered by a search (Vietnamese,
    translation, id) and a state."""
    reviews = {
        r.item_id: r
        for r in session.scalars(
            select(ContentReview).where(ContentReview.kind == kind, ContentReview.language == language)
        )
    }
    found = [_row(i, language, reviews.get(str(i.id))) for i in _listed(session, kind)]
    if state:
        found = [i for i in found if i.state.value == state]
    needle = q.strip().lower()
    if needle:
        found = [
            i
            for i in found
            if needle in " ".join([i.key, *strings(i.source), *strings(i.translation)]).lower()
        ]
    return found


# --- changes --------------------------------------------------------------------------------------


def _review(session: Session, kind: str, key: str, language: str) -> ContentReview:
    """An item's review row in a language, created empty when it has none."""
    row = session.scalar(
        select(ContentReview).where(
            ContentReview.kind == kind, ContentReview.item_id == key, ContentReview.language == language
        )
    )
    if row is None:
        row = ContentReview(kind=kind, item_id=key, language=language, source_hash="")
        session.add(row)
    return row


def _check_open(item: Content) -> None:
    """Refuse to change the translations of an item people already receive as it stands."""
    if settled(item):
        raise TranslationError(mark("Nội dung này đã gửi đi hoặc đã kết thúc: bản dịch không đổi được nữa."))


def save(
    session: Session, admin: AdminUser, language: str, item: Content, translation: dict[str, Any]
) -> Item:
    """Store a draft translation; people keep reading Vietnamese until a second person approves it.
    Refused when a part is missing or a number or a document number of the Vietnamese is lost."""
    if language == SOURCE_LANGUAGE:
        raise TranslationError(mark("Tiếng Việt là ngôn ngữ gốc, không cần dịch."))
    _check_open(item)
    problem = _refusal(item, translation)
    if problem is not None:
        raise problem
    if working(item, language) != translation:
        _write(item, language, translation)
        note_draft(session, admin, kind_of(item), str(item.id), language)
    session.flush()
    return _row(item, language, _review(session, kind_of(item), str(item.id), language))


def note_draft(session: Session, admin: AdminUser, kind: str, key: str, language: str) -> None:
    """Record who wrote an item's translation last, so that person cannot approve it."""
    row = _review(session, kind, key, language)
    row.drafted_by, row.drafted_at = admin.id, utcnow()


def translations_in(item: Content | None, languages: Iterable[str]) -> dict[str, dict[str, Any]]:
    """An item's translations into some languages as they stand (none for an item not written yet), to
    tell afterwards which ones its own page changed."""
    return {
        lang: working(item, lang) if item is not None else {} for lang in languages if lang != SOURCE_LANGUAGE
    }


def note_item_edits(
    session: Session, admin: AdminUser, item: Content, before: dict[str, dict[str, Any]]
) -> None:
    """An editor wrote an item's translations on its own page (a poll's form, a bulletin's): each one they
    changed or added is their draft, which they cannot approve themselves."""
    for language, was in before.items():
        now = working(item, language)
        if now != was and any(strings(now)):
            note_draft(session, admin, kind_of(item), str(item.id), language)
    session.flush()


def translations_of(session: Session) -> dict[str, dict[str, Any]]:
    """Every Q&A entry's translations as they stand, to tell afterwards which ones an editor changed."""
    return {i: dict(t or {}) for i, t in session.execute(select(QAEntry.id, QAEntry.translations))}


def note_edits_since(session: Session, admin: AdminUser, before: dict[str, dict[str, Any]]) -> None:
    """An editor wrote Q&A translations outside the workbench (the Q&A editor, a file import): each one
    they changed or added is their draft, which they cannot approve themselves."""
    for entry_id, after in translations_of(session).items():
        old = before.get(entry_id) or {}
        for language, new in after.items():
            was = old.get(language) or {}
            if any(str(was.get(f) or "").strip() != str((new or {}).get(f) or "").strip() for f in QA_FIELDS):
                note_draft(session, admin, QA, entry_id, language)
    session.flush()


def approve(session: Session, admin: AdminUser, language: str, item: Content) -> Item:
    """A second person approves an item's current translation; people of that language read it from
    their next message on."""
    _check_open(item)
    translation = working(item, language)
    if not any(strings(translation)):
        raise TranslationError(mark("Chưa có bản dịch để duyệt."))
    row = _review(session, kind_of(item), str(item.id), language)
    if row.drafted_by == admin.id:
        raise TranslationError(mark("Người dịch không tự duyệt bản dịch của mình: cần một người thứ hai."))
    missing = _incomplete(item, translation)  # written outside the workbench: a poll half translated
    if missing is not None:
        raise missing
    row.reviewed, row.source_hash = translation, source_hash(item)
    row.reviewed_by, row.reviewed_at, row.shipped = admin.id, utcnow(), False
    session.flush()
    return _row(item, language, row)


@dataclass(frozen=True)
class Approved:
    """A Q&A translation a person approved, as it stood before a re-import of the shipped content."""

    entry_id: str
    language: str
    translation: dict[str, Any]
    source_hash: str


def approved_by_people(session: Session, entry_ids: Iterable[str]) -> list[Approved]:
    """The Q&A translations of these entries whose approval by a person holds now, to keep through a
    re-import of the shipped content (which writes the file's translations over them)."""
    wanted = list(entry_ids)
    reviews = session.scalars(
        select(ContentReview).where(
            ContentReview.kind == QA,
            ContentReview.item_id.in_(wanted),
            ContentReview.reviewed_by.is_not(None),
        )
    )
    kept = []
    for review in reviews:
        entry = session.get(QAEntry, review.item_id)
        if entry is not None and _holds(entry, review.language, review):
            kept.append(Approved(entry.id, review.language, dict(review.reviewed or {}), review.source_hash))
    return kept


def keep_approved(session: Session, approved: Iterable[Approved]) -> None:
    """Put back the translations people approved over what a re-import wrote, where the Vietnamese is
    still the one they checked: their approval holds again. Where it changed, the approval lapses: the
    import's own translation stays, or, when it brought none in that language, the approved text comes
    back as a draft to check against the new Vietnamese."""
    for found in approved:
        entry = session.get(QAEntry, found.entry_id)
        if entry is None:
            continue
        now = working(entry, found.language)
        if source_hash(entry) == found.source_hash or not any(strings(now)):
            _write(entry, found.language, found.translation)
    session.flush()


def mark_shipped(session: Session, entry_ids: Iterable[str], languages: Iterable[str]) -> int:
    """Count the Q&A translations shipped with the content in languages the team writes well as approved
    by shipping them (no person's name on it); returns how many were marked. Others stay drafts."""
    marked = 0
    for entry in session.scalars(select(QAEntry).where(QAEntry.id.in_(list(entry_ids)))):
        for language in languages:
            if not working(entry, language)["answer"]:
                continue
            row = _review(session, QA, entry.id, language)
            if _holds(entry, language, row):
                continue
            row.reviewed, row.source_hash, row.shipped = working(entry, language), source_hash(entry), True
            row.drafted_by = row.reviewed_by = None
            row.reviewed_at = utcnow()
            marked += 1
    session.flush()
    return marked
