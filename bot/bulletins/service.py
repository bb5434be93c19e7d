"""Writing bulletins, choosing and counting their audience, queueing, steering and reporting a send.
Never commits: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from bot.areas import service as areas
from bot.audio.service import StoredClip
from bot.bulletins.models import (
    Bulletin,
    BulletinStatus,
    BulletinVersion,
    Delivery,
    DeliveryCount,
    DeliveryCountChange,
    DeliveryStatus,
    Relay,
)
from bot.bulletins.timing import QuietHours, expected_end, plan
from bot.db import fold_changes, kept_and_changed, utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.people.models import Identity, Person, PersonRole
from bot.people.windows import ReplyWindow, WindowState

AUDIENCE_KEYS = ("provinces", "communes", "villages", "languages", "roles")
LIVE = (BulletinStatus.scheduled, BulletinStatus.sending)
UNDELIVERED = (DeliveryStatus.failed, DeliveryStatus.blocked, DeliveryStatus.unreachable)


class BulletinError(Refusal):
    """A refused bulletin action (wrong state, empty audience, missing text)."""


@dataclass(frozen=True)
class Audience:
    """Who a bulletin is for; an empty list means no restriction on that axis. Places add up: people in
    any listed province, commune or village."""

    provinces: tuple[int, ...] = ()
    communes: tuple[int, ...] = ()
    villages: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {key: list(getattr(self, key)) for key in AUDIENCE_KEYS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        """Rebuild from the stored form, ignoring unknown keys."""
        return cls(**{key: tuple(data.get(key) or ()) for key in AUDIENCE_KEYS})

    def within(self, commune_codes: Collection[int] | None, village_communes: Collection[int] = ()) -> bool:
        """Whether an admin scoped to these communes (None: the whole province) may address this audience;
        `village_communes` are the communes of the audience's villages."""
        if commune_codes is None:
            return True
        places = set(self.communes) | set(village_communes)
        return bool(places) and not self.provinces and places <= set(commune_codes)

    def touches(self, commune_codes: Collection[int], village_communes: Collection[int] = ()) -> bool:
        """Whether the audience reaches anyone in these communes (everyone, their province, one of them or
        one of their villages): what a commune officer may read about, though not always steer."""
        if not (self.provinces or self.communes or self.villages):
            return True
        provinces = {area.province_code for area in map(areas.get_commune, commune_codes) if area}
        return bool(
            set(self.provinces) & provinces
            or (set(self.communes) | set(village_communes)) & set(commune_codes)
        )

    def covers(self, province: int | None, commune: int | None, village: int | None) -> bool:
        """Whether a place is in the audience, whatever its language and role filters."""
        if not (self.provinces or self.communes or self.villages):
            return True
        return province in self.provinces or commune in self.communes or village in self.villages

    def matches(self, person: Person) -> bool:
        """Whether a person falls in the audience (`in_audience`'s rule, for one person in Python)."""
        language_ok = not self.languages or (person.language or "vi") in self.languages
        return (
            self.covers(person.province_code, person.commune_code, person.village_id)
            and language_ok
            and (not self.roles or person.role in self.roles)
        )


def in_audience(audience: Audience) -> ColumnElement[bool]:
    """The audience as a SQL condition on people who answered the privacy notice (bulletins reach those
    who declined too) and still want bulletins."""
    conditions: list[ColumnElement[bool]] = [and_(Person.onboarded, Person.subscribed.is_(True))]
    places: list[ColumnElement[bool]] = []
    if audience.provinces:
        places.append(Person.province_code.in_(audience.provinces))
    if audience.communes:
        places.append(Person.commune_code.in_(audience.communes))
    if audience.villages:
        places.append(Person.village_id.in_(audience.villages))
    if places:
        conditions.append(or_(*places))
    if audience.languages:
        conditions.append(func.coalesce(Person.language, "vi").in_(audience.languages))
    if audience.roles:
        conditions.append(Person.role.in_(audience.roles))
    return and_(*conditions)


