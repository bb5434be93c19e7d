"""How many real-shaped Telegram updates Loa Bản handles per second, and how fast the reply reaches
Telegram, beside a bare python-telegram-bot echo bot behind the same web server, in the same run.

Each simulated person goes through onboarding and one free-text message, one step at a time (a step
waits for its replies, as a person would); many people run at once. The fake Bot API runs in this
process, its rate limits lifted (this measures our processing, not Telegram's 30/s cap, which
bench/broadcast.py measures). Loa Bản stores every update and reply in its database.

    python -m bench.updates [--people 500] [--concurrency 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests import factories
from tests.fakes.server import free_port
from tests.fakes.telegram_api import Call, FakeBotAPI

TOKEN = "123456:BENCH-TOKEN"
SECRET = "bench-webhook-secret"
ROOT = Path(__file__).resolve().parent.parent
# (update builder, replies Loa Bản sends for it): onboarding taps, typed place names, then free text.
ECHO = "python-telegram-bot echo (stores nothing)"
LOABAN = "Loa Bản (stores every message)"
# (update builder given the chat and its latest message id, what Loa Bản shows for it): taps go to the
# message carrying the button, as a person's do; Loa Bản answers a tap by editing that message in place.
SCRIPT: list[tuple[Callable[[int, int], dict[str, Any]], int]] = [
    (lambda c, _m: factories.text_update(c, "/start"), 1),
    (lambda c, m: factories.callback_update(c, "lang:vi", m), 1),
    (lambda c, _m: factories.text_update(c, "lai chau"), 1),
    (lambda c, _m: factories.text_update(c, "phong tho"), 1),
    (lambda c, m: factories.callback_update(c, "consent:yes", m), 2),
    (lambda c, _m: factories.text_update(c, "xin chào"), 1),
]
SHOWN = {"sendMessage", "editMessageText"}


@dataclass
class Arrivals:
    """Counts what each chat is shown (messages sent or edited) as the fake receives it, keeps each chat's
    latest message id, and wakes whoever waits."""

    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    latest: dict[int, int] = field(default_factory=dict)
    waiters: dict[int, tuple[int, asyncio.Future[float]]] = field(default_factory=dict)

    def record(self, call: Call) -> None:
        """Hook on the fake: one more accepted message for a chat."""
        if call.method not in SHOWN or call.status != 200 or call.chat_id is None:
            return
        self.counts[call.chat_id] += 1
        if call.method == "sendMessage":
            self.latest[call.chat_id] = self.latest.get(call.chat_id, 0) + 1  # the fake counts ids per chat
        waiting = self.waiters.get(call.chat_id)
        if waiting and self.counts[call.chat_id] >= waiting[0] and not waiting[1].done():
            waiting[1].set_result(time.perf_counter())

    def expect(self, chat_id: int, total: int) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the chat's `total`-th message."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.counts[chat_id] >= total:
            future.set_result(time.perf_counter())
        else:
            self.waiters[chat_id] = (total, future)
        return future


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """Figures of one bot under load."""

    name: str
    updates: int
    seconds: float
    latencies: list[float]
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Updates handled per second."""
        return self.updates / self.seconds

    def pct(self, q: float) -> float:
        """A latency percentile in milliseconds."""
        return statistics.quantiles(self.latencies, n=100)[int(q) - 1] * 1000


async def drive(
    url: str, arrivals: Arrivals, people: int, concurrency: int, first_chat: int, loaban: bool
) -> Result:
    """Run every simulated person's script; a step's latency is from its POST to its last reply's arrival."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with load_client(url, concurrency) as http:

        async def person(chat_id: int) -> None:
            async with gate:
                expected = 0
                for build, replies in SCRIPT:
                    expected += replies if loaban else 1
                    arrival = arrivals.expect(chat_id, expected)
                    start = time.perf_counter()
                    response = await http.post(
                        "/webhooks/telegram",
                        json=build(chat_id, arrivals.latest.get(chat_id, 1)),
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    )
                    response.raise_for_status()
                    latencies.append(await asyncio.wait_for(arrival, 60) - start)

        began = time.perf_counter()
        await asyncio.gather(*(person(first_chat + i) for i in range(people)))
        elapsed = time.perf_counter() - began
    return Result("", people * len(SCRIPT), elapsed, latencies)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve a fake platform in this event loop for the length of the block; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        # Keep idle connections open longer than clients keep them pooled: with uvicorn's 5 s default the
        # fake may close a connection just as a bot reuses it, and the bot's message is lost (ReadError).
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=75)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn exposes a flag, not an event)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def load_client(url: str, concurrency: int) -> httpx.AsyncClient:
    """The client a load bench posts through. Idle connections are dropped here before the bot's server
    (uvicorn: 5 s) closes them, so a request never goes out on a connection being closed (ReadError)."""
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
    )
    return httpx.AsyncClient(base_url=url, timeout=60, limits=limits)


def wait_healthy(url: str, path: str, proc: subprocess.Popen[bytes]) -> None:
    """Block until a child server answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + path, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


