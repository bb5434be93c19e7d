"""Writing contests, their rounds and question bank; registering people; drawing, taking and scoring
attempts once; ranking a round and counting its participation. Never commits: the caller owns the
transaction."""

from __future__ import annotations

import io
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from openpyxl import load_workbook
from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.bulletins.service import Audience
from bot.contests.models import Attempt, Contest, ContestAnswer, ContestQuestion, ContestRound, Entrant
from bot.db import utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.people import service as people
from bot.people.models import Person
from bot.polls.service import (
    GROUP_FIELDS,
    GROUPS,
    Recipient,
    answered_from,
    audience_of,
    may_run,
    open_to,
    text_in,
)
from bot.qa.models import QAEntry
from bot.qa.service import RowError

SOURCE = "vi"
MIN_OPTIONS, MAX_OPTIONS = 2, 4
LETTERS = "ABCD"
OPTION_LIMIT = 100
MAX_DRAW = 30
NO_PREDICTION = 1 << 30  # ranks after every prediction
FIELDS = ("name", "birth_year", "phone", "village")  # what a registration may ask, in this order
__all__ = ["GROUPS", "audience_of", "may_run", "open_to", "text_in"]


class ContestError(Refusal):
    """A refused contest action (missing text, an impossible period, a question without a right answer)."""


@dataclass(frozen=True)
class ContestDraft:
    """A contest's form: the service checks it before anything is stored."""

    title: str
    rules: str
    prizes: str
    audience: Audience
    required: tuple[str, ...] = ()


def write(
    session: Session, contest: Contest | None, draft: ContestDraft, *, created_by: int | None = None
) -> Contest:
    """A new contest, or one rewritten (its rounds and questions are kept)."""
    title = draft.title.strip()
    if not title:
        raise ContestError(mark("Cuộc thi cần có tiêu đề."))
    if len(title) > 200:
        raise ContestError(mark("Tiêu đề dài quá (tối đa 200 ký tự)."))
    if contest is None:
        contest = Contest(created_by=created_by)
        session.add(contest)
    contest.title = title
    contest.rules, contest.prizes = draft.rules.strip(), draft.prizes.strip()
    contest.audience = draft.audience.to_json()
    contest.required = [f for f in FIELDS if f in draft.required]
    session.flush()
    return contest


@dataclass(frozen=True)
class RoundDraft:
    """A round's form: a title, its period (moments, from local time) and how many questions it draws."""

    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    draw: int


def write_round(
    session: Session, contest: Contest, round_: ContestRound | None, draft: RoundDraft
) -> ContestRound:
    """A new round of a contest, or one changed before anyone answered it."""
    if not draft.title.strip():
        raise ContestError(mark("Vòng thi cần có tên."))
    if draft.starts_at is None or draft.ends_at is None:
        raise ContestError(mark("Vòng thi cần thời điểm bắt đầu và kết thúc."))
    if draft.ends_at <= draft.starts_at:
        raise ContestError(mark("Thời điểm kết thúc phải sau thời điểm bắt đầu."))
    if not 1 <= draft.draw <= MAX_DRAW:
        raise ContestError(mark("Số câu mỗi lượt thi từ 1 đến {n}."), n=MAX_DRAW)
    if round_ is None:
        round_ = ContestRound(contest_id=contest.id)
        session.add(round_)
    elif session.scalar(select(func.count(Attempt.id)).where(Attempt.round_id == round_.id)):
        raise ContestError(mark("Vòng thi đã có người dự thi nên không sửa được."))
    round_.title, round_.starts_at, round_.ends_at, round_.draw = (
        draft.title.strip()[:200],
        draft.starts_at,
        draft.ends_at,
        draft.draw,
    )
    session.flush()
    return round_


@dataclass(frozen=True)
class QuestionDraft:
    """A bank question as written or imported: texts, options and explanation per language, the index of
    the right option and the legal source."""

    texts: dict[str, str]
    options: tuple[dict[str, str], ...]
    correct: int
    explanation: dict[str, str] = field(default_factory=dict)
    source: str = ""


