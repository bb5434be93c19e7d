"""A bulletin to a whole province on PostgreSQL: how long the draft's reach, the "send" request, the
outbox build and a progress poll take at 500,000 people, and the memory they need, each beside the code
of before (kept here as small baseline functions: the reach that loads every recipient into Python, the
send that inserts the whole outbox in one transaction and RETURNINGs every id to count it).

Then the delivery half: a bulletin sent through the fake Bot API by 3 `loaban worker` processes sharing
the outbox and the rate, beside one worker alone (today's single sender) in the same run, at 30/s over
5 minutes (9,000 people) and as an urgent warning by paid broadcast at 1,000/s (100,000 people), each also
with one worker killed -9 a third of the way and the database connections of another cut half way:
rate ÷ limit, 429s, people lost, duplicates against the rows in flight at the kill and the cut, and
whether the bulletin reached "done" (bench/broadcast.py runs them).

Creates and drops its own databases on the local server (user postgres, trust auth):

    python -m bench.scale [--people 500000] [--server postgresql://postgres@127.0.0.1:5432]
        [--quick] [--delivery-only]

--quick: 20,000 people, 30 s at 30/s (900 people), 5,000 people by paid broadcast.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import and_, case, create_engine, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from bench import broadcast
from bot.bulletins import outbox
from bot.bulletins import service as bulletins
from bot.bulletins.models import Delivery, DeliveryCount, DeliveryCountChange, DeliveryStatus
from bot.channels.telegram import PAID_BROADCAST_RATE
from bot.config import Settings
from bot.db import Database, utcnow
from bot.migrations import upgrade
from bot.people.models import Identity, Person, PersonRole
from bot.people.windows import ReplyWindow

PROVINCE, FIRST_COMMUNE, COMMUNES = 12, 3549, 20
WINDOWS = {"zalo": ReplyWindow(free_for=timedelta(hours=48), free_messages=8, open_for=timedelta(days=7))}
T = TypeVar("T")
DELIVERY_WORKERS, DELIVERY_CONCURRENCY = 3, 16


@dataclass
class Measure:
    """One step: seconds, and the process's memory peak once it ran (today's steps run first, so theirs
    is not hidden by the baselines')."""

    seconds: float
    peak_mb: float


