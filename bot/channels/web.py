"""The web chat: a light page for cheap phones and a small JSON protocol commune portals can embed."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from bot.channels.base import Channel, parked, parse_json, register_channel
from bot.conversation.types import Inbound, MediaKind, Received, Reply
from bot.i18n import mark
from bot.messages import service as messages
from bot.runtime import Runtime, runtime_of

SESSION_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # always fullmatch: '$' would let a newline through
TEMPLATES_DIR = Path(__file__).parent / "web_templates"

router = APIRouter()


@register_channel
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
    return {
        "id": message_id,
        "text": reply.text,
        "buttons": [{"label": b.label, "payload": b.payload} for b in reply.buttons],
        "audio_url": attached.url if attached and attached.kind == "voice" else None,
        "image_url": attached.url if attached and attached.kind == "image" else None,
        # a person's own file: opened with their session added (?session=…), never by anyone else
        "file_url": attached.url if attached and attached.kind == "document" else None,
        "file_name": attached.name if attached and attached.kind == "document" else None,
    }


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
    if not isinstance(session, str) or not SESSION_RE.fullmatch(session):
        return mark("Thiếu 'session' hợp lệ (16–64 ký tự chữ, số, '-' hoặc '_').")
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


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(request: Request) -> Response:
    """The chat page itself: one small HTML file with inline CSS and JS, no framework."""
    runtime = runtime_of(request)
    return runtime.chat_templates.TemplateResponse(request, "chat.html", {})


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
    outcome = await runtime.hub.receive(inbound)
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
    if not isinstance(session, str) or not SESSION_RE.fullmatch(session):
        return _error(request, 422, mark("Thiếu 'session' hợp lệ (16–64 ký tự chữ, số, '-' hoặc '_')."))
    if not isinstance(upload, UploadFile):
        return _error(request, 422, mark("Thiếu tệp 'file'."))
    data = await upload.read(limit + 1)
    mime = (upload.content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    received = Received(kind=media_kind(mime), mime=mime, size=len(data))
    if len(data) > limit:
        received = replace(received, error="too_large")
    else:
        received = await parked(Path(runtime.settings.media_dir), received, data)
    external_id = (
        f"{session}:{client_id}" if isinstance(client_id, str) and 0 < len(client_id) <= 64 else None
    )
    inbound = Inbound(
        urn=f"web:{session}", kind="media", payload=received.kind, external_id=external_id, received=received
    )
    outcome = await runtime.hub.receive(inbound)
    replies = [reply_json(o.message_id, o.reply) for o in outcome.outgoing]
    return JSONResponse({"replies": replies, "duplicate": outcome.duplicate})


@router.get("/chat/api/messages")
async def poll_messages(
    request: Request,
    session: Annotated[str, Query(pattern=f"^{SESSION_RE.pattern}$")],
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    """Replies that arrived after a cursor: bulletins and officials' answers reach the page this way."""
    runtime = runtime_of(request)

    def load() -> list[dict[str, Any]]:
        with runtime.db.transaction() as db:
            rows = messages.outbound_after(db, f"web:{session}", after)
            return [reply_json(m.id, Reply.from_payload(m.text, m.payload)) for m in rows]

    return JSONResponse({"replies": await asyncio.to_thread(load)})
