"""Writing polls, opening and closing them, taking answers once, and counting the results by place and
group. Never commits: the caller owns the transaction."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Text, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.bulletins import service as bulletins
from bot.bulletins.service import Audience
from bot.db import utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.media.models import Media
from bot.people import service as people
from bot.people.models import Person
from bot.polls.models import (
    Poll,
    PollAnswer,
    PollChoice,
    PollQuestion,
    PollResponse,
    PollStatus,
    QuestionKind,
)

SOURCE = "vi"
MAX_QUESTIONS = 10
MIN_CHOICES, MAX_CHOICES = 2, 10
CHOICE_LIMIT = 60  # a button's label stays readable on a phone
# The groups results are counted by, each with the column that polls' responses and contests' attempts
# both keep, copied from the person when they begin (see answered_from).
GROUP_FIELDS = {
    "province": "province_code",
    "commune": "commune_code",
    "village": "village_id",
    "language": "language",
    "channel": "channel",
    "role": "role",
}
GROUPS = tuple(GROUP_FIELDS)


class PollError(Refusal):
    """A refused poll action (missing text, wrong state, a period that ends before it starts)."""


def text_in(texts: Mapping[str, Any], language: str | None) -> str:
    """A text in the person's language, else the Vietnamese one every poll has."""
    return str(texts.get(language or SOURCE) or texts.get(SOURCE) or "")


@dataclass(frozen=True)
class QuestionDraft:
    """A question as an official writes it: its kind, its text and its choices' labels per language."""

    kind: QuestionKind
    texts: dict[str, str]
    choices: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class PollDraft:
    """Everything a poll's form gives: the service checks it before anything is stored."""

    title: str
    intro: dict[str, str]
    questions: tuple[QuestionDraft, ...]
    audience: Audience
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    titles: dict[str, str] = field(default_factory=dict)  # the title's translations, language -> text


def _check(draft: PollDraft) -> None:
    """Refuse a draft people could not answer: no question, a question without Vietnamese text, a
    choice question with too few choices."""
    title = draft.title.strip()
    if not title:
        raise PollError(mark("Thăm dò cần có tiêu đề."))
    if any(len(text.strip()) > 200 for text in [title, *draft.titles.values()]):
        raise PollError(mark("Tiêu đề dài quá (tối đa 200 ký tự)."))
    if not draft.questions:
        raise PollError(mark("Thăm dò cần ít nhất một câu hỏi."))
    if len(draft.questions) > MAX_QUESTIONS:
        raise PollError(mark("Một thăm dò có tối đa {n} câu hỏi."), n=MAX_QUESTIONS)
    for number, question in enumerate(draft.questions, start=1):
        if not question.texts.get(SOURCE, "").strip():
            raise PollError(mark("Câu {n} cần có nội dung tiếng Việt."), n=number)
        has_choices = question.kind in (QuestionKind.single, QuestionKind.multiple)
        if has_choices and not MIN_CHOICES <= len(question.choices) <= MAX_CHOICES:
            raise PollError(
                mark("Câu {n} cần từ {low} đến {high} lựa chọn."), n=number, low=MIN_CHOICES, high=MAX_CHOICES
            )
        if any(len(label) > CHOICE_LIMIT for choice in question.choices for label in choice.values()):
            raise PollError(
                mark("Lựa chọn của câu {n} dài quá (tối đa {limit} ký tự)."), n=number, limit=CHOICE_LIMIT
            )
    if draft.opens_at and draft.closes_at and draft.closes_at <= draft.opens_at:
        raise PollError(mark("Thời điểm kết thúc phải sau thời điểm bắt đầu."))


