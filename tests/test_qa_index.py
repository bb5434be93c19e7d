"""The Q&A index's life: rebuilt only when the answerable entries (or the local day) change, in a thread of
its own and never inside a person's transaction; every process sees another's edit within seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, text

from bot.db import Database, local_today
from bot.qa import service as qa
from bot.qa.engine import CachedEmbedder
from bot.qa.knowledge import EMBED_BATCH, Knowledge
from bot.qa.models import PassageVector, QAEntry

TZ = "Asia/Ho_Chi_Minh"
ROWS: list[dict[str, Any]] = [
    {
        "id": "vay-von",
        "question": "Hộ nghèo được vay vốn ưu đãi như thế nào?",
        "answer": "Hộ nghèo được vay vốn tại Ngân hàng Chính sách xã hội qua tổ tiết kiệm ở thôn.",
        "tags": ["vay vốn"],
    },
    {
        "id": "bhyt",
        "question": "Người dân tộc thiểu số có được cấp thẻ bảo hiểm y tế miễn phí không?",
        "answer": "Người dân tộc thiểu số ở vùng đặc biệt khó khăn được Nhà nước cấp thẻ bảo hiểm y tế.",
        "tags": ["y tế"],
    },
]
NEW = {
    "id": "nuoc-sach",
    "question": "Gia đình thiếu nước sinh hoạt được hỗ trợ téc chứa nước không?",
    "answer": "Hộ thiếu nước sinh hoạt được hỗ trợ mua téc, bồn chứa nước; liên hệ trưởng thôn để đăng ký.",
    "tags": ["nước sạch"],
}


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Poll until the condition holds; fail only past a generous deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


def add(db: Database, rows: list[dict[str, Any]]) -> None:
    """Import published entries in one transaction."""
    with db.transaction() as session:
        assert not qa.import_rows(session, [{**r, "status": "published"} for r in rows]).errors


def answer(knowledge: Knowledge, db: Database, question: str) -> str | None:
    """The entry a person asking now is answered with, in a transaction of their own."""
    with db.transaction() as session:
        best = knowledge.ask(session, question, None).best
        return None if best is None else best.id


def offered(knowledge: Knowledge, db: Database, question: str) -> set[str]:
    """Every entry the index answers or offers for a question."""
    with db.transaction() as session:
        found = knowledge.ask(session, question, None)
        return {e.id for e in found.closest} | ({found.best.id} if found.best else set())


def indexers() -> int:
    """How many index threads run in this process."""
    return sum(t.name == "qa-index" for t in threading.enumerate())


class Gate:
    """An embedder stub: every text the same unit vector, passages holding `slow` blocked until the gate
    opens; it records each passage call's thread and whether a transaction could be opened from there
    (not when the caller holds this process's SQLite lock; PostgreSQL has none)."""

    def __init__(self, db: Database, slow: str | None = None) -> None:
        self.db, self.slow = db, slow
        self.entered, self.opened = threading.Event(), threading.Event()
        self.calls: list[tuple[str, bool, list[str]]] = []
        self.queries: list[tuple[str, bool]] = []

    def query(self, texts: str) -> np.ndarray:
        self.queries.append((texts, self._lock_free()))
        return np.ones(4) / 2

    def _lock_free(self) -> bool:
        """Whether a transaction could be opened from here (this process's SQLite lock is not held)."""
        lock = self.db._lock
        if isinstance(lock, type(threading.Lock())) and lock.acquire(blocking=False):
            lock.release()
            return True
        return not isinstance(lock, type(threading.Lock()))

    def passage(self, texts: list[str]) -> np.ndarray:
        lock = self.db._lock
        free = True
        if isinstance(lock, type(threading.Lock())):
            free = lock.acquire(timeout=5)
            if free:
                lock.release()
        self.calls.append((threading.current_thread().name, free, list(texts)))
        if self.slow is not None and any(self.slow in t for t in texts):
            self.entered.set()
            assert self.opened.wait(30), "the test never opened the gate"
        return np.tile(np.ones(4) / 2, (len(texts), 1))


@pytest.fixture
def knowledge(db: Database) -> Iterator[Knowledge]:
    """A lexical index over ROWS, polling often."""
    add(db, ROWS)
    index = Knowledge(db, TZ, poll_seconds=0.05)
    index.warm()
    yield index
    index.stop()


def test_serving_and_rating_an_entry_50_times_rebuilds_nothing(db: Database, knowledge: Knowledge) -> None:
    assert answer(knowledge, db, "Hộ nghèo được vay vốn ưu đãi như thế nào?") == "vay-von"
    builds = knowledge.builds
    for i in range(50):
        with db.transaction() as session:
            entry = qa.get(session, entry_id="vay-von")
            assert entry is not None
            qa.count_served(session, entry.id)
            qa.count_rating(session, entry.id, helpful=i % 2 == 0)
    knowledge.warm()  # a pass that looked at the database after the last rating
    assert knowledge.builds == builds
    with db.transaction() as session:
        entry = qa.get(session, entry_id="vay-von")
        assert entry is not None
        assert (entry.served_count, entry.helpful_count, entry.unhelpful_count) == (50, 25, 25)


def test_only_answerable_entries_move_the_index(db: Database, knowledge: Knowledge) -> None:
    builds = knowledge.builds
    with db.transaction() as session:
        qa.import_rows(session, [{**NEW, "status": "draft"}])
    knowledge.warm()
    assert knowledge.builds == builds, "a draft is not answered with: editing it rebuilds nothing"
    add(db, [NEW])
    knowledge.warm()
    assert knowledge.builds == builds + 1
    assert answer(knowledge, db, NEW["question"]) == "nuoc-sach"


def test_20_ratings_at_once_each_in_its_own_transaction_lose_no_count(db: Database) -> None:
    add(db, ROWS)
    with db.transaction() as session:
        before = qa.signature(session, local_today(TZ))
    start, errors = threading.Barrier(20), []

    def rate() -> None:
        start.wait()
        try:
            with db.transaction() as session:
                qa.count_rating(session, "vay-von", helpful=True)
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=rate) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.transaction() as session:
        assert session.scalar(select(QAEntry.helpful_count).where(QAEntry.id == "vay-von")) == 20
        assert qa.signature(session, local_today(TZ)) == before


