"""Zalo Official Account adapter: signed webhook events in, OA API v3 messages out. Zalo has no inline
keyboards: a reply's buttons become `oa.query.show` buttons of a list template (a tap comes back as the
button's text) or, where they do not fit, a numbered menu the person answers with a number."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from bot.channels.base import (
    CLAIM_LEASE,
    RESEND_BATCH,
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
from bot.channels.zalo_api import ZaloAPI
from bot.config import Settings
from bot.conversation.types import KEYCAPS, Attachment, Inbound, MediaKind, Received, Reply
from bot.media import service as media
from bot.media import store
from bot.messages import service as messages
from bot.messages.models import Direction
from bot.people import service as people
from bot.people.windows import reply_windows
from bot.runtime import runtime_of
from bot.text import fold

log = logging.getLogger(__name__)
router = APIRouter()
WEBHOOK_PATH = "/webhooks/zalo"
MAX_EVENT_BYTES = 1_000_000
PRIVATE_LINK_SECONDS = 7 * 24 * 3600  # a voice answer stays playable for a week after it is sent
MAX_TEXT = 2000  # characters of a text message
MAX_TITLE, MAX_SUBTITLE, MAX_BUTTONS = 100, 500, 5  # of a list template with buttons
MEDIA_EVENTS: dict[str, tuple[MediaKind, str]] = {  # event -> (kind, type when the download names none)
    "user_send_image": ("photo", "image/jpeg"),
    "user_send_audio": ("voice", "audio/aac"),
    "user_send_video": ("video", "video/mp4"),
    "user_send_file": ("document", "application/octet-stream"),
}
IGNORED_EVENTS = {"user_received_message", "user_seen_message", "oa_send_text", "oa_send_image"}


def signature(app_id: str, raw: bytes, timestamp: str, oa_secret: str) -> str:
    """Zalo's X-ZEvent-Signature: 'mac=' + sha256(app_id + body + timestamp + OA secret key)."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret.encode())
    return "mac=" + digest.hexdigest()


def to_inbound(event: dict[str, Any]) -> Inbound | None:
    """Translate a webhook event into the core's neutral message; None for events that need no answer."""
    name = str(event.get("event_name", ""))
    message = _object(event.get("message"))
    common: dict[str, Any] = {"raw": event}
    if name in ("follow", "unfollow"):
        user = str(_object(event.get("follower")).get("id", ""))
        common |= {"urn": f"zalo:{user}", "external_id": f"{name}:{user}:{event.get('timestamp', '')}"}
        if name == "follow":
            return Inbound(kind="command", text="/start", **common)
        return Inbound(kind="event", payload="blocked", **common)
    if not name.startswith("user_send_") or name in IGNORED_EVENTS:
        return None
    user = str(_object(event.get("sender")).get("id", ""))
    common |= {"urn": f"zalo:{user}", "external_id": str(message.get("msg_id") or "")}
    text = str(message.get("text") or "")
    if name == "user_send_text":
        return Inbound(kind="command" if text.startswith("/") else "text", text=text.strip(), **common)
    if name == "user_send_location":
        where = _coordinates(message)
        if where is None:
            return Inbound(kind="unsupported", payload="location", **common)
        return Inbound(kind="location", location=where, **common)
    if name in MEDIA_EVENTS:
        return Inbound(kind="media", payload=MEDIA_EVENTS[name][0], text=text, **common)
    return Inbound(kind="unsupported", payload=name.removeprefix("user_send_"), **common)


def _object(value: Any) -> dict[str, Any]:
    """A JSON object where the event should have one; anything else reads as empty, so a malformed event
    is ignored rather than crashing its handling (and being delivered again for ever)."""
    return value if isinstance(value, dict) else {}


