"""How fast a bulletin reaches 5,000 people through the fake Bot API with Telegram's limits on (30
messages/s overall, 1/s per chat), what a kill -9 half way costs, and how many bytes a minute of voice
note weighs against gTTS's MP3, beside a baseline in the same run: a bare python-telegram-bot loop that
sends the same voice note by file_id through PTB's rate limiter and stores nothing. Then the same
broadcast on PostgreSQL (a database of its own, dropped after) by one `loaban worker` and by N of them
sharing the work and the rate (in PostgreSQL, or in Redis with --redis), with one of the N killed -9 half
way: each figure beside today's single sender on SQLite. With --paid the bulletin is an urgent warning
sent by Telegram's paid broadcast (the fake allows 1,000/s to such calls).

    python -m bench.broadcast [--recipients 5000] [--concurrency 16] [--workers 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/0]
        [--paid] [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from telegram.ext import AIORateLimiter, ApplicationBuilder

from bot.audio import service as audio
from bot.bulletins import outbox
from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, Delivery, DeliveryStatus
from bot.channels.telegram import PAID_BROADCAST_RATE
from bot.config import Settings
from bot.db import Database, utcnow
from bot.media import store
from bot.migrations import upgrade
from bot.people.models import Identity, Person
from tests.fakes.gtts_api import speak_mp3
from tests.fakes.server import free_port
from tests.fakes.telegram_api import Call, FakeBotAPI

TOKEN = "123456:BENCH-TOKEN"
BASELINE = "python-telegram-bot loop, a process of its own (stores nothing)"
BARE_SENDERS = 128  # the baseline's sends in flight at once: enough for 1,000/s at a 100 ms round trip
COMMUNE, PROVINCE = 3549, 12
LIMIT, PAID_LIMIT = 30.0, 1000.0  # the fake's rates: messages/s, and with allow_paid_broadcast
TEXT = (
    "Thông báo của Ủy ban nhân dân xã: từ ngày 1 tháng 12, các hộ nghèo và cận nghèo được vay vốn ưu đãi "
    "tại Ngân hàng Chính sách xã hội để sản xuất, chăn nuôi và trồng rừng. "
    "Bà con mang theo căn cước công dân và sổ hộ khẩu đến Ủy ban nhân dân xã "
    "vào sáng thứ Hai hoặc thứ Tư hằng tuần để được hướng dẫn. "
    "Người có uy tín ở các thôn, bản giúp truyền đạt thông tin này đến các hộ gia đình."
)


def prepare(url: str, media: Path, recipients: int, *, urgent: bool = False) -> int:
    """A migrated database with `recipients` onboarded Telegram people and a queued bulletin."""
    upgrade(url)
    settings = Settings(_env_file=None, database_url=url, media_dir=media, tts_engine="espeak")  # type: ignore[call-arg]
    clip = audio.clip_for(settings, TEXT, "vi")
    db = Database(url)
    uploaded = audio.upload(db, store.of(settings), clip) if clip else None  # before the transaction
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
        stored = audio.record(session, store.of(settings), uploaded) if uploaded else None
        bulletin = bulletins.create(
            session,
            title="Vay vốn ưu đãi",
            versions=[("vi", TEXT, stored)],
            audience=bulletins.Audience(communes=(COMMUNE,)),
        )
        bulletins.send(session, bulletin, lead=timedelta(0), urgent=urgent)
        bulletin_id = bulletin.id
    outbox.build(db, {}, bulletin_id)  # everyone is on Telegram, which has no reply window
    db.dispose()
    return bulletin_id


LOOKS: dict[str, Database] = {}  # the bench's own engine per database, for looking in while workers send


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A transaction on the bench's own engine, kept for the run: the bench looks in ten times a second
    from the process that also serves the fake Bot API, and a new engine each time (a connection, the
    dialect's first queries) showed in a paid-broadcast profile of this process with more samples than
    the fake's request handling, holding the interpreter lock the fake needs."""
    if url not in LOOKS:
        LOOKS[url] = Database(url)
    with LOOKS[url].transaction() as session:
        yield session


