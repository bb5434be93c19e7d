"""The one interface every channel implements, the registry of channel types, and the hub between them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar

from fastapi import APIRouter
from sqlalchemy.orm import Session

from bot.channels.locks import KeyedLocks
from bot.config import Settings
from bot.conversation.engine import Conversation
from bot.conversation.types import AfterSend, Attachment, Inbound, Outcome, Outgoing, Received, Reply
from bot.db import Database
from bot.media import service as media
from bot.media import store
from bot.media.store import MediaStore
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.people.windows import ReplyWindow


async def parked(files: MediaStore, received: Received, data: bytes) -> Received:
    """A file a person sent, parked until the conversation stores it; marked 'unavailable' when the
    media store cannot be written (read-only, full, unreachable), so the person is told to send it again
    later."""
    try:
        key = await asyncio.to_thread(media.park, files, data)
    except OSError as exc:
        log.error("could not keep a file in the media store: %s", exc)
        return dataclasses.replace(received, error="unavailable", size=len(data))
    return dataclasses.replace(received, key=key, size=len(data))


def parse_json(raw: bytes) -> Any:
    """JSON from the Internet, or ValueError: nesting too deep for the parser, bytes that are not UTF-8 and
    text with lone surrogates (which no database column can hold) are refused as malformed, never a 500."""
    try:
        data = json.loads(raw)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (RecursionError, UnicodeError) as exc:
        raise ValueError(type(exc).__name__) from exc
    return data


log = logging.getLogger(__name__)


class SendError(Exception):
    """A platform refused a message; `blocked` means the person blocked the bot, `retry_after` that the
    platform asked us to wait that many seconds, `unreachable` that its rules forbid writing to the person
    until they write again, `permanent` that trying again cannot help."""

    def __init__(
        self,
        reason: str,
        *,
        blocked: bool = False,
        retry_after: float | None = None,
        permanent: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.blocked = blocked
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.permanent = permanent or blocked or unreachable


UploadHook = Callable[[int, str, str], Awaitable[None]]
T = TypeVar("T")
RECORD_WINDOW = 0.05  # seconds of delivery outcomes written in one transaction
# How long a process keeps what it took over from a crash (a batch of replies to resend, an event to
# handle again) before another process may take it: far longer than sending a batch takes.
CLAIM_LEASE = timedelta(minutes=5)
RESEND_BATCH = 100


class Channel(ABC):
    """Translate neutral replies into one platform's calls; inbound translation lives beside it."""

    type: ClassVar[str]
    uploaded: UploadHook | None = None  # the hub persists platform file ids through this
    window: ReplyWindow | None = None  # a platform that limits writing after the person's last message

    @abstractmethod
    async def send(self, urn: str, reply: Reply, replace: str | None = None) -> str | None:
        """Send one reply, or show it in place of message `replace` (the one whose button was tapped) where
        the platform can; return the platform's message id, or raise SendError."""

    def interpret(self, session: Session, inbound: Inbound) -> Inbound:
        """Read an inbound message in the light of what the person was shown (a platform without real
        buttons sends a tap back as text); most channels need nothing of this."""
        return inbound


class PlatformFiles:
    """The ids a platform gave a channel's uploaded files. Each file is uploaded once, one upload at a time
    per file (a broadcast's first seconds would otherwise upload it hundreds of times); new ids go through
    the hub to the database, so other processes do not upload it again."""

    def __init__(self, channel: Channel, files: MediaStore) -> None:
        self.channel, self.store = channel, files
        self.ids: dict[int, str] = {}
        self._uploading = KeyedLocks()

    async def use(
        self, attachment: Attachment, post: Callable[[str | bytes], Awaitable[tuple[T, str | None]]]
    ) -> T:
        """Call `post` with the file's platform id, or the first time with its bytes; `post` returns its
        result and, after an upload, the id the platform gave the file."""
        known = self.ids.get(attachment.media_id) or attachment.platform_id(self.channel.type)
        if known is None:
            async with self._uploading.hold(str(attachment.media_id)):
                known = self.ids.get(attachment.media_id)
                if known is None:
                    data = await asyncio.to_thread(self.store.get, attachment.key)
                    result, new_id = await post(data)
                    if new_id is not None:
                        self.ids[attachment.media_id] = new_id
                        if self.channel.uploaded is not None:
                            await self.channel.uploaded(attachment.media_id, self.channel.type, new_id)
                    return result
        return (await post(known))[0]