def _attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's attachments that are objects."""
    items = message.get("attachments")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _coordinates(message: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) from a location message (Zalo sends them as strings, under attachments)."""
    for item in _attachments(message):
        coordinates = _object(_object(item.get("payload")).get("coordinates"))
        try:
            lat, lon = float(coordinates["latitude"]), float(coordinates["longitude"])
        except (KeyError, TypeError, ValueError):
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    return None


def _attachment_url(event: dict[str, Any]) -> str:
    """Where Zalo keeps the file a person sent."""
    for item in _attachments(_object(event.get("message"))):
        url = _object(item.get("payload")).get("url")
        if url:
            return str(url)
    return ""


def numbered(text: str, labels: list[str]) -> str:
    """A numbered menu under the text: the person answers with the number."""
    marks = [KEYCAPS[i] if i < len(KEYCAPS) else f"{i + 1}." for i in range(len(labels))]
    lines = [label if label.startswith(m) else f"{m} {label}" for m, label in zip(marks, labels, strict=True)]
    menu = "\n".join(lines)
    room = MAX_TEXT - len(menu) - 2
    body = text if len(text) <= room else text[: max(0, room - 1)] + "…"
    return f"{body}\n\n{menu}" if body else menu


def _same(a: str, b: str) -> bool:
    """A typed answer matches a label whatever the case, accents or spacing."""
    return " ".join(fold(a).split()) == " ".join(fold(b).split())


class ZaloChannel(Channel):
    """Sends neutral replies as OA consultation messages (`/v3.0/oa/message/cs`)."""

    type: ClassVar[str] = "zalo"

    def __init__(self, api: ZaloAPI, settings: Settings) -> None:
        self.api, self.settings = api, settings
        self.window = reply_windows(settings)[self.type]
        self.files = PlatformFiles(self, store.of(settings))

    def interpret(self, session: Session, inbound: Inbound) -> Inbound:
        """A tapped `oa.query.show` button arrives as its label, a numbered menu's answer as a number: both
        become the button they stand for, as on platforms with real buttons."""
        if inbound.kind != "text" or not inbound.text:
            return inbound
        shown = messages.recent_buttons(session, inbound.urn)
        typed = inbound.text.strip()
        if shown and shown[0] and typed.isdigit() and 1 <= int(typed) <= len(shown[0]):
            return replace(inbound, kind="button", payload=shown[0][int(typed) - 1][1])
        for buttons in shown:
            for label, payload in buttons:
                if _same(label, typed):
                    return replace(inbound, kind="button", payload=payload)
        return inbound

    async def send(self, urn: str, reply: Reply, replace: str | None = None) -> str | None:
        """One reply as one Zalo message (each counts against the person's free messages): a picture with
        its caption, a voice note as its text with a link to play it, a document as its text with a link
        (Zalo's file upload takes PDF and Word files only; a person's data file is JSON, behind an expiring
        token), text with its buttons. A person's own picture is not uploaded back to show it (its text says
        it arrived); Zalo has no contact button, so a reply asking for a number is its text (which says to
        type it)."""
        user_id = urn.split(":", 1)[1]
        attachment = None if reply.attachment is None or reply.attachment.echo else reply.attachment
        if attachment is not None and attachment.kind == "image":
            caption = numbered(reply.text, [b.label for b in reply.buttons]) if reply.buttons else reply.text
            image = await self._upload(attachment)
            element = {"media_type": "image", "attachment_id": image}
            payload = {"template_type": "media", "elements": [element]}
            message: dict[str, Any] = {"attachment": {"type": "template", "payload": payload}}
            if caption:
                message["text"] = caption[:MAX_TEXT]
            return await self._post(user_id, message)
        text = reply.text
        if attachment is not None:
            icon = "📄" if attachment.kind == "document" else "🔊"
            text = f"{text}\n\n{icon} {self.settings.base_url + self._link(attachment)}".strip()
        return await self._post(user_id, self._message(text, [b.label for b in reply.buttons]))

    def _link(self, attachment: Attachment) -> str:
        """Where the person opens a file: a bulletin's public address, else a signed link that expires
        (Zalo only shows links, and a person's or an official's file is not public)."""
        if not attachment.token:
            return attachment.url
        expires = int(time.time()) + PRIVATE_LINK_SECONDS
        return media.signed_url(attachment.url, self.settings.secret_key, expires)

    def _message(self, text: str, labels: list[str]) -> dict[str, Any]:
        """Text alone; text with up to five short buttons as a list template; else a numbered menu."""
        if not labels:
            return {"text": text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"}
        title, _sep, rest = text.partition("\n")
        fits = len(title) <= MAX_TITLE and len(rest.strip()) <= MAX_SUBTITLE and len(labels) <= MAX_BUTTONS
        if not fits or not title.strip() or any(len(label) > MAX_TITLE for label in labels):
            return {"text": numbered(text, labels)}
        buttons = [{"title": label, "type": "oa.query.show", "payload": label} for label in labels]
        element = {"title": title.strip(), "subtitle": rest.strip()}
        payload = {"template_type": "list", "elements": [element], "buttons": buttons}
        return {"attachment": {"type": "template", "payload": payload}}

    async def _post(self, user_id: str, message: dict[str, Any]) -> str:
        """Send one consultation message; the platform's message id."""
        data = await self.api.call(
            "/v3.0/oa/message/cs", json={"recipient": {"user_id": user_id}, "message": message}
        )
        return str(data.get("message_id", ""))

    async def _upload(self, attachment: Attachment) -> str:
        """Zalo's id for a stored picture, uploading it only the first time."""

        async def upload(file: str | bytes) -> tuple[str, str | None]:
            if isinstance(file, str):
                return file, None
            mime = media.image_type(file) or "image/jpeg"
            name = f"image.{media.EXTENSIONS[mime]}"
            sent = await self.api.call("/v2.0/oa/upload/image", files={"file": (name, file, mime)})
            return str(sent["attachment_id"]), str(sent["attachment_id"])

        return await self.files.use(attachment, upload)