def recipients(
    audience: Audience, windows: Mapping[str, ReplyWindow], ids: tuple[int, int] | None = None
) -> Select[int, str, str, str, PersonRole, datetime | None, int]:
    """One row per person in the audience (with an id in `ids`, first and last, for a batch of the
    outbox), with the address to reach them at: of a person on several apps, the one they wrote from last
    among those whose reply window (if any) is still open. Ranked by a window function, so the database
    reads each table once."""
    now, last = utcnow(), Identity.last_inbound_at
    closed = [
        and_(Identity.channel == channel, ~func.coalesce(window.is_open(last, now), False))
        for channel, window in windows.items()
    ]
    rank = case((or_(*closed), 1), else_=0) if closed else literal(0)
    choice = func.row_number().over(
        partition_by=Identity.person_id,
        order_by=(rank, last.desc().nulls_last(), Identity.id.desc()),
    )
    batch = (  # on both tables, so a batch reads its people's addresses by index, not all of them
        [Person.id.between(*ids), Identity.person_id.between(*ids)] if ids is not None else []
    )
    ranked = (
        select(
            Person.id,
            Identity.urn,
            Identity.channel,
            func.coalesce(Person.language, "vi").label("language"),
            Person.role,
            Identity.last_inbound_at,
            Identity.sent_since_inbound,
            choice.label("choice"),
        )
        .join(Identity, Identity.person_id == Person.id)
        .where(in_audience(audience), *batch)
        .subquery()
    )
    columns = [c for c in ranked.c if c.name != "choice"]
    # "< 2", not "= 1": PostgreSQL then expects most rows to pass and groups them by hashing, not sorting.
    return select(*columns).where(ranked.c.choice < 2)


@dataclass(frozen=True)
class Reach:
    """How many people a bulletin would reach, before it is sent; `windowed` splits the people on apps
    with a reply window by where it stands now (free, from the quota, closed)."""

    total: int
    prestigious: int
    by_channel: dict[str, int]
    by_language: dict[str, int]
    windowed: dict[str, dict[str, int]] = field(default_factory=dict)


def count(session: Session, audience: Audience, windows: Mapping[str, ReplyWindow] | None = None) -> int:
    """How many people an audience reaches, counted by the database (the send's confirmation needs no
    rows); the same recipients `send` queues and `reach` describes."""
    found = recipients(audience, windows or {}).subquery()
    return session.scalar(select(func.count()).select_from(found)) or 0


def reach(session: Session, audience: Audience, windows: Mapping[str, ReplyWindow] | None = None) -> Reach:
    """Count the audience by channel, language, role and where the reply windows stand, in one grouped
    query: a draft to half a million people shows its reach without a row coming into Python."""
    windows = windows or {}
    now = utcnow()
    found = recipients(audience, windows).subquery()
    last, sent_since = found.c.last_inbound_at, found.c.sent_since_inbound
    states = [(found.c.channel == c, window.state(last, sent_since, now)) for c, window in windows.items()]
    groups = (
        found.c.channel,
        found.c.language,
        found.c.role == PersonRole.prestigious,
        case(*states, else_=None) if states else literal(None),
    )
    rows = session.execute(select(*groups, func.count()).group_by(*groups)).all()
    by_channel: dict[str, int] = {}
    by_language: dict[str, int] = {}
    windowed: dict[str, dict[str, int]] = {}
    prestigious = 0
    for channel, language, elders, state, n in rows:
        by_channel[channel] = by_channel.get(channel, 0) + n
        by_language[language] = by_language.get(language, 0) + n
        prestigious += n if elders else 0
        if channel in windows:
            counts = windowed.setdefault(channel, {r.value: 0 for r in WindowState})
            counts[state] += n
    return Reach(sum(by_channel.values()), prestigious, by_channel, by_language, windowed)


def create(
    session: Session,
    *,
    title: str,
    versions: Sequence[tuple[str, str, StoredClip | None]],
    audience: Audience,
    image_ids: Sequence[int] = (),
    urgent: bool = False,
    created_by: int | None = None,
) -> Bulletin:
    """A draft bulletin from (language, text, audio) versions; at least a title and one version."""
    title = title.strip()
    if not title:
        raise BulletinError(mark("Bản tin cần có tiêu đề."))
    if len(title) > 200:
        raise BulletinError(mark("Tiêu đề dài quá (tối đa 200 ký tự)."))
    if not any(text.strip() or clip for _lang, text, clip in versions):
        raise BulletinError(mark("Bản tin cần có nội dung hoặc âm thanh ít nhất một ngôn ngữ."))
    bulletin = Bulletin(
        title=title,
        status=BulletinStatus.draft,
        audience=audience.to_json(),
        image_ids=list(image_ids),
        urgent=urgent,
        created_by=created_by,
    )
    session.add(bulletin)
    for language, text, clip in versions:
        set_version(bulletin, language, text, clip)
    session.flush()
    return bulletin