def check_question(draft: QuestionDraft) -> None:
    """Refuse a question people could not answer fairly: no Vietnamese text, 2–4 options, one right."""
    if not draft.texts.get(SOURCE, "").strip():
        raise ContestError(mark("Câu hỏi cần có nội dung tiếng Việt."))
    if not MIN_OPTIONS <= len(draft.options) <= MAX_OPTIONS:
        raise ContestError(
            mark("Câu hỏi cần từ {low} đến {high} phương án."), low=MIN_OPTIONS, high=MAX_OPTIONS
        )
    if any(not option.get(SOURCE, "").strip() for option in draft.options):
        raise ContestError(mark("Mỗi phương án cần có nội dung tiếng Việt."))
    if any(len(label) > OPTION_LIMIT for option in draft.options for label in option.values()):
        raise ContestError(mark("Phương án dài quá (tối đa {limit} ký tự)."), limit=OPTION_LIMIT)
    if not 0 <= draft.correct < len(draft.options):
        raise ContestError(mark("Hãy chọn phương án đúng."))


def _clean(texts: dict[str, str]) -> dict[str, str]:
    """Texts per language without the empty ones."""
    return {lang: text.strip() for lang, text in texts.items() if text and text.strip()}


def write_question(
    session: Session, contest: Contest, question: ContestQuestion | None, draft: QuestionDraft
) -> ContestQuestion:
    """A new bank question, or one rewritten (answers already given keep whether they were right)."""
    check_question(draft)
    if question is None:
        question = ContestQuestion(contest_id=contest.id)
        session.add(question)
    question.texts = _clean(draft.texts)
    question.options = [_clean(option) for option in draft.options]
    question.correct = draft.correct
    question.explanation = _clean(draft.explanation)
    question.source = draft.source.strip()[:300]
    session.flush()
    return question


def option_label(question: ContestQuestion, index: int, language: str | None) -> str:
    """'B. <the option in the person's language>'."""
    return f"{LETTERS[index]}. {text_in(question.options[index], language)}"


def from_entry(entry: QAEntry) -> QuestionDraft:
    """A question begun from a Q&A entry: its question, its answer as the explanation and its source; the
    editor writes the options."""
    source = ", ".join(p for p in (entry.source_section, entry.source_document) if p)
    return QuestionDraft(
        texts={SOURCE: entry.question},
        options=(),
        correct=0,
        explanation={SOURCE: entry.answer},
        source=source,
    )


@dataclass
class ImportReport:
    """What a question import did, and every row it refused with the reason."""

    created: int = 0
    errors: list[RowError] = field(default_factory=list)


def _cell(value: Any) -> str:
    """A spreadsheet cell as text."""
    return "" if value is None else str(value).strip()


def question_rows(data: bytes) -> list[dict[str, str] | None]:
    """The first sheet's rows by header name ('question', 'option_a'…'option_d', 'correct', 'explanation',
    'source', and 'question:<lang>', 'option_a:<lang>', 'explanation:<lang>'); blank rows kept as None so
    row numbers match the sheet."""
    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    header = [_cell(h).lower() for h in rows[0]]
    found: list[dict[str, str] | None] = []
    for values in rows[1:]:
        cells = {name: _cell(v) for name, v in zip(header, values, strict=False) if name}
        found.append(cells if any(cells.values()) else None)
    return found


def draft_of_row(cells: dict[str, str]) -> QuestionDraft:
    """One sheet row as a question draft (the right option named by its letter)."""

    def per_language(name: str) -> dict[str, str]:
        texts = {lang: value for key, value in cells.items() if (lang := _language_of(key, name)) and value}
        return texts | ({SOURCE: cells[name]} if cells.get(name) else {})

    options = tuple(
        per_language(f"option_{letter}") for letter in LETTERS.lower() if cells.get(f"option_{letter}")
    )
    letter = cells.get("correct", "").upper()
    return QuestionDraft(
        texts=per_language("question"),
        options=options,
        correct=LETTERS.index(letter) if len(letter) == 1 and letter in LETTERS else -1,
        explanation=per_language("explanation"),
        source=cells.get("source", ""),
    )


def _language_of(key: str, name: str) -> str:
    """'question:hmn' -> 'hmn' for the column `name`; '' for any other column."""
    head, _sep, lang = key.partition(":")
    return lang if head == name else ""


def import_questions(
    session: Session, contest: Contest, rows: Sequence[dict[str, str] | None]
) -> ImportReport:
    """Add the sheet's questions to the bank; nothing is written when any row is bad (rows numbered as
    in the sheet, under its header)."""
    report = ImportReport()
    drafts = []
    for line, cells in enumerate(rows, start=2):
        if cells is None:
            continue
        draft = draft_of_row(cells)
        try:
            check_question(draft)
        except ContestError as exc:
            report.errors.append(RowError(line, "", exc.msgid, tuple(exc.params.items())))
            continue
        drafts.append(draft)
    if report.errors:
        return report
    for draft in drafts:
        write_question(session, contest, None, draft)
        report.created += 1
    return report


