"""A year of a province's history on PostgreSQL and how long the figures over it take: 200,000 people in
50 communes (joining all year, some stopping, some never finishing onboarding), their messages, tickets
answered on time and late, forwarded questions and a send under way; each figure is timed beside a plain
COUNT(*) over the same tables in the same run, so a slow disk or a busy machine shows in both.

Creates and drops its own database on the local server (user postgres, trust auth):

    python -m bench.dashboard [--people 200000] [--communes 50] [--server postgresql://postgres@127.0.0.1:5432]

Each timed figure is one entry of `figures_to_time`; `bench.report` times the periodic report the same way.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.dashboard import Period, figures
from bench.scale import scratch_database
from bot.accounts.models import AdminCommune, AdminUser, Role
from bot.areas import service as areas
from bot.bulletins import service as bulletins
from bot.bulletins.models import BulletinStatus
from bot.config import Settings
from bot.db import Database, local_today
from bot.messages import service as messages
from bot.migrations import upgrade
from bot.people import service as people
from bot.people.service import PersonFilter, Standing
from bot.people.windows import reply_windows

PROVINCE = 12
TABLES = ("people", "identities", "messages", "tickets", "qa_questions", "deliveries")
DASHBOARD_LIMIT = 1.0  # seconds, the bound for the dashboard
# The history, written by the database itself (generate_series) in a few seconds: a person i joined
# (365 * i / n) days ago; one in twenty never finished onboarding, one in twelve stopped; five messages
# each; a ticket per twenty people, answered on time, late, or still open; a question per fifty people;
# one send to everyone, half delivered.
HISTORY = [
    """INSERT INTO people (id, display_name, language, province_code, commune_code, role, consented_at,
           declined_at, consent_version, subscribed, fallback_notice_sent, state, state_data, created_at,
           last_seen_at)
       SELECT i, '', (ARRAY['vi','vi','vi','hmn','tai','en'])[1 + i % 6], :province,
              (:communes)[1 + i % cardinality(:communes)], 'villager',
              CASE WHEN i % 20 = 0 THEN NULL ELSE now() - make_interval(secs => 31536000.0 * i / :n) END,
              NULL, '', i % 12 <> 0, false, '', '{}',
              now() - make_interval(secs => 31536000.0 * i / :n), now()
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO identities (id, person_id, urn, channel, created_at, last_inbound_at, sent_since_inbound)
       SELECT i, i, (ARRAY['telegram','telegram','zalo','web'])[1 + i % 4] || ':' || i,
              (ARRAY['telegram','telegram','zalo','web'])[1 + i % 4], now(),
              now() - make_interval(hours => i % 300),
              i % 10
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO messages (person_id, urn, channel, direction, status, kind, text, payload, created_at)
       SELECT 1 + (j % :n), 'telegram:' || (1 + j % :n), 'telegram',
              CASE WHEN j % 2 = 0 THEN 'in' ELSE 'out' END,
              CASE WHEN j % 2 = 0 THEN 'received' ELSE 'sent' END, 'text', 'Xin chào', '{}',
              now() - make_interval(secs => 31536000.0 * j / (5 * :n))
       FROM generate_series(1, 5 * :n) AS j""",
    """INSERT INTO tickets (code, person_id, urn, anonymous, sender_name, commune_code, language,
              status, text,
           due_on, reopened, created_at, answered_at)
       SELECT 'PA-' || k, 20 * k, 'telegram:' || (20 * k), false, '',
              (:communes)[1 + k % cardinality(:communes)],
              'vi',
              (ARRAY['new','received','in_progress','answered','closed','closed'])[1 + k % 6], 'Đường hỏng',
              (now() - make_interval(secs => 31536000.0 * k / (:n / 20)) + interval '14 days')::date, false,
              now() - make_interval(secs => 31536000.0 * k / (:n / 20)),
              CASE WHEN k % 6 >= 3 THEN now() - make_interval(secs => 31536000.0 * k / (:n / 20))
                   + make_interval(days => k % 25) END
       FROM generate_series(1, :n / 20) AS k""",
    """INSERT INTO qa_questions (person_id, commune_code, text, reason, offered, status, answer, created_at)
       SELECT 50 * q, (:communes)[1 + q % cardinality(:communes)], 'Hỏi?', 'typed', '[]',
              CASE WHEN q % 4 = 0 THEN 'open' ELSE 'answered' END, '',
              now() - make_interval(secs => 31536000.0 * q / (:n / 50))
       FROM generate_series(1, :n / 50) AS q""",
    """INSERT INTO deliveries (bulletin_id, person_id, urn, channel, language, prestigious, urgent,
              status, part,
           attempts, due_at, retaken)
       SELECT (SELECT max(id) FROM bulletins), i, 'telegram:' || i, 'telegram', 'vi', false, false,
              CASE WHEN i % 2 = 0 THEN 'sent' ELSE 'pending' END, 0, 0, now(), 0
       FROM generate_series(1, :n) AS i""",
]


@dataclass(frozen=True)
class Timed:
    """One figure's median and worst time over a few runs."""

    median: float
    worst: float