def rss_mb() -> float:
    """This process's resident memory peak so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(step: Callable[[], T]) -> tuple[T, Measure]:
    """Run a step, timing it."""
    started = time.perf_counter()
    result = step()
    return result, Measure(time.perf_counter() - started, rss_mb())


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A database of its own on the server, dropped afterwards."""
    name = f"loaban_scale_{random.randrange(16**8):08x}"
    admin = create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://')}/postgres")
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def populate(db: Database, people: int) -> None:
    """`people` onboarded people in one province with COPY: most on Telegram, a fifth on Zalo (most of
    them wrote within ten days, so their windows are in every state), a few on the web, one in twenty on
    two apps; one in two hundred prestigious; four languages."""
    rnd, now = random.Random(15), utcnow()
    languages = ["vi"] * 7 + ["hmn", "tai", "en"]
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        columns = "id, display_name, language, province_code, commune_code, role, consented_at, subscribed, "
        columns += "fallback_notice_sent, state, state_data, consent_version, created_at, last_seen_at"
        with cur.copy(f"COPY people ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(1, people + 1):
                role = PersonRole.prestigious if i % 200 == 0 else PersonRole.villager
                commune = FIRST_COMMUNE + i % COMMUNES
                row = (i, "", rnd.choice(languages), PROVINCE, commune, role.value, now, True, False, "")
                copy.write_row((*row, "{}", "", now, now))
        identity = 0
        columns = "id, person_id, urn, channel, created_at, last_inbound_at, sent_since_inbound"
        with cur.copy(f"COPY identities ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(1, people + 1):
                kind = i % 20
                channels = ["telegram"] * (kind < 14) + ["zalo"] * (13 < kind < 18 or kind == 19)
                channels += ["web"] * (kind == 18) + ["telegram"] * (kind == 19)
                for channel in channels:
                    identity += 1
                    wrote = channel == "zalo" and rnd.random() < 0.9
                    last = now - timedelta(hours=rnd.uniform(0, 240)) if wrote else None
                    copy.write_row((identity, i, f"{channel}:{i}", channel, now, last, rnd.randint(0, 12)))
        cur.execute(f"SELECT setval('people_id_seq', {people}), setval('identities_id_seq', {identity})")
        raw.commit()
        raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        cur.execute("VACUUM ANALYZE")  # as autovacuum would have done by the day of the flood
    finally:
        raw.close()


# --- the code of before, kept only to be measured beside today's -----------------------------------


def old_recipients(audience: bulletins.Audience, windows: Mapping[str, ReplyWindow]) -> Any:
    """Yesterday's recipients: each person's address picked by a correlated subquery."""
    other = aliased(Identity)
    now = utcnow()
    closed = [
        and_(other.channel == channel, ~func.coalesce(window.is_open(other.last_inbound_at, now), False))
        for channel, window in windows.items()
    ]
    rank = case((or_(*closed), 1), else_=0) if closed else literal(0)
    best = (
        select(other.id)
        .where(other.person_id == Person.id)
        .order_by(rank, other.last_inbound_at.desc().nulls_last(), other.id.desc())
        .limit(1)
        .correlate(Person)
        .scalar_subquery()
    )
    return (
        select(
            Person.id,
            Identity.urn,
            Identity.channel,
            func.coalesce(Person.language, "vi").label("language"),
            Person.role,
            Identity.last_inbound_at,
            Identity.sent_since_inbound,
        )
        .join(Identity, Identity.id == best)
        .where(bulletins.in_audience(audience))
    )


def old_reach(db: Database, audience: bulletins.Audience) -> int:
    """Yesterday's reach: every recipient loaded and counted in Python."""
    now, counts = utcnow(), {}
    with db.transaction() as session:
        rows = session.execute(old_recipients(audience, WINDOWS)).all()
    for _id, _urn, channel, language, _role, last, sent in rows:
        counts[channel, language] = counts.get((channel, language), 0) + 1
        if channel in WINDOWS:
            WINDOWS[channel].reach(last, sent, now)
    return len(rows)


def old_send(db: Database, bulletin_id: int, audience: bulletins.Audience) -> int:
    """Yesterday's send request: the audience counted against what the official confirmed, then the whole
    outbox inserted in the request's transaction, every id returned."""
    with db.transaction() as session:
        found = old_recipients(audience, WINDOWS).subquery()
        session.scalar(select(func.count()).select_from(found))
        return old_queue(session, bulletin_id, audience)


def old_queue(session: Session, bulletin_id: int, audience: bulletins.Audience) -> int:
    """The old INSERT ... SELECT ... RETURNING of every recipient."""
    recipients = old_recipients(audience, WINDOWS).subquery()
    prestigious = recipients.c.role == PersonRole.prestigious
    session.scalar(select(func.count()).where(prestigious))
    rows = select(
        literal(bulletin_id),
        recipients.c.id,
        recipients.c.urn,
        recipients.c.channel,
        recipients.c.language,
        prestigious,
        literal(False),
        literal(DeliveryStatus.pending.value),
        literal(utcnow()),
    )
    columns = ["bulletin_id", "person_id", "urn", "channel", "language", "prestigious", "urgent", "status"]
    stmt = insert(Delivery).from_select([*columns, "due_at"], rows).returning(Delivery.id)
    return len(session.connection().execute(stmt).all())


def old_progress(db: Database, bulletin_id: int) -> dict[str, int]:
    """Yesterday's progress: the outbox rows counted by status on every poll."""
    with db.transaction() as session:
        found = session.execute(
            select(Delivery.status, func.count(), func.coalesce(func.sum(Delivery.retaken), 0))
            .where(Delivery.bulletin_id == bulletin_id)
            .group_by(Delivery.status)
        ).all()
    return {str(status): n for status, n, _retaken in found}


@contextmanager
def uncounted(db: Database) -> Iterator[None]:
    """The outbox without today's counting triggers, for yesterday's send to be timed as it was."""
    with db.transaction() as session:
        session.execute(text("ALTER TABLE deliveries DISABLE TRIGGER USER"))
    try:
        yield
    finally:
        with db.transaction() as session:
            session.execute(text("ALTER TABLE deliveries ENABLE TRIGGER USER"))


def record_outcomes(db: Database, bulletin_id: int, rows: int) -> Measure:
    """The sender's hot path, one row's outcome per transaction (pending -> sent), `rows` times: the
    seconds per row, so the counting triggers' cost shows beside the same writes without them."""
    with db.transaction() as session:
        ids = list(
            session.scalars(
                select(Delivery.id)
                .where(Delivery.bulletin_id == bulletin_id, Delivery.status == DeliveryStatus.pending)
                .limit(rows)
            )
        )
    started = time.perf_counter()
    for row in ids:
        with db.transaction() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == row)
                .values(status=DeliveryStatus.sent, sent_at=utcnow()),
                execution_options={"synchronize_session": False},
            )
    return Measure((time.perf_counter() - started) / max(len(ids), 1), rss_mb())