def get(session: Session, *, contest_id: int) -> Contest | None:
    """One contest by id."""
    return session.get(Contest, contest_id)


def get_all(session: Session, *, communes: Collection[int] | None = None) -> list[Contest]:
    """Contests newest first; an official limited to communes sees theirs."""
    found = session.scalars(select(Contest).order_by(Contest.id.desc()))
    return [c for c in found if open_to(session, c, communes)]


def is_open(round_: ContestRound, now: datetime | None = None) -> bool:
    """Whether the round takes answers now, by the server's clock."""
    now = now or utcnow()
    return round_.starts_at <= now < round_.ends_at


def status_now(round_: ContestRound, now: datetime | None = None) -> str:
    """What an official reads: waiting for its start, open, or over."""
    now = now or utcnow()
    if now < round_.starts_at:
        return "scheduled"
    return "open" if now < round_.ends_at else "closed"


def open_rounds(session: Session, communes: Collection[int] | None = None) -> list[ContestRound]:
    """The rounds open now that an official may see (the dashboard's activity)."""
    now = utcnow()
    stmt = select(ContestRound).where(ContestRound.starts_at <= now, ContestRound.ends_at > now)
    return [
        r for r in session.scalars(stmt.order_by(ContestRound.id)) if open_to(session, r.contest, communes)
    ]


def open_for(session: Session, person: Person) -> list[ContestRound]:
    """The rounds open now for a person's place, language and role."""
    if not person.onboarded:
        return []
    return [r for r in open_rounds(session) if audience_of(r.contest).matches(person)]


def entrant_of(session: Session, contest: Contest, person: Person) -> Entrant | None:
    """A person's registration for a contest, if they registered."""
    return session.scalar(
        select(Entrant).where(Entrant.contest_id == contest.id, Entrant.person_id == person.id)
    )


def register(
    session: Session, contest: Contest, person: Person, details: dict[str, Any], *, named: bool
) -> Entrant:
    """Keep what the person gave for a contest, with their consent (the unique constraint keeps one)."""
    found = entrant_of(session, contest, person)
    entrant = found or Entrant(contest_id=contest.id, person_id=person.id)
    entrant.name = str(details.get("name") or "")[:120]
    entrant.birth_year = (
        int(details["birth_year"]) if str(details.get("birth_year") or "").isdigit() else None
    )
    entrant.phone = str(details.get("phone") or "")[:20]
    entrant.village = str(details.get("village") or "")[:120]
    entrant.consented_at, entrant.named = utcnow(), named
    if found is None:
        try:
            with session.begin_nested():
                session.add(entrant)
        except IntegrityError:  # registered at the same moment from another app: that one stands
            again = entrant_of(session, contest, person)
            assert again is not None
            return again
    return entrant


def attempt_of(
    session: Session, round_: ContestRound, person: Person, *, for_group: bool = False
) -> Attempt | None:
    """A person's attempt at a round (their own, or the one for their household group)."""
    return session.scalar(
        select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.person_id == person.id, Attempt.for_group.is_(for_group)
        )
    )


def start(
    session: Session,
    round_: ContestRound,
    person: Person,
    channel: str,
    *,
    for_group: bool = False,
    rng: random.Random | None = None,
) -> Attempt:
    """The person's one attempt at a round: the one they began, else a new one with `draw` questions
    drawn at random in random order, kept so a resumed attempt asks the same."""
    found = attempt_of(session, round_, person, for_group=for_group)
    if found is not None:
        return found
    bank = [q.id for q in round_.contest.questions]
    drawn = (rng or random.SystemRandom()).sample(bank, min(round_.draw, len(bank)))
    attempt = Attempt(
        round_id=round_.id,
        person_id=person.id,
        entrant_id=e.id if (e := entrant_of(session, round_.contest, person)) else None,
        for_group=for_group,
        question_ids=drawn,
        asked=len(drawn),
        **answered_from(person, channel),
    )
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:  # begun at the same moment from another app: that one stands
        again = attempt_of(session, round_, person, for_group=for_group)
        assert again is not None
        return again
    return attempt


def answers(session: Session, attempt: Attempt) -> dict[int, ContestAnswer]:
    """An attempt's answers by question."""
    rows = session.scalars(select(ContestAnswer).where(ContestAnswer.attempt_id == attempt.id))
    return {a.question_id: a for a in rows}


def next_question(session: Session, attempt: Attempt) -> ContestQuestion | None:
    """The first drawn question not answered yet: an interrupted attempt resumes there."""
    done = answers(session, attempt)
    pending = next((q for q in attempt.question_ids if q not in done), None)
    return session.get(ContestQuestion, pending) if pending is not None else None


