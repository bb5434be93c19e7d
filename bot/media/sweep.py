"""Remove files of the media store that no row names: a file is written before its row (see
media.upload), so a transaction that failed afterwards, or a file a person sent that no step kept, leaves
a stray copy. Once a day the sender's lease holder queues a job that deletes those a day old or more."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database, utcnow
from bot.i18n import mark
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.jobs.models import Job
from bot.media import store
from bot.media.models import Media
from bot.media.store import MediaStore

log = logging.getLogger(__name__)
SWEEP_JOB = "media-sweep"
STRAY_AFTER = timedelta(days=1)  # far longer than any file waits for its row
CONTENT = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]+$")  # files kept by content, see relative_path
BATCH = 500


def sweep(db: Database, files: MediaStore, now: datetime) -> int:
    """Delete the content files written before `now` less a day that no row names, each look-up in a
    short transaction and every delete outside one; returns how many. Parked files (incoming/) and data
    copies (exports/) have owners of their own and are left alone."""
    old = (key for key, written in files.listing() if CONTENT.match(key) and written < now - STRAY_AFTER)
    removed = 0
    while keys := list(islice(old, BATCH)):
        with db.transaction() as session:
            named = set(session.scalars(select(Media.path).where(Media.path.in_(keys))))
        for key in keys:
            if key not in named:
                files.delete(key)
                removed += 1
    return removed


def schedule(session: Session) -> None:
    """Queue a sweep when none was queued in the last day (the lease holder asks at each renewal)."""
    since = utcnow() - STRAY_AFTER
    if session.scalar(select(Job.id).where(Job.kind == SWEEP_JOB, Job.created_at > since).limit(1)) is None:
        jobs.enqueue(session, SWEEP_JOB, {})


def run(work: Work) -> None:
    """The sweep as a durable job: outside any transaction, safe to run again after a crash."""
    removed = sweep(work.db, store.of(work.settings), utcnow())
    if removed:
        log.info("removed %d files of the media store that no row named", removed)


register_job(SWEEP_JOB, run, label=mark("Dọn các tệp không còn dùng trong kho tệp"))
