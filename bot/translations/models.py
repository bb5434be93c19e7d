"""One translated catalog string per language (working text and the reviewed text people see), and the
counter every process checks to know the reviewed strings changed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class TranslationState(enum.StrEnum):
    """Where a string stands in a language: not translated, a draft, or approved by a second person."""

    untranslated = "untranslated"
    draft = "draft"
    reviewed = "reviewed"


class CatalogString(Base):
    """A translation of one catalog message (msgid + context) into one language. `text` is what the
    translator last wrote; `published` is what a reviewer approved and people read, kept while a newer
    draft waits for review."""

    __tablename__ = "catalog_strings"
    __table_args__ = (UniqueConstraint("language", "key", name="uq_catalog_strings_language_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))  # sha256 of context + msgid: long msgids cannot be indexed
    context: Mapped[str] = mapped_column(String(200), default="")
    msgid: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[str | None] = mapped_column(Text)
    translator_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]

    @property
    def state(self) -> TranslationState:
        """Reviewed only when the approved text is the current one; an edit waits for a new review."""
        if self.published is not None and self.published == self.text:
            return TranslationState.reviewed
        return TranslationState.draft if self.text else TranslationState.untranslated


class CatalogVersion(Base):
    """A single row whose number rises whenever a reviewed string changes, so each process reloads its
    overrides only then (one indexed read per message instead of the whole table)."""

    __tablename__ = "catalog_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class ContentReview(Base):
    """Who drafted and who approved one content item's translation into one language (a Q&A entry's
    question and answer). The working text stays with the content (QAEntry.translations, which the Q&A
    editor, imports and exports use); `reviewed` is the text a second person approved, and people read
    a translation only while it is still that text and the Vietnamese it was checked against
    (`source_hash`) has not changed since."""

    __tablename__ = "content_reviews"
    __table_args__ = (UniqueConstraint("kind", "item_id", "language", name="uq_content_reviews_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "qa"
    item_id: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(16))
    drafted_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    drafted_at: Mapped[datetime | None]
    reviewed: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    # Approved by shipping it, not by a person: the team's English that came with the sample content.
    shipped: Mapped[bool] = mapped_column(default=False)
