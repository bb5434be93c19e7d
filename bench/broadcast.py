"""How fast a bulletin reaches 5,000 people through the fake Bot API with Telegram's limits on (30
messages/s overall, 1/s per chat), what a kill -9 half way costs, and how many bytes a minute of voice
note weighs against gTTS's MP3, beside a baseline in the same run: a bare python-telegram-bot loop that
sends the same voice note by file_id through the same rate limiter and stores nothing.

    python -m bench.broadcast [--recipients 5000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from telegram.ext import AIORateLimiter, ApplicationBuilder

from bot.audio import service as audio
from bot.bulletins import service as bulletins
from bot.config import Settings
from bot.db import Database, utcnow
from bot.migrations import upgrade
from bot.people.models import Identity, Person
from tests.fakes.gtts_api import speak_mp3
from tests.fakes.server import free_port
from tests.fakes.telegram_api import Call, FakeBotAPI

TOKEN = "123456:BENCH-TOKEN"
COMMUNE, PROVINCE = 3549, 12
LIMIT = 30.0
TEXT = (
    "Thông báo của Ủy ban nhân dân xã: từ ngày 1 tháng 12, các hộ nghèo và cận nghèo được vay vốn ưu đãi "
    "tại Ngân hàng Chính sách xã hội để sản xuất, chăn nuôi và trồng rừng. "
    "Bà con mang theo căn cước công dân và sổ hộ khẩu đến Ủy ban nhân dân xã "
    "vào sáng thứ Hai hoặc thứ Tư hằng tuần để được hướng dẫn. "
    "Người có uy tín ở các thôn, bản giúp truyền đạt thông tin này đến các hộ gia đình."
)


def prepare(url: str, media: Path, recipients: int) -> int:
    """A migrated database with `recipients` onboarded Telegram people and a queued bulletin."""
    upgrade(url)
    settings = Settings(_env_file=None, database_url=url, media_dir=media, tts_engine="espeak")  # type: ignore[call-arg]
    clip = audio.clip_for(settings, TEXT, "vi")
    db = Database(url)
    with db.transaction() as session:
        now = utcnow()
        session.execute(
            insert(Person),
            [
                {
                    "id": i,
                    "display_name": f"P{i}",
                    "language": "vi",
                    "province_code": PROVINCE,
                    "commune_code": COMMUNE,
                    "consented_at": now,
                }
                for i in range(1, recipients + 1)
            ],
        )
        session.execute(
            insert(Identity),
            [
                {"person_id": i, "urn": f"telegram:{10_000_000 + i}", "channel": "telegram"}
                for i in range(1, recipients + 1)
            ],
        )
        stored = audio.store(session, media, clip) if clip else None
        bulletin = bulletins.create(
            session,
            title="Vay vốn ưu đãi",
            versions=[("vi", TEXT, stored)],
            audience=bulletins.Audience(communes=(COMMUNE,)),
        )
        bulletins.send(session, bulletin, lead=timedelta(0))
        bulletin_id = bulletin.id
    db.dispose()
    return bulletin_id


def progress(url: str, bulletin_id: int) -> bulletins.Progress:
    """The bulletin's counts now."""
    db = Database(url)
    try:
        with db.transaction() as session:
            return bulletins.progress(session, bulletin_id)
    finally:
        db.dispose()


def start_worker(
    url: str, fake: FakeBotAPI, media: Path, concurrency: int, rate: float
) -> subprocess.Popen[bytes]:
    """`loaban worker` as its own process, as in production."""
    env = os.environ | {
        "LOABAN_DATABASE_URL": url,
        "LOABAN_TELEGRAM_TOKEN": TOKEN,
        "LOABAN_TELEGRAM_API_URL": fake.url,
        "LOABAN_MEDIA_DIR": str(media),
        "LOABAN_QUIET_HOURS": "",
        "LOABAN_QA_SEMANTIC": "false",
        "LOABAN_LOG_LEVEL": "warning",
        "LOABAN_DELIVERY_CONCURRENCY": str(concurrency),
        "LOABAN_TELEGRAM_MAX_MESSAGES_PER_SECOND": str(rate),
        "LOABAN_PORT": str(free_port()),
    }
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=subprocess.DEVNULL)


