"""Q&A entries as officials curate them: wording, answer, translations, source, validity, status, use."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, ForeignKey, Index, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from bot.db import Base, str_enum, utcnow
from bot.qa.normalize import words
from bot.text import fold


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
    # Where the answer holds: no provinces and no communes means nationwide.
    provinces: Mapped[list[int]] = mapped_column(default=list)
    communes: Mapped[list[int]] = mapped_column(default=list)
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus, 12), default=EntryStatus.draft)
    # The folded words of the entry for the admin's search, kept by `_keep_search_text` whatever writes.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Use counters change with atomic increments that leave `updated_at` alone: only a change of content
    # moves it, and with it the index's signature (see service.count_served).
    served_count: Mapped[int] = mapped_column(default=0)
    helpful_count: Mapped[int] = mapped_column(default=0)
    unhelpful_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def nationwide(self) -> bool:
        """An entry with no province and no commune holds everywhere."""
        return not self.provinces and not self.communes

    def answerable_on(self, today: date) -> bool:
        """Published and within its validity dates (the SQL twin is service._answerable)."""
        return (
            self.status == EntryStatus.published
            and (self.valid_from is None or self.valid_from <= today)
            and (self.valid_to is None or self.valid_to >= today)
        )

    def applies_to(self, province_code: int | None, commune_code: int | None) -> bool:
        """Whether a person of this place may be answered with this entry."""
        return (
            self.nationwide
            or (province_code is not None and province_code in self.provinces)
            or (commune_code is not None and commune_code in self.communes)
        )


def search_text(entry_id: str, question: str, alternatives: list[str], answer: str, tags: list[str]) -> str:
    """What the admin's search looks in (id, question, other wordings, answer, tags) as folded words, the
    fields apart (' | ') and padded with spaces: a syllable matches as ' s ', a phrase as ' s1 s2 ', never
    across two fields."""
    fields = [entry_id, question, *alternatives, answer, *tags]
    return " " + " | ".join(" ".join(fold(w) for w in words(f)) for f in fields) + " "


@event.listens_for(QAEntry, "before_insert")
@event.listens_for(QAEntry, "before_update")
def _keep_search_text(_mapper: Mapper[QAEntry], _connection: Connection, entry: QAEntry) -> None:
    """Import, the editor and anything else that writes an entry keep its search text current."""
    entry.search_text = search_text(
        entry.id, entry.question, entry.alternatives or [], entry.answer, entry.tags or []
    )


class QuestionStatus(enum.StrEnum):
    """A question the bot could not answer: waiting for an official, or answered."""

    open = "open"
    answered = "answered"


class ForwardReason(enum.StrEnum):
    """Why a question reached the officials: what the bot had done with it before."""

    unsure = "unsure"  # the bot offered its closest questions and did not answer
    not_covered = "not_covered"  # the knowledge base has nothing on the topic
    unhelpful = "unhelpful"  # the bot answered and the person pressed 👎
    typed = "typed"  # the person wrote straight to the officials


class OpenQuestion(Base):
    """A person's question the bot was not sure about, sent to the officials of their commune."""

    __tablename__ = "qa_questions"
    __table_args__ = (Index("ix_qa_questions_status_commune", "status", "commune_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[ForwardReason] = mapped_column(str_enum(ForwardReason, 12), default=ForwardReason.typed)
    answered_with: Mapped[str | None] = mapped_column(String(80))  # the entry the bot answered with
    offered: Mapped[list[str]] = mapped_column(default=list)  # the entries it offered as buttons
    status: Mapped[QuestionStatus] = mapped_column(str_enum(QuestionStatus, 12), default=QuestionStatus.open)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    entry_id: Mapped[str | None] = mapped_column(ForeignKey("qa_entries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PassageVector(Base):
    """An embedding kept across restarts, so a cold start does not embed the whole knowledge base again;
    keyed by a hash of (model, text), so a model change simply misses."""

    __tablename__ = "qa_vectors"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
