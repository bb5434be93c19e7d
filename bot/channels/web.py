"""The web chat: a light page for cheap phones and a small JSON protocol commune portals can embed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from bot.audio import ffmpeg
from bot.channels.base import Channel, ChannelService, ChannelType, Hub, parked, parse_json, register_channel
from bot.config import Settings
from bot.conversation.types import Attachment, Inbound, MediaKind, Received, Reply
from bot.i18n import mark
from bot.media import service as media
from bot.media import store
from bot.media.responses import stored_file
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.runtime import Runtime, runtime_of
from bot.security import client_ip

# A session id is the only key to a person's replies, so the server makes it: 128 random bits and a MAC
# under the deployment's secret (always fullmatch: '$' would let a newline through).
ISSUED_RE = re.compile(r"[A-Za-z0-9_-]{42}")
# What the page made itself before: 128 random bits in hex, still honoured where a person already has it.
LEGACY_RE = re.compile(r"[0-9a-f]{32}")
HISTORY_LIMIT = 50
TEMPLATES_DIR = Path(__file__).parent / "web_templates"
STATIC_DIR = Path(__file__).parent / "web_static"

INVALID_SESSION = mark("Thiếu 'session' hợp lệ: trang trò chuyện xin một phiên mới ở /chat/api/sessions.")
UNKNOWN_SESSION = mark("Phiên trò chuyện này không do Loa Bản cấp. Bạn tải lại trang nhé.")

router = APIRouter()


class WebChannel(Channel):
    """Replies reach web clients in the HTTP answer or by polling, so sending only records them."""

    type: ClassVar[str] = "web"

    async def send(self, urn: str, reply: Reply, replace: str | None = None) -> str | None:
        """Nothing to push: the outbox row is what the client reads (each reply is a new bubble)."""
        return None


def reply_json(message_id: int, reply: Reply) -> dict[str, Any]:
    """A reply in the web chat protocol; a person's own picture is not sent back (the page shows what it
    sent), and the page has no contact button (the reply's text says to type the number)."""
    attached = None if reply.attachment is None or reply.attachment.echo else reply.attachment
    shown = _media_url(message_id, attached) if attached else None
    return {
        "id": message_id,
        "text": reply.text,
        "buttons": [{"label": b.label, "payload": b.payload} for b in reply.buttons],
        "audio_url": shown if attached and attached.kind == "voice" else None,
        "image_url": shown if attached and attached.kind == "image" else None,
        # a person's own file: opened with their session added (?session=…), never by anyone else
        "file_url": attached.url if attached and attached.kind == "document" else None,
        "file_name": attached.name if attached and attached.kind == "document" else None,
    }


def _media_url(message_id: int, attached: Attachment) -> str:
    """A bulletin's file by its public address; a private one (an official's voice answer) through the
    message that carries it and that message's token, which only this chat received."""
    return f"/chat/api/media/{message_id}?token={attached.token}" if attached.token else attached.url


def _signature(secret: str, token: str) -> str:
    """The MAC that proves Loa Bản issued a session token (120 bits, URL-safe)."""
    digest = hmac.new(secret.encode(), b"web-session:" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


def issue_session(secret: str) -> str:
    """A new web chat session id: 22 random URL-safe characters (128 bits) and their signature."""
    token = secrets.token_urlsafe(16)
    return token + _signature(secret, token)


def well_formed(session: object) -> bool:
    """Shaped like a session id Loa Bản issues (or issued before); says nothing of who issued it."""
    return isinstance(session, str) and bool(ISSUED_RE.fullmatch(session) or LEGACY_RE.fullmatch(session))


async def issued(runtime: Runtime, session: str) -> bool:
    """A session this server signed, or an older page-made one that already belongs to a person."""
    if ISSUED_RE.fullmatch(session):
        return hmac.compare_digest(session[22:], _signature(runtime.settings.secret_key, session[:22]))

    def known() -> bool:
        with runtime.db.transaction() as db:
            return people.get_by_urn(db, f"web:{session}") is not None

    return bool(LEGACY_RE.fullmatch(session)) and await asyncio.to_thread(known)


def _error(request: Request, status: int, msgid: str) -> JSONResponse:
    """Errors as JSON with a message (Vietnamese by default) a portal can show as is."""
    runtime = runtime_of(request)
    message = runtime.catalogs.gettext(runtime.settings.admin_language)(msgid)
    return JSONResponse({"error": message}, status_code=status)


def parse_inbound(body: Any) -> Inbound | str:
    """Validate a posted chat message; a string return is the reason it was refused."""
    if not isinstance(body, dict):
        return mark("Dữ liệu phải là một đối tượng JSON.")
    session = body.get("session")
    if not isinstance(session, str) or not well_formed(session):
        return INVALID_SESSION
    text, button, client_id = body.get("text"), body.get("button"), body.get("id")
    location = body.get("location")
    if sum(value is not None for value in (text, button, location)) != 1:
        return mark("Cần đúng một trong các trường 'text', 'button' hoặc 'location'.")
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        return mark("'id' phải là chuỗi tối đa 64 ký tự.")
    urn = f"web:{session}"
    external_id = f"{session}:{client_id}" if client_id else None
    if location is not None:
        where = _coordinates(location)
        if where is None:
            return mark("'location' phải có 'lat' (-90..90) và 'lon' (-180..180).")
        return Inbound(urn=urn, kind="location", location=where, external_id=external_id)
    if button is not None:
        if not isinstance(button, str) or len(button.encode()) > 64:
            return mark("'button' phải là chuỗi tối đa 64 byte.")
        return Inbound(urn=urn, kind="button", payload=button, external_id=external_id)
    if not isinstance(text, str):
        return mark("'text' phải là chuỗi.")
    if text.startswith("/"):
        return Inbound(urn=urn, kind="command", text=text.strip(), external_id=external_id)
    return Inbound(urn=urn, kind="text", text=text.strip(), external_id=external_id)


def _coordinates(value: Any) -> tuple[float, float] | None:
    """(lat, lon) from {"lat": .., "lon": ..}, or None when not a place on Earth."""
    if not isinstance(value, dict):
        return None
    lat, lon = value.get("lat"), value.get("lon")
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    return (float(lat), float(lon)) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def media_kind(mime: str) -> MediaKind:
    """What a file is by its type, as the conversation sees it."""
    if mime.startswith("image/"):
        return "photo"
    if mime == "audio/ogg" or mime == "audio/webm":
        return "voice"
    if mime.startswith("audio/"):
        return "audio"
    return "video" if mime.startswith("video/") else "document"


def as_voice_note(received: Received, data: bytes) -> tuple[Received, bytes]:
    """A recording made in the browser (WebM, MP4) as the OGG/Opus voice note every app plays and the
    admin keeps, made before the transaction opens; what ffmpeg cannot decode goes on as it came, for
    the conversation to refuse by its content."""
    try:
        voice, seconds = ffmpeg.voice_note(data, strict=False)
    except ffmpeg.AudioError:
        return received, data
    return replace(received, kind="voice", mime="audio/ogg", size=len(voice), duration=round(seconds)), voice


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(request: Request) -> Response:
    """The chat page itself: one small HTML file with inline CSS and a small script, no framework."""
    runtime = runtime_of(request)
    return runtime.chat_templates.TemplateResponse(request, "chat.html", {})


@router.get("/favicon.svg", include_in_schema=False)
@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """Loa Bản's loudspeaker in the browser tab, for the chat and the admin (browsers ask /favicon.ico)."""
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.post("/chat/api/sessions")
async def new_session(request: Request) -> Response:
    """A fresh session id for a new visitor: made here, so nobody can pick (or guess) someone else's."""
    return JSONResponse({"session": issue_session(runtime_of(request).settings.secret_key)})


@router.post("/chat/api/messages")
async def post_message(request: Request) -> Response:
    """Take one message from a web client and answer with the replies it produced."""
    runtime: Runtime = runtime_of(request)
    raw = await request.body()
    if len(raw) > runtime.settings.max_request_bytes:
        return _error(request, 413, mark("Tin nhắn quá lớn."))
    try:
        body = parse_json(raw)
    except ValueError:
        return _error(request, 400, mark("Dữ liệu không phải JSON hợp lệ."))
    inbound = parse_inbound(body)
    if isinstance(inbound, str):
        return _error(request, 422, inbound)
    if not await issued(runtime, inbound.urn.removeprefix("web:")):
        return _error(request, 403, UNKNOWN_SESSION)
    outcome = await runtime.hub.receive(replace(inbound, origin=client_ip(request)))
    replies = [reply_json(o.message_id, o.reply) for o in outcome.outgoing]
    return JSONResponse({"replies": replies, "duplicate": outcome.duplicate})


@router.post("/chat/api/files")
async def post_file(request: Request) -> Response:
    """A photo, voice recording or other file from a web client (multipart: session, id, file); too
    large a file is not kept, but the person is told and nothing else is lost."""
    runtime: Runtime = runtime_of(request)
    limit = runtime.settings.max_upload_mb * 1_000_000
    try:
        form = await request.form(max_part_size=limit + 1)
    except Exception:  # Starlette refuses oversized or malformed multipart bodies
        return _error(request, 413, mark("Tệp quá lớn."))
    session, client_id, upload = form.get("session"), form.get("id"), form.get("file")
    if not isinstance(session, str) or not well_formed(session):
        return _error(request, 422, INVALID_SESSION)
    if not await issued(runtime, session):
        return _error(request, 403, UNKNOWN_SESSION)
    if not isinstance(upload, UploadFile):
        return _error(request, 422, mark("Thiếu tệp 'file'."))
    data = await upload.read(limit + 1)
    mime = (upload.content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    received = Received(kind=media_kind(mime), mime=mime, size=len(data))
    if len(data) > limit:
        received = replace(received, error="too_large")
    else:
        if received.kind in ("voice", "audio") and mime != "audio/ogg":  # OGG: already a voice note
            received, data = await asyncio.to_thread(as_voice_note, received, data)
        received = await parked(store.of(runtime.settings), received, data)
    external_id = (
        f"{session}:{client_id}" if isinstance(client_id, str) and 0 < len(client_id) <= 64 else None
    )
    inbound = Inbound(
        urn=f"web:{session}",
        kind="media",
        payload=received.kind,
        external_id=external_id,
        received=received,
        origin=client_ip(request),
    )
    outcome = await runtime.hub.receive(inbound)
    replies = [reply_json(o.message_id, o.reply) for o in outcome.outgoing]
    return JSONResponse({"replies": replies, "duplicate": outcome.duplicate})


async def _session(request: Request, query: str | None, header: str | None) -> str | Response:
    """The session a poll is for, from the header the page sends (kept out of access logs) or the query a
    portal may still use; an error response when it is malformed or not one Loa Bản issued."""
    session = header or query
    if session is None or not well_formed(session):
        return _error(request, 422, INVALID_SESSION)
    if not await issued(runtime_of(request), session):
        return _error(request, 403, UNKNOWN_SESSION)
    return session


@router.get("/chat/api/messages")
async def poll_messages(
    request: Request,
    session: str | None = None,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    x_loaban_session: Annotated[str | None, Header()] = None,
) -> Response:
    """Replies that arrived after a cursor: bulletins and officials' answers reach the page this way."""
    runtime = runtime_of(request)
    known = await _session(request, session, x_loaban_session)
    if isinstance(known, Response):
        return known

    def load() -> list[dict[str, Any]]:
        with runtime.db.transaction() as db:
            rows = messages.outbound_after(db, f"web:{known}", after)
            return [reply_json(m.id, Reply.from_payload(m.text, m.payload)) for m in rows]

    return JSONResponse({"replies": await asyncio.to_thread(load)})


@router.get("/chat/api/media/{message_id}", include_in_schema=False)
async def message_media(
    request: Request, message_id: int, token: Annotated[str, Query(min_length=16, max_length=64)]
) -> Response:
    """The private file of a reply sent to a web chat, to whoever holds that reply's token; gone with the
    message when the person erases their data."""
    runtime = runtime_of(request)

    def find() -> Response | None:
        with runtime.db.transaction() as db:  # the file is streamed after the transaction
            sent = db.get(Message, message_id)
            if sent is None or sent.channel != WebChannel.type or sent.direction != Direction.outbound:
                return None
            attached = Reply.from_payload(sent.text, sent.payload).attachment
            if attached is None or not attached.token or not hmac.compare_digest(attached.token, token):
                return None
            stored = media.get(db, attached.media_id)
            if stored is None:
                return None
            key, mime = stored.path, stored.mime
        private = {"Cache-Control": "private, no-store"}
        return stored_file(store.of(runtime.settings), key, mime, private)

    found = await asyncio.to_thread(find)
    return found if found is not None else _error(request, 404, mark("Không có tệp này."))


@router.get("/chat/api/history")
async def conversation_history(
    request: Request,
    session: str | None = None,
    x_loaban_session: Annotated[str | None, Header()] = None,
) -> Response:
    """The conversation as the person saw it, both sides, the newest messages last, for a page that was
    reloaded; `cursor` is where polling goes on from."""
    runtime = runtime_of(request)
    known = await _session(request, session, x_loaban_session)
    if isinstance(known, Response):
        return known

    def load() -> dict[str, Any]:
        with runtime.db.transaction() as db:
            rows = messages.latest_of(db, f"web:{known}", HISTORY_LIMIT)
            return {"messages": shown(rows), "cursor": max((m.id for m in rows), default=0)}

    return JSONResponse(await asyncio.to_thread(load))


def shown(rows: list[Message]) -> list[dict[str, Any]]:
    """Stored messages as the page shows them: Loa Bản's replies as sent; the person's own as they wrote
    them (a tapped button by its label), never the /start the page sends to begin. A reply whose text was
    not kept (no consent yet) is shown only when it is the latest, for its buttons."""
    items: list[dict[str, Any]] = []
    labels: dict[str, str] = {}
    for m in rows:
        if m.direction == Direction.outbound:
            reply = Reply.from_payload(m.text, m.payload)
            labels |= {b.payload: b.label for b in reply.buttons}  # a tap may answer an older message
            if m.text or reply.attachment or m is rows[-1]:
                items.append(reply_json(m.id, reply) | {"from": "bot"})
            continue
        text = _as_written(m, labels)
        if text:
            items.append({"id": m.id, "from": "me", "text": text})
    return items


MEDIA_MARKS = {"photo": "🖼", "voice": "🎤", "video": "🎬"}  # what a file was, without words to translate


def _as_written(m: Message, labels: dict[str, str]) -> str:
    """What the person's bubble said: the text typed, the label of the button tapped, 🖼 🎤 🎬 📎 or 📍."""
    if m.kind == "button":
        return labels.get(m.text, "")
    if m.kind == "command":
        return "" if Inbound(urn="", kind="command", text=m.text).command == "start" else m.text
    if m.kind == "media":
        return MEDIA_MARKS.get(m.text, "📎")
    return "📍" if m.kind == "location" else m.text if m.kind == "text" else ""


class Web(ChannelType):
    """The web chat runs everywhere: nothing to configure, nothing running beside the requests."""

    routes = router

    def configured(self, settings: Settings) -> bool:
        """Always on."""
        return True

    def build(self, settings: Settings, hub: Hub, *, polling: bool) -> ChannelService:
        """Only the sending side: replies wait in the outbox for the page to fetch them."""
        return ChannelService(hub, WebChannel())


register_channel(WebChannel.type, Web())
