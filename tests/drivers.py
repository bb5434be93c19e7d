"""Drive Loa Bản as a person would, over Telegram (webhook + fake Bot API), Zalo (signed webhook events +
fake OA API) or the web chat API, so the same conversation tests run once per channel."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy import func, select

from bot.channels.zalo import KEYCAPS
from bot.db import Database
from bot.messages import service as messages
from bot.messages.models import Direction, Message, Status
from tests import factories
from tests.fakes import zalo_api
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo, Sent

WEBHOOK_SECRET = "s3cret-webhook-token_for-tests"


@dataclass(frozen=True)
class Seen:
    """A reply as the person sees it: its text and its buttons (label, payload)."""

    text: str
    buttons: list[tuple[str, str]]

    def payload(self, label_part: str) -> str:
        """The payload of the button whose label contains `label_part`."""
        for label, payload in self.buttons:
            if label_part in label:
                return payload
        raise AssertionError(f"no button with {label_part!r} in {self.buttons}")


class Driver(Protocol):
    """What a test does as a person, whatever the channel."""

    urn: str

    def send(self, text: str) -> list[Seen]:
        """Type text (or a /command) and return the replies."""

    def tap(self, payload: str) -> list[Seen]:
        """Tap a button and return the replies."""

    def screen(self) -> Seen:
        """The latest message on the person's screen."""

    def send_file(self, data: bytes, kind: str, mime: str) -> list[Seen]:
        """Send a photo or a voice note and return the replies."""

    def send_location(self, latitude: float, longitude: float) -> list[Seen]:
        """Share a location and return the replies."""