def test_an_edit_made_by_another_process_is_answered_within_seconds(database_url: str) -> None:
    first_db, second_db = Database(database_url), Database(database_url)
    add(first_db, ROWS)
    first = Knowledge(first_db, TZ, poll_seconds=0.2)
    second = Knowledge(second_db, TZ, poll_seconds=3600)  # only its own commit can wake it in time
    try:
        first.warm()
        second.warm()
        assert answer(first, first_db, NEW["question"]) is None
        add(second_db, [NEW])
        wait_until(lambda: answer(second, second_db, NEW["question"]) == "nuoc-sach")
        wait_until(lambda: answer(first, first_db, NEW["question"]) == "nuoc-sach")
        with second_db.transaction() as session:
            entry = qa.get(session, entry_id="bhyt")
            assert entry is not None
            qa.delete(session, entry=entry)
        wait_until(lambda: "bhyt" not in offered(first, first_db, ROWS[1]["question"]))
        wait_until(lambda: "bhyt" not in offered(second, second_db, ROWS[1]["question"]))
    finally:
        first.stop()
        second.stop()
        first_db.dispose()
        second_db.dispose()


def test_while_a_rebuild_runs_the_previous_index_answers(db: Database) -> None:
    gate = Gate(db, slow=NEW["question"])
    add(db, ROWS)
    knowledge = Knowledge(db, TZ, embedder=gate, poll_seconds=0.05)
    try:
        knowledge.warm()
        builds = knowledge.builds
        add(db, [NEW])
        assert gate.entered.wait(15), "the rebuild did not start"
        assert answer(knowledge, db, ROWS[0]["question"]) == "vay-von"
        assert "nuoc-sach" not in offered(knowledge, db, NEW["question"])
        assert knowledge.builds == builds
    finally:
        gate.opened.set()
    wait_until(lambda: knowledge.builds == builds + 1)
    assert answer(knowledge, db, NEW["question"]) == "nuoc-sach"
    knowledge.stop()


def test_no_passage_is_embedded_inside_a_transaction(database_url: str) -> None:
    db, other = Database(database_url), Database(database_url)
    gate = Gate(db)
    add(db, ROWS)
    knowledge = Knowledge(db, TZ, embedder=gate, poll_seconds=0.05)
    try:
        knowledge.warm()
        add(other, [NEW])  # another process's edit, then people asking at once
        for _ in range(20):
            answer(knowledge, db, NEW["question"])
        wait_until(lambda: answer(knowledge, db, NEW["question"]) == "nuoc-sach")
    finally:
        knowledge.stop()
        db.dispose()
        other.dispose()
    assert any(NEW["question"] in texts for _, _, texts in gate.calls), "the edit was embedded"
    assert {(thread, free) for thread, free, _ in gate.calls} == {("qa-index", True)}


