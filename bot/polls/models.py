"""A poll, its questions and their choices (texts per language), and one response per person with the
answers, each response keeping where the person was and how they wrote when they answered."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, str_enum, utcnow
from bot.media.models import Media
from bot.people.models import PersonRole


class PollStatus(enum.StrEnum):
    """draft -> open (from `opens_at`, until `closes_at`) -> closed; only a draft is edited."""

    draft = "draft"
    open = "open"
    closed = "closed"


class QuestionKind(enum.StrEnum):
    """How a question is answered: one choice, several choices, a number, typed text or a voice note
    (typed text taken too, for whoever cannot record)."""

    single = "single"
    multiple = "multiple"
    number = "number"
    text = "text"
    voice = "voice"


class Poll(Base):
    """What an official asks an audience: a title (the Vietnamese one officials read, its translations
    beside it), an introduction per language, the questions, and the period it is open in."""

    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    titles: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> title, Vietnamese aside
    intro: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> text
    status: Mapped[PollStatus] = mapped_column(str_enum(PollStatus, 10), default=PollStatus.draft)
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)  # as a bulletin's Audience
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]  # when each commune's results were sent to its respondents
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[PollQuestion]] = relationship(
        back_populates="poll", cascade="all, delete-orphan", order_by="PollQuestion.position"
    )

    @property
    def languages(self) -> list[str]:
        """The languages every question is written in (Vietnamese always)."""
        found = set(self.intro)
        for question in self.questions:
            found &= set(question.texts)
        return sorted(found | {"vi"}, key=lambda code: (code != "vi", code))


class PollQuestion(Base):
    """One question, its text per language; choices for the kinds that have them."""

    __tablename__ = "poll_questions"
    __table_args__ = (UniqueConstraint("poll_id", "position", name="uq_poll_questions_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, 10))
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> text

    poll: Mapped[Poll] = relationship(back_populates="questions")
    choices: Mapped[list[PollChoice]] = relationship(
        back_populates="question", cascade="all, delete-orphan", order_by="PollChoice.position"
    )


class PollChoice(Base):
    """One choice of a question, its label per language."""

    __tablename__ = "poll_choices"
    __table_args__ = (UniqueConstraint("question_id", "position", name="uq_poll_choices_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("poll_questions.id", ondelete="CASCADE"))
    position: Mapped[int]
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> label

    question: Mapped[PollQuestion] = relationship(back_populates="choices")


class PollResponse(Base):
    """One person's answers to one poll (one row whatever app they answer from); the place, language,
    app and role are kept as they were, so results stay put when people move, and when a person erases
    their data the response stays, counted but no longer theirs."""

    __tablename__ = "poll_responses"
    __table_args__ = (
        UniqueConstraint("poll_id", "person_id", name="uq_poll_responses_person"),
        Index("ix_poll_responses_poll_commune", "poll_id", "commune_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    role: Mapped[PersonRole] = mapped_column(str_enum(PersonRole, 20))
    province_code: Mapped[int | None]
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class PollAnswer(Base):
    """The answer to one question: the choices picked, a number, a text or a recording; stored once (a
    repeated tap or a redelivered message finds it there)."""

    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_poll_answers_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("poll_responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("poll_questions.id", ondelete="CASCADE"))
    choice_ids: Mapped[list[int]] = mapped_column(default=list)
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    media: Mapped[Media | None] = relationship()
