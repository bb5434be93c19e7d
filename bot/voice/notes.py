"""'🔊 Nghe': a text read aloud reaches the person as a voice note. A clip made before is sent at once; a
new one is made by a durable job (bot/jobs), outside any transaction, then queued in the outbox and sent
after its commit (a crash between the two leaves the note to be sent at the next start)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bot.bulletins.compose import attachment
from bot.conversation.types import Outgoing, Reply
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.media.models import Media
from bot.messages import service as messages
from bot.people import service as people
from bot.voice import service as voice
from bot.voice.service import Spoken

NOTE_JOB = "voice-note"
CAPTION = "🔊"  # no words: the note is for someone who would rather listen than read


def note(root: Path, stored: Media) -> Reply:
    """A stored voice note as a reply; private, like every file made for one person."""
    return Reply(CAPTION, attachment=attachment(root, stored, "voice", private=True))


def queue(session: Session, urn: str, person_id: int, spoken: Spoken) -> None:
    """Have a text read aloud and sent to a chat, by a job queued in the caller's transaction."""
    jobs.enqueue(
        session,
        NOTE_JOB,
        {"urn": urn, "person_id": person_id, "text": spoken.text, "language": spoken.language},
    )


def send_note(work: Work) -> None:
    """Make the voice note unless another job did meanwhile, keep it, queue it to the person, send it."""
    spoken = Spoken(str(work.payload["text"]), str(work.payload["language"]))
    urn, person_id, root = (
        str(work.payload["urn"]),
        int(work.payload["person_id"]),
        Path(work.settings.media_dir),
    )
    with work.transaction() as session:
        made = voice.cached(session, spoken) is not None
    speech = None if made else voice.speak(work.settings, spoken)
    with work.transaction() as session:
        if people.get(session, person_id=person_id) is None:  # erased meanwhile: nobody to send it to
            return
        stored = voice.keep(session, root, spoken, speech) if speech else voice.cached(session, spoken)
        assert stored is not None
        reply = note(root, stored)
        message_id = messages.record_outbound(
            session, person_id=person_id, urn=urn, kind="text", text=reply.text, payload=reply.to_payload()
        )
    work.send([Outgoing(message_id, urn, reply)])


register_job(NOTE_JOB, send_note)
