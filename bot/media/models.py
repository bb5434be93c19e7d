"""A stored file, named by its content hash so the same bytes are kept, served and uploaded once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class Media(Base):
    """One file in the media store (`path` is its key there); `platform_ids` caches each platform's file
    id (Telegram re-sends a file by id instead of uploading it again)."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # voice (OGG/Opus), mp3, image
    mime: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    duration: Mapped[float | None]
    platform_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What a person's voice note says, by the offline recogniser (bot/media/transcripts.py): None until
    # transcribed, "" when nothing was heard. Kept with the bytes, so it goes when they go.
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