def test_before_the_first_index_is_ready_a_question_is_answered_at_once_without_it(db: Database) -> None:
    gate = Gate(db, slow=ROWS[0]["question"])
    add(db, ROWS)
    knowledge = Knowledge(db, TZ, embedder=gate)
    warming = threading.Thread(target=knowledge.warm)
    warming.start()
    try:
        assert gate.entered.wait(15)
        with db.transaction() as session:  # would deadlock on SQLite if ask waited for the build
            found = knowledge.ask(session, ROWS[0]["question"], None)
        assert (found.best, found.closest, found.covered) == (None, [], False)
    finally:
        gate.opened.set()
        warming.join()
    assert answer(knowledge, db, ROWS[0]["question"]) == "vay-von"
    knowledge.stop()


def test_a_new_local_day_rebuilds_and_an_entry_valid_to_yesterday_is_not_served(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = local_today(TZ)
    days = [today]
    monkeypatch.setattr("bot.qa.knowledge.local_today", lambda _zone: days[0])
    add(db, [*ROWS, {**NEW, "valid_to": today.isoformat()}])
    knowledge = Knowledge(db, TZ, poll_seconds=0.05)
    try:
        knowledge.warm()
        assert answer(knowledge, db, NEW["question"]) == "nuoc-sach"
        builds = knowledge.builds
        days[0] = today + timedelta(days=1)
        wait_until(lambda: knowledge.builds == builds + 1)
        assert "nuoc-sach" not in offered(knowledge, db, NEW["question"])
        assert answer(knowledge, db, ROWS[0]["question"]) == "vay-von"
    finally:
        knowledge.stop()


def test_the_menu_and_topics_count_the_deployment_s_day(db: Database) -> None:
    today = date(2026, 3, 1)
    add(db, [{**NEW, "valid_from": today.isoformat()}])
    with db.transaction() as session:
        assert not qa.any_published_today(session, today - timedelta(days=1))
        assert qa.any_published_today(session, today)
        assert [e.id for e in qa.published_today(session, today)] == ["nuoc-sach"]


def test_stopping_during_a_cold_build_keeps_what_it_embedded(db: Database) -> None:
    rows = [
        {"id": f"muc-{i}", "question": f"Câu hỏi số {i} về chính sách?", "answer": f"Trả lời {i}."}
        for i in range(EMBED_BATCH)
    ]  # two passages each: two batches to embed
    add(db, rows)
    gate = Gate(db, slow="Câu hỏi số 0 ")
    knowledge = Knowledge(db, TZ, embedder=CachedEmbedder(gate, model="stub"))
    threads = indexers()
    warming = threading.Thread(target=knowledge.warm)
    warming.start()
    assert gate.entered.wait(15)
    stopping = threading.Thread(target=knowledge.stop)
    stopping.start()
    gate.opened.set()
    stopping.join()
    warming.join()
    assert knowledge.builds == 0
    assert sum(len(texts) for _, _, texts in gate.calls) == EMBED_BATCH, "no second batch"
    assert indexers() == threads, "the index's thread has ended"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PassageVector)) == EMBED_BATCH


def test_two_processes_keeping_the_same_vectors_at_once_both_succeed(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    vectors = {f"đoạn {i}": np.full(4, i, dtype=np.float32) for i in range(10)}
    waiting: list[int] = []
    errors: list[Exception] = []

    def keep_too() -> None:
        try:
            with second.transaction() as session:
                if second.engine.dialect.name == "postgresql":
                    waiting.append(int(session.scalar(text("SELECT pg_backend_pid()")) or 0))
                qa.save_vectors(session, "m", vectors)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    try:
        with first.transaction() as session:
            qa.save_vectors(session, "m", vectors)
            other = threading.Thread(target=keep_too)
            other.start()
            if first.engine.dialect.name == "postgresql":  # commit only once the other insert waits on us

                def blocked() -> bool:
                    me = "SELECT pg_backend_pid() = ANY(pg_blocking_pids(:pid))"
                    return bool(waiting) and bool(session.scalar(text(me), {"pid": waiting[0]}))

                wait_until(blocked)
        other.join()
        assert errors == []
        with first.transaction() as session:
            assert session.scalar(select(func.count()).select_from(PassageVector)) == 10
            kept = qa.load_vectors(session, "m", list(vectors))
        assert all(np.array_equal(kept[t], v) for t, v in vectors.items())
    finally:
        first.dispose()
        second.dispose()


def test_a_question_is_embedded_before_its_transaction_opens(db: Database) -> None:
    """The server prepares a typed text before the person's transaction (Conversation.prepare): inside
    it, the question's vector is already there, so e5 never holds SQLite's write lock."""
    gate = Gate(db)
    add(db, ROWS)
    knowledge = Knowledge(db, TZ, embedder=gate)
    try:
        knowledge.warm()
        knowledge.prepare(ROWS[0]["question"])
        with db.transaction() as session:
            knowledge.ask(session, ROWS[0]["question"], None)
    finally:
        knowledge.stop()
    assert [free for text, free in gate.queries] == [True], "embedded once, outside the transaction"