class ZaloBot(ChannelService):
    """The running Zalo side of a process: API client, channel, and events handled after the 200."""

    channel: ZaloChannel
    resends = True
    # An event whose handling failed is tried again while the process runs: looked for this often (in
    # seconds), once it is this old (a younger one may still be in hand in the process it came to).
    retry_every: ClassVar[float] = 30.0
    retry_after: ClassVar[timedelta] = timedelta(minutes=1)

    def __init__(self, settings: Settings, hub: Hub) -> None:
        self.settings, self.db = settings, hub.db
        self.api = ZaloAPI(hub.db, settings)
        super().__init__(hub, ZaloChannel(self.api, settings))
        self.download = httpx.AsyncClient(timeout=30, follow_redirects=True)
        self._chats = KeyedLocks()
        self._named: set[str] = set()  # addresses whose name was asked for
        self._tasks: set[asyncio.Task[None]] = set()
        # Events are stored on threads of their own: in the shared pool they would queue behind the
        # handling of earlier events, and Zalo gives the webhook 2 s (bench/zalo.py measures it).
        self._storing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="zalo-store")
        self._retrying: asyncio.Task[None] | None = None

    async def start(self, *, receive: bool = True) -> None:
        """Finish what a stopped process left (events stored but not handled, replies not sent), then keep
        trying again the events whose handling fails."""
        if receive:
            await self.resume()
            await self.hub.resend_pending(self.channel.type)
            self._retrying = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        """Now and then, take up the events whose handling failed, here or in a process that died since."""
        while True:
            await asyncio.sleep(self.retry_every)
            try:
                await self.resume(self.retry_after)
            except Exception:
                log.exception("could not look for Zalo events to handle again")

    async def stop(self) -> None:
        """Stop retrying, let events in hand finish, then close the connections."""
        if self._retrying is not None:
            self._retrying.cancel()
            await asyncio.wait([self._retrying])
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        self._storing.shutdown(wait=True)
        await self.download.aclose()
        await self.api.close()

    async def accept(self, event: dict[str, Any]) -> bool:
        """Store the event, then handle it after the webhook has answered (Zalo waits 2 s at most and sends
        it again otherwise). False for an event that needs nothing or was handled before."""
        inbound = to_inbound(event)
        if inbound is None:
            log.info("Zalo event %r ignored", event.get("event_name"))
            return False
        if not inbound.external_id or inbound.urn == "zalo:":
            log.warning("Zalo event without sender or message id ignored: %s", event.get("event_name"))
            return False

        def store() -> bool:
            with self.db.transaction() as session:
                return not self.hub.conversation.record(session, inbound).handled

        if not await asyncio.get_running_loop().run_in_executor(self._storing, store):
            return False
        self._later(inbound)
        return True

    def _later(self, inbound: Inbound) -> None:
        """Handle an event in the background, one at a time per person, in arrival order."""
        task = asyncio.get_running_loop().create_task(self._handle(inbound))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, inbound: Inbound) -> None:
        """Fetch the file if any, then act and reply; a failure leaves the event stored, to be retried."""
        try:
            async with self._chats.hold(inbound.urn):
                outcome = await self.hub.receive(await self.fetch(inbound))
                if outcome.ask_name:
                    await self._learn_name(inbound.urn)
        except Exception:
            log.exception("Zalo event %s not handled; it is tried again later", inbound.external_id)

    async def _learn_name(self, urn: str) -> None:
        """Zalo's events carry no name: ask the OA API once for the name of someone who agreed to be named
        and has none yet, so officials see who wrote (anonymous reflections still hide it)."""
        if urn in self._named:
            return
        self._named.add(urn)
        user_id = urn.split(":", 1)[1]
        try:
            detail = await self.api.call(
                "/v3.0/oa/user/detail", params={"data": json.dumps({"user_id": user_id})}
            )
        except SendError as exc:
            log.info("no Zalo profile for a person who agreed to be named: %s", exc)
            return
        name = str(detail.get("display_name") or "").strip()[:200]

        def save() -> None:
            with self.db.transaction() as session:
                person = people.get_by_urn(session, urn)
                if person is not None and person.consented and not person.display_name:
                    person.display_name = name

        if name:
            await asyncio.to_thread(save)

    async def resume(self, older_than: timedelta = timedelta(seconds=0)) -> int:
        """Handle events stored but never handled (by a stopped process, or a failure here), each claimed
        first so that one process takes it; returns how many."""

        def claim() -> list[dict[str, Any]]:
            with self.db.transaction() as session:
                found = messages.claim_unfinished(
                    session,
                    self.channel.type,
                    Direction.inbound,
                    older_than=older_than,
                    lease=CLAIM_LEASE,
                    limit=RESEND_BATCH,
                )
                return [m.payload for m in found]

        total = 0
        while events := await asyncio.to_thread(claim):
            for event in events:
                inbound = to_inbound(event)
                if inbound is not None:
                    self._later(inbound)
            total += len(events)
        return total

    async def fetch(self, inbound: Inbound) -> Inbound:
        """Download the file a person sent from Zalo, before any transaction, into a file of its own; too
        large or not downloadable is marked so the person is told (the rest is kept)."""
        if inbound.kind != "media":
            return inbound
        kind, default_mime = next((k, m) for k, m in MEDIA_EVENTS.values() if k == inbound.payload)
        received = Received(kind=kind, mime=default_mime)
        url = _attachment_url(inbound.raw)
        limit = self.settings.max_upload_mb * 1_000_000
        try:
            async with self.download.stream("GET", url) as response:
                response.raise_for_status()
                mime = response.headers.get("content-type", "").split(";")[0].strip() or default_mime
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        return replace(inbound, received=replace(received, mime=mime, error="too_large"))
                    chunks.append(chunk)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not fetch a %s from Zalo: %s", kind, type(exc).__name__)
            return replace(inbound, received=replace(received, error="refused"))
        data = b"".join(chunks)
        kept = await parked(store.of(self.settings), replace(received, mime=mime), data)
        return replace(inbound, received=kept)


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def zalo_webhook(request: Request) -> Response:
    """Check Zalo's signature, store the event and answer at once; the handling follows."""
    runtime = runtime_of(request)
    zalo, settings = runtime.channel(ZaloBot), runtime.settings
    if zalo is None:
        return JSONResponse({"error": "Zalo is not enabled"}, status_code=404)
    raw = await request.body()
    if len(raw) > MAX_EVENT_BYTES:
        return JSONResponse({"error": "event too large"}, status_code=413)
    if not _signed(raw, request.headers.get("X-ZEvent-Signature", ""), settings):
        log.warning("Zalo event with a wrong signature refused")
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    try:
        event = parse_json(raw)
    except ValueError:
        event = None
    if not isinstance(event, dict):  # signed by Zalo yet not an event: nothing to store
        return JSONResponse({"error": "malformed event"}, status_code=400)
    try:
        await zalo.accept(event)
    except Exception:
        log.exception("Zalo event could not be stored; Zalo will send it again")
        return JSONResponse({"error": "temporary failure, retry later"}, status_code=500)
    return JSONResponse({"error": 0, "message": "Success"})


