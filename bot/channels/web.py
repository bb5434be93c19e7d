"""The web chat: a light page for cheap phones and a small JSON protocol commune portals can embed."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.channels.base import Channel, register_channel
from bot.conversation.types import Inbound, Reply
from bot.i18n import mark
from bot.messages import service as messages
from bot.runtime import Runtime, runtime_of

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
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
    """A reply in the web chat protocol."""
    attached = reply.attachment
    return {
        "id": message_id,
        "text": reply.text,
        "buttons": [{"label": b.label, "payload": b.payload} for b in reply.buttons],
        "audio_url": attached.url if attached and attached.kind == "voice" else None,
        "image_url": attached.url if attached and attached.kind == "image" else None,
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
    if not isinstance(session, str) or not SESSION_RE.match(session):
        return mark("Thiếu 'session' hợp lệ (16–64 ký tự chữ, số, '-' hoặc '_').")
    text, button, client_id = body.get("text"), body.get("button"), body.get("id")
    if (text is None) == (button is None):
        return mark("Cần đúng một trong hai trường 'text' hoặc 'button'.")
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        return mark("'id' phải là chuỗi tối đa 64 ký tự.")
    urn = f"web:{session}"
    external_id = f"{session}:{client_id}" if client_id else None
    if button is not None:
        if not isinstance(button, str) or len(button.encode()) > 64:
            return mark("'button' phải là chuỗi tối đa 64 byte.")
        return Inbound(urn=urn, kind="button", payload=button, external_id=external_id)
    if not isinstance(text, str):
        return mark("'text' phải là chuỗi.")
    if text.startswith("/"):
        return Inbound(urn=urn, kind="command", text=text.strip(), external_id=external_id)
    return Inbound(urn=urn, kind="text", text=text.strip(), external_id=external_id)


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
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(request, 400, mark("Dữ liệu không phải JSON hợp lệ."))
    inbound = parse_inbound(body)
    if isinstance(inbound, str):
        return _error(request, 422, inbound)
    outcome = await runtime.hub.receive(inbound)
    replies = [reply_json(o.message_id, o.reply) for o in outcome.outgoing]
    return JSONResponse({"replies": replies, "duplicate": outcome.duplicate})


@router.get("/chat/api/messages")
async def poll_messages(
    request: Request,
    session: Annotated[str, Query(pattern=SESSION_RE.pattern)],
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Replies that arrived after a cursor: bulletins and officials' answers reach the page this way."""
    runtime = runtime_of(request)

    def load() -> list[dict[str, Any]]:
        with runtime.db.transaction() as db:
            rows = messages.outbound_after(db, f"web:{session}", after)
            return [reply_json(m.id, Reply.from_payload(m.text, m.payload)) for m in rows]

    return JSONResponse({"replies": await asyncio.to_thread(load)})