def set_version(bulletin: Bulletin, language: str, text: str, clip: StoredClip | None) -> BulletinVersion:
    """Add or replace the version in one language; a draft only."""
    if bulletin.status != BulletinStatus.draft:
        raise BulletinError(mark("Bản tin đã gửi thì không sửa được nữa."))
    version = bulletin.version(language)
    if version is None:
        version = BulletinVersion(language=language)
        bulletin.versions.append(version)
    version.text = text.strip()
    if clip is not None:
        version.voice, version.mp3, version.audio_source = clip.voice, clip.mp3, clip.source
    return version


def get(session: Session, *, bulletin_id: int) -> Bulletin | None:
    """A bulletin with its versions and their audio."""
    return session.scalar(
        select(Bulletin)
        .where(Bulletin.id == bulletin_id)
        .options(selectinload(Bulletin.versions).selectinload(BulletinVersion.voice))
    )


def uses_media(session: Session, media_id: int) -> bool:
    """Whether a bulletin that has gone out uses this file (voice, MP3 or picture): only those are public,
    for anyone may hear a bulletin; never a draft's, nor a person's photo or an official's answer."""
    out = select(Bulletin).where(Bulletin.status != BulletinStatus.draft, Bulletin.send_at <= utcnow())
    voiced = out.join(BulletinVersion).where(
        or_(BulletinVersion.voice_id == media_id, BulletinVersion.mp3_id == media_id)
    )
    if session.scalar(voiced.limit(1)) is not None:
        return True
    return any(media_id in ids for ids in session.scalars(out.with_only_columns(Bulletin.image_ids)))


def get_all(
    session: Session,
    *,
    query: str = "",
    offset: int = 0,
    limit: int = 20,
    communes: Collection[int] | None = None,
    author_id: int | None = None,
) -> tuple[list[Bulletin], int]:
    """A page of bulletins, newest first, optionally by words in the title, and the total; an official
    limited to `communes` gets only those open to them (see open_to)."""
    stmt = select(Bulletin)
    if query.strip():
        stmt = stmt.where(Bulletin.title.ilike(f"%{query.strip()}%"))
    stmt = stmt.order_by(Bulletin.id.desc()).options(selectinload(Bulletin.versions))
    if communes is not None:
        mine = [b for b in session.scalars(stmt) if open_to(session, b, communes, author_id)]
        return mine[offset : offset + limit], len(mine)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(session.scalars(stmt.offset(offset).limit(limit))), total


def open_to(
    session: Session, bulletin: Bulletin, communes: Collection[int] | None, author_id: int | None
) -> bool:
    """Whether an official limited to `communes` (None: the whole province) may see a bulletin: one they
    wrote, or one that reaches some of their people; never another commune's own."""
    if communes is None or (author_id is not None and bulletin.created_by == author_id):
        return True
    return reaches_any(session, Audience.from_json(bulletin.audience), communes)


def reaches_any(session: Session, audience: Audience, communes: Collection[int] | None) -> bool:
    """Whether an audience reaches some people of these communes (None: the whole province): what an
    official limited to them may read about, for bulletins, polls and contests alike."""
    return communes is None or audience.touches(
        communes, areas.communes_of_villages(session, audience.villages)
    )


def held_within(session: Session, audience: Audience, communes: Collection[int] | None) -> bool:
    """Whether an audience lies wholly in these communes (None: the whole province): what an official
    limited to them may change, open or close."""
    return audience.within(communes, areas.communes_of_villages(session, audience.villages))


def check_sendable(bulletin: Bulletin) -> None:
    """Refuse, with the reason, a bulletin that cannot be sent (before anyone is asked to confirm)."""
    if bulletin.status != BulletinStatus.draft:
        raise BulletinError(mark("Bản tin này đã được gửi hoặc lên lịch rồi."))
    if not bulletin.audio_ready:
        raise BulletinError(mark("Âm thanh chưa sẵn sàng hoặc bị lỗi; hãy xem lại từng ngôn ngữ."))


