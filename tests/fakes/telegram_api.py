"""A fake Telegram Bot API server that speaks the real HTTP protocol and enforces Telegram's limits.

python-telegram-bot talks to it over real HTTP (LOABAN_TELEGRAM_API_URL). It answers the methods Loa Bản
uses with real-shaped objects, refuses bad calls the way Telegram does (401 wrong token, 400 empty or
too-long text or a malformed keyboard, 403 blocked, 409 getUpdates while a webhook is set), keeps the
keyboard shown under each chat's input field (reply keyboards, with contact buttons) until a message
takes it away, and rate-limits sending methods like
Telegram: about 30 messages/s overall (1,000/s for calls with `allow_paid_broadcast`), about 1/s per chat
(with a small burst) and 20/min per group, answering 429 with `retry_after`. Every call is recorded for
assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
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

BOT_ID = 7000001
SEND_METHODS = {"sendMessage", "sendVoice", "sendAudio", "sendPhoto", "sendDocument", "sendPoll"}
SHOWN_METHODS = SEND_METHODS | {"editMessageText"}
MAX_TEXT = 4096
MAX_CAPTION = 1024


class Upload(bytes):
    """An uploaded file's bytes, with the name and type its multipart part gave (Telegram keeps both for
    a document)."""

    filename: str = ""
    content_type: str = ""


@dataclass
class Call:
    """One request the fake received, with what it answered."""

    method: str
    params: dict[str, Any]
    status: int
    at: float
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        """The target chat of a sending call."""
        raw = self.params.get("chat_id")
        return int(raw) if raw is not None else None

    @property
    def paid(self) -> bool:
        """Whether the call asked for paid broadcast."""
        return _flag(self.params.get("allow_paid_broadcast"))

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The inline keyboard as a dict (it arrives JSON-encoded)."""
        raw = self.params.get("reply_markup")
        if isinstance(raw, str):
            parsed: dict[str, Any] = json.loads(raw)
            return parsed
        return raw if isinstance(raw, dict) else None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        markup = self.reply_markup or {}
        return [
            (b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row
        ]

    @property
    def keyboard(self) -> list[dict[str, Any]]:
        """The buttons of a keyboard under the input field (a reply keyboard), row by row."""
        return [b for row in (self.reply_markup or {}).get("keyboard", []) for b in row]


def _flag(value: Any) -> bool:
    """A boolean parameter as it arrives: JSON true, or the text of it in a form."""
    return value is True or str(value).lower() == "true"


class TokenBucket:
    """Telegram-like limiter: `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else seconds until one is free."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FakeBotAPI(LoopbackService):
    """The fake server's state and its Starlette app; start() serves it on a loopback port."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        global_rate: float = 30.0,
        paid_rate: float = 1000.0,
        chat_rate: float = 1.0,
        chat_burst: float = 5.0,
        group_per_minute: float = 20.0,
        latency: float = 0.0,
        on_call: Callable[[Call], None] | None = None,
    ) -> None:
        self.token = token
        self.global_bucket = TokenBucket(global_rate, global_rate)
        self.paid_bucket = TokenBucket(paid_rate, paid_rate)
        self.chat_rate, self.chat_burst = chat_rate, chat_burst
        self.group_per_minute = group_per_minute
        self.latency = latency
        self.on_call = on_call
        self.chat_buckets: dict[int, TokenBucket] = {}
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self.unknown_chats: set[int] = set()  # chats that no longer exist (deleted accounts)
        self.files: dict[str, tuple[str, bytes]] = {}
        self.webhook: dict[str, Any] | None = None
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0
        self._ids = itertools.count(1)
        self._message_ids: dict[int, int] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) -> the message
        self.keyboards: dict[int, dict[str, Any]] = {}  # chat -> the reply keyboard under its input field
        self.polls: dict[str, tuple[int, int]] = {}  # poll id -> (chat, message id)
        self.voters: dict[str, set[int]] = {}  # poll id -> who voted
        self._lock = threading.Lock()
        self._new_update: asyncio.Event | None = None
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # --- lifecycle and helpers for tests ---------------------------------------------------------

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[Call]:
        """Accepted sending calls, optionally for one chat or one method."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.status == 200
            and (c.method in SEND_METHODS if method is None else c.method == method)
            and (chat_id is None or c.chat_id == chat_id)
        ]

    def shown(self, chat_id: int) -> list[Call]:
        """What changed on the person's screen, in order: messages sent and messages edited in place."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.status == 200 and c.method in SHOWN_METHODS and c.chat_id == chat_id
            ]

    def too_many(self) -> int:
        """How many calls were refused with 429 for going beyond a rate."""
        with self._lock:
            return sum(1 for c in self.calls if c.status == 429)

    def calls_to(self, method: str) -> list[Call]:
        """Every call of one method, whatever it answered."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until a condition on the recorded calls holds (replies follow the webhook's answer)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {[(c.method, c.status) for c in self.calls]}")
            time.sleep(0.01)

    def wait_sent(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Call]:
        """Wait until a chat has received at least `count` messages, and return them."""
        self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        with self._lock:
            self.updates.append(update)

    # --- protocol --------------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, description: str, **parameters: Any) -> JSONResponse:
        """Telegram's error envelope."""
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return JSONResponse(body, status_code=code)

    @staticmethod
    def _ok(result: Any) -> JSONResponse:
        """Telegram's success envelope."""
        return JSONResponse({"ok": True, "result": result})

    async def _params(self, request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        """Parameters from a query string, JSON body, urlencoded or multipart form, as Telegram accepts."""
        params: dict[str, Any] = dict(request.query_params)
        files: dict[str, bytes] = {}
        ctype = request.headers.get("content-type", "")
        if "application/json" in ctype:
            body = await request.body()
            if body:
                params.update(json.loads(body))
        elif "form" in ctype:
            form = await request.form()
            for key, value in form.multi_items():
                if hasattr(value, "read"):
                    upload = Upload(await value.read())
                    upload.filename, upload.content_type = value.filename or "", value.content_type or ""
                    files[key] = upload
                else:
                    params[key] = value
        return params, files

    async def _dispatch(self, request: Request) -> Response:
        """Route /bot<token>/<method> like the real Bot API, recording the call."""
        if self.latency:
            await asyncio.sleep(self.latency)
        method = request.path_params["method"]
        params, files = await self._params(request)
        if request.path_params["token"] != self.token:
            response = self._error(401, "Unauthorized")
        else:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                response = self._error(404, "Not Found")
            else:
                limited = self._rate_limit(method, params)
                response = limited or await handler(params, files)
        call = Call(method, params, response.status_code, time.monotonic(), files)
        with self._lock:
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        return response

    def _rate_limit(self, method: str, params: dict[str, Any]) -> JSONResponse | None:
        """429 with retry_after when a sending call exceeds the overall, per-chat or per-group rate."""
        if method not in SEND_METHODS or "chat_id" not in params:
            return None
        chat_id = int(params["chat_id"])
        with self._lock:
            bucket = self.chat_buckets.get(chat_id)
            if bucket is None:
                bucket = (
                    TokenBucket(self.group_per_minute / 60, self.group_per_minute)
                    if chat_id < 0
                    else TokenBucket(self.chat_rate, self.chat_burst)
                )
                self.chat_buckets[chat_id] = bucket
            paid = _flag(params.get("allow_paid_broadcast"))
            wait = max(bucket.take(), (self.paid_bucket if paid else self.global_bucket).take())
        if wait:
            retry = max(1, math.ceil(wait))
            return self._error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        return None

    def _user(self) -> dict[str, Any]:
        """The bot's own User object."""
        return {"id": BOT_ID, "is_bot": True, "first_name": "Loa Bản", "username": "LoaBanTestBot"}

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        """A Message object as the Bot API returns it for a sent message."""
        chat_type = "private" if chat_id > 0 else "group"
        with self._lock:  # like Telegram, message ids count per chat
            self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
            message_id = self._message_ids[chat_id]
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type},
                "from": self._user(),
                **content,
            }
            self.messages[(chat_id, message_id)] = message
        return message

    def _check_chat(self, params: dict[str, Any]) -> JSONResponse | None:
        """400 without a chat or for a chat that is gone, 403 when the person blocked the bot."""
        if "chat_id" not in params:
            return self._error(400, "Bad Request: chat_id is empty")
        if int(params["chat_id"]) in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if int(params["chat_id"]) in self.unknown_chats:
            return self._error(400, "Bad Request: chat not found")
        return None

    def _placed(self, chat_id: int, markup: dict[str, Any] | None) -> dict[str, Any] | JSONResponse:
        """What a message's markup adds to the message: an inline keyboard stays on it; a reply keyboard
        (checked as Telegram checks it) replaces the one under the chat's input field, and
        `remove_keyboard` takes that away; Telegram echoes neither in the message."""
        if not markup or "inline_keyboard" in markup:
            return {"reply_markup": markup} if markup else {}
        if markup.get("remove_keyboard") is True:
            with self._lock:
                self.keyboards.pop(chat_id, None)
            return {}
        rows = markup.get("keyboard")
        if not isinstance(rows, list) or not rows or not all(isinstance(row, list) and row for row in rows):
            return self._error(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                return self._error(400, "Bad Request: keyboard button text is empty")
            if button.get("request_contact") and chat_id < 0:
                return self._error(400, "Bad Request: contact can be requested in private chats only")
        with self._lock:
            self.keyboards[chat_id] = markup
        return {}

    def _file(
        self, params: dict[str, Any], files: dict[str, bytes], field_name: str
    ) -> dict[str, Any] | JSONResponse:
        """Accept an uploaded file or a known file_id, as Telegram does, and describe it."""
        if field_name in files:
            data = files[field_name]
        else:
            ref = params.get(field_name)
            if isinstance(ref, str) and ref.startswith("attach://"):
                data = files.get(ref.removeprefix("attach://"), b"")
            elif isinstance(ref, str) and ref in self.files:
                return {"file_id": ref, "file_unique_id": f"u{ref}", "file_size": len(self.files[ref][1])}
            else:
                return self._error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if not data:
            return self._error(400, "Bad Request: file must be non-empty")
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = (f"{field_name}/{file_id}", data)
        described = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}
        if field_name == "document" and isinstance(data, Upload):  # a document keeps its name and type
            mime = data.content_type or "application/octet-stream"
            described |= {"file_name": data.filename, "mime_type": mime}
        return described

    async def _send_media(self, params: dict[str, Any], files: dict[str, bytes], kind: str) -> JSONResponse:
        """sendVoice/sendAudio/sendPhoto/sendDocument share validation and shape."""
        refused = self._check_chat(params)
        if refused:
            return refused
        if len(params.get("caption") or "") > MAX_CAPTION:
            return self._error(400, "Bad Request: message caption is too long")
        described = self._file(params, files, kind)
        if isinstance(described, JSONResponse):
            return described
        content: Any = {
            "photo": [described | {"width": 320, "height": 240}],
            "voice": described | {"duration": int(params.get("duration") or 1), "mime_type": "audio/ogg"},
            "audio": described | {"duration": int(params.get("duration") or 1), "mime_type": "audio/mpeg"},
        }.get(kind, described)
        placed = self._placed(int(params["chat_id"]), self._markup(params))
        if isinstance(placed, JSONResponse):
            return placed
        extra = {"caption": params["caption"]} if params.get("caption") else {}
        return self._ok(self._message(int(params["chat_id"]), **{kind: content}, **extra, **placed))

    # --- methods ---------------------------------------------------------------------------------

    async def _m_getMe(self, _p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        return self._ok(
            self._user()
            | {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _m_setWebhook(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        if not str(p.get("url", "")).startswith("https://") and p.get("url"):
            return self._error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = dict(p) if p.get("url") else None
        return self._ok(True)

    async def _m_deleteWebhook(self, _p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        self.webhook = None
        return self._ok(True)

    async def _m_getWebhookInfo(self, _p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        url = (self.webhook or {}).get("url", "")
        return self._ok({"url": url, "has_custom_certificate": False, "pending_update_count": 0})

    async def _m_getUpdates(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        if self.webhook is not None:
            return self._error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(p.get("offset") or 0)
        deadline = time.monotonic() + min(float(p.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)[: int(p.get("limit") or 100)]
            if ready or time.monotonic() >= deadline:
                return self._ok(ready)
            await asyncio.sleep(0.02)

    async def _m_sendMessage(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        refused = self._check_chat(p)
        if refused:
            return refused
        text = str(p.get("text") or "")
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return self._error(400, "Bad Request: message is too long")
        placed = self._placed(int(p["chat_id"]), self._markup(p))
        if isinstance(placed, JSONResponse):
            return placed
        return self._ok(self._message(int(p["chat_id"]), text=text, **placed))

    def _edit(self, p: dict[str, Any], **changes: Any) -> JSONResponse:
        """Edit a message the bot sent, refusing what Telegram refuses."""
        if "message_id" not in p:
            return self._error(400, "Bad Request: message identifier is not specified")
        key = (int(p.get("chat_id") or 0), int(p["message_id"]))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return self._error(400, "Bad Request: message to edit not found")
            if "text" in changes and "text" not in message:
                return self._error(400, "Bad Request: there is no text in the message to edit")
            updated = {k: v for k, v in message.items() if k != "reply_markup"} | {
                k: v for k, v in changes.items() if v is not None
            }
            if updated == message:
                return self._error(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message",
                )
            updated["edit_date"] = int(time.time())
            self.messages[key] = updated
        return self._ok(updated)

    @staticmethod
    def _markup(p: dict[str, Any]) -> dict[str, Any] | None:
        """The reply_markup parameter as an object (it may arrive JSON-encoded)."""
        raw = p.get("reply_markup")
        parsed = json.loads(raw) if isinstance(raw, str) else raw
        return parsed if parsed else None

    async def _m_editMessageText(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        text = str(p.get("text") or "")
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return self._error(400, "Bad Request: MESSAGE_TOO_LONG")
        if "inline_keyboard" not in (self._markup(p) or {"inline_keyboard": []}):
            return self._error(400, "Bad Request: inline keyboard expected")
        return self._edit(p, text=text, reply_markup=self._markup(p))

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        return self._edit(p, reply_markup=self._markup(p))

    async def _m_answerCallbackQuery(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        if not p.get("callback_query_id"):
            return self._error(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return self._ok(True)

    async def _m_sendChatAction(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        return self._check_chat(p) or self._ok(True)

    async def _m_sendVoice(self, p: dict[str, Any], f: dict[str, bytes]) -> JSONResponse:
        return await self._send_media(p, f, "voice")

    async def _m_sendAudio(self, p: dict[str, Any], f: dict[str, bytes]) -> JSONResponse:
        return await self._send_media(p, f, "audio")

    async def _m_sendPhoto(self, p: dict[str, Any], f: dict[str, bytes]) -> JSONResponse:
        return await self._send_media(p, f, "photo")

    async def _m_sendDocument(self, p: dict[str, Any], f: dict[str, bytes]) -> JSONResponse:
        return await self._send_media(p, f, "document")

    async def _m_sendPoll(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        """A regular or quiz poll, checked as Telegram checks it: question 1–300 characters, 2–10 options
        of 1–100, a quiz with its `correct_option_ids` and an explanation of at most 200 characters;
        anonymous unless `is_anonymous` is false (only then do votes come back as `poll_answer`)."""
        refused = self._check_chat(p)
        if refused:
            return refused
        options = p.get("options")
        options = json.loads(options) if isinstance(options, str) else options
        question = str(p.get("question") or "")
        if not 1 <= len(question) <= 300:
            return self._error(400, "Bad Request: poll question length must not exceed 300")
        if not isinstance(options, list) or not 2 <= len(options) <= 10:
            return self._error(400, "Bad Request: poll must have 2-10 options")
        texts = [o if isinstance(o, str) else str(o.get("text") or "") for o in options]
        if not all(1 <= len(t) <= 100 for t in texts):
            return self._error(400, "Bad Request: poll options length must not exceed 100")
        kind = str(p.get("type") or "regular")
        correct = p.get("correct_option_ids")  # Bot API 9.6: a list (correct_option_id before it)
        correct = json.loads(correct) if isinstance(correct, str) else correct
        if kind == "quiz" and (
            not isinstance(correct, list) or not correct or not all(0 <= int(c) < len(texts) for c in correct)
        ):
            return self._error(400, "Bad Request: wrong correct option id specified")
        if len(str(p.get("explanation") or "")) > 200:
            return self._error(400, "Bad Request: explanation is too long")
        markup = self._markup(p)
        placed = self._placed(int(p["chat_id"]), markup)
        if isinstance(placed, JSONResponse):
            return placed
        poll: dict[str, Any] = {
            "id": str(next(self._ids)),
            "question": question,
            "options": [{"text": t, "voter_count": 0, "persistent_id": str(i)} for i, t in enumerate(texts)],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": _flag(p.get("is_anonymous", True)),
            "type": kind,
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        if kind == "quiz":
            poll["correct_option_ids"] = [int(c) for c in correct]  # type: ignore[union-attr]
            if p.get("explanation"):
                poll["explanation"] = str(p["explanation"])
        message = self._message(int(p["chat_id"]), poll=poll, **placed)
        with self._lock:
            self.polls[poll["id"]] = (int(p["chat_id"]), int(message["message_id"]))
        return self._ok(message)

    async def _m_stopPoll(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        """Close a poll the bot sent: no vote is taken after; a poll closed already is refused."""
        key = (int(p.get("chat_id") or 0), int(p.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None or "poll" not in message:
            return self._error(400, "Bad Request: message with poll to stop not found")
        if message["poll"]["is_closed"]:
            return self._error(400, "Bad Request: poll has already been closed")
        message["poll"]["is_closed"] = True
        return self._ok(message["poll"])

    def last_poll(self, chat_id: int) -> dict[str, Any] | None:
        """The latest poll sent to a chat, as its message holds it (closed once stopped)."""
        found = [
            m["poll"] for (chat, _), m in sorted(self.messages.items()) if chat == chat_id and "poll" in m
        ]
        return found[-1] if found else None

    def vote(self, poll_id: str, user_id: int, option: int) -> None:
        """A person picks an option, as the Telegram app lets them: only in an open poll, once in a quiz
        (no revoting); raises where the app would not let them, and for an anonymous poll, whose votes
        Telegram never reports to the bot."""
        chat_id, message_id = self.polls[poll_id]
        poll = self.messages[(chat_id, message_id)]["poll"]
        assert not poll["is_closed"], "the poll is closed"
        assert not poll["is_anonymous"], "an anonymous poll sends no poll_answer"
        with self._lock:
            voters = self.voters.setdefault(poll_id, set())
            assert user_id not in voters, "a quiz takes one answer"
            voters.add(user_id)
            poll["options"][option]["voter_count"] += 1
            poll["total_voter_count"] += 1

    async def _m_getFile(self, p: dict[str, Any], _f: dict[str, bytes]) -> JSONResponse:
        file_id = str(p.get("file_id") or "")
        if file_id not in self.files:
            return self._error(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        return self._ok(
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": path}
        )

    async def _download(self, request: Request) -> Response:
        """GET /file/bot<token>/<file_path>, like api.telegram.org's file endpoint."""
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        path = request.path_params["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)

    def add_file(self, data: bytes, kind: str = "document") -> str:
        """Put a file on the fake (as if a person sent it) and return its file_id."""
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = (f"{kind}/{file_id}", data)
        return file_id
