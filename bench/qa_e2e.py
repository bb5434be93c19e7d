"""The Q&A end to end: a real Loa Bản server (a child process) over 3,000 entries (the development knowledge
base plus bench/qa.py's synthetic distractors), questions from onboarded people through the web chat API,
each answer rated 👍 or 👎. Prints the time from request to reply beside a bare baseline measured in the
same run (a greeting, "chào", which goes through the whole chat pipeline but not the Q&A engine), how many
questions were answered, and how many index builds the server made after its first.

The passage vectors are embedded once in this process before the server starts, as a first start would
(they are kept in the database), so the server's own warm-up reads them back within the start-up wait.

    python -m bench.qa_e2e [--entries 3000] [--questions 500] [--concurrency 1] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert

from bench.qa import DEV, synthetic
from bench.updates import child_server, load_client
from bot.config import Settings
from bot.db import Database, utcnow
from bot.migrations import upgrade
from bot.people.models import Identity, Person
from bot.privacy.notice import PRIVACY_VERSION
from bot.qa import service as qa
from bot.qa.engine import Entry, load_embedder
from bot.qa.evaluate import load_kb, load_queries
from bot.qa.knowledge import Knowledge

COMMUNE, PROVINCE = 3549, 12
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BUILT = "Q&A index built"  # the line bot/qa/knowledge.py logs for each build
GREETING = "chào"


def import_row(entry: Entry) -> dict[str, Any]:
    """An engine entry in the import format, published."""
    return {
        "id": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "alternatives": list(entry.alternatives),
        "tags": list(entry.tags),
        "status": "published",
    }


def session_of(i: int) -> str:
    """The web chat session (the person's address) of the i-th person: shaped like the ids older pages made,
    which the server honours for people it already knows."""
    return f"{i:032x}"


def prepare(url: str, entries: list[Entry], people: int) -> float:
    """A migrated database with the entries, `people` onboarded web chat people, and the passages embedded
    and kept; returns the seconds the cold embedding took."""
    upgrade(url)
    db = Database(url)
    try:
        with db.transaction() as session:
            assert not qa.import_rows(session, [import_row(e) for e in entries]).errors
            now = utcnow()
            people_rows = [
                {
                    "id": i,
                    "display_name": f"P{i}",
                    "language": "vi",
                    "province_code": PROVINCE,
                    "commune_code": COMMUNE,
                    "consented_at": now,
                    "consent_version": PRIVACY_VERSION,  # the notice in force, or each message asks again
                }
                for i in range(1, people + 1)
            ]
            session.execute(insert(Person), people_rows)
            urns = [
                {"person_id": i, "urn": f"web:{session_of(i)}", "channel": "web"}
                for i in range(1, people + 1)
            ]
            session.execute(insert(Identity), urns)
        knowledge = Knowledge(db, Settings(_env_file=None).timezone, embedder=load_embedder())  # type: ignore[call-arg]
        started = time.perf_counter()
        knowledge.warm()
        knowledge.stop()
        return time.perf_counter() - started
    finally:
        db.dispose()


@dataclass
class Figures:
    """Latencies (seconds) of each kind of request, and what the answers were."""

    baseline: list[float] = field(default_factory=list)
    questions: list[float] = field(default_factory=list)
    ratings: list[float] = field(default_factory=list)
    answered: int = 0


async def drive(url: str, questions: list[str], concurrency: int) -> Figures:
    """Each question from a person of its own: a greeting (the baseline), the question, then 👍 or 👎 on the
    answer when one is given; `concurrency` people at once."""
    figures = Figures()
    work = iter(enumerate(questions, start=1))
    thumbs = itertools.cycle(["qa_up", "qa_down"])

    async with load_client(url, concurrency) as http:

        async def post(session: str, body: dict[str, str], into: list[float]) -> list[dict[str, Any]]:
            started = time.perf_counter()
            response = await http.post("/chat/api/messages", json={"session": session, **body})
            into.append(time.perf_counter() - started)
            response.raise_for_status()
            replies: list[dict[str, Any]] = response.json()["replies"]
            return replies

        async def person() -> None:
            for i, question in work:
                session = session_of(i)
                await post(session, {"text": GREETING}, figures.baseline)
                replies = await post(session, {"text": question}, figures.questions)
                rating = [b["payload"] for b in replies[0]["buttons"] if b["payload"].startswith("qa_up:")]
                if rating:
                    figures.answered += 1
                    entry_id = rating[0].removeprefix("qa_up:")
                    await post(session, {"button": f"{next(thumbs)}:{entry_id}"}, figures.ratings)

        await asyncio.gather(*(person() for _ in range(concurrency)))
    return figures


def row(name: str, latencies: list[float]) -> str:
    """One table row: count, p50, p95 and max in milliseconds."""
    ms = sorted(1000 * s for s in latencies)
    p95 = statistics.quantiles(ms, n=100)[94] if len(ms) > 1 else ms[0]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |"


@contextmanager
def database(postgres: bool, tmp: Path) -> Iterator[str]:
    """A fresh database for the run: a SQLite file, or a PostgreSQL database created and dropped here."""
    if not postgres:
        yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"loaban_bench_qa_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def run(args: argparse.Namespace) -> None:
    """Prepare the database, start the server, drive it, read its log, print."""
    kb = load_kb(DEV / "kb.yaml")
    entries = synthetic(kb, args.entries)
    asked = [str(q["q"]) for q in load_queries(DEV / "queries.jsonl")]
    questions = [asked[i % len(asked)] for i in range(args.questions)]
    with (
        tempfile.TemporaryDirectory(prefix="loaban-bench-") as tmp,
        database(args.postgres, Path(tmp)) as url,
    ):
        cold = await asyncio.to_thread(prepare, url, entries, len(questions))
        env = {
            **os.environ,
            "LOABAN_DATABASE_URL": url,
            "LOABAN_LOG_LEVEL": "info",  # the index logs each build at info
            "LOABAN_RUN_WORKER": "false",
            "LOABAN_MEDIA_DIR": f"{tmp}/media",
        }
        log_path = Path(tmp) / "server.log"
        command = [sys.executable, "-m", "bot.cli", "serve"]
        async with child_server(command, env, log_path, "/healthz") as (server_url, _pid):
            figures = await drive(server_url, questions, args.concurrency)
            # Two polls' time, so a build the ratings would have caused shows in the log.
            await asyncio.sleep(2 * Settings(_env_file=None).qa_poll_seconds + 1)  # type: ignore[call-arg]
            built = [line for line in log_path.read_text().splitlines() if BUILT in line]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\n{len(entries)} entries ({len(kb)} from {DEV.name}, {len(entries) - len(kb)} synthetic), "
        f"{len(questions)} questions from as many onboarded web chat people, {args.concurrency} at once, "
        f"{backend}, 2 cores"
    )
    print(f"passages embedded cold in {cold:.0f} s (kept in the database); the server's warm-up: {built[0]}")
    print("\n| request (web chat API, request to reply) | count | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    print(row(f'baseline: a greeting "{GREETING}" (no Q&A)', figures.baseline))
    print(row("question (Q&A engine over the index)", figures.questions))
    print(row("👍 / 👎 on the answer", figures.ratings))
    q95 = statistics.quantiles(figures.questions, n=100)[94] * 1000
    b50, q50 = statistics.median(figures.baseline) * 1000, statistics.median(figures.questions) * 1000
    print(f"\nanswered: {figures.answered} of {len(questions)}; Q&A's own cost (median): {q50 - b50:.1f} ms")
    print(f"index builds after the first: {len(built) - 1} (target 0)")
    print(f"p95 per question: {q95:.1f} ms (target <= 50 ms: {'met' if q95 <= 50 else 'NOT met'})")


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=3000)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1, help="people asking at once")
    parser.add_argument("--postgres", action="store_true", help="a database created on 127.0.0.1:5432")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
