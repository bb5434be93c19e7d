"""Q&A entries: import with row-level errors, export, and what the engine answers with. Never commits."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import ColumnElement, CursorResult, String, and_, case, exists, func, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.areas import service as areas
from bot.db import utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.messages.models import Direction, Message
from bot.people.models import Person
from bot.qa.engine import Entry
from bot.qa.models import EntryStatus, ForwardReason, OpenQuestion, PassageVector, QAEntry, QuestionStatus
from bot.qa.normalize import syllables, words
from bot.reports.models import FORWARDED, record_question
from bot.text import fold

# Entry ids travel in button payloads ("qa_down:<id>"), which Telegram limits to 64 bytes.
MAX_ID = 48


@dataclass
class ImportReport:
    """What an import did, and every row it refused with the reason."""

    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def _strings(value: Any) -> list[str] | None:
    """A list of non-empty strings, or None when the value is not one."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    return None


def _date(value: Any) -> date | str | None:
    """A date from YAML (date or ISO text); a string return is the bad value."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class RowError:
    """Why one imported row was refused: a catalog message id with its values, translated where shown."""

    line: int
    entry_id: str
    msgid: str
    params: tuple[tuple[str, Any], ...] = ()

    def text(self, gettext: Callable[[str], str]) -> str:
        """The message in a language: 'dòng 3 (nuoc-sach): thiếu 'answer''."""
        where = gettext("dòng {line}").format(line=self.line)
        if self.entry_id:
            where += f" ({self.entry_id})"
        return f"{where}: {gettext(self.msgid).format(**dict(self.params))}"

    def __str__(self) -> str:
        return self.text(lambda msgid: msgid)


def validate_row(row: Any, line: int) -> dict[str, Any] | RowError:
    """One imported row checked field by field, or why it is refused."""
    if not isinstance(row, dict):
        return RowError(line, "", mark("phải là một mục có các trường id, question, answer"))
    entry_id, question, answer = row.get("id"), row.get("question"), row.get("answer")
    if not isinstance(entry_id, str) or not entry_id.strip() or len(entry_id) > MAX_ID:
        return RowError(line, "", mark("thiếu 'id' (tối đa {n} ký tự)"), (("n", MAX_ID),))

    def refuse(msgid: str, **params: Any) -> RowError:
        return RowError(line, str(entry_id), msgid, tuple(params.items()))

    if not isinstance(question, str) or not question.strip():
        return refuse(mark("thiếu 'question'"))
    if not isinstance(answer, str) or not answer.strip():
        return refuse(mark("thiếu 'answer'"))
    alternatives, tags = _strings(row.get("alternatives")), _strings(row.get("tags"))
    if alternatives is None or tags is None:
        return refuse(mark("'alternatives' và 'tags' phải là danh sách chữ"))
    source = row.get("source") or {}
    if not isinstance(source, dict):
        return refuse(mark("'source' phải có 'document' và 'section'"))
    valid_from, valid_to = _date(row.get("valid_from")), _date(row.get("valid_to"))
    for value in (valid_from, valid_to):
        if isinstance(value, str):
            return refuse(mark("ngày không hợp lệ: {value}"), value=value)
    status = row.get("status", EntryStatus.published.value)
    if status not in {s.value for s in EntryStatus}:
        return refuse(mark("'status' phải là draft hoặc published"))
    translations = row.get("translations") or {}
    if not isinstance(translations, dict):
        return refuse(mark("'translations' phải theo dạng ngôn ngữ -> câu hỏi, câu trả lời"))
    area = _area(row.get("area"))
    if area is None:
        return refuse(mark("'area' phải có 'provinces' và/hoặc 'communes' là danh sách mã số"))
    unknown = [c for c in area[0] if areas.get_province(c) is None]
    unknown += [c for c in area[1] if areas.get_commune(c) is None]
    if unknown:  # an answer for a place that does not exist would never reach anyone
        return refuse(mark("'area': không có tỉnh, xã mang mã {codes}"), codes=", ".join(map(str, unknown)))
    return {
        "id": entry_id.strip(),
        "question": question.strip(),
        "answer": answer.strip(),
        "alternatives": alternatives,
        "tags": tags,
        "translations": translations,
        "source_document": str(source.get("document", "")).strip(),
        "source_section": str(source.get("section", "")).strip(),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "status": EntryStatus(status),
        "provinces": area[0],
        "communes": area[1],
    }


def _area(value: Any) -> tuple[list[int], list[int]] | None:
    """Province and commune codes from {provinces: [..], communes: [..]}; nothing means nationwide."""
    if value is None:
        return [], []
    if not isinstance(value, dict) or set(value) - {"provinces", "communes"}:
        return None
    lists = [value.get("provinces") or [], value.get("communes") or []]
    if not all(isinstance(v, list) and all(isinstance(c, int) and c > 0 for c in v) for v in lists):
        return None
    return sorted(set(lists[0])), sorted(set(lists[1]))


def import_rows(
    session: Session, rows: list[Any], *, skip_bad: bool = False, first_line: int = 1
) -> ImportReport:
    """Create or update entries; nothing is written when any row is bad, unless `skip_bad`. Rows are
    numbered from `first_line` (2 for a sheet under its header row); None marks a blank row."""
    report = ImportReport()
    valid: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=first_line):
        if row is None:
            continue
        checked = validate_row(row, line)
        if isinstance(checked, dict) and checked["id"] in seen:
            checked = RowError(line, checked["id"], mark("'id' bị trùng trong tệp"))
        if isinstance(checked, RowError):
            report.errors.append(checked)
            continue
        seen.add(checked["id"])
        valid.append(checked)
    if report.errors and not skip_bad:
        return report
    for values in valid:
        entry = session.get(QAEntry, values["id"])
        if entry is None:
            session.add(QAEntry(**values))
            report.created += 1
        else:
            for key, value in values.items():
                setattr(entry, key, value)
            report.updated += 1
    session.flush()
    return report


def export_rows(session: Session) -> list[dict[str, Any]]:
    """Every entry in the import format, so an export can be edited and imported again."""
    return [entry_row(e) for e in session.scalars(select(QAEntry).order_by(QAEntry.id))]


def entry_row(e: QAEntry) -> dict[str, Any]:
    """One entry in the import format (what the editor and the exports show)."""
    row: dict[str, Any] = {"id": e.id, "question": e.question, "answer": e.answer}
    if e.alternatives:
        row["alternatives"] = e.alternatives
    row["tags"] = e.tags
    if e.source_document or e.source_section:
        row["source"] = {"document": e.source_document, "section": e.source_section}
    if e.translations:
        row["translations"] = e.translations
    if not e.nationwide:
        row["area"] = {k: v for k, v in (("provinces", e.provinces), ("communes", e.communes)) if v}
    for key in ("valid_from", "valid_to"):
        if getattr(e, key) is not None:
            row[key] = getattr(e, key).isoformat()
    row["status"] = e.status.value
    return row


def delete(session: Session, *, entry: QAEntry) -> None:
    """Remove an entry; questions once turned into it keep their text and answer."""
    session.delete(entry)
    session.flush()


def _answerable(today: date) -> ColumnElement[bool]:
    """Published and within its validity dates."""
    return and_(
        QAEntry.status == EntryStatus.published,
        or_(QAEntry.valid_from.is_(None), QAEntry.valid_from <= today),
        or_(QAEntry.valid_to.is_(None), QAEntry.valid_to >= today),
    )


def published_today(session: Session, today: date, ids: Sequence[str] | None = None) -> list[QAEntry]:
    """Entries the bot may answer with on the deployment's local day `today` (only those of `ids` when
    given: a hit of an index built before an entry was withdrawn is not answered with)."""
    stmt = select(QAEntry).where(_answerable(today))
    if ids is not None:
        stmt = stmt.where(QAEntry.id.in_(ids))
    return list(session.scalars(stmt.order_by(QAEntry.id)))


def any_published_today(session: Session, today: date) -> bool:
    """Whether there is anything to answer with, without building (and embedding) the index."""
    return bool(session.scalar(select(exists().where(_answerable(today)))))


def as_engine_entries(entries: list[QAEntry]) -> list[Entry]:
    """What the search engine indexes of each entry."""
    return [
        Entry(
            e.id,
            e.question,
            e.answer,
            tuple(e.alternatives),
            tuple(e.tags),
            tuple(e.provinces),
            tuple(e.communes),
        )
        for e in entries
    ]


def get(session: Session, *, entry_id: str) -> QAEntry | None:
    """An entry by id."""
    return session.get(QAEntry, entry_id)


def signature(session: Session, today: date) -> tuple[date, int, str]:
    """What the index is built from: changes when an answerable entry is added, edited, withdrawn or
    removed, and when the local day changes (validity dates), never when an entry is only served or
    rated (see count_served) nor when a draft is edited."""
    count, latest = session.execute(
        select(func.count(QAEntry.id), func.max(QAEntry.updated_at)).where(_answerable(today))
    ).one()
    return today, int(count), str(latest)


def topics(entries: list[QAEntry]) -> list[str]:
    """Tags of published entries, most used first."""
    counts = Counter(tag for e in entries for tag in e.tags)
    return [tag for tag, _ in counts.most_common()]


def count_served(session: Session, entry_id: str) -> None:
    """One more person was given this answer: an atomic increment that leaves the content's version (and
    so the index) alone, and loses no count when many people are answered at once."""
    _increment(session, entry_id, QAEntry.served_count)


def count_rating(session: Session, entry_id: str, *, helpful: bool) -> None:
    """A 👍 or 👎 on an answer, counted like `count_served`."""
    _increment(session, entry_id, QAEntry.helpful_count if helpful else QAEntry.unhelpful_count)


def _increment(session: Session, entry_id: str, column: Any) -> None:
    """UPDATE … SET column = column + 1, with updated_at set to itself so its onupdate does not fire."""
    session.execute(
        update(QAEntry)
        .where(QAEntry.id == entry_id)
        .values({column: column + 1, QAEntry.updated_at: QAEntry.updated_at})
        .execution_options(synchronize_session=False)
    )


def ask_officials(
    session: Session,
    *,
    person: Person,
    text: str,
    reason: ForwardReason,
    answered_with: str | None = None,
    offered: list[str] | None = None,
) -> OpenQuestion:
    """Put a question in the officials' inbox for the person's commune, with what the bot had answered or
    offered, so the official sees where it went wrong."""
    question = OpenQuestion(
        person_id=person.id,
        commune_code=person.commune_code,
        village_id=person.village_id,
        text=text[:4000],
        reason=reason,
        answered_with=answered_with,
        offered=list(offered or []),
    )
    session.add(question)
    record_question(session, person, FORWARDED, outcome=reason.value)
    session.flush()
    return question


def questions(
    session: Session,
    status: QuestionStatus,
    commune_codes: list[int] | None,
    *,
    offset: int = 0,
    limit: int = 100,
    asked_before: datetime | None = None,
) -> tuple[list[OpenQuestion], int]:
    """One page of questions in one state, limited to some communes (and to those asked before a moment:
    waiting longer than some days), with the total: the longest waiting first, or the latest answered
    first."""
    stmt = select(OpenQuestion).where(OpenQuestion.status == status)
    if asked_before is not None:
        stmt = stmt.where(OpenQuestion.created_at < asked_before)
    if commune_codes is not None:
        stmt = stmt.where(OpenQuestion.commune_code.in_(commune_codes))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if status == QuestionStatus.open:
        stmt = stmt.order_by(OpenQuestion.created_at, OpenQuestion.id)
    else:
        stmt = stmt.order_by(OpenQuestion.answered_at.desc(), OpenQuestion.id.desc())
    return list(session.scalars(stmt.offset(offset).limit(limit))), total


@dataclass(frozen=True)
class Missed:
    """A question Loa Bản could not answer well, in the person's own words, whether or not they sent it."""

    text: str
    reason: ForwardReason  # not_covered, unsure or unhelpful (the 👎 came after an answer)
    entry_id: str | None  # the entry that got the 👎
    commune_code: int | None
    at: datetime


