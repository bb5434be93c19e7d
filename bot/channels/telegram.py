"""Telegram adapter: python-telegram-bot's Application without its own web server, behind FastAPI."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, BaseUpdateProcessor, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.channels.base import (
    Channel,
    ChannelService,
    ChannelType,
    Hub,
    PlatformFiles,
    SendError,
    parked,
    parse_json,
    register_channel,
)
from bot.channels.locks import KeyedLocks
from bot.channels.rate import Bucket, Pace, paid_broadcast, shared_bucket
from bot.config import Settings
from bot.conversation.types import Attachment, Button, Inbound, Outcome, Quiz, Received, Reply
from bot.media import store
from bot.media.store import MediaStore
from bot.messages.models import Direction, Status
from bot.messages.models import Message as Stored
from bot.runtime import runtime_of

log = logging.getLogger(__name__)
router = APIRouter()
WEBHOOK_PATH = "/webhooks/telegram"
MAX_UPDATE_BYTES = 1_000_000
CONNECTIONS_BESIDE = 64  # for replies and menus while a paid broadcast holds its connections
CONNECTIONS_PER_POOL = 32  # httpcore walks every connection of its pool on each request: keep pools small
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "poll_answer"]
# Telegram's limits on a quiz poll; a question beyond them is asked with buttons instead.
QUIZ_QUESTION, QUIZ_OPTION, QUIZ_EXPLANATION, QUIZ_OPTIONS = 300, 100, 200, (2, 10)
POLL_SENT = "poll:"  # how a sent quiz is recorded: poll:<poll id>:<message id>
QUIZZES_IN_FLIGHT_SEEN = 20  # a person's latest replies not yet recorded as sent, searched for a quiz
PAID_BROADCAST_RATE = 990.0  # Telegram allows 1,000/s with allow_paid_broadcast; a little under for jitter
MEDIA_KINDS: dict[str, str] = {  # what a person may send with a reflection, and its type if Telegram omits it
    "photo": "image/jpeg",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "document": "application/octet-stream",
}


def urn_of(update: Update) -> str:
    """Private chats are addressed by chat id, which for a person equals their user id."""
    if update.effective_chat is not None:
        return f"telegram:{update.effective_chat.id}"
    if update.effective_user is not None:
        return f"telegram:{update.effective_user.id}"
    return "telegram:unknown"


def to_inbound(update: Update) -> Inbound:
    """Translate a Telegram update into the core's neutral message. The update itself is not kept: nothing
    needs it again, and it carries the person's name and username whether or not they agreed."""
    user = update.effective_user
    name = user.full_name if user is not None else ""
    common: dict[str, Any] = {
        "urn": urn_of(update),
        "external_id": str(update.update_id),
        "display_name": name,
    }
    if update.callback_query is not None:
        return Inbound(kind="button", payload=update.callback_query.data or "", **common)
    if update.poll_answer is not None:  # an answer to a quiz: `interpret` finds the question it was
        answer = {"poll_id": update.poll_answer.poll_id, "option_ids": list(update.poll_answer.option_ids)}
        return Inbound(kind="event", payload="poll_answer", raw=answer, **common)
    if update.my_chat_member is not None:
        status = update.my_chat_member.new_chat_member.status
        return Inbound(kind="event", payload="blocked" if status == "kicked" else "member", **common)
    message = update.message
    if message is None:
        return Inbound(kind="event", payload="ignored", **common)
    if message.text is not None:
        if message.text.startswith("/"):
            return Inbound(kind="command", text=message.text, **common)
        return Inbound(kind="text", text=message.text, **common)
    if message.location is not None:
        where = (message.location.latitude, message.location.longitude)
        return Inbound(kind="location", location=where, **common)
    if message.contact is not None:
        return Inbound(kind="text", text=message.contact.phone_number, **common)
    kind = _media_kind(message.to_dict())
    if kind in MEDIA_KINDS:
        return Inbound(kind="media", payload=kind, text=message.caption or "", **common)
    return Inbound(kind="unsupported", payload=kind, **common)