async def main_async(args: argparse.Namespace) -> None:
    """Start the fake, then each bot in turn as a child process, and drive it."""
    arrivals = Arrivals()
    fake = FakeBotAPI(TOKEN, global_rate=1e9, chat_rate=1e9, chat_burst=1e9, on_call=arrivals.record)
    runs: dict[str, list[Result]] = defaultdict(list)
    async with serving(fake.app) as api_url:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "LOABAN_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db",
                "LOABAN_TELEGRAM_TOKEN": TOKEN,
                "LOABAN_TELEGRAM_API_URL": api_url,
                "LOABAN_TELEGRAM_WEBHOOK_SECRET": SECRET,
                "LOABAN_PUBLIC_URL": "https://bench.loaban.invalid",
                # Telegram's 30 msg/s cap is lifted here as in the fake: the echo bot has no limiter either.
                "LOABAN_TELEGRAM_MAX_MESSAGES_PER_SECOND": "100000",
                "LOABAN_LOG_LEVEL": "warning",  # as the echo bot: no access log line per request
            }
            bots = [
                (
                    ECHO,
                    [sys.executable, "-m", "bench.echo_bot", "--api-url", api_url, "--token", TOKEN],
                    "/docs",
                    False,
                ),
                (LOABAN, [sys.executable, "-m", "bot.cli", "serve"], "/healthz", True),
            ]
            # Rounds alternate the two bots, so a noisy neighbour on a shared machine hurts both alike.
            for round_no in range(args.rounds):
                for i, (name, command, health, is_loaban) in enumerate(bots):
                    first_chat = 10_000_000 * (1 + i) + 100_000 * round_no
                    runs[name].append(
                        await run_bot(
                            name, command, health, is_loaban, env, Path(tmp), arrivals, args, first_chat
                        )
                    )
    report(runs, args)


async def run_bot(
    name: str,
    command: list[str],
    health: str,
    is_loaban: bool,
    env: dict[str, str],
    tmp: Path,
    arrivals: Arrivals,
    args: argparse.Namespace,
    first_chat: int,
) -> Result:
    """Start one bot as a child process, drive it, stop it."""
    async with child_server(command, env, tmp / f"{first_chat}.log", health) as (url, pid):
        cpu_before = cpu_seconds(pid)
        result = await drive(url, arrivals, args.people, args.concurrency, first_chat, is_loaban)
        result.name, result.cpu = name, cpu_seconds(pid) - cpu_before
        return result


@asynccontextmanager
async def child_server(
    command: list[str], env: dict[str, str], log_path: Path, health: str
) -> AsyncIterator[tuple[str, int]]:
    """A bot as a child process on a free port, answering `health` before the block and stopped (SIGINT:
    graceful for uvicorn, and lets a profiler write) after it; its log is shown if the block fails.
    Yields its URL and process id."""
    port = free_port()
    log = open(log_path, "wb")  # noqa: SIM115, ASYNC230  (closed after the child exits)
    proc = subprocess.Popen(  # noqa: ASYNC220  (started outside the timed part)
        [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_healthy, url, health, proc)
        yield url, proc.pid
    except Exception:
        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)  # noqa: ASYNC240  (failing anyway)
        raise
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)
        log.close()


def report(runs: dict[str, list[Result]], args: argparse.Namespace) -> None:
    """Medians over the rounds, side by side, and the ratio the target is about."""
    print(
        f"\n{args.people} people x {len(SCRIPT)} updates, {args.concurrency} people at once, "
        f"{args.rounds} alternating rounds (medians), "
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}, {os.cpu_count()}-core machine\n"
    )
    print(
        f"{'bot':45} {'updates/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/update':>14}  per round updates/s"
    )
    for name, results in runs.items():
        rate = statistics.median(r.rate for r in results)
        p50 = statistics.median(r.pct(50) for r in results)
        p95 = statistics.median(r.pct(95) for r in results)
        cpu = statistics.median(1000 * r.cpu / r.updates for r in results)
        rounds = ", ".join(f"{r.rate:.0f}" for r in results)
        print(f"{name:45} {rate:10.1f} {p50:8.1f} {p95:8.1f} {cpu:14.2f}  {rounds}")
    ratio = statistics.median(runs[LOABAN][i].rate / runs[ECHO][i].rate for i in range(args.rounds))
    verdict = "met" if ratio >= 0.5 else "NOT met"
    print(f"\nLoa Bản / echo bot throughput (median of rounds) = {ratio:.2f} (target >= 0.50: {verdict})")


def load_options(doc: str | None, *, people: int, rounds: int, database: str) -> argparse.Namespace:
    """The options every load bench takes: how many people, how many at once, rounds, the database."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=people)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--database-url", help=database)
    return parser.parse_args()


def main() -> None:
    """Parse options and run."""
    asyncio.run(
        main_async(load_options(__doc__, people=500, rounds=3, database="default: a throw-away SQLite file"))
    )


if __name__ == "__main__":
    main()