def missed(session: Session, commune_codes: Collection[int] | None, *, limit: int = 20) -> list[Missed]:
    """The latest times Loa Bản offered to send a question on, read back from the stored messages: the
    offer carries the 'qa_send' button; with 'topics' and no question ('qa:…') when it had nothing, with
    questions and 'topics' when unsure, with 'menu' but no 'topics' after a 👎 (the answer before it names
    the entry); the person's words are what they sent before."""
    stmt = (
        select(Message.id, Message.urn, Message.payload, Message.created_at, Person.commune_code)
        .join(Person, Person.id == Message.person_id)
        .where(Message.direction == Direction.outbound, sql_cast(Message.payload, String).like("%qa_send%"))
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if commune_codes is not None:
        stmt = stmt.where(Person.commune_code.in_(commune_codes))
    found = []
    for offer_id, urn, payload, at, commune in session.execute(stmt).all():
        buttons = [str(b.get("payload", "")) for b in (payload or {}).get("buttons", [])]
        asked_before, reason, entry = offer_id, ForwardReason.unsure, None
        if "topics" in buttons and not any(b.startswith("qa:") for b in buttons):
            reason = ForwardReason.not_covered
        elif "topics" not in buttons and "menu" in buttons:
            reason = ForwardReason.unhelpful
            answer = _last(session, urn, Direction.outbound, offer_id, "%qa_down:%")
            if answer is not None:
                asked_before = answer.id
                taps = [str(b.get("payload", "")) for b in (answer.payload or {}).get("buttons", [])]
                entry = next((t.removeprefix("qa_down:") for t in taps if t.startswith("qa_down:")), None)
        asked = _last(session, urn, Direction.inbound, asked_before)
        if asked is None or asked.kind != "text" or not asked.text:
            continue
        found.append(Missed(asked.text, reason, entry, commune, at))
    return found


def _last(
    session: Session, urn: str, direction: Direction, before: int, payload_like: str | None = None
) -> Message | None:
    """The last message of one address and direction before another, optionally by what its payload holds."""
    stmt = select(Message).where(Message.urn == urn, Message.direction == direction, Message.id < before)
    if payload_like is not None:
        stmt = stmt.where(sql_cast(Message.payload, String).like(payload_like))
    return session.scalars(stmt.order_by(Message.id.desc()).limit(1)).first()


def entry_questions(session: Session, entry_ids: Collection[str]) -> dict[str, str]:
    """The questions of some entries by id, to show what the bot answered or offered in their words."""
    if not entry_ids:
        return {}
    rows = session.execute(select(QAEntry.id, QAEntry.question).where(QAEntry.id.in_(list(entry_ids))))
    return {entry_id: question for entry_id, question in rows}


def get_question(session: Session, question_id: int) -> OpenQuestion | None:
    """An open or answered question by id."""
    return session.get(OpenQuestion, question_id)


def answer_question(session: Session, question: OpenQuestion, *, answer: str, admin_id: int) -> None:
    """Record an official's answer; the caller queues it to the person."""
    question.answer = answer.strip()
    question.status = QuestionStatus.answered
    question.answered_by = admin_id
    question.answered_at = utcnow()


def draft_from_question(question: OpenQuestion, *, source: str) -> dict[str, Any]:
    """An answered question as a new draft in the import format: the person's words become another wording
    of a clear question the official still has to write, the official's answer the answer, the person's
    commune the area, so an answer given to one person never reaches others unreviewed."""
    return {
        "question": "",
        "alternatives": [question.text],
        "answer": question.answer,
        "tags": [],
        "source": {"document": source, "section": ""},
        "area": {"communes": [question.commune_code]} if question.commune_code else None,
        "status": EntryStatus.draft.value,
    }


def entry_from_question(session: Session, question: OpenQuestion, row: dict[str, Any]) -> ImportReport:
    """Save the entry an official made from an answered question, through the import's checks and under
    an id made from its question; the question is linked to it, once: a second try is refused."""
    base = "-".join(fold(w) for w in words(str(row.get("question") or "")))[: MAX_ID - 6].strip("-")
    entry_id, n = base or "cau-hoi", 1
    while session.get(QAEntry, entry_id) is not None:
        n += 1
        entry_id = f"{base or 'cau-hoi'}-{n}"
    report = import_rows(session, [row | {"id": entry_id}])
    if report.errors:
        return report
    linked = cast(
        CursorResult[Any],
        session.execute(
            update(OpenQuestion)
            .where(OpenQuestion.id == question.id, OpenQuestion.entry_id.is_(None))
            .values(entry_id=entry_id)
        ),
    )
    if linked.rowcount != 1:
        raise Refusal(mark("Câu hỏi này đã thành mục hỏi đáp."))
    return report


def get_all(
    session: Session, *, query: str, status: EntryStatus | None = None, offset: int, limit: int
) -> tuple[list[QAEntry], int]:
    """One page of entries, with the total count: every folded syllable of the query must occur in the
    entry's id, question, other wordings, answer or tags (typed without marks, or in shorthand, as the bot
    reads it); entries holding the syllables as one phrase come first."""
    stmt = select(QAEntry)
    if status is not None:
        stmt = stmt.where(QAEntry.status == status)
    ranked = stmt.order_by(QAEntry.id)
    if forms := _search_forms(query):
        has = QAEntry.search_text.contains
        stmt = stmt.where(or_(*(and_(*(has(f" {s} ") for s in form)) for form in forms)))
        phrase = or_(*(has(f" {' '.join(form)} ") for form in forms))
        ranked = stmt.order_by(case((phrase, 0), else_=1), QAEntry.id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(session.scalars(ranked.offset(offset).limit(limit))), total


def _search_forms(query: str) -> list[list[str]]:
    """The query's folded syllables with shorthand expanded, as the bot reads them, and as typed: 'bhyt'
    finds 'bảo hiểm y tế' and an answer that writes 'BHYT'. Syllables are letters and digits only, so
    they need no LIKE escaping."""
    forms = [syllables(query), [fold(w) for w in words(query)]]
    return [form for i, form in enumerate(forms) if form and form not in forms[:i]]


def any_entries(session: Session) -> bool:
    """Whether the knowledge base holds anything at all, to tell an empty one from a search that missed."""
    return session.scalar(select(QAEntry.id).limit(1)) is not None


def _vector_key(model: str, text: str) -> str:
    """Where a text's vector by a model is kept."""
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()


def load_vectors(session: Session, model: str, texts: list[str]) -> dict[str, np.ndarray]:
    """Vectors kept for these texts by this model (float32), where there are any."""
    keys = {_vector_key(model, t): t for t in texts}
    found: dict[str, np.ndarray] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), 500):  # bound the IN list
        chunk = wanted[start : start + 500]
        for row in session.scalars(select(PassageVector).where(PassageVector.key.in_(chunk))):
            found[keys[row.key]] = np.frombuffer(row.data, dtype=np.float32)
    return found


def save_vectors(session: Session, model: str, vectors: dict[str, np.ndarray]) -> None:
    """Keep new vectors; one another process kept meanwhile is left as it is (the key is the text's hash,
    so both computed the same vector), without failing either process's transaction."""
    if not vectors:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {"key": _vector_key(model, text), "data": np.asarray(vector, dtype=np.float32).tobytes()}
        for text, vector in vectors.items()
    ]
    session.execute(insert(PassageVector).on_conflict_do_nothing(index_elements=["key"]), rows)
