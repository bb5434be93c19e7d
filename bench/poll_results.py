"""How long a poll's results page takes to count a province-sized poll: N respondents (20,000 by default)
in six communes, three languages and three apps, each answering a single-choice, a multiple-choice, a
number and a text question; then how long the export's rows take to read.

    python -m bench.poll_results [--url DATABASE_URL] [--people 20000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bot.bulletins.service import Audience
from bot.db import Database, utcnow
from bot.migrations import upgrade
from bot.people.models import PersonRole
from bot.polls import service as polls
from bot.polls.models import PollAnswer, PollResponse, QuestionKind

COMMUNES = (3549, 3445, 3550, 3551, 3552, 3553)
CHOICES = ({"vi": "Có"}, {"vi": "Không"}, {"vi": "Chưa biết"})


def make_poll(db: Database, people: int) -> int:
    """An open poll of four questions and `people` finished responses, written in bulk."""
    draft = polls.PollDraft(
        "Bench",
        {},
        (
            polls.QuestionDraft(QuestionKind.single, {"vi": "Một lựa chọn?"}, CHOICES),
            polls.QuestionDraft(QuestionKind.multiple, {"vi": "Nhiều lựa chọn?"}, CHOICES),
            polls.QuestionDraft(QuestionKind.number, {"vi": "Mấy người?"}),
            polls.QuestionDraft(QuestionKind.text, {"vi": "Ý kiến?"}),
        ),
        Audience(),
    )
    with db.transaction() as session:
        poll = polls.write(session, None, draft)
        polls.open_poll(poll)
        questions = [(q.id, [c.id for c in q.choices], q.kind) for q in poll.questions]
        poll_id = poll.id
        now = utcnow()
        session.execute(
            insert(PollResponse),
            [
                {
                    "poll_id": poll_id,
                    "channel": random.choice(("telegram", "zalo", "web")),
                    "language": random.choice(("vi", "hmn", "en")),
                    "role": PersonRole.villager,
                    "province_code": 12,
                    "commune_code": random.choice(COMMUNES),
                    "started_at": now,
                    "finished_at": now,
                }
                for _ in range(people)
            ],
        )
        ids = session.scalars(select(PollResponse.id).where(PollResponse.poll_id == poll_id)).all()
        session.execute(insert(PollAnswer), [_answer(i, q, now) for i in ids for q in questions])
    return poll_id


def _answer(response_id: int, question: tuple[int, list[int], QuestionKind], now: Any) -> dict[str, Any]:
    """One random answer to a question."""
    question_id, choices, kind = question
    picked = random.sample(choices, 1 if kind == QuestionKind.single else 2) if choices else []
    return {
        "response_id": response_id,
        "question_id": question_id,
        "choice_ids": sorted(picked),
        "number": float(random.randint(1, 9)) if kind == QuestionKind.number else None,
        "text": "Ý kiến của tôi" if kind == QuestionKind.text else "",
        "created_at": now,
    }


def main() -> None:
    """Measure against the given database, or a SQLite file removed afterwards."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: a new SQLite file)")
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    if args.url:
        measure(args.url, args.people)
        return
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{Path(folder) / 'polls.db'}", args.people)


def measure(url: str, people: int) -> None:
    """Build the poll, then time the counting by commune and by language, and the export's rows."""
    upgrade(url)
    db = Database(url)
    poll_id = make_poll(db, people)
    for by in ("commune", "language"):
        with db.transaction() as session:
            poll = polls.get(session, poll_id=poll_id)
            assert poll is not None
            start = time.perf_counter()
            results = polls.results(session, poll, by=by)
            took = time.perf_counter() - start
        assert results.started == people
        print(f"results by {by}: {took * 1000:.0f} ms for {people} respondents")
    with db.transaction() as session:
        poll = polls.get(session, poll_id=poll_id)
        assert poll is not None
        start = time.perf_counter()
        rows = polls.answer_rows(session, poll)
        print(f"export rows: {len(rows)} in {(time.perf_counter() - start) * 1000:.0f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
