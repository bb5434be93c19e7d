"""Running jobs in a process (`serve` and `worker`): one thread claims due jobs and renews their claims,
a pool of its own runs them, so neither ever waits behind message handling; a job queued by this process
wakes it at once, others' are found by polling."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.config import Settings
from bot.db import Database
from bot.jobs import service as jobs
from bot.jobs.base import JOB_TYPES, ClaimLost, Deliver, Work, give_up

log = logging.getLogger(__name__)


class JobRunner:
    """Claims at most `jobs_threads` jobs at a time and settles each: done, or retried after an error and
    given up with its reason after `jobs_max_attempts`; nothing stays running past its claim."""

    def __init__(self, db: Database, settings: Settings, deliver: Deliver | None = None) -> None:
        self.db, self.settings, self.deliver = db, settings, deliver
        self._pool = ThreadPoolExecutor(settings.jobs_threads, thread_name_prefix="job")
        self._held: dict[int, jobs.Claim] = {}
        self._held_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-claimer", daemon=True)
        self._unlisten: Callable[[], None] | None = None

    def start(self) -> None:
        """Begin claiming; jobs this process queues wake the runner."""
        self._unlisten = jobs.listen(self._wake.set)
        self._thread.start()

    def stop(self) -> None:
        """Claim nothing more and let the jobs running finish, their claims renewed meanwhile (a job cut
        short by a crash is run again)."""
        if self._unlisten is not None:
            self._unlisten()
        self._stopping.set()
        self._wake.set()
        self._thread.join()
        self._pool.shutdown(wait=True)

    def _loop(self) -> None:
        """Renew the claims held, claim what the free threads can run, sleep until woken or the next poll;
        once stopping, only renew until the jobs running are settled."""
        claim_seconds = self.settings.jobs_claim_seconds
        renewed = time.monotonic()
        while not (self._stopping.is_set() and self._idle()):
            self._wake.clear()
            claimed = []
            try:
                if time.monotonic() - renewed >= claim_seconds / 3:
                    renewed = time.monotonic()
                    self._renew()
                claimed = self._claim()
            except Exception:  # the database is away: try again at the next poll
                log.exception("jobs: could not claim or renew")
            for held in claimed:
                self._pool.submit(self._run, held)
            if not claimed:
                self._wake.wait(min(self.settings.jobs_poll_seconds, claim_seconds / 3))

    def _claim(self) -> list[jobs.Claim]:
        """Take as many due jobs as there are free threads, of the kinds this process can run."""
        with self._held_lock:
            free = self.settings.jobs_threads - len(self._held)
        if free <= 0 or not JOB_TYPES or self._stopping.is_set():
            return []
        s = self.settings
        with self.db.transaction() as session:
            claimed = jobs.claim(
                session, list(JOB_TYPES), free, s.jobs_claim_seconds, s.jobs_max_attempts, give_up
            )
        with self._held_lock:
            self._held.update((held.job_id, held) for held in claimed)
        return claimed

    def _renew(self) -> None:
        """Keep the claims of the jobs running here; a claim lost meanwhile is let go."""
        with self._held_lock:
            held = list(self._held.values())
        for each in held:
            with self.db.transaction() as session:
                kept = jobs.renew(session, each, self.settings.jobs_claim_seconds)
            if not kept:
                log.warning(
                    "job %s (%s): its claim was lost; its outcome will not be recorded",
                    each.job_id,
                    each.kind,
                )

    def _run(self, held: jobs.Claim) -> None:
        """Run one job's handler outside any transaction, then record its outcome under its claim."""
        try:
            try:
                JOB_TYPES[held.kind].run(Work(self.db, self.settings, held, self.deliver))
                failure = None
            except ClaimLost:
                log.warning("job %s (%s): taken by another runner while it ran", held.job_id, held.kind)
                return
            except Exception as exc:
                log.exception("job %s (%s) failed (attempt %s)", held.job_id, held.kind, held.attempts)
                failure = f"{type(exc).__name__}: {exc}"
            self._settle(held, failure)
        finally:
            self._release(held)

    def _settle(self, held: jobs.Claim, failure: str | None) -> None:
        """Record a job done, or failed with its reason, while its claim holds; when even that fails, the
        claim expires and another run takes the job again."""
        s = self.settings
        try:
            with self.db.transaction() as session:
                settled = (
                    jobs.finish(session, held)
                    if failure is None
                    else jobs.fail(session, held, failure, s.jobs_max_attempts, s.jobs_retry_seconds, give_up)
                )
        except Exception:
            log.exception("job %s (%s): could not record its outcome", held.job_id, held.kind)
            return
        if not settled:
            log.warning("job %s (%s): its claim was lost; outcome not recorded", held.job_id, held.kind)

    def _idle(self) -> bool:
        """Whether no job is running here."""
        with self._held_lock:
            return not self._held

    def _release(self, held: jobs.Claim) -> None:
        """Free the job's thread and let the claimer fill it."""
        with self._held_lock:
            self._held.pop(held.job_id, None)
        self._wake.set()
