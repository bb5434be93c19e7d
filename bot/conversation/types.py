"""Neutral messages between channels and the conversation core; nothing here knows a platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

InboundKind = Literal["text", "button", "command", "unsupported", "event"]


@dataclass(frozen=True)
class Button:
    """A big tappable choice; the payload (at most 64 bytes, Telegram's limit) comes back when tapped."""

    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message from Loa Bản: text, optional buttons laid out in columns, optional audio or picture."""

    text: str
    buttons: tuple[Button, ...] = ()
    columns: int = 1
    audio_url: str | None = None
    image_url: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """The stored and web-chat form of a reply."""
        return {
            "buttons": [{"label": b.label, "payload": b.payload} for b in self.buttons],
            "columns": self.columns,
            "audio_url": self.audio_url,
            "image_url": self.image_url,
        }

    @classmethod
    def from_payload(cls, text: str, payload: dict[str, Any]) -> Reply:
        """Rebuild a reply from the outbox row it was stored as."""
        return cls(
            text=text,
            buttons=tuple(Button(b["label"], b["payload"]) for b in payload.get("buttons", [])),
            columns=int(payload.get("columns", 1)),
            audio_url=payload.get("audio_url"),
            image_url=payload.get("image_url"),
        )


@dataclass(frozen=True)
class Inbound:
    """What a person did, translated from any channel: typed text, tapped a button, or sent a command."""

    urn: str
    kind: InboundKind
    text: str = ""
    payload: str = ""
    external_id: str | None = None
    display_name: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        """'/start@LoaBanBot args' -> 'start'; empty for anything that is not a command."""
        if self.kind != "command":
            return ""
        head = self.text.strip().split(maxsplit=1)[0] if self.text.strip() else ""
        return head.lstrip("/").split("@", 1)[0].lower()


@dataclass(frozen=True)
class Outgoing:
    """A reply queued in the outbox, with the row id the channel reports back on."""

    message_id: int
    urn: str
    reply: Reply


@dataclass(frozen=True)
class Outcome:
    """What handling one inbound message produced: the replies to send, or nothing for a redelivery."""

    duplicate: bool
    person_id: int | None
    outgoing: tuple[Outgoing, ...] = ()
