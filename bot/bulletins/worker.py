"""The bulletin sender: takes due outbox rows, sends them within the platform's limits (shared by every
process, bot/channels/rate.py), records each outcome. On PostgreSQL every sender (each `serve` with the
worker on, each `loaban worker`) claims batches of rows with FOR UPDATE SKIP LOCKED; on SQLite (one machine)
only the holder of a lease sends. Every claim carries a fencing token and an expiry its sender renews on a
thread of its own: a sender starts a send only while its claims surely hold, and records an outcome only
for a row that still carries its token, so a slow sender whose claim ran out neither sends beside the one
that took its rows nor overwrites their outcome. The renewal runs on a plain thread, not on the event loop:
a loop kept busy for seconds (paid broadcast on a loaded machine) delays sends, never renewals, so a live
sender's claims are not taken from it. A crash leaves at most `delivery_concurrency` rows in
flight, taken again once their claims expire, never while their sender lives. Housekeeping (taking those
rows back, moving bulletins along, pruning people's data and finished jobs) is one process's job: the
lease holder's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.bulletins import compose
from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinStatus, Delivery, DeliveryStatus, Lease
from bot.bulletins.timing import is_quiet, parse_quiet_hours
from bot.channels.base import Hub, SendError
from bot.channels.rate import paid_broadcast
from bot.config import Settings
from bot.conversation.types import Reply
from bot.db import Database, utcnow
from bot.i18n import Catalogs
from bot.jobs import service as jobs
from bot.media import store, sweep
from bot.messages import service as messages
from bot.people import service as people
from bot.people.models import Identity
from bot.people.windows import ReplyWindow, WindowState, reply_windows
from bot.privacy import service as privacy
from bot.translations import service as translations

log = logging.getLogger(__name__)
LEASE_NAME = "bulletin-sender"
MAX_BACKOFF = timedelta(minutes=10)
MESSAGE_CACHE_SIZE = 256
RECORD_WINDOW = 0.05  # seconds of outcomes recorded in one transaction
RETRY_RENEWAL = 1.0  # seconds before a renewal that failed (the database went away) is tried again
# A busy event loop still answers now and then; one silent this long is hung (a bug, a deadlock): its
# sender then renews nothing, as if dead, so its rows are taken again and its bulletins still end.
HUNG_AFTER = 60.0  # seconds
STOPPED_EACH_TIME = "its sender stopped while sending it, each time it was tried"
RELEASED: dict[str, object] = {"claim_id": None, "claim_expires_at": None}  # claimed_by: who took it last


def take_lease(session: Session, holder: str, seconds: float) -> bool:
    """Whether this sender holds the housekeeping lease: kept, or taken when free or expired. A holder
    that stopped renewing is waited out, never guessed dead (a process id says nothing across machines
    or containers)."""
    now = utcnow()
    lease = session.get(Lease, LEASE_NAME, with_for_update=True)
    if lease is None:
        try:
            with session.begin_nested():
                session.add(
                    Lease(name=LEASE_NAME, holder=holder, expires_at=now + timedelta(seconds=seconds))
                )
        except IntegrityError:
            return False
        return True
    if lease.holder != holder and lease.expires_at > now:
        return False
    lease.holder, lease.expires_at = holder, now + timedelta(seconds=seconds)
    return True


def renew_claims(session: Session, holder: str, claims: Collection[str], seconds: float) -> None:
    """Push back the expiry of this sender's claims on the rows it has in flight."""
    if claims:
        mine = (
            Delivery.status == DeliveryStatus.sending,
            Delivery.claimed_by == holder,
            Delivery.claim_id.in_(claims),
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(_in_order(*mine)))
            .values(claim_expires_at=utcnow() + timedelta(seconds=seconds)),
            execution_options={"synchronize_session": False},
        )


def _in_order(*where: ColumnElement[bool]) -> Select[int]:
    """The ids of rows to update, locked in id order: recording a batch locks its rows in that order too,
    so a renewal or a retake beside it waits instead of deadlocking."""
    return select(Delivery.id).where(*where).order_by(Delivery.id).with_for_update()


