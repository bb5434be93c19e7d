"""The objects one Loa Bản process shares, reachable from any request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.templating import Jinja2Templates

from bot.channels.base import Hub
from bot.config import Settings
from bot.conversation.engine import Conversation
from bot.db import Database
from bot.i18n import Catalogs

if TYPE_CHECKING:
    from bot.bulletins.worker import Sender
    from bot.channels.telegram import TelegramBot
    from bot.channels.zalo import ZaloBot


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
    telegram: TelegramBot | None = None
    zalo: ZaloBot | None = None
    sender: Sender | None = None


def runtime_of(request: Request) -> Runtime:
    """The process's runtime, put on the app at start-up."""
    runtime: Runtime = request.app.state.runtime
    return runtime
