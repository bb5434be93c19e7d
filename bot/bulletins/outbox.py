"""Builds a sent bulletin's outbox in the background, one batch of people per transaction: the official's
"send" only marks the bulletin as being prepared, and half a million rows are queued here without the
request waiting or a transaction holding them all. The bulletin keeps how far it has come (a person id),
so a crash between batches resumes there, and a batch done twice adds nobody twice (the outbox's unique
recipient). Rows leave as soon as they are queued; the bulletin is done only once the build is over."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinStatus
from bot.config import Settings
from bot.db import Database
from bot.messages import service as messages
from bot.people.models import Person
from bot.people.windows import ReplyWindow, reply_windows

log = logging.getLogger(__name__)
BATCH = 5000  # people per transaction: a few hundred milliseconds on PostgreSQL, never one long lock
IDLE_SECONDS = 0.5  # how often an idle builder looks for a bulletin just sent


def build_batch(
    session: Session, windows: Mapping[str, ReplyWindow], batch: int = BATCH, bulletin_id: int | None = None
) -> Bulletin | None:
    """Queue the next `batch` people of a bulletin being prepared (urgent ones first; another builder's
    bulletin is skipped, not waited for) and move its cursor past them; the bulletin is prepared once no
    one is left. Returns the bulletin, None when none is being prepared (or another builder holds it)."""
    stmt = select(Bulletin).where(Bulletin.preparing.is_(True), Bulletin.status != BulletinStatus.cancelled)
    if bulletin_id is not None:
        stmt = stmt.where(Bulletin.id == bulletin_id)
    stmt = stmt.order_by(Bulletin.urgent.desc(), Bulletin.id).limit(1).with_for_update(skip_locked=True)
    bulletin = session.scalars(stmt).first()
    if bulletin is None:
        return None
    audience = bulletins.Audience.from_json(bulletin.audience)
    people = (
        select(Person.id)
        .where(bulletins.in_audience(audience), Person.id > bulletin.outbox_cursor)
        .order_by(Person.id)
        .limit(batch)
        .subquery()
    )
    last = session.scalar(select(func.max(people.c.id)))
    if last is None:
        bulletin.preparing = False
        log.info("bulletin %s: outbox built", bulletin.id)
        return bulletin
    bulletins.queue(session, bulletin, windows, (bulletin.outbox_cursor + 1, last))
    bulletin.outbox_cursor = last
    return bulletin


def build(db: Database, windows: Mapping[str, ReplyWindow], bulletin_id: int, batch: int = BATCH) -> None:
    """Build one bulletin's outbox here, batch after batch (`loaban bulletin send`, tests), until it is
    built or a running builder holds it (which then carries on)."""
    while True:
        with db.transaction() as session:
            bulletin = build_batch(session, windows, batch, bulletin_id)
            if bulletin is None or not bulletin.preparing:
                return


class Builder:
    """The loop that builds outboxes and folds the counts triggers append to (progress, messages per day);
    runs beside the sender in `serve` and `loaban worker` (any number of them: a batch is one transaction
    on the bulletin's locked row, and a fold deletes each change it counts)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.windows = db, reply_windows(settings)
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Build while there is something to build; otherwise look again every IDLE_SECONDS."""
        while not self.stopping.is_set():
            try:
                built = await asyncio.to_thread(self._step)
            except Exception:
                log.exception("a bulletin's outbox batch failed; it is tried again")
                built = False
            if not built:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), IDLE_SECONDS)

    def stop(self) -> None:
        """End the loop after the batch under way (it commits or rolls back whole)."""
        self.stopping.set()

    def _step(self) -> bool:
        """One batch in its own transaction, and the progress counts and messages per day brought up to
        date; whether there was a batch."""
        with self.db.transaction() as session:
            built = build_batch(session, self.windows) is not None
            bulletins.fold_counts(session)
            messages.fold_days(session)
            return built
