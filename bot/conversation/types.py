"""Neutral messages between channels and the conversation core; nothing here knows a platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Numbers people tell buttons apart by without reading (Zalo's numbered menus, spoken prompts).
KEYCAPS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"]
InboundKind = Literal["text", "button", "command", "media", "location", "unsupported", "event"]
MediaKind = Literal["photo", "voice", "audio", "video", "document"]


@dataclass(frozen=True)
class Button:
    """A big tappable choice; the payload (at most 64 bytes, Telegram's limit) comes back when tapped."""

    label: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: a voice note, a picture or a document. Channels upload a stored file
    (`key` in the media store) once and keep the id the platform gives it (`platform_ids` carries those
    already known); web clients fetch `url`. A document is made for one person (their data): never
    re-used, `media_id` 0, `url` a link only its token opens, `name` the file name they see. An `echo` is
    the person's own picture shown back as a receipt: only a platform that already holds it shows it
    (nobody's photo is uploaded anywhere for a thumbnail). A `token` marks a file that is not public (a
    person's own, an official's answer): the web chat opens it only with the token of the message that
    carries it."""

    kind: Literal["voice", "image", "document"]
    media_id: int
    key: str
    url: str
    duration: int = 0
    platform_ids: tuple[tuple[str, str], ...] = ()
    name: str = ""
    echo: bool = False
    token: str = ""

    def platform_id(self, platform: str) -> str | None:
        """The id a platform gave this file on an earlier upload."""
        return dict(self.platform_ids).get(platform)

    def to_payload(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "kind": self.kind,
            "media_id": self.media_id,
            "key": self.key,
            "url": self.url,
            "duration": self.duration,
            "name": self.name,
            "platform_ids": [list(pair) for pair in self.platform_ids],
            "echo": self.echo,
            "token": self.token,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Attachment:
        """Rebuild from the stored form (JSON keeps the id pairs as lists)."""
        ids = tuple((str(k), str(v)) for k, v in payload.get("platform_ids", []))
        return cls(**(payload | {"platform_ids": ids}))


@dataclass(frozen=True)
class Quiz:
    """A question with one right option that a platform may show natively (Telegram's quiz poll); the
    reply's buttons stay the way everywhere else. The option picked comes back as the payload
    `<answer>:<index>`, as if its button were tapped."""

    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    answer: str

    def to_payload(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "question": self.question,
            "options": list(self.options),
            "correct": self.correct,
            "explanation": self.explanation,
            "answer": self.answer,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Quiz:
        """Rebuild from the stored form."""
        return cls(**(payload | {"options": tuple(payload.get("options", ()))}))


@dataclass(frozen=True)
class Reply:
    """One message from Loa Bản: text (a caption when there is an attachment), optional buttons laid out
    in columns, and at most one attachment. `contact` labels a button that shares the person's own phone
    number where the platform has one (Telegram); elsewhere the text must say to type it. A `quiz` is the
    same question for a platform that shows quizzes natively (its buttons are the way elsewhere)."""

    text: str
    buttons: tuple[Button, ...] = ()
    columns: int = 1
    attachment: Attachment | None = None
    contact: str = ""
    quiz: Quiz | None = None

    def to_payload(self) -> dict[str, Any]:
        """The stored and web-chat form of a reply."""
        return {
            "buttons": [{"label": b.label, "payload": b.payload} for b in self.buttons],
            "columns": self.columns,
            "attachment": self.attachment.to_payload() if self.attachment else None,
            "contact": self.contact,
        } | ({"quiz": self.quiz.to_payload()} if self.quiz else {})

    @classmethod
    def from_payload(cls, text: str, payload: dict[str, Any]) -> Reply:
        """Rebuild a reply from the outbox row it was stored as."""
        attached = payload.get("attachment")
        return cls(
            text=text,
            buttons=tuple(Button(b["label"], b["payload"]) for b in payload.get("buttons", [])),
            columns=int(payload.get("columns", 1)),
            attachment=Attachment.from_payload(attached) if attached else None,
            contact=str(payload.get("contact", "")),
            quiz=Quiz.from_payload(payload["quiz"]) if payload.get("quiz") else None,
        )


@dataclass(frozen=True)
class Received:
    """A file a person sent, already fetched from the platform by the channel (outside any transaction)
    into the media store under a key of its own; `error` says why it could not be kept (too large,
    refused), the rest of the message is still handled. `platform_ids`: the id the platform keeps it
    under, to show it back."""

    kind: MediaKind
    key: str = ""
    mime: str = ""
    size: int = 0
    duration: int = 0
    error: str = ""
    platform_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Inbound:
    """What a person did, translated from any channel: typed text, tapped a button, or sent a command (a
    phone number shared with a platform's contact button arrives as the number typed)."""

    urn: str
    kind: InboundKind
    text: str = ""
    payload: str = ""
    external_id: str | None = None
    display_name: str = ""  # what the platform calls the person: kept only if they agree to be named
    raw: dict[str, Any] = field(default_factory=dict)  # the platform's event, where it is needed again
    received: Received | None = None
    location: tuple[float, float] | None = None
    origin: str = ""  # the client's network address where the person reaches Loa Bản directly (web chat)

    @property
    def command(self) -> str:
        """'/start@LoaBanBot args' -> 'start'; empty for anything that is not a command."""
        if self.kind != "command":
            return ""
        head = self.text.strip().split(maxsplit=1)[0] if self.text.strip() else ""
        return head.lstrip("/").split("@", 1)[0].lower()


AfterSend = Literal["keep", "blank", "drop"]


@dataclass(frozen=True)
class Outgoing:
    """A reply queued in the outbox, with the row id the channel reports back on and what the outbox keeps
    of it once sent: everything, not the text (the person has not agreed to the privacy notice), or
    nothing (a farewell to a person who erased their data)."""

    message_id: int
    urn: str
    reply: Reply
    after: AfterSend = "keep"

    @staticmethod
    def stored(reply: Reply, after: AfterSend) -> dict[str, Any]:
        """The outbox row's payload: the reply, and what to keep once sent, so a restart still knows."""
        return reply.to_payload() | ({} if after == "keep" else {"after": after})

    @classmethod
    def from_row(cls, message_id: int, urn: str, text: str, payload: dict[str, Any]) -> Outgoing:
        """An outbox row to send again."""
        after = payload.get("after")
        return cls(
            message_id,
            urn,
            Reply.from_payload(text, payload),
            after if after in ("blank", "drop") else "keep",
        )


@dataclass(frozen=True)
class Outcome:
    """What handling one inbound message produced: the replies to send, or nothing for a redelivery;
    `ask_name` says the person agreed to be named but no name is known (a channel whose platform knows
    it may look it up)."""

    duplicate: bool
    person_id: int | None
    outgoing: tuple[Outgoing, ...] = ()
    ask_name: bool = False