def write(session: Session, poll: Poll | None, draft: PollDraft, *, created_by: int | None = None) -> Poll:
    """A new draft poll, or a draft rewritten (its questions replaced: nobody has answered a draft)."""
    _check(draft)
    if poll is None:
        poll = Poll(created_by=created_by)
        session.add(poll)
    elif poll.status != PollStatus.draft:
        raise PollError(mark("Chỉ sửa được thăm dò còn là bản nháp."))
    poll.title = draft.title.strip()
    poll.titles = {
        lang: text.strip() for lang, text in draft.titles.items() if text.strip() and lang != SOURCE
    }
    poll.intro = {lang: text.strip() for lang, text in draft.intro.items() if text.strip()}
    poll.audience = draft.audience.to_json()
    poll.opens_at, poll.closes_at = draft.opens_at, draft.closes_at
    poll.questions.clear()
    session.flush()
    poll.questions.extend(
        PollQuestion(
            position=position,
            kind=question.kind,
            texts={lang: text.strip() for lang, text in question.texts.items() if text.strip()},
            choices=[
                PollChoice(position=index, texts={k: v.strip() for k, v in choice.items() if v.strip()})
                for index, choice in enumerate(question.choices)
            ],
        )
        for position, question in enumerate(draft.questions)
    )
    session.flush()
    return poll


def get(session: Session, *, poll_id: int) -> Poll | None:
    """One poll by id."""
    return session.get(Poll, poll_id)


class Addressed(Protocol):
    """A poll or a contest: something asked of an audience stored as a bulletin's."""

    @property
    def audience(self) -> dict[str, Any]:
        """The audience as stored."""
        ...


def audience_of(asked: Addressed) -> Audience:
    """Who a poll or a contest is for."""
    return Audience.from_json(asked.audience)


def open_to(session: Session, asked: Addressed, communes: Collection[int] | None) -> bool:
    """Whether an official limited to `communes` (None: the whole province) may see a poll or a contest:
    one that reaches some of their people (and then only their people's answers)."""
    return bulletins.reaches_any(session, audience_of(asked), communes)


def may_run(session: Session, asked: Addressed, communes: Collection[int] | None) -> bool:
    """Whether an official limited to `communes` may change, open or close a poll or a contest: only one
    asked only in their communes."""
    return bulletins.held_within(session, audience_of(asked), communes)


def answered_from(person: Person, channel: str) -> dict[str, Any]:
    """Where and as whom a person answers, kept with their response or attempt so that the results stay
    as they were when the person later moves or changes language."""
    return {
        "channel": channel,
        "language": person.language or SOURCE,
        "role": person.role,
        "province_code": person.province_code,
        "commune_code": person.commune_code,
        "village_id": person.village_id,
    }


def get_all(
    session: Session, *, offset: int = 0, limit: int = 20, communes: Collection[int] | None = None
) -> tuple[list[Poll], int]:
    """A page of polls, newest first, and the total; an official limited to communes sees theirs."""
    stmt = select(Poll).order_by(Poll.id.desc())
    if communes is not None:
        mine = [p for p in session.scalars(stmt) if open_to(session, p, communes)]
        return mine[offset : offset + limit], len(mine)
    total = session.scalar(select(func.count(Poll.id))) or 0
    return list(session.scalars(stmt.offset(offset).limit(limit))), total


def is_open(poll: Poll, now: datetime | None = None) -> bool:
    """Whether answers are taken now: opened, its start reached and its end not."""
    now = now or utcnow()
    return (
        poll.status == PollStatus.open
        and (poll.opens_at is None or poll.opens_at <= now)
        and (poll.closes_at is None or now < poll.closes_at)
    )


def open_poll(poll: Poll) -> None:
    """Open a draft: answers are taken from its start (now if none) to its end."""
    if poll.status != PollStatus.draft:
        raise PollError(mark("Thăm dò này đã được mở rồi."))
    now = utcnow()
    if poll.closes_at is not None and poll.closes_at <= now:
        raise PollError(mark("Thời điểm kết thúc đã qua; hãy sửa lại trước khi mở."))
    poll.status = PollStatus.open
    poll.opens_at = poll.opens_at or now


def close(poll: Poll) -> None:
    """Close a poll now: later answers are refused and not counted."""
    if poll.status != PollStatus.open:
        raise PollError(mark("Thăm dò này không đang mở."))
    now = utcnow()
    poll.status = PollStatus.closed
    poll.closes_at = min(poll.closes_at, now) if poll.closes_at else now


