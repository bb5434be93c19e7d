"""Recording messages: inbound once per external id, outbound as an outbox to send after commit."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import day_number, fold_changes, kept_and_changed, utcnow
from bot.messages.models import Direction, Message, MessageDay, MessageDayChange, MessageDayZone, Status
from bot.people.models import Person
from bot.people.service import channel_of

# The hot path (every message in and out) runs these statements, built once with bind parameters, on the
# session's connection: rebuilding and coercing them per call cost more than the SQL itself.
_T = cast(Table, Message.__table__)
_STORE = {
    dialect: insert_(_T).on_conflict_do_nothing(index_elements=["channel", "external_id"]).returning(_T.c.id)
    for dialect, insert_ in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_FIND = (
    select(_T.c.id, _T.c.status)
    .with_for_update()
    .where(
        _T.c.channel == bindparam("b_channel"),
        _T.c.external_id.in_([bindparam("b_external_id"), bindparam("b_erased_id")]),
    )
)
_HANDLED = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(person_id=bindparam("b_person_id"), status=Status.handled, done_at=bindparam("b_done"))
)
_HANDLED_BLANK = _HANDLED.values(text="", payload={})
_FORGET = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(urn="", text="", payload={}, error=None, person_id=None, external_id=bindparam("b_key"))
)
_QUEUE = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
_DELIVERED = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        sent_id=bindparam("b_sent_id"),
        error=bindparam("b_error"),
        done_at=bindparam("b_done"),
    )
)


def replay_key(external_id: str) -> str:
    """What an erased person's message keeps of its platform id: enough to know a redelivery, not the id
    itself (web and Zalo ids can contain the person's address)."""
    return "#" + hashlib.sha256(external_id.encode()).hexdigest()[:40]


def store_inbound(
    session: Session, *, urn: str, external_id: str | None, kind: str, text: str, payload: dict[str, Any]
) -> int | None:
    """Insert an inbound message unless its (channel, external id) is stored already: one statement,
    safe against another process storing the same redelivery at the same instant. Returns the new id."""
    conn = session.connection()
    row = {
        "urn": urn,
        "channel": channel_of(urn),
        "direction": Direction.inbound,
        "status": Status.received,
        "external_id": external_id,
        "kind": kind,
        "text": text,
        "payload": payload,
        "created_at": utcnow(),
    }
    new_id: int | None = conn.execute(_STORE[conn.dialect.name], row).scalar()
    return new_id


@dataclass(frozen=True)
class Stored:
    """An inbound message as the conversation core needs it: its id, and whether it was handled before."""

    id: int
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
    """The stored inbound message, stored now if new; `handled` marks a redelivery of a handled one."""
    if external_id is not None:
        params = {
            "b_channel": channel_of(urn),
            "b_external_id": external_id,
            "b_erased_id": replay_key(external_id),
        }
        found = session.connection().execute(_FIND, params).first()
        if found is not None:
            return Stored(found.id, handled=found.status == Status.handled)
    new_id = store_inbound(session, urn=urn, external_id=external_id, kind=kind, text=text, payload=payload)
    if new_id is None:  # another process stored it between our look-up and insert
        return record_inbound(
            session, urn=urn, external_id=external_id, kind=kind, text=text, payload=payload
        )
    return Stored(new_id, handled=False)


def mark_handled(
    session: Session, message_id: int, person_id: int | None, *, keep_content: bool = True
) -> None:
    """Inbound message acted on; linked to its person for the admin's history. Without `keep_content` (the
    person has not agreed to the privacy notice) what they wrote goes once it has been answered."""
    statement = _HANDLED if keep_content else _HANDLED_BLANK
    session.connection().execute(
        statement, {"b_id": message_id, "b_person_id": person_id, "b_done": utcnow()}
    )


def forget(session: Session, person_id: int, urns: Collection[str]) -> None:
    """Delete every message to and from a person who erased their data, their address included. Of what
    they sent only a digest of the platform's id is left, so a redelivered update is known as one and
    does not bring the person back."""
    mine = or_(Message.person_id == person_id, Message.urn.in_(list(urns)))
    session.execute(
        delete(Message).where(
            mine, or_(Message.direction == Direction.outbound, Message.external_id.is_(None))
        ),
        execution_options={"synchronize_session": False},
    )
    kept = session.execute(select(Message.id, Message.external_id).where(mine)).all()
    if kept:
        rows = [{"b_id": i, "b_key": replay_key(external_id)} for i, external_id in kept if external_id]
        session.connection().execute(_FORGET, rows)


def blank_mentions(session: Session, needles: Collection[str]) -> None:
    """Blank Loa Bản's messages that quote something erased: officials are told of a new reflection, its
    text included, in their own chats. A scan of the outbox, for erasures only."""
    for needle in needles:
        session.execute(
            update(Message)
            .where(Message.direction == Direction.outbound, Message.text.contains(needle, autoescape=True))
            .values(text=""),
            execution_options={"synchronize_session": False},
        )


def settle(session: Session, *, blank: Collection[int], drop: Collection[int]) -> None:
    """What the outbox keeps of sent messages: not the text of messages to people who have not agreed to
    the privacy notice (the buttons stay, Zalo reads taps against them), nothing of farewells to people
    who erased their data."""
    if blank:
        session.execute(
            update(Message).where(Message.id.in_(list(blank))).values(text=""),
            execution_options={"synchronize_session": False},
        )
    if drop:
        session.execute(
            delete(Message).where(Message.id.in_(list(drop))),
            execution_options={"synchronize_session": False},
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
    return list(session.connection().execute(_QUEUE, rows).scalars())


def record_outbound(
    session: Session, *, person_id: int | None, urn: str, kind: str, text: str, payload: dict[str, Any]
) -> int:
    """Queue one message in the outbox; returns its id."""
    return record_outbound_many(session, person_id=person_id, urn=urn, items=[(kind, text, payload)])[0]


def record_sent(
    session: Session, items: Sequence[tuple[int | None, str, str, str, dict[str, Any], str | None]]
) -> None:
    """Keep (person id, urn, kind, text, payload, platform id) of messages already sent, in one statement:
    the sender that sent them recorded their outcome first, so they never wait in the outbox."""
    if not items:
        return
    now = utcnow()
    rows = [
        {
            "person_id": person_id,
            "urn": urn,
            "channel": channel_of(urn),
            "direction": Direction.outbound,
            "status": Status.sent,
            "kind": kind,
            "text": text,
            "payload": payload,
            "sent_id": sent_id,
            "created_at": now,
            "done_at": now,
        }
        for person_id, urn, kind, text, payload, sent_id in items
    ]
    session.connection().execute(insert(_T), rows)


def mark_delivered(session: Session, outcomes: Sequence[tuple[int, str | None, str | None]]) -> None:
    """Record (message id, platform id, error) for sent messages in one statement; an error means failed."""
    if not outcomes:
        return
    now = utcnow()
    session.connection().execute(
        _DELIVERED,
        [
            {
                "b_id": message_id,
                "b_status": Status.sent if error is None else Status.failed,
                "b_sent_id": sent_id,
                "b_error": None if error is None else error[:2000],
                "b_done": now,
            }
            for message_id, sent_id, error in outcomes
        ],
    )


def hold(session: Session, outcomes: Sequence[tuple[int, str]]) -> None:
    """Keep (message id, reason) in the outbox: a platform refused them for now, not for good."""
    if outcomes:
        session.connection().execute(
            _DELIVERED,
            [
                {
                    "b_id": i,
                    "b_status": Status.pending,
                    "b_sent_id": None,
                    "b_error": e[:2000],
                    "b_done": None,
                }
                for i, e in outcomes
            ],
        )


def held(session: Session, urn: str, limit: int = 20) -> list[Message]:
    """Messages kept back from an address, oldest first."""
    stmt = (
        select(Message)
        .where(
            Message.urn == urn,
            Message.direction == Direction.outbound,
            Message.status == Status.pending,
            Message.error.is_not(None),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


LARGEST_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL


def outbound_after(session: Session, urn: str, after: int, limit: int = 50) -> list[Message]:
    """Outbound messages for one address newer than a cursor, for clients that poll (web chat); a cursor
    beyond the largest possible id finds nothing (PostgreSQL would refuse to compare it: a 500)."""
    if after >= LARGEST_ID:
        return []
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


def claim_unfinished(
    session: Session,
    channel: str,
    direction: Direction,
    *,
    older_than: timedelta,
    lease: timedelta,
    limit: int,
) -> list[Message]:
    """Take, oldest first, what a stopped process left or a failure let drop: replies committed but never
    sent (outbound), messages stored but never acted on (inbound). Each is taken by one process until
    `lease` runs out (then another may, should this one die first): processes restarting together do not
    all send the same replies. PostgreSQL skips rows another claimer holds; SQLite claims one at a time."""
    now = utcnow()
    status = Status.pending if direction == Direction.outbound else Status.received
    # A reply a platform refused for now is held (with its reason) until the person writes again.
    held_back = [Message.error.is_(None)] if direction == Direction.outbound else []
    free = (
        select(Message.id)
        .where(
            Message.channel == channel,
            Message.direction == direction,
            Message.status == status,
            Message.created_at <= now - older_than,
            or_(Message.claimed_until.is_(None), Message.claimed_until <= now),
            *held_back,
        )
        .order_by(Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(Message)
        .where(Message.id.in_(free.scalar_subquery()))
        .values(claimed_until=now + lease)
        .returning(Message),
        execution_options={"synchronize_session": False},
    )
    return sorted(claimed, key=lambda m: m.id)


def count_per_day(
    session: Session, edges: Sequence[datetime], commune_codes: Collection[int] | None, zone: str
) -> list[tuple[date, str, int]]:
    """(local day, direction, count) rows for the days between `edges` (bot.db.midnights in `zone`),
    limited to some communes if given: the dashboard's chart, read from the counts kept per day
    (MessageDay, plus the changes not folded into them yet) when they are kept in that zone, else counted
    over the messages themselves."""
    if session.scalar(select(MessageDayZone.zone)) != zone:
        return count_messages_per_day(session, edges, commune_codes)
    first, end = edges[0].date(), edges[-1].date()
    codes = None if commune_codes is None else list(commune_codes)
    both = kept_and_changed(
        MessageDayChange,
        MessageDay,
        ("day", "direction", "messages"),
        lambda c: and_(c.day >= first, c.day < end, true() if codes is None else c.commune_code.in_(codes)),
    )
    keys = (both.c.day, both.c.direction)
    found = session.execute(select(*keys, func.sum(both.c.messages)).group_by(*keys))
    return sorted((d, str(direction), int(n)) for d, direction, n in found if n)


def fold_days(session: Session) -> None:
    """Move the messages the triggers appended into the counts per day, so the list of changes stays short."""
    keys = ("day", "commune_code", "channel", "direction")
    fold_changes(session, MessageDayChange, MessageDay, keys, ("messages",))


def count_messages_per_day(
    session: Session, edges: Sequence[datetime], commune_codes: Collection[int] | None
) -> list[tuple[date, str, int]]:
    """count_per_day over every message (people's communes as they are now): for a deployment whose
    zone is not the one the kept counts follow (SQLite with summer time, or a zone changed since)."""
    number = day_number(session, Message.created_at, edges).label("day")
    stmt = select(number, Message.direction).where(
        Message.created_at >= edges[0], Message.created_at < edges[-1]
    )
    if commune_codes is not None:
        stmt = stmt.join(Person, Person.id == Message.person_id).where(
            Person.commune_code.in_(list(commune_codes))
        )
    days = stmt.subquery()
    counted = select(days.c.day, days.c.direction, func.count()).group_by(days.c.day, days.c.direction)
    found = session.execute(counted)
    return sorted((edges[int(n) - 1].date(), str(direction), int(c)) for n, direction, c in found)


def last_inbound_urn(session: Session, person_id: int) -> str | None:
    """The channel address a person last wrote from: answers go back where the person asked."""
    stmt = (
        select(Message.urn)
        .where(Message.person_id == person_id, Message.direction == Direction.inbound)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def recent_buttons(session: Session, urn: str, limit: int = 5) -> list[list[tuple[str, str]]]:
    """The (label, payload) buttons of the last messages sent to an address, newest first (an empty list
    for a message without buttons): what the person may be answering."""
    stmt = (
        select(Message.payload)
        .where(Message.urn == urn, Message.direction == Direction.outbound)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return [
        [(b["label"], b["payload"]) for b in (payload or {}).get("buttons", [])]
        for payload in session.scalars(stmt)
    ]


def latest_of(session: Session, urn: str, limit: int) -> list[Message]:
    """The latest messages to and from one address, oldest first: a web chat page shown again."""
    stmt = select(Message).where(Message.urn == urn).order_by(Message.id.desc()).limit(limit)
    return list(reversed(list(session.scalars(stmt))))
