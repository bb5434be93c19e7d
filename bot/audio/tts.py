"""Text-to-speech engines behind one call: gTTS (Google's endpoint) and espeak-ng (offline)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from gtts import gTTS
from gtts.tts import gTTSError

BATCH_PATH = "/_/TranslateWebserverUi/data/batchexecute"


class SpeechError(Exception):
    """No engine could speak this text in this language; the message says why."""


@dataclass(frozen=True)
class Speech:
    """Synthesised audio in the engine's own format, and who made it (the cache key depends on it)."""

    data: bytes
    engine: str
    voice: str


class Engine(Protocol):
    """A text-to-speech engine: which voice speaks a language, and speaking."""

    name: str

    def voice_for(self, language: str) -> str | None:
        """The engine's voice for one of Loa Bản's language codes, or None if it cannot speak it."""

    def speak(self, text: str, voice: str) -> bytes:
        """Audio bytes (any format ffmpeg reads) or SpeechError."""


class _LoopbackAwareGTTS(gTTS):  # type: ignore[misc]
    """The real gTTS client with its endpoint's host overridable (tests' stand-in, or a proxy)."""

    def __init__(self, *args: Any, base_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = base_url.rstrip("/")

    def _prepare_requests(self) -> list[Any]:
        """gTTS's own requests, sent to the configured host."""
        prepared: list[Any] = super()._prepare_requests()
        for request in prepared:
            request.prepare_url(self.base_url + BATCH_PATH, None)
        return prepared


class GoogleTTS:
    """gTTS: natural voices for Vietnamese, Khmer, Chinese, English; needs Google's endpoint."""

    name = "gtts"
    VOICES: ClassVar[dict[str, str]] = {"vi": "vi", "km": "km", "zh": "zh-CN", "en": "en", "th": "th"}

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url
        self.timeout = timeout

    def voice_for(self, language: str) -> str | None:
        """gTTS has no H'Mông, Tày, Dao, Nùng or Thái (Tai Dam) voice."""
        return self.VOICES.get(language)

    def speak(self, text: str, voice: str) -> bytes:
        """MP3 from Google, fetched in gTTS's own chunks of about 100 characters."""
        buffer = io.BytesIO()
        try:
            _LoopbackAwareGTTS(text, lang=voice, base_url=self.base_url, timeout=self.timeout).write_to_fp(
                buffer
            )
        except (gTTSError, AssertionError, ValueError) as exc:
            raise SpeechError(f"gTTS: {exc}") from exc
        if not buffer.getvalue():
            raise SpeechError("gTTS returned no audio")
        return buffer.getvalue()


class Espeak:
    """espeak-ng: robotic but offline and free; Vietnamese (northern, central, southern), Chinese, English."""

    name = "espeak"

    def __init__(self, vietnamese_voice: str) -> None:
        self.voices = {"vi": vietnamese_voice, "zh": "cmn", "en": "en"}

    def voice_for(self, language: str) -> str | None:
        """None for languages espeak-ng has no voice for, or when it is not installed."""
        if shutil.which("espeak-ng") is None:
            return None
        return self.voices.get(language)

    def speak(self, text: str, voice: str) -> bytes:
        """WAV from espeak-ng, the text given on stdin so any length works (written to a file: a WAV
        streamed to stdout has no length in its header)."""
        with tempfile.TemporaryDirectory(prefix="loaban-espeak-") as tmp:
            target = Path(tmp) / "speech.wav"
            try:
                done = subprocess.run(
                    ["espeak-ng", "-v", voice, "-s", "150", "--stdin", "-w", str(target)],
                    input=text.encode(),
                    capture_output=True,
                    timeout=300,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SpeechError(f"espeak-ng: {exc}") from exc
            if done.returncode != 0 or not target.exists():
                raise SpeechError(f"espeak-ng: {done.stderr.decode(errors='replace').strip() or 'no audio'}")
            return target.read_bytes()


def engines_for(preference: str, *, gtts_url: str, timeout: float, vietnamese_voice: str) -> list[Engine]:
    """The engines to try in order: 'auto' tries gTTS then falls back to espeak-ng."""
    google, espeak = GoogleTTS(gtts_url, timeout), Espeak(vietnamese_voice)
    if preference == "gtts":
        return [google]
    if preference == "espeak":
        return [espeak]
    return [google, espeak]


def can_speak(engines: list[Engine], language: str) -> bool:
    """Whether any configured engine has a voice for the language (else a person must record it)."""
    return any(engine.voice_for(language) for engine in engines)
