"""Several senders on several processes share one outbox on PostgreSQL: each row is sent by one of them,
a sender whose claim ran out cannot record over the one that took its rows, a killed sender's rows are
taken again once its claims expire, and the platform's rate holds across all of them (in PostgreSQL or in
Redis), with Telegram's paid broadcast for urgent warnings when the deployment allows it."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.exc import OperationalError

import bot.server  # first: the sender's modules import each other through the conversation
from bot.bulletins import outbox, worker
from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinStatus, Delivery, DeliveryStatus
from bot.config import Settings
from bot.conversation.types import Reply
from bot.db import Database, utcnow
from bot.messages.models import Message, Status
from tests.conftest import TG_TOKEN, make_settings
from tests.factories import add_person, wait_done
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.fakes.server import LiveServer, free_port
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_bulletins import PHONG_THO, TEXT, bulletin_settings, google, make_bulletin

__all__ = ["google"]  # the fixture this module shares with test_bulletins
LAI_CHAU = 12
REDIS_URL = "redis://127.0.0.1:6379/0"
TERMINATE = text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name")
_chats = itertools.count(8_600_001)


@pytest.fixture
def postgresql(database_url: str) -> str:
    """Senders share the work on PostgreSQL only; SQLite keeps one sender (tests/test_bulletins.py)."""
    if database_url.startswith("sqlite"):
        pytest.skip("several senders share the outbox on PostgreSQL")
    return database_url


def bot_api(token: str = TG_TOKEN, **limits: Any) -> Iterator[FakeBotAPI]:
    """A fake Bot API, limits on."""
    fake = FakeBotAPI(token, **limits).start()
    try:
        yield fake
    finally:
        fake.stop()


def own_bot() -> str:
    """A token for a bot of its own: its rate is its own in Redis too, whatever other tests run."""
    return f"{secrets.randbelow(10**9)}:SENDERS-TOKEN"


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    """Telegram's limits as they are: 30 messages/s, 1/s per chat."""
    yield from bot_api()


def people(db: Database, count: int) -> list[int]:
    """Onboarded Telegram people in Phong Thổ; their chat ids."""
    chats = [next(_chats) for _ in range(count)]
    for chat in chats:
        add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=LAI_CHAU)
    return chats


def text_bulletin(db: Database, *, urgent: bool = False) -> int:
    """A text-only bulletin to Phong Thổ, its outbox built."""
    with db.transaction() as session:
        audience = bulletins.Audience(communes=(PHONG_THO,))
        versions = [("vi", TEXT, None)]
        bulletin = bulletins.create(session, title="Lũ quét", versions=versions, audience=audience)
        bulletins.send(session, bulletin, lead=timedelta(0), urgent=urgent)
    outbox.build(db, {}, bulletin.id)  # everyone here is on Telegram, which has no reply window
    return bulletin.id


def start_worker(database_url: str, fake: FakeBotAPI, **env: str) -> subprocess.Popen[bytes]:
    """`loaban worker` in a process of its own, as on another machine."""
    values = {
        "LOABAN_DATABASE_URL": database_url,
        "LOABAN_TELEGRAM_TOKEN": fake.token,
        "LOABAN_TELEGRAM_API_URL": fake.url,
        "LOABAN_QUIET_HOURS": "",
        "LOABAN_QA_SEMANTIC": "false",
        "LOABAN_LOG_LEVEL": "warning",
        "LOABAN_DELIVERY_CHAT_INTERVAL_SECONDS": "0.05",
        "LOABAN_PORT": str(free_port()),
    } | {f"LOABAN_{k.upper()}": v for k, v in env.items()}
    command = [sys.executable, "-m", "bot.cli", "worker"]
    return subprocess.Popen(command, env=os.environ | values, stdout=subprocess.DEVNULL)


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    """Stop the workers still running, cleanly."""
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in workers:
        proc.wait(timeout=60)


def senders_of(db: Database, bulletin_id: int) -> Counter[str]:
    """How many rows of a bulletin each sender took last."""
    with db.transaction() as session:
        taken = session.scalars(select(Delivery.claimed_by).where(Delivery.bulletin_id == bulletin_id))
        return Counter(holder or "" for holder in taken)


