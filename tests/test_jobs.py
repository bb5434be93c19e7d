"""Durable jobs (bot/jobs): a failing job is retried then given up with its reason, a runner that lost its
claim writes nothing, two runners never run one job, and a bulletin's audio whose maker died — its claim
run out, or its process killed with SIGKILL mid-speech — is made by another."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from alembic import command
from sqlalchemy import select

import bot.server  # first: the sender's modules import each other through the conversation
from bot.accounts.models import Role
from bot.audio import ffmpeg
from bot.audio import service as audio_service
from bot.bulletins import service as bulletins
from bot.bulletins import voices
from bot.bulletins.worker import Sender
from bot.config import Settings
from bot.db import Database, utcnow
from bot.jobs import service as jobs
from bot.jobs.base import JOB_TYPES, ClaimLost, JobType, Work, give_up
from bot.jobs.models import Job, JobStatus
from bot.jobs.runner import JobRunner
from bot.media import sweep
from bot.migrations import alembic_config, upgrade
from tests.conftest import make_settings
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.test_admin import login, make_admin
from tests.test_bulletins import PHONG_THO, google

__all__ = ["google"]  # the fake gTTS fixture this module shares with test_bulletins
T = TypeVar("T")
needs_ffmpeg = pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")


def eventually(check: Callable[[], T], timeout: float = 60) -> T:
    """What `check` returns once it is truthy; fails the test if it never is."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)
    return found


def job(db: Database, job_id: int) -> Job:
    """A job as the database has it now."""
    with db.transaction() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def settled(db: Database, *job_ids: int) -> bool:
    """Whether every one of these jobs is done or given up."""
    return all(job(db, i).status in (JobStatus.done, JobStatus.failed) for i in job_ids)


def job_settings(database_url: str, **overrides: Any) -> Settings:
    """A process that runs jobs promptly: no wait before a retry, quick polls."""
    values: dict[str, Any] = {"jobs_poll_seconds": 0.05, "jobs_retry_seconds": 0} | overrides
    return make_settings(database_url, **values)


@contextmanager
def runner(db: Database, settings: Settings) -> Iterator[JobRunner]:
    """A job runner, as `serve` and `worker` start one, stopped at the end."""
    running = JobRunner(db, settings)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def enqueue(db: Database, kind: str, count: int = 1) -> list[int]:
    """Queue jobs of a kind, committed; their ids."""
    with db.transaction() as session:
        return [jobs.enqueue(session, kind, {"n": n}).id for n in range(count)]


