"""A loopback stand-in for the Google Translate endpoint gTTS calls: it answers gTTS's batchexecute RPC
in Google's framing with base64 MP3 (24 kHz mono, 32 kbps, as Google returns), spoken by espeak-ng, so
the real gTTS client runs end to end offline."""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.server import LoopbackService

ESPEAK_VOICES = {"vi": "vi", "en": "en", "zh-CN": "cmn", "km": "vi", "th": "vi"}


def speak_mp3(text: str, lang: str) -> bytes:
    """Speech as Google's TTS would send it: MP3, 24 kHz, mono, 32 kbps."""
    with tempfile.TemporaryDirectory() as tmp:
        wav, mp3 = Path(tmp) / "s.wav", Path(tmp) / "s.mp3"
        subprocess.run(
            ["espeak-ng", "-v", ESPEAK_VOICES.get(lang, "vi"), "-w", str(wav), "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-i",
                str(wav),
                "-ac",
                "1",
                "-ar",
                "24000",
                "-b:a",
                "32k",
                str(mp3),
            ],
            check=True,
            capture_output=True,
        )
        return mp3.read_bytes()


class FakeGoogleTTS(LoopbackService):
    """The stand-in server; `requests` records (text, lang) of every RPC, `fail` makes it answer 503."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.fail = False
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/_/TranslateWebserverUi/data/batchexecute", self._batch, methods=["POST"])]
        )

    async def _batch(self, request: Request) -> Response:
        """Decode `f.req=[[["jQ1olc","[text,lang,speed,null]",null,"generic"]]]` and answer with audio."""
        if self.fail:
            return PlainTextResponse("Service Unavailable", status_code=503)
        form = parse_qs((await request.body()).decode())
        rpc = json.loads(form["f.req"][0])[0][0]
        if rpc[0] != "jQ1olc":
            return PlainTextResponse("unknown rpc", status_code=400)
        text, lang = json.loads(rpc[1])[:2]
        with self._lock:
            self.requests.append((text, lang))
        audio = base64.b64encode(speak_mp3(text, lang)).decode()
        inner = json.dumps([audio], separators=(",", ":"))
        payload = json.dumps(
            [["wrb.fr", "jQ1olc", inner, None, None, None, "generic"]], separators=(",", ":")
        )
        return PlainTextResponse(f")]}}'\n\n{len(payload)}\n{payload}\n", media_type="application/json")
