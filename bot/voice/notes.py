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


Voice = Spoken | int | None  # a text an engine reads aloud, a stored recording (its media id), or nothing
Step = tuple[Voice, Reply | None]  # (what is heard first, the reply sent after it)


def queue_prompts(
    session: Session, urn: str, person: Person, steps: list[tuple[Spoken | Media | None, Reply]]
) -> None:
    """Hold replies back until the clips of their prompts are made: a job sends them, each prompt after
    its voice note (read by an engine, or a person's recording), in the order given."""
    payload = {
        "urn": urn,
        "person_id": person.id,
        "replies": [[r.text, r.to_payload()] for _heard, r in steps],
        "said": [[h.text, h.language] if isinstance(h, Spoken) else None for h, _r in steps],
        "clips": [h.id if isinstance(h, Media) else None for h, _r in steps],
    }
    jobs.enqueue(session, PROMPTS_JOB, payload)


def _speech(work: Work, said: list[Spoken]) -> dict[Spoken, Speech]:
    """Speech for those texts that have no clip yet, made outside any transaction."""
    with work.transaction() as session:
        missing = [s for s in dict.fromkeys(said) if voice.cached(session, s) is None]
    return {s: voice.speak(work.settings, s) for s in missing}


def _sent(work: Work, urn: str, person_id: int, steps: list[Step]) -> None:
    """Queue voice notes and replies to a person in order, then send them; nothing when the person erased
    their data meanwhile (and no note for a recording removed meanwhile). As the conversation does, the
    text of what is sent is kept only for a person who agreed to it."""
    files = store.of(work.settings)
    made = _speech(work, [heard for heard, _reply in steps if isinstance(heard, Spoken)])
    uploaded = {heard: voice.upload(work.db, files, speech) for heard, speech in made.items()}
    with work.transaction() as session:
        person = people.get(session, person_id=person_id)
        if person is None:
            return
        out: list[Reply] = []
        for heard, reply in steps:
            stored: Media | None = None
            if isinstance(heard, Spoken):
                stored = (
                    voice.keep(session, files, heard, made[heard].engine, uploaded[heard])
                    if heard in made
                    else _cached(session, heard)
                )
            elif isinstance(heard, int):
                stored = session.get(Media, heard)
            if stored is not None:
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
    said = Spoken(str(p["text"]), str(p["language"]))
    _sent(work, str(p["urn"]), int(p["person_id"]), [(said, None)])


def send_prompts(work: Work) -> None:
    """Prompts held back for their clips: each voice note, then its prompt. A job queued before prompts
    had recordings carries only the person's language: then every prompt is read in it."""
    p = work.payload
    replies = [Reply.from_payload(text, payload) for text, payload in p["replies"]]
    said = p.get("said") or [
        [r.text, p["language"]] if r.buttons and r.attachment is None else None for r in replies
    ]
    clips = p.get("clips") or [None] * len(replies)
    steps: list[Step] = [
        (Spoken(str(s[0]), str(s[1])) if s else (int(c) if c else None), r)
        for s, c, r in zip(said, clips, replies, strict=True)
    ]
    _sent(work, str(p["urn"]), int(p["person_id"]), steps)


register_job(NOTE_JOB, send_note)
register_job(PROMPTS_JOB, send_prompts)