def test_two_senders_share_the_work_and_never_send_the_same_row(
    postgresql: str, db: Database, fake: FakeBotAPI
) -> None:
    chats = people(db, 60)
    bulletin_id = text_bulletin(db)
    workers = [start_worker(postgresql, fake, delivery_concurrency="4") for _ in range(2)]
    try:
        progress = wait_done(db, bulletin_id, timeout=90)
    finally:
        stop(workers)
    received = Counter(c.chat_id for c in fake.sent(method="sendMessage"))
    assert received == Counter(chats), "each person got the bulletin exactly once"
    assert progress.sent == 60 and progress.retaken == 0
    assert len(senders_of(db, bulletin_id)) == 2, "both senders took a share"
    assert fake.too_many() == 0


def test_a_sender_whose_claim_ran_out_cannot_record_an_outcome(database_url: str, db: Database) -> None:
    """Sender A claims, stalls past its claim's expiry; the lease holder takes the rows back and sender B
    claims them: A's late outcome is refused, B's is kept, and A's renewal no longer touches them."""
    settings = make_settings(database_url)
    runtime = bot.server.build_runtime(settings)
    a, b = (worker.Sender(runtime.db, runtime.hub, settings, runtime.catalogs) for _ in range(2))
    people(db, 1)
    text_bulletin(db)
    hold = timedelta(seconds=settings.delivery_lease_seconds)
    with db.transaction() as session:
        [mine] = worker.claim(session, a.holder, 10, urgent_only=False, hold_for=hold)
    with db.transaction() as session:
        assert worker.retake_expired(session, max_attempts=5) == 0, "a live claim is never taken back"
        session.execute(update(Delivery).values(claim_expires_at=utcnow() - timedelta(seconds=1)))
    with db.transaction() as session:
        assert worker.retake_expired(session, max_attempts=5) == 1
    with db.transaction() as session:
        [theirs] = worker.claim(session, b.holder, 10, urgent_only=False, hold_for=hold)
    assert theirs.id == mine.id and theirs.claim != mine.claim

    assert a._record([worker.Outcome(mine, None, 1, worker.Result())]) == 0
    with db.transaction() as session:
        row = session.get(Delivery, mine.id)
        assert row is not None and (row.status, row.claimed_by) == (DeliveryStatus.sending, b.holder)
        worker.renew_claims(session, a.holder, [mine.claim], 3600)
    with db.transaction() as session:
        row = session.get(Delivery, mine.id)
        assert row is not None and row.claim_expires_at is not None
        assert row.claim_expires_at < utcnow() + hold + timedelta(seconds=5), "A cannot extend B's claim"

    assert b._record([worker.Outcome(theirs, None, 1, worker.Result())]) == 1
    with db.transaction() as session:
        row = session.get(Delivery, mine.id)
        assert row is not None and (row.status, row.retaken, row.claim_id) == (DeliveryStatus.sent, 1, None)
    runtime.db.dispose()


def test_a_batch_of_outcomes_is_one_transaction_and_a_row_whose_claim_ran_out_gets_nothing(
    database_url: str, db: Database
) -> None:
    """Sender A sent three people the bulletin and records the three outcomes together, but one row's
    claim ran out meanwhile and sender B holds it now: one commit writes the two rows A still holds (sent,
    in the people's message history), and nothing at all of the third, not even its history."""
    settings = make_settings(database_url)
    runtime = bot.server.build_runtime(settings)
    a, b = (worker.Sender(runtime.db, runtime.hub, settings, runtime.catalogs) for _ in range(2))
    chats = people(db, 3)
    text_bulletin(db)
    hold = timedelta(seconds=settings.delivery_lease_seconds)
    with db.transaction() as session:
        claimed = worker.claim(session, a.holder, 10, urgent_only=False, hold_for=hold)
    lost = claimed[1]
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == lost.id)
            .values(claim_expires_at=utcnow() - timedelta(seconds=1))
        )
        assert worker.retake_expired(session, max_attempts=5) == 1
    with db.transaction() as session:
        [theirs] = worker.claim(session, b.holder, 10, urgent_only=False, hold_for=hold)
    assert theirs.id == lost.id

    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(runtime.db.engine, "commit", committed)
    reply = Reply(text=TEXT)
    recorded = a._record([worker.Outcome(row, reply, 1, worker.Result(sent_id="77")) for row in claimed])
    event.remove(runtime.db.engine, "commit", committed)
    assert recorded == 2 and len(commits) == 1, "the batch is written in one transaction"

    with db.transaction() as session:
        rows = {r.id: r for r in session.scalars(select(Delivery))}
        history = list(session.scalars(select(Message).where(Message.kind == "bulletin")))
    assert {rows[r.id].status for r in claimed if r is not lost} == {DeliveryStatus.sent}
    assert (rows[lost.id].status, rows[lost.id].claimed_by) == (DeliveryStatus.sending, b.holder)
    kept = {m.urn for m in history if m.status == Status.sent and m.sent_id == "77"}
    assert kept == {f"telegram:{c}" for c in chats} - {lost.urn}, "no history for the row A lost"
    runtime.db.dispose()


