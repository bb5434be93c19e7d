"""Handing a person the copy of their data: a durable job writes its file to the media store outside any
transaction, and only once the file is there queues and sends the message with its link, so nobody is
ever told "ready" or given a link that does not open. A store that fails is retried with the job's
backoff; when the job is given up the person is told plainly that the copy could not be made, and how to
ask again."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.conversation.types import AfterSend, Outgoing, Reply
from bot.i18n import mark
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.jobs.models import Job
from bot.media import store, sweep
from bot.messages import service as messages
from bot.people import service as people
from bot.privacy import service as privacy
from bot.privacy.models import Export

COPY_JOB = "data-copy"


def queue(session: Session, export: Export, ready: Reply, failed: Reply) -> None:
    """Have a copy's file made and then `ready` (its link) sent, or `failed` if it cannot be made: by a
    job queued in the transaction that made its row (the replies come in the person's language)."""
    jobs.enqueue(
        session,
        COPY_JOB,
        {
            "token": export.token,
            "ready": [ready.text, ready.to_payload()],
            "failed": [failed.text, failed.to_payload()],
        },
    )


def _queued(session: Session, export: Export, said: list[Any]) -> list[Outgoing]:
    """Queue one of the job's replies to the chat that asked; its text kept, as the conversation's are,
    only for a person who agreed to that. Nothing for a person gone meanwhile."""
    person = people.get(session, person_id=export.person_id)
    if person is None:
        return []
    reply = Reply.from_payload(str(said[0]), dict(said[1]))
    after: AfterSend = "keep" if person.consented else "blank"
    [message_id] = messages.record_outbound_many(
        session,
        person_id=person.id,
        urn=export.urn,
        items=[("text", reply.text, Outgoing.stored(reply, after))],
    )
    return [Outgoing(message_id, export.urn, reply, after)]


def make(work: Work) -> None:
    """Write the copy (its content read in a short transaction), then send its link. A store fault raises,
    so the job is retried, except on its last attempt: then the person is told at once that it could not
    be made. A copy whose row went meanwhile (the person erased their data, or it expired) is not handed
    over, and a file written for it is removed."""
    token = str(work.payload["token"])
    files = store.of(work.settings)
    with work.transaction() as session:
        found = session.get(Export, token)
        person = people.get(session, person_id=found.person_id) if found is not None else None
        if found is None or person is None:
            return
        key, data = found.path, privacy.content(session, person)
    try:
        files.put(key, data)
    except OSError:
        if work.claim.attempts < work.settings.jobs_max_attempts:
            raise
        with work.transaction() as session:
            sent = _failed(session, session.get(Export, token), work.payload["failed"])
        work.send(sent)
        return
    sent = []
    with work.transaction() as session:
        found = session.get(Export, token)
        if found is not None:
            sent = _queued(session, found, work.payload["ready"])
    if found is None:
        privacy.discard(files, key)
    work.send(sent)


def _failed(session: Session, found: Export | None, said: list[Any]) -> list[Outgoing]:
    """Forget a copy that could not be written (its link was never sent; a file a failed run left is
    swept) and tell the person so."""
    if found is None:
        return []
    sent = _queued(session, found, said)
    session.delete(found)
    return sent


def _given_up(session: Session, job: Job) -> None:
    """A job given up because its process kept dying: the person is told as after a store fault, by the
    outbox's resend (this runs in the transaction that gives the job up)."""
    _failed(session, session.get(Export, str(job.payload["token"])), job.payload["failed"])


sweep.owned_by(privacy.EXPORTS, privacy.named_exports)
register_job(COPY_JOB, make, given_up=_given_up, label=mark("Làm tệp dữ liệu cho người dân"))
