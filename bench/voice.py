"""How long '🔊 Nghe' takes: from the tap (the callback update posted to the webhook) to the voice note
reaching the fake Bot API, the first time (speech made by a job) and again (sent from the cache by
Telegram's file id), beside a plain text reply measured in the same run.

Loa Bản runs in this process on loopback (uvicorn in a thread) with the fake Bot API, its rate limits
lifted; speech is espeak-ng offline, or gTTS through the loopback stand-in (which itself runs espeak-ng).
Before each first-time tap the cache is emptied, so every one of them makes its speech again.

    python -m bench.voice [--taps 30] [--engine espeak|gtts]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import delete

from bot.config import PROJECT_ROOT, Settings
from bot.content import import_all
from bot.db import Database
from bot.migrations import upgrade
from bot.qa.engine import load_embedder
from bot.qa.knowledge import Knowledge
from bot.server import create_app
from bot.voice.models import VoiceClip
from tests.drivers import TelegramDriver, onboard
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI

TOKEN = "123456:BENCH-TOKEN"
SECRET = "s3cret-webhook-token_for-tests"  # what tests.drivers posts with
CHAT = 9_100_001
QUESTION = "the bao hiem y te cho nguoi dan toc co mat tien ko"


def arrival(fake: FakeBotAPI, methods: set[str], seen: int, timeout: float = 60.0) -> float:
    """When the next message of these kinds (after the `seen` first) reached the fake (monotonic)."""
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in fake.sent(CHAT) if c.method in methods and c.status == 200]
        if len(calls) > seen:
            return calls[seen].at
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {methods} after {seen}")
        time.sleep(0.002)


def timed(fake: FakeBotAPI, methods: set[str], act: Callable[[], object]) -> float:
    """Seconds from an action's start to the arrival of the message it caused."""
    seen = len([c for c in fake.sent(CHAT) if c.method in methods and c.status == 200])
    start = time.monotonic()
    act()
    return arrival(fake, methods, seen) - start


def percentiles(name: str, seconds: list[float]) -> str:
    """One line of figures in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return (
        f"{name:<44} n={len(seconds):<3} p50 {cuts[49] * 1000:7.0f} ms   p95 {cuts[94] * 1000:7.0f} ms"
        f"   max {max(seconds) * 1000:7.0f} ms"
    )


def main() -> None:
    """Onboard one person, get an answer, then time text replies and first and repeated '🔊 Nghe' taps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=30)
    parser.add_argument("--engine", choices=["espeak", "gtts"], default="espeak")
    args = parser.parse_args()
    fake = FakeBotAPI(TOKEN, global_rate=1e9, chat_rate=1e9, chat_burst=1e9).start()
    google = FakeGoogleTTS().start() if args.engine == "gtts" else None
    with tempfile.TemporaryDirectory(prefix="loaban-bench-voice-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        with db.transaction() as session:
            import_all(session, PROJECT_ROOT / "content")
        knowledge = Knowledge(db, Settings.model_fields["timezone"].default, embedder=load_embedder())
        knowledge.warm()  # the passages' vectors are kept: the server's own warm-up then takes seconds
        knowledge.stop()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            media_dir=Path(tmp) / "media",
            telegram_token=TOKEN,
            telegram_api_url=fake.url,
            telegram_webhook_secret=SECRET,
            public_url="https://bench.loaban.invalid",
            telegram_max_messages_per_second=100_000,
            tts_engine=args.engine,
            gtts_url=google.url if google else "http://127.0.0.1:9",
            log_level="warning",
        )
        live = LiveServer(create_app(settings)).start()
        try:
            with httpx.Client(base_url=live.url, timeout=60) as client:
                person = TelegramDriver(client, fake, db, CHAT)
                onboard(person)
                listen = person.send(QUESTION)[0].payload("🔊 Nghe")
                text, first, again = [], [], []
                for _ in range(args.taps):
                    text.append(timed(fake, {"sendMessage"}, lambda: person.send("xin chào")))
                    with db.transaction() as session:
                        session.execute(delete(VoiceClip))
                    first.append(timed(fake, {"sendVoice"}, lambda: person.tap(listen)))
                    again.append(timed(fake, {"sendVoice"}, lambda: person.tap(listen)))
                voice = fake.sent(CHAT, "sendVoice")[0]
        finally:
            live.stop()
            db.dispose()
            fake.stop()
            if google is not None:
                google.stop()
    print(f"'🔊 Nghe' on one Q&A answer, speech by {args.engine}, through the fake Bot API (2 cores shared)")
    print(percentiles("plain text reply ('xin chào' -> sendMessage)", text))
    print(percentiles("🔊 first tap (speech made by a job)", first))
    print(percentiles("🔊 again (cached, sent by Telegram file id)", again))
    size = len(voice.files.get("voice", b""))
    print(f"voice note: {size / 1000:.1f} KB for {voice.params.get('duration')} s (OGG/Opus 16 kbps)")


if __name__ == "__main__":
    main()