def send(
    session: Session,
    bulletin: Bulletin,
    *,
    lead: timedelta,
    at: datetime | None = None,
    urgent: bool = False,
    relay_first: bool = True,
    windows: Mapping[str, ReplyWindow] | None = None,
) -> int:
    """Start (or schedule) the send and return how many it will reach; the outbox is built after this
    transaction, a batch of people at a time (bot/bulletins/outbox.py), so the official's request never
    inserts half a million rows. When the audience has prestigious persons (and `relay_first`), their rows
    are due `lead` earlier, so they can relay it; otherwise, and for urgent bulletins, all at once."""
    check_sendable(bulletin)
    now = utcnow()
    start = max(at or now, now)
    bulletin.urgent = bulletin.urgent or urgent
    audience = Audience.from_json(bulletin.audience)
    expected = count(session, audience, windows)
    if expected == 0:
        raise BulletinError(mark("Không có ai trong đối tượng nhận này."))
    elder = select(Person.id).where(
        in_audience(audience), Person.role == PersonRole.prestigious, Person.identities.any()
    )
    timing = plan(
        start,
        lead=lead,
        prestigious=0 if session.scalar(elder.limit(1)) is None else 1,  # whether any, not how many
        urgent=bulletin.urgent,
        relay_first=relay_first,
        quiet=None,  # the sender holds rows through the quiet hours; due times stay as planned
        zone=ZoneInfo("UTC"),
    )
    bulletin.lead_minutes = timing.lead_minutes
    bulletin.send_at, bulletin.everyone_at = start, timing.everyone_at
    bulletin.preparing, bulletin.outbox_cursor = True, 0
    bulletin.status = BulletinStatus.scheduled if start > now else BulletinStatus.sending
    return expected


def queue(
    session: Session, bulletin: Bulletin, windows: Mapping[str, ReplyWindow], ids: tuple[int, int]
) -> None:
    """Add the outbox rows of the recipients with ids from first to last (one batch of the build); a row
    already there stays as it is, so a batch done again after a crash adds nobody twice."""
    found = recipients(Audience.from_json(bulletin.audience), windows, ids).subquery()
    prestigious = found.c.role == PersonRole.prestigious
    rows = select(
        literal(bulletin.id),
        found.c.id,
        found.c.urn,
        found.c.channel,
        found.c.language,
        prestigious,
        literal(bulletin.urgent),
        literal(DeliveryStatus.pending.value),
        case((prestigious, literal(bulletin.send_at)), else_=literal(bulletin.everyone_at)),
    ).where(true())  # SQLite reads "FROM (…) ON CONFLICT" as a join without one
    columns = ["bulletin_id", "person_id", "urn", "channel", "language", "prestigious", "urgent", "status"]
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert_(Delivery)
        .from_select([*columns, "due_at"], rows)
        .on_conflict_do_nothing(index_elements=["bulletin_id", "person_id", "channel"])
    )


def pause(session: Session, bulletin: Bulletin) -> None:
    """Hold a send: nothing more leaves until it is resumed (messages in flight still arrive)."""
    if bulletin.status not in LIVE:
        raise BulletinError(mark("Chỉ tạm dừng được bản tin đang gửi."))
    bulletin.status = BulletinStatus.paused


def resume(session: Session, bulletin: Bulletin) -> None:
    """Carry on a paused send where it stopped."""
    if bulletin.status != BulletinStatus.paused:
        raise BulletinError(mark("Bản tin này không ở trạng thái tạm dừng."))
    bulletin.status = BulletinStatus.sending


def cancel(session: Session, bulletin: Bulletin) -> None:
    """Stop a send for good; every unsent row is kept, marked cancelled."""
    if bulletin.status in (BulletinStatus.done, BulletinStatus.cancelled):
        raise BulletinError(mark("Bản tin này đã gửi xong hoặc đã hủy."))
    bulletin.status, bulletin.preparing = BulletinStatus.cancelled, False
    bulletin.finished_at = utcnow()
    session.flush()  # waits for a batch being built, whose rows the update below then sees
    session.execute(
        update(Delivery)
        .where(Delivery.bulletin_id == bulletin.id, Delivery.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.cancelled),
        execution_options={"synchronize_session": False},
    )


