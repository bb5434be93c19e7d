"""The per-update context handlers work with, and the router that picks a handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.conversation.types import Button, Inbound, Reply
from bot.i18n import Catalogs
from bot.media import service as media
from bot.media import store
from bot.media.models import Media
from bot.people.models import Person

if TYPE_CHECKING:
    from bot.qa.knowledge import Knowledge

Handler = Callable[["Context"], None]
# Kinds of chat address whose app has a voice-message button; elsewhere (the web chat) a recording or a
# photo is attached as a file with 📎.
VOICE_CHANNELS = frozenset({"telegram", "zalo"})


@dataclass(frozen=True)
class Arrived:
    """A file a person sent, read back from where its channel parked it, checked and written to the
    media store under its content key before the transaction opens: `upload` is None when there was
    none, the store could not give it back or take it, or (`refused`) it is not what it claims to be."""

    upload: media.Upload | None = None
    refused: bool = False


@dataclass
class Context:
    """Everything a handler needs for one inbound message; it collects replies instead of sending."""

    session: Session
    person: Person
    inbound: Inbound
    settings: Settings
    catalogs: Catalogs
    router: Router
    knowledge: Knowledge | None = None
    is_new: bool = False
    replies: list[Reply] = field(default_factory=list)
    elsewhere: list[tuple[str, Reply]] = field(default_factory=list)  # messages to other chats (officials)
    deleted: bool = False
    arrived: Arrived = field(default_factory=Arrived)

    @property
    def _(self) -> Callable[[str], str]:
        """Translate into the person's language (Vietnamese until they choose)."""
        return self.catalogs.gettext(self.person.language)

    @property
    def records_voice(self) -> bool:
        """Whether the app the person writes from records voice messages, so texts invite only what it has."""
        return self.inbound.urn.split(":", 1)[0] in VOICE_CHANNELS

    @property
    def arg(self) -> str:
        """The part of a button payload after its 'prefix:'."""
        return self.inbound.payload.split(":", 1)[1] if ":" in self.inbound.payload else ""

    def reply(self, text: str, buttons: list[Button] | None = None, columns: int = 1, **media: Any) -> None:
        """Queue one reply for the person."""
        self.replies.append(Reply(text=text, buttons=tuple(buttons or ()), columns=columns, **media))

    def notify(self, urn: str, text: str) -> None:
        """Queue a message to another chat (an official's), sent with this message's replies."""
        self.elsewhere.append((urn, Reply(text=text)))

    def keep_file(self) -> Media | None:
        """The row of the checked file the person sent, already in the media store (written before the
        transaction: see Conversation.prepare); None when there is none, or the store did not take it."""
        if self.arrived.upload is None:
            return None
        try:
            return media.record(self.session, store.of(self.settings), self.arrived.upload)
        except OSError:
            return None

    def goto(self, state: str, **data: Any) -> None:
        """Move the person's conversation to a step; stored in the database, so any process continues it."""
        self.person.state = state
        self.person.state_data = {**data}


@dataclass(frozen=True)
class MenuEntry:
    """A main-menu button a feature contributes; shown only when `visible` says so."""

    payload: str
    label: str
    order: int
    visible: Callable[[Context], bool] = lambda _ctx: True


@dataclass(frozen=True)
class Route:
    """A handler and whether it needs a person who finished onboarding."""

    handler: Handler
    onboarded_only: bool


@dataclass(frozen=True)
class Typed:
    """A whole typed message that means the same at any step (a link code, 'menu'), and what it runs;
    `first_contact` lets it be someone's very first message."""

    matches: Callable[[str], bool]
    route: Route
    first_contact: bool


class Router:
    """Maps commands, button prefixes and conversation steps to handlers; features register here."""

    def __init__(self) -> None:
        self.commands: dict[str, Route] = {}
        self.before_onboarding: set[str] = (
            set()
        )  # commands a first message may be (else it starts onboarding)
        self.buttons: dict[str, Route] = {}
        self.steps: dict[str, Handler] = {}
        self.media_steps: dict[str, Handler] = {}
        self.menu: list[MenuEntry] = []
        self.typed_texts: list[Typed] = []
        self.free_text: Handler | None = None
        self.reprompt: Handler | None = None
        # Looks at every message before any route and may answer it instead (True): the privacy notice
        # changed since the person agreed.
        self.gate: Callable[[Context], bool] | None = None
        # Sees the replies once a handler made them, and may change how they go out (spoken prompts).
        self.before_send: Handler | None = None

    def command(
        self, name: str, handler: Handler, *, onboarded_only: bool = False, first_contact: bool = False
    ) -> None:
        """Register '/name'; `first_contact` lets it be someone's very first message."""
        self.commands[name] = Route(handler, onboarded_only)
        if first_contact:
            self.before_onboarding.add(name)

    def typed(
        self,
        matches: Callable[[str], bool],
        handler: Handler,
        *,
        onboarded_only: bool = False,
        first_contact: bool = False,
    ) -> None:
        """Register typed text that is taken the same way at any step, before the step sees it."""
        self.typed_texts.append(Typed(matches, Route(handler, onboarded_only), first_contact))

    def typed_for(self, inbound: Inbound) -> Typed | None:
        """The registered meaning of a typed message, if it has one."""
        if inbound.kind != "text":
            return None
        return next((t for t in self.typed_texts if t.matches(inbound.text)), None)

    def button(self, prefix: str, handler: Handler, *, onboarded_only: bool = False) -> None:
        """Register a button payload 'prefix' or 'prefix:arg'."""
        self.buttons[prefix] = Route(handler, onboarded_only)

    def step(self, state: str, handler: Handler) -> None:
        """Register what typed text means while a person is at a step."""
        self.steps[state] = handler

    def media_step(self, state: str, handler: Handler) -> None:
        """Register what a file or a location means while a person is at a step."""
        self.media_steps[state] = handler

    def add_menu(self, entry: MenuEntry) -> None:
        """Add a main-menu entry, kept in display order."""
        self.menu.append(entry)
        self.menu.sort(key=lambda e: e.order)