def stop_looking(url: str) -> None:
    """Close the bench's engine on a database about to be dropped."""
    db = LOOKS.pop(url, None)
    if db is not None:
        db.dispose()


def progress(url: str, bulletin_id: int) -> bulletins.Progress:
    """The bulletin's counts now."""
    with transaction(url) as session:
        return bulletins.progress(session, bulletin_id)


def in_flight(url: str, pid: int) -> int:
    """Rows a worker has in flight (claimed, not recorded): at a kill, the most that can be sent twice."""
    with transaction(url) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Delivery.status == DeliveryStatus.sending,
                    Delivery.claimed_by.startswith(f"{socket.gethostname()}:{pid}:"),
                )
            )
            or 0
        )


def cut_connections(url: str, application: str) -> int:
    """Drop every database connection of one worker, as a failover or a restarted pooler does."""
    with transaction(url) as session:
        found = session.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"),
            {"a": application},
        )
        return len(found.all())


def is_done(url: str, bulletin_id: int) -> bool:
    """Whether the bulletin reached "done"."""
    with transaction(url) as session:
        return session.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id)) == "done"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped afterwards."""
    name = f"loaban_bench_{secrets.token_hex(4)}"
    server = make_url(admin_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def start_worker(
    url: str,
    fake: FakeBotAPI,
    media: Path,
    concurrency: int,
    rate: float,
    redis: str | None = None,
    *,
    paid: bool = False,
    name: str = "loaban-worker",
) -> subprocess.Popen[bytes]:
    """`loaban worker` as its own process, as in production; `name` is its database application name."""
    if url.startswith("postgresql"):
        url = f"{url}{'&' if '?' in url else '?'}application_name={name}"
    env = os.environ | {
        "LOABAN_DATABASE_URL": url,
        "LOABAN_TELEGRAM_TOKEN": fake.token,
        "LOABAN_TELEGRAM_API_URL": fake.url,
        "LOABAN_MEDIA_DIR": str(media),
        "LOABAN_QUIET_HOURS": "",
        "LOABAN_QA_SEMANTIC": "false",
        "LOABAN_LOG_LEVEL": "warning",
        "LOABAN_DELIVERY_CONCURRENCY": str(concurrency),
        "LOABAN_TELEGRAM_MAX_MESSAGES_PER_SECOND": str(rate),
        "LOABAN_PORT": str(free_port()),
        "LOABAN_TELEGRAM_PAID_BROADCAST": str(paid).lower(),
    }
    if redis:
        env["LOABAN_REDIS_URL"] = redis
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=subprocess.DEVNULL)


def run_loaban(
    recipients: int,
    concurrency: int,
    rate: float,
    *,
    kill_at: float | None,
    cut_at: float | None = None,
    workers: int = 1,
    postgres: str | None = None,
    redis: str | None = None,
    paid: bool = False,
) -> dict[str, Any]:
    """One broadcast by `workers` real worker processes (SQLite: one, as there only the lease holder
    sends). Optionally kill -9 the first at a fraction of the way (alone, it is started again) and cut
    every database connection of the second at another (PostgreSQL). `paid`: an urgent warning, sent by
    Telegram's paid broadcast."""
    voices_sent = itertools.count()
    sent_so_far = [0]

    def on_call(call: Call) -> None:
        if call.method == "sendVoice" and call.status == 200:
            sent_so_far[0] = next(voices_sent) + 1

    # A bot of its own per run: its shared rate (in PostgreSQL or Redis) starts afresh.
    fake = FakeBotAPI(f"{secrets.randbelow(10**9)}:BENCH-TOKEN", on_call=on_call).start()
    names = [f"loaban-bench-{i}-{secrets.token_hex(3)}" for i in range(workers)]
    killed: dict[str, int] = {}
    in_flight_at: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="loaban-bench-") as tmp,
        postgres_database(postgres) if postgres else _sqlite(tmp) as url,
    ):
        media = Path(tmp) / "media"
        bulletin_id = prepare(url, media, recipients, urgent=paid)
        start = partial(start_worker, url, fake, media, concurrency, rate, redis, paid=paid)
        procs = [start(name=name) for name in names]
        while progress(url, bulletin_id).pending:
            done = sent_so_far[0] / recipients
            if kill_at is not None and not killed and done >= kill_at:
                killed["after"], killed["pid"] = sent_so_far[0], procs[0].pid
                os.kill(procs[0].pid, signal.SIGKILL)
                procs[0].wait()
                in_flight_at["kill"] = in_flight(url, killed["pid"])
                if workers == 1:
                    procs[0] = start(name=names[0])
            if cut_at is not None and workers > 1 and "cut" not in in_flight_at and done >= cut_at:
                in_flight_at["cut"] = in_flight(url, procs[1].pid)
                cut_connections(url, names[1])
            time.sleep(0.1)
        final, done_at = progress(url, bulletin_id), time.monotonic() + 60
        while not (finished := is_done(url, bulletin_id)) and time.monotonic() < done_at:
            time.sleep(0.5)  # the lease holder moves it to "done" at its next housekeeping
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait()
        stop_looking(url)
    fake.stop()
    voices = fake.sent(method="sendVoice")
    chats = [c.chat_id for c in voices]
    return {
        "rate": sustained(voices, PAID_LIMIT if paid else LIMIT),
        "429": fake.too_many(),
        "duplicates": len(chats) - len(set(chats)),
        "lost": recipients - len(set(chats)),
        "in_flight": " + ".join(str(n) for n in in_flight_at.values()) or "-",
        "retaken": final.retaken,
        "killed_after": killed.get("after"),
        "seconds": voices[-1].at - voices[0].at,
        "done": finished,
    }


