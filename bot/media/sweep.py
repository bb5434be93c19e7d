"""Remove files of the media store that nothing owns any more. A content file is written before its row
(see media.upload), so a transaction that failed afterwards, or a file a person sent that no step kept,
leaves a stray copy; a parked file (incoming/) whose owner is gone (a refused draft's recording, a
message whose process died while handling it) and a data copy (exports/) whose row is gone are left the
same way. Once a day the sender's lease holder queues a job that deletes those a day old or more."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database, utcnow
from bot.i18n import mark
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.jobs.models import Job
from bot.media import service as media
from bot.media import store
from bot.media.models import Media
from bot.media.store import MediaStore

log = logging.getLogger(__name__)
SWEEP_JOB = "media-sweep"
STRAY_AFTER = timedelta(days=1)  # far longer than any file waits for its row or its owner
CONTENT = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]+$")  # files kept by content, see relative_path
BATCH = 500

Named = Callable[[Session, list[str]], set[str]]  # which of these keys something still owns
OWNERS: dict[str, Named] = {}  # by the key's first folder ('incoming', 'exports'); '' for content files


def owned_by(folder: str, named: Named) -> None:
    """Make the sweep ask `named` about the files under `folder` (its domain knows what waits for them)."""
    OWNERS[folder] = named


def _media_named(session: Session, keys: list[str]) -> set[str]:
    """The content files a stored file's row names."""
    return set(session.scalars(select(Media.path).where(Media.path.in_(keys))))


owned_by("", _media_named)


def _folder(key: str) -> str | None:
    """Which owner answers for a key: '' for a content file, its first folder for one whose owner is
    known, None for anything else (left alone)."""
    if CONTENT.match(key):
        return ""
    folder = key.split("/", 1)[0]
    return folder if "/" in key and folder in OWNERS and folder else None


def sweep(db: Database, files: MediaStore, now: datetime) -> int:
    """Delete the files written before `now` less a day that their owner no longer names; returns how
    many. Each batch is looked up in one short transaction; then each file that looked unowned is looked
    at again and deleted in a transaction of its own that holds its key's lock (see media.hold), never
    deleted on the batch's word alone. An upload of the same bytes may meanwhile have made the file new
    again and be recording its row (content files are shared by content): the file's written time, read
    again under the lock, shows a write made before; a write made after (between that read and the
    delete) is one the upload finds out about, as it found the copy there (`renew`), and it writes the
    file again under the same lock before its row commits (media.record). A check under a lock is
    correct on a folder and on S3 alike (S3 has no delete-if-unchanged), and only the rare upload that
    found an old copy pays for it."""
    cut = now - STRAY_AFTER
    old = (
        (key, folder)
        for key, written in files.listing()
        if written < cut
        if (folder := _folder(key)) is not None
    )
    removed = 0
    while batch := list(islice(old, BATCH)):
        by_folder: dict[str, list[str]] = {}
        for key, folder in batch:
            by_folder.setdefault(folder, []).append(key)
        with db.transaction() as session:
            named = {key for folder, keys in by_folder.items() for key in OWNERS[folder](session, keys)}
        for key, folder in batch:
            if key not in named and _deleted_if_unowned(db, files, key, folder, cut):
                removed += 1
    return removed


def _deleted_if_unowned(db: Database, files: MediaStore, key: str, folder: str, cut: datetime) -> bool:
    """Delete one file if, under its key's lock, its owner still does not name it and it is still old."""
    with db.transaction() as session:
        media.hold(session, key, shared=False)
        if OWNERS[folder](session, [key]):
            return False
        written = files.written(key)
        if written is None or written >= cut:
            return False
        files.delete(key)
    return True


def schedule(session: Session) -> None:
    """Queue a sweep when none was queued in the last day (the lease holder asks at each renewal)."""
    since = utcnow() - STRAY_AFTER
    if session.scalar(select(Job.id).where(Job.kind == SWEEP_JOB, Job.created_at > since).limit(1)) is None:
        jobs.enqueue(session, SWEEP_JOB, {})


def run(work: Work) -> None:
    """The sweep as a durable job: outside any transaction, safe to run again after a crash."""
    removed = sweep(work.db, store.of(work.settings), utcnow())
    if removed:
        log.info("removed %d files of the media store that nothing owned", removed)


register_job(SWEEP_JOB, run, label=mark("Dọn các tệp không còn dùng trong kho tệp"))