Taken = Literal["right", "wrong", "again", "late"]


def answer(
    session: Session, attempt: Attempt, question: ContestQuestion, option: int, now: datetime | None = None
) -> Taken:
    """Store an answer before it is acknowledged: 'again' when the question was answered already (a second
    tap, a redelivery: the first stands), 'late' after the round's end (not counted). The last answer
    finishes the attempt and fixes its time."""
    now = now or utcnow()
    round_ = session.get(ContestRound, attempt.round_id)
    if round_ is None or not is_open(round_, now):
        return "late"
    if question.id not in attempt.question_ids or question.id in answers(session, attempt):
        return "again"
    right = option == question.correct
    try:
        with session.begin_nested():
            session.add(
                ContestAnswer(
                    attempt_id=attempt.id, question_id=question.id, option=option, right=right, created_at=now
                )
            )
    except IntegrityError:
        return "again"
    if right:  # in SQL: the same person answering from two apps at once adds up
        session.execute(
            update(Attempt).where(Attempt.id == attempt.id).values(score=Attempt.score + 1),
            execution_options={"synchronize_session": False},
        )
        session.refresh(attempt, ["score"])
    if len(answers(session, attempt)) >= attempt.asked:
        attempt.finished_at = now
    return "right" if right else "wrong"


def predict(session: Session, attempt: Attempt, guess: int) -> bool:
    """Keep the tie-breaker prediction once, while the round is open; False when it is not taken."""
    round_ = session.get(ContestRound, attempt.round_id)
    if attempt.prediction is not None or round_ is None or not is_open(round_) or attempt.finished_at is None:
        return False
    attempt.prediction = max(0, guess)
    return True


def seconds_taken(attempt: Attempt) -> int:
    """How long an attempt took, from its first question to its last answer."""
    end = attempt.finished_at or utcnow()
    return max(0, int((end - attempt.started_at).total_seconds()))


@dataclass(frozen=True)
class Ranked:
    """One place in a round's ranking."""

    place: int
    attempt: Attempt
    entrant: Entrant | None
    distance: int | None  # how far the prediction was from the number of perfect scores
    seconds: int


def _scope(round_: ContestRound, communes: Collection[int] | None) -> list[ColumnElement[bool]]:
    """Only this round's attempts, and only from an officer's communes."""
    condition: list[ColumnElement[bool]] = [Attempt.round_id == round_.id]
    if communes is not None:
        condition.append(Attempt.commune_code.in_(list(communes)))
    return condition


def perfect_count(session: Session, round_: ContestRound) -> int:
    """How many people answered every question right: what the tie-breaker asks to predict."""
    return (
        session.scalar(
            select(func.count(Attempt.id)).where(
                Attempt.round_id == round_.id,
                Attempt.for_group.is_(False),
                Attempt.finished_at.is_not(None),
                Attempt.score == Attempt.asked,
            )
        )
        or 0
    )


def ranking(
    session: Session, round_: ContestRound, communes: Collection[int] | None = None, limit: int | None = None
) -> list[Ranked]:
    """Finished personal attempts ranked as such contests rank: score, then the prediction's closeness to
    the number of perfect scores (none given: last), then the time taken; group attempts never ranked.
    The database orders them, so a page of the first places loads only those (with their entrants)."""
    perfect = perfect_count(session, round_)
    distance = case(
        (Attempt.prediction.is_(None), NO_PREDICTION), else_=func.abs(Attempt.prediction - perfect)
    )
    taken: ColumnElement[Any] = (
        func.julianday(Attempt.finished_at) - func.julianday(Attempt.started_at)
        if session.get_bind().dialect.name == "sqlite"
        else Attempt.finished_at - Attempt.started_at
    )
    stmt = (
        select(Attempt)
        .where(*_scope(round_, communes), Attempt.for_group.is_(False), Attempt.finished_at.is_not(None))
        .order_by(Attempt.score.desc(), distance, taken, Attempt.id)
        .options(selectinload(Attempt.entrant))
        .limit(limit)
    )
    return [
        Ranked(
            number,
            attempt,
            attempt.entrant,
            abs(attempt.prediction - perfect) if attempt.prediction is not None else None,
            seconds_taken(attempt),
        )
        for number, attempt in enumerate(session.scalars(stmt), start=1)
    ]