def timed(step: Callable[[], object], times: int = 5) -> Timed:
    """Run a step a few times (the first warms the caches, as a dashboard opened every day would be)."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return Timed(statistics.median(seconds), max(seconds))


def populate(db: Database, people: int, communes: list[int]) -> None:
    """Write the history, fold the send's counters as the worker does, and let the planner see it."""
    with db.transaction() as session:
        bulletin = bulletins.create(
            session, title="Lịch tiêm chủng", versions=[("vi", "Tin", None)], audience=bulletins.Audience()
        )
        bulletin.status = BulletinStatus.sending
        session.flush()
        for statement in HISTORY:
            session.execute(text(statement), {"n": people, "communes": communes, "province": PROVINCE})
        session.execute(
            text("SELECT setval('people_id_seq', :n), setval('identities_id_seq', :n)"), {"n": people}
        )
    with db.transaction() as session:
        bulletins.fold_counts(session)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def plain_counts(session: Session) -> None:
    """COUNT(*) over every table the figures read: the floor any figure over them stands on."""
    for table in TABLES:
        session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def figures_to_time(settings: Settings, communes: list[int]) -> dict[str, Callable[[Session], object]]:
    """The figures this bench times, by name; each takes a session."""
    province = AdminUser(username="tinh", role=Role.province_admin)
    officer = AdminUser(
        username="xa",
        role=Role.commune_officer,
        communes=[AdminCommune(commune_code=c) for c in communes[:2]],
    )
    today, zone = local_today(settings.timezone), ZoneInfo(settings.timezone)
    onboarded = PersonFilter(standing=Standing.onboarded)
    month, year = Period(today - timedelta(days=29), today), Period(today - timedelta(days=364), today)
    return {
        f"COUNT(*) over {len(TABLES)} tables": plain_counts,
        "dashboard, province, 30 days": lambda s: figures(s, settings, province, month),
        "dashboard, province, 1 year": lambda s: figures(s, settings, province, year),
        "dashboard, officer of 2 communes": lambda s: figures(s, settings, officer, month),
        "  part: people by standing, place, lang": lambda s: people.tally(s, PersonFilter()),
        "  part: people by app": lambda s: people.count_by_channel(s, onboarded, reply_windows(settings)),
        "  part: messages per day, 1 year, kept": lambda s: messages.count_per_day(
            s, year.edges(zone), None, settings.timezone
        ),
        "  part: messages per day, 1 year, before": lambda s: messages.count_messages_per_day(
            s, year.edges(zone), None
        ),
    }


def same_messages(session: Session, settings: Settings, communes: list[int]) -> bool:
    """Whether the kept day counts give the chart the messages themselves give, over the year."""
    today = local_today(settings.timezone)
    edges = Period(today - timedelta(days=364), today).edges(ZoneInfo(settings.timezone))
    return all(
        messages.count_per_day(session, edges, scope, settings.timezone)
        == messages.count_messages_per_day(session, edges, scope)
        for scope in (None, communes[:2])
    )


def run(server: str, people: int, communes: int) -> None:
    """Build the history, time every figure, print them."""
    codes = [a.code for a in areas.all_communes()[:communes]]
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with scratch_database(server) as url:
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        populate(db, people, codes)
        with db.transaction() as session:  # as the outbox builder does every half second
            messages.fold_days(session)
        print(
            f"{people:,} people in {len(codes)} communes, a year of history, "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with db.transaction() as session:
            sizes = {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        print(", ".join(f"{t}: {n:,}" for t, n in sizes.items()))
        results = {}
        for name, figure in figures_to_time(settings, codes).items():
            with db.transaction() as session:
                results[name] = timed(lambda: figure(session))  # noqa: B023 (used at once)
        with db.transaction() as session:
            same = same_messages(session, settings, codes)
        db.dispose()
    print(f"\n{'figure':<40} {'median s':>9} {'worst s':>8}")
    for name, t in results.items():
        print(f"{name:<40} {t.median:>9.3f} {t.worst:>8.3f}")
    print(f"\nmessages per day, kept counts equal a count over the messages (province, 2 communes): {same}")
    worst = max(t.worst for name, t in results.items() if name.startswith("dashboard"))
    print(
        f"\ndashboard worst {worst:.3f} s (bound {DASHBOARD_LIMIT:.0f} s): "
        f"{'ok' if worst <= DASHBOARD_LIMIT else 'TOO SLOW'}"
    )


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--communes", type=int, default=50)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    run(args.server, args.people, args.communes)


if __name__ == "__main__":
    main()
