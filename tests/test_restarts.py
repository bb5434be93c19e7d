"""Several processes against one database: started together they migrate once, and what a crash left
unsent or unhandled is taken by one process only, once."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text, update
from sqlalchemy.engine import make_url

from bot.channels.zalo import ZaloBot
from bot.config import Settings
from bot.conversation import onboarding
from bot.conversation.engine import Context
from bot.db import Database, utcnow
from bot.messages import service as messages
from bot.messages.models import Direction, Message, Status
from bot.migrations import alembic_config, upgrade
from bot.people import service as people
from bot.server import create_app
from tests.conftest import BACKENDS, PG_URL
from tests.drivers import ZaloDriver, wait_handled
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

_chats = itertools.count(7_100_000)


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet: no SQLite file at all, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'loaban.db'}"
        return
    assert PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrate_together(database_url: str, start: Barrier) -> None:
    """One starting server's migration, begun the instant every other one is ready to begin too."""
    start.wait(timeout=60)
    upgrade(database_url)


@pytest.mark.parametrize("behind", ["new", "one migration behind"])
def test_servers_started_at_once_migrate_the_database_once(fresh_url: str, behind: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(fresh_url))
    head = script.get_current_head()
    assert head is not None
    if behind != "new":  # deployed before the latest release: its migration is what the servers race for
        previous = script.get_revision(head).down_revision
        assert isinstance(previous, str)
        upgrade(fresh_url, previous)
    spawn = multiprocessing.get_context("spawn")  # real processes, each with its own interpreter
    start = spawn.Barrier(3)
    starting = [spawn.Process(target=_migrate_together, args=(fresh_url, start)) for _ in range(3)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(timeout=120)
    assert [p.exitcode for p in starting] == [0, 0, 0], "every server starts"
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        assert inspect(engine).has_table("messages")
    finally:
        engine.dispose()


# --- what a crash left behind ------------------------------------------------------------------------------


def start_together(settings: Settings, count: int = 2) -> list[LiveServer]:
    """`count` servers on one database started at the same moment, as in a rolling restart; each has
    finished its start (what it took over from the crash included) when this returns."""
    servers = [LiveServer(create_app(settings)) for _ in range(count)]
    threads = [threading.Thread(target=server.start) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return servers


def unsent(
    db: Database,
    chat_id: int,
    texts: list[str],
    *,
    claimed_until_in: timedelta | None = None,
    held: bool = False,
) -> None:
    """Replies to a Telegram chat committed five minutes ago and never sent: what a crash leaves behind.
    With `claimed_until_in`, a process took them over to resend them, whose claim ends that much from now;
    `held`: the platform held them back for now (marked in the same transaction, so no server running
    beside resends them in between)."""
    urn = f"telegram:{chat_id}"
    with db.transaction() as session:
        person, _ = people.get_or_create_by_urn(session, urn)
        ids = messages.record_outbound_many(
            session, person_id=person.id, urn=urn, items=[("text", t, {}) for t in texts]
        )
        claim = None if claimed_until_in is None else utcnow() + claimed_until_in
        session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(created_at=utcnow() - timedelta(minutes=5), claimed_until=claim)
        )
        if held:
            session.execute(update(Message).where(Message.id.in_(ids)).values(error=""))


def pending_count(db: Database) -> int:
    """Replies still waiting in the outbox."""
    with db.transaction() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    Message.direction == Direction.outbound, Message.status == Status.pending
                )
            )
            or 0
        )


def test_two_servers_restarting_after_a_crash_send_each_unsent_reply_once(
    settings: Settings, fake_telegram: FakeBotAPI, db: Database
) -> None:
    chats = {next(_chats): [f"Trả lời {n} của lần hỏi trước" for n in range(1, 6)] for _ in range(6)}
    for chat_id, texts in chats.items():
        unsent(db, chat_id, texts)
    died = next(_chats)  # a process that began resending these died: its claim ran out
    unsent(db, died, ["Đã nhận câu hỏi của bạn"], claimed_until_in=timedelta(seconds=-1))
    busy = next(_chats)  # a live process is resending these right now: nobody else touches them
    unsent(db, busy, ["Đang gửi ở máy khác"], claimed_until_in=timedelta(minutes=5))

    servers = start_together(settings)
    try:
        fake_telegram.wait_for(lambda: pending_count(db) == 1, timeout=30)
    finally:
        for server in servers:
            server.stop()

    for chat_id, texts in chats.items():
        assert [c.params["text"] for c in fake_telegram.sent(chat_id)] == texts, "each once, in order"
    assert [c.params["text"] for c in fake_telegram.sent(died)] == ["Đã nhận câu hỏi của bạn"]
    assert fake_telegram.sent(busy) == []


def test_replies_left_unsent_while_two_servers_run_are_sent_once_without_a_restart(
    settings: Settings, fake_telegram: FakeBotAPI, db: Database
) -> None:
    """Two servers run; a third process died after committing replies it never sent. Without any restart,
    the servers' periodic look finds them: each reply reaches its chat once, in order, while replies a
    live process is resending, and one a platform held back for now, are left alone."""
    every = settings.model_copy(update={"resend_every_seconds": 0.3, "resend_after_seconds": 60})
    servers = start_together(every)
    try:
        chats = {next(_chats): [f"Trả lời {n} khi máy kia dừng" for n in range(1, 4)] for _ in range(4)}
        for chat_id, texts in chats.items():
            unsent(db, chat_id, texts)
        busy = next(_chats)
        unsent(db, busy, ["Đang gửi ở máy khác"], claimed_until_in=timedelta(minutes=5))
        held = next(_chats)
        unsent(db, held, ["Chờ người dân nhắn lại"], held=True)
        fake_telegram.wait_for(lambda: pending_count(db) == 2, timeout=30)
        time.sleep(1)  # a few more looks: nothing is sent twice
    finally:
        for server in servers:
            server.stop()

    for chat_id, texts in chats.items():
        assert [c.params["text"] for c in fake_telegram.sent(chat_id)] == texts, "each once, in order"
    assert fake_telegram.sent(busy) == [] and fake_telegram.sent(held) == []


def test_a_zalo_event_whose_handling_failed_is_handled_later_without_a_restart(
    settings: Settings, fake_zalo: FakeZalo, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ZaloBot, "retry_every", 0.1)
    monkeypatch.setattr(ZaloBot, "retry_after", timedelta(0))
    failures = []
    ask_language = onboarding.ask_language

    def fails_once(ctx: Context) -> None:
        if not failures:
            failures.append(ctx.inbound.external_id)
            raise RuntimeError("database connection lost")
        ask_language(ctx)

    monkeypatch.setattr(onboarding, "ask_language", fails_once)
    servers = start_together(settings)  # both look for failed events to take up again
    try:
        with httpx.Client(base_url=servers[0].url, timeout=20) as client:
            person = ZaloDriver(client, fake_zalo, db, str(next(_chats)))
            event = fake_zalo.event("user_send_text", person.user_id, {"text": "Xin chào"})
            assert person.post(event).status_code == 200
            wait_handled(db, "zalo", str(event["message"]["msg_id"]), person.urn)
            fake_zalo.wait_until(lambda: bool(fake_zalo.to(person.user_id)))
            assert failures == [event["message"]["msg_id"]], "the first attempt failed"
            assert servers[0].thread.is_alive() and servers[1].thread.is_alive(), "nobody restarted"
    finally:
        for server in servers:
            server.stop()
    replies = fake_zalo.to(person.user_id)
    assert len(replies) == 1 and "Tiếng Việt" in replies[0].text + str(replies[0].buttons), "answered once"
