"""Voice notes made for one person: a text read aloud ('🔊 Nghe') and prompts read aloud before their
buttons. A clip made before is sent at once; a new one is made by a durable job (bot/jobs), outside any
transaction, then queued in the outbox and sent after its commit (a crash between the two leaves the
messages to be sent at the next start)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.bulletins.compose import attachment
from bot.conversation.types import AfterSend, Outgoing, Reply
from bot.jobs import service as jobs
from bot.jobs.base import Work, register_job
from bot.media import store
from bot.media.models import Media
from bot.messages import service as messages
from bot.people import service as people
from bot.people.models import Person
from bot.voice import service as voice
from bot.voice.service import Speech, Spoken

NOTE_JOB = "voice-note"
PROMPTS_JOB = "voice-prompts"
CAPTION = "🔊"  # no words: the note is for someone who would rather listen than read


def note(stored: Media) -> Reply:
    """A stored voice note as a reply; private, like every file made for one person."""
    return Reply(CAPTION, attachment=attachment(stored, "voice", private=True))


def queue(session: Session, urn: str, person_id: int, spoken: Spoken) -> None:
    """Have a text read aloud and sent to a chat, by a job queued in the caller's transaction."""
    jobs.enqueue(
        session,
        NOTE_JOB,
        {"urn": urn, "person_id": person_id, "text": spoken.text, "language": spoken.language},
    )


def queue_prompts(session: Session, urn: str, person: Person, language: str, replies: list[Reply]) -> None:
    """Hold replies back until the clips of their prompts are made: a job sends them, each prompt after
    its voice note, in the order given."""
    held = [[r.text, r.to_payload()] for r in replies]
    payload = {"urn": urn, "person_id": person.id, "language": language, "replies": held}
    jobs.enqueue(session, PROMPTS_JOB, payload)


def _speech(work: Work, texts: list[str], language: str) -> dict[str, Speech]:
    """Speech for those texts that have no clip yet, made outside any transaction."""
    with work.transaction() as session:
        missing = [t for t in dict.fromkeys(texts) if voice.cached(session, Spoken(t, language)) is None]
    return {t: voice.speak(work.settings, Spoken(t, language)) for t in missing}


Step = tuple[str | None, Reply | None]  # (a text to send read aloud first, a reply to send after it)


def _sent(work: Work, urn: str, person_id: int, language: str, steps: list[Step]) -> None:
    """Queue voice notes and replies to a person in order, then send them; nothing when the person erased
    their data meanwhile. As the conversation does, the text of what is sent is kept only for a person
    who agreed to it."""
    files = store.of(work.settings)
    made = _speech(work, [said for said, _reply in steps if said], language)
    uploaded = {said: voice.upload(work.db, files, speech) for said, speech in made.items()}
    with work.transaction() as session:
        person = people.get(session, person_id=person_id)
        if person is None:
            return
        out: list[Reply] = []
        for said, reply in steps:
            if said:
                spoken = Spoken(said, language)
                stored = (
                    voice.keep(session, files, spoken, made[said].engine, uploaded[said])
                    if said in made
                    else _cached(session, spoken)
                )
                out.append(note(stored))
            if reply is not None:
                out.append(reply)
        after: AfterSend = "keep" if person.consented else "blank"
        items = [("text", r.text, Outgoing.stored(r, after)) for r in out]
        ids = messages.record_outbound_many(session, person_id=person_id, urn=urn, items=items)
    work.send([Outgoing(i, urn, r, after) for i, r in zip(ids, out, strict=True)])


def _cached(session: Session, spoken: Spoken) -> Media:
    """A clip known to exist (made by this job or another)."""
    stored = voice.cached(session, spoken)
    assert stored is not None
    return stored


def send_note(work: Work) -> None:
    """'🔊 Nghe': the text read aloud, alone."""
    p = work.payload
    _sent(work, str(p["urn"]), int(p["person_id"]), str(p["language"]), [(str(p["text"]), None)])


def send_prompts(work: Work) -> None:
    """Prompts held back for their clips: each voice note, then its prompt."""
    p = work.payload
    replies = [Reply.from_payload(text, payload) for text, payload in p["replies"]]
    steps: list[Step] = [(r.text if r.buttons and r.attachment is None else None, r) for r in replies]
    _sent(work, str(p["urn"]), int(p["person_id"]), str(p["language"]), steps)


register_job(NOTE_JOB, send_note)
register_job(PROMPTS_JOB, send_prompts)
