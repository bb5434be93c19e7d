"""Queueing, claiming and settling jobs, each in the caller's transaction. A claim carries a token of its
own: only the holder of the current token may renew it or record the job's outcome (fencing), so a runner
that stalled past its claim's expiry and lost the job to another writes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.db import after, utcnow
from bot.jobs.models import Job, JobStatus

MAX_BACKOFF = timedelta(minutes=10)
GiveUp = Callable[[Session, Job], None]  # told of a job given up, in the transaction giving it up
_wakers: list[Callable[[], None]] = []  # this process's runners, told when a job is queued


@dataclass(frozen=True)
class Claim:
    """One claim of one job, what its handler needs, and the token that fences its writes."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    token: str
    attempts: int


def enqueue(session: Session, kind: str, payload: dict[str, Any]) -> Job:
    """Queue work in the caller's transaction, so the job exists exactly when the change that asked for it
    committed; this process's runners are woken by the commit rather than by their next poll."""
    job = Job(kind=kind, payload=payload)
    session.add(job)
    session.flush()
    after(session, "commit", wake)
    return job


def listen(waker: Callable[[], None]) -> Callable[[], None]:
    """Have a runner told when this process queues a job; returns what stops it being told."""
    _wakers.append(waker)
    return lambda: _wakers.remove(waker)


def wake() -> None:
    """Tell this process's runners that a job is waiting."""
    for waker in list(_wakers):
        waker()


def claim(
    session: Session, kinds: Collection[str], limit: int, seconds: float, max_attempts: int, given_up: GiveUp
) -> list[Claim]:
    """Take up to `limit` due jobs of these kinds, each under a fresh token: pending ones, and running ones
    whose claim expired because their process died (a job that died with its process `max_attempts`
    times is given up instead). PostgreSQL skips rows another runner is claiming; SQLite has one writer."""
    now = utcnow()
    due = or_(
        and_(Job.status == JobStatus.pending, Job.due_at <= now),
        and_(Job.status == JobStatus.running, Job.claim_expires_at <= now),
    )
    found = session.scalars(
        select(Job)
        .where(due, Job.kind.in_(kinds))
        .order_by(Job.due_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claims = []
    for job in found:
        if job.status == JobStatus.running and job.attempts >= max_attempts:
            _give_up(session, job, f"its process stopped while running it {job.attempts} times", given_up)
            continue
        job.status, job.claimed_by = JobStatus.running, secrets.token_hex(16)
        job.claim_expires_at, job.attempts = now + timedelta(seconds=seconds), job.attempts + 1
        claims.append(Claim(job.id, job.kind, dict(job.payload), job.claimed_by, job.attempts))
    return claims


def _held(session: Session, held: Claim) -> Job | None:
    """The job of a claim, locked, if the claim still holds it."""
    return session.scalars(
        select(Job)
        .where(Job.id == held.job_id, Job.claimed_by == held.token, Job.status == JobStatus.running)
        .with_for_update()
    ).first()


def holds(session: Session, held: Claim) -> bool:
    """Whether a claim still holds its job, locking the job until the caller's transaction ends so the
    caller's writes and the claim stand or fall together."""
    return _held(session, held) is not None


def renew(session: Session, held: Claim, seconds: float) -> bool:
    """Push back a claim's expiry while its handler runs; False when another runner took the job."""
    renewed = session.execute(
        update(Job)
        .where(Job.id == held.job_id, Job.claimed_by == held.token, Job.status == JobStatus.running)
        .values(claim_expires_at=utcnow() + timedelta(seconds=seconds))
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, held: Claim) -> bool:
    """Record that a job is done, if the claim still holds it."""
    job = _held(session, held)
    if job is None:
        return False
    job.status, job.finished_at, job.claim_expires_at, job.error = JobStatus.done, utcnow(), None, ""
    return True


def fail(
    session: Session, held: Claim, reason: str, max_attempts: int, retry_seconds: float, given_up: GiveUp
) -> bool:
    """Record why a job failed, if the claim still holds it: due again after a growing wait, or given up
    with its reason once it has failed `max_attempts` times."""
    job = _held(session, held)
    if job is None:
        return False
    if job.attempts >= max_attempts:
        _give_up(session, job, reason, given_up)
        return True
    wait = min(timedelta(seconds=retry_seconds * 2 ** (job.attempts - 1)), MAX_BACKOFF)
    job.status, job.claimed_by, job.claim_expires_at = JobStatus.pending, None, None
    job.due_at, job.error = utcnow() + wait, reason[:2000]
    return True


def _give_up(session: Session, job: Job, reason: str, given_up: GiveUp) -> None:
    """Settle a job as failed for good with its reason, and let its kind say so where people look (a
    bulletin's audio no longer "being made")."""
    job.status, job.finished_at, job.claim_expires_at, job.error = (
        JobStatus.failed,
        utcnow(),
        None,
        reason[:2000],
    )
    given_up(session, job)


def prune(session: Session, keep: timedelta) -> int:
    """Delete jobs settled (done or given up) longer than `keep` ago: the table holds the work under way
    and its recent history, not every job ever run. Returns how many went."""
    gone = session.execute(
        delete(Job).where(
            Job.status.in_([JobStatus.done, JobStatus.failed]), Job.finished_at < utcnow() - keep
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def given_up(session: Session, limit: int) -> list[Job]:
    """The jobs given up most recently, for the admins to see what failed and why."""
    return list(
        session.scalars(
            select(Job).where(Job.status == JobStatus.failed).order_by(Job.finished_at.desc()).limit(limit)
        )
    )
