"""The report's figures, one function per table, each a plain query over the stored history (the reach
ledger, outbox rows, relays, questions, tickets and their events, poll responses, contest attempts and
answers) bounded by the period's
local days turned into UTC instants: a period and scope give the same figures whenever they are asked."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, Subquery, and_, case, func, select, true
from sqlalchemy.orm import Session

from bot.areas import service as areas
from bot.areas.models import Village
from bot.bulletins.models import Bulletin, BulletinStatus, BulletinVersion, Delivery, DeliveryStatus, Relay
from bot.contests.models import Attempt, Contest, ContestAnswer, ContestRound
from bot.feedback.models import Category, Ticket, TicketEvent
from bot.i18n import KNOWN_LANGUAGES
from bot.media.models import Media
from bot.people.models import PersonRole
from bot.people.service import APP_NAMES
from bot.polls.models import Poll, PollResponse
from bot.qa.models import OpenQuestion, QAEntry
from bot.reports.models import ASKED, FORWARDED, GONE, JOINED, LEFT, REACH_KINDS, ReportEvent

NO_PLACE = "—"


@dataclass(frozen=True)
class Period:
    """Local days from `start` to `end`, both included."""

    start: date
    end: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the local days begin and end at (end excluded)."""
        return _instant(self.start, zone), _instant(self.end + timedelta(days=1), zone)

    def previous(self) -> Period:
        """As many days just before, to compare with."""
        days = (self.end - self.start).days
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=days), end)

    def months(self) -> list[Period]:
        """The period cut at month ends (the first and last parts may be short)."""
        parts, start = [], self.start
        while start <= self.end:
            following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            parts.append(Period(start, min(self.end, following - timedelta(days=1))))
            start = following
        return parts


