"""A year and more of history for the report tests, built through the real services (so the reach ledger is
written as in production) and dated as it happened; beside it, the test's own log of what it did, from
which every figure is counted again independently."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.areas.models import Village
from bot.bulletins.models import Bulletin, BulletinStatus, BulletinVersion, Delivery, DeliveryStatus, Relay
from bot.contests.models import Attempt, Contest, ContestAnswer, ContestQuestion, ContestRound
from bot.db import Database
from bot.feedback.models import Category, Ticket, TicketEvent
from bot.media.models import Media
from bot.people import service as people
from bot.people.models import Person, PersonRole
from bot.polls.models import Poll, PollResponse, PollStatus
from bot.qa import service as qa
from bot.qa.models import EntryStatus, ForwardReason, QAEntry, QuestionStatus
from bot.reports.models import ASKED, ReportEvent, record_question

PROVINCE, COMMUNE_A, COMMUNE_B = 12, 3549, 3445  # Lai Châu: Phong Thổ, Mường Tè
LANGUAGES = ("vi", "hmn", "tyz")
CHANNELS = ("telegram", "zalo")
_VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOSTILE = '<img src=x onerror="alert(1)">Bản & "Nà"'
State = tuple[int, int | None, str, str, str] | None
# Instants on either side of local midnight at the period's edges (UTC+7): which day they count in
# is decided by the deployment's time zone, not the database's.
EDGES = [
    datetime(2025, 12, 15, 16, 50, tzinfo=UTC),  # 15/12/2025 23:50 local: before the period
    datetime(2025, 12, 15, 17, 10, tzinfo=UTC),  # 16/12/2025 00:10 local: in it
    datetime(2026, 12, 15, 16, 50, tzinfo=UTC),  # 15/12/2026 23:50 local: in it
    datetime(2026, 12, 15, 17, 10, tzinfo=UTC),  # 16/12/2026 00:10 local: after it
]  # commune, village, language, role, channel


@dataclass
class Human:
    """One simulated person: their states over time (None: not receiving bulletins)."""

    id: int
    history: list[tuple[datetime, State]] = field(default_factory=list)
    erased: bool = False

    def state(self, before: datetime) -> State:
        """Their state just before an instant."""
        found: State = None
        for at, state in self.history:
            if at < before:
                found = state
        return found

    def last_place(self, before: datetime) -> State:
        """The last state they were counted in before an instant (also after they left)."""
        found: State = None
        for at, state in self.history:
            if at < before and state is not None:
                found = state
        return found


@dataclass
class Log:
    """What the factory did, for the independent counts."""

    humans: list[Human] = field(default_factory=list)
    villages: dict[int, tuple[int, str]] = field(default_factory=dict)  # id -> commune, name
    bulletins: list[dict[str, Any]] = field(default_factory=list)
    asked: list[tuple[datetime, int, str, str | None]] = field(
        default_factory=list
    )  # at, commune, outcome, entry
    forwarded: list[tuple[datetime, int, datetime | None]] = field(default_factory=list)
    entries: list[tuple[datetime, list[int], list[str], str]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    responses: list[tuple[datetime, int, datetime | None]] = field(default_factory=list)
    attempts: list[Tried] = field(default_factory=list)


@dataclass(frozen=True)
class Tried:
    """One attempt at a contest round, as the factory made it."""

    round: str  # 'contest – round', as the report names it
    started: datetime
    commune: int
    finished: datetime | None
    answers: list[tuple[datetime, bool]]  # when, and whether right
    for_group: bool = False


def _dated(session: Session, at: datetime, since: int) -> None:
    """Date the ledger rows written since `since` as the moment they stand for."""
    session.execute(update(ReportEvent).where(ReportEvent.id > since).values(at=at))


def _last_event(session: Session) -> int:
    """The newest ledger row's id."""
    return int(session.scalar(select(func.max(ReportEvent.id))) or 0)


