"""ffmpeg and ffprobe as subprocesses: decode anything a phone records, encode what each use needs."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# 16 kbit/s: Opus's voice mode keeps speech clear there, and people pay for every byte on weak networks
# (a spoken onboarding, privacy notice included, must stay near 200 KB even read slowly).
VOICE_ARGS = ["-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "16k", "-application", "voip"]
VOICE_FORMAT = "ogg"
STATION_ARGS = ["-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "64k"]
STATION_FORMAT = "mp3"
# What speech recognisers read: 16 kHz mono 16-bit samples, raw.
PCM_ARGS = ["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"]
PCM_FORMAT = "s16le"
TIMEOUT = 300


class AudioError(Exception):
    """The input is not audio ffmpeg can read, or the tools are missing; the message says which."""


def available() -> bool:
    """Whether ffmpeg and ffprobe are installed (`make system-deps` installs them)."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _run(args: list[str]) -> bytes:
    """Run a tool, turning every failure into an AudioError with ffmpeg's own last words."""
    if not available():
        raise AudioError("ffmpeg is not installed")
    try:
        done = subprocess.run(args, capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioError("ffmpeg took too long") from exc
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise AudioError(tail[0])
    return done.stdout


def duration(path: Path) -> float:
    """Seconds of audio in a file; AudioError when it holds no decodable audio stream."""
    out = _run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_type:format=duration",
            "-of",
            "json",
            str(path),
        ]
    )
    info = json.loads(out or b"{}")
    if not info.get("streams"):
        raise AudioError("no audio stream")
    seconds = float(info.get("format", {}).get("duration") or 0)
    if seconds <= 0:
        raise AudioError("empty audio")
    return seconds


def encode(source: Path, args: list[str], fmt: str, *, strict: bool = True) -> bytes:
    """Decode the whole source and encode it with `args`; `strict` fails on any damaged frame (a truncated
    or corrupt recording), which text-to-speech output, several MP3s end to end, would trip over."""
    with tempfile.TemporaryDirectory(prefix="loaban-audio-") as tmp:
        target = Path(tmp) / f"out.{fmt}"
        _run(
            [
                "ffmpeg",
                "-v",
                "error",
                *(["-xerror"] if strict else []),
                "-nostdin",
                "-y",
                "-i",
                str(source),
                "-vn",
                "-map_metadata",
                "-1",
                *args,
                "-f",
                fmt,
                str(target),
            ]
        )
        return target.read_bytes()


@contextmanager
def _written(data: bytes) -> Iterator[Path]:
    """Bytes in a temporary file, since ffmpeg probes and seeks its input."""
    with tempfile.TemporaryDirectory(prefix="loaban-audio-") as tmp:
        source = Path(tmp) / "in"
        source.write_bytes(data)
        yield source


def transcode(data: bytes, *, strict: bool = True) -> tuple[bytes, bytes, float]:
    """(OGG/Opus voice note, station MP3, seconds) from audio bytes in any format ffmpeg reads."""
    with _written(data) as source:
        seconds = duration(source)
        voice = encode(source, VOICE_ARGS, VOICE_FORMAT, strict=strict)
        return voice, encode(source, STATION_ARGS, STATION_FORMAT, strict=strict), seconds


def voice_note(data: bytes, *, strict: bool = True) -> tuple[bytes, float]:
    """(OGG/Opus voice note, seconds) alone, for chats only: a browser's WebM recording, spoken text. The
    length is read from the note made, since a browser's recording does not say it."""
    with _written(data) as source:
        voice = encode(source, VOICE_ARGS, VOICE_FORMAT, strict=strict)
    with _written(voice) as note:
        return voice, duration(note)


def pcm16k(data: bytes) -> bytes:
    """A recording in any format ffmpeg reads as the raw 16 kHz mono samples a recogniser listens to; a
    damaged frame is skipped rather than losing the rest of what the person said."""
    with _written(data) as source:
        return encode(source, PCM_ARGS, PCM_FORMAT, strict=False)
