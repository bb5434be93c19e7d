"""The process's Q&A engine over the database's published entries, rebuilt when the entries change."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.db import Database
from bot.qa import service
from bot.qa.engine import CachedEmbedder, Embedder, Engine, Entry, Hit, Place, load_embedder, passages
from bot.qa.models import QAEntry


class Knowledge:
    """Answers questions from the published entries; any process sees an admin's edit on its next question."""

    def __init__(self, *, semantic: bool = True) -> None:
        self._embedder: Embedder | None = load_embedder() if semantic else None
        self._engine: Engine | None = None
        self._signature: tuple[int, str] | None = None
        self._lock = threading.Lock()

    def engine(self, session: Session) -> Engine | None:
        """The engine for the entries as they are now (None while there are none)."""
        current = service.signature(session)
        with self._lock:
            if current != self._signature:
                entries = service.as_engine_entries(service.published_today(session))
                self._engine = self._build(session, entries) if entries else None
                self._signature = current
            return self._engine

    def _build(self, session: Session, entries: list[Entry]) -> Engine:
        """An engine over the entries, embedding only texts no process embedded before (the vectors are
        kept in the database, so a restart of a 3,000-entry knowledge base takes seconds, not minutes)."""
        embedder = self._embedder
        if not isinstance(embedder, CachedEmbedder):
            return Engine(entries, embedder=embedder)
        phrasings, situations = passages(entries)
        missing = embedder.missing(phrasings + situations)
        if missing:
            embedder.remember(service.load_vectors(session, embedder.model, missing))
        engine = Engine(entries, embedder=embedder)
        service.save_vectors(session, embedder.model, embedder.take_fresh())
        return engine

    def warm(self, db: Database) -> None:
        """Build the index before serving, so the first question does not wait for it."""
        with db.transaction() as session:
            self.engine(session)

    def ask(self, session: Session, text: str, place: Place | None) -> Found:
        """The entry to answer with (None when unsure) and the closest others, as stored entries, from
        the entries that hold for the person's place."""
        engine = self.engine(session)
        if engine is None:
            return Found(None, [], covered=False)
        verdict = engine.ask(text, place)
        closest = [e for h in verdict.hits if (e := _load(session, h)) is not None]
        return Found(_load(session, verdict.best), closest, verdict.covered)


@dataclass(frozen=True)
class Found:
    """The engine's verdict as stored entries."""

    best: QAEntry | None
    closest: list[QAEntry]
    covered: bool


def _load(session: Session, hit: Hit | None) -> QAEntry | None:
    """The stored entry behind a hit."""
    return None if hit is None else service.get(session, hit.id)
