"""A law contest's round at a district's size: 20,000 people answering a 10-question round over the real
Telegram webhook of a Loa Bản server (a child process) against the fake Bot API, within 10 minutes.

Pre-seeded with bulk inserts (what a person did before the round, not what is measured): the people,
onboarded and consented, each with a Telegram identity, in 20 communes of Lai Châu; the contest with its
10-question bank and one round open now that draws all 10; every person registered for the contest
(consented, every other one agreeing to be named); an admin to read the results.

Driven over the webhook, each person one step at a time (a step waits for what it shows, as a person
would), `--concurrency` people at once: the "🏆 Cuộc thi" tap (the attempt is drawn and the first
question asked), ten answers (by tapping the option's button, or with --quiz by voting in the native
quiz poll: a `poll_answer` update), then the tie-breaker prediction typed as a number. With --quiz each
person reads the quiz for --think seconds before voting (a vote that comes before the bot has recorded
the poll as sent is dropped as a poll it never sent), so answers/s is then paced by the think time.

Measured: answers handled per second, the time from an answer's webhook POST to the fake Bot API
receiving its feedback message ("✅ Đúng rồi!" / "❌ Chưa đúng…"), nothing lost (every answer stored, every
score the number the bench answered right, every attempt finished with its prediction), and the round's
results page over HTTP once all have answered. Beside them, in the same run and on the same server, the
baseline: as many plain text updates (a greeting, "chào") from the same people, in updates per second.

Creates and drops its own PostgreSQL database (user postgres, trust auth), or a SQLite file:

    python -m bench.contest [--people 20000] [--concurrency 100] [--quiz [--think 3]] [--sqlite] [--quick]
        [--server postgresql://postgres@127.0.0.1:5432]

--quick: 1,000 people. --results-only: the results page alone, over attempts and answers written in bulk
(for a size the webhook run cannot reach on a small machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update

from bench.scale import scratch_database
from bench.updates import SECRET, TOKEN, child_server, load_client, serving
from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.areas import service as areas
from bot.contests.models import Attempt, Contest, ContestAnswer, ContestQuestion, ContestRound, Entrant
from bot.db import Database, utcnow
from bot.migrations import upgrade
from bot.people.models import Identity, Person
from bot.privacy.notice import PRIVACY_VERSION
from tests import factories
from tests.fakes.telegram_api import Call, FakeBotAPI

PROVINCE, COMMUNES, QUESTIONS, FIRST_CHAT = 12, 20, 10, 50_000_000
ADMIN, PASSWORD = "bench-admin", "bench-password-123"
GREETING, PREDICTION = "chào", "1234"
SHOWN = {"sendMessage", "editMessageText", "sendPoll"}
FEEDBACK = ("✅", "❌")  # how the feedback after an answer begins (Vietnamese, as the people speak)
LONG = (  # an explanation over a quiz poll's 200 characters, so the question is asked with buttons
    " Theo quy định hiện hành, người dân có quyền được thông tin đầy đủ, kịp thời về chính sách, pháp luật"
    " của Nhà nước; chính quyền cấp xã có trách nhiệm phổ biến, giải thích cho người dân tại thôn, bản."
)


@dataclass
class Shown:
    """What the fake Bot API received for one chat: each shown message's text, its answer buttons, the
    quiz poll it was; with waiters woken as messages arrive."""

    calls: list[tuple[str, list[str], str | None]] = field(default_factory=list)
    waiters: list[tuple[int, Callable[[str, list[str], str | None], bool], asyncio.Future[float]]] = field(
        default_factory=list
    )


class Screen:
    """Every chat's messages as the fake receives them (a hook on the fake: it runs in its event loop)."""

    def __init__(self) -> None:
        """Nothing received yet."""
        self.chats: dict[int, Shown] = defaultdict(Shown)
        self.latest: dict[int, int] = {}  # chat -> the id of the last message sent to it
        self.fake: FakeBotAPI | None = None

    def record(self, call: Call) -> None:
        """One more message shown to a chat; the fake's own log of calls is dropped (20,000 people's
        would take gigabytes), the messages it keeps for edits stay."""
        assert self.fake is not None
        self.fake.calls.clear()
        if call.method not in SHOWN or call.status != 200 or call.chat_id is None:
            return
        poll = None
        if call.method != "editMessageText":  # the fake numbers each chat's messages; a tap names one
            self.latest[call.chat_id] = self.fake._message_ids[call.chat_id]
        if call.method == "sendPoll":
            poll = str(self.fake.messages[(call.chat_id, self.latest[call.chat_id])]["poll"]["id"])
        text = str(call.params.get("question") or call.params.get("text") or "")
        payloads = [data for _label, data in call.buttons]
        shown = self.chats[call.chat_id]
        shown.calls.append((text, payloads, poll))
        for waiter in list(shown.waiters):
            since, wanted, future = waiter
            if len(shown.calls) > since and wanted(text, payloads, poll):
                shown.waiters.remove(waiter)
                if not future.done():
                    future.set_result(time.perf_counter())

    def mark(self, chat: int) -> int:
        """How many messages a chat was shown so far."""
        return len(self.chats[chat].calls)

    def expect(
        self, chat: int, since: int, wanted: Callable[[str, list[str], str | None], bool]
    ) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the chat's first message after `since` that is
        `wanted`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        shown = self.chats[chat]
        if any(wanted(*c) for c in shown.calls[since:]):
            future.set_result(time.perf_counter())
        else:
            shown.waiters.append((since, wanted, future))
        return future

    def question(self, chat: int, since: int) -> tuple[list[str], str | None]:
        """The answer buttons and the quiz poll of the question shown after `since`."""
        for _text, payloads, poll in self.chats[chat].calls[since:]:
            if poll is not None or any(p.startswith("ca:") for p in payloads):
                return [p for p in payloads if p.startswith("ca:")], poll
        raise AssertionError(f"no question shown to {chat}")


