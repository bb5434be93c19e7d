"""Recording messages: inbound once per external id, outbound as an outbox to send after commit."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.messages.models import Direction, Message, Status
from bot.people.models import Person
from bot.people.service import channel_of


def _insert(session: Session):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert


def store_inbound(
    session: Session, *, urn: str, external_id: str | None, kind: str, text: str, payload: dict[str, Any]
) -> int | None:
    """Insert an inbound message unless its (channel, external id) is stored already: one statement,
    safe against another process storing the same redelivery at the same instant. Returns the new id."""
    stmt = (
        _insert(session)(Message)
        .values(
            urn=urn,
            channel=channel_of(urn),
            direction=Direction.inbound,
            status=Status.received,
            external_id=external_id,
            kind=kind,
            text=text,
            payload=payload,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(Message.id)
    )
    new_id: int | None = session.scalar(stmt)
    return new_id


@dataclass(frozen=True)
class Stored:
    """An inbound message as the conversation core needs it: its id and whether it is new."""

    id: int
    fresh: bool
    handled: bool


def record_inbound(
    session: Session,
    *,
    urn: str,
    external_id: str | None,
    kind: str,
    text: str,
    payload: dict[str, Any],
) -> Stored:
    """The stored inbound message, stored now if new; `fresh` is False for a redelivery."""
    if external_id is not None:
        row = session.execute(
            select(Message.id, Message.status).where(
                Message.channel == channel_of(urn), Message.external_id == external_id
            )
        ).first()
        if row is not None:
            return Stored(row.id, fresh=row.status == Status.received, handled=row.status == Status.handled)
    new_id = store_inbound(session, urn=urn, external_id=external_id, kind=kind, text=text, payload=payload)
    if new_id is None:  # another process stored it between our look-up and insert
        return record_inbound(
            session, urn=urn, external_id=external_id, kind=kind, text=text, payload=payload
        )
    return Stored(new_id, fresh=True, handled=False)


def mark_handled(session: Session, message_id: int, person_id: int | None) -> None:
    """Inbound message acted on; linked to its person for the admin's history."""
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(person_id=person_id, status=Status.handled, done_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def forget_content(session: Session, message_id: int) -> None:
    """Blank a message whose sender asked to be forgotten, keeping only its id for redelivery checks."""
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(urn="deleted", text="", payload={}, person_id=None)
        .execution_options(synchronize_session=False)
    )


def record_outbound_many(
    session: Session, *, person_id: int | None, urn: str, items: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[int]:
    """Queue replies (kind, text, payload) in the outbox in one statement; they are sent after the commit."""
    if not items:
        return []
    now = utcnow()
    rows = [
        {
            "person_id": person_id,
            "urn": urn,
            "channel": channel_of(urn),
            "direction": Direction.outbound,
            "status": Status.pending,
            "kind": kind,
            "text": text,
            "payload": payload,
            "created_at": now,
        }
        for kind, text, payload in items
    ]
    stmt = insert(Message).returning(Message.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def record_outbound(
    session: Session, *, person_id: int | None, urn: str, kind: str, text: str, payload: dict[str, Any]
) -> int:
    """Queue one message in the outbox; returns its id."""
    return record_outbound_many(session, person_id=person_id, urn=urn, items=[(kind, text, payload)])[0]


def mark_delivered(session: Session, outcomes: Sequence[tuple[int, str | None, str | None]]) -> None:
    """Record (message id, platform id, error) for sent messages in one statement; an error means failed."""
    if not outcomes:
        return
    now = utcnow()
    session.execute(
        update(Message),
        [
            {
                "id": message_id,
                "status": Status.sent if error is None else Status.failed,
                "sent_id": sent_id,
                "error": None if error is None else error[:2000],
                "done_at": now,
            }
            for message_id, sent_id, error in outcomes
        ],
    )


def outbound_after(session: Session, urn: str, after: int, limit: int = 50) -> list[Message]:
    """Outbound messages for one address newer than a cursor, for clients that poll (web chat)."""
    stmt = (
        select(Message)
        .where(Message.urn == urn, Message.direction == Direction.outbound, Message.id > after)
        .order_by(Message.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def history(session: Session, person_id: int, limit: int = 100) -> list[Message]:
    """A person's latest messages in both directions, oldest first."""
    stmt = select(Message).where(Message.person_id == person_id).order_by(Message.id.desc()).limit(limit)
    return list(reversed(list(session.scalars(stmt))))


def unhandled_inbound(session: Session, channel: str, older_than: timedelta) -> list[Message]:
    """Inbound messages stored but never acted on (a crash between store and handle), to replay."""
    cutoff: datetime = utcnow() - older_than
    stmt = (
        select(Message)
        .where(
            Message.channel == channel,
            Message.direction == Direction.inbound,
            Message.status == Status.received,
            Message.created_at < cutoff,
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def count_per_day(
    session: Session, since: datetime, commune_codes: Collection[int] | None
) -> list[tuple[str, str, int]]:
    """(day, direction, count) rows for the dashboard, limited to people of some communes if given."""
    day = func.date(Message.created_at)
    stmt = (
        select(day, Message.direction, func.count())
        .where(Message.created_at >= since)
        .group_by(day, Message.direction)
        .order_by(day)
    )
    if commune_codes is not None:
        stmt = stmt.join(Person, Person.id == Message.person_id).where(
            Person.commune_code.in_(list(commune_codes))
        )
    return [(str(d), str(direction), int(n)) for d, direction, n in session.execute(stmt)]