def test_a_row_whose_handling_raises_is_retried_then_failed_with_its_reason(
    database_url: str, db: Database, fake: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """The voice note's file is gone from this machine's disk: not a platform error, yet the row is tried
    again after a backoff, then counted as failed with the reason, and the bulletin ends."""
    settings = bulletin_settings(database_url, fake, tmp_path / "media", google, delivery_max_attempts=2)
    [chat] = people(db, 1)
    bulletin_id = make_bulletin(db, settings)
    for voice in Path(settings.media_dir).rglob("*.ogg"):
        voice.unlink()
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        assert bulletin is not None
        bulletins.send(session, bulletin, lead=timedelta(0))
    server = LiveServer(bot.server.create_app(settings)).start()
    try:
        progress = wait_done(db, bulletin_id, timeout=60)
    finally:
        server.stop()
    assert (progress.sent, progress.failed, progress.pending) == (0, 1, 0)
    with db.transaction() as session:
        [row] = session.scalars(select(Delivery).where(Delivery.bulletin_id == bulletin_id))
        assert row.status == DeliveryStatus.failed and row.attempts == 2
        assert "FileNotFoundError" in (row.error or "")
    assert fake.sent(chat) == []


def test_a_sender_killed_mid_broadcast_loses_no_one(postgresql: str, db: Database) -> None:
    """kill -9 one of two senders a third of the way: the other goes on at once; the killed one's rows in
    flight are sent again once their claims expire; the only repeats are among those rows."""
    procs: list[subprocess.Popen[bytes]] = []
    killed: list[int] = []

    def kill_at_a_third(call: Any) -> None:
        if call.status == 200 and not killed and len(fake.sent()) >= 20:
            killed.append(procs[0].pid)
            os.kill(procs[0].pid, signal.SIGKILL)

    fake = FakeBotAPI(own_bot(), latency=0.05, on_call=kill_at_a_third).start()
    try:
        chats = people(db, 60)
        bulletin_id = text_bulletin(db)
        env = {"delivery_concurrency": "8", "delivery_lease_seconds": "3"}
        procs.extend(start_worker(postgresql, fake, **env) for _ in range(2))
        assert procs[0].wait(timeout=90) == -signal.SIGKILL
        with db.transaction() as session:
            in_flight = len(
                session.scalars(
                    select(Delivery.id).where(
                        Delivery.status == DeliveryStatus.sending,
                        Delivery.claimed_by.startswith(f"{socket.gethostname()}:{killed[0]}:"),
                    )
                ).all()
            )
        try:
            progress = wait_done(db, bulletin_id, timeout=90)
        finally:
            stop(procs)
    finally:
        fake.stop()
    received = [c.chat_id for c in fake.sent(method="sendMessage")]
    duplicates = len(received) - len(set(received))
    assert set(received) == set(chats), "nobody is lost"
    assert progress.sent == 60 and duplicates <= progress.retaken <= in_flight <= 8
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        assert bulletin is not None and bulletin.status == BulletinStatus.done


def test_a_sender_whose_database_connections_are_cut_goes_on_and_loses_no_one(
    postgresql: str, db: Database
) -> None:
    """The database drops every connection of one of two senders a few times while it is sending (a
    failover, a restarted pooler): that sender carries on sending, rows whose outcome it could not write
    are taken again once their claims expire, and everyone gets the bulletin. The bulletin is queued once
    both senders are connected, and is long enough that the other one cannot send it all alone while the
    first one reconnects."""
    victim, other = (f"loaban-{role}-{secrets.token_hex(4)}" for role in ("victim", "other"))
    cut: list[bool] = []

    def cut_once_it_sends(call: Any) -> None:
        if call.status == 200 and not cut and len(fake.sent()) >= 20 and sent_by(db, procs[0].pid):
            cut.append(True)

    procs: list[subprocess.Popen[bytes]] = []
    fake = FakeBotAPI(own_bot(), latency=0.05, on_call=cut_once_it_sends).start()
    try:
        chats = people(db, 200)
        env = {"delivery_concurrency": "8", "delivery_lease_seconds": "3"}
        procs.extend(
            start_worker(f"{postgresql}&application_name={name}", fake, **env) for name in (victim, other)
        )
        wait_connected(db, victim, other)
        bulletin_id = text_bulletin(db)
        fake.wait_for(lambda: bool(cut), timeout=60)
        for _ in range(5):
            with db.transaction() as session:
                session.execute(TERMINATE, {"name": victim})
            time.sleep(0.2)
        cuts_over = utcnow()
        try:
            progress = wait_done(db, bulletin_id, timeout=90)
            assert procs[0].poll() is None, "the sender survived"
            assert sent_by(db, procs[0].pid, since=cuts_over), "and sent more after the cuts"
        finally:
            stop(procs)
    finally:
        fake.stop()
    received = [c.chat_id for c in fake.sent(method="sendMessage")]
    assert set(received) == set(chats), "nobody is lost"
    assert progress.sent == 200 and len(received) - len(set(received)) <= progress.retaken <= 8


def test_a_sender_whose_renewal_failed_tries_again_within_a_second(
    postgresql: str,
    db: Database,
    fake: FakeBotAPI,
    tmp_path: Path,
    google: FakeGoogleTTS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database did not answer a sender's renewal (its connection was cut in the middle of it): the
    sender claims nothing while its claims are uncertain, and tries again a second later instead of a
    third of the lease later (20 s here), so the bulletin goes out at once and nothing is taken twice."""
    failed: list[float] = []
    renew = worker.Sender._renew

    def unanswered_once(self: worker.Sender, claims: Collection[str]) -> None:
        if not failed:
            failed.append(time.monotonic())
            raise OperationalError("UPDATE deliveries", {}, Exception("server closed the connection"))
        renew(self, claims)

    monkeypatch.setattr(worker.Sender, "_renew", unanswered_once)
    settings = bulletin_settings(postgresql, fake, tmp_path / "media", google, delivery_lease_seconds=60)
    chats = people(db, 3)
    bulletin_id = text_bulletin(db)
    server = LiveServer(bot.server.create_app(settings)).start()
    try:
        progress = wait_done(db, bulletin_id, timeout=90)
    finally:
        server.stop()
    received = fake.sent(method="sendMessage")
    assert sorted(c.chat_id for c in received) == sorted(chats), "each person got it once"
    assert progress.sent == 3 and progress.retaken == 0
    assert received[0].at - failed[0] < 10, "sending began long before the next regular renewal"


class InProcessWorker:
    """What `loaban worker` runs, on the event loop of a thread of this process: the test can keep that
    loop busy while the worker's other threads go on."""

    def __init__(self, settings: Settings) -> None:
        self.runtime = bot.server.build_runtime(settings, polling=True)
        self.loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self._work(),))

    async def _work(self) -> None:
        """Send and run jobs until told to stop, then stop as the worker does."""
        async with bot.server.running(self.runtime, sender=True, receive=False):
            await self._stop.wait()

    def start(self) -> InProcessWorker:
        """Start, and wait until the worker holds the lease (the first one started does)."""
        self._thread.start()
        deadline = time.monotonic() + 60
        while self.runtime.sender is None or not self.runtime.sender.leading:
            assert time.monotonic() < deadline, "the worker did not take the lease"
            time.sleep(0.05)
        return self

    @property
    def holder(self) -> str:
        """The name its claims carry."""
        assert self.runtime.sender is not None
        return self.runtime.sender.holder

    def stop(self) -> None:
        """Stop it cleanly."""
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=90)
        self.loop.close()


