"""Finding, creating, listing and forgetting people; never commits, the caller owns the transaction."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.messages.models import Message
from bot.people.models import Identity, Invite, Person, PersonRole


def channel_of(urn: str) -> str:
    """'telegram:123' -> 'telegram'."""
    return urn.split(":", 1)[0]


def get(session: Session, person_id: int) -> Person | None:
    """A person by id."""
    return session.get(Person, person_id)


def get_by_urn(session: Session, urn: str, *, for_update: bool = False) -> Person | None:
    """The person behind a channel address, if known; `for_update` locks the row (PostgreSQL) so two
    processes handling the same person's messages take turns instead of overwriting each other's state."""
    stmt = select(Person).join(Identity).where(Identity.urn == urn)
    return session.scalar(stmt.with_for_update(of=Person) if for_update else stmt)


def get_or_create_by_urn(session: Session, urn: str, *, display_name: str = "") -> tuple[Person, bool]:
    """The person behind a URN, created on first contact; the flag says whether it is new."""
    person = get_by_urn(session, urn, for_update=True)
    if person is not None:
        person.last_seen_at = utcnow()
        if display_name and not person.display_name:
            person.display_name = display_name
        return person, False
    person = Person(display_name=display_name[:200])
    person.identities.append(Identity(urn=urn, channel=channel_of(urn)))
    session.add(person)
    session.flush()
    return person, True


def urns_of(session: Session, person: Person) -> list[str]:
    """Every channel address of a person."""
    return list(session.scalars(select(Identity.urn).where(Identity.person_id == person.id)))


def delete(session: Session, person: Person) -> None:
    """Forget a person entirely: identities, messages and profile (the data protection right to erasure)."""
    session.execute(sql_delete(Message).where(Message.person_id == person.id))
    session.delete(person)
    session.flush()


@dataclass(frozen=True)
class PersonFilter:
    """What the admin's people list can be narrowed to."""

    query: str = ""
    language: str | None = None
    commune_codes: Collection[int] | None = None
    role: PersonRole | None = None


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _filtered(stmt: S, flt: PersonFilter) -> S:
    """Apply search text, language and commune scope to a people query."""
    stmt = _scoped(stmt, flt.commune_codes)
    if flt.language:
        stmt = stmt.where(Person.language == flt.language)
    if flt.role:
        stmt = stmt.where(Person.role == flt.role)
    if flt.query:
        like = f"%{flt.query.strip()}%"
        stmt = stmt.where(
            or_(Person.display_name.ilike(like), Person.identities.any(Identity.urn.ilike(like)))
        )
    return stmt


def get_all(session: Session, flt: PersonFilter, *, offset: int, limit: int) -> tuple[list[Person], int]:
    """One page of people, newest first, with the total count for pagination."""
    total = session.scalar(_filtered(select(func.count(Person.id)), flt)) or 0
    stmt = _filtered(select(Person), flt).order_by(Person.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(stmt)), total


def in_scope(person: Person, commune_codes: Collection[int] | None) -> bool:
    """Whether an admin scoped to these communes (None: all) may see this person."""
    return commune_codes is None or person.commune_code in commune_codes


def _scoped(stmt: S, commune_codes: Collection[int] | None) -> S:
    """Limit a statement over people to an admin's communes."""
    return stmt if commune_codes is None else stmt.where(Person.commune_code.in_(list(commune_codes)))


def count_by_language(session: Session, commune_codes: Collection[int] | None) -> list[tuple[str, int]]:
    """How many people chose each language, most first."""
    stmt = _scoped(select(Person.language, func.count()).group_by(Person.language), commune_codes)
    rows = [(lang or "", int(n)) for lang, n in session.execute(stmt)]
    return sorted(rows, key=lambda r: -r[1])


def count_by_commune(
    session: Session, commune_codes: Collection[int] | None, limit: int = 15
) -> list[tuple[int | None, int]]:
    """The communes with the most people."""
    n = func.count().label("n")
    stmt = _scoped(select(Person.commune_code, n).group_by(Person.commune_code), commune_codes)
    return [(code, int(c)) for code, c in session.execute(stmt.order_by(n.desc()).limit(limit))]


def new_per_day(
    session: Session, since: datetime, commune_codes: Collection[int] | None
) -> list[tuple[str, int]]:
    """People who first wrote on each day."""
    day = func.date(Person.created_at)
    stmt = _scoped(
        select(day, func.count()).where(Person.created_at >= since).group_by(day).order_by(day), commune_codes
    )
    return [(str(d), int(c)) for d, c in session.execute(stmt)]


def count_all(session: Session, commune_codes: Collection[int] | None) -> int:
    """People in scope."""
    return session.scalar(_scoped(select(func.count(Person.id)), commune_codes)) or 0


INVITE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: easy to read out aloud


def create_invite(
    session: Session, *, commune_code: int | None, created_by: int | None, days: int = 14
) -> Invite:
    """A one-time code that makes whoever enters it in the bot a prestigious person."""
    code = "UT-" + "".join(secrets.choice(INVITE_ALPHABET) for _ in range(6))
    invite = Invite(
        code=code,
        commune_code=commune_code,
        created_by=created_by,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    return invite


def redeem_invite(session: Session, person: Person, typed: str) -> bool:
    """Make the person prestigious if the code is valid, unused and unexpired; codes work once."""
    code = typed.strip().upper().replace(" ", "")
    code = code if code.startswith("UT-") else "UT-" + code.removeprefix("UT")
    invite = session.get(Invite, code, with_for_update=True)
    if invite is None or invite.used_by is not None or invite.expires_at < utcnow():
        return False
    invite.used_by, invite.used_at = person.id, utcnow()
    person.role = PersonRole.prestigious
    return True


def set_role(session: Session, person: Person, role: PersonRole) -> None:
    """An admin marks or unmarks a prestigious person."""
    person.role = role


def invites(session: Session, commune_codes: Collection[int] | None, limit: int = 50) -> list[Invite]:
    """The latest invite codes, those for the admin's communes when they are limited to some."""
    stmt = select(Invite).order_by(Invite.created_at.desc()).limit(limit)
    if commune_codes is not None:
        stmt = stmt.where(Invite.commune_code.in_(list(commune_codes)))
    return list(session.scalars(stmt))
