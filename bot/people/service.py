"""Finding, creating, listing and forgetting people; never commits, the caller owns the transaction."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    UniqueConstraint,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

import bot.reports.models  # noqa: F401  (the reach ledger follows every change of a person)
from bot import codes
from bot.db import day_number, utcnow
from bot.people.models import Identity, Invite, Person, PersonRole
from bot.people.windows import ReplyWindow


def channel_of(urn: str) -> str:
    """'telegram:123' -> 'telegram'."""
    return urn.split(":", 1)[0]


def get(session: Session, *, person_id: int) -> Person | None:
    """A person by id."""
    return session.get(Person, person_id)


def get_by_urn(session: Session, urn: str, *, for_update: bool = False) -> Person | None:
    """The person behind a channel address, if known; `for_update` locks the row (PostgreSQL) so two
    processes handling the same person's messages take turns instead of overwriting each other's state."""
    stmt = select(Person).join(Identity).where(Identity.urn == urn)
    return session.scalar(stmt.with_for_update(of=Person) if for_update else stmt)


def get_or_create_by_urn(session: Session, urn: str, *, display_name: str = "") -> tuple[Person, bool]:
    """The person behind a URN, created on first contact; the flag says whether it is new. The name the
    platform gives is kept only for someone who agreed to the privacy notice."""
    person = get_by_urn(session, urn, for_update=True)
    now = utcnow()
    if person is not None:
        person.last_seen_at = now
        if display_name and not person.display_name and person.consented:
            person.display_name = display_name[:200]
        wrote(session, urn, now)
        return person, False
    person = Person()
    person.identities.append(Identity(urn=urn, channel=channel_of(urn), last_inbound_at=now))
    session.add(person)
    session.flush()
    return person, True


WROTE_PRECISION = timedelta(minutes=10)
INVITE_LIFETIME = timedelta(hours=72)  # an invite code for a prestigious person works three days


def wrote(session: Session, urn: str, at: datetime) -> None:
    """The person wrote from this address: a platform's reply window opens again. An address whose free
    messages are untouched and that wrote minutes ago is left as it is: no write per message on the hot
    path, for a precision windows of hours and days do not need."""
    stale = or_(
        Identity.sent_since_inbound > 0,
        Identity.last_inbound_at.is_(None),
        Identity.last_inbound_at < at - WROTE_PRECISION,
    )
    session.execute(
        update(Identity).where(Identity.urn == urn, stale).values(last_inbound_at=at, sent_since_inbound=0),
        execution_options={"synchronize_session": False},
    )


def count_sent(session: Session, urns: Collection[str]) -> None:
    """Messages reached these addresses (one per occurrence): they count against a reply window's free
    messages. One statement per distinct count, so a batch of any size is a statement or two."""
    counts = Counter(urns)
    for times in set(counts.values()):
        session.execute(
            update(Identity)
            .where(Identity.urn.in_([urn for urn, n in counts.items() if n == times]))
            .values(sent_since_inbound=Identity.sent_since_inbound + times),
            execution_options={"synchronize_session": False},
        )


def unsubscribe(session: Session, person_ids: Collection[int]) -> None:
    """These people blocked the bot: they get nothing more until they come back."""
    if person_ids:
        session.execute(
            update(Person).where(Person.id.in_(list(person_ids))).values(subscribed=False),
            execution_options={"synchronize_session": False},
        )


APP_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "web": "Web"}


def app_name(urn: str) -> str:
    """The app a chat address belongs to, by its name ('telegram:123' -> 'Telegram'): the address itself
    means nothing to a person or an official."""
    channel = urn.split(":", 1)[0]
    return APP_NAMES.get(channel, channel)


def address_of(session: Session, person_id: int, channel: str) -> str | None:
    """Where to tell a person something they took part in: the app they used then, else the one they
    wrote from last (polls' and contests' results back to the people)."""
    return session.scalar(
        select(Identity.urn)
        .where(Identity.person_id == person_id)
        .order_by((Identity.channel == channel).desc(), Identity.last_inbound_at.desc().nulls_last())
        .limit(1)
    )


def urns_of(session: Session, person: Person) -> list[str]:
    """Every channel address of a person."""
    return list(session.scalars(select(Identity.urn).where(Identity.person_id == person.id)))


class Standing(enum.StrEnum):
    """Where a person stands with Loa Bản: the dashboard counts and the people list filter by it alike."""

    onboarded = "onboarded"  # answered the privacy notice: reached by bulletins unless they stopped
    receiving = "receiving"  # onboarded and not stopped
    stopped = "stopped"  # onboarded, then asked for no more bulletins
    signing_up = "signing_up"  # said hello and never finished onboarding


STANDINGS: dict[Standing, ColumnElement[bool]] = {
    Standing.onboarded: and_(Person.onboarded),
    Standing.receiving: and_(Person.onboarded, Person.subscribed.is_(True)),
    Standing.stopped: and_(Person.onboarded, Person.subscribed.is_(False)),
    Standing.signing_up: ~Person.onboarded,
}


@dataclass(frozen=True)
class PersonFilter:
    """What the admin's people list and the dashboard's counts can be narrowed to; `since`/`until` bound
    the moment they first wrote."""

    query: str = ""
    language: str | None = None
    commune_codes: Collection[int] | None = None
    role: PersonRole | None = None
    standing: Standing | None = None
    commune_code: int | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _filtered(stmt: S, flt: PersonFilter) -> S:
    """Apply search text, language, standing, place, app, period and commune scope to a people query."""
    stmt = _scoped(stmt, flt.commune_codes)
    if flt.language:
        stmt = stmt.where(Person.language == flt.language)
    if flt.role:
        stmt = stmt.where(Person.role == flt.role)
    if flt.standing:
        stmt = stmt.where(STANDINGS[flt.standing])
    if flt.commune_code is not None:
        stmt = stmt.where(Person.commune_code == flt.commune_code)
    if flt.channel:
        stmt = stmt.where(Person.identities.any(Identity.channel == flt.channel))
    if flt.since is not None:
        stmt = stmt.where(Person.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Person.created_at < flt.until)
    if flt.query:
        like = f"%{flt.query.strip()}%"
        stmt = stmt.where(
            or_(Person.display_name.ilike(like), Person.identities.any(Identity.urn.ilike(like)))
        )
    return stmt


def get_all(session: Session, flt: PersonFilter, *, offset: int, limit: int) -> tuple[list[Person], int]:
    """One page of people, newest first, with the total count for pagination."""
    stmt = _filtered(select(Person), flt).order_by(Person.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(stmt)), count(session, flt)


def in_scope(person: Person, commune_codes: Collection[int] | None) -> bool:
    """Whether an admin scoped to these communes (None: all) may see this person."""
    return commune_codes is None or person.commune_code in commune_codes


def _scoped(stmt: S, commune_codes: Collection[int] | None) -> S:
    """Limit a statement over people to an admin's communes."""
    return stmt if commune_codes is None else stmt.where(Person.commune_code.in_(list(commune_codes)))