class WebDriver:
    """A person in the web chat."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.session = client.post("/chat/api/sessions").json()["session"]
        self.urn = f"web:{self.session}"
        self.seen: list[Seen] = []

    def _post(self, body: dict[str, object]) -> list[Seen]:
        response = self.client.post("/chat/api/messages", json={"session": self.session, **body})
        return self._replies(response)

    def _replies(self, response: httpx.Response) -> list[Seen]:
        assert response.status_code == 200, response.text
        replies = [
            Seen(r["text"], [(b["label"], b["payload"]) for b in r["buttons"]])
            for r in response.json()["replies"]
        ]
        self.seen.extend(replies)
        return replies

    def screen(self) -> Seen:
        return self.seen[-1]

    def send(self, text: str) -> list[Seen]:
        return self._post({"text": text})

    def tap(self, payload: str) -> list[Seen]:
        return self._post({"button": payload})

    def send_file(self, data: bytes, kind: str, mime: str) -> list[Seen]:
        name = f"{kind}.{mime.split('/')[1]}"
        response = self.client.post(
            "/chat/api/files",
            data={"session": self.session, "id": uuid.uuid4().hex},
            files={"file": (name, data, mime)},
        )
        return self._replies(response)

    def send_location(self, latitude: float, longitude: float) -> list[Seen]:
        return self._post({"location": {"lat": latitude, "lon": longitude}, "id": uuid.uuid4().hex})


class TelegramDriver:
    """A person in a private Telegram chat: updates go to the webhook, replies are read off the fake."""

    def __init__(self, client: httpx.Client, fake: FakeBotAPI, db: Database, chat_id: int) -> None:
        self.client, self.fake, self.db, self.chat_id = client, fake, db, chat_id
        self.urn = f"telegram:{chat_id}"

    def post(self, update: dict[str, object], secret: str | None = WEBHOOK_SECRET) -> httpx.Response:
        """POST an update to the webhook as Telegram would."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.client.post("/webhooks/telegram", json=update, headers=headers)

    def deliver(self, update: dict[str, object]) -> list[Seen]:
        """Post an update and wait until it is handled and its replies have reached the fake; the replies
        are what changed on the person's screen: messages sent, and the tapped message edited in place."""
        before = len(self.fake.shown(self.chat_id))
        response = self.post(update)
        assert response.status_code == 200, response.text
        self.wait_settled(str(update["update_id"]))
        shown = self.fake.shown(self.chat_id)[before:]
        texts = ("text", "caption", "question")  # a poll shows its question
        return [
            Seen(next((str(c.params[k]) for k in texts if c.params.get(k)), ""), c.buttons) for c in shown
        ]

    def screen(self) -> Seen:
        on_screen = [m for (chat, _), m in sorted(self.fake.messages.items()) if chat == self.chat_id]
        markup = on_screen[-1].get("reply_markup") or {}
        buttons = [
            (b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row
        ]
        return Seen(on_screen[-1].get("text", ""), buttons)

    def message_with(self, payload: str) -> int:
        """The id of the message on screen whose keyboard has this button (else the latest message)."""
        on_screen = {
            (key[1]): message for key, message in sorted(self.fake.messages.items()) if key[0] == self.chat_id
        }
        for message_id in sorted(on_screen, reverse=True):
            rows = (on_screen[message_id].get("reply_markup") or {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == payload for row in rows for b in row):
                return message_id
        return max(on_screen, default=1)

    def wait_settled(self, external_id: str, timeout: float = 15.0) -> None:
        """The update is handled and no reply to this chat is still pending in the outbox."""
        wait_handled(self.db, "telegram", external_id, self.urn, timeout)

    def send(self, text: str) -> list[Seen]:
        return self.deliver(factories.text_update(self.chat_id, text))

    def tap(self, payload: str) -> list[Seen]:
        """Tap an inline button, or a button of the keyboard under the input field, which Telegram sends
        as its label."""
        with self.db.transaction() as session:
            [latest] = messages.recent_buttons(session, self.urn, limit=1) or [[]]
        labels = {b["text"] for b in self.keyboard()}
        typed = next((label for label, neutral in latest if neutral == payload and label in labels), None)
        if typed is not None:
            return self.send(typed)
        return self.deliver(factories.callback_update(self.chat_id, payload, self.message_with(payload)))

    def keyboard(self) -> list[dict[str, object]]:
        """The buttons of the keyboard shown under the input field, if any."""
        return [b for row in self.fake.keyboards.get(self.chat_id, {}).get("keyboard", []) for b in row]

    def share_contact(self, phone: str) -> list[Seen]:
        """Tap the keyboard's contact button: Telegram sends the person's own number."""
        assert any(b.get("request_contact") for b in self.keyboard()), "no contact button on screen"
        return self.deliver(factories.contact_update(self.chat_id, phone))

    def send_file(self, data: bytes, kind: str, mime: str) -> list[Seen]:
        file_id = self.fake.add_file(data, kind)
        build = factories.photo_update if kind == "photo" else factories.voice_update
        return self.deliver(build(self.chat_id, file_id, len(data)))

    def send_location(self, latitude: float, longitude: float) -> list[Seen]:
        return self.deliver(factories.location_update(self.chat_id, latitude, longitude))


class ZaloDriver:
    """A person writing to the Zalo OA: the fake Zalo makes their signed events, which are posted to the
    webhook; replies are read off what the fake's send API received."""

    def __init__(self, client: httpx.Client, fake: FakeZalo, db: Database, user_id: str) -> None:
        self.client, self.fake, self.db, self.user_id = client, fake, db, user_id
        self.urn = f"zalo:{user_id}"

    def post(self, event: dict[str, object], secret: str = zalo_api.OA_SECRET) -> httpx.Response:
        """POST an event to the webhook as Zalo would, signed with `secret`."""
        raw, headers = self.fake.signed(event, secret)
        return self.client.post("/webhooks/zalo", content=raw, headers=headers)

    def deliver(self, name: str, message: dict[str, object] | None = None) -> list[Seen]:
        """Post an event, wait until it is handled and its replies reached the fake, return them."""
        before = len(self.fake.to(self.user_id))
        event = self.fake.event(name, self.user_id, message)
        response = self.post(event)
        assert response.status_code == 200, response.text
        key = (event.get("message") or {}).get("msg_id") or f"{name}:{self.user_id}:{event['timestamp']}"
        wait_handled(self.db, "zalo", str(key), self.urn)
        return [self.seen(s) for s in self.fake.to(self.user_id)[before:]]

    def screen(self) -> Seen:
        return self.seen(self.fake.to(self.user_id)[-1])

    def seen(self, sent: Sent) -> Seen:
        """A message as seen, its buttons paired with the payloads they stand for (from the outbox), so
        tests read the same (label, payload) pairs on every channel."""
        with self.db.transaction() as session:
            shown = messages.recent_buttons(session, self.urn, limit=20)
        payloads = {label: payload for buttons in reversed(shown) for label, payload in buttons}
        plain = zalo_seen(sent)
        return Seen(plain.text, [(label, payloads.get(label, label)) for label, _ in plain.buttons])

    def send(self, text: str) -> list[Seen]:
        return self.deliver("user_send_text", {"text": text})

    def tap(self, payload: str, *, via_menu: bool = True) -> list[Seen]:
        """Tap the button with this payload (or label): a list button sends its payload as text; an entry
        of a numbered menu is answered with its number when that menu is the latest message, else with
        its label. A main-menu entry no longer on screen is reached as a person does, through the
        '☰ Menu chính' button. Zalo has no hidden button data, so a payload not on screen is just typed."""
        with self.db.transaction() as session:
            shown = messages.recent_buttons(session, self.urn)
        for age, buttons in enumerate(shown):
            for index, (label, neutral) in enumerate(buttons):
                if payload in (label, neutral):
                    latest = self.fake.to(self.user_id)[-1]
                    as_number = age == 0 and not latest.buttons
                    return self.send(str(index + 1) if as_number else label)
        if via_menu and payload != "menu" and any(p == "menu" for b in shown for _, p in b):
            self.tap("menu", via_menu=False)
            return self.tap(payload, via_menu=False)
        return self.send(payload)

    def send_file(self, data: bytes, kind: str, mime: str) -> list[Seen]:
        event = "user_send_image" if kind == "photo" else "user_send_audio"
        attachment = {
            "type": "image" if kind == "photo" else "audio",
            "payload": {"url": self.fake.add_file(data, mime)},
        }
        return self.deliver(event, {"attachments": [attachment]})

    def send_location(self, latitude: float, longitude: float) -> list[Seen]:
        where = {"coordinates": {"latitude": str(latitude), "longitude": str(longitude)}}
        return self.deliver("user_send_location", {"attachments": [{"type": "location", "payload": where}]})


def zalo_seen(sent: Sent) -> Seen:
    """A Zalo message as the person sees it: list buttons, or a numbered menu's entries, as buttons."""
    if sent.buttons:
        return Seen(sent.text, sent.buttons)
    text, entries = sent.text, []
    body, _sep, tail = text.rpartition("\n\n")
    lines = tail.split("\n")
    if body and lines and all(line[:1] in NUMBER_MARKS for line in lines):
        text = body
        entries = [(line.split(" ", 1)[1], line.split(" ", 1)[1]) for line in lines]
    return Seen(text, entries)


NUMBER_MARKS = {mark[0] for mark in KEYCAPS} | set("0123456789")


def wait_handled(db: Database, channel: str, external_id: str, urn: str, timeout: float = 15.0) -> None:
    """An inbound message is handled (erasing its sender's data leaves a digest of its id) and no reply to
    its sender is still pending in the outbox."""
    deadline = time.monotonic() + timeout
    ids = [external_id, messages.replay_key(external_id)]
    while True:
        with db.transaction() as session:
            handled = session.scalar(
                select(func.count()).where(
                    Message.channel == channel,
                    Message.external_id.in_(ids),
                    Message.status == Status.handled,
                )
            )
            pending = session.scalar(
                select(func.count()).where(
                    Message.urn == urn,
                    Message.direction == Direction.outbound,
                    Message.status == Status.pending,
                )
            )
        if handled and not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{external_id} not settled: handled={handled} pending={pending}")
        time.sleep(0.01)


def on_channel(
    channel: str,
    client: httpx.Client,
    fake: FakeBotAPI,
    db: Database,
    chat_id: int,
    zalo: FakeZalo | None = None,
) -> Driver:
    """A person on Telegram (with this chat id), on Zalo or in the web chat, for tests run per channel."""
    if channel == "telegram":
        return TelegramDriver(client, fake, db, chat_id)
    if channel == "zalo":
        assert zalo is not None, "a Zalo person needs the fake Zalo"
        return ZaloDriver(client, zalo, db, str(chat_id))
    return WebDriver(client)


def onboard(
    person: Driver, language: str = "vi", province: str = "lai chau", commune: str = "phong tho"
) -> list[Seen]:
    """Go through onboarding with typing where it helps, buttons elsewhere; returns the final replies."""
    first = person.send("/start")
    person.tap(first[-1].payload(_endonym(language)))
    person.send(province)
    replies = person.send(commune)
    if any("vil:0" in p for _, p in replies[-1].buttons):
        replies = person.tap("vil:0")
    return person.tap("consent:yes") if replies[-1].buttons else replies


def _endonym(code: str) -> str:
    """The label of a language button."""
    from bot.i18n import KNOWN_LANGUAGES

    return KNOWN_LANGUAGES[code].endonym


def wait_for_text(person: Driver, fragment: str, timeout: float = 10.0) -> Seen:
    """A message that arrives after someone else's request (an official's answer), once it reached the
    person: by the fake Bot API (sent or as a caption), or by the web chat's poll."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if isinstance(person, TelegramDriver):
            seen = [
                Seen(c.params.get("text") or c.params.get("caption") or "", c.buttons)
                for c in person.fake.sent(person.chat_id)
            ]
        elif isinstance(person, ZaloDriver):
            seen = [person.seen(s) for s in person.fake.to(person.user_id)]
        else:
            assert isinstance(person, WebDriver)
            polled = person.client.get("/chat/api/messages", params={"session": person.session}).json()
            seen = [
                Seen(r["text"], [(b["label"], b["payload"]) for b in r["buttons"]]) for r in polled["replies"]
            ]
        found = [s for s in seen if fragment in s.text]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"{fragment!r} never reached the person")