@dataclass(frozen=True)
class Progress:
    """Where a send stands; `pending` counts rows queued or in flight, `retaken` those sent again after a
    crash (each possibly a duplicate)."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    pending: int = 0
    cancelled: int = 0
    unreachable: int = 0
    retaken: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, int]:
        """The `loaban bulletin status --json` form; failed includes people who blocked the bot."""
        return {
            "total": self.total,
            "sent": self.sent,
            "failed": self.failed + self.blocked,
            "pending": self.pending,
            "blocked": self.blocked,
            "cancelled": self.cancelled,
            "unreachable": self.unreachable,
            "possible_duplicates": self.retaken,
        }


def progress(session: Session, bulletin_id: int) -> Progress:
    """Count a bulletin's outbox rows by status."""
    return progress_of(session, [bulletin_id])[bulletin_id]


def progress_of(session: Session, bulletin_ids: Sequence[int]) -> dict[int, Progress]:
    """Progress of several bulletins (a page of the bulletin list) from the counts the database keeps,
    plus the changes not folded into them yet: a few rows to read whatever the size of the send, and
    exact, since the triggers write each change in the transaction that makes it."""
    ids = list(bulletin_ids)
    both = kept_and_changed(
        DeliveryCountChange,
        DeliveryCount,
        ("bulletin_id", "status", "amount", "retaken"),
        lambda c: c.bulletin_id.in_(ids),
    )
    keys = (both.c.bulletin_id, both.c.status)
    rows = session.execute(
        select(*keys, func.sum(both.c.amount), func.sum(both.c.retaken)).group_by(*keys)
    ).all()
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    retaken: dict[int, int] = dict.fromkeys(ids, 0)
    for bulletin_id, status, n, r in rows:
        if n:
            counts[bulletin_id][str(status)] = int(n)
        retaken[bulletin_id] += int(r or 0)
    return {
        i: Progress(
            total=sum(c.values()),
            sent=c.get(DeliveryStatus.sent, 0),
            failed=c.get(DeliveryStatus.failed, 0),
            blocked=c.get(DeliveryStatus.blocked, 0),
            pending=c.get(DeliveryStatus.pending, 0) + c.get(DeliveryStatus.sending, 0),
            cancelled=c.get(DeliveryStatus.cancelled, 0),
            unreachable=c.get(DeliveryStatus.unreachable, 0),
            retaken=retaken[i],
            by_status=c,
        )
        for i, c in counts.items()
    }


@dataclass(frozen=True)
class Running:
    """A bulletin being sent (or waiting for its hour, or paused), its counts, and when its last row should
    leave: None while paused."""

    bulletin: Bulletin
    progress: Progress
    expected_end: datetime | None


def running(
    session: Session, now: datetime, per_second: float, *, quiet: QuietHours, zone: ZoneInfo
) -> list[Running]:
    """Every bulletin not finished yet, in the order the worker sends their rows (urgent first, then the
    oldest): the sends share one rate, so each ends after the rows of those before it have left too."""
    stmt = select(Bulletin).where(Bulletin.status.in_([*LIVE, BulletinStatus.paused]))
    found = list(session.scalars(stmt.order_by(Bulletin.urgent.desc(), Bulletin.id)))
    counts = progress_of(session, [b.id for b in found])
    ahead, shown = 0, []
    for bulletin in found:
        progress = counts[bulletin.id]
        end = None
        if bulletin.status != BulletinStatus.paused:
            ahead += progress.pending
            start = max(now, bulletin.send_at or now)
            end = expected_end(start, ahead, per_second, urgent=bulletin.urgent, quiet=quiet, zone=zone)
        shown.append(Running(bulletin, progress, end))
    return shown


def fold_counts(session: Session) -> None:
    """Move the changes the triggers appended into the counts, so the list of changes stays short."""
    fold_changes(
        session, DeliveryCountChange, DeliveryCount, ("bulletin_id", "status"), ("amount", "retaken")
    )


