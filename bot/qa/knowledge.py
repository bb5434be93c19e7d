"""The process's Q&A index over the database's published entries, kept up to date by a thread of its own
and swapped in whole when ready, so a person's question never waits for (or inside) a build."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.db import Database, local_today
from bot.qa import service
from bot.qa.engine import CachedEmbedder, Embedder, Engine, Entry, Place, passages
from bot.qa.models import QAEntry

log = logging.getLogger(__name__)
EMBED_BATCH = 64  # passages embedded between two looks at whether the process is shutting down
# One build embeds at a time in a process: load_embedder's model and cache are shared by every Knowledge.
_EMBEDDING = threading.Lock()
_EDITED = "loaban_qa_edited"  # in session.info: this transaction wrote an entry


@dataclass(frozen=True)
class _Index:
    """An engine (None: nothing to answer with) and the signature of the entries it was built from."""

    engine: Engine | None
    signature: tuple[date, int, str]


class _Stopping(Exception):
    """The process is shutting down in the middle of a build."""


class Knowledge:
    """Answers questions with the index that is ready. A thread rebuilds it when `warm` asks, when an edit
    made through this process's Database commits, and when its poll of `service.signature` sees another
    process's edit or a new local day; meanwhile the previous index keeps answering.

    Before the very first build is ready, `ask` answers with an empty Found instead of waiting: it runs
    inside the person's transaction, which on SQLite holds the process-wide lock the build's own read
    transaction needs, so waiting there could only deadlock. The server warms before it serves, so only a
    failed first build (retried at each poll) leaves people without answers for a while."""

    def __init__(
        self, db: Database, timezone: str, *, embedder: Embedder | None = None, poll_seconds: float = 2.0
    ) -> None:
        self.db = db
        self.timezone = timezone
        self.poll_seconds = poll_seconds
        self.builds = 0  # indexes this process built, the first included (tests and benches read it)
        self._embedder = embedder
        self._index: _Index | None = None  # replaced whole, never changed in place
        self._wake = threading.Condition()
        self._asked = 0  # passes asked for (warm, a committed edit) ...
        self._done = 0  # ... and the last of them a finished pass has covered
        self._stopping = False
        self._thread: threading.Thread | None = None

    def warm(self) -> None:
        """Bring the index up to date with the database and wait for it (starting the thread the first
        time): the server does so before it serves, and a test after editing beside a server."""
        with self._wake:
            if self._thread is None and not self._stopping:
                self._start()
        wanted = self._request()
        with self._wake:
            self._wake.wait_for(lambda: self._done >= wanted or self._stopping)

    def stop(self) -> None:
        """Stop the thread at shutdown; a build under way gives up at its next batch of passages, keeping
        the vectors it computed."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
            event.remove(self.db.sessions, "after_flush", self._noticed)
            event.remove(self.db.sessions, "after_commit", self._committed)

    def prepare(self, text: str) -> None:
        """Embed a question before its transaction opens (the index keeps the vector for `ask`): on SQLite
        the transaction holds the process's only write lock, and e5 takes tens of milliseconds."""
        index = self._index
        if index is not None and index.engine is not None:
            index.engine.query_vector(text[:1000])

    def ask(self, session: Session, text: str, place: Place | None) -> Found:
        """The entry to answer with (None when unsure) and the closest others, from the index that is ready
        and the entries that hold for the person's place and are still answerable today."""
        index = self._index
        if index is None or index.engine is None:
            return Found(None, [], covered=False)
        verdict = index.engine.ask(text, place)
        hits = [h for h in (verdict.best, *verdict.hits) if h is not None]
        today = local_today(self.timezone)
        stored = {e.id: e for e in service.published_today(session, today, [h.id for h in hits])}
        best = stored.get(verdict.best.id) if verdict.best is not None else None
        return Found(best, [stored[h.id] for h in verdict.hits if h.id in stored], verdict.covered)

    def _start(self) -> None:
        """Listen for this process's edits and start the thread."""
        event.listen(self.db.sessions, "after_flush", self._noticed)
        event.listen(self.db.sessions, "after_commit", self._committed)
        self._thread = threading.Thread(target=self._watch, name="qa-index", daemon=True)
        self._thread.start()

    def _request(self) -> int:
        """Ask the thread for a pass; returns its number."""
        with self._wake:
            self._asked += 1
            self._wake.notify_all()
            return self._asked

    def _noticed(self, session: Session, _flush: Any) -> None:
        """Mark a transaction that wrote an entry (served and rating counts are bulk UPDATEs, unseen here)."""
        if any(isinstance(o, QAEntry) for o in chain(session.new, session.dirty, session.deleted)):
            session.info[_EDITED] = True

    def _committed(self, session: Session) -> None:
        """An edit made through this process reaches the index at its commit, not at the next poll. Runs
        inside Database.transaction (on SQLite, under its lock): it only wakes the thread."""
        if session.info.get(_EDITED):
            self._request()

    def _watch(self) -> None:
        """One pass when asked, or every poll_seconds, until stopped."""
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: self._stopping or self._asked > self._done, timeout=self.poll_seconds
                )
                if self._stopping:
                    return
                covering = self._asked
            try:
                self._refresh()
            except _Stopping:
                return
            except Exception:
                log.exception("Q&A index not rebuilt; the previous one keeps answering")
            with self._wake:
                self._done = covering
                self._wake.notify_all()

    def _refresh(self) -> None:
        """Rebuild when the signature moved. The entries (and their kept vectors) are read in a short
        transaction of the thread's own, the new passages embedded with none open, the engine swapped in,
        then the new vectors kept in another transaction: the thread never holds a transaction (SQLite's
        process-wide lock) while it embeds, and never waits for anything while it holds one."""
        today = local_today(self.timezone)
        with self.db.transaction() as session:
            signature = service.signature(session, today)
            if self._index is not None and self._index.signature == signature:
                return
            entries = service.as_engine_entries(service.published_today(session, today))
            stored = self._stored_vectors(session, entries)
        started = time.perf_counter()
        try:
            with _EMBEDDING:
                engine = self._build(entries, stored) if entries else None
            self._index = _Index(engine, signature)
            self.builds += 1
            log.info(
                "Q&A index built (%d in this process): %d entries in %.1f s",
                self.builds,
                len(entries),
                time.perf_counter() - started,
            )
        finally:
            self._keep_vectors()

    def _stored_vectors(self, session: Session, entries: list[Entry]) -> dict[str, np.ndarray]:
        """Vectors another process (or an earlier run) kept for passages this one has not embedded, so a
        restart of a 3,000-entry knowledge base takes seconds, not minutes."""
        embedder = self._embedder
        if not isinstance(embedder, CachedEmbedder) or not entries:
            return {}
        phrasings, situations = passages(entries)
        missing = embedder.missing(phrasings + situations)
        return service.load_vectors(session, embedder.model, missing) if missing else {}

    def _build(self, entries: list[Entry], stored: dict[str, np.ndarray]) -> Engine:
        """An engine over the entries, embedding only the passages no process embedded before, in batches
        so that a shutdown does not wait minutes for a cold build."""
        embedder = self._embedder
        if isinstance(embedder, CachedEmbedder):
            embedder.remember(stored)
            phrasings, situations = passages(entries)
            missing = embedder.missing(phrasings + situations)
            for start in range(0, len(missing), EMBED_BATCH):
                if self._stopping:
                    raise _Stopping
                embedder.passage(missing[start : start + EMBED_BATCH])
        return Engine(entries, embedder=embedder)

    def _keep_vectors(self) -> None:
        """Keep the vectors computed since the last call, for restarts and the other processes."""
        embedder = self._embedder
        if not isinstance(embedder, CachedEmbedder):
            return
        with _EMBEDDING:
            fresh = embedder.take_fresh()
        if fresh:
            with self.db.transaction() as session:
                service.save_vectors(session, embedder.model, fresh)
            log.info("kept %d new passage vectors", len(fresh))


@dataclass(frozen=True)
class Found:
    """The engine's verdict as stored entries."""

    best: QAEntry | None
    closest: list[QAEntry]
    covered: bool