@dataclass(frozen=True)
class ChannelCount:
    """People reachable on one app; for apps with a reply window, where it stands now."""

    channel: str
    total: int
    free: int | None = None
    quota: int | None = None


def count_by_channel(
    session: Session, flt: PersonFilter, windows: Mapping[str, ReplyWindow]
) -> list[ChannelCount]:
    """People per app, and per windowed app how many addresses can be written to now for free or from
    the quota (the rest are closed until they write again), in one pass over the addresses."""
    now = utcnow()
    free = or_(
        false(),
        *(
            and_(
                Identity.channel == channel,
                w.is_free(Identity.last_inbound_at, Identity.sent_since_inbound, now),
            )
            for channel, w in windows.items()
        ),
    )
    quota = or_(
        false(),
        *(
            and_(Identity.channel == channel, w.is_open(Identity.last_inbound_at, now))
            for channel, w in windows.items()
        ),
    )
    stmt = select(
        Identity.channel,
        func.count(func.distinct(Person.id)),
        func.coalesce(func.sum(case((free, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(quota, ~free), 1), else_=0)), 0),
    ).join(Person, Person.id == Identity.person_id)
    counts = [
        ChannelCount(channel, int(n), int(f), int(q)) if channel in windows else ChannelCount(channel, int(n))
        for channel, n, f, q in session.execute(_filtered(stmt.group_by(Identity.channel), flt))
    ]
    return sorted(counts, key=lambda c: -c.total)