@contextmanager
def _sqlite(tmp: str) -> Iterator[str]:
    """A SQLite file in the run's folder."""
    yield f"sqlite:///{tmp}/bench.db"


def run_baseline(recipients: int, rate: float, *, paid: bool = False) -> dict[str, Any]:
    """PTB alone, in a process of its own as a worker is, against the same fake: the same voice note to
    every chat by file_id after one upload, through AIORateLimiter (`rate`, or with `paid` Telegram's
    paid-broadcast pace); nothing stored, nothing resumable. With `paid`
    it is this machine's ceiling: no sender here goes faster through this fake."""
    fake = FakeBotAPI(TOKEN).start()
    call = f"{fake.url!r}, {recipients}, {rate}, {paid}"
    loop = f"import asyncio, bench.broadcast as b; asyncio.run(b.bare_loop({call}))"
    subprocess.run([sys.executable, "-c", loop], check=True)
    fake.stop()
    voices = fake.sent(method="sendVoice")
    chats = [c.chat_id for c in voices]
    return {
        "rate": sustained(voices, PAID_LIMIT if paid else LIMIT),
        "429": fake.too_many(),
        "duplicates": len(chats) - len(set(chats)),
        "lost": recipients - len(set(chats)),
        "in_flight": "-",
        "retaken": "-",
        "killed_after": None,
        "seconds": voices[-1].at - voices[0].at,
    }


async def bare_loop(url: str, recipients: int, rate: float, paid: bool) -> None:
    """The baseline's sender: BARE_SENDERS tasks taking the next chat as each send ends (a task per
    message would leave the rate limiter waking thousands of waiters for each one it lets go), over a pool
    of connections as wide."""
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{url}/bot")
        .connection_pool_size(BARE_SENDERS)
        .pool_timeout(60)
        .rate_limiter(AIORateLimiter(overall_max_rate=rate, max_retries=5))
        .build()
    )
    await app.initialize()
    first = await app.bot.send_voice(10_000_001, speak_mp3(TEXT, "vi"))
    file_id = first.voice.file_id if first.voice else ""
    chats = iter(range(10_000_002, 10_000_000 + recipients + 1))

    async def send_on() -> None:
        for chat in chats:
            await app.bot.send_voice(chat, file_id, allow_paid_broadcast=paid)

    await asyncio.gather(*(send_on() for _ in range(BARE_SENDERS)))
    await app.shutdown()