def owner(db: Database, chat: int | None) -> str:
    """The sender that last claimed a person's row (one bulletin here)."""
    with db.transaction() as session:
        claimed = select(Delivery.claimed_by).where(Delivery.urn == f"telegram:{chat}")
        return session.scalar(claimed) or ""


Claims = dict[int, tuple[DeliveryStatus, str | None, datetime | None]]
# The claims' length where a worker's event loop stalls: renewed every 2 s, with 2 s to spare for a renewal
# late on a loaded CI machine (with 1 s, one ran late and the busy worker rightly gave an unsent row back).
STALL_LEASE = 6.0


def claims_of(db: Database, holder: str) -> Claims:
    """The rows a sender claimed last: their state, token and expiry."""
    with db.transaction() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.status, Delivery.claim_id, Delivery.claim_expires_at).where(
                Delivery.claimed_by == holder
            )
        )
        return {row_id: (status, claim, expires) for row_id, status, claim, expires in rows}


@contextmanager
def beside_another(
    database_url: str, fake: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS
) -> Iterator[InProcessWorker]:
    """A worker in this process holding the lease, and a `loaban worker` process beside it, both up;
    claims last STALL_LEASE seconds."""
    settings = bulletin_settings(
        database_url,
        fake,
        tmp_path / "media",
        google,
        delivery_lease_seconds=STALL_LEASE,
        delivery_concurrency=4,
    )
    first = InProcessWorker(settings).start()
    other = start_worker(
        database_url, fake, delivery_concurrency="4", delivery_lease_seconds=str(STALL_LEASE)
    )
    try:
        fake.wait_for(lambda: len(fake.calls_to("getMe")) >= 2, timeout=90)
        yield first
        assert other.poll() is None, "the other worker ran all along"
    finally:
        stop([other])
        first.stop()