def _media_kind(message: dict[str, Any]) -> str:
    """Which kind of non-text message arrived (sticker, photo, voice…), for the log."""
    for key in (
        "sticker",
        "photo",
        "voice",
        "audio",
        "video",
        "video_note",
        "document",
        "location",
    ):
        if key in message:
            return key
    return "other"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Neutral buttons as an inline keyboard, `columns` buttons per row."""
    return _inline_keyboard(reply.buttons, max(1, reply.columns)) if reply.buttons else None


@functools.lru_cache(maxsize=1024)
def _inline_keyboard(buttons: tuple[Button, ...], cols: int) -> InlineKeyboardMarkup:
    """Built once per layout: a broadcast shows everyone the same keyboard, and PTB's objects cannot be
    changed once built, so one can serve every send."""
    row = [InlineKeyboardButton(b.label, callback_data=b.payload) for b in buttons]
    return InlineKeyboardMarkup([row[i : i + cols] for i in range(0, len(row), cols)])


def quiz_sent(session: Session, urn: str, poll_id: str) -> tuple[dict[str, Any], str] | None:
    """The stored reply that sent a quiz poll to this person, and how it was recorded as sent. A vote can
    arrive before its poll is recorded as sent (the outcome is written a moment after Telegram answers):
    then the one quiz still in flight to this person is the poll voted on ("" as its record)."""
    row = session.execute(
        select(Stored.payload, Stored.sent_id).where(
            Stored.urn == urn,
            Stored.direction == Direction.outbound,
            Stored.sent_id.startswith(f"{POLL_SENT}{poll_id}:"),
        )
    ).first()
    if row is not None:
        return (row[0], row[1])
    in_flight = session.scalars(
        select(Stored.payload)
        .where(Stored.urn == urn, Stored.direction == Direction.outbound, Stored.status == Status.pending)
        .order_by(Stored.id.desc())
        .limit(QUIZZES_IN_FLIGHT_SEEN)
    ).all()
    quizzes = [payload for payload in in_flight if payload.get("quiz")]
    return (quizzes[0], "") if len(quizzes) == 1 else None


def fits_quiz(quiz: Quiz | None) -> bool:
    """Whether a quiz fits Telegram's native quiz poll (else its buttons ask it)."""
    return (
        quiz is not None
        and len(quiz.question) <= QUIZ_QUESTION
        and QUIZ_OPTIONS[0] <= len(quiz.options) <= QUIZ_OPTIONS[1]
        and all(0 < len(option) <= QUIZ_OPTION for option in quiz.options)
        and len(quiz.explanation) <= QUIZ_EXPLANATION
    )


def contact_keyboard(reply: Reply) -> ReplyKeyboardMarkup:
    """A reply that asks for the person's number gets a keyboard under the input field instead (only
    those can share a contact): the contact button first, then the others, whose taps come back as their
    labels."""
    rows = [[KeyboardButton(reply.contact, request_contact=True)]]
    rows += [[KeyboardButton(b.label)] for b in reply.buttons]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