def publish(poll: Poll) -> None:
    """Mark the results as sent back to the people who answered: once, and only after the poll is over."""
    if poll.status == PollStatus.draft or is_open(poll):
        raise PollError(mark("Chỉ gửi kết quả khi thăm dò đã kết thúc."))
    if poll.published_at is not None:
        raise PollError(mark("Kết quả thăm dò này đã được gửi rồi."))
    poll.published_at = utcnow()


@dataclass(frozen=True)
class Recipient:
    """Someone who finished a poll or a contest round and is still known: where to tell them the results
    and in which language."""

    person_id: int
    urn: str
    language: str
    commune_code: int | None


def respondents(session: Session, poll: Poll) -> list[Recipient]:
    """The people who finished a poll and are still known, each at the app they answered from (else the
    one they wrote from last)."""
    rows = session.execute(
        select(PollResponse, Person)
        .join(Person, Person.id == PollResponse.person_id)
        .where(PollResponse.poll_id == poll.id, PollResponse.finished_at.is_not(None))
        .order_by(PollResponse.id)
    ).all()
    found = []
    for response, person in rows:
        urn = people.address_of(session, person.id, response.channel)
        if urn is not None:
            found.append(Recipient(person.id, urn, person.language or SOURCE, response.commune_code))
    return found


def status_now(poll: Poll, now: datetime | None = None) -> str:
    """What an official should read: draft, waiting for its start, open, or over (closed or past its end)."""
    now = now or utcnow()
    if poll.status == PollStatus.open and poll.opens_at and now < poll.opens_at:
        return "scheduled"
    if poll.status == PollStatus.open and not is_open(poll, now):
        return "closed"
    return poll.status.value


def open_for(session: Session, person: Person) -> list[Poll]:
    """The polls open now for a person's place, language and role."""
    if not person.onboarded:
        return []
    now = utcnow()
    stmt = (
        select(Poll)
        .where(Poll.status == PollStatus.open)
        .order_by(Poll.id)
        .options(selectinload(Poll.questions).selectinload(PollQuestion.choices))
    )
    return [p for p in session.scalars(stmt) if is_open(p, now) and audience_of(p).matches(person)]


def response_of(session: Session, poll: Poll, person: Person) -> PollResponse | None:
    """A person's response to a poll, if they started it."""
    return session.scalar(
        select(PollResponse).where(PollResponse.poll_id == poll.id, PollResponse.person_id == person.id)
    )


def start(session: Session, poll: Poll, person: Person, channel: str) -> PollResponse:
    """The person's one response to a poll: the one they started, else a new one noting where they are
    and how they write now (the unique constraint keeps it one even in a race)."""
    found = response_of(session, poll, person)
    if found is not None:
        return found
    response = PollResponse(poll_id=poll.id, person_id=person.id, **answered_from(person, channel))
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:  # the same person began at the same moment from another app: theirs stands
        found = response_of(session, poll, person)
        assert found is not None
        return found
    return response


def answered(session: Session, response: PollResponse) -> set[int]:
    """The questions a response has answered."""
    return set(session.scalars(select(PollAnswer.question_id).where(PollAnswer.response_id == response.id)))


def next_question(session: Session, poll: Poll, response: PollResponse) -> PollQuestion | None:
    """The first question not answered yet: an interrupted poll resumes there."""
    done = answered(session, response)
    return next((q for q in poll.questions if q.id not in done), None)


