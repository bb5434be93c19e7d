"""Every inbound and outbound message, stored before it is acted on or sent."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, str_enum, utcnow


class Direction(enum.StrEnum):
    """Whether a person sent it or Loa Bản did."""

    inbound = "in"
    outbound = "out"


class Status(enum.StrEnum):
    """Inbound: received -> handled. Outbound: pending -> sent | failed."""

    received = "received"
    handled = "handled"
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Message(Base):
    """One message; (channel, external_id) makes a redelivered update a no-op. Platforms number sent
    messages per chat, so those ids live apart in `sent_id`, not unique."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
        Index("ix_messages_urn_id", "urn", "id"),
        Index("ix_messages_person_id", "person_id"),
        Index("ix_messages_created_at", "created_at"),
        Index("ix_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    urn: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 3))
    status: Mapped[Status] = mapped_column(str_enum(Status, 10))
    external_id: Mapped[str | None] = mapped_column(String(100))  # inbound: the platform's update id
    sent_id: Mapped[str | None] = mapped_column(String(100))  # outbound: the platform's message id
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    # Until when one process resends this reply, or retries this event, that a crash or a failure left:
    # no other process takes it before then (NULL: nobody has claimed it).
    claimed_until: Mapped[datetime | None]


class MessageDay(Base):
    """How many messages went each way on one local day, per commune and app, so the dashboard reads a year
    as a few thousand rows. Kept by the database itself (migration 0028): triggers on `messages` append
    each statement's messages to `message_day_changes`, and bot/bulletins/outbox.py folds those in here;
    the chart adds the changes not folded yet, so it is exact. Each message counts under the commune its
    person had when it was stored, and stays counted: history, not today's state."""

    __tablename__ = "message_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    commune_code: Mapped[int] = mapped_column(primary_key=True)  # 0: nobody in a commune (a key: not NULL)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    messages: Mapped[int]


class MessageDayChange(Base):
    """Messages one statement stored, per local day, commune, app and direction: only ever appended by the
    triggers, so no conversation or delivery batch waits on another for a counter row (nor deadlocks)."""

    __tablename__ = "message_day_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    commune_code: Mapped[int]
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))
    messages: Mapped[int]


class MessageDayZone(Base):
    """The one time zone message_days counts days in (and, for SQLite's triggers, its fixed offset as a
    date() modifier); an empty zone means the counts cannot follow the deployment's days."""

    __tablename__ = "message_day_zone"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    sqlite_modifier: Mapped[str] = mapped_column(String(20))