def _instant(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of a day, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def half_year(year: int) -> Period:
    """The six-monthly report's period, ending on 20/6 as the plans set it."""
    return Period(date(year - 1, 12, 21), date(year, 6, 20))


def whole_year(year: int) -> Period:
    """The yearly report's period, ending on 15/12 as the plans set it."""
    return Period(date(year - 1, 12, 16), date(year, 12, 15))


@dataclass(frozen=True)
class Scope:
    """Which communes a report covers; None: every commune (the province)."""

    communes: tuple[int, ...] | None = None

    def where(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        """A condition limiting a commune column to the scope."""
        return true() if self.communes is None else column.in_(self.communes)


def commune_label(code: int | None) -> str:
    """A commune's name, never its code."""
    area = areas.get_commune(code) if code else None
    return area.name if area else NO_PLACE


def language_label(code: str | None) -> str:
    """A language's Vietnamese name."""
    language = KNOWN_LANGUAGES.get(code or "")
    return language.vietnamese_name if language else (code or NO_PLACE)


def channel_label(code: str | None) -> str:
    """An app's name."""
    return APP_NAMES.get(code or "", code or NO_PLACE)


@dataclass(frozen=True)
class ReachRow:
    """People counted under one name: subscribed when the period ends, joined and left within it."""

    name: str
    subscribed: int = 0
    joined: int = 0
    left: int = 0


@dataclass(frozen=True)
class Reach:
    """Table 1: people reached, by commune, language and app; villages with a prestigious person."""

    total: ReachRow
    communes: list[ReachRow]
    languages: list[ReachRow]
    channels: list[ReachRow]
    villages: int
    villages_with_prestigious: int


Key = tuple[Any, ...]


def _count_if(condition: SQLColumnExpression[bool]) -> ColumnElement[int]:
    """How many rows of a group meet a condition: one figure of a grouped count."""
    return func.sum(case((condition, 1), else_=0))


def _grouped(
    session: Session,
    rows: Select[Any],
    keys: Sequence[SQLColumnExpression[Any]],
    figures: Sequence[SQLColumnExpression[Any]],
) -> list[tuple[Key, list[int]]]:
    """The one shape of the report's counts: the rows a query selects (`rows`: its tables, joins and
    conditions, no columns), grouped by `keys`, each group's figures as whole numbers (none counted: 0)."""
    n = len(keys)
    found = session.execute(rows.add_columns(*keys, *figures).group_by(*keys))
    return [(tuple(row[:n]), [int(v or 0) for v in row[n:]]) for row in found]


Tally = dict[object, tuple[int, int, int]]


def _reach_by(session: Session, scope: Scope, start: datetime, end: datetime) -> tuple[Tally, Tally, Tally]:
    """By commune, by language and by app: the sum of deltas before `end` (subscribed then), the joins and
    the leaves within the period; one pass over the ledger, folded three ways here."""
    inside = and_(ReportEvent.at >= start, ReportEvent.at < end)
    keys = (ReportEvent.commune_code, ReportEvent.language, ReportEvent.channel)
    rows = select().where(
        ReportEvent.kind.in_(REACH_KINDS), ReportEvent.at < end, scope.where(ReportEvent.commune_code)
    )
    figures = (
        func.sum(ReportEvent.delta),
        _count_if(and_(inside, ReportEvent.kind == JOINED)),
        _count_if(and_(inside, ReportEvent.kind.in_((LEFT, GONE)))),
    )
    folded: tuple[Counter[tuple[object, int]], ...] = (Counter(), Counter(), Counter())
    for group, counts in _grouped(session, rows, keys, figures):
        for counter, key in zip(folded, group, strict=True):
            for i, n in enumerate(counts):
                counter[(key, i)] += n
    return _fold(folded[0]), _fold(folded[1]), _fold(folded[2])


def _fold(counter: Counter[tuple[object, int]]) -> Tally:
    """(key, figure) counts as one triple per key."""
    return {key: (counter[(key, 0)], counter[(key, 1)], counter[(key, 2)]) for key, _ in counter}


def _rows(counts: dict[object, tuple[int, int, int]], name: Callable[[object], str]) -> list[ReachRow]:
    """Named rows, most subscribed first, leaving out names nobody was ever counted under."""
    rows = [ReachRow(name(key), *c) for key, c in counts.items() if any(c)]
    return sorted(rows, key=lambda r: (-r.subscribed, r.name))


def reach(session: Session, period: Period, scope: Scope, zone: ZoneInfo) -> Reach:
    """Who was subscribed at the end of the period, who joined and who left in it, where, in which
    language and on which app; and how many villages had a prestigious person subscribed."""
    start, end = period.bounds(zone)
    communes, languages, channels = _reach_by(session, scope, start, end)
    total = ReachRow("", *(sum(c[i] for c in communes.values()) for i in range(3)))
    prestigious = (
        select(ReportEvent.village_id)
        .where(
            ReportEvent.kind.in_(REACH_KINDS),
            ReportEvent.at < end,
            ReportEvent.role == PersonRole.prestigious.value,
            ReportEvent.village_id.is_not(None),
            scope.where(ReportEvent.commune_code),
        )
        .group_by(ReportEvent.village_id)
        .having(func.sum(ReportEvent.delta) > 0)
    )
    villages = select(func.count(Village.id)).where(
        Village.created_at < end, scope.where(Village.commune_code)
    )
    with_prestigious = select(func.count(Village.id)).where(Village.id.in_(prestigious))
    return Reach(
        total=total,
        communes=_rows(communes, lambda c: commune_label(c if isinstance(c, int) else None)),
        languages=_rows(languages, lambda c: language_label(str(c))),
        channels=_rows(channels, lambda c: channel_label(str(c))),
        villages=int(session.scalar(villages) or 0),
        villages_with_prestigious=int(session.scalar(with_prestigious) or 0),
    )


def _where_at(scope: Scope, end: datetime) -> Subquery:
    """Each person's commune as the ledger last knew it before `end` (so a bulletin's recipients are
    placed the same way whenever the report is made): their last row, by a window over the ledger's
    (person, id) index rather than a lookup per person."""
    last = func.row_number().over(partition_by=ReportEvent.person_id, order_by=ReportEvent.id.desc())
    rows = (
        select(ReportEvent.person_id, ReportEvent.commune_code, last.label("rank"))
        .where(ReportEvent.kind.in_(REACH_KINDS), ReportEvent.at < end, ReportEvent.person_id.is_not(None))
        .subquery()
    )
    placed = select(rows.c.person_id, rows.c.commune_code).where(rows.c.rank == 1)
    return placed.where(scope.where(rows.c.commune_code)).subquery()


@dataclass(frozen=True)
class DeliveryRow:
    """Bulletin messages under one name (a language, a commune): recipients and what became of them."""

    name: str
    bulletins: int = 0
    recipients: int = 0
    delivered: int = 0
    undeliverable: int = 0
    failed: int = 0


@dataclass(frozen=True)
class RelayRow:
    """Prestigious persons' confirmations in one village, and the households they said they reached."""

    commune: str
    village: str
    relays: int
    households: int


@dataclass(frozen=True)
class Bulletins:
    """Table 2: bulletins sent, their audio, recipients and outcomes; relays per village."""

    total: DeliveryRow
    minutes: float
    languages: list[DeliveryRow]
    communes: list[DeliveryRow]
    relays: list[RelayRow]

    @property
    def relay_count(self) -> int:
        """Confirmations in all villages."""
        return sum(r.relays for r in self.relays)

    @property
    def households(self) -> int:
        """Households reached by word of mouth, as the prestigious persons said."""
        return sum(r.households for r in self.relays)


UNDELIVERABLE = (DeliveryStatus.unreachable, DeliveryStatus.blocked)


def bulletins(session: Session, period: Period, scope: Scope, zone: ZoneInfo) -> Bulletins:
    """Bulletins sent in the period (by when they were sent) and their messages to the scope's people,
    each placed where the ledger had them when the period ended (for the province also the messages of
    people who erased their data since, placed nowhere): one grouped pass over the outbox."""
    start, end = period.bounds(zone)
    sent = select(Bulletin.id).where(
        Bulletin.send_at >= start, Bulletin.send_at < end, Bulletin.status != BulletinStatus.draft
    )
    placed = _where_at(scope, end)
    rows = select().select_from(Delivery).where(Delivery.bulletin_id.in_(sent))
    on = placed.c.person_id == Delivery.person_id
    rows = rows.outerjoin(placed, on) if scope.communes is None else rows.join(placed, on)
    keys = (Delivery.bulletin_id, Delivery.language, placed.c.commune_code, Delivery.status)
    by_language: dict[object, _Outbox] = defaultdict(_Outbox)
    by_commune: dict[object, _Outbox] = defaultdict(_Outbox)
    everyone = _Outbox()
    for (bulletin_id, language, commune, status), (n,) in _grouped(session, rows, keys, [func.count()]):
        targets = [by_language[language], everyone] + ([by_commune[commune]] if commune is not None else [])
        for tally in targets:
            tally.add(bulletin_id, DeliveryStatus(status), n)
    reached = sorted(everyone.bulletins) if scope.communes is not None else list(session.scalars(sent))
    voice = (
        select(func.coalesce(func.sum(Media.duration), 0.0))
        .select_from(BulletinVersion)
        .join(Media, Media.id == BulletinVersion.voice_id)
        .where(BulletinVersion.bulletin_id.in_(reached))
    )
    relays = (
        select()
        .select_from(Relay)
        .outerjoin(Village, Village.id == Relay.village_id)
        .where(Relay.bulletin_id.in_(sent), Relay.created_at < end, scope.where(Relay.commune_code))
    )
    relay_rows = [
        RelayRow(commune_label(c), v or NO_PLACE, *counts)
        for (c, v), counts in _grouped(
            session, relays, (Relay.commune_code, Village.name), (func.count(), func.sum(Relay.households))
        )
    ]
    return Bulletins(
        total=replace(everyone.row(""), bulletins=len(reached)),
        minutes=round(float(session.scalar(voice) or 0.0) / 60, 1),
        languages=_named(by_language, lambda k: language_label(str(k))),
        communes=_named(by_commune, lambda k: commune_label(k if isinstance(k, int) else None)),
        relays=sorted(relay_rows, key=lambda r: (r.commune, r.village)),
    )


@dataclass
class _Outbox:
    """Outbox rows under one name while they are read."""

    bulletins: set[int] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, bulletin_id: int, status: DeliveryStatus, n: int) -> None:
        """Count n rows of a bulletin in a status."""
        self.bulletins.add(bulletin_id)
        self.counts["recipients"] += n
        if status == DeliveryStatus.sent:
            self.counts["delivered"] += n
        elif status in UNDELIVERABLE:
            self.counts["undeliverable"] += n
        elif status == DeliveryStatus.failed:
            self.counts["failed"] += n

    def row(self, name: str) -> DeliveryRow:
        """The finished row."""
        c = self.counts
        return DeliveryRow(
            name, len(self.bulletins), c["recipients"], c["delivered"], c["undeliverable"], c["failed"]
        )


def _named(rows: dict[object, _Outbox], name: Callable[[object], str]) -> list[DeliveryRow]:
    """Rows given their names, most recipients first."""
    return sorted((r.row(name(k)) for k, r in rows.items()), key=lambda r: (-r.recipients, r.name))


@dataclass(frozen=True)
class QuestionRow:
    """Questions from one commune."""

    name: str
    asked: int = 0
    answered_by_bot: int = 0
    forwarded: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class Questions:
    """Table 3: questions asked, answered by Loa Bản, forwarded, answered by officials; the ten topics most
    asked about; Q&A entries added."""

    total: QuestionRow
    communes: list[QuestionRow]
    topics: list[tuple[str, int]]
    entries_added: int


def questions(session: Session, period: Period, scope: Scope, zone: ZoneInfo, answer_days: int) -> Questions:
    """Questions typed in the period where the person was then; forwarded ones answered by officials
    within `answer_days` or later, or still waiting when the period ended."""
    start, end = period.bounds(zone)
    inside = and_(ReportEvent.at >= start, ReportEvent.at < end, scope.where(ReportEvent.commune_code))
    asked = (
        _count_if(ReportEvent.kind == ASKED),
        _count_if(and_(ReportEvent.kind == ASKED, ReportEvent.outcome == "answered")),
        _count_if(ReportEvent.kind == FORWARDED),
    )
    events = select().where(ReportEvent.kind.in_((ASKED, FORWARDED)), inside)
    rows: dict[int | None, list[int]] = defaultdict(lambda: [0] * 6)
    for (commune,), counts in _grouped(session, events, [ReportEvent.commune_code], asked):
        rows[commune][:3] = counts
    late_after = timedelta(days=answer_days)
    officials = select(OpenQuestion.commune_code, OpenQuestion.created_at, OpenQuestion.answered_at).where(
        OpenQuestion.created_at >= start,
        OpenQuestion.created_at < end,
        scope.where(OpenQuestion.commune_code),
    )
    for commune, created, answered in session.execute(officials):
        if answered is None or answered >= end:
            rows[commune][5] += 1
        else:
            rows[commune][3 if answered - created <= late_after else 4] += 1
    communes = sorted(
        (QuestionRow(commune_label(c), *v) for c, v in rows.items()), key=lambda r: (-r.asked, r.name)
    )
    total = QuestionRow("", *(sum(r[i] for r in rows.values()) for i in range(6)))
    return Questions(total, communes, _topics(session, inside), _entries_added(session, start, end, scope))


TOP_TOPICS = 10


def _topics(session: Session, inside: ColumnElement[bool]) -> list[tuple[str, int]]:
    """The topics (the tags of the entries Loa Bản answered with) most asked about."""
    answered = select().where(ReportEvent.kind == ASKED, ReportEvent.entry_id.is_not(None), inside)
    counts = {str(e): n for (e,), (n,) in _grouped(session, answered, [ReportEvent.entry_id], [func.count()])}
    tags = dict(
        (e, t)
        for e, t in session.execute(select(QAEntry.id, QAEntry.tags).where(QAEntry.id.in_(list(counts))))
    )
    topics: Counter[str] = Counter()
    for entry_id, n in counts.items():
        for tag in tags.get(entry_id) or [entry_id]:
            topics[str(tag)] += int(n)
    return sorted(topics.items(), key=lambda t: (-t[1], t[0]))[:TOP_TOPICS]


def _entries_added(session: Session, start: datetime, end: datetime, scope: Scope) -> int:
    """Q&A entries written in the period: all of them for the province, those that hold for one of its
    communes for a commune's report."""
    rows = session.execute(
        select(QAEntry.communes).where(QAEntry.created_at >= start, QAEntry.created_at < end)
    ).scalars()
    if scope.communes is None:
        return sum(1 for _ in rows)
    return sum(1 for communes in rows if set(communes or []) & set(scope.communes))


@dataclass(frozen=True)
class FeedbackRow:
    """Reflections under one name (a category, a commune) and how they were dealt with by the period's end."""

    name: str
    received: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    waiting: int = 0
    average_days: float | None = None
    satisfied: int = 0
    unsatisfied: int = 0
    reopened: int = 0


@dataclass(frozen=True)
class Feedback:
    """Table 4: reflections by category and by commune."""

    total: FeedbackRow
    categories: list[FeedbackRow]
    communes: list[FeedbackRow]


@dataclass
class _Tally:
    """Counts for one FeedbackRow while tickets are read."""

    counts: list[int] = field(default_factory=lambda: [0] * 8)
    days: list[float] = field(default_factory=list)

    def row(self, name: str) -> FeedbackRow:
        """The finished row; the average over answered tickets."""
        received, on_time, late, overdue, waiting, satisfied, unsatisfied, reopened = self.counts
        average = round(sum(self.days) / len(self.days), 1) if self.days else None
        return FeedbackRow(
            name, received, on_time, late, overdue, waiting, average, satisfied, unsatisfied, reopened
        )


def _deadline(ticket_due_on: date, due_at: datetime | None, zone: ZoneInfo) -> datetime:
    """When a ticket had to be answered: an urgent one's hour, else the end of its due day, locally."""
    return due_at if due_at is not None else _instant(ticket_due_on + timedelta(days=1), zone)


def feedback(session: Session, period: Period, scope: Scope, zone: ZoneInfo) -> Feedback:
    """Reflections received in the period; their first answer (on time or late), or none by the period's
    end (overdue when the deadline had passed); satisfaction, reopening; as the events stood at its end."""
    start, end = period.bounds(zone)
    first_reply = (
        select(TicketEvent.ticket_id, func.min(TicketEvent.created_at).label("at"))
        .where(TicketEvent.kind == "reply", TicketEvent.created_at < end)
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    judged = (
        select()
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.kind.in_(("satisfied", "unsatisfied", "reopened")),
            TicketEvent.created_at < end,
            Ticket.created_at >= start,
            Ticket.created_at < end,
        )
    )
    verdicts = {
        (ticket_id, kind): n
        for (ticket_id, kind), (n,) in _grouped(
            session, judged, (TicketEvent.ticket_id, TicketEvent.kind), [func.count()]
        )
    }
    tickets = (
        select(
            Ticket.id,
            Ticket.commune_code,
            Category.label,
            Ticket.created_at,
            Ticket.due_on,
            Ticket.due_at,
            first_reply.c.at,
        )
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(first_reply, first_reply.c.ticket_id == Ticket.id)
        .where(Ticket.created_at >= start, Ticket.created_at < end, scope.where(Ticket.commune_code))
    )
    total = _Tally()
    by_category: defaultdict[str, _Tally] = defaultdict(_Tally)
    by_commune: defaultdict[int | None, _Tally] = defaultdict(_Tally)
    for ticket_id, commune, category, created, due_on, due_at, replied in session.execute(tickets):
        deadline = _deadline(due_on, due_at, zone)
        outcome = (1 if replied <= deadline else 2) if replied is not None else 3 if deadline < end else 4
        flags = [verdicts.get((ticket_id, k), 0) > 0 for k in ("satisfied", "unsatisfied", "reopened")]
        for tally in (total, by_category[category or NO_PLACE], by_commune[commune]):
            tally.counts[0] += 1
            tally.counts[outcome] += 1
            for i, flag in enumerate(flags):
                tally.counts[5 + i] += int(flag)
            if replied is not None:
                tally.days.append((replied - created).total_seconds() / 86400)
    return Feedback(
        total=total.row(""),
        categories=sorted((t.row(c) for c, t in by_category.items()), key=lambda r: (-r.received, r.name)),
        communes=sorted(
            (t.row(commune_label(c)) for c, t in by_commune.items()), key=lambda r: (-r.received, r.name)
        ),
    )


@dataclass(frozen=True)
class ParticipationRow:
    """People who took part in one activity (a poll, a contest) in one commune."""

    activity: str
    commune: str
    started: int
    finished: int


def participation(session: Session, period: Period, scope: Scope, zone: ZoneInfo) -> list[ParticipationRow]:
    """Table 5's polls: responses begun in the period, by poll and commune (where the person was when
    answering), and those finished before its end."""
    start, end = period.bounds(zone)
    responses = (
        select()
        .select_from(PollResponse)
        .join(Poll, Poll.id == PollResponse.poll_id)
        .where(
            PollResponse.started_at >= start,
            PollResponse.started_at < end,
            scope.where(PollResponse.commune_code),
        )
    )
    keys = (Poll.id, Poll.title, PollResponse.commune_code)
    figures = (func.count(), _count_if(PollResponse.finished_at < end))
    rows = [
        ParticipationRow(t, commune_label(c), *counts)
        for (_, t, c), counts in _grouped(session, responses, keys, figures)
    ]
    return sorted(rows, key=lambda r: (r.activity, r.commune))


@dataclass(frozen=True)
class ContestRow:
    """One contest round's attempts in one commune (or all of the scope's): begun, finished, the answers
    given and how many of them were right."""

    commune: str
    started: int = 0
    finished: int = 0
    answers: int = 0
    right: int = 0


@dataclass(frozen=True)
class RoundFigures:
    """Table 5's contests: one round, by commune, with its total."""

    title: str
    communes: list[ContestRow]
    total: ContestRow


def contests(session: Session, period: Period, scope: Scope, zone: ZoneInfo) -> list[RoundFigures]:
    """Personal attempts at contest rounds begun in the period, by round and by the commune the person
    answered from (a prestigious person's attempts for a household group are apart, as the round's own
    results count them); those finished before the period's end; their answers given before it, and the
    right ones among them."""
    start, end = period.bounds(zone)
    answered = (
        select(
            ContestAnswer.attempt_id,
            func.count().label("answers"),
            _count_if(ContestAnswer.right).label("right"),
        )
        .where(ContestAnswer.created_at < end)
        .group_by(ContestAnswer.attempt_id)
        .subquery()
    )
    attempts = (
        select()
        .select_from(Attempt)
        .join(ContestRound, ContestRound.id == Attempt.round_id)
        .join(Contest, Contest.id == ContestRound.contest_id)
        .outerjoin(answered, answered.c.attempt_id == Attempt.id)
        .where(
            Attempt.for_group.is_(False),
            Attempt.started_at >= start,
            Attempt.started_at < end,
            scope.where(Attempt.commune_code),
        )
    )
    keys = (ContestRound.id, Contest.title, ContestRound.title, Attempt.commune_code)
    figures = (
        func.count(),
        _count_if(Attempt.finished_at < end),
        func.sum(answered.c.answers),
        func.sum(answered.c.right),
    )
    rounds: dict[tuple[str, int], list[ContestRow]] = defaultdict(list)
    for (round_id, contest, title, commune), counts in _grouped(session, attempts, keys, figures):
        rounds[(f"{contest} – {title}", round_id)].append(ContestRow(commune_label(commune), *counts))
    names = ("started", "finished", "answers", "right")
    return [
        RoundFigures(
            title,
            sorted(rows, key=lambda r: r.commune),
            ContestRow("", *(sum(getattr(r, name) for r in rows) for name in names)),
        )
        for (title, _), rows in sorted(rounds.items())
    ]


@dataclass(frozen=True)
class MonthRow:
    """One month of the period: subscribed at its end, and what happened in it."""

    month: str
    subscribed: int
    joined: int
    questions: int
    tickets: int


def months(session: Session, period: Period, scope: Scope, zone: ZoneInfo) -> list[MonthRow]:
    """The period month by month (local months, each bounded in UTC), for the line chart."""
    parts = period.months()
    bounds = [p.bounds(zone) for p in parts]
    start, end = period.bounds(zone)
    at = ReportEvent.at
    ledger = session.execute(
        select(
            func.sum(case((at < start, ReportEvent.delta), else_=0)),
            *(func.sum(case((and_(at >= a, at < b), ReportEvent.delta), else_=0)) for a, b in bounds),
            *(_count_if(and_(at >= a, at < b, ReportEvent.kind == JOINED)) for a, b in bounds),
        ).where(ReportEvent.kind.in_(REACH_KINDS), at < end, scope.where(ReportEvent.commune_code))
    ).one()
    asked = session.execute(
        select(*(_count_if(and_(at >= a, at < b)) for a, b in bounds)).where(
            ReportEvent.kind == ASKED, at >= start, at < end, scope.where(ReportEvent.commune_code)
        )
    ).one()
    filed = session.execute(
        select(*(_count_if(and_(Ticket.created_at >= a, Ticket.created_at < b)) for a, b in bounds)).where(
            Ticket.created_at >= start, Ticket.created_at < end, scope.where(Ticket.commune_code)
        )
    ).one()
    rows, running, n = [], int(ledger[0] or 0), len(parts)
    for i, part in enumerate(parts):
        running += int(ledger[1 + i] or 0)
        rows.append(
            MonthRow(
                f"{part.start.month:02d}/{part.start.year}",
                running,
                int(ledger[1 + n + i] or 0),
                int(asked[i] or 0),
                int(filed[i] or 0),
            )
        )
    return rows


@dataclass(frozen=True)
class Report:
    """Every table of one period and scope, with the same figures for the period before."""

    period: Period
    scope: Scope
    reach: Reach
    bulletins: Bulletins
    questions: Questions
    feedback: Feedback
    participation: list[ParticipationRow]
    contests: list[RoundFigures]
    months: list[MonthRow]
    previous: Report | None = None


def build(
    session: Session,
    period: Period,
    scope: Scope,
    zone: ZoneInfo,
    *,
    answer_days: int,
    compare: bool = True,
) -> Report:
    """The report of a period and scope, and (for the comparison) of the period just before."""
    return Report(
        period=period,
        scope=scope,
        reach=reach(session, period, scope, zone),
        bulletins=bulletins(session, period, scope, zone),
        questions=questions(session, period, scope, zone, answer_days),
        feedback=feedback(session, period, scope, zone),
        participation=participation(session, period, scope, zone),
        contests=contests(session, period, scope, zone),
        months=months(session, period, scope, zone),
        previous=build(session, period.previous(), scope, zone, answer_days=answer_days, compare=False)
        if compare
        else None,
    )


def scopes_of(communes: Iterable[int] | None) -> Scope:
    """A scope from an admin's communes (None: the province)."""
    return Scope(None if communes is None else tuple(sorted(set(communes))))


def may_see(allowed: Collection[int] | None, wanted: Scope) -> bool:
    """Whether an admin limited to `allowed` communes may see a report of this scope."""
    return allowed is None or (wanted.communes is not None and set(wanted.communes) <= set(allowed))