def failures(
    session: Session, bulletin_id: int, limit: int = 50, communes: Collection[int] | None = None
) -> list[Delivery]:
    """The rows that could not be delivered or wait for a platform's leave, with the reason; only those of
    people in `communes` when given (an officer sees no other commune's chat addresses)."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.bulletin_id == bulletin_id,
            or_(
                Delivery.status.in_(
                    [DeliveryStatus.failed, DeliveryStatus.blocked, DeliveryStatus.unreachable]
                ),
                and_(Delivery.status == DeliveryStatus.pending, Delivery.error.is_not(None)),
            ),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    if communes is not None:
        stmt = stmt.join(Person, Person.id == Delivery.person_id).where(Person.commune_code.in_(communes))
    return list(session.scalars(stmt))


def recent_for(session: Session, person: Person, limit: int = 5) -> list[Bulletin]:
    """The latest bulletins sent to a person's place and language, newest first, for 'Bản tin'."""
    stmt = (
        select(Bulletin)
        .where(
            Bulletin.status.in_([BulletinStatus.sending, BulletinStatus.done]), Bulletin.send_at <= utcnow()
        )
        .order_by(Bulletin.send_at.desc())
        .limit(100)
        .options(selectinload(Bulletin.versions))
    )
    return [b for b in session.scalars(stmt) if visible_to(b, person)][:limit]


def visible_to(bulletin: Bulletin, person: Person) -> bool:
    """Whether a person may see (and replay) a bulletin: sent, and meant for their place and language."""
    sent = bulletin.status in (BulletinStatus.sending, BulletinStatus.done)
    started = bulletin.send_at is not None and bulletin.send_at <= utcnow()
    return sent and started and Audience.from_json(bulletin.audience).matches(person)


RELAY_BANDS = (5, 10, 30, 50, 100)
RELAY_METHODS = ("meeting", "loudspeaker", "visits")


def record_relay(
    session: Session, bulletin: Bulletin, person: Person, *, households: int, method: str
) -> Relay:
    """Keep (or correct) a prestigious person's word that they passed the bulletin on."""
    relay = session.scalar(
        select(Relay).where(Relay.bulletin_id == bulletin.id, Relay.person_id == person.id)
    )
    if relay is None:
        relay = Relay(bulletin_id=bulletin.id, person_id=person.id)
        session.add(relay)
    relay.commune_code, relay.village_id = person.commune_code, person.village_id
    relay.households, relay.method, relay.created_at = households, method, utcnow()
    session.flush()
    return relay


@dataclass(frozen=True)
class Coverage:
    """Relays for one village (or a commune without villages): who confirmed, how many households, how."""

    commune_code: int | None
    village_id: int | None
    relays: int
    households: int
    methods: dict[str, int]


def coverage(session: Session, bulletin_id: int | None = None) -> list[Coverage]:
    """Relay coverage per village, for one bulletin or all of them."""
    stmt = select(
        Relay.commune_code, Relay.village_id, Relay.method, func.count(), func.sum(Relay.households)
    )
    if bulletin_id is not None:
        stmt = stmt.where(Relay.bulletin_id == bulletin_id)
    grouped: dict[tuple[int | None, int | None], list[tuple[str, int, int]]] = {}
    for commune, village, method, n, households in session.execute(
        stmt.group_by(Relay.commune_code, Relay.village_id, Relay.method)
    ):
        grouped.setdefault((commune, village), []).append((method, int(n), int(households or 0)))
    return [
        Coverage(
            commune,
            village,
            sum(n for _m, n, _h in rows),
            sum(h for _m, _n, h in rows),
            {m: n for m, n, _h in rows},
        )
        for (commune, village), rows in sorted(grouped.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0))
    ]


def station_items(
    session: Session, commune_code: int, language: str, limit: int = 50
) -> list[tuple[Bulletin, BulletinVersion]]:
    """Bulletins sent to a commune with audio in a language, newest first, for its station's feed."""
    commune = areas.get_commune(commune_code)
    province = commune.province_code if commune else None
    stmt = (
        select(Bulletin)
        .where(Bulletin.status.in_([BulletinStatus.sending, BulletinStatus.done]))
        .order_by(Bulletin.send_at.desc())
        .limit(500)
        .options(selectinload(Bulletin.versions).selectinload(BulletinVersion.mp3))
    )
    found: list[tuple[Bulletin, BulletinVersion]] = []
    for bulletin in session.scalars(stmt):
        version = bulletin.version(language)
        covered = Audience.from_json(bulletin.audience).covers(province, commune_code, None)
        if version is not None and version.mp3 is not None and covered:
            found.append((bulletin, version))
    return found[:limit]