def sustained(calls: list[Call], limit: float) -> float:
    """Messages a second after the first second's burst (Telegram, like the fake, lets `limit` go at
    once)."""
    steady = calls[int(limit) :]
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


def postgres_runs(
    broadcast: Callable[..., dict[str, Any]], workers: int, postgres: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """On PostgreSQL, one after the other: one worker (today's single sender), `workers` sharing the
    outbox, and `workers` of which one is killed -9 a third of the way and another has its database
    connections cut half way."""
    n = workers
    yield "Loa Bản, 1 worker, PostgreSQL (single sender)", broadcast(kill_at=None, postgres=postgres)
    yield f"Loa Bản, {n} workers, PostgreSQL", broadcast(kill_at=None, workers=n, postgres=postgres)
    yield (
        f"Loa Bản, {n} workers, PostgreSQL, kill -9 of one at 1/3, connections of another cut at 1/2",
        broadcast(kill_at=1 / 3, cut_at=1 / 2, workers=n, postgres=postgres),
    )


def print_header(limit: float) -> None:
    """The head of a Markdown table of runs."""
    print(
        f"| sender | msg/s | rate ÷ {limit:g}/s | 429s | duplicates | lost | rows in flight at kill (+ cut) "
        "| retaken | done | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)


def print_row(name: str, r: dict[str, Any], limit: float) -> None:
    """One run's line, printed as soon as it is over."""
    print(
        f"| {name} | {r['rate']:.1f} | {r['rate'] / limit:.3f} | {r['429']} | {r['duplicates']} "
        f"| {r['lost']} | {r['in_flight']} | {r['retaken']} | {r.get('done', '-')} | {r['seconds']:.0f} |",
        flush=True,
    )


def main() -> None:
    """Run the broadcasts and print them side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--rate",
        type=float,
        default=Settings(_env_file=None).telegram_max_messages_per_second,  # type: ignore[call-arg]
        help="the senders' pace (default: Loa Bản's setting); the fake allows 30/s",
    )
    parser.add_argument("--workers", type=int, default=3, help="worker processes sharing the outbox")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server the bench may create (and drop) a database on; empty to skip",
    )
    parser.add_argument("--redis", default="", help="also share the rate through this Redis")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL runs")
    parser.add_argument(
        "--paid", action="store_true", help="an urgent warning by paid broadcast (the fake: 1,000/s)"
    )
    args = parser.parse_args()
    n, pg, limit = args.workers, args.postgres, PAID_LIMIT if args.paid else LIMIT
    broadcast = partial(run_loaban, args.recipients, args.concurrency, args.rate, paid=args.paid)
    rows = [
        (
            BASELINE,
            run_baseline(args.recipients, PAID_BROADCAST_RATE if args.paid else args.rate, paid=args.paid),
        )
    ]
    if not args.skip_sqlite:
        rows += [
            ("Loa Bản, 1 worker, SQLite (today's single sender)", broadcast(kill_at=None)),
            ("Loa Bản, 1 worker, SQLite, kill -9 at 50% + restart", broadcast(kill_at=0.5)),
        ]
    if pg:
        rows += list(postgres_runs(broadcast, n, pg))
    if pg and args.redis:
        shared = broadcast(kill_at=None, workers=n, postgres=pg, redis=args.redis)
        rows.append((f"Loa Bản, {n} workers, PostgreSQL, rate in Redis", shared))
    pace = "paid broadcast at 990/s" if args.paid else f"{args.rate:g}/s"
    print(
        f"\n{args.recipients} recipients, Telegram limits on (30/s overall, 1,000/s by paid broadcast, 1/s "
        f"per chat), senders paced at {pace} (together, when they share the rate), 2 cores\n"
    )
    print_header(limit)
    for name, run in rows:
        print_row(name, run, limit)
    opus, mp3 = audio_sizes()
    print(
        f"\nVoice note (OGG/Opus mono 16 kbps): {opus:.0f} KB/min; "
        f"gTTS MP3 (24 kHz mono 32 kbps): {mp3:.0f} KB/min"
    )


if __name__ == "__main__":
    main()
