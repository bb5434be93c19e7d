"""What every response carries and how the caller's address is known, for a server on the open Internet:
security headers, client addresses from configured proxies only, and redirects that never name a host."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.config import Settings
from bot.i18n import mark

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
# No other site may frame Loa Bản's pages (clickjacking an official's "send" button), and no script runs
# but the site's own files: an injected <script> or onclick= in the admin does nothing. Inline style
# attributes stay allowed (a dashboard bar's width); htmx runs with allowEval off.
FRAMING = b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
STRICT = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    b"media-src 'self' blob:; connect-src 'self'; object-src 'none'; " + FRAMING
)


class SecurityHeaders:
    """Adds the security headers to every HTTP response that has not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers on the way out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = [*HEADERS, (b"content-security-policy", STRICT)]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in headers if h[0] not in present),
                ]
            await send(message)

        await self.app(scope, receive, sending)


class TrailingSlash:
    """'/admin/people/' answers with a redirect to '/admin/people' given as a path only: Starlette's own
    redirect is built from the Host header, which anyone can set ('Host: evil.example')."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Redirect GETs of a path with a trailing slash; everything else passes."""
        path = scope.get("path", "")
        if scope["type"] == "http" and scope.get("method") == "GET" and len(path) > 1 and path.endswith("/"):
            query = scope.get("query_string", b"")
            location = path.rstrip("/").encode() + (b"?" + query if query else b"")
            await send({"type": "http.response.start", "status": 307, "headers": [(b"location", location)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


class TooLarge(Exception):
    """A request body went past its limit while it was being received."""


class BodyLimit:
    """Refuses a body larger than its path's limit with 413 while it streams in — by Content-Length at
    once, else by counting — so a 300 MB post is never read whole into memory nor written to disk."""

    def __init__(self, app: ASGIApp, limits: list[tuple[str, int]], message: str) -> None:
        self.app = app
        self.body = json.dumps({"error": message}, ensure_ascii=False).encode()
        self.limits = [(re.compile(pattern), limit) for pattern, limit in limits]  # the first match wins

    def limit_of(self, path: str) -> int | None:
        """The limit of the first pattern matching the path's start, None for paths without one."""
        return next((limit for pattern, limit in self.limits if pattern.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what arrives."""
        limit = self.limit_of(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, self.body)
            return
        received, started = 0, False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except TooLarge:
            if not started:
                await _refuse(send, self.body)


async def _refuse(send: Send, body: bytes) -> None:
    """413, in the JSON the web chat and webhooks speak."""
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings, gettext: Callable[[str], str]) -> None:
    """Security headers, compression and host-free redirects on every response; forwarded headers
    (X-Forwarded-For, -Proto) believed only from the proxies named in LOABAN_TRUSTED_PROXIES — from anyone
    else they are ignored, so the audit log's and the login throttle's addresses cannot be forged."""
    upload = settings.max_upload_mb * 1_000_000
    limits = [
        ("/chat/api/messages", settings.max_request_bytes),
        # A file up to twice the limit still reaches the chat, which tells the person it is too large.
        ("/chat/api/files", 2 * upload + 64_000),
        ("/webhooks/", 1_000_000),  # a Telegram update or a Zalo event
        # Only the admin forms that take files may be large: a bulletin (a recording per language and
        # five pictures), a language's new recording, a voice answer, a Q&A spreadsheet, a recorded
        # prompt (refused on its page beyond its own limit, not with this JSON).
        (
            r"/admin/(bulletins/(new|\d+/versions)|feedback/\d+/reply|qa/import"
            r"|translations/[\w-]+/clips/record)$",
            12 * upload,
        ),
        ("/admin", 1_000_000),  # the login and every other form
    ]
    # Pages, scripts and JSON compressed for slow links; Starlette leaves audio, pictures and ranges alone.
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
    app.add_middleware(BodyLimit, limits=limits, message=gettext(mark("Dữ liệu gửi lên quá lớn.")))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrailingSlash)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


def client_ip(request: Request) -> str:
    """The caller's address (a trusted proxy's X-Forwarded-For already applied): for the audit log, the
    login throttle and the throttle on guessing codes."""
    return request.client.host if request.client else ""