class TelegramChannel(Channel):
    """Sends neutral replies through the Bot API; a blocked bot is reported so the person is unsubscribed."""

    type: ClassVar[str] = "telegram"

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], files: MediaStore) -> None:
        self.application = application
        self.files = PlatformFiles(self, files)
        self.asking: set[int] = set()  # chats shown a keyboard under the input field, until a plain message

    def interpret(self, session: Session, inbound: Inbound) -> Inbound:
        """A tap on a keyboard under the input field arrives as the button's label: it becomes the button
        it stands for, when the message just shown had such a keyboard. An answer to a quiz poll becomes
        the tap of its option's button."""
        if inbound.kind == "event" and inbound.payload == "poll_answer":
            return self._quiz_answer(session, inbound)
        if inbound.kind != "text":
            return inbound
        latest = session.scalar(
            select(Stored.payload)
            .where(Stored.urn == inbound.urn, Stored.direction == Direction.outbound)
            .order_by(Stored.id.desc())
            .limit(1)
        )
        shown = Reply.from_payload("", latest or {})
        tapped = next((b for b in shown.buttons if shown.contact and b.label == inbound.text), None)
        return replace(inbound, kind="button", payload=tapped.payload) if tapped else inbound

    def _quiz_answer(self, session: Session, inbound: Inbound) -> Inbound:
        """The option picked in a quiz this person was sent, as its button's payload (a poll not sent
        to them, or a vote taken back, stays an event that changes nothing)."""
        found = quiz_sent(session, inbound.urn, str(inbound.raw.get("poll_id")))
        quiz = Reply.from_payload("", found[0]).quiz if found else None
        picked = inbound.raw.get("option_ids") or []
        if quiz is None or not picked:
            return inbound
        return replace(inbound, kind="button", payload=f"{quiz.answer}:{int(picked[0])}")

    async def send(self, urn: str, reply: Reply, replace: str | None = None) -> str | None:
        """One reply: text with its keyboard, or a voice note or picture with the text as caption (a
        person's own picture shown back only by the id Telegram keeps it under). A reply to a tap
        replaces the tapped message, so menus change in place and no used keyboard is left; the first
        plain message after a keyboard under the input field takes that keyboard away."""
        chat_id = int(urn.split(":", 1)[1])
        attachment = reply.attachment
        if attachment is not None and attachment.echo and attachment.platform_id(self.type) is None:
            attachment = None
        try:
            if attachment is not None:
                return await self._send_file(chat_id, reply, attachment)
            if reply.quiz is not None and fits_quiz(reply.quiz):
                return await self._send_quiz(chat_id, reply, reply.quiz)
            if replace is not None and not reply.contact:
                edited = await self._edit(chat_id, int(replace), reply)
                if edited is not None:
                    return edited
            markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = keyboard(reply)
            if reply.contact:
                self.asking.add(chat_id)
                markup = contact_keyboard(reply)
            elif markup is None and chat_id in self.asking:
                self.asking.discard(chat_id)
                markup = ReplyKeyboardRemove()
            sent = await self.application.bot.send_message(
                chat_id, reply.text, reply_markup=markup, **_paid()
            )
        except Forbidden as exc:
            raise SendError(exc.message, blocked=True) from exc
        except RetryAfter as exc:
            raise SendError(exc.message, retry_after=_seconds(exc.retry_after)) from exc
        except BadRequest as exc:
            raise SendError(f"BadRequest: {exc.message}", permanent=True) from exc
        except TelegramError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        return str(sent.message_id)

    async def _send_quiz(self, chat_id: int, reply: Reply, quiz: Quiz) -> str:
        """A native, non-anonymous quiz poll (so each person's answer comes back as a `poll_answer`), with
        the reply's other buttons (the way back to the menu) under it."""
        others = replace(
            reply, buttons=tuple(b for b in reply.buttons if not b.payload.startswith(quiz.answer))
        )
        sent = await self.application.bot.send_poll(
            chat_id,
            quiz.question,
            list(quiz.options),
            is_anonymous=False,
            type="quiz",
            correct_option_ids=[quiz.correct],
            explanation=quiz.explanation or None,
            reply_markup=keyboard(others),
            **_paid(),
        )
        assert sent.poll is not None
        return f"{POLL_SENT}{sent.poll.id}:{sent.message_id}"

    async def _send_file(self, chat_id: int, reply: Reply, attachment: Attachment) -> str:
        """Send a stored file by the id Telegram gave it, uploading it only the first time; a document is
        made for one person, so it is uploaded as it is, under its name."""
        if attachment.kind == "document":
            try:
                data = await asyncio.to_thread(self.files.store.get, attachment.key)
            except OSError as exc:
                raise SendError(f"document gone: {type(exc).__name__}", permanent=True) from exc
            document = InputFile(data, filename=attachment.name)
            return str((await self._post_file(chat_id, reply, attachment, document)).message_id)

        async def post(file: str | bytes) -> tuple[str, str | None]:
            sent = await self._post_file(chat_id, reply, attachment, file)
            uploaded = sent.voice if attachment.kind == "voice" else (sent.photo[-1] if sent.photo else None)
            return str(sent.message_id), uploaded.file_id if uploaded is not None else None

        return await self.files.use(attachment, post)

    async def _post_file(self, chat_id: int, reply: Reply, attachment: Attachment, file: Any) -> Message:
        """sendVoice, sendPhoto or sendDocument with the reply's text as caption and its buttons."""
        bot, caption, markup, paid = self.application.bot, reply.text or None, keyboard(reply), _paid()
        if attachment.kind == "voice":
            duration = attachment.duration or None
            sent: Message = await bot.send_voice(
                chat_id, file, caption=caption, duration=duration, reply_markup=markup, **paid
            )
        elif attachment.kind == "document":
            sent = await bot.send_document(chat_id, file, caption=caption, reply_markup=markup, **paid)
        else:
            sent = await bot.send_photo(chat_id, file, caption=caption, reply_markup=markup, **paid)
        return sent

    async def _edit(self, chat_id: int, message_id: int, reply: Reply) -> str | None:
        """Show a reply in place of a message; None when Telegram will not edit it (too old, not text)."""
        try:
            await self.application.bot.edit_message_text(
                reply.text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard(reply)
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():  # a double tap: the screen already shows this
                return str(message_id)
            return None
        return str(message_id)


def _paid() -> dict[str, bool]:
    """Telegram's paid broadcast for this send, when an urgent bulletin is being sent with it enabled."""
    return {"allow_paid_broadcast": True} if paid_broadcast.get() else {}


class SharedRateLimiter(AIORateLimiter):
    """PTB's limiter for what it knows per process (groups' 20/min, retries after a 429), with the bot's
    overall rate (and its paid-broadcast rate) shared by every process sending for the bot."""

    def __init__(self, overall: Pace, paid: Pace) -> None:
        super().__init__(overall_max_rate=0, max_retries=5)
        self.overall, self.paid = overall, paid

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """A call to a chat (every send, as Telegram counts them) waits for its moment, each retry too."""
        if data.get("chat_id") is None:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        pace = self.paid if data.get("allow_paid_broadcast") else self.overall

        async def paced(*call_args: Any, **call_kwargs: Any) -> Any:
            await pace.wait()
            return await callback(*call_args, **call_kwargs)

        return await super().process_request(paced, args, kwargs, endpoint, data, rate_limit_args)


class PooledRequest(BaseRequest):
    """The Bot API's requests spread over several small HTTP connection pools, each request on the least
    busy: httpcore looks at every connection of its pool (each idle one against all of them) whenever a
    request starts or ends, which with the hundreds of connections of a paid broadcast cost more CPU
    than the request itself."""

    def __init__(self, connections: int) -> None:
        count = max(1, -(-connections // CONNECTIONS_PER_POOL))
        self.pools = [HTTPXRequest(connection_pool_size=CONNECTIONS_PER_POOL) for _ in range(count)]
        self.busy = [0] * count

    @property
    def read_timeout(self) -> float | None:
        """The pools' default read timeout (they share it)."""
        return self.pools[0].read_timeout

    async def initialize(self) -> None:
        """Open every pool."""
        await asyncio.gather(*(pool.initialize() for pool in self.pools))

    async def shutdown(self) -> None:
        """Close every pool."""
        await asyncio.gather(*(pool.shutdown() for pool in self.pools))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The request on the pool with the fewest requests in flight."""
        index = min(range(len(self.pools)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            return await self.pools[index].do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        finally:
            self.busy[index] -= 1


def _seconds(value: float | timedelta) -> float:
    """PTB gives retry_after as seconds or a timedelta depending on its settings."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Many chats at once, but one update at a time per chat so a person's replies keep their order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.chats = KeyedLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update, then process this one."""
        async with self.chats.hold(urn_of(update) if isinstance(update, Update) else "other"):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class TelegramBot(ChannelService):
    """The running Telegram side of a process: the PTB application, its channel and how updates arrive."""

    channel: TelegramChannel
    resends = True

    def __init__(self, settings: Settings, hub: Hub, *, polling: bool) -> None:
        if not settings.telegram_token:
            raise ValueError("LOABAN_TELEGRAM_TOKEN is not set")
        if not polling and not settings.telegram_webhook_secret:
            raise ValueError(
                "webhook mode needs LOABAN_TELEGRAM_WEBHOOK_SECRET (refusing to start without it)"
            )
        self.settings = settings
        self.polling = polling
        api = settings.telegram_api_url.rstrip("/")
        self.bucket: Bucket = shared_bucket(settings, hub.db)
        bot_id = settings.telegram_token.split(":", 1)[0]  # the rate is Telegram's per bot
        limiter = SharedRateLimiter(
            Pace(self.bucket, f"telegram:{bot_id}", settings.telegram_max_messages_per_second),
            Pace(self.bucket, f"telegram-paid:{bot_id}", PAID_BROADCAST_RATE),
        )
        builder = (
            Application.builder()
            .token(settings.telegram_token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .rate_limiter(limiter)
            # a send in flight may hold a connection: PTB's 256 would cap a larger paid-broadcast setting
            .request(PooledRequest(max(256, settings.delivery_paid_concurrency + CONNECTIONS_BESIDE)))
            .concurrent_updates(PerChatUpdateProcessor(settings.telegram_max_concurrent_updates))
        )
        if not polling:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self._accepting = KeyedLocks()
        self._outcomes: dict[int, Outcome] = {}
        super().__init__(hub, TelegramChannel(self.application, store.of(settings)))

    async def start(self, *, receive: bool = True) -> None:
        """Start the application and register the webhook or begin long polling; a process that only
        sends (`loaban worker`) leaves both to the others."""
        await self.application.initialize()
        await self.application.start()
        if not receive:
            return
        if self.polling:
            assert self.application.updater is not None
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        elif self.settings.public_url:
            await self.application.bot.set_webhook(
                url=self.settings.public_url.rstrip("/") + WEBHOOK_PATH,
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        await self.hub.resend_pending(self.channel.type)

    async def stop(self) -> None:
        """Stop polling and the application cleanly."""
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()
        await self.bucket.close()

    async def fetch(self, update: Update, inbound: Inbound) -> Inbound:
        """Download the file of a media message before any transaction opens, into a file of its own; a
        file too large or refused by Telegram is marked so the person is told (the rest is kept)."""
        message = update.message
        if inbound.kind != "media" or message is None:
            return inbound
        kind = inbound.payload
        item = message.photo[-1] if kind == "photo" and message.photo else getattr(message, kind, None)
        if item is None:
            return inbound
        limit = self.settings.max_upload_mb * 1_000_000
        mime = getattr(item, "mime_type", None) or MEDIA_KINDS[kind]
        duration = int(_seconds(getattr(item, "duration", 0) or 0))
        received = Received(
            kind=kind,  # type: ignore[arg-type]
            mime=mime,
            size=item.file_size or 0,
            duration=duration,
            platform_ids=((TelegramChannel.type, item.file_id),),
        )
        if received.size > limit:
            return replace(inbound, received=replace(received, error="too_large"))
        try:
            remote = await self.application.bot.get_file(item.file_id)
            data = bytes(await remote.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not fetch %s from Telegram: %s", kind, exc)
            return replace(inbound, received=replace(received, error="refused"))
        if len(data) > limit:
            return replace(inbound, received=replace(received, error="too_large"))
        return replace(inbound, received=await parked(store.of(self.settings), received, data))

    async def accept(self, update: Update) -> bool:
        """Store the update and act on it in one transaction (state and outbox), then queue it for
        delivery. A crash before the commit loses nothing (Telegram redelivers without our 200); after
        it, the outbox is resent at start-up. False for a redelivery, which changes nothing."""
        inbound = await self.fetch(update, to_inbound(update))
        async with self._accepting.hold(inbound.urn):
            outcome = await asyncio.to_thread(self.hub.handle, inbound)
        if outcome.duplicate:
            return False
        self._outcomes[update.update_id] = outcome
        await self.application.update_queue.put(update)
        return True

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop a tapped button's spinner at once, and deliver the replies (the first in the tap's place)."""
        query = update.callback_query
        replace = None
        if query is not None:
            self.application.create_task(query.answer())
            replace = str(query.message.message_id) if query.message is not None else None
        outcome = self._outcomes.pop(update.update_id, None)
        if outcome is None:  # long polling: nothing was accepted through the webhook
            await self.hub.receive(await self.fetch(update, to_inbound(update)), replace)
        else:
            await self.hub.deliver(outcome.outgoing, replace)
        if update.poll_answer is not None:
            await self._stop_quiz(urn_of(update), update.poll_answer.poll_id)

    async def _stop_quiz(self, urn: str, poll_id: str) -> None:
        """Close a quiz once answered, so its message shows the result and takes no other vote."""

        def sent_id() -> str | None:
            with self.hub.db.transaction() as session:
                found = quiz_sent(session, urn, poll_id)
                return found[1] if found else None

        found = await asyncio.to_thread(sent_id)
        if not found:  # unknown, or not yet recorded as sent: it closes when the person answers elsewhere
            return
        message_id = found.removeprefix(POLL_SENT).partition(":")[2]
        try:
            await self.application.bot.stop_poll(int(urn.split(":", 1)[1]), int(message_id))
        except TelegramError as exc:  # already closed, or gone: nothing to stop
            log.info("quiz not stopped: %s", type(exc).__name__)


def _update_shaped(data: Any) -> bool:
    """An object with an integer update id: the library builds an Update from anything else too, and
    a dict where the id should be would only fail later, while the update is being stored."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    return isinstance(update_id, int) and not isinstance(update_id, bool)


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    """Check the secret, store and act on the update, queue its replies; the 200 does not wait for them."""
    runtime = runtime_of(request)
    telegram, expected = runtime.channel(TelegramBot), runtime.settings.telegram_webhook_secret
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if telegram is None or telegram.polling or not expected:
        return JSONResponse({"error": "Telegram webhook is not enabled"}, status_code=404)
    if not secrets.compare_digest(given.encode(), expected.encode()):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    raw = await request.body()
    if len(raw) > MAX_UPDATE_BYTES:
        return JSONResponse({"error": "update too large"}, status_code=413)
    try:
        data = parse_json(raw)
        update = Update.de_json(data, telegram.application.bot) if _update_shaped(data) else None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        log.warning("malformed Telegram update refused: %s", type(exc).__name__)
        update = None
    if update is None:
        return JSONResponse({"error": "malformed update"}, status_code=400)
    try:
        await telegram.accept(update)
    except Exception:
        log.exception("update %s could not be handled; Telegram will deliver it again", update.update_id)
        return JSONResponse({"error": "temporary failure, retry later"}, status_code=500)
    return JSONResponse({})


class Telegram(ChannelType):
    """Telegram runs where a bot token is configured; updates come by webhook, or by polling if asked."""

    routes = router

    def configured(self, settings: Settings) -> bool:
        """A bot token turns Telegram on."""
        return bool(settings.telegram_token)

    def build(self, settings: Settings, hub: Hub, *, polling: bool) -> TelegramBot:
        """The PTB application for this process, attached to the hub."""
        return TelegramBot(settings, hub, polling=polling)


register_channel(TelegramChannel.type, Telegram())
