"""The Q&A index's life: rebuilt only when the answerable entries (or the local day) change, in a thread of
its own and never inside a person's transaction; every process sees another's edit within seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from sqlalchemy import func, select, text

from bot.db import Database
from bot.qa import service as qa
from bot.qa.models import PassageVector


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Poll until the condition holds; fail only past a generous deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


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