def stall_at_its_first_send(db: Database, stalled: InProcessWorker, stall: Callable[[], None]) -> Any:
    """A fake Bot API hook running `stall` on a worker's event loop once a message it claimed is sent,
    while its other messages are in flight."""
    fired: list[bool] = []

    def hook(call: Any) -> None:
        sent = call.method == "sendMessage" and call.status == 200
        if sent and not fired and owner(db, call.chat_id) == stalled.holder:
            fired.append(True)
            stalled.loop.call_soon_threadsafe(stall)

    return hook


def test_a_worker_whose_event_loop_is_busy_past_its_claims_keeps_them(
    database_url: str, db: Database, fake: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """Paid broadcast on a loaded machine can keep a worker's event loop busy for seconds: here one
    computes for twice its claims' length right as its first messages are in flight, beside another
    worker. A thread of its own renews its claims and its lease meanwhile, so the other worker takes
    neither its rows nor (on SQLite, where only the lease holder sends) the sending: the rows stay the busy
    worker's, under the same tokens, it records them once its loop is free, and each person gets the
    bulletin once."""
    chats = people(db, 30)
    snapshots: list[Claims] = []
    with beside_another(database_url, fake, tmp_path, google) as busy:

        def compute_past_its_claims() -> None:  # on the busy worker's event loop: nothing else runs there
            before = claims_of(db, busy.holder)
            end = time.monotonic() + 2 * STALL_LEASE
            while time.monotonic() < end:
                pass
            snapshots.extend([before, claims_of(db, busy.holder)])

        fake.on_call = stall_at_its_first_send(db, busy, compute_past_its_claims)
        progress = wait_done(db, text_bulletin(db), timeout=120)
    received = Counter(c.chat_id for c in fake.sent(method="sendMessage"))
    assert received == Counter(chats), "each person got the bulletin once"
    assert progress.sent == 30 and progress.retaken == 0, "nothing was taken back"
    before, after = snapshots
    in_flight = {
        i: (claim, expires)
        for i, (status, claim, expires) in before.items()
        if status == DeliveryStatus.sending and expires is not None
    }
    assert in_flight, "the busy worker had messages in flight"
    assert set(in_flight) <= set(after), "they were still its own once its loop was free"
    renewed = [
        i
        for i, (claim, expires) in in_flight.items()
        if after[i][:2] == (DeliveryStatus.sending, claim) and (after[i][2] or expires) > expires
    ]
    assert renewed, "their claims were renewed while the loop was busy"
    final = claims_of(db, busy.holder)
    assert all(final[i][0] == DeliveryStatus.sent for i in in_flight), "and it recorded them"


def test_a_worker_whose_event_loop_hangs_for_good_lets_its_rows_go(
    database_url: str,
    db: Database,
    fake: FakeBotAPI,
    tmp_path: Path,
    google: FakeGoogleTTS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loop that never answers again (a bug, a deadlock) must not hold its rows for ever: once it has
    been silent for HUNG_AFTER, its worker renews nothing, as if dead, and the other worker takes the
    rows (and on SQLite the lease) over, and sends them: the bulletin ends while the loop is still
    hung."""
    monkeypatch.setattr(worker, "HUNG_AFTER", 2 * STALL_LEASE)
    chats = people(db, 30)
    woken = threading.Event()
    snapshots: list[Claims] = []
    with beside_another(database_url, fake, tmp_path, google) as hung:

        def hang() -> None:  # on the hung worker's event loop, until the test is over
            snapshots.append(claims_of(db, hung.holder))
            woken.wait(timeout=300)

        fake.on_call = stall_at_its_first_send(db, hung, hang)
        try:
            progress = wait_done(db, text_bulletin(db), timeout=150)
        finally:
            woken.set()
    received = [c.chat_id for c in fake.sent(method="sendMessage")]
    assert set(received) == set(chats), "nobody is lost"
    [before] = snapshots
    in_flight = [i for i, (status, _, _) in before.items() if status == DeliveryStatus.sending]
    with db.transaction() as session:
        taken = session.execute(
            select(Delivery.id, Delivery.status, Delivery.claimed_by).where(Delivery.retaken > 0)
        ).all()
    assert {i for i, _, _ in taken} & set(in_flight), "rows the hung worker had in flight were taken"
    assert all(status == DeliveryStatus.sent and by != hung.holder for _, status, by in taken), (
        "by the other worker, which sent them"
    )
    assert progress.sent == 30 and len(received) - len(set(received)) <= progress.retaken == len(taken)


def test_a_killed_workers_rows_are_taken_again_once_its_claims_expire(
    database_url: str, db: Database
) -> None:
    """kill -9 of the worker sending a message, with the lease as deployed: the other worker (which on
    SQLite first waits out the dead one's lease) takes the rows the dead one had in flight only once
    their claims, renewed until the kill and held for the lease's length at most, have expired. Nobody
    is lost, and the only repeats are among those rows."""
    procs: list[subprocess.Popen[bytes]] = []
    killed: list[subprocess.Popen[bytes]] = []

    def kill_its_sender(call: Any) -> None:
        sent = call.method == "sendMessage" and call.status == 200
        if sent and not killed and len(telegram.sent()) >= 10:
            pid = int(owner(db, call.chat_id).rsplit(":", 2)[1])
            killed.extend(proc for proc in procs if proc.pid == pid)
            os.kill(pid, signal.SIGKILL)

    lease = timedelta(seconds=Settings.model_fields["delivery_lease_seconds"].default)
    telegram = FakeBotAPI(own_bot(), latency=0.05, on_call=kill_its_sender).start()
    try:
        chats = people(db, 60)
        procs.extend(start_worker(database_url, telegram, delivery_concurrency="8") for _ in range(2))
        telegram.wait_for(lambda: len(telegram.calls_to("getMe")) >= 2, timeout=90)
        bulletin_id = text_bulletin(db)
        telegram.wait_for(lambda: bool(killed), timeout=90)
        [dead] = killed
        assert dead.wait(timeout=60) == -signal.SIGKILL
        with db.transaction() as session:
            mine = Delivery.claimed_by.startswith(f"{socket.gethostname()}:{dead.pid}:")
            claimed = select(Delivery.id, Delivery.claim_expires_at).where(
                Delivery.status == DeliveryStatus.sending, mine
            )
            in_flight = {i: expires for i, expires in session.execute(claimed) if expires is not None}
            looked = utcnow()
        try:
            progress = wait_done(db, bulletin_id, timeout=120)
        finally:
            stop(procs)
    finally:
        telegram.stop()
    assert in_flight, "the killed worker had messages in flight"
    assert all(expires <= looked + lease for expires in in_flight.values()), "held for the lease at most"
    received = [c.chat_id for c in telegram.sent(method="sendMessage")]
    assert set(received) == set(chats), "nobody is lost"
    assert progress.sent == 60 and len(received) - len(set(received)) <= progress.retaken <= len(in_flight)
    with db.transaction() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.status, Delivery.retaken, Delivery.sent_at).where(
                Delivery.id.in_(in_flight)
            )
        )
        for row_id, status, retaken, sent_at in rows:
            assert status == DeliveryStatus.sent and retaken == 1
            assert sent_at is not None and sent_at > in_flight[row_id], (
                "sent again only after the dead worker's claim expired"
            )


def wait_connected(db: Database, *names: str) -> None:
    """Wait until a process has connected to the database under each application name."""
    connected = text(
        "SELECT count(DISTINCT application_name) FROM pg_stat_activity WHERE application_name IN :names"
    )
    connected = connected.bindparams(bindparam("names", expanding=True))
    deadline = time.monotonic() + 60
    while True:
        with db.transaction() as session:
            if session.scalar(connected, {"names": list(names)}) == len(names):
                return
        assert time.monotonic() < deadline, f"{names} did not connect"
        time.sleep(0.1)


def sent_by(db: Database, pid: int, since: datetime | None = None) -> list[int]:
    """The rows a sender process sent (since a moment)."""
    with db.transaction() as session:
        mine = (
            Delivery.claimed_by.startswith(f"{socket.gethostname()}:{pid}:"),
            Delivery.status == DeliveryStatus.sent,
        )
        after = () if since is None else (Delivery.sent_at > since,)
        return list(session.scalars(select(Delivery.id).where(*mine, *after)))


@pytest.mark.parametrize("shared_in", ["postgresql", "redis"])
def test_three_senders_keep_to_the_platform_rate_together(
    postgresql: str, db: Database, shared_in: str
) -> None:
    """Each of three senders alone would go at 29/s, together 87/s against Telegram's 30/s: sharing the
    rate, the fake refuses nothing."""
    for fake in bot_api(own_bot()):
        keep_to_the_rate(postgresql, db, fake, shared_in)


def keep_to_the_rate(postgresql: str, db: Database, fake: FakeBotAPI, shared_in: str) -> None:
    """150 people, three `loaban worker`s sharing the rate in PostgreSQL or Redis. The workers are up
    before the bulletin is sent, as in a deployment: 150 messages take 5 s, and a worker still starting on a
    busy machine would find nothing left to share."""
    chats = people(db, 150)
    env = {"redis_url": REDIS_URL} if shared_in == "redis" else {}
    workers = [start_worker(postgresql, fake, **env) for _ in range(3)]
    try:
        fake.wait_for(lambda: len(fake.calls_to("getMe")) >= 3, timeout=90)
        bulletin_id = text_bulletin(db)
        wait_done(db, bulletin_id, timeout=120)
    finally:
        stop(workers)
    assert fake.too_many() == 0
    assert Counter(c.chat_id for c in fake.sent(method="sendMessage")) == Counter(chats)
    assert len(senders_of(db, bulletin_id)) == 3


def test_an_urgent_warning_goes_by_paid_broadcast_when_allowed(
    database_url: str, db: Database, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """With paid broadcast on, an urgent bulletin's messages carry allow_paid_broadcast and go at the paid
    rate, which the fake allows at 1,000/s while it holds unpaid messages to 5/s here; an ordinary
    bulletin's do not, and keep to the unpaid rate."""
    for fake in bot_api(global_rate=5):
        settings = bulletin_settings(
            database_url,
            fake,
            tmp_path / "media",
            google,
            telegram_paid_broadcast=True,
            telegram_max_messages_per_second=4.5,
        )
        chats = people(db, 20)
        server = LiveServer(bot.server.create_app(settings)).start()
        try:
            urgent = text_bulletin(db, urgent=True)
            wait_done(db, urgent, timeout=60)
            paid = fake.sent(method="sendMessage")
            ordinary = text_bulletin(db)
            wait_done(db, ordinary, timeout=60)
        finally:
            server.stop()
        assert sorted(c.chat_id for c in paid) == sorted(chats)
        assert all(c.paid for c in paid)
        assert fake.too_many() == 0, "20 messages at the paid rate, while the unpaid one is 5/s"
        later = fake.sent(method="sendMessage")[len(paid) :]
        assert len(later) == 20 and not any(c.paid for c in later)


def test_while_redis_is_unreachable_each_process_paces_itself_and_the_bulletin_goes_out(
    database_url: str, db: Database, fake: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings = bulletin_settings(database_url, fake, tmp_path / "media", google, redis_url=closed)
    chats = people(db, 10)
    server = LiveServer(bot.server.create_app(settings)).start()
    try:
        progress = wait_done(db, text_bulletin(db), timeout=60)
    finally:
        server.stop()
    assert progress.sent == 10 and fake.too_many() == 0
    assert Counter(c.chat_id for c in fake.sent(method="sendMessage")) == Counter(chats)