def retake_expired(session: Session, max_attempts: int) -> int:
    """Rows in flight whose sender stopped renewing its claim (it died, or lost the database): sent again,
    each a possible duplicate, unless claimed that often already (a row that stops every sender which
    takes it counts as failed, so its bulletin still ends)."""
    now = utcnow()
    expired = (
        Delivery.status == DeliveryStatus.sending,
        or_(Delivery.claim_expires_at.is_(None), Delivery.claim_expires_at < now),
    )
    options = {"synchronize_session": False}
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(_in_order(*expired, Delivery.attempts >= max_attempts)))
        .values(status=DeliveryStatus.failed, error=STOPPED_EACH_TIME, **RELEASED),
        execution_options=options,
    )
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(_in_order(*expired)))
        .values(status=DeliveryStatus.pending, retaken=Delivery.retaken + 1, due_at=now, **RELEASED),
        execution_options=options,
    )
    return int(getattr(result, "rowcount", 0) or 0)


def advance_bulletins(session: Session) -> None:
    """Scheduled bulletins whose time came are sending; sending ones with nothing left (and their outbox
    built) are done."""
    now = utcnow()
    session.execute(
        update(Bulletin)
        .where(Bulletin.status == BulletinStatus.scheduled, Bulletin.send_at <= now)
        .values(status=BulletinStatus.sending),
        execution_options={"synchronize_session": False},
    )
    unfinished = exists().where(
        Delivery.bulletin_id == Bulletin.id,
        Delivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sending]),
    )
    session.execute(
        update(Bulletin)
        .where(Bulletin.status == BulletinStatus.sending, Bulletin.preparing.is_(False), ~unfinished)
        .values(status=BulletinStatus.done, finished_at=now),
        execution_options={"synchronize_session": False},
    )


@dataclass(frozen=True)
class Claimed:
    """An outbox row this sender took, with what it needs to send it."""

    id: int
    bulletin_id: int
    person_id: int | None  # None once the person erased their data (their rows are cancelled then)
    urn: str
    channel: str
    language: str
    prestigious: bool
    part: int
    attempts: int
    urgent: bool
    claim: str  # the fencing token: the row's outcome is written only while the row still carries it