def _when(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant between two."""
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def build(db: Database, *, people_count: int = 48, seed: int = 17) -> Log:
    """People joining, moving, leaving and coming back; bulletins delivered and relayed; questions;
    tickets answered on time and late; poll responses: from late 2024 to early 2027 around the
    2026 yearly report (16/12/2025 - 15/12/2026, Vietnam time)."""
    rng, log = random.Random(seed), Log()
    first, last = datetime(2024, 11, 1, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC)
    with db.transaction() as session:
        for commune in (COMMUNE_A, COMMUNE_A, COMMUNE_B, COMMUNE_B):
            name = HOSTILE if not log.villages else f"Bản {len(log.villages) + 1}"
            village = Village(commune_code=commune, name=name, created_at=first)
            session.add(village)
            session.flush()
            log.villages[village.id] = (commune, name)
    changes: list[tuple[datetime, int, str]] = []
    for n in range(people_count):
        joined = EDGES[n] if n < len(EDGES) else _when(rng, first, last - timedelta(days=60))
        changes.append((joined, n, "join"))
        roll = rng.random()
        if roll < 0.3:
            changes.append((_when(rng, joined + timedelta(days=1), last), n, "leave"))
        elif roll < 0.4:
            left = _when(rng, joined + timedelta(days=1), last - timedelta(days=30))
            changes += [(left, n, "leave"), (_when(rng, left + timedelta(days=1), last), n, "return")]
        elif roll < 0.5:
            changes.append((_when(rng, joined + timedelta(days=1), last), n, "move"))
        elif roll < 0.55:
            changes.append((_when(rng, joined + timedelta(days=1), last), n, "erase"))
    ids: dict[int, Human] = {}
    for at, n, what in sorted(changes):
        with db.transaction() as session:
            since = _last_event(session)
            human = _change(session, rng, log, ids, n, what, at)
            _dated(session, at, since)
            human.history.append((at, _state_of(session, human)))
    _bulletins(db, rng, log)
    _questions(db, rng, log)
    _tickets(db, rng, log)
    _polls(db, rng, log)
    _contests(db, rng, log)
    return log


def _change(
    session: Session, rng: random.Random, log: Log, ids: dict[int, Human], n: int, what: str, at: datetime
) -> Human:
    """One change of one person, through the ORM as the bot and the admin make it."""
    if what == "join":
        channel = CHANNELS[n % 2]
        person, _ = people.get_or_create_by_urn(session, f"{channel}:{1000 + n}")
        commune = COMMUNE_A if n % 3 else COMMUNE_B
        villages = [v for v, (c, _name) in log.villages.items() if c == commune]
        person.province_code, person.commune_code = PROVINCE, commune
        person.village_id = rng.choice([*villages, None])
        person.language = LANGUAGES[n % 3]
        person.role = PersonRole.prestigious if n % 4 == 0 else PersonRole.villager
        person.consented_at = at
        session.flush()
        ids[n] = Human(person.id)
        log.humans.append(ids[n])
        return ids[n]
    human = ids[n]
    person = session.get(Person, human.id)
    assert person is not None
    if what == "leave":
        person.subscribed = False
    elif what == "return":
        person.subscribed = True
    elif what == "move":
        person.commune_code = COMMUNE_B if person.commune_code == COMMUNE_A else COMMUNE_A
        person.village_id, person.language = (
            None,
            LANGUAGES[(LANGUAGES.index(person.language or "vi") + 1) % 3],
        )
    else:
        session.delete(person)
        human.erased = True
    session.flush()
    return human


def _state_of(session: Session, human: Human) -> State:
    """What the person is now, as the test reads it from their row."""
    person = session.get(Person, human.id)
    if person is None or not person.onboarded or not person.subscribed:
        return None
    channel = people.channel_of(people.urns_of(session, person)[0])
    return (person.commune_code or 0, person.village_id, person.language or "", person.role.value, channel)


def _bulletins(db: Database, rng: random.Random, log: Log) -> None:
    """Bulletins sent at dates through both periods, to whoever received bulletins then."""
    for k, sent in enumerate(
        [
            datetime(2025, 6, 3, 2, tzinfo=UTC),
            datetime(2026, 1, 10, 2, tzinfo=UTC),
            datetime(2026, 5, 20, 2, tzinfo=UTC),
            datetime(2026, 11, 2, 2, tzinfo=UTC),
            datetime(2026, 12, 20, 2, tzinfo=UTC),
        ]
    ):
        with db.transaction() as session:
            bulletin = Bulletin(
                title=f"Bản tin {k}", status=BulletinStatus.done, send_at=sent, created_at=sent
            )
            session.add(bulletin)
            session.flush()
            seconds = 0.0
            for language in LANGUAGES[: 1 + k % 3]:
                media = Media(
                    key=f"k{k}{language}",
                    kind="voice",
                    mime="audio/ogg",
                    path="x",
                    size=1,
                    duration=30.0 + 15 * k,
                )
                session.add(media)
                session.flush()
                session.add(
                    BulletinVersion(bulletin_id=bulletin.id, language=language, text="…", voice_id=media.id)
                )
                seconds += media.duration or 0
            rows: list[dict[str, Any]] = []
            relays: list[tuple[int, int | None, int | None, int]] = []
            for human in log.humans:
                state = human.state(sent)
                if state is None:
                    continue
                person_id = None if human.erased else human.id  # erasure unlinked their rows
                status = rng.choice(
                    [DeliveryStatus.sent] * 5
                    + [DeliveryStatus.failed, DeliveryStatus.unreachable, DeliveryStatus.blocked]
                )
                session.add(
                    Delivery(
                        bulletin_id=bulletin.id,
                        person_id=person_id,
                        urn=f"x:{human.id}",
                        channel=state[4],
                        language=state[2],
                        status=status,
                    )
                )
                rows.append({"human": human, "status": status, "language": state[2]})
                if state[3] == PersonRole.prestigious.value and rng.random() < 0.7:
                    households = rng.choice([5, 10, 20])
                    session.add(
                        Relay(
                            bulletin_id=bulletin.id,
                            person_id=person_id,
                            commune_code=state[0],
                            village_id=state[1],
                            households=households,
                            method="loa",
                            created_at=sent + timedelta(hours=3),
                        )
                    )
                    relays.append((human.id, state[0], state[1], households))
            log.bulletins.append({"sent": sent, "seconds": seconds, "rows": rows, "relays": relays})


def _questions(db: Database, rng: random.Random, log: Log) -> None:
    """Entries written, questions typed (answered by Loa Bản, unsure, not covered), some forwarded and
    answered by officials in time or late."""
    with db.transaction() as session:
        for k, (created, communes, tags) in enumerate(
            [
                (datetime(2025, 3, 1, tzinfo=UTC), [], ["đất đai"]),
                (datetime(2026, 2, 1, tzinfo=UTC), [COMMUNE_A], ["bảo hiểm", "y tế"]),
                (datetime(2026, 4, 1, tzinfo=UTC), [COMMUNE_B], ["giáo dục"]),
                (datetime(2026, 8, 1, tzinfo=UTC), [], ["đất đai", "thuế"]),
            ]
        ):
            entry_id = f"e{k}"
            session.add(
                QAEntry(
                    id=entry_id,
                    question=f"Hỏi {k}",
                    answer="…",
                    tags=tags,
                    communes=communes,
                    status=EntryStatus.published,
                    created_at=created,
                )
            )
            log.entries.append((created, communes, tags, entry_id))
    askers = [h for h in log.humans if not h.erased]
    for _ in range(60):
        human = rng.choice(askers)
        at = _when(rng, human.history[0][0], datetime(2027, 1, 20, tzinfo=UTC))
        outcome = rng.choice(["answered", "answered", "unsure", "not_covered", "typed"])
        entry = rng.choice(log.entries)[3] if outcome == "answered" else None
        with db.transaction() as session:
            person = session.get(Person, human.id)
            assert person is not None
            commune = human.last_place(at + timedelta(seconds=1))
            assert commune is not None
            since = _last_event(session)
            record_question(session, person, ASKED, outcome=outcome, entry_id=entry)
            answered = None
            if outcome != "answered" and rng.random() < 0.7:
                question = qa.ask_officials(session, person=person, text="?", reason=ForwardReason.typed)
                question.created_at, question.commune_code = at, commune[0]
                if rng.random() < 0.75:
                    answered = at + timedelta(days=rng.choice([1, 2, 5, 9]))
                    question.status, question.answered_at, question.answer = (
                        QuestionStatus.answered,
                        answered,
                        "ok",
                    )
                log.forwarded.append((at, commune[0], answered))
            session.flush()
            # Where they were when they asked (they may have moved since).
            session.execute(
                update(ReportEvent).where(ReportEvent.id > since).values(at=at, commune_code=commune[0])
            )
            log.asked.append((at, commune[0], outcome, entry))


def _tickets(db: Database, rng: random.Random, log: Log) -> None:
    """Reflections in two categories, answered on time, late or not at all, some rated and reopened."""
    with db.transaction() as session:
        categories = [
            Category(code="road", label="Giao thông", deadline_days=10),
            Category(code="flood", label="Thiên tai", deadline_days=1, deadline_hours=24),
        ]
        session.add_all(categories)
        session.flush()
        for k in range(40):
            created = _when(rng, datetime(2025, 10, 1, tzinfo=UTC), datetime(2027, 1, 20, tzinfo=UTC))
            category = categories[k % 2]
            urgent = category.deadline_hours is not None
            due_at = created + timedelta(hours=24) if urgent else None
            due_on = (due_at or created + timedelta(days=14)).astimezone(_VN).date()
            ticket = Ticket(
                code=f"PA-{k}",
                urn="x",
                commune_code=(COMMUNE_A, COMMUNE_B)[k % 3 == 0],
                category_id=category.id,
                text="…",
                due_on=due_on,
                due_at=due_at,
                created_at=created,
            )
            session.add(ticket)
            session.flush()
            replied = None
            if rng.random() < 0.8:
                replied = created + timedelta(hours=rng.choice([5, 20, 30, 24 * 12, 24 * 20]))
                session.add(TicketEvent(ticket_id=ticket.id, kind="reply", text="ok", created_at=replied))
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id, kind="reply", text="more", created_at=replied + timedelta(days=2)
                    )
                )
            verdicts = []
            if replied is not None and rng.random() < 0.6:
                happy = rng.random() < 0.6
                verdicts.append(("satisfied" if happy else "unsatisfied", replied + timedelta(days=1)))
                if not happy:
                    verdicts.append(("reopened", replied + timedelta(days=1)))
            for kind, at in verdicts:
                session.add(TicketEvent(ticket_id=ticket.id, kind=kind, created_at=at))
            log.tickets.append(
                {
                    "created": created,
                    "commune": ticket.commune_code,
                    "category": category.label,
                    "deadline": due_at or _local_midnight(due_on + timedelta(days=1)),
                    "replied": replied,
                    "verdicts": verdicts,
                }
            )


def _local_midnight(day: date) -> datetime:
    """Midnight in Vietnam, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=_VN).astimezone(UTC)