# --- the run ----------------------------------------------------------------------------------------


def draft(db: Database, title: str) -> int:
    """A text-only draft for the whole province."""
    with db.transaction() as session:
        made = bulletins.create(
            session,
            title=title,
            versions=[("vi", "Cảnh báo lũ quét: sơ tán khỏi ven suối ngay.", None)],
            audience=bulletins.Audience(provinces=(PROVINCE,)),
        )
        return made.id


def poll(read: Callable[[], object], times: int = 5) -> Measure:
    """The median of several progress polls, as an open page makes every two seconds."""
    runs = [measured(read)[1] for _ in range(times)]
    return Measure(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs))


def progress(db: Database, bulletin_id: int) -> bulletins.Progress:
    """A bulletin's progress in a transaction of its own."""
    with db.transaction() as session:
        return bulletins.progress(session, bulletin_id)


def reach(db: Database, audience: bulletins.Audience) -> bulletins.Reach:
    """The draft page's reach."""
    with db.transaction() as session:
        return bulletins.reach(session, audience, WINDOWS)


def send(db: Database, bulletin_id: int) -> int:
    """The confirmed send request's transaction: the reach checked against what the official confirmed,
    then the send."""
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        bulletins.reach(session, bulletins.Audience.from_json(bulletin.audience), WINDOWS)
        return bulletins.send(session, bulletin, lead=timedelta(0), windows=WINDOWS)


