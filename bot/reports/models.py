"""The history reports are computed from: a ledger of reach (every change of who is subscribed, where, in
which language and on which app, as signed rows) and the questions people asked, each with its moment, so a
report of a past period gives the same figures whatever people did since."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, insert, inspect, select, update
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from bot.db import Base, utcnow
from bot.people.models import Identity, Person, PersonRole

JOINED = "joined"  # finished onboarding: +1
RETURNED = "returned"  # subscribed again: +1
LEFT = "left"  # unsubscribed or blocked the bot: -1
GONE = "gone"  # erased their data or was merged into their other record: -1, no longer linked
MOVED = "moved"  # changed commune, village, language, role or app: -1 as before, +1 as after
ASKED = "asked"  # a question typed to Loa Bản; `outcome` says what it did
FORWARDED = "forwarded"  # a question sent to the officials
REACH_KINDS = (JOINED, RETURNED, LEFT, GONE, MOVED)


class ReportEvent(Base):
    """One row of history. Reach rows carry `delta` (+1/-1) and the person's place, language, role and app
    as they were: the subscribed people of any moment, by any of these, are a SUM of deltas up to it."""

    __tablename__ = "report_events"
    __table_args__ = (
        Index("ix_report_events_kind_at", "kind", "at"),
        Index("ix_report_events_person_id", "person_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(12))
    # No foreign key: merging two records must not move one's rows to the other (its -1 reverses its own
    # +1); a deleted person's rows are unlinked explicitly (_note_deleted).
    person_id: Mapped[int | None]
    delta: Mapped[int] = mapped_column(default=0)
    province_code: Mapped[int | None]
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None]  # no foreign key: a village deleted later still counted where it was
    language: Mapped[str] = mapped_column(String(8), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")  # the app the person first came from
    outcome: Mapped[str] = mapped_column(String(20), default="")  # questions: answered, unsure, not_covered…
    entry_id: Mapped[str | None] = mapped_column(String(80))  # the Q&A entry it was answered with


class ReportReminder(Base):
    """That one official was reminded of one report's due date ('half-2026'): unique, so of processes
    checking together, or again after a restart, one tells them, once; an official who links a chat later
    in the window is told then."""

    __tablename__ = "report_reminders"
    __table_args__ = (UniqueConstraint("period", "admin_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Snapshot = tuple[
    int | None, int | None, int | None, str, str, str
]  # province, commune, village, lang, role, app
TRACKED = (
    "consented_at",
    "declined_at",
    "subscribed",
    "province_code",
    "commune_code",
    "village_id",
    "language",
    "role",
)
SNAPSHOT_COLUMNS = ("province_code", "commune_code", "village_id", "language", "role", "channel")


def _channel(session: Session, person: Person) -> str:
    """The app the person first came from: stable when they link a second one."""
    loaded = inspect(person).attrs.identities.loaded_value
    if isinstance(loaded, list) and loaded:
        return str(min(loaded, key=lambda i: i.id or 0).channel)
    first = select(Identity.channel).where(Identity.person_id == person.id).order_by(Identity.id).limit(1)
    return str(session.scalar(first) or "")


def _now(session: Session, person: Person) -> Snapshot | None:
    """Where, in which language, as whom and on which app the person counts now; None: they get no
    bulletins (not onboarded or unsubscribed, as bulletins.service chooses recipients)."""
    if not (person.onboarded and person.subscribed):
        return None
    role = person.role.value if isinstance(person.role, PersonRole) else str(person.role)
    return (
        person.province_code,
        person.commune_code,
        person.village_id,
        person.language or "",
        role,
        _channel(session, person),
    )


def _counted(session: Session, person_id: int) -> tuple[Snapshot | None, bool]:
    """How the ledger counts the person now (its last row, if a +1), and whether it ever counted them:
    a -1 always reverses exactly what was added, so sums never drift."""
    columns = [ReportEvent.delta, *(getattr(ReportEvent, c) for c in SNAPSHOT_COLUMNS)]
    last = session.execute(
        select(*columns)
        .where(ReportEvent.person_id == person_id, ReportEvent.kind.in_(REACH_KINDS))
        .order_by(ReportEvent.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None, False
    return (tuple(last[1:]) if last[0] > 0 else None), True


def _row(kind: str, person_id: int | None, delta: int, snap: Snapshot, at: datetime) -> dict[str, Any]:
    """A reach row of the ledger, as values to insert."""
    return {
        "at": at,
        "kind": kind,
        "person_id": person_id,
        "delta": delta,
        **dict(zip(SNAPSHOT_COLUMNS, snap, strict=True)),
    }


def _reach_rows(session: Session, person: Person, deleted: bool, at: datetime) -> list[dict[str, Any]]:
    """The ledger rows one flushed change of a person calls for (none when nothing counted changed)."""
    was, seen = _counted(session, person.id)
    now = None if deleted else _now(session, person)
    if was == now:
        return []
    if was is None:
        assert now is not None
        return [_row(RETURNED if seen else JOINED, person.id, 1, now, at)]
    if now is None:
        return [_row(GONE if deleted else LEFT, None if deleted else person.id, -1, was, at)]
    return [_row(MOVED, person.id, -1, was, at), _row(MOVED, person.id, 1, now, at)]


def _touched(person: Person) -> bool:
    """Whether a flushed person changed what the ledger counts by (most flushes only move last_seen_at)."""
    attrs = inspect(person).attrs
    return any(attrs[name].history.has_changes() for name in TRACKED)


PENDING = "report_ledger_rows"  # session.info key: rows for people deleted by this flush


@event.listens_for(Session, "before_flush")
def _note_deleted(session: Session, _context: UOWTransaction, _instances: object) -> None:
    """A deleted person (erased, or merged into their other record) counts no more: their -1 is read from
    the ledger, then their rows are unlinked from them, as everything else they leave behind is."""
    at = utcnow()
    deleted = [p for p in session.deleted if isinstance(p, Person)]
    rows = [row for p in deleted for row in _reach_rows(session, p, True, at)]
    if rows:
        session.info.setdefault(PENDING, []).extend(rows)
    if deleted:
        session.execute(
            update(ReportEvent)
            .where(ReportEvent.person_id.in_([p.id for p in deleted]))
            .values(person_id=None)
            .execution_options(synchronize_session=False)
        )


@event.listens_for(Session, "after_flush")
def _keep_ledger(session: Session, _context: UOWTransaction) -> None:
    """Whatever writes a person (onboarding, the menu, a blocked bot, the admin, erasure, a merge), the
    ledger follows in the same transaction: ids are known here and the changes not yet forgotten."""
    changed = [p for p in session.new if isinstance(p, Person)]
    changed += [p for p in session.dirty if isinstance(p, Person) and _touched(p)]
    at = utcnow()
    rows = session.info.pop(PENDING, [])
    rows += [row for person in changed for row in _reach_rows(session, person, False, at)]
    if rows:
        session.connection().execute(insert(ReportEvent), rows)


def record_question(
    session: Session, person: Person, kind: str, *, outcome: str = "", entry_id: str | None = None
) -> None:
    """A question asked or forwarded, where the person was: its own row, kept when the question is not."""
    session.add(
        ReportEvent(
            kind=kind,
            person_id=person.id,
            province_code=person.province_code,
            commune_code=person.commune_code,
            village_id=person.village_id,
            language=person.language or "",
            outcome=outcome,
            entry_id=entry_id,
        )
    )
