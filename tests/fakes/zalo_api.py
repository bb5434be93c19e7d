"""A fake Zalo: the OA Open API (v3 consultation messages, v2 image upload), the OAuth v4 token endpoint and
the CDN people's files come from, over real HTTP on loopback, with Zalo's rules enforced: the access token
expires and the refresh token works once; a message is free within 48 hours of the person's last message
(8 at most), then costs proactive quota (-211 when none is left), and is refused after 7 days of silence
(-230); more than `rate` calls a second get -32. It also plays the people: it makes their webhook events
(real-shaped, signed with the OA secret key) and remembers when each wrote, as Zalo does."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import LoopbackService
from tests.fakes.telegram_api import TokenBucket

APP_ID = "1357924680"
OA_ID = "2468013579"
APP_SECRET = "fake-app-secret"
OA_SECRET = "fake-oa-secret-key"
FIRST_REFRESH_TOKEN = "rt-initial"
MAX_TEXT, MAX_TITLE, MAX_SUBTITLE, MAX_BUTTONS = 2000, 100, 500, 5
MAX_IMAGE_BYTES = 1_000_000
FREE_HOURS, FREE_MESSAGES, OPEN_DAYS = 48, 8, 7


@dataclass
class Person:
    """A Zalo user who follows the OA: when they last wrote and how many messages reached them since."""

    user_id: str
    last_interaction: float
    sent_since: int = 0
    following: bool = True
    name: str = ""


@dataclass
class Sent:
    """A message the OA sent, as the person's phone shows it."""

    user_id: str
    message: dict[str, Any]
    paid: bool
    message_id: str

    @property
    def text(self) -> str:
        """The text of a text message, a list's title and subtitle, or a picture's caption."""
        payload = (self.message.get("attachment") or {}).get("payload") or {}
        if payload.get("template_type") == "list":
            element = payload["elements"][0]
            return "\n".join(p for p in (element.get("title", ""), element.get("subtitle", "")) if p)
        return str(self.message.get("text", ""))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(title, payload) of a list template's `oa.query.show` buttons."""
        payload = (self.message.get("attachment") or {}).get("payload") or {}
        return [(b["title"], b["payload"]) for b in payload.get("buttons", [])]

    @property
    def image(self) -> str | None:
        """The attachment id of a picture message."""
        payload = (self.message.get("attachment") or {}).get("payload") or {}
        if payload.get("template_type") != "media":
            return None
        return str(payload["elements"][0].get("attachment_id"))