def is_question(_text: str, payloads: list[str], poll: str | None) -> bool:
    """A contest question: a quiz poll, or answer buttons."""
    return poll is not None or any(p.startswith("ca:") for p in payloads)


def is_feedback(text: str, _payloads: list[str], _poll: str | None) -> bool:
    """The right-or-wrong message after an answer."""
    return text.startswith(FEEDBACK)


def starts(prefix: str) -> Callable[[str, list[str], str | None], bool]:
    """A message whose text begins so."""
    return lambda text, _payloads, _poll: text.startswith(prefix)


def anything(_text: str, _payloads: list[str], _poll: str | None) -> bool:
    """Any message."""
    return True


def seed(url: str, people: int, *, quiz: bool) -> tuple[int, int, dict[int, int]]:
    """The pre-seeded part (see the module's docstring); returns the contest, the round and each
    question's right option."""
    upgrade(url)
    db = Database(url)
    rnd, now = random.Random(16), utcnow()
    communes = [a.code for a in areas.communes(PROVINCE)[:COMMUNES]]
    try:
        with db.transaction() as session:
            accounts.create(session, username=ADMIN, password=PASSWORD, role=Role.province_admin)
            contest = Contest(title="Tìm hiểu pháp luật về bảo hiểm y tế", rules="Mỗi người một lần.")
            session.add(contest)
            session.flush()
            correct: dict[int, int] = {}
            for n in range(1, QUESTIONS + 1):
                right = rnd.randrange(4)
                question = ContestQuestion(
                    contest_id=contest.id,
                    texts={"vi": f"Câu hỏi số {n} về Luật Bảo hiểm y tế?"},
                    options=[{"vi": f"Phương án {o + 1}"} for o in range(4)],
                    correct=right,
                    explanation={"vi": f"Giải thích câu {n}." + ("" if quiz else LONG)},
                    source="Luật Bảo hiểm y tế 2008, sửa đổi 2024",
                )
                session.add(question)
                session.flush()
                correct[question.id] = right
            round_ = ContestRound(
                contest_id=contest.id,
                title="Vòng 1",
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=3),
                draw=QUESTIONS,
            )
            session.add(round_)
            session.flush()
            ids = range(1, people + 1)
            session.execute(
                insert(Person),
                [
                    {
                        "id": i,
                        "display_name": f"Người {i}",
                        "language": "vi",
                        "province_code": PROVINCE,
                        "commune_code": communes[i % len(communes)],
                        "consented_at": now,
                        "consent_version": PRIVACY_VERSION,
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(Identity),
                [{"person_id": i, "urn": f"telegram:{FIRST_CHAT + i}", "channel": "telegram"} for i in ids],
            )
            session.execute(
                insert(Entrant),
                [
                    {
                        "contest_id": contest.id,
                        "person_id": i,
                        "name": f"Người {i}",
                        "consented_at": now,
                        "named": i % 2 == 0,
                    }
                    for i in ids
                ],
            )
            if db.engine.dialect.name == "postgresql":
                session.execute(func.setval("people_id_seq", people).select())
            return contest.id, round_.id, correct
    finally:
        db.dispose()


def answered_already(url: str, round_id: int, correct: dict[int, int], people: int) -> None:
    """--results-only: each person's finished attempt and answers written in bulk, as a round ends."""
    db = Database(url)
    rnd, now = random.Random(18), utcnow()
    try:
        with db.transaction() as session:
            picks = {i: {q: rnd.randrange(4) for q in correct} for i in range(1, people + 1)}
            session.execute(
                insert(Attempt),
                [
                    {
                        "id": i,
                        "round_id": round_id,
                        "person_id": i,
                        "entrant_id": i,
                        "question_ids": list(correct),
                        "asked": len(correct),
                        "channel": "telegram",
                        "language": "vi",
                        "role": "villager",
                        "province_code": PROVINCE,
                        "commune_code": None,
                        "score": sum(picks[i][q] == right for q, right in correct.items()),
                        "started_at": now - timedelta(seconds=rnd.randint(60, 600)),
                        "finished_at": now,
                        "prediction": rnd.randint(0, people),
                    }
                    for i in picks
                ],
            )
            session.execute(
                insert(ContestAnswer),
                [
                    {
                        "attempt_id": i,
                        "question_id": q,
                        "option": o,
                        "right": o == correct[q],
                        "created_at": now,
                    }
                    for i, chosen in picks.items()
                    for q, o in chosen.items()
                ],
            )
            session.execute(
                update(Attempt).values(
                    commune_code=select(Person.commune_code)
                    .where(Person.id == Attempt.person_id)
                    .scalar_subquery()
                )
            )
    finally:
        db.dispose()


@dataclass
class Figures:
    """What the drive measured."""

    greetings: list[float] = field(default_factory=list)
    greeting_seconds: float = 0.0
    answers: list[float] = field(default_factory=list)
    answer_seconds: float = 0.0
    right: dict[int, int] = field(default_factory=dict)  # person -> answers the bench gave right
    failures: list[str] = field(default_factory=list)


async def drive(
    url: str, screen: Screen, people: int, concurrency: int, correct: dict[int, int], *, think: float
) -> Figures:
    """The baseline (a greeting from everyone), then the round (everyone answers), each timed whole."""
    figures = Figures()
    rnd = random.Random(17)
    async with load_client(url, concurrency) as http:

        async def post(update: dict[str, Any]) -> None:
            response = await http.post(
                "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            response.raise_for_status()

        async def step(
            chat: int, update: dict[str, Any], wanted: Callable[[str, list[str], str | None], bool]
        ) -> float:
            """Post an update; the seconds until the chat is shown what was wanted."""
            arrival = screen.expect(chat, screen.mark(chat), wanted)
            started = time.perf_counter()
            await post(update)
            return await asyncio.wait_for(arrival, 120) - started

        async def greet(chat: int) -> None:
            figures.greetings.append(await step(chat, factories.text_update(chat, GREETING), anything))

        async def contest(chat: int) -> None:
            person, right = chat - FIRST_CHAT, 0
            since = screen.mark(chat)
            await step(
                chat, factories.callback_update(chat, "contests", screen.latest.get(chat)), is_question
            )
            for _n in range(QUESTIONS):
                payloads, poll = screen.question(chat, since)
                question = int((payloads[0] if payloads else "").split(":")[2]) if payloads else None
                since = screen.mark(chat)
                if poll is not None:
                    # A person reads the quiz before voting: a vote sooner than the bot records the poll
                    # as sent finds no quiz and is dropped (bot/channels/telegram.py, _quiz_answer).
                    await asyncio.sleep(think)
                    assert screen.fake is not None
                    chat_of, message = screen.fake.polls[poll]
                    found = screen.fake.messages[(chat_of, message)]["poll"]
                    good = int(found["correct_option_ids"][0])
                    option = good if rnd.random() < 0.7 else (good + 1) % len(found["options"])
                    screen.fake.vote(poll, chat, option)
                    update = factories.poll_answer_update(chat, poll, [option])
                else:
                    assert question is not None
                    good = correct[question]
                    option = good if rnd.random() < 0.7 else (good + 1) % 4
                    tapped = next(p for p in payloads if p.endswith(f":{option}"))
                    update = factories.callback_update(chat, tapped, screen.latest.get(chat))
                right += option == good
                figures.answers.append(await step(chat, update, is_feedback))
                last = _n == QUESTIONS - 1
                await asyncio.wait_for(screen.expect(chat, since, starts("🏁") if last else is_question), 120)
            figures.right[person] = right
            await step(chat, factories.text_update(chat, PREDICTION), starts("Cảm ơn bạn!"))

        async def everyone(one: Callable[[int], Any]) -> float:
            gate = asyncio.Semaphore(concurrency)

            async def guarded(chat: int) -> None:
                async with gate:
                    try:
                        await one(chat)
                    except Exception as error:  # counted as lost, reported below
                        figures.failures.append(f"{chat}: {error!r}")

            began = time.perf_counter()
            await asyncio.gather(*(guarded(FIRST_CHAT + i) for i in range(1, people + 1)))
            return time.perf_counter() - began

        figures.greeting_seconds = await everyone(greet)
        print(f"baseline: {people:,} greetings in {figures.greeting_seconds:.0f} s", flush=True)
        figures.answer_seconds = await everyone(contest)
        print(f"the round: {people:,} people in {figures.answer_seconds:.0f} s", flush=True)
    return figures


def results_page(url: str, contest_id: int, round_id: int) -> list[float]:
    """The round's results page over HTTP as a province admin opens it, five times, in seconds."""
    with httpx.Client(base_url=url, timeout=60) as http:
        form = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/admin/login").text)
        assert form is not None, "the login form has its CSRF token"
        login = {"username": ADMIN, "password": PASSWORD, "csrf_token": form.group(1)}
        assert http.post("/admin/login", data=login).headers.get("location") == "/admin", "logged in"
        times = []
        for _ in range(5):
            started = time.perf_counter()
            page = http.get(f"/admin/contests/{contest_id}/rounds/{round_id}")
            times.append(time.perf_counter() - started)
            page.raise_for_status()
            assert "Vòng 1" in page.text, page.text[:500]
        return times


def lost(url: str, round_id: int, figures: Figures, people: int) -> list[str]:
    """What the database does not hold that the people did: an answer, a right one, a prediction."""
    db = Database(url)
    problems = []
    try:
        with db.transaction() as session:
            answers = session.scalar(
                select(func.count(ContestAnswer.id))
                .join(Attempt, Attempt.id == ContestAnswer.attempt_id)
                .where(Attempt.round_id == round_id)
            )
            if answers != people * QUESTIONS:
                problems.append(f"{answers:,} answers stored of {people * QUESTIONS:,}")
            rows = session.execute(
                select(Attempt.person_id, Attempt.score, Attempt.finished_at, Attempt.prediction).where(
                    Attempt.round_id == round_id
                )
            ).all()
        if len(rows) != people:
            problems.append(f"{len(rows):,} attempts of {people:,}")
        wrong = [p for p, score, _f, _p in rows if p is None or figures.right.get(p) != score]
        unfinished = [p for p, _s, finished, guess in rows if finished is None or guess != int(PREDICTION)]
        if wrong:
            problems.append(f"{len(wrong)} scores differ from the answers given right (e.g. {wrong[:3]})")
        if unfinished:
            problems.append(f"{len(unfinished)} attempts unfinished or without the prediction")
    finally:
        db.dispose()
    return problems


def ms(latencies: list[float], q: int) -> float:
    """A percentile in milliseconds."""
    return statistics.quantiles(latencies, n=100)[q - 1] * 1000 if len(latencies) > 1 else latencies[0] * 1000


@contextmanager
def database(args: argparse.Namespace, tmp: Path) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL database of the bench's own."""
    if args.sqlite:
        yield f"sqlite:///{tmp}/bench.db"
        return
    with scratch_database(args.server) as url:
        yield url.replace("postgresql://", "postgresql+psycopg://")


async def run(args: argparse.Namespace) -> None:
    """Seed, start the fake and the server, drive, check, print."""
    people = 1_000 if args.quick else args.people
    screen = Screen()
    fake = FakeBotAPI(TOKEN, global_rate=1e9, chat_rate=1e9, chat_burst=1e9, on_call=screen.record)
    screen.fake = fake
    with tempfile.TemporaryDirectory(prefix="loaban-contest-") as tmp, database(args, Path(tmp)) as url:
        began = time.perf_counter()
        contest_id, round_id, correct = await asyncio.to_thread(seed, url, people, quiz=args.quiz)
        seeded = time.perf_counter() - began
        print(f"seeded in {seeded:.0f} s (load average {os.getloadavg()[0]:.1f})", flush=True)
        if args.results_only:
            await asyncio.to_thread(answered_already, url, round_id, correct, people)
        async with serving(fake.app) as api_url:
            env = {
                **os.environ,
                "LOABAN_DATABASE_URL": url,
                "LOABAN_TELEGRAM_TOKEN": TOKEN,
                "LOABAN_TELEGRAM_API_URL": api_url,
                "LOABAN_TELEGRAM_WEBHOOK_SECRET": SECRET,
                "LOABAN_PUBLIC_URL": "https://bench.loaban.invalid",
                "LOABAN_ADMIN_SESSION_HTTPS_ONLY": "false",  # the admin page is read over plain loopback
                "LOABAN_TELEGRAM_MAX_MESSAGES_PER_SECOND": "100000",  # Telegram's cap lifted, as in the fake
                "LOABAN_LOG_LEVEL": "warning",
                "LOABAN_RUN_WORKER": "false",
                "LOABAN_MEDIA_DIR": f"{tmp}/media",
            }
            command = [sys.executable, "-m", "bot.cli", "serve"]
            async with child_server(command, env, Path(tmp) / "server.log", "/healthz") as (server, _pid):
                if args.results_only:
                    page = await asyncio.to_thread(results_page, server, contest_id, round_id)
                    print(f"results page at {people:,} attempts, {people * QUESTIONS:,} answers: ", end="")
                    print(f"median {statistics.median(page):.2f} s, max {max(page):.2f} s")
                    return
                figures = await drive(server, screen, people, args.concurrency, correct, think=args.think)
                page = await asyncio.to_thread(results_page, server, contest_id, round_id)
        problems = figures.failures[:5] + lost(url, round_id, figures, people)
    report(args, people, seeded, figures, page, problems, len(figures.failures))


def report(
    args: argparse.Namespace,
    people: int,
    seeded: float,
    figures: Figures,
    page: list[float],
    problems: list[str],
    failed: int,
) -> None:
    """The figures, the round's beside the baseline's."""
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    how = "native quiz polls (poll_answer updates)" if args.quiz else "answer buttons (callback queries)"
    print(
        f"\n{people:,} people, {QUESTIONS} questions each by {how}, {args.concurrency} people at once, "
        f"{backend}, {os.cpu_count()} cores (load average now {os.getloadavg()[0]:.1f}); "
        f"seeded in {seeded:.0f} s"
    )
    print(f"\n{'':44} {'count':>9} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    rows = [
        (f'baseline: a greeting "{GREETING}" (update to reply)', figures.greetings, figures.greeting_seconds),
        ("contest answer (POST to feedback message)", figures.answers, figures.answer_seconds),
    ]
    for name, latencies, seconds in rows:
        print(
            f"{name:44} {len(latencies):>9,} {len(latencies) / seconds:>8.1f} {ms(latencies, 50):>8.1f} "
            f"{ms(latencies, 95):>8.1f} {max(latencies) * 1000:>8.1f}"
        )
    updates = people * (QUESTIONS + 2)
    print(
        f"\nthe round: {figures.answer_seconds:.0f} s for {people:,} people ({updates:,} updates, "
        f"{updates / figures.answer_seconds:.1f} updates/s, the tap to begin and the prediction included); "
        f"target: 20,000 people within 600 s"
    )
    print(
        f"results page at {people:,} attempts, {people * QUESTIONS:,} answers: median "
        f"{statistics.median(page):.2f} s, max {max(page):.2f} s (target <= 1 s: "
        f"{'met' if max(page) <= 1 else 'NOT met'})"
    )
    print(f"lost: {'nothing' if not problems else f'{failed} people failed; ' + '; '.join(problems)}")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=100, help="people answering at once")
    parser.add_argument("--quiz", action="store_true", help="answer by voting in native quiz polls")
    parser.add_argument("--think", type=float, default=3.0, help="--quiz: seconds before each vote")
    parser.add_argument(
        "--results-only", action="store_true", help="only the results page, over answers written in bulk"
    )
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--quick", action="store_true", help="1,000 people, to try the bench")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
