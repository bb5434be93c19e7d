"""Platforms that let a business write to a person only for a while after the person's last message
(Zalo: free for 48 hours and 8 messages, then from a paid quota, not at all after 7 days of silence)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, or_

from bot.config import Settings


class WindowState(enum.StrEnum):
    """Where a channel address stands now: free to write, only from the quota, or closed."""

    free = "free"
    quota = "quota"
    closed = "closed"


@dataclass(frozen=True)
class ReplyWindow:
    """One platform's rules."""

    free_for: timedelta
    free_messages: int
    open_for: timedelta

    def reach(self, last_inbound_at: datetime | None, sent_since: int, now: datetime) -> WindowState:
        """What a message to this address would be now."""
        if last_inbound_at is None or now - last_inbound_at > self.open_for:
            return WindowState.closed
        if now - last_inbound_at <= self.free_for and sent_since < self.free_messages:
            return WindowState.free
        return WindowState.quota

    def is_open(self, last_inbound_at: SQLColumnExpression[Any], now: datetime) -> ColumnElement[bool]:
        """SQL: the address may be written to at all."""
        return last_inbound_at >= now - self.open_for

    def is_free(
        self, last_inbound_at: SQLColumnExpression[Any], sent_since: SQLColumnExpression[Any], now: datetime
    ) -> ColumnElement[bool]:
        """SQL: a message to the address would be free."""
        return and_(last_inbound_at >= now - self.free_for, sent_since < self.free_messages)

    def state(
        self, last_inbound_at: SQLColumnExpression[Any], sent_since: SQLColumnExpression[Any], now: datetime
    ) -> ColumnElement[str]:
        """SQL: `reach` as a WindowState value, so a bulletin's reach is counted by the database."""
        return case(
            (or_(last_inbound_at.is_(None), ~self.is_open(last_inbound_at, now)), WindowState.closed.value),
            (self.is_free(last_inbound_at, sent_since, now), WindowState.free.value),
            else_=WindowState.quota.value,
        )


def reply_windows(settings: Settings) -> dict[str, ReplyWindow]:
    """The windows of every channel that has one, by channel type."""
    return {
        "zalo": ReplyWindow(
            free_for=timedelta(hours=settings.zalo_free_window_hours),
            free_messages=settings.zalo_free_messages,
            open_for=timedelta(days=settings.zalo_window_days),
        )
    }