def run_loaban(recipients: int, concurrency: int, rate: float, *, kill_at: float | None) -> dict[str, Any]:
    """One broadcast by the real worker; optionally kill -9 it at a fraction of the way and restart."""
    holder: dict[str, subprocess.Popen[bytes]] = {}
    killed: dict[str, int] = {}

    def on_call(call: Call) -> None:
        voice = call.method == "sendVoice" and call.status == 200
        if (
            kill_at is not None
            and not killed
            and voice
            and len(fake.sent(method="sendVoice")) >= kill_at * recipients
        ):
            killed["after"] = len(fake.sent(method="sendVoice"))
            os.kill(holder["proc"].pid, signal.SIGKILL)

    fake = FakeBotAPI(TOKEN, on_call=on_call).start()
    with tempfile.TemporaryDirectory(prefix="loaban-bench-") as tmp:
        url, media = f"sqlite:///{tmp}/bench.db", Path(tmp) / "media"
        bulletin_id = prepare(url, media, recipients)
        holder["proc"] = start_worker(url, fake, media, concurrency, rate)
        if kill_at is not None:
            holder["proc"].wait()
            holder["proc"] = start_worker(url, fake, media, concurrency, rate)
        while progress(url, bulletin_id).pending:
            time.sleep(0.5)
        final = progress(url, bulletin_id)
        holder["proc"].send_signal(signal.SIGTERM)
        holder["proc"].wait()
    fake.stop()
    voices = fake.sent(method="sendVoice")
    chats = [c.chat_id for c in voices]
    span = voices[-1].at - voices[0].at
    return {
        "rate": sustained(voices),
        "429": sum(1 for c in fake.calls if c.status == 429),
        "duplicates": len(chats) - len(set(chats)),
        "lost": recipients - len(set(chats)),
        "in_flight": final.retaken,
        "killed_after": killed.get("after"),
        "seconds": span,
    }


async def run_baseline(recipients: int, rate: float) -> dict[str, Any]:
    """PTB alone: the same voice note to every chat, by file_id after one upload, through AIORateLimiter
    at 30/s, `recipients` tasks at once; nothing stored, nothing resumable."""
    fake = FakeBotAPI(TOKEN).start()
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .rate_limiter(AIORateLimiter(overall_max_rate=rate, max_retries=5))
        .build()
    )
    await app.initialize()
    data = speak_mp3(TEXT, "vi")
    first = await app.bot.send_voice(10_000_001, data)
    file_id = first.voice.file_id if first.voice else ""
    await asyncio.gather(*(app.bot.send_voice(10_000_000 + i, file_id) for i in range(2, recipients + 1)))
    await app.shutdown()
    fake.stop()
    voices = fake.sent(method="sendVoice")
    chats = [c.chat_id for c in voices]
    return {
        "rate": sustained(voices),
        "429": sum(1 for c in fake.calls if c.status == 429),
        "duplicates": len(chats) - len(set(chats)),
        "lost": recipients - len(set(chats)),
        "in_flight": "-",
        "killed_after": None,
        "seconds": voices[-1].at - voices[0].at,
    }


def sustained(calls: list[Call]) -> float:
    """Messages a second after the first second's burst (Telegram, like the fake, lets 30 go at once)."""
    steady = calls[int(LIMIT) :]
    return (len(steady) - 1) / (steady[-1].at - steady[0].at)


def audio_sizes() -> tuple[float, float]:
    """KB per minute: Loa Bản's Opus voice note and gTTS's MP3 (as the stand-in serves Google's format)."""
    mp3 = speak_mp3(TEXT, "vi")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, media_dir=Path(tmp), tts_engine="espeak")  # type: ignore[call-arg]
        voice, _station, seconds = audio.ffmpeg.transcode(mp3, strict=False)
        clip = audio.clip_for(settings, TEXT, "vi")
        assert clip is not None
    minutes = seconds / 60
    return len(voice) / 1000 / minutes, len(mp3) / 1000 / minutes


def main() -> None:
    """Run the three broadcasts and print them side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--rate",
        type=float,
        default=Settings(_env_file=None).telegram_max_messages_per_second,  # type: ignore[call-arg]
        help="the senders' pace (default: Loa Bản's setting); the fake allows 30/s",
    )
    args = parser.parse_args()
    rows = [
        ("python-telegram-bot loop (stores nothing)", asyncio.run(run_baseline(args.recipients, args.rate))),
        ("Loa Bản worker", run_loaban(args.recipients, args.concurrency, args.rate, kill_at=None)),
        (
            "Loa Bản worker, kill -9 at 50% + restart",
            run_loaban(args.recipients, args.concurrency, args.rate, kill_at=0.5),
        ),
    ]
    print(
        f"\n{args.recipients} recipients, Telegram limits on (30/s overall, 1/s per chat), senders paced at "
        f"{args.rate:g}/s, 2 cores, SQLite\n"
    )
    print("| sender | msg/s | share of 30/s | 429s | duplicates | lost | rows in flight at kill | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['rate']:.1f} | {r['rate'] / LIMIT:.3f} | {r['429']} | {r['duplicates']} "
            f"| {r['lost']} | {r['in_flight']} | {r['seconds']:.0f} |"
        )
    opus, mp3 = audio_sizes()
    print(
        f"\nVoice note (OGG/Opus mono 24 kbps): {opus:.0f} KB/min; "
        f"gTTS MP3 (24 kHz mono 32 kbps): {mp3:.0f} KB/min"
    )


if __name__ == "__main__":
    main()
