"""Making a draft's audio after the admin's request has returned: text-to-speech and transcoding take
seconds, so they run as a durable job (bot/jobs) that owns short transactions of its own, never inside a
request's; a crash meanwhile leaves the job to be taken again, so "pending" always ends."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audio import service as audio
from bot.audio.ffmpeg import AudioError
from bot.audio.tts import SpeechError, can_speak
from bot.bulletins import service as bulletins
from bot.bulletins.models import AUDIO_ERROR_PREFIX as ERROR_PREFIX
from bot.bulletins.models import AUDIO_PENDING as PENDING
from bot.bulletins.models import AUDIO_STORAGE_ERROR as STORAGE_ERROR
from bot.bulletins.models import AUDIO_UPLOAD_PREFIX as UPLOAD_PREFIX
from bot.bulletins.models import Bulletin, BulletinVersion
from bot.config import Settings
from bot.i18n import mark
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.jobs.models import Job
from bot.media import service as media
from bot.media import store, sweep

log = logging.getLogger(__name__)
AUDIO_JOB = "bulletin-audio"


def keep_upload(settings: Settings, data: bytes, filename: str) -> str:
    """Park an uploaded recording in the media store (not in a transaction: the job that transcodes it
    may run on another machine) and return the version's pending mark."""
    extension = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    key = media.park(store.of(settings), data, f".{extension}")
    return UPLOAD_PREFIX + key.removeprefix(media.INCOMING + "/")


def mark_pending(version: BulletinVersion, settings: Settings, upload_mark: str | None) -> None:
    """Say what audio a version is waiting for: a parked recording, speech, or nothing to make."""
    if upload_mark is not None:
        version.audio_source = upload_mark
    elif version.text and can_speak(audio.engines(settings), version.language):
        version.audio_source = PENDING
    elif version.voice is None:
        version.audio_source = ""


def remake(
    session: Session,
    bulletin: Bulletin,
    version: BulletinVersion,
    settings: Settings,
    upload_mark: str | None,
) -> None:
    """A version's text or recording changed: its old audio no longer says what it says, so the new one
    (a parked recording, or speech from the new text) is made by the job."""
    if upload_mark is None:
        version.voice = version.mp3 = None
    mark_pending(version, settings, upload_mark)
    queue(session, bulletin)


def queue(session: Session, bulletin: Bulletin) -> None:
    """Have the versions waiting for audio made, by a job queued in the caller's transaction: the job
    exists exactly when their "pending" mark does."""
    if any(v.audio_source.startswith(PENDING) for v in bulletin.versions):
        jobs.enqueue(session, AUDIO_JOB, {"bulletin_id": bulletin.id})


def make_audio(work: Work) -> None:
    """Render every pending version of a bulletin, one at a time, recording each result or error."""
    bulletin_id = int(work.payload["bulletin_id"])
    with work.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        todo = [
            (v.language, v.text, v.audio_source)
            for v in (bulletin.versions if bulletin else [])
            if v.audio_source.startswith(PENDING)
        ]
    files = store.of(work.settings)
    for language, text, source in todo:
        upload: tuple[bytes, str] | None = None
        name = source.removeprefix(UPLOAD_PREFIX)
        parked = f"{media.INCOMING}/{name}"
        if source.startswith(UPLOAD_PREFIX):
            try:
                upload = (files.get(parked), name)
            except FileNotFoundError:
                upload = (b"", name)
        try:
            clip = audio.clip_for(work.settings, text, language, upload)
            failed = None
        except (AudioError, SpeechError, OSError) as exc:
            clip, failed = None, (ERROR_PREFIX + str(exc))[:120]
            log.warning("bulletin %s: no audio for %s: %s", bulletin_id, language, exc)
        pending = (language, text, source)
        try:
            uploaded = audio.upload(work.db, files, clip) if clip is not None else None
            _record(work, bulletin_id, pending, uploaded, failed or ERROR_PREFIX + "no audio")
        except OSError as exc:  # the media folder cannot be written: the recording waits for a retry
            log.error("bulletin %s: audio for %s could not be saved: %s", bulletin_id, language, exc)
            _record(work, bulletin_id, pending, None, STORAGE_ERROR + source)
            continue
        if upload is not None:
            files.delete(parked)


def _record(
    work: Work, bulletin_id: int, pending: tuple[str, str, str], clip: audio.UploadedClip | None, failed: str
) -> None:
    """Keep a version's audio (already written to the store: the transaction only records its rows), or
    else mark it as `failed` says; `pending` is (language, text, what it waits for): a version rewritten
    meanwhile is left to its new job, and the files it no longer wants are only stray copies."""
    language, text, source = pending
    with work.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        version = bulletin.version(language) if bulletin else None
        if version is None or (version.text, version.audio_source) != (text, source):
            return
        if clip is not None:
            stored = audio.record(session, store.of(work.settings), clip)
            version.voice, version.mp3, version.audio_source = stored.voice, stored.mp3, stored.source
        else:
            version.audio_source = failed


def retry(bulletin: Bulletin) -> bool:
    """Make again the audio that could not be saved (the media folder was not writable): each such
    version waits again for what it was made from. False when there was none."""
    failed = [v for v in bulletin.versions if v.audio_source.startswith(STORAGE_ERROR)]
    for version in failed:
        version.audio_source = version.audio_source.removeprefix(STORAGE_ERROR)
    return bool(failed)


def _given_up(session: Session, job: Job) -> None:
    """Audio whose job was given up is no longer "being made": each version still waiting says why, and
    the official can save it again to have it made anew."""
    bulletin = bulletins.get(session, bulletin_id=int(job.payload["bulletin_id"]))
    for version in bulletin.versions if bulletin else []:
        if version.audio_source.startswith(PENDING):
            version.audio_source = (ERROR_PREFIX + job.error)[:120]


def waiting(session: Session, keys: list[str]) -> set[str]:
    """The parked recordings (incoming/…) a version still waits for, to be transcoded or, after a store
    fault, retried: the sweep removes the others once a day old (a refused draft's, a rewritten
    version's, one whose job was given up); parked files of people's messages live only while their
    message is handled, so after a day none is waited for."""
    marks = {f"{UPLOAD_PREFIX}{key.removeprefix(media.INCOMING + '/')}": key for key in keys}
    marks |= {STORAGE_ERROR + mark_: key for mark_, key in list(marks.items())}
    named = session.scalars(
        select(BulletinVersion.audio_source).where(BulletinVersion.audio_source.in_(marks))
    )
    return {marks[found] for found in named}


sweep.owned_by(media.INCOMING, waiting)
register_job(AUDIO_JOB, make_audio, given_up=_given_up, label=mark("Làm âm thanh cho bản tin"))
