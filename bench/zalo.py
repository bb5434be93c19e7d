"""How fast Loa Bản answers Zalo's webhook (Zalo sends an event again when the answer takes over 2 s) and
how fast the reply reaches the person, under many people at once, beside a bare echo bot behind the same
web server (bench/zalo_echo.py: checks the signature, answers, echoes the text, stores nothing), in the
same run. The fake Zalo runs in this process with its rate limit lifted.

Each simulated person follows the OA and goes through onboarding by typing (a number for the language, the
province and commune by name, the consent button's text), then asks a question; a step waits for its
replies, as a person would.

    python -m bench.zalo [--people 300] [--concurrency 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.updates import child_server, cpu_seconds, load_client, load_options, serving
from tests.fakes import zalo_api
from tests.fakes.zalo_api import FakeZalo

ROOT = Path(__file__).resolve().parent.parent
ECHO = "echo bot (checks the signature, stores nothing)"
LOABAN = "Loa Bản (stores, then handles after the 200)"
# (event name, text, replies Loa Bản sends): the echo bot answers every event once.
SCRIPT: list[tuple[str, str, int]] = [
    ("follow", "", 1),
    ("user_send_text", "1", 1),
    ("user_send_text", "lai chau", 1),
    ("user_send_text", "phong tho", 1),
    ("user_send_text", "✅ Tôi đồng ý", 2),
    ("user_send_text", "ho ngheo vay von the nao", 1),
]
ZALO_LIMIT = 2.0  # seconds Zalo waits for the webhook's answer


@dataclass
class Result:
    """Figures of one bot under load."""

    name: str
    events: int
    seconds: float
    answers: list[float] = field(default_factory=list)  # webhook answer times
    replies: list[float] = field(default_factory=list)  # from the POST to the step's last reply
    cpu: float = 0.0

    @staticmethod
    def pct(values: list[float], q: int) -> float:
        """A percentile in milliseconds."""
        return statistics.quantiles(values, n=100)[q - 1] * 1000


async def drive(
    url: str, fake: FakeZalo, people: int, concurrency: int, first_user: int, loaban: bool
) -> Result:
    """Run every person's script; returns answer and reply times."""
    result = Result("", people * len(SCRIPT), 0.0)
    gate = asyncio.Semaphore(concurrency)
    async with load_client(url, concurrency) as http:

        async def person(user_id: str) -> None:
            async with gate:
                expected = 0
                for name, text, replies in SCRIPT:
                    expected += replies if loaban else 1
                    event = fake.event(name, user_id, {"text": text} if text else None)
                    raw, headers = fake.signed(event)
                    start = time.perf_counter()
                    response = await http.post("/webhooks/zalo", content=raw, headers=headers)
                    result.answers.append(time.perf_counter() - start)
                    response.raise_for_status()
                    deadline = start + 60
                    while len(fake.to(user_id)) < expected:
                        if time.perf_counter() > deadline:
                            raise RuntimeError(f"{user_id}: no reply to {name} {text!r}")
                        await asyncio.sleep(0.005)
                    result.replies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(person(str(first_user + i)) for i in range(people)))
        result.seconds = time.perf_counter() - began
    return result


async def run_bot(
    name: str,
    command: list[str],
    env: dict[str, str],
    fake: FakeZalo,
    args: argparse.Namespace,
    first_user: int,
) -> Result:
    """Start one bot as a child process, drive it, stop it."""
    log_path = Path(env["BENCH_TMP"]) / f"{first_user}.log"
    async with child_server(command, env, log_path, "/healthz") as (url, pid):
        cpu_before = cpu_seconds(pid)
        result = await drive(url, fake, args.people, args.concurrency, first_user, name == LOABAN)
        result.name, result.cpu = name, cpu_seconds(pid) - cpu_before
        return result


async def main_async(args: argparse.Namespace) -> None:
    """Serve the fake Zalo here, then each bot in turn as a child process."""
    fake = FakeZalo(rate=1e9)
    results: dict[str, list[Result]] = defaultdict(list)
    async with serving(fake.app) as api:
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds):
                fake.refresh_token = zalo_api.FIRST_REFRESH_TOKEN  # each bot starts as a new deployment
                env = {
                    **os.environ,
                    "LOABAN_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench{round_no}.db",
                    "LOABAN_ZALO_APP_ID": zalo_api.APP_ID,
                    "LOABAN_ZALO_APP_SECRET": zalo_api.APP_SECRET,
                    "LOABAN_ZALO_OA_SECRET_KEY": zalo_api.OA_SECRET,
                    "LOABAN_ZALO_REFRESH_TOKEN": zalo_api.FIRST_REFRESH_TOKEN,
                    "LOABAN_ZALO_API_URL": api,
                    "LOABAN_ZALO_OAUTH_URL": api,
                    "LOABAN_ZALO_MAX_MESSAGES_PER_SECOND": "100000",  # lifted, as in the fake
                    "LOABAN_QA_SEMANTIC": "false",
                    "LOABAN_LOG_LEVEL": "warning",
                    "BENCH_TMP": tmp,
                }
                echo = [
                    sys.executable,
                    "-m",
                    "bench.zalo_echo",
                    "--api-url",
                    api,
                    "--app-id",
                    zalo_api.APP_ID,
                ]
                echo += ["--app-secret", zalo_api.APP_SECRET, "--oa-secret", zalo_api.OA_SECRET]
                echo += ["--refresh-token", zalo_api.FIRST_REFRESH_TOKEN]
                bots = [(ECHO, echo), (LOABAN, [sys.executable, "-m", "bot.cli", "serve"])]
                for i, (name, command) in enumerate(bots):
                    fake.refresh_token = zalo_api.FIRST_REFRESH_TOKEN
                    first_user = 10_000_000 * (1 + i) + 100_000 * round_no
                    results[name].append(await run_bot(name, command, env, fake, args, first_user))
    report(results, args)


def report(results: dict[str, list[Result]], args: argparse.Namespace) -> None:
    """Medians over the rounds, side by side."""
    print(
        f"\n{args.people} people x {len(SCRIPT)} events, {args.concurrency} at once, {args.rounds} rounds "
        f"(medians), database: {'PostgreSQL' if args.database_url else 'SQLite'}, {os.cpu_count()} cores\n"
    )
    head = f"{'bot':48} {'events/s':>9} {'answer p50':>11} {'p95':>7} {'max':>7} {'> 2 s':>6}"
    print(head + f" {'reply p50':>10} {'p95':>7} {'CPU ms/event':>13}")
    for name, runs in results.items():
        rate = statistics.median(r.events / r.seconds for r in runs)
        a50 = statistics.median(Result.pct(r.answers, 50) for r in runs)
        a95 = statistics.median(Result.pct(r.answers, 95) for r in runs)
        amax = max(max(r.answers) for r in runs) * 1000
        late = sum(sum(1 for a in r.answers if a > ZALO_LIMIT) for r in runs)
        r50 = statistics.median(Result.pct(r.replies, 50) for r in runs)
        r95 = statistics.median(Result.pct(r.replies, 95) for r in runs)
        cpu = statistics.median(1000 * r.cpu / r.events for r in runs)
        answers = f"{a50:9.1f}ms {a95:7.1f} {amax:7.1f} {late:6d}"
        print(f"{name:48} {rate:9.1f} {answers} {r50:8.1f}ms {r95:7.1f} {cpu:13.2f}")


def main() -> None:
    """Parse options and run."""
    database = "PostgreSQL URL (default: a fresh SQLite file per round)"
    asyncio.run(main_async(load_options(__doc__, people=300, rounds=2, database=database)))


if __name__ == "__main__":
    main()