@dataclass
class FakeZalo(LoopbackService):
    """The fake's state and its Starlette app; start() serves it on a loopback port."""

    token_lifetime: int = 90000
    quota: int = 1000  # proactive messages left to the OA
    rate: float = 50.0
    people: dict[str, Person] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)  # (user, error code) of refused sends
    refreshes: int = 0
    rejected_tokens: int = 0
    cdn_gate: threading.Event | None = None  # when set by a test, downloads wait for it
    uploads: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refresh_token = FIRST_REFRESH_TOKEN
        self.access_tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self.bucket = TokenBucket(self.rate, self.rate)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._by_user: dict[str, list[Sent]] = {}
        self.app = Starlette(
            routes=[
                Route("/v4/oa/access_token", self._token, methods=["POST"]),
                Route("/v3.0/oa/message/cs", self._send, methods=["POST"]),
                Route("/v2.0/oa/upload/image", self._upload, methods=["POST"]),
                Route("/v3.0/oa/user/detail", self._detail, methods=["GET"]),
                Route("/cdn/{name}", self._cdn, methods=["GET"]),
            ]
        )

    # --- what tests do ---------------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        """Block until a condition on what the fake saw holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out; sent so far: {[(s.user_id, s.text[:40]) for s in self.sent]}"
                )
            time.sleep(0.01)

    def follower(self, user_id: str, hours_ago: float = 0) -> None:
        """Someone who follows the OA and last wrote `hours_ago`."""
        self.people[user_id] = Person(user_id, time.time() - hours_ago * 3600)

    def expire_tokens(self) -> None:
        """Every access token given so far stops working (as after 25 hours)."""
        with self._lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    def age(self, user_id: str, hours: float) -> None:
        """Make a person's last message `hours` older."""
        self.people[user_id].last_interaction -= hours * 3600

    def to(self, user_id: str) -> list[Sent]:
        """What reached one person, oldest first."""
        with self._lock:
            return list(self._by_user.get(user_id, ()))

    def add_file(self, data: bytes, mime: str) -> str:
        """Put a file a person sends on the fake CDN; its URL."""
        name = secrets.token_hex(8)
        self.files[name] = (mime, data)
        return f"{self.url}/cdn/{name}"

    def event(self, name: str, user_id: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """A webhook event as Zalo sends it; a message or follow counts as the person's interaction."""
        stamp = str(int(time.time() * 1000))
        person = self.people.setdefault(user_id, Person(user_id, time.time()))
        if name != "unfollow":
            person.last_interaction, person.sent_since, person.following = time.time(), 0, True
        else:
            person.following = False
        if name in ("follow", "unfollow"):
            return {
                "app_id": APP_ID,
                "oa_id": OA_ID,
                "user_id_by_app": f"app-{user_id}",
                "event_name": name,
                "follower": {"id": user_id},
                "source": "oa_profile",
                "timestamp": stamp,
            }
        body = {"msg_id": f"msg{next(self._ids):08d}{secrets.token_hex(4)}", **(message or {})}
        return {
            "app_id": APP_ID,
            "user_id_by_app": f"app-{user_id}",
            "event_name": name,
            "timestamp": stamp,
            "sender": {"id": user_id},
            "recipient": {"id": OA_ID},
            "message": body,
        }

    @staticmethod
    def signed(event: dict[str, Any], secret: str = OA_SECRET) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Zalo posts to the webhook."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        mac = hashlib.sha256(event["app_id"].encode() + raw + event["timestamp"].encode() + secret.encode())
        return raw, {"X-ZEvent-Signature": "mac=" + mac.hexdigest(), "Content-Type": "application/json"}

    # --- protocol --------------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, message: str) -> JSONResponse:
        """Zalo answers errors with HTTP 200 and a negative code."""
        return JSONResponse({"error": code, "message": message})

    async def _token(self, request: Request) -> Response:
        """OAuth v4: trade the current refresh token (once) for a new access and refresh token."""
        form = await request.form()
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return JSONResponse({"error": -14002, "error_name": "Invalid app secret or app id"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return JSONResponse({"error": -14014, "error_name": "Invalid refresh token"})
        with self._lock:
            self.refreshes += 1
            access = f"at-{self.refreshes}-{secrets.token_hex(6)}"
            self.refresh_token = f"rt-{self.refreshes}-{secrets.token_hex(6)}"
            self.access_tokens[access] = time.time() + self.token_lifetime
        body = {
            "access_token": access,
            "refresh_token": self.refresh_token,
            "expires_in": str(self.token_lifetime),
        }
        return JSONResponse(body)

    def _check_token(self, request: Request) -> JSONResponse | None:
        """-216 for a token Zalo never gave, -220 for an expired one."""
        expiry = self.access_tokens.get(request.headers.get("access_token", ""))
        if expiry is not None and expiry >= time.time():
            return None
        self.rejected_tokens += 1
        if expiry is None:
            return self._error(-216, "Access token is invalid")
        return self._error(-220, "Access token has expired")

    async def _send(self, request: Request) -> Response:
        """A consultation message: checked for shape, the person's window, the quota and the rate."""
        refused = self._check_token(request)
        if refused is not None:
            return refused
        if self.bucket.take() > 0:
            return self._error(-32, "Your application reached limit call api")
        body = await request.json()
        user_id = str((body.get("recipient") or {}).get("user_id", ""))
        message = body.get("message") or {}
        problem = self._invalid(message)
        if problem:
            return self._error(-201, problem)
        with self._lock:
            person = self.people.get(user_id)
            code, paid = self._window(person)
            if code:
                self.refused.append((user_id, code))
                return self._error(
                    code,
                    {-213: "User has not followed OA", -211: "Out of quota"}.get(
                        code, "User has not interacted with the OA in the past 7 days"
                    ),
                )
            assert person is not None
            person.sent_since += 1
            sent = Sent(user_id, message, paid, secrets.token_hex(10))
            self.sent.append(sent)
            self._by_user.setdefault(user_id, []).append(sent)
        return JSONResponse(
            {"error": 0, "message": "Success", "data": {"message_id": sent.message_id, "user_id": user_id}}
        )

    def _window(self, person: Person | None) -> tuple[int, bool]:
        """(error code or 0, whether the message costs quota)."""
        if person is None or not person.following:
            return -213, False
        silent = time.time() - person.last_interaction
        if silent > OPEN_DAYS * 86400:
            return -230, False
        if silent <= FREE_HOURS * 3600 and person.sent_since < FREE_MESSAGES:
            return 0, False
        if self.quota <= 0:
            return -211, True
        self.quota -= 1
        return 0, True

    def _invalid(self, message: dict[str, Any]) -> str:
        """Why a message is malformed for Zalo, or ''."""
        text = message.get("text")
        attachment = message.get("attachment")
        if text is None and attachment is None:
            return "message is invalid"
        if text is not None and (not isinstance(text, str) or not text or len(text) > MAX_TEXT):
            return "text is invalid"
        if attachment is None:
            return ""
        payload = attachment.get("payload") or {}
        kind = payload.get("template_type")
        if attachment.get("type") != "template" or kind not in ("list", "media"):
            return "attachment is invalid"
        elements = payload.get("elements") or []
        if kind == "media":
            ok = len(elements) == 1 and elements[0].get("attachment_id") in self.uploads
            return "" if ok else "attachment_id is invalid"
        buttons = payload.get("buttons") or []
        if len(elements) != 1 or not elements[0].get("title") or len(elements[0]["title"]) > MAX_TITLE:
            return "elements is invalid"
        if len(elements[0].get("subtitle", "")) > MAX_SUBTITLE or len(buttons) > MAX_BUTTONS:
            return "elements is invalid"
        for button in buttons:
            if (
                button.get("type") != "oa.query.show"
                or not button.get("title")
                or len(button["title"]) > MAX_TITLE
            ):
                return "buttons is invalid"
        return ""

    async def _detail(self, request: Request) -> Response:
        """A follower's profile: the OA API's `data` query parameter is JSON naming the user."""
        refused = self._check_token(request)
        if refused is not None:
            return refused
        try:
            user_id = str(json.loads(request.query_params.get("data", ""))["user_id"])
        except (ValueError, KeyError, TypeError):
            return self._error(-201, "data is invalid")
        person = self.people.get(user_id)
        if person is None:
            return self._error(-213, "User has not followed OA")
        profile = {
            "user_id": user_id,
            "display_name": person.name or f"Zalo {user_id}",
            "user_is_follower": True,
        }
        return JSONResponse({"error": 0, "message": "Success", "data": profile})

    async def _upload(self, request: Request) -> Response:
        """An image up to 1 MB, JPEG or PNG; its attachment id."""
        refused = self._check_token(request)
        if refused is not None:
            return refused
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return self._error(-201, "file is invalid")
        data = await upload.read()
        if len(data) > MAX_IMAGE_BYTES or not data.startswith((b"\xff\xd8\xff", b"\x89PNG")):
            return self._error(-210, "file exceeds the limit or is not an image")
        attachment_id = secrets.token_hex(12)
        self.uploads[attachment_id] = data
        return JSONResponse({"error": 0, "message": "Success", "data": {"attachment_id": attachment_id}})

    async def _cdn(self, request: Request) -> Response:
        """A file a person sent (after the gate opens, when a test holds it shut)."""
        if self.cdn_gate is not None:
            await asyncio.to_thread(self.cdn_gate.wait, 20)
        found = self.files.get(request.path_params["name"])
        if found is None:
            return Response(status_code=404)
        mime, data = found
        return Response(data, media_type=mime)
