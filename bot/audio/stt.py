"""Offline speech-to-text for villagers' voice notes: the optional `stt` extra (viet-asr, whose Vietnamese
model is built into its wheel, so installing it needs PyPI only). Where it is not installed nothing is
transcribed, queued or shown."""

from __future__ import annotations

import atexit
import importlib.util
import threading
from functools import cache
from typing import Any

from bot.audio import ffmpeg

ENGINE_MODULE = "vietasr"
SAMPLE_RATE = 16000
QUIET = 3  # the engine's log level for warnings and errors only (it logs each model load at INFO)
_loading = threading.Lock()


@cache
def available() -> bool:
    """Whether this process can transcribe: the engine is installed and ffmpeg decodes the notes."""
    return importlib.util.find_spec(ENGINE_MODULE) is not None and ffmpeg.available()


def _pipeline() -> Any:
    """The engine with its model loaded once per process (about 70 MB, two seconds); the engine serialises
    transcriptions on it by itself and uses one thread, so a runner's job never takes the whole machine."""
    with _loading:
        return _loaded()


@cache
def _loaded() -> Any:
    """Load the model (called under the lock, so two jobs starting together load it once)."""
    import vietasr
    from vietasr.ffi import native

    native.lib.vietasr_set_log_level(QUIET)
    pipeline = vietasr.Pipeline.preset("transcribe")
    atexit.register(pipeline.close)  # freed while cffi still works, not in the interpreter's teardown
    return pipeline


def transcribe(data: bytes) -> str:
    """What a recording says, in lower-case Vietnamese without punctuation ("" when nothing was heard);
    AudioError when ffmpeg cannot read it."""
    import numpy as np

    samples = np.frombuffer(ffmpeg.pcm16k(data), dtype=np.int16)
    if not samples.size:
        return ""
    return str(_pipeline().transcribe(samples, SAMPLE_RATE).text).strip()