_APP_ID = re.compile(rb'"app_id"\s*:\s*"?(\d{1,30})"?')
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,20})"?')


def _signed(raw: bytes, given: str, settings: Settings) -> bool:
    """The event comes from Zalo for our app: the signature matches and names our app id. The app id and
    timestamp are read from the raw body, so nothing an attacker sent is parsed before it is verified."""
    app_match, time_match = _APP_ID.search(raw), _TIMESTAMP.search(raw)
    if app_match is None or time_match is None or not settings.zalo_oa_secret_key:
        return False
    app_id, timestamp = app_match.group(1).decode(), time_match.group(1).decode()
    if app_id != settings.zalo_app_id:
        return False
    expected = signature(app_id, raw, timestamp, settings.zalo_oa_secret_key)
    return secrets.compare_digest(given.encode(), expected.encode())


class Zalo(ChannelType):
    """Zalo runs where the app, the OA's secret and a refresh token are configured; events come by webhook."""

    routes = router

    def configured(self, settings: Settings) -> bool:
        """All of Zalo's credentials turn it on."""
        return settings.zalo_enabled

    def build(self, settings: Settings, hub: Hub, *, polling: bool) -> ZaloBot:
        """The OA API client and event handling, attached to the hub (Zalo has no polling)."""
        return ZaloBot(settings, hub)


register_channel(ZaloChannel.type, Zalo())
