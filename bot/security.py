"""What every response carries and how the caller's address is known, for a server on the open Internet:
security headers, client addresses from configured proxies only, and redirects that never name a host."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.config import Settings

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    # No other site may frame Loa Bản's pages (clickjacking an official's "send" button).
    (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
]


class SecurityHeaders:
    """Adds the security headers to every HTTP response that has not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers on the way out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in HEADERS if h[0] not in present),
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


def install(app: FastAPI, settings: Settings) -> None:
    """Security headers and host-free redirects on every response; forwarded headers (X-Forwarded-For,
    -Proto) believed only from the proxies named in LOABAN_TRUSTED_PROXIES — from anyone else they are
    ignored, so the audit log's and the login throttle's addresses cannot be forged."""
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrailingSlash)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