def run(server: str, people: int) -> None:
    """Every figure, today's beside yesterday's."""
    audience = bulletins.Audience(provinces=(PROVINCE,))
    with scratch_database(server) as url:
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        populate(db, people)
        print(f"{people:,} people generated in {time.perf_counter() - started:.1f} s")
        new_id, old_id = draft(db, "Cảnh báo lũ"), draft(db, "Cảnh báo lũ (cách cũ)")
        figures: dict[str, tuple[Measure, Measure | None]] = {}

        found, reached = measured(lambda: reach(db, audience))
        sent, sending = measured(lambda: send(db, new_id))
        _, build = measured(lambda: outbox.build(db, WINDOWS, new_id))
        polled, old_polled = poll(lambda: progress(db, new_id)), poll(lambda: old_progress(db, new_id))
        with db.transaction() as session:
            half = select(Delivery.id).where(Delivery.bulletin_id == new_id, Delivery.id % 2 == 0)
            session.execute(
                update(Delivery).where(Delivery.id.in_(half)).values(status=DeliveryStatus.sent),
                execution_options={"synchronize_session": False},
            )
        counted_write = record_outcomes(db, new_id, 2000)
        with uncounted(db):
            uncounted_write = record_outcomes(db, new_id, 2000)
        with db.transaction() as session:  # the rows written uncounted are counted again
            session.execute(delete(DeliveryCount).where(DeliveryCount.bulletin_id == new_id))
            session.execute(delete(DeliveryCountChange).where(DeliveryCountChange.bulletin_id == new_id))
            session.execute(
                insert(DeliveryCount).from_select(
                    ["bulletin_id", "status", "amount", "retaken"],
                    select(Delivery.bulletin_id, Delivery.status, func.count(), func.sum(Delivery.retaken))
                    .where(Delivery.bulletin_id == new_id)
                    .group_by(Delivery.bulletin_id, Delivery.status),
                )
            )
        polled_mid = poll(lambda: progress(db, new_id))
        old_polled_mid = poll(lambda: old_progress(db, new_id))
        assert progress(db, new_id).by_status == old_progress(db, new_id)
        today_rss = rss_mb()
        assert found.total == sent == progress(db, new_id).total, (found.total, sent)

        old_total, old_reached = measured(lambda: old_reach(db, audience))
        with uncounted(db):
            old_queued, old_sending = measured(lambda: old_send(db, old_id, audience))
            with db.transaction() as session:
                session.execute(delete(Delivery).where(Delivery.bulletin_id == old_id))
        assert old_total == old_queued == found.total, (old_total, old_queued)
        figures["reach (draft page)"] = (reached, old_reached)
        figures["send request"] = (sending, old_sending)
        figures["outbox build (background)"] = (build, None)
        figures["progress poll, just built"] = (polled, old_polled)
        figures["progress poll, half sent"] = (polled_mid, old_polled_mid)
        figures["one outcome recorded (ms)"] = (
            Measure(counted_write.seconds * 1000, counted_write.peak_mb),
            Measure(uncounted_write.seconds * 1000, uncounted_write.peak_mb),
        )
        db.dispose()

    print(f"\n{found.total:,} recipients; PostgreSQL, one process\n")
    print(f"{'step':<30} {'today s':>9} {'peak MB':>8}   {'before s':>9} {'peak MB':>8}")
    for name, (now_m, old_m) in figures.items():
        before = f"{old_m.seconds:>9.2f} {old_m.peak_mb:>8.1f}" if old_m else f"{'-':>9} {'-':>8}"
        print(f"{name:<30} {now_m.seconds:>9.2f} {now_m.peak_mb:>8.1f}   {before}")
    print("(the last line in milliseconds per row, before = the same writes without the counting triggers)")
    print(f"\nprocess memory peak (ru_maxrss): {today_rss:.0f} MB after today's steps, ", end="")
    print(f"{rss_mb():.0f} MB after the baselines")


def deliver(server: str, *, quick: bool) -> None:
    """The delivery half: 3 workers beside one, at the unpaid rate then by paid broadcast."""
    rate = Settings(_env_file=None).telegram_max_messages_per_second  # type: ignore[call-arg]
    runs = [
        (True, 5_000 if quick else 100_000, broadcast.PAID_LIMIT, "1,000/s by paid broadcast (990/s)"),
        (False, 900 if quick else 9_000, broadcast.LIMIT, f"30/s (senders paced at {rate:g}/s)"),
    ]
    for paid, recipients, limit, what in runs:
        send = partial(broadcast.run_loaban, recipients, DELIVERY_CONCURRENCY, rate, paid=paid)
        print(f"\n{recipients:,} people, a voice note each, {what}; fake Bot API limits on\n")
        broadcast.print_header(limit)
        pace = PAID_BROADCAST_RATE if paid else rate
        broadcast.print_row(broadcast.BASELINE, broadcast.run_baseline(recipients, pace, paid=paid), limit)
        for name, result in broadcast.postgres_runs(send, DELIVERY_WORKERS, f"{server}/postgres"):
            broadcast.print_row(name, result, limit)


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--quick", action="store_true", help="short runs, to try the bench")
    parser.add_argument("--delivery-only", action="store_true", help="only the delivery half")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{n:.1f}' for n in os.getloadavg())} ({os.cpu_count()} cores)")
    if not args.delivery_only:
        run(args.server, 20_000 if args.quick else args.people)
    deliver(args.server, quick=args.quick)
    print(f"\nload average at the end: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
