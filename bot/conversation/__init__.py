"""The channel-neutral conversation core; every feature's handlers are registered in `build_router`."""

from __future__ import annotations

from bot.conversation import (
    account,
    contests,
    feedback,
    linking,
    listen,
    news,
    onboarding,
    polls,
    privacy,
    qa,
    spoken,
)
from bot.conversation.router import Router


def build_router() -> Router:
    """The one place where features plug their commands, buttons, steps and menu entries in."""
    router = Router()
    onboarding.register(router)
    account.register(router)
    privacy.register(router)
    qa.register(router)
    news.register(router)
    feedback.register(router)
    polls.register(router)
    contests.register(router)
    linking.register(router)
    listen.register(router)
    spoken.register(router)
    return router