def new_per_day(session: Session, flt: PersonFilter, edges: Sequence[datetime]) -> list[tuple[date, int]]:
    """People the filter keeps who first wrote on each local day between `edges` (bot.db.midnights)."""
    number = day_number(session, Person.created_at, edges).label("day")
    period = (Person.created_at >= edges[0], Person.created_at < edges[-1])
    days = _filtered(select(number).where(*period), flt).subquery()
    stmt = select(days.c.day, func.count()).group_by(days.c.day)
    return sorted((edges[int(n) - 1].date(), int(c)) for n, c in session.execute(stmt))


@dataclass(frozen=True)
class Tally:
    """How many people of one commune and language stand where."""

    commune_code: int | None
    language: str
    standings: dict[Standing, int]


def tally(session: Session, flt: PersonFilter) -> list[Tally]:
    """The people the filter keeps by commune and language, each group by standing, in one pass over them:
    the dashboard's totals, communes and languages all add up from it."""
    sums = [func.coalesce(func.sum(case((kept, 1), else_=0)), 0) for kept in STANDINGS.values()]
    stmt = _filtered(select(Person.commune_code, Person.language, *sums), flt)
    rows = session.execute(stmt.group_by(Person.commune_code, Person.language))
    return [
        Tally(commune, language or "", dict(zip(STANDINGS, map(int, counts), strict=True)))
        for commune, language, *counts in rows
    ]


def count(session: Session, flt: PersonFilter) -> int:
    """People the filter keeps: what the list behind a dashboard number shows."""
    return session.scalar(_filtered(select(func.count(Person.id)), flt)) or 0


def create_invite(session: Session, *, commune_code: int | None, created_by: int | None) -> Invite:
    """A one-time code that makes whoever enters it in the bot a prestigious person, for INVITE_LIFETIME:
    long enough to reach a village elder, short enough that a code lying around soon stops working."""
    code = codes.one_time_code("UT-")
    invite = Invite(
        code=code,
        commune_code=commune_code,
        created_by=created_by,
        expires_at=utcnow() + INVITE_LIFETIME,
    )
    session.add(invite)
    session.flush()
    return invite


def redeem_invite(session: Session, person: Person, typed: str) -> bool:
    """Make the person prestigious if the code is valid, unused and unexpired; codes work once."""
    invite = session.get(Invite, codes.normalized("UT-", typed), with_for_update=True)
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


def new_link_code(session: Session, person: Person) -> str:
    """A one-time code the person sends from their other app (/link CODE) to be one person on both."""
    code = codes.issue(person, "LB-")
    session.flush()
    return code


def link_identity(session: Session, typed: str, urn: str) -> Person | None:
    """Move the address `urn` (with everything its person did) to the person whose unexpired code was
    typed; the code then stops working. None when the code is wrong or expired."""
    keep = codes.redeem(session, Person, "LB-", typed)
    if keep is None:
        return None
    drop = get_by_urn(session, urn, for_update=True)
    if drop is None:
        keep.identities.append(Identity(urn=urn, channel=channel_of(urn), last_inbound_at=utcnow()))
    elif drop.id != keep.id:
        merge(session, keep=keep, drop=drop)
    return keep


def merge(session: Session, *, keep: Person, drop: Person) -> None:
    """Make two records of one human one: every row that pointed at `drop` points at `keep`, except rows
    that would then repeat one of `keep`'s (the same bulletin delivered or relayed twice)."""
    session.flush()
    for table in Person.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != "people" or table.name == "people":
                continue
            column = fk.parent
            for unique in (c for c in table.constraints if isinstance(c, UniqueConstraint)):
                others = [c for c in unique.columns if c.name != column.name]
                if column.name not in unique.columns or not others:
                    continue
                twin = table.alias("twin")
                clash = exists().where(twin.c[column.name] == keep.id, *(twin.c[c.name] == c for c in others))
                session.execute(sql_delete(table).where(column == drop.id, clash))
            session.execute(table.update().where(column == drop.id).values({column.name: keep.id}))
    session.expire(keep, ["identities"])
    session.expire(drop, ["identities"])
    session.delete(drop)