def test_a_job_whose_handler_raises_is_retried_then_given_up_with_its_reason(
    database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[int] = []

    def cable_down(work: Work) -> None:
        tries.append(work.claim.attempts)
        raise RuntimeError("mất kết nối tới máy chủ phát thanh")

    def flaky(work: Work) -> None:
        if work.claim.attempts == 1:
            raise KeyError("once")

    monkeypatch.setitem(JOB_TYPES, "test-cable-down", JobType(cable_down))
    monkeypatch.setitem(JOB_TYPES, "test-flaky", JobType(flaky))
    with runner(db, job_settings(database_url, jobs_max_attempts=3)):
        [hopeless] = enqueue(db, "test-cable-down")
        [lucky] = enqueue(db, "test-flaky")
        eventually(lambda: settled(db, hopeless, lucky))
    given_up, done = job(db, hopeless), job(db, lucky)
    assert tries == [1, 2, 3], "tried again after each failure, three times in all"
    assert given_up.status == JobStatus.failed and given_up.attempts == 3
    assert given_up.error == "RuntimeError: mất kết nối tới máy chủ phát thanh"
    assert given_up.finished_at is not None and given_up.claim_expires_at is None
    assert done.status == JobStatus.done and done.attempts == 2 and done.error == ""


def test_a_retry_waits_longer_after_each_failure(db: Database) -> None:
    """The backoff: a job failing again is not hammered at once."""
    [job_id] = enqueue(db, "test-backoff")
    waits = []
    for _attempt in range(3):
        with db.transaction() as session:
            session.get(Job, job_id).due_at = utcnow()  # type: ignore[union-attr]
        with db.transaction() as session:
            [held] = jobs.claim(session, ["test-backoff"], 1, 60, 5, give_up)
            before = utcnow()
            assert jobs.fail(session, held, "boom", 5, 10, give_up)
        waits.append(job(db, job_id).due_at - before)
    assert [round(w.total_seconds()) for w in waits] == [10, 20, 40]
    assert job(db, job_id).status == JobStatus.pending


def test_a_runner_that_lost_its_claim_records_nothing(database_url: str, db: Database) -> None:
    [job_id] = enqueue(db, "test-slow")
    with db.transaction() as session:
        [stalled] = jobs.claim(session, ["test-slow"], 1, 60, 5, give_up)
    with db.transaction() as session:  # the stalled runner stopped renewing: its claim runs out
        session.get(Job, job_id).claim_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    with db.transaction() as session:
        [taken] = jobs.claim(session, ["test-slow"], 1, 60, 5, give_up)
    assert taken.job_id == job_id and taken.token != stalled.token and taken.attempts == 2

    with db.transaction() as session:
        assert not jobs.renew(session, stalled, 60)
        assert not jobs.finish(session, stalled)
        assert not jobs.fail(session, stalled, "too late", 5, 0, give_up)
    with pytest.raises(ClaimLost), Work(db, make_settings(database_url), stalled).transaction() as session:
        session.get(Job, job_id).error = "written by a runner that lost the job"  # type: ignore[union-attr]
    now = job(db, job_id)
    assert now.status == JobStatus.running and now.claimed_by == taken.token and now.error == ""

    with db.transaction() as session:
        assert jobs.renew(session, taken, 60) and jobs.finish(session, taken)
    assert job(db, job_id).status == JobStatus.done


def test_a_job_whose_process_died_every_time_is_given_up(db: Database) -> None:
    """A job that kills its process (kill -9, out of memory) is not taken again for ever."""
    [job_id] = enqueue(db, "test-deadly")
    for _attempt in range(2):
        with db.transaction() as session:
            [held] = jobs.claim(session, ["test-deadly"], 1, 60, 2, give_up)
            session.get(Job, held.job_id).claim_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    with db.transaction() as session:
        assert jobs.claim(session, ["test-deadly"], 1, 60, 2, give_up) == []
    given_up = job(db, job_id)
    assert given_up.status == JobStatus.failed and "stopped while running it 2 times" in given_up.error


def test_two_runners_never_run_the_same_job(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes' runners (each its own database pool) share 60 jobs: each runs exactly once."""
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()

    def count(work: Work) -> None:
        with lock:
            ran.append((threading.current_thread().name, work.claim.job_id))
        time.sleep(0.01)

    monkeypatch.setitem(JOB_TYPES, "test-count", JobType(count))
    first, second = Database(database_url), Database(database_url)
    settings = job_settings(database_url, jobs_threads=4)
    try:
        with runner(first, settings), runner(second, settings):
            ids = enqueue(first, "test-count", 60)
            eventually(lambda: settled(first, *ids))
        assert sorted(job_id for _thread, job_id in ran) == sorted(ids), "every job ran, none twice"
        assert all(job(first, i).status == JobStatus.done and job(first, i).attempts == 1 for i in ids)
    finally:
        first.dispose()
        second.dispose()


def test_a_long_job_keeps_its_claim_while_its_runner_lives(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job running past its claim's first expiry is renewed, so a second runner never takes it."""
    release, runs = threading.Event(), []

    def long_speech(work: Work) -> None:
        runs.append(work.claim.token)
        assert release.wait(120)

    monkeypatch.setitem(JOB_TYPES, "test-long", JobType(long_speech))
    first, second = Database(database_url), Database(database_url)
    settings = job_settings(database_url, jobs_claim_seconds=3)
    try:
        with runner(first, settings), runner(second, settings):
            [job_id] = enqueue(first, "test-long")
            token = eventually(lambda: job(first, job_id).claimed_by)
            expiry = job(first, job_id).claim_expires_at or utcnow()
            eventually(
                lambda: (job(first, job_id).claim_expires_at or expiry) > expiry + timedelta(seconds=3)
            )
            renewed = job(first, job_id)
            assert renewed.claimed_by == token and renewed.status == JobStatus.running, (
                "still its first claim"
            )
            release.set()
            eventually(lambda: settled(first, job_id))
        assert runs == [token] and job(first, job_id).attempts == 1
    finally:
        release.set()
        first.dispose()
        second.dispose()


def pending_bulletin(db: Database, settings: Settings) -> int:
    """A draft whose Vietnamese audio is still to be spoken, its job queued, as the admin's form leaves it."""
    with db.transaction() as session:
        bulletin = bulletins.create(
            session,
            title="Cảnh báo lũ",
            versions=[("vi", "Nước sông Nậm Na đang lên, bà con không qua suối.", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
        )
        voices.mark_pending(bulletin.versions[0], settings, None)
        voices.queue(session, bulletin)
        return bulletin.id


def audio_of(db: Database, bulletin_id: int) -> str:
    """What the bulletin's Vietnamese audio is now: pending, made by gTTS, or an error."""
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        return bulletin.versions[0].audio_source


def audio_jobs(db: Database) -> list[Job]:
    """Every audio job there is."""
    with db.transaction() as session:
        return list(session.scalars(select(Job).where(Job.kind == voices.AUDIO_JOB)))


@needs_ffmpeg
def test_audio_whose_maker_died_is_made_by_another_runner(
    database_url: str, db: Database, google: FakeGoogleTTS
) -> None:
    settings = job_settings(database_url, gtts_url=google.url, tts_engine="gtts")
    bulletin_id = pending_bulletin(db, settings)
    with db.transaction() as session:  # a runner takes the job, then its process dies: no renewals
        [dead] = jobs.claim(session, [voices.AUDIO_JOB], 1, 60, 5, give_up)
        session.get(Job, dead.job_id).claim_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    assert audio_of(db, bulletin_id) == "pending"
    with runner(db, settings):
        eventually(lambda: audio_of(db, bulletin_id) == "gtts:vi")
    [made] = audio_jobs(db)
    assert made.status == JobStatus.done and made.attempts == 2


def test_audio_whose_job_was_given_up_says_why_instead_of_being_made_for_good(
    database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulletin's page never shows 'Đang tạo âm thanh…' for ever: a job given up says why on the version."""

    def broken(*_args: Any) -> None:
        raise MemoryError("ffmpeg ran out of memory")

    monkeypatch.setattr(audio_service, "clip_for", broken)
    settings = job_settings(database_url, tts_engine="gtts", jobs_max_attempts=2)
    bulletin_id = pending_bulletin(db, settings)
    with runner(db, settings):
        eventually(lambda: audio_of(db, bulletin_id) != "pending")
    assert audio_of(db, bulletin_id) == "error:MemoryError: ffmpeg ran out of memory"
    [given_up] = audio_jobs(db)
    assert given_up.status == JobStatus.failed and given_up.attempts == 2


@needs_ffmpeg
def test_audio_left_pending_before_jobs_existed_is_made_after_the_upgrade(
    database_url: str, db: Database, google: FakeGoogleTTS
) -> None:
    """A version a crash left "pending" under the in-process task of before is given a job by the upgrade."""
    settings = job_settings(database_url, gtts_url=google.url, tts_engine="gtts")
    with db.transaction() as session:
        bulletin = bulletins.create(
            session,
            title="Lịch tiêm phòng",
            versions=[("vi", "Thứ Bảy tiêm phòng cho trâu bò.", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
        )
        voices.mark_pending(bulletin.versions[0], settings, None)
        bulletin_id = bulletin.id
    db.dispose()
    command.downgrade(alembic_config(database_url), "0016-1")
    upgrade(database_url)
    [waiting] = audio_jobs(db)
    assert waiting.payload == {"bulletin_id": bulletin_id} and waiting.status == JobStatus.pending
    with runner(db, settings):
        eventually(lambda: audio_of(db, bulletin_id) == "gtts:vi")


class SilentSpeech:
    """A gTTS endpoint that takes the connection and never answers: a worker using it hangs mid-job."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.asked = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """Where to point LOABAN_GTTS_URL."""
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        """Hold every connection open, unanswered."""
        while True:
            try:
                connection, _address = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.asked.set()

    def close(self) -> None:
        """Stop listening and drop the connections."""
        self.socket.close()
        for connection in self.connections:
            connection.close()


def worker(database_url: str, media: Path, gtts_url: str, log: Path) -> subprocess.Popen[bytes]:
    """`loaban worker` in a process of its own, as a deployment runs it, its errors written to `log`."""
    env = os.environ | {
        "LOABAN_DATABASE_URL": database_url,
        "LOABAN_MEDIA_DIR": str(media),
        "LOABAN_GTTS_URL": gtts_url,
        "LOABAN_TTS_ENGINE": "gtts",
        "LOABAN_TTS_TIMEOUT_SECONDS": "300",
        "LOABAN_JOBS_CLAIM_SECONDS": "3",
        "LOABAN_JOBS_POLL_SECONDS": "0.2",
        "LOABAN_QA_SEMANTIC": "false",
        "LOABAN_LOG_LEVEL": "warning",
    }
    with log.open("wb") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=errors
        )


@needs_ffmpeg
def test_a_worker_killed_mid_speech_leaves_the_audio_to_a_fresh_worker(
    database_url: str, db: Database, google: FakeGoogleTTS, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    bulletin_id = pending_bulletin(db, make_settings(database_url, media_dir=media, tts_engine="gtts"))
    silent = SilentSpeech()
    doomed = worker(database_url, media, silent.url, tmp_path / "doomed.log")
    try:
        assert silent.asked.wait(90), "the worker took the job and began speaking"
        [taken] = audio_jobs(db)
        assert taken.status == JobStatus.running and taken.attempts == 1
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(30) == -signal.SIGKILL
    finally:
        doomed.kill()
        silent.close()
    assert audio_of(db, bulletin_id) == "pending", "the killed worker recorded nothing"

    fresh = worker(database_url, media, google.url, tmp_path / "fresh.log")
    try:
        eventually(lambda: audio_of(db, bulletin_id) == "gtts:vi")
        fresh.send_signal(signal.SIGTERM)
        assert fresh.wait(60) == 0, (tmp_path / "fresh.log").read_text()
    finally:
        fresh.kill()
    [made] = audio_jobs(db)
    assert made.status == JobStatus.done and made.attempts == 2 and made.claim_expires_at is None


def test_jobs_finished_long_ago_are_pruned_by_the_lease_holder_and_the_rest_kept(
    database_url: str, db: Database
) -> None:
    """Done and given-up jobs older than LOABAN_JOBS_KEEP_DAYS go at the sender's housekeeping; recent
    ones (admins still read why a job failed), and work not finished however old, stay."""
    long_ago, lately = utcnow() - timedelta(days=31), utcnow() - timedelta(days=29)
    kept_for = {
        "old done": (JobStatus.done, long_ago, False),
        "old failed": (JobStatus.failed, long_ago, False),
        "recent failed": (JobStatus.failed, lately, True),
        "recent done": (JobStatus.done, lately, True),
        "old pending": (JobStatus.pending, None, True),
        "old running": (JobStatus.running, None, True),
    }
    with db.transaction() as session:
        for name, (status, finished, _kept) in kept_for.items():
            session.add(
                Job(kind=name, status=status, finished_at=finished, created_at=long_ago, due_at=long_ago)
            )
    settings = make_settings(database_url, jobs_keep_days=30)
    runtime = bot.server.build_runtime(settings)
    sender = Sender(runtime.db, runtime.hub, settings, runtime.catalogs)
    sender._renew(set())
    assert sender.leading
    sender._housekeeping()
    runtime.db.dispose()
    with db.transaction() as session:
        left = set(session.scalars(select(Job.kind)))
    assert left == {name for name, (_s, _f, kept) in kept_for.items() if kept} | {sweep.SWEEP_JOB}, (
        "and the day's sweep of stray media files is queued"
    )


def test_jobs_given_up_are_shown_with_their_reason_to_province_admins_only(
    client: httpx.Client, db: Database
) -> None:
    with db.transaction() as session:
        session.add(
            Job(
                kind=voices.AUDIO_JOB,
                payload={"bulletin_id": 41},
                status=JobStatus.failed,
                finished_at=utcnow(),
                error="SpeechError: <b>máy đọc không trả lời</b>",
            )
        )
    make_admin(db, "tinh", Role.province_admin)
    make_admin(db, "xa", Role.commune_officer, (PHONG_THO,))
    login(client, "tinh")
    page = client.get("/admin").text
    assert 'id="failed-jobs"' in page and "Làm âm thanh cho bản tin" in page
    assert 'href="/admin/bulletins/41"' in page
    assert "&lt;b&gt;máy đọc không trả lời&lt;/b&gt;" in page, "the reason, escaped"
    client.cookies.clear()
    login(client, "xa")
    assert 'id="failed-jobs"' not in client.get("/admin").text
