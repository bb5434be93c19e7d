"""A voice clip kept for re-use: speech made once for a text in a language, or recorded by a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, utcnow
from bot.media.models import Media


class VoiceClip(Base):
    """One voice note under a key that says what it speaks (a text in a language, or one prompt in one
    language): the second request for the same key sends the stored file, without making it again.
    `origin` is 'tts' (made by an engine, `engine` says which voice) or 'recorded' (a person's voice: a
    translator reading a prompt in their language), which a look-up prefers; one of each per key. A
    translator's recording of a prompt is a 'draft' until a second person approves it (bot/voice/prompts.py),
    and its `engine` then names who spoke it."""

    __tablename__ = "voice_clips"
    __table_args__ = (UniqueConstraint("key", "origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(10), default="tts")
    engine: Mapped[str] = mapped_column(String(40), default="")
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    media: Mapped[Media] = relationship(lazy="joined")
