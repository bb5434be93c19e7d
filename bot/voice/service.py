"""Voice notes of texts: the cache look-up (in the caller's transaction), the speech itself (outside any
transaction: an engine may take seconds, Google's up to its timeout), and keeping what was made."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.audio import ffmpeg
from bot.audio.service import engines
from bot.audio.tts import SpeechError, can_speak
from bot.config import Settings
from bot.db import Database
from bot.media import service as media
from bot.media.models import Media
from bot.media.store import MediaStore
from bot.voice.models import VoiceClip


@dataclass(frozen=True)
class Spoken:
    """A text to read aloud and the language it is written in (which picks the voice)."""

    text: str
    language: str

    @property
    def key(self) -> str:
        """What the clip is cached under: the same words in the same language sound the same."""
        return media.digest(f"text\n{self.language}\n{' '.join(self.text.split())}".encode())


@dataclass(frozen=True)
class Speech:
    """A voice note made for a text, not yet stored: OGG/Opus bytes, seconds, and the engine's voice."""

    voice: bytes
    seconds: float
    engine: str


def speakable(settings: Settings, language: str) -> bool:
    """Whether a configured engine has a voice for the language (else nothing is offered to read aloud)."""
    return can_speak(engines(settings), language)


def cached(session: Session, spoken: Spoken) -> Media | None:
    """The stored voice note of this text in this language: a person's recording when there is one,
    else the one an engine made before."""
    return session.scalar(
        select(Media)
        .join(VoiceClip, VoiceClip.media_id == Media.id)
        .where(VoiceClip.key == spoken.key, VoiceClip.origin != "draft")  # a draft waits for review
        .order_by((VoiceClip.origin == "recorded").desc())
        .limit(1)
    )


def record(session: Session, spoken: Spoken, stored: Media) -> None:
    """Keep a person's recording of a text (a prompt read by a translator): it replaces any earlier
    recording of it and is preferred to the engine's."""
    session.execute(delete(VoiceClip).where(VoiceClip.key == spoken.key, VoiceClip.origin == "recorded"))
    session.add(VoiceClip(key=spoken.key, language=spoken.language, origin="recorded", media_id=stored.id))
    session.flush()


def speak(settings: Settings, spoken: Spoken) -> Speech:
    """Read a text aloud with the first engine that can (gTTS, espeak-ng offline), as a voice note; runs
    outside any transaction. SpeechError when none could."""
    errors: list[str] = []
    for engine in engines(settings):
        voice = engine.voice_for(spoken.language)
        if voice is None:
            continue
        try:
            note, seconds = ffmpeg.voice_note(engine.speak(spoken.text, voice), strict=False)
        except (SpeechError, ffmpeg.AudioError) as exc:
            errors.append(str(exc))
            continue
        return Speech(note, seconds, f"{engine.name}:{voice}")
    raise SpeechError("; ".join(errors) or f"no text-to-speech engine speaks '{spoken.language}'")


def upload(db: Database, files: MediaStore, speech: Speech) -> media.Upload:
    """A voice note's file in the media store, before the transaction that keeps it (see media.upload)."""
    return media.upload(db, files, speech.voice, kind="voice", mime="audio/ogg", duration=speech.seconds)


def keep(session: Session, files: MediaStore, spoken: Spoken, engine: str, uploaded: media.Upload) -> Media:
    """Keep a voice note made for a text (its file already in the store) under its cache key; when another
    process stored the same one meanwhile, that one is used."""
    found = cached(session, spoken)
    if found is not None:
        return found
    stored = media.record(session, files, uploaded)
    try:
        with session.begin_nested():
            session.add(
                VoiceClip(key=spoken.key, language=spoken.language, engine=engine, media_id=stored.id)
            )
    except IntegrityError:
        return cached(session, spoken) or stored
    return stored


def forget(session: Session, said: list[Spoken]) -> set[int]:
    """Drop the clips of texts that belonged to one person (officials' answers to them, when they erase
    their data); returns their files, for the caller to delete where nothing else uses them."""
    keys = [s.key for s in said]
    files = set(session.scalars(select(VoiceClip.media_id).where(VoiceClip.key.in_(keys))))
    session.execute(delete(VoiceClip).where(VoiceClip.key.in_(keys)))
    return files
