"""Transcripts of the voice notes people send with a reflection, so an official can read what was said
beside the player (marked as automatic and possibly wrong). Recognising speech takes seconds, so it runs
as a durable job after the ticket is stored, never in a request's or the hub's transaction; a process
without the recogniser (bot/audio/stt.py) queues nothing and runs none."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.orm import Session

from bot.audio import stt
from bot.audio.ffmpeg import AudioError
from bot.i18n import mark
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.media import service as media
from bot.media import store

log = logging.getLogger(__name__)
TRANSCRIBE_JOB = "voice-transcript"
SPOKEN = ("voice", "audio")  # the attachment kinds that are speech


def queue(session: Session, files: Iterable[tuple[str, int]]) -> None:
    """Have the spoken ones of a ticket's (kind, media id) files transcribed, by jobs queued in the
    caller's transaction: they exist exactly when the ticket does. Nothing where there is no recogniser."""
    if not stt.available():
        return
    for kind, media_id in files:
        if kind in SPOKEN:
            jobs.enqueue(session, TRANSCRIBE_JOB, {"media_id": media_id})


def transcribe(work: Work) -> None:
    """Transcribe one stored recording once (the same bytes sent twice are one file), outside any
    transaction; a recording ffmpeg cannot read is recorded as saying nothing, since it never will."""
    media_id = int(work.payload["media_id"])
    with work.transaction() as session:
        found = media.get(session, media_id)
        if found is None or found.transcript is not None:
            return
        path = found.path
    try:
        data = store.of(work.settings).get(path)
    except FileNotFoundError:  # erased meanwhile (the person asked for their data to be deleted)
        return
    try:
        text = stt.transcribe(data)
    except AudioError as exc:
        log.warning("media %s: not transcribed: %s", media_id, exc)
        text = ""
    with work.transaction() as session:
        found = media.get(session, media_id)
        if found is not None:
            found.transcript = text


if stt.available():  # runners claim only what their process can run
    register_job(TRANSCRIBE_JOB, transcribe, label=mark("Chép lời ghi âm của người dân"))
