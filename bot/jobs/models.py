"""A job: slow work queued in the database by the transaction that asked for it, so it survives a crash."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, str_enum, utcnow


class JobStatus(enum.StrEnum):
    """pending -> running -> done | failed; a failure with attempts left goes back to pending, and a
    running job whose claim expired (its process died) is taken again."""

    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class Job(Base):
    """One piece of work of a kind a handler is registered for, with what it needs (`payload`); while
    running, `claimed_by` is the token of the one claim that may record its outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_due", "status", "due_at"),
        Index("ix_jobs_status_claim", "status", "claim_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, 10), default=JobStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)  # claims so far, a crashed one included
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claim_expires_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
