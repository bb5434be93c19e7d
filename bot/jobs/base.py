"""What a job's handler is given, and the registry of handlers by kind that runners take jobs for."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from bot.jobs import service as jobs
from bot.jobs.models import Job

if TYPE_CHECKING:  # the conversation imports jobs (to queue its own), so only for types here
    from bot.conversation.types import Outgoing

Deliver = Callable[[Sequence["Outgoing"]], None]  # sends committed outbox rows, from a job's thread


class ClaimLost(Exception):
    """Raised in a handler's transaction when another runner took the job meanwhile: nothing is written."""


@dataclass(frozen=True)
class Work:
    """One run of a job: the process's database and settings, the claim its writes are fenced by, and
    what sends the messages it queued."""

    db: Database
    settings: Settings
    claim: jobs.Claim
    deliver: Deliver | None = None  # the process's hub, where it runs channels

    def send(self, outgoing: Sequence[Outgoing]) -> None:
        """Send replies the handler queued in the outbox (after its commit); a process without channels
        leaves them to the next start's resend."""
        if self.deliver is not None and outgoing:
            self.deliver(outgoing)

    @property
    def payload(self) -> dict[str, Any]:
        """What the job was queued with."""
        return self.claim.payload

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A short transaction of the handler's that commits only while this run still holds the job, so a
        run that stalled and lost it cannot overwrite what its successor recorded."""
        with self.db.transaction() as session:
            if not jobs.holds(session, self.claim):
                raise ClaimLost(f"job {self.claim.job_id} was taken by another runner")
            yield session


Handler = Callable[[Work], None]


@dataclass(frozen=True)
class JobType:
    """How to run a kind of job, and what to record when one is given up (its `error` says why), in the
    transaction that gives it up."""

    run: Handler
    given_up: jobs.GiveUp | None = None
    label: str = ""  # what the admins read for it (marked for translation)


JOB_TYPES: dict[str, JobType] = {}


def register_job(kind: str, run: Handler, *, given_up: jobs.GiveUp | None = None, label: str = "") -> None:
    """Make a kind of job known to runners: they claim only kinds their process can run. A handler runs
    outside any transaction, opens short ones with `Work.transaction`, and may run again after a crash."""
    JOB_TYPES[kind] = JobType(run, given_up, label)


def give_up(session: Session, job: Job) -> None:
    """Tell a job's kind it was given up, so what waited for it says why instead of waiting for good."""
    kind = JOB_TYPES.get(job.kind)
    if kind is not None and kind.given_up is not None:
        kind.given_up(session, job)
