"""A law contest ("cuộc thi tìm hiểu chính sách, pháp luật"): its rounds, its question bank, the people
registered for it, and one attempt per person per round with the questions it drew and the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, str_enum, utcnow
from bot.people.models import PersonRole


class Contest(Base):
    """What an editor runs: a title, the rules and prizes people read before entering, the audience (as
    a bulletin's), and which registration fields the rules require."""

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    rules: Mapped[str] = mapped_column(Text, default="")
    prizes: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    required: Mapped[list[str]] = mapped_column(default=list)  # registration fields the rules require
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rounds: Mapped[list[ContestRound]] = relationship(
        back_populates="contest", cascade="all, delete-orphan", order_by="ContestRound.starts_at"
    )
    questions: Mapped[list[ContestQuestion]] = relationship(
        back_populates="contest", cascade="all, delete-orphan", order_by="ContestQuestion.id"
    )


class ContestRound(Base):
    """A period (the server's clock decides) in which each person answers `draw` questions drawn from the
    contest's bank."""

    __tablename__ = "contest_rounds"
    __table_args__ = (Index("ix_contest_rounds_period", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    draw: Mapped[int] = mapped_column(default=5)
    invited_at: Mapped[datetime | None]  # when its invitation was written as a bulletin
    published_at: Mapped[datetime | None]  # when each commune's results went to its participants

    contest: Mapped[Contest] = relationship(back_populates="rounds")


class ContestQuestion(Base):
    """A multiple-choice question of the bank: its text and options per language, the right option, the
    short explanation and the legal source shown after answering."""

    __tablename__ = "contest_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> question
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # each: language -> label
    correct: Mapped[int]  # index of the right option
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> text
    source: Mapped[str] = mapped_column(String(300), default="")

    contest: Mapped[Contest] = relationship(back_populates="questions")


class Entrant(Base):
    """A person registered for a contest with what its rules ask, their consent to take part and whether
    they agree to be named among the winners."""

    __tablename__ = "contest_entrants"
    __table_args__ = (UniqueConstraint("contest_id", "person_id", name="uq_contest_entrants_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120), default="")
    birth_year: Mapped[int | None]
    phone: Mapped[str] = mapped_column(String(20), default="")
    village: Mapped[str] = mapped_column(String(120), default="")
    consented_at: Mapped[datetime | None]
    named: Mapped[bool] = mapped_column(default=False)  # may be named among the winners
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(Base):
    """One person's go at one round (a prestigious person may make a second one for a household group,
    counted apart and never ranked): the questions drawn in their order, where the person was, the score,
    the time taken and the tie-breaker prediction."""

    __tablename__ = "contest_attempts"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id", "for_group", name="uq_contest_attempts_person"),
        Index("ix_contest_attempts_round_commune", "round_id", "commune_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("contest_rounds.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    entrant_id: Mapped[int | None] = mapped_column(ForeignKey("contest_entrants.id", ondelete="SET NULL"))
    for_group: Mapped[bool] = mapped_column(default=False)
    question_ids: Mapped[list[int]] = mapped_column(default=list)
    asked: Mapped[int] = mapped_column(default=0)  # how many were drawn: a perfect score is all of them
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    role: Mapped[PersonRole] = mapped_column(str_enum(PersonRole, 20))
    province_code: Mapped[int | None]
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    prediction: Mapped[int | None]

    entrant: Mapped[Entrant | None] = relationship()


class ContestAnswer(Base):
    """The option picked for one drawn question, and whether it was right; stored once."""

    __tablename__ = "contest_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id", name="uq_contest_answers_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("contest_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("contest_questions.id", ondelete="CASCADE"))
    option: Mapped[int]
    right: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