class ChannelService:
    """One channel running in a process: its sending side attached to the hub, and whatever receives
    for it, started and stopped with the process. A channel with nothing to run (the web chat, whose
    clients fetch their replies) is this base as it is."""

    resends: ClassVar[bool] = False  # whether its processes send replies a stopped process left unsent

    def __init__(self, hub: Hub, channel: Channel) -> None:
        self.hub = hub
        self.channel = channel
        hub.attach(channel)

    async def start(self, *, receive: bool = True) -> None:
        """Begin receiving (`receive` is False in a process that only sends); nothing by default."""

    async def stop(self) -> None:
        """Let work in hand finish and close connections; nothing by default."""


class ChannelType(ABC):
    """One kind of channel as the server knows it: whether the settings turn it on, the service that runs
    it in a process, and the routes its platform or its clients call."""

    routes: ClassVar[APIRouter]

    @abstractmethod
    def configured(self, settings: Settings) -> bool:
        """Whether this deployment runs the channel."""

    @abstractmethod
    def build(self, settings: Settings, hub: Hub, *, polling: bool) -> ChannelService:
        """The channel's service for one process, attached to its hub (`polling`: take updates by asking
        the platform, where it can, instead of by webhook)."""


CHANNEL_TYPES: dict[str, ChannelType] = {}


def register_channel(code: str, kind: ChannelType) -> None:
    """Make a channel type known to the server, which builds, starts and mounts what is configured."""
    CHANNEL_TYPES[code] = kind


@dataclass(frozen=True)
class Delivery:
    """The platform's answer for one outbox row."""

    message_id: int
    urn: str
    external_id: str | None
    error: str | None
    blocked: bool
    held: bool = False  # refused by a reply window: kept until the person writes again
    after: AfterSend = "keep"  # what the outbox keeps of it once settled