def answer(
    session: Session,
    response: PollResponse,
    question: PollQuestion,
    *,
    choice_ids: Sequence[int] = (),
    number: float | None = None,
    text: str = "",
    media_id: int | None = None,
) -> bool:
    """Store an answer once; False when the question was answered already (a second tap, a message sent
    twice): the first answer stands, and the unique constraint holds even against a race."""
    if question.id in answered(session, response):
        return False
    valid = {c.id for c in question.choices}
    row = PollAnswer(
        response_id=response.id,
        question_id=question.id,
        choice_ids=sorted({c for c in choice_ids if c in valid}),
        number=number,
        text=text.strip(),
        media_id=media_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def finish(response: PollResponse) -> None:
    """Mark the response complete: nothing more is asked or changed."""
    response.finished_at = response.finished_at or utcnow()


def parse_number(text: str) -> float | None:
    """A number as people type it ('12', '3,5', '1.200'); None when it is not one."""
    cleaned = text.strip().replace(" ", "")
    if cleaned.count(".") > 1 or ("," in cleaned and "." in cleaned):
        cleaned = cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if abs(value) < 1e12 else None


@dataclass
class Tally:
    """Counts for one group of people (or everyone) on one question."""

    answers: int = 0
    choices: dict[int, int] = field(default_factory=dict)
    numbers: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None

    def share(self, choice_id: int) -> float:
        """The share of this group's answers that picked a choice (several may be picked)."""
        return self.choices.get(choice_id, 0) / self.answers if self.answers else 0.0

    @property
    def mean(self) -> float | None:
        """The average of the numbers given."""
        return self.total / self.numbers if self.numbers else None

    def add(self, choice_ids: Iterable[int], number: float | None, times: int) -> None:
        """Count `times` identical answers."""
        self.answers += times
        for choice_id in choice_ids:
            self.choices[choice_id] = self.choices.get(choice_id, 0) + times
        if number is not None:
            self.numbers += times
            self.total += number * times
            self.low = number if self.low is None else min(self.low, number)
            self.high = number if self.high is None else max(self.high, number)


@dataclass
class QuestionResult:
    """A question's answers counted for everyone and by group."""

    question: PollQuestion
    total: Tally
    groups: dict[Any, Tally]


@dataclass(frozen=True)
class Results:
    """A poll's results as an official may see them (their communes' only, for a commune officer)."""

    started: int
    finished: int
    questions: list[QuestionResult]


def _scope(poll: Poll, communes: Collection[int] | None) -> list[ColumnElement[bool]]:
    """Only this poll's responses, and only from an officer's communes."""
    condition: list[ColumnElement[bool]] = [PollResponse.poll_id == poll.id]
    if communes is not None:
        condition.append(PollResponse.commune_code.in_(list(communes)))
    return condition


def counts(
    session: Session, poll_ids: Collection[int], communes: Collection[int] | None = None
) -> dict[int, tuple[int, int]]:
    """How many people started and finished each poll (of an officer's communes only)."""
    stmt = (
        select(PollResponse.poll_id, func.count(PollResponse.id), func.count(PollResponse.finished_at))
        .where(PollResponse.poll_id.in_(list(poll_ids)))
        .group_by(PollResponse.poll_id)
    )
    if communes is not None:
        stmt = stmt.where(PollResponse.commune_code.in_(list(communes)))
    found = {poll_id: (started, finished) for poll_id, started, finished in session.execute(stmt)}
    return {poll_id: found.get(poll_id, (0, 0)) for poll_id in poll_ids}


def open_now(session: Session, communes: Collection[int] | None = None) -> list[Poll]:
    """The polls taking answers now that an official may see (the dashboard's activity)."""
    now = utcnow()
    stmt = select(Poll).where(Poll.status == PollStatus.open).order_by(Poll.id.desc())
    return [p for p in session.scalars(stmt) if is_open(p, now) and open_to(session, p, communes)]


def results(session: Session, poll: Poll, *, by: str, communes: Collection[int] | None = None) -> Results:
    """Counts and shares per question, for everyone and per group (`by`: one of GROUPS). The database
    counts identical answers (same choices, number and group), so a province's thousands of answers come
    back as a few hundred rows."""
    column = getattr(PollResponse, GROUP_FIELDS[by])
    picked = cast(PollAnswer.choice_ids, Text)
    started, finished = session.execute(
        select(func.count(PollResponse.id), func.count(PollResponse.finished_at)).where(
            *_scope(poll, communes)
        )
    ).one()
    rows = session.execute(
        select(PollAnswer.question_id, picked, PollAnswer.number, column, func.count(PollAnswer.id))
        .join(PollResponse, PollResponse.id == PollAnswer.response_id)
        .where(*_scope(poll, communes))
        .group_by(PollAnswer.question_id, picked, PollAnswer.number, column)
    ).all()
    by_question = {q.id: QuestionResult(q, Tally(), {}) for q in poll.questions}
    for question_id, choice_ids, number, group, times in rows:
        result = by_question.get(question_id)
        if result is None:
            continue
        key = group.value if hasattr(group, "value") else group
        choices = json.loads(choice_ids) if choice_ids else []
        for tally in (result.total, result.groups.setdefault(key, Tally())):
            tally.add(choices, number, times)
    return Results(started, finished, list(by_question.values()))


@dataclass(frozen=True)
class AnswerRow:
    """One answer with who gave it, as officials read and export them (no name: a place and a group)."""

    response_id: int
    question: PollQuestion
    answer: PollAnswer
    response: PollResponse


def answer_rows(
    session: Session,
    poll: Poll,
    *,
    communes: Collection[int] | None = None,
    kinds: Collection[QuestionKind] | None = None,
    limit: int | None = None,
) -> list[AnswerRow]:
    """Answers in the order they came, optionally of some kinds only (free text, for reading)."""
    questions = {q.id: q for q in poll.questions if kinds is None or q.kind in kinds}
    stmt = (
        select(PollAnswer, PollResponse)
        .join(PollResponse, PollResponse.id == PollAnswer.response_id)
        .where(PollAnswer.question_id.in_(list(questions)), *_scope(poll, communes))
        .order_by(PollAnswer.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        AnswerRow(response.id, questions[row.question_id], row, response)
        for row, response in session.execute(stmt)
    ]


def recording(
    session: Session, poll: Poll, answer_id: int, *, communes: Collection[int] | None = None
) -> Media | None:
    """The recording of one answer to this poll, if an official limited to `communes` may hear it."""
    return session.scalar(
        select(Media)
        .join(PollAnswer, PollAnswer.media_id == Media.id)
        .join(PollResponse, PollResponse.id == PollAnswer.response_id)
        .where(PollAnswer.id == answer_id, *_scope(poll, communes))
    )


def choice_labels(answer_: PollAnswer, question: PollQuestion) -> str:
    """The Vietnamese labels of the choices an answer picked."""
    labels = {c.id: text_in(c.texts, SOURCE) for c in question.choices}
    return "; ".join(labels[c] for c in answer_.choice_ids if c in labels)


def answers_of(session: Session, person: Person) -> list[dict[str, Any]]:
    """A person's poll answers in their data copy: the poll, each question and what they answered."""
    rows = session.execute(
        select(PollResponse, PollAnswer)
        .join(PollAnswer, PollAnswer.response_id == PollResponse.id)
        .where(PollResponse.person_id == person.id)
        .order_by(PollAnswer.id)
    ).all()
    found = []
    for response, row in rows:
        question = session.get(PollQuestion, row.question_id)
        poll = session.get(Poll, response.poll_id)
        if question is None or poll is None:
            continue
        found.append(
            {
                "poll": poll.title,
                "question": text_in(question.texts, SOURCE),
                "choices": choice_labels(row, question) or None,
                "number": row.number,
                "text": row.text or None,
                "voice_note": row.media_id is not None,
                "at": row.created_at.isoformat(),
            }
        )
    return found


def forget(session: Session, person: Person) -> set[int]:
    """On erasure: what the person typed or recorded goes (the recordings' ids are returned, for the
    caller to delete the files nothing else uses); their choices and numbers stay counted, no longer
    theirs."""
    mine = PollAnswer.response_id.in_(select(PollResponse.id).where(PollResponse.person_id == person.id))
    recordings = set(
        session.scalars(select(PollAnswer.media_id).where(mine, PollAnswer.media_id.is_not(None)))
    )
    session.execute(
        update(PollAnswer).where(mine).values(text="", media_id=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(PollResponse).where(PollResponse.person_id == person.id).values(person_id=None),
        execution_options={"synchronize_session": False},
    )
    return {media_id for media_id in recordings if media_id is not None}
