"""Q&A entries as officials curate them: wording, answer, translations, source, validity, status, use."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, str_enum, utcnow


class EntryStatus(enum.StrEnum):
    """Only published entries are answered with."""

    draft = "draft"
    published = "published"


class QAEntry(Base):
    """One question and its answer, with the other ways people ask it."""

    __tablename__ = "qa_entries"
    __table_args__ = (Index("ix_qa_entries_status", "status"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(default=list)
    answer: Mapped[str] = mapped_column(Text)
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)  # lang -> {question, answer}
    tags: Mapped[list[str]] = mapped_column(default=list)
    source_document: Mapped[str] = mapped_column(String(300), default="")
    source_section: Mapped[str] = mapped_column(String(300), default="")
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus, 12), default=EntryStatus.draft)
    served_count: Mapped[int] = mapped_column(default=0)
    helpful_count: Mapped[int] = mapped_column(default=0)
    unhelpful_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