def claim(
    session: Session,
    holder: str,
    limit: int,
    *,
    urgent_only: bool,
    hold_for: timedelta,
    windows: Mapping[str, ReplyWindow] | None = None,
) -> list[Claimed]:
    """Take up to `limit` due rows of live bulletins, oldest first, skipping rows another sender is taking
    at this moment; only urgent ones when asked (quiet hours, or urgent warnings first). The claim holds
    for `hold_for` unless renewed. Rows for addresses whose reply window is closed are settled as
    unreachable instead of being sent."""
    stmt = (
        select(Delivery)
        .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        .where(
            Delivery.status == DeliveryStatus.pending,
            Delivery.due_at <= utcnow(),
            Bulletin.status.in_(bulletins.LIVE),
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    )
    if urgent_only:
        stmt = stmt.where(Delivery.urgent.is_(True))
    rows = _outside_windows(session, list(session.scalars(stmt)), windows or {})
    token, expires = secrets.token_hex(8), utcnow() + hold_for
    for row in rows:
        row.status, row.claimed_by, row.attempts = DeliveryStatus.sending, holder, row.attempts + 1
        row.claim_id, row.claim_expires_at = token, expires
    return [
        Claimed(
            r.id,
            r.bulletin_id,
            r.person_id,
            r.urn,
            r.channel,
            r.language,
            r.prestigious,
            r.part,
            r.attempts,
            r.urgent,
            token,
        )
        for r in rows
    ]


def _outside_windows(
    session: Session, rows: list[Delivery], windows: Mapping[str, ReplyWindow]
) -> list[Delivery]:
    """Mark rows the platform would refuse now (the person has been silent too long) and return the rest;
    the person still finds the bulletin under '📻 Bản tin' when they write again."""
    windowed = [r for r in rows if r.channel in windows]
    if not windowed:
        return rows
    found = session.execute(
        select(Identity.urn, Identity.last_inbound_at, Identity.sent_since_inbound).where(
            Identity.urn.in_([r.urn for r in windowed])
        )
    )
    state = {urn: (last, sent) for urn, last, sent in found}
    now, keep = utcnow(), []
    for row in rows:
        window = windows.get(row.channel)
        if window is not None and window.reach(*state.get(row.urn, (None, 0)), now) == WindowState.closed:
            row.status, row.error = DeliveryStatus.unreachable, closed_reason(window)
        else:
            keep.append(row)
    return keep


def closed_reason(window: ReplyWindow) -> str:
    """Why a row was not sent, for the admin's list."""
    days = window.open_for.days
    return f"Người nhận không nhắn cho Loa Bản trên ứng dụng này quá {days} ngày: nền tảng không cho gửi."


@dataclass(frozen=True)
class Result:
    """How sending one part went."""

    sent_id: str | None = None
    error: SendError | None = None


@dataclass(frozen=True)
class Outcome:
    """A row sent (or refused), waiting to be recorded with the batch it falls in."""

    row: Claimed
    reply: Reply | None  # the part sent; None when the recipient had nothing left to get
    total: int  # parts the recipient gets
    result: Result


class Sender:
    """The loop that drains the bulletin outbox; runs inside `serve` or as `loaban worker`."""

    def __init__(self, db: Database, hub: Hub, settings: Settings, catalogs: Catalogs) -> None:
        self.db, self.hub, self.settings, self.catalogs = db, hub, settings, catalogs
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.quiet_window = parse_quiet_hours(settings.quiet_hours)
        self.windows = reply_windows(settings)
        self.zone = ZoneInfo(settings.timezone)
        self.shared = db.engine.dialect.name == "postgresql"  # every sender claims; else the lease holder
        self.leading = False
        self.wake = asyncio.Event()
        self._stopping = False
        self._until = 0.0  # time.monotonic() until which this sender's claims (and lease) surely hold
        self._answered = 0.0  # time.monotonic() when the event loop last ran a callback of the renewal's
        self._claims: Counter[str] = Counter()  # the tokens of the rows in flight, with how many rows each
        self._claims_lock = threading.Lock()  # shared by the claiming thread, the loop and the renewal
        self._renewal: threading.Thread | None = None  # the thread renewing the claims and the lease
        self._stopped = threading.Event()  # tells the renewal thread to end
        self._housekeeper = ThreadPoolExecutor(1, thread_name_prefix="sender-housekeeping")
        self._housekept: Future[None] | None = None  # the lease holder's housekeeping under way
        self._inflight: dict[asyncio.Task[None], str] = {}  # each send in flight, with its claim's token
        self._freed = asyncio.Event()  # a send ended: its slot is free (cheaper than waiting on every task)
        self._messages: dict[tuple[int, str, bool], list[Reply]] = {}
        self._unrecorded: list[tuple[Outcome, asyncio.Future[None]]] = []  # the next batch to record
        self._flush: asyncio.Task[None] | None = None  # the task that will record it
        self._flushes: set[asyncio.Task[None]] = set()  # batches being recorded

    async def run(self) -> None:
        """Send until stopped; the claims and the lease are renewed meanwhile by a thread of their own."""
        self._answered = time.monotonic()
        self._renewal = threading.Thread(
            target=self._keep, args=(asyncio.get_running_loop(),), name="sender-renewal", daemon=True
        )
        self._renewal.start()
        while not self._stopping:
            if not (self.shared or self.leading) or not self._holds():  # claiming now would be in vain
                await self._pause(RETRY_RENEWAL)
                continue
            self._freed.clear()  # before counting the room: a send ending after this wakes the wait below
            urgent, ordinary = self._room()
            if not (urgent or ordinary):  # wait for a slot, looking at the claims now and then
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), self.settings.delivery_lease_seconds / 3)
                continue
            quiet = is_quiet(utcnow(), self.quiet_window, self.zone)
            try:
                rows = await asyncio.to_thread(self._claim, urgent, 0 if quiet else ordinary)
            except Exception:  # the database went away for a moment: try again once it is back
                log.exception("the sender could not claim bulletin messages; it tries again in a moment")
                await self._pause(1.0)
                continue
            for row in rows:
                task = asyncio.create_task(self._deliver(row))
                self._inflight[task] = row.claim
                task.add_done_callback(self._ended)
            if not rows:
                await self._pause(0.5)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A send ended: its slot is free, and its row's claim no longer needs renewing."""
        token = self._inflight.pop(task, None)
        if token is not None:
            with self._claims_lock:
                self._claims[token] -= 1
                if self._claims[token] <= 0:
                    del self._claims[token]
        self._freed.set()

    async def stop(self) -> None:
        """Finish what is in flight (its claims still renewed, so nobody takes those rows), then let
        another sender take over at once; what is still in flight after 30 s is taken again at once."""
        self._stopping = True
        self.wake.set()
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=30)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.to_thread(self._end)

    def _end(self) -> None:
        """Stop renewing, let the housekeeping under way finish, and give the lease and the claims up."""
        self._stopped.set()
        if self._renewal is not None:
            self._renewal.join()
        self._housekeeper.shutdown(wait=True)
        self._release()

    def _keep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Renew the claims and keep (or win) the lease every third of its length, or a second after the
        database did not answer, until stopped. A plain thread, so that neither an event loop busy for
        seconds (paid broadcast on a loaded machine) nor the default thread pool (busy with sends' writes)
        delays a renewal past the claims' margin. Wakes the send loop once the claims hold again. Only an
        event loop hung for good (silent for HUNG_AFTER) stops the renewals, until it answers again."""
        wait = 0.0
        while not self._stopped.wait(wait):
            loop.call_soon_threadsafe(self._answer)
            if time.monotonic() - self._answered > HUNG_AFTER:
                log.error("the sender's event loop is hung; its claims and lease are left to expire")
                self.leading, self._until, wait = False, 0.0, RETRY_RENEWAL
                continue
            held = self._holds()
            renewed = self._keep_lease()
            if renewed and not held and self._holds():
                loop.call_soon_threadsafe(self.wake.set)  # the send loop waits for the claims to hold
            wait = self.settings.delivery_lease_seconds / 3 if renewed else RETRY_RENEWAL

    def _answer(self) -> None:
        """Run by the event loop whenever it gets to it: it is not hung."""
        self._answered = time.monotonic()

    def _keep_lease(self) -> bool:
        """Renew the claims and keep (or win) the lease, note until when they surely hold, and have the
        lease holder's housekeeping done beside (never in the way of the next renewal); when the database
        cannot be reached, nothing new is sent until it can. Whether the database answered (if not, the
        renewal is tried again within a second: a cut connection is replaced by the next checkout, and a
        sender should not sit idle for a third of the lease meanwhile)."""
        started = time.monotonic()
        with self._claims_lock:
            claims = list(self._claims)
        try:
            self._renew(claims)
        except Exception:
            log.exception("the sender could not renew its claims; it sends nothing until it can")
            self.leading, self._until = False, 0.0
            return False
        held = self.shared or self.leading
        self._until = started + self.settings.delivery_lease_seconds if held else 0.0
        if self.leading and (self._housekept is None or self._housekept.done()):
            self._housekept = self._housekeeper.submit(self._housekeeping)
        return True

    def _holds(self) -> bool:
        """Whether a send may start: the claims hold for at least a third of the lease's length more."""
        return time.monotonic() + self.settings.delivery_lease_seconds / 3 < self._until

    async def _pause(self, seconds: float) -> None:
        """Sleep until a new send is queued here or `seconds` pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)
        self.wake.clear()

    def _renew(self, claims: Collection[str]) -> None:
        """Renew this sender's claims (only rows still carrying their token: never one taken back
        meanwhile) and keep (or win) the lease, in one short transaction."""
        seconds = self.settings.delivery_lease_seconds
        with self.db.transaction() as session:
            renew_claims(session, self.holder, claims, seconds)
            self.leading = take_lease(session, self.holder, seconds)

    def _housekeeping(self) -> None:
        """The lease holder's work: take back the rows of senders that stopped renewing their claims,
        move bulletins along, remove people's copies of their data once their time is up, delete jobs
        finished long ago and have stray media files swept once a day (one process does it)."""
        try:
            with self.db.transaction() as session:
                retaken = retake_expired(session, self.settings.delivery_max_attempts)
                if retaken:
                    log.warning("took back %d bulletin messages left in flight by a stopped sender", retaken)
                advance_bulletins(session)
                privacy.prune(session, store.of(self.settings))
                jobs.prune(session, timedelta(days=self.settings.jobs_keep_days))
                sweep.schedule(session)
        except Exception:
            log.exception("bulletin housekeeping failed; it is tried again at the next renewal")

    def _release(self) -> None:
        """Give the lease and the claims of rows still in flight up on a clean stop, so they are taken
        again at once."""
        now = utcnow()
        with self.db.transaction() as session:
            lease = session.get(Lease, LEASE_NAME, with_for_update=True)
            if lease is not None and lease.holder == self.holder:
                lease.expires_at = now
            session.execute(
                update(Delivery)
                .where(Delivery.status == DeliveryStatus.sending, Delivery.claimed_by == self.holder)
                .values(claim_expires_at=now),
                execution_options={"synchronize_session": False},
            )
            advance_bulletins(session)

    def _room(self) -> tuple[int, int]:
        """How many urgent rows, and how many rows of any kind, to claim now: up to the free slots (more
        for urgent warnings going by paid broadcast, which the platform lets go 33 times as fast), and
        only once a quarter of them is free, so that rows are claimed by batches, not one by one."""
        s, busy = self.settings, len(self._inflight)
        paid = s.delivery_paid_concurrency if s.telegram_paid_broadcast else s.delivery_concurrency

        def free(limit: int) -> int:
            left = limit - busy
            return left if left >= max(1, limit // 4) or (busy == 0 and left > 0) else 0

        return free(max(paid, s.delivery_concurrency)), free(s.delivery_concurrency)

    def _claim(self, urgent: int, ordinary: int) -> list[Claimed]:
        """Take due rows in one transaction (urgent warnings first, then any row, none in quiet hours)
        and hand their tokens to the renewal thread."""
        hold_for = timedelta(seconds=self.settings.delivery_lease_seconds)
        take = partial(claim, holder=self.holder, hold_for=hold_for, windows=self.windows)
        with self.db.transaction() as session:
            rows = take(session, limit=urgent, urgent_only=True) if urgent else []
            if ordinary > len(rows):
                rows += take(session, limit=ordinary - len(rows), urgent_only=False)
        with self._claims_lock:  # renewed from now on, even while the loop is too busy to start them
            self._claims.update(row.claim for row in rows)
        return rows

    def _parts(self, row: Claimed) -> list[Reply]:
        """The messages this recipient gets, composed once per (bulletin, language, role)."""
        key = (row.bulletin_id, row.language, row.prestigious)
        if key not in self._messages:
            if len(self._messages) >= MESSAGE_CACHE_SIZE:
                self._messages.clear()  # old bulletins' messages; live ones are composed again in a moment
            with self.db.transaction() as session:
                translations.refresh(session, self.catalogs)
                self._messages[key] = compose.for_recipient(
                    session, row.bulletin_id, row.language, row.prestigious, self.catalogs
                )
        return self._messages[key]

    async def _deliver(self, row: Claimed) -> None:
        """Send the row's next message and record how it went; never raises. An unexpected fault before
        or while sending is retried later like a platform error; an outcome that cannot be written (the
        database went away) is tried once more, then left to the row's claim, which is no longer renewed,
        so the row is taken again when it expires and counted as a possible duplicate."""
        paid_broadcast.set(row.urgent and self.settings.telegram_paid_broadcast)  # this task's sends only
        try:
            sent = await self._send(row)
        except Exception as exc:
            log.exception("bulletin message %s could not be sent; it will be tried again", row.id)
            sent = (None, 0, Result(error=SendError(f"{type(exc).__name__} in Loa Bản")))
        if sent is not None:
            await self._recorded(Outcome(row, *sent))

    async def _recorded(self, outcome: Outcome) -> None:
        """Hand an outcome to the next batch and wait until the batch is written: the row stays in flight
        (its claim renewed) until then, so what a crash can repeat stays within the rows in flight."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unrecorded.append((outcome, done))
        if self._flush is None:
            self._flush = asyncio.create_task(self._record_soon())
            self._flushes.add(self._flush)
            self._flush.add_done_callback(self._flushes.discard)
        await done

    async def _record_soon(self) -> None:
        """Group-commit the outcomes of a short window in one transaction (at 1,000 messages/s one
        transaction per message is the bottleneck). A batch that cannot be written (the database went
        away) is tried once more, then left to its rows' claims, which are no longer renewed: the rows
        are taken again when they expire and counted as possible duplicates."""
        await asyncio.sleep(RECORD_WINDOW)
        batch, self._unrecorded, self._flush = self._unrecorded, [], None
        for attempt in (1, 2):
            try:
                await asyncio.to_thread(self._record, [outcome for outcome, _ in batch])
                break
            except Exception:
                log.exception("%d bulletin outcomes not recorded (attempt %d)", len(batch), attempt)
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def _send(self, row: Claimed) -> tuple[Reply | None, int, Result] | None:
        """The message sent (or the platform's refusal) with the count of the recipient's messages; None
        when the row went back unsent because this sender's claims grew uncertain."""
        key = (row.bulletin_id, row.language, row.prestigious)
        parts = self._messages.get(key)
        if parts is None:  # composed once per (bulletin, language, role): only then on a thread
            parts = await asyncio.to_thread(self._parts, row)
        if not self._holds():
            await asyncio.to_thread(self._give_back, row)
            return None
        reply = parts[row.part] if row.part < len(parts) else None
        channel = self.hub.channels.get(row.channel)
        if reply is None:
            return None, len(parts), Result()
        if channel is None:
            return reply, len(parts), Result(error=SendError(f"channel '{row.channel}' is not running"))
        try:
            return reply, len(parts), Result(sent_id=await channel.send(row.urn, reply))
        except SendError as exc:
            return reply, len(parts), Result(error=exc)

    def _give_back(self, row: Claimed) -> None:
        """A row claimed just before the lease grew uncertain goes back unsent, uncounted."""
        with self.db.transaction() as session:
            session.execute(
                update(Delivery)
                .where(*self._still_mine(row))
                .values(status=DeliveryStatus.pending, attempts=Delivery.attempts - 1, **RELEASED),
                execution_options={"synchronize_session": False},
            )

    def _still_mine(self, row: Claimed) -> tuple[ColumnElement[bool], ...]:
        """The row as this sender claimed it: in flight, under this claim's token."""
        return (
            Delivery.id == row.id,
            Delivery.status == DeliveryStatus.sending,
            Delivery.claimed_by == self.holder,
            Delivery.claim_id == row.claim,
        )

    def _record(self, outcomes: Sequence[Outcome]) -> int:
        """One transaction for a batch of outcomes: each row's new state, the people's message history, and
        unsubscriptions of people who blocked the bot. A row whose claim this sender lost (it is locked
        here, so the claim cannot change meanwhile) gets nothing written. Returns how many were written."""
        with self.db.transaction() as session:
            locked = session.execute(
                select(Delivery.id, Delivery.claim_id)
                .where(
                    Delivery.id.in_([o.row.id for o in outcomes]),
                    Delivery.status == DeliveryStatus.sending,
                    Delivery.claimed_by == self.holder,
                )
                .order_by(Delivery.id)
                .with_for_update()
            )
            held = {row_id: claim_id for row_id, claim_id in locked}
            mine = [o for o in outcomes if held.get(o.row.id) == o.row.claim]
            lost = sorted(o.row.id for o in outcomes if held.get(o.row.id) != o.row.claim)
            if lost:
                log.warning("bulletin messages %s: this sender's claim ran out; outcome not recorded", lost)
            if not mine:
                return 0
            session.execute(
                update(Delivery),
                [{"id": o.row.id, **RELEASED, **self._outcome(o.row, o.total, o.result)} for o in mine],
            )
            sent = [(o.row, o.reply, o.result.sent_id) for o in mine if o.result.error is None]
            messages.record_sent(
                session,
                [(r.person_id, r.urn, "bulletin", m.text, m.to_payload(), i) for r, m, i in sent if m],
            )
            people.count_sent(session, [r.urn for r, m, _ in sent if m and r.channel in self.windows])
            blocked = [o.row.person_id for o in mine if o.result.error and o.result.error.blocked]
            people.unsubscribe(session, [person for person in blocked if person is not None])
        return len(mine)

    def _outcome(self, row: Claimed, total: int, result: Result) -> dict[str, object]:
        """The row's next state: the next part or done, settled as not deliverable, or tried again later
        (after the platform's wait, or with a growing backoff) until it counts as failed."""
        now, error = utcnow(), result.error
        if error is None:
            done = row.part + 1 >= total
            return {
                "part": row.part + 1,
                "status": DeliveryStatus.sent if done else DeliveryStatus.pending,
                "due_at": now + timedelta(seconds=self.settings.delivery_chat_interval_seconds),
                "sent_at": now if done else None,
                "error": None,
            }
        if error.unreachable:
            return {"status": DeliveryStatus.unreachable, "error": str(error)}
        if error.blocked:
            return {"status": DeliveryStatus.blocked, "error": str(error)}
        if error.retry_after is not None:
            wait = timedelta(seconds=error.retry_after)
            return {
                "status": DeliveryStatus.pending,
                "due_at": now + wait,
                "attempts": row.attempts - 1,
                "error": str(error),
            }
        if error.permanent or row.attempts >= self.settings.delivery_max_attempts:
            return {"status": DeliveryStatus.failed, "error": str(error)}
        backoff = min(timedelta(seconds=5 * 2 ** (row.attempts - 1)), MAX_BACKOFF)
        return {"status": DeliveryStatus.pending, "due_at": now + backoff, "error": str(error)}