class Hub:
    """Owns the path of every message: store and handle in one transaction, then send after commit."""

    def __init__(
        self, db: Database, conversation: Conversation, record_window: float = RECORD_WINDOW
    ) -> None:
        self.db = db
        self.conversation = conversation
        self.channels: dict[str, Channel] = {}
        self.record_window = record_window
        self._unrecorded: list[Delivery] = []
        self._flush: asyncio.Task[None] | None = None

    def attach(self, channel: Channel) -> None:
        """Make a running channel available for delivery."""
        channel.uploaded = self.remember_upload
        self.channels[channel.type] = channel

    async def remember_upload(self, media_id: int, platform: str, file_id: str) -> None:
        """Keep the id a platform gave an uploaded file, so no process uploads it again."""

        def save() -> None:
            with self.db.transaction() as session:
                media.remember_platform_id(session, media_id, platform, file_id)

        await asyncio.to_thread(save)

    def _unpark(self, key: str) -> None:
        """Remove a parked file once its message was handled; one left behind (the store refused) is only
        a stray copy of what the person sent, so it is logged, not raised."""
        try:
            store.of(self.conversation.settings).delete(key)
        except OSError as exc:
            log.warning("a parked file stayed in the media store: %s", exc)

    def handle(self, inbound: Inbound) -> Outcome:
        """One transaction: store the message, act on it, queue replies (runs in a worker thread). A file
        the person sent is parked only until then: `prepare` wrote it to the store before the transaction,
        and the handler recorded the row of what it kept. On a
        platform with a reply window the person's message opens it again: what it held back (an
        official's answer after a long silence) goes first."""
        try:
            arrived = self.conversation.prepare(self.db, inbound)
            with self.db.transaction() as session:
                channel = self.channels.get(people.channel_of(inbound.urn))
                if channel is not None:
                    inbound = channel.interpret(session, inbound)
                outcome = self.conversation.handle(session, inbound, arrived)
                if channel is not None and channel.window is not None and not outcome.duplicate:
                    held = _outgoing(messages.held(session, inbound.urn))
                    outcome = dataclasses.replace(outcome, outgoing=(*held, *outcome.outgoing))
                return outcome
        finally:
            if inbound.received is not None and inbound.received.key:
                self._unpark(inbound.received.key)

    async def receive(self, inbound: Inbound, replace: str | None = None) -> Outcome:
        """Handle an inbound message and deliver its replies once they are committed."""
        outcome = await asyncio.to_thread(self.handle, inbound)
        if outcome.outgoing:
            await self.deliver(outcome.outgoing, replace)
        return outcome

    def deliver_from(self, loop: asyncio.AbstractEventLoop) -> Callable[[Sequence[Outgoing]], None]:
        """How a job, on a thread of its own, sends what it queued: on this hub's loop, waiting until sent."""

        def send(outgoing: Sequence[Outgoing]) -> None:
            asyncio.run_coroutine_threadsafe(self.deliver(outgoing), loop).result()

        return send

    async def resend_pending(self, channel: str, older_than: timedelta = timedelta(seconds=30)) -> int:
        """Send replies a crash left in the outbox (committed, never sent), claimed a batch at a time so
        that of processes restarting together one sends each, once; returns how many."""

        def claim() -> list[Outgoing]:
            with self.db.transaction() as session:
                return _outgoing(
                    messages.claim_unfinished(
                        session,
                        channel,
                        Direction.outbound,
                        older_than=older_than,
                        lease=CLAIM_LEASE,
                        limit=RESEND_BATCH,
                    )
                )

        total = 0
        while pending := await asyncio.to_thread(claim):
            by_urn: dict[str, list[Outgoing]] = {}
            for item in pending:
                by_urn.setdefault(item.urn, []).append(item)
            await asyncio.gather(*(self.deliver(items) for items in by_urn.values()))
            total += len(pending)
        return total

    async def keep_resending(self, channels: Collection[str], every: float, older_than: timedelta) -> None:
        """Look for replies left unsent every `every` seconds, not only at start: a process that died while
        the others run leaves replies behind, and one of the others claims each and sends it, once. Only
        replies at least `older_than` old are taken (a live process sends its own well within that)."""
        while True:
            await asyncio.sleep(every)
            for channel in channels:
                try:
                    sent = await self.resend_pending(channel, older_than)
                except Exception:
                    log.exception("could not look for unsent %s replies; looked for again later", channel)
                    continue
                if sent:
                    log.warning("%d %s replies left unsent by a stopped process were sent", sent, channel)

    async def deliver(self, outgoing: Sequence[Outgoing], replace: str | None = None) -> list[Delivery]:
        """Send replies in order (one conversation's replies must not overtake each other), then record.
        The first may take the place of the tapped message `replace`."""
        results: list[Delivery] = []
        blocked: set[str] = set()
        for index, item in enumerate(outgoing):
            done = partial(Delivery, item.message_id, item.urn, after=item.after)
            if item.urn in blocked:
                results.append(done(None, "blocked", False))
                continue
            channel = self.channels.get(people.channel_of(item.urn))
            if channel is None:
                results.append(done(None, "channel not running", False))
                continue
            try:
                external_id = await channel.send(item.urn, item.reply, replace if index == 0 else None)
            except SendError as exc:
                log.warning("message %s to a %s chat not sent: %s", item.message_id, channel.type, exc)
                held = channel.window is not None and (exc.unreachable or exc.retry_after is not None)
                results.append(done(None, str(exc), exc.blocked, held))
                if exc.blocked:
                    blocked.add(item.urn)
                continue
            results.append(done(external_id, None, False))
        self._unrecorded.extend(results)
        if self._flush is None:
            self._flush = asyncio.create_task(self._record_soon())
        return results

    async def _record_soon(self) -> None:
        """Group-commit delivery outcomes: one transaction per window instead of one per update, which
        frees the database for handling messages. A crash inside the window leaves those messages
        'pending', so they are sent again at start-up: at most one window's worth of repeats."""
        await asyncio.sleep(self.record_window)
        batch, self._unrecorded, self._flush = self._unrecorded, [], None
        await asyncio.to_thread(self._record, batch)

    async def close(self) -> None:
        """Record what is still waiting for its window (a clean shutdown leaves nothing to resend)."""
        if self._flush is not None:
            await self._flush

    def _record(self, results: Sequence[Delivery]) -> None:
        """Write every delivery outcome in one transaction; a blocked bot unsubscribes the person."""
        windowed = {t for t, c in self.channels.items() if c.window is not None}
        with self.db.transaction() as session:
            messages.mark_delivered(
                session, [(r.message_id, r.external_id, r.error) for r in results if not r.held]
            )
            messages.hold(session, [(r.message_id, r.error or "") for r in results if r.held])
            settled = [r for r in results if not r.held]
            messages.settle(
                session,
                blank=[r.message_id for r in settled if r.after == "blank"],
                drop=[r.message_id for r in settled if r.after == "drop"],
            )
            people.count_sent(
                session, [r.urn for r in results if r.error is None and people.channel_of(r.urn) in windowed]
            )
            for r in results:
                if r.blocked:
                    _unsubscribe(session, r.urn)


def _outgoing(rows: Sequence[Message]) -> list[Outgoing]:
    """Outbox rows as replies to send again."""
    return [Outgoing.from_row(m.id, m.urn, m.text, m.payload) for m in rows]


def _unsubscribe(session: Session, urn: str) -> None:
    """A person who blocked the bot gets nothing more until they come back."""
    person = people.get_by_urn(session, urn)
    if person is not None:
        person.subscribed = False
