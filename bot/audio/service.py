"""Render bulletin audio and write it to the media store (outside any transaction: both take seconds),
then record its rows (inside one)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.audio import ffmpeg
from bot.audio.tts import Engine, SpeechError, can_speak, engines_for
from bot.config import Settings
from bot.db import Database
from bot.errors import Refusal
from bot.i18n import mark
from bot.media import service as media
from bot.media import store as stores
from bot.media.models import Media
from bot.media.store import MediaStore

RECORDING_TYPES = ("mp3", "m4a", "ogg", "oga", "opus", "wav", "aac", "amr", "3gp", "webm")
# What an official reads when ffmpeg cannot make sound of an upload (its own reason stays in the chain).
UNREADABLE = mark("Không đọc được tệp ghi âm này, có thể tệp bị hỏng: hãy ghi lại hoặc gửi tệp khác.")


class RecordingError(Refusal, ffmpeg.AudioError):
    """An uploaded recording refused, in words the official who sent it reads (a catalog message); still
    an AudioError for the callers that only log why a bulletin has no audio."""


@dataclass(frozen=True)
class Clip:
    """One piece of speech in both forms: a voice note for chats and an MP3 for loudspeaker stations."""

    key: str
    voice: bytes
    mp3: bytes
    seconds: float
    source: str  # "gtts:vi", "espeak:vi", "recording"


@dataclass(frozen=True)
class StoredClip:
    """A clip's two stored files."""

    voice: Media
    mp3: Media
    source: str


FORMS = (("voice", "audio/ogg"), ("mp3", "audio/mpeg"))  # a clip's two files: (kind, type)


def _file_key(kind: str, clip_key: str) -> str:
    """The media key of one of a clip's files."""
    return media.digest(f"{kind}:{clip_key}".encode())


def _keys(key: str) -> tuple[str, str]:
    """Where media.upload keeps a clip's two files, so a rendered clip is found again without rendering."""
    voice, mp3 = (media.relative_path(_file_key(kind, key), mime) for kind, mime in FORMS)
    return voice, mp3


def _cached(files: MediaStore, key: str, source: str) -> Clip | None:
    """A clip rendered before (same text, language, engine and voice), read back from the store (ffmpeg
    measures the voice note from a file: a temporary copy when the store is not a folder)."""
    voice_key, mp3_key = _keys(key)
    try:
        with files.as_file(voice_key) as voice_path:
            seconds = ffmpeg.duration(voice_path)
            voice = voice_path.read_bytes()
        return Clip(key, voice, files.get(mp3_key), seconds, source)
    except (ffmpeg.AudioError, FileNotFoundError):
        return None


def speak(engines: list[Engine], files: MediaStore, text: str, language: str) -> Clip:
    """Speech for a text from the first engine that can say it, cached by (text, language, engine, voice)."""
    errors: list[str] = []
    for engine in engines:
        voice = engine.voice_for(language)
        if voice is None:
            continue
        source = f"{engine.name}:{voice}"
        key = media.digest(f"{engine.name}\n{voice}\n{language}\n{text}".encode())
        cached = _cached(files, key, source)
        if cached is not None:
            return cached
        try:
            voice_data, mp3_data, seconds = ffmpeg.transcode(engine.speak(text, voice), strict=False)
        except (SpeechError, ffmpeg.AudioError) as exc:
            errors.append(str(exc))
            continue
        return Clip(key, voice_data, mp3_data, seconds, source)
    raise SpeechError("; ".join(errors) or f"no text-to-speech engine speaks '{language}'")


def _check(data: bytes, filename: str, max_bytes: int) -> None:
    """Refuse an upload that cannot be a recording: empty, of another type of file, or too large."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data:
        raise RecordingError(mark("Tệp ghi âm trống."))
    if extension not in RECORDING_TYPES:
        raise RecordingError(
            mark("Loại tệp này không dùng được: hãy gửi tệp âm thanh (ogg, mp3, m4a, wav…).")
        )
    if len(data) > max_bytes:
        raise RecordingError(mark("Tệp lớn quá (tối đa {mb} MB)."), mb=max_bytes // 1_000_000)


def recording(data: bytes, filename: str, max_bytes: int) -> Clip:
    """A recording uploaded for chats and loudspeaker stations (an official's voice answer, a bulletin),
    checked and transcoded to both forms; RecordingError says what is wrong with it."""
    _check(data, filename, max_bytes)
    try:
        voice_data, mp3_data, seconds = ffmpeg.transcode(data)
    except ffmpeg.AudioError as exc:
        raise RecordingError(UNREADABLE) from exc
    return Clip(media.digest(data), voice_data, mp3_data, seconds, "recording")


def voice_recording(data: bytes, filename: str, max_bytes: int, max_seconds: int) -> tuple[bytes, float]:
    """(voice note, seconds) of a recording uploaded for chats alone (a spoken prompt, read in seconds),
    checked the same way, and refused when longer than `max_seconds`."""
    _check(data, filename, max_bytes)
    try:
        voice, seconds = ffmpeg.voice_note(data, strict=False)
    except ffmpeg.AudioError as exc:
        raise RecordingError(UNREADABLE) from exc
    if seconds > max_seconds:
        raise RecordingError(mark("Bản ghi dài quá (tối đa {n} giây)."), n=max_seconds)
    return voice, seconds


@dataclass(frozen=True)
class UploadedClip:
    """A clip's two files written to the store, waiting for their rows."""

    voice: media.Upload
    mp3: media.Upload
    source: str


def upload(db: Database, files: MediaStore, clip: Clip) -> UploadedClip:
    """Both files of a clip in the media store, before the caller's transaction opens (see media.upload)."""
    voice, mp3 = (
        media.upload(
            db, files, data, kind=kind, mime=mime, duration=clip.seconds, key=_file_key(kind, clip.key)
        )
        for (kind, mime), data in zip(FORMS, (clip.voice, clip.mp3), strict=True)
    )
    return UploadedClip(voice, mp3, clip.source)


def record(session: Session, files: MediaStore, uploaded: UploadedClip) -> StoredClip:
    """The rows of a clip's uploaded files, in the caller's transaction (re-using any stored before)."""
    return StoredClip(
        media.record(session, files, uploaded.voice),
        media.record(session, files, uploaded.mp3),
        uploaded.source,
    )


def clip_for(
    settings: Settings, text: str, language: str, upload: tuple[bytes, str] | None = None
) -> Clip | None:
    """The audio of one bulletin version: the uploaded recording if any, else speech from the configured
    engines when one speaks the language, else None (a person has to record it). Runs outside any
    transaction; raises RecordingError for a bad recording, SpeechError when every engine failed."""
    if upload is not None:
        return recording(upload[0], upload[1], settings.max_upload_mb * 1_000_000)
    chosen = engines(settings)
    if not text.strip() or not can_speak(chosen, language):
        return None
    return speak(chosen, stores.of(settings), text, language)


def engines(settings: Settings) -> list[Engine]:
    """The text-to-speech engines a deployment is configured to use."""
    return engines_for(
        settings.tts_engine,
        gtts_url=settings.gtts_url,
        timeout=settings.tts_timeout_seconds,
        vietnamese_voice=settings.espeak_voice,
    )
