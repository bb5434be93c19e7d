"""What a channel must remember between processes: platform tokens that rotate, and the shared pace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class ChannelToken(Base):
    """A platform's current access and refresh tokens (Zalo's refresh token works once, so the newest one
    must be shared by every process, not kept in a setting)."""

    __tablename__ = "channel_tokens"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RateBucket(Base):
    """A platform's rate shared by every process: the next free moment to send (seconds since the epoch,
    by the database's clock), moved on by each batch of messages a process takes."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