@dataclass(frozen=True)
class QuestionShare:
    """How many answered a question, and how many right: which laws people misunderstand."""

    question: ContestQuestion
    answered: int
    right: int

    @property
    def share(self) -> float:
        """The share right."""
        return self.right / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class RoundResults:
    """A round's participation (personal attempts by the chosen group, group attempts apart) and the share
    right per question, within an official's communes."""

    started: int
    finished: int
    for_groups: int
    groups: dict[Any, tuple[int, int]]  # group -> (finished attempts, perfect scores)
    questions: list[QuestionShare]


def results(
    session: Session, round_: ContestRound, *, by: str, communes: Collection[int] | None = None
) -> RoundResults:
    """Counted by the database: attempts per group and right answers per question."""
    column = getattr(Attempt, GROUP_FIELDS.get(by, "commune_code"))
    scope = _scope(round_, communes)
    started, finished = session.execute(
        select(func.count(Attempt.id), func.count(Attempt.finished_at)).where(
            *scope, Attempt.for_group.is_(False)
        )
    ).one()
    for_groups = (
        session.scalar(select(func.count(Attempt.id)).where(*scope, Attempt.for_group.is_(True))) or 0
    )
    perfect = func.sum(case((Attempt.score == Attempt.asked, 1), else_=0))
    groups = {
        (key.value if hasattr(key, "value") else key): (int(n), int(p or 0))
        for key, n, p in session.execute(
            select(column, func.count(Attempt.id), perfect)
            .where(*scope, Attempt.for_group.is_(False), Attempt.finished_at.is_not(None))
            .group_by(column)
        )
    }
    shares = {
        qid: (int(n), int(r or 0))
        for qid, n, r in session.execute(
            select(
                ContestAnswer.question_id,
                func.count(ContestAnswer.id),
                func.sum(case((ContestAnswer.right, 1), else_=0)),
            )
            .join(Attempt, Attempt.id == ContestAnswer.attempt_id)
            .where(*scope, Attempt.for_group.is_(False))
            .group_by(ContestAnswer.question_id)
        )
    }
    questions = [QuestionShare(q, *shares[q.id]) for q in round_.contest.questions if q.id in shares]
    return RoundResults(started, finished, for_groups, groups, questions)


def publish(round_: ContestRound) -> None:
    """Mark the results as sent back to the participants: once, and only after the round's end."""
    if utcnow() < round_.ends_at:
        raise ContestError(mark("Chỉ gửi kết quả khi vòng thi đã kết thúc."))
    if round_.published_at is not None:
        raise ContestError(mark("Kết quả vòng thi này đã được gửi rồi."))
    round_.published_at = utcnow()


def participants(session: Session, round_: ContestRound) -> list[Recipient]:
    """The people who finished a round themselves (not for a group), each at the app they answered from."""
    rows = session.execute(
        select(Attempt.person_id, Attempt.channel, Attempt.language, Attempt.commune_code)
        .where(Attempt.round_id == round_.id, Attempt.for_group.is_(False), Attempt.finished_at.is_not(None))
        .order_by(Attempt.id)
    ).all()
    found = []
    for person_id, channel, language, commune in rows:
        urn = people.address_of(session, person_id, channel) if person_id is not None else None
        if person_id is not None and urn is not None:
            found.append(Recipient(person_id, urn, language, commune))
    return found


def forget(session: Session, person: Person) -> None:
    """On erasure: what the person registered goes; their attempts stay counted, no longer theirs."""
    session.execute(
        update(Entrant)
        .where(Entrant.person_id == person.id)
        .values(person_id=None, name="", birth_year=None, phone="", village="", named=False),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Attempt).where(Attempt.person_id == person.id).values(person_id=None),
        execution_options={"synchronize_session": False},
    )


def entries_of(session: Session, person: Person) -> list[dict[str, Any]]:
    """A person's contest registrations and attempts, in their copy of their data."""
    found: list[dict[str, Any]] = [
        {
            "contest": title,
            "name": e.name,
            "birth_year": e.birth_year,
            "phone": e.phone,
            "village": e.village,
            "named": e.named,
        }
        for e, title in session.execute(
            select(Entrant, Contest.title)
            .join(Contest, Contest.id == Entrant.contest_id)
            .where(Entrant.person_id == person.id)
        )
    ]
    found += [
        {
            "round": title,
            "score": a.score,
            "of": a.asked,
            "prediction": a.prediction,
            "for_group": a.for_group,
        }
        for a, title in session.execute(
            select(Attempt, ContestRound.title)
            .join(ContestRound, ContestRound.id == Attempt.round_id)
            .where(Attempt.person_id == person.id)
        )
    ]
    return found