def _polls(db: Database, rng: random.Random, log: Log) -> None:
    """A poll answered through the period by people of both communes."""
    with db.transaction() as session:
        poll = Poll(
            title="Thăm dò nước sạch", status=PollStatus.closed, created_at=datetime(2026, 3, 1, tzinfo=UTC)
        )
        session.add(poll)
        session.flush()
        for human in rng.sample([h for h in log.humans if not h.erased], 12):
            started = _when(rng, datetime(2025, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
            state = human.last_place(datetime(2100, 1, 1, tzinfo=UTC))
            assert state is not None
            finished = started + timedelta(minutes=5) if rng.random() < 0.7 else None
            session.add(
                PollResponse(
                    poll_id=poll.id,
                    person_id=human.id,
                    channel=state[4],
                    language=state[2],
                    role=PersonRole(state[3]),
                    province_code=PROVINCE,
                    commune_code=state[0],
                    started_at=started,
                    finished_at=finished,
                )
            )
            log.responses.append((started, state[0], finished))


def _contests(db: Database, rng: random.Random, log: Log) -> None:
    """A law contest of two rounds, attempted through and around the period by people of both communes:
    one began at 23:40 on the period's last day and was answered on both sides of midnight, a prestigious
    person answered once for a household group, and one person erased their data afterwards (the attempt
    stays, unlinked)."""
    with db.transaction() as session:
        contest = Contest(title="Tìm hiểu pháp luật", created_at=datetime(2025, 10, 1, tzinfo=UTC))
        contest.questions = [
            ContestQuestion(texts={"vi": f"Câu {n}"}, options=[], correct=0) for n in range(3)
        ]
        contest.rounds = [
            ContestRound(title=title, starts_at=first, ends_at=first + timedelta(days=200))
            for title, first in (
                ("Vòng 1", datetime(2025, 11, 1, tzinfo=UTC)),
                ("Vòng 2", datetime(2026, 6, 1, tzinfo=UTC)),
            )
        ]
        session.add(contest)
        session.flush()
        question_ids = [q.id for q in contest.questions]
        edge = datetime(2026, 12, 15, 16, 40, tzinfo=UTC)  # 23:40 on 15/12/2026, Vietnam time
        known = [h for h in log.humans if not h.erased]
        for n, human in enumerate(rng.sample(known, 16)):
            round_ = contest.rounds[n % 2]
            started = edge if n == 0 else _when(rng, round_.starts_at, round_.ends_at)
            state = human.last_place(datetime(2100, 1, 1, tzinfo=UTC))
            assert state is not None
            answers = [(started + timedelta(minutes=10 * (k + 1)), rng.random() < 0.6) for k in range(3)]
            if n % 5 == 4:
                answers = answers[:2]  # gave up after two questions
            finished = answers[-1][0] if len(answers) == 3 else None
            for for_group in (False, True) if n == 1 else (False,):
                attempt = Attempt(
                    round_id=round_.id,
                    person_id=None if n == 2 else human.id,  # the third person erased their data since
                    for_group=for_group,
                    question_ids=question_ids,
                    asked=3,
                    channel=state[4],
                    language=state[2],
                    role=PersonRole(state[3]),
                    province_code=PROVINCE,
                    commune_code=state[0],
                    score=sum(right for _, right in answers),
                    started_at=started,
                    finished_at=finished,
                )
                session.add(attempt)
                session.flush()
                for question_id, (at, right) in zip(question_ids, answers, strict=False):
                    session.add(
                        ContestAnswer(
                            attempt_id=attempt.id,
                            question_id=question_id,
                            option=0,
                            right=right,
                            created_at=at,
                        )
                    )
                log.attempts.append(
                    Tried(
                        f"{contest.title} – {round_.title}", started, state[0], finished, answers, for_group
                    )
                )
