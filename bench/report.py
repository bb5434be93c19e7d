"""The yearly report on PostgreSQL over a year of history of 200,000 people in 50 communes: how long the
report takes (all its tables, and the previous year's for the comparison; the goal is at most 10 s),
beside a plain COUNT(*) over the same tables in the same run, so the figure means something on any machine.

Creates and drops its own database on the local server (user postgres, trust auth):

    python -m bench.report [--people 200000] [--server postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.scale import measured, scratch_database
from bot.areas import service as areas
from bot.db import Database
from bot.migrations import upgrade
from bot.reports import service as reports

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TABLES = (
    "report_events",
    "deliveries",
    "relays",
    "tickets",
    "ticket_events",
    "qa_questions",
    "poll_responses",
)


def communes(count: int) -> list[int]:
    """Real commune codes (so the report names them), from as many provinces as it takes."""
    found: list[int] = []
    for province in areas.provinces():
        found += [c.code for c in areas.communes(province.code)]
        if len(found) >= count:
            break
    return found[:count]


def populate(db: Database, people: int, codes: list[int]) -> None:
    """People joining over 18 months (one in seven leaving later, one in a hundred prestigious), three
    languages, two apps; 24 bulletins (two to everyone, the rest to one commune each) with their outbox
    and relays; questions asked and forwarded; tickets with replies and verdicts; poll responses; all as
    SQL over generate_series."""
    array = "ARRAY[" + ",".join(map(str, codes)) + "]"
    n = len(codes)
    start = "timestamptz '2025-06-01 00:00+00'"
    steps = [
        f"""INSERT INTO people (id, display_name, language, province_code, commune_code, role,
                   consent_version,
            subscribed, fallback_notice_sent, state, state_data, created_at, last_seen_at, consented_at)
            SELECT i, '', (ARRAY['vi','hmn','tyz'])[1 + i % 3], 12, ({array})[1 + i % {n}],
                   CASE WHEN i % 100 = 0 THEN 'prestigious' ELSE 'villager' END, 'v1', i % 7 <> 0, false, '',
                   '{{}}', {start} + (i % 547) * interval '1 day', now(),
                   {start} + (i % 547) * interval '1 day'
            FROM generate_series(1, {people}) i""",
        """INSERT INTO report_events (at, kind, person_id, delta, province_code, commune_code, village_id,
            language, role, channel, outcome)
            SELECT consented_at, 'joined', id, 1, 12, commune_code, NULL, language, role,
                   CASE WHEN id % 4 = 0 THEN 'zalo' ELSE 'telegram' END, '' FROM people""",
        """INSERT INTO report_events (at, kind, person_id, delta, province_code, commune_code, village_id,
            language, role, channel, outcome)
            SELECT consented_at + interval '40 days', 'left', id, -1, 12, commune_code, NULL, language, role,
                   CASE WHEN id % 4 = 0 THEN 'zalo' ELSE 'telegram' END,
                   '' FROM people WHERE NOT subscribed""",
        f"""INSERT INTO report_events (at, kind, person_id, delta, province_code, commune_code, language,
                   role,
            channel, outcome, entry_id)
            SELECT {start} + (i % 547) * interval '1 day' + (i % 24) * interval '1 hour', 'asked',
                   1 + i % {people},
                   0, 12, ({array})[1 + i % {n}], 'vi', '', '',
                   (ARRAY['answered','answered','unsure','not_covered'])[1 + i % 4], NULL
            FROM generate_series(1, {people // 2}) i""",
        f"""INSERT INTO qa_questions (person_id, commune_code, text, reason, offered, status, answer,
                   created_at,
            answered_at)
            SELECT 1 + i % {people}, ({array})[1 + i % {n}], '?', 'typed', '[]',
                   CASE WHEN i % 4 = 0 THEN 'open' ELSE 'answered' END, '',
                   {start} + (i % 547) * interval '1 day',
                   CASE WHEN i % 4 = 0 THEN NULL ELSE {start} + (i % 547) * interval '1 day'
                        + (i % 7) * interval '1 day' END
            FROM generate_series(1, {people // 10}) i""",
        f"""INSERT INTO bulletins (id, title, status, urgent, audience, image_ids, send_at, lead_minutes,
                   preparing,
            outbox_cursor, created_at)
            SELECT b, 'Bản tin ' || b, 'done', false, '{{}}', '[]', {start} + b * interval '22 days', 0,
                   false, 0,
                   {start} + b * interval '22 days' FROM generate_series(1, 24) b""",
        f"""INSERT INTO deliveries (bulletin_id, person_id, urn, channel, language, prestigious, urgent,
                   status,
            part, attempts, due_at, retaken)
            SELECT b.id, p.id, 'telegram:' || p.id, 'telegram', p.language, false, false,
                   (ARRAY['sent','sent','sent','sent','failed','unreachable'])[1 + (p.id + b.id) % 6], 1, 1,
                   b.send_at, 0
            FROM bulletins b JOIN people p ON b.id IN (6,
                   18) OR p.commune_code = ({array})[1 + b.id % {n}]""",
        """INSERT INTO relays (bulletin_id, person_id, commune_code, households, method, created_at)
            SELECT b.id, p.id, p.commune_code, 10, 'loa', b.send_at + interval '3 hours'
            FROM bulletins b JOIN people p ON p.role = 'prestigious' AND (b.id IN (6, 18) OR
                 p.commune_code = (SELECT commune_code FROM people WHERE id = 1 + b.id))""",
        "INSERT INTO feedback_categories (code, label, deadline_days, position, active) VALUES "
        "('road', 'Giao thông', 10, 0, true), ('land', 'Đất đai', 15, 1, true)",
        f"""INSERT INTO tickets (code, urn, anonymous, sender_name, category_id, commune_code, language,
                   status,
            text, due_on, reopened, created_at)
            SELECT 'PA-' || i, 'x', false, '', 1 + i % 2, ({array})[1 + i % {n}], 'vi', 'answered', '…',
                   ({start} + (i % 547) * interval '1 day' + interval '14 days')::date, false,
                   {start} + (i % 547) * interval '1 day'
            FROM generate_series(1, {people // 10}) i""",
        """INSERT INTO ticket_events (ticket_id, kind, text, target, created_at)
            SELECT id, 'reply', 'ok', '',
                   created_at + (id % 25) * interval '1 day' FROM tickets WHERE id % 5 <> 0
            UNION ALL SELECT id, CASE WHEN id % 3 = 0 THEN 'unsatisfied' ELSE 'satisfied' END, '', '',
                   created_at + interval '30 days' FROM tickets WHERE id % 2 = 0""",
        """INSERT INTO polls (title, intro, status, audience, created_at) VALUES ('Thăm dò', '{}',
                   'closed', '{}', now())""",
        f"""INSERT INTO poll_responses (poll_id, person_id, channel, language, role, province_code,
            commune_code, started_at, finished_at)
            SELECT 1, id, 'telegram', language, role, 12, commune_code,
                   {start} + (id % 547) * interval '1 day',
                   {start} + (id % 547) * interval '1 day' + interval '5 minutes'
            FROM people WHERE id % 10 = 0""",
        "ANALYZE",
    ]
    with db.engine.begin() as conn:
        for step in steps:
            conn.execute(text(step))


def counts(db: Database) -> int:
    """A plain COUNT(*) over each table the report reads: the floor any report stands on."""
    with db.engine.connect() as conn:
        return sum(int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES)


def run(server: str, people: int) -> None:
    """Fill a scratch database, then time the report of the year and of one commune beside the counts."""
    codes = communes(50)
    with scratch_database(server) as url:
        upgrade(url.replace("postgresql://", "postgresql+psycopg://"))
        db = Database(url.replace("postgresql://", "postgresql+psycopg://"))
        _, filled = measured(lambda: populate(db, people, codes))
        print(f"history of {people:,} people in {len(codes)} communes written in {filled.seconds:.1f} s")
        rows, counted = measured(lambda: counts(db))
        print(f"COUNT(*) over {', '.join(TABLES)}: {rows:,} rows in {counted.seconds:.2f} s")
        for label, scope in (("province", reports.Scope()), ("one commune", reports.Scope((codes[1],)))):

            def build(scope: reports.Scope = scope) -> reports.Report:
                with db.transaction() as session:
                    return reports.build(session, reports.whole_year(2026), scope, ZONE, answer_days=3)

            report, took = measured(build)
            print(
                f"yearly report, {label} (with the previous year): {took.seconds:.2f} s, "
                f"{report.reach.total.subscribed:,} subscribed, "
                f"{report.bulletins.total.recipients:,} messages, "
                f"peak memory {took.peak_mb:.0f} MB"
            )
        db.dispose()


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    run(args.server, args.people)


if __name__ == "__main__":
    main()
