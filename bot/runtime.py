"""The objects one Loa Bản process shares, reachable from any request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request
from fastapi.templating import Jinja2Templates

from bot.channels.base import ChannelService, Hub
from bot.config import Settings
from bot.conversation.engine import Conversation
from bot.db import Database
from bot.i18n import Catalogs

if TYPE_CHECKING:
    from bot.bulletins.worker import Sender

S = TypeVar("S", bound=ChannelService)


@dataclass
class Runtime:
    """Settings, database, catalogs, the conversation core, the hub and the running channels."""

    settings: Settings
    db: Database
    catalogs: Catalogs
    conversation: Conversation
    hub: Hub
    chat_templates: Jinja2Templates
    admin_templates: Jinja2Templates
    channels: dict[str, ChannelService] = field(default_factory=dict)  # by channel type code
    sender: Sender | None = None

    def channel(self, kind: type[S]) -> S | None:
        """The running service of one kind, for what needs its own methods (a platform's webhook)."""
        return next((service for service in self.channels.values() if isinstance(service, kind)), None)


def runtime_of(request: Request) -> Runtime:
    """The process's runtime, put on the app at start-up."""
    runtime: Runtime = request.app.state.runtime
    return runtime
