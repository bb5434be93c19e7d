"""Recording messages: inbound once per external id, outbound as an outbox to send after commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.messages.models import Direction, Message, Status
from bot.people.models import Person
from bot.people.service import channel_of


def record_inbound(
    session: Session,
    *,
    urn: str,
    external_id: str | None,
    kind: str,
    text: str,
    payload: dict[str, Any],
) -> tuple[Message, bool]:
    """Store an inbound message; the flag is False when this (channel, external id) was seen before."""
    channel = channel_of(urn)
    if external_id is not None:
        existing = get_by_external_id(session, channel, external_id)
        if existing is not None:
            return existing, False
    message = Message(
        urn=urn,
        channel=channel,
        direction=Direction.inbound,
        status=Status.received,
        external_id=external_id,
        kind=kind,
        text=text,
        payload=payload,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another process stored the same update between our look-up and insert.
        existing = get_by_external_id(session, channel, external_id or "")
        if existing is None:
            raise
        return existing, False
    return message, True


def get_by_external_id(session: Session, channel: str, external_id: str) -> Message | None:
    """The stored message for a platform's id, used to drop redeliveries."""
    return session.scalar(
        select(Message).where(Message.channel == channel, Message.external_id == external_id)
    )


def mark_handled(message: Message, person_id: int | None) -> None:
    """Inbound message acted on; linked to its person for the admin's history."""
    message.person_id = person_id
    message.status = Status.handled
    message.done_at = utcnow()


def forget_content(message: Message) -> None:
    """Blank a message whose sender asked to be forgotten, keeping only its id for redelivery checks."""
    message.urn = "deleted"
    message.text = ""
    message.payload = {}
    message.person_id = None


def record_outbound(
    session: Session, *, person_id: int | None, urn: str, kind: str, text: str, payload: dict[str, Any]
) -> Message:
    """Queue a reply in the outbox; the channel sends it once the transaction commits."""
    message = Message(
        person_id=person_id,
        urn=urn,
        channel=channel_of(urn),
        direction=Direction.outbound,
        status=Status.pending,
        kind=kind,
        text=text,
        payload=payload,
    )
    session.add(message)
    session.flush()
    return message


def mark_sent(session: Session, message_id: int, external_id: str | None) -> None:
    """Record that the platform accepted an outbound message."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status = Status.sent
        message.external_id = external_id
        message.done_at = utcnow()


def mark_failed(session: Session, message_id: int, error: str) -> None:
    """Keep the platform's reason when an outbound message could not be sent."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status = Status.failed
        message.error = error[:2000]
        message.done_at = utcnow()


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
