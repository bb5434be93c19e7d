"""A bulletin to a whole province without rows in Python: its reach counted by the database (the same
answer as the person-by-person rule, in every reply-window state), "send" that only marks the bulletin as
being prepared, and an outbox built in batches that survives a crash between them."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import bot.conversation  # noqa: F401  (before the sender: its composer and the conversation import each other)
from bot.bulletins import outbox
from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinStatus, Delivery, DeliveryStatus
from bot.bulletins.worker import advance_bulletins, claim, retake_expired
from bot.db import Database, utcnow
from bot.media import store
from bot.people import service as people
from bot.people.models import Identity, Person, PersonRole
from bot.people.windows import ReplyWindow, WindowState
from bot.privacy import service as privacy
from bot.server import create_app
from tests.conftest import make_settings
from tests.fakes.server import LiveServer
from tests.test_admin import login, make_admin

PHONG_THO, MUONG_TE, LAI_CHAU = 3549, 3445, 12
WINDOWS = {"zalo": ReplyWindow(free_for=timedelta(hours=48), free_messages=8, open_for=timedelta(days=7))}
ZALO = WINDOWS["zalo"]
_ids = itertools.count(1)


def person(
    db: Database,
    *addresses: tuple[str, datetime | None, int],
    language: str | None = "vi",
    role: PersonRole = PersonRole.villager,
    commune: int = PHONG_THO,
) -> int:
    """An onboarded person with addresses (channel, when they last wrote from it, messages sent since)."""
    with db.transaction() as session:
        found = Person(
            language=language, role=role, commune_code=commune, province_code=LAI_CHAU, consented_at=utcnow()
        )
        session.add(found)
        session.flush()
        for channel, last, sent in addresses:
            session.add(
                Identity(
                    person_id=found.id,
                    urn=f"{channel}:{next(_ids)}",
                    channel=channel,
                    last_inbound_at=last,
                    sent_since_inbound=sent,
                )
            )
        return found.id


def every_window_state(db: Database) -> None:
    """People on Zalo in each state and at each boundary, on Telegram and the web, on two apps (the open
    one or the latest wins), in several languages, one prestigious, and some outside the audience."""
    now = utcnow()
    hours = [0.5, 47, 48.5, 24 * 6.9, 24 * 7.1, 24 * 30]
    for age, sent in itertools.product(hours, [0, 7, 8, 20]):
        person(db, ("zalo", now - timedelta(hours=age), sent), language="hmn" if sent % 2 else "vi")
    person(db, ("zalo", None, 0))
    person(db, ("telegram", None, 0), language=None)
    person(db, ("web", now - timedelta(days=40), 0), language="tai")
    person(db, ("telegram", now - timedelta(days=1), 0), ("zalo", now - timedelta(hours=1), 0))
    person(db, ("telegram", now - timedelta(days=1), 0), ("zalo", now - timedelta(days=9), 0))
    person(db, ("telegram", None, 0), ("zalo", now - timedelta(days=3), 9), role=PersonRole.prestigious)
    person(db, ("zalo", now - timedelta(days=8), 0), ("web", None, 0), ("telegram", None, 0))
    person(db, ("telegram", None, 0), commune=MUONG_TE)
    unsubscribed = person(db, ("telegram", None, 0))
    person(db)  # no address at all
    with db.transaction() as session:
        found = people.get(session, person_id=unsubscribed)
        assert found is not None
        found.subscribed = False


def reach_in_python(
    session: Session, audience: bulletins.Audience, windows: Mapping[str, ReplyWindow]
) -> bulletins.Reach:
    """Yesterday's reach: every person loaded, each one's address chosen and counted in Python."""
    now = utcnow()
    by_channel: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    windowed: dict[str, dict[str, int]] = {}
    prestigious = 0
    for found in session.scalars(select(Person)):
        if not (found.onboarded and found.subscribed and audience.matches(found)) or not found.identities:
            continue

        def rank(identity: Identity) -> tuple[int, float, int]:
            window = windows.get(identity.channel)
            closed = window is not None and window.reach(identity.last_inbound_at, 0, now) == "closed"
            last = identity.last_inbound_at
            return (int(closed), -last.timestamp() if last else float("inf"), -identity.id)

        best = min(found.identities, key=rank)
        by_channel[best.channel] += 1
        by_language[found.language or "vi"] += 1
        prestigious += found.role == PersonRole.prestigious
        if best.channel in windows:
            state = windows[best.channel].reach(best.last_inbound_at, best.sent_since_inbound, now)
            counts = windowed.setdefault(best.channel, {s.value: 0 for s in WindowState})
            counts[state.value] += 1
    return bulletins.Reach(
        sum(by_channel.values()), prestigious, dict(by_channel), dict(by_language), windowed
    )


def test_the_reach_counted_by_the_database_is_the_person_by_person_rule(db: Database) -> None:
    every_window_state(db)
    for audience in (
        bulletins.Audience(communes=(PHONG_THO,)),
        bulletins.Audience(provinces=(LAI_CHAU,), languages=("hmn",)),
        bulletins.Audience(roles=("prestigious",)),
    ):
        with db.transaction() as session:
            expected = reach_in_python(session, audience, WINDOWS)
            assert bulletins.reach(session, audience, WINDOWS) == expected
            assert bulletins.count(session, audience, WINDOWS) == expected.total
    with db.transaction() as session:
        everyone = bulletins.reach(session, bulletins.Audience(), WINDOWS)
    assert everyone.windowed["zalo"] == {"free": 5, "quota": 13, "closed": 9}, "of two apps, the open one"
    assert everyone.by_channel == {"zalo": 27, "telegram": 4, "web": 1}


def test_the_window_state_in_sql_is_the_one_in_python_at_every_boundary(db: Database) -> None:
    now = utcnow()
    ages = [None, ZALO.free_for, ZALO.free_for + timedelta(seconds=1), ZALO.open_for]
    ages += [ZALO.open_for + timedelta(seconds=1), timedelta(0), timedelta(days=3)]
    for age, sent in itertools.product(ages, [0, ZALO.free_messages - 1, ZALO.free_messages]):
        person(db, ("zalo", None if age is None else now - age, sent))
    with db.transaction() as session:
        rows = session.execute(
            select(
                Identity.last_inbound_at,
                Identity.sent_since_inbound,
                ZALO.state(Identity.last_inbound_at, Identity.sent_since_inbound, now),
            )
        ).all()
    assert len(rows) == len(ages) * 3
    assert [state for *_, state in rows] == [ZALO.reach(last, sent, now).value for last, sent, _ in rows]
    assert {state for *_, state in rows} == {"free", "quota", "closed"}


def deliveries(db: Database, bulletin_id: int) -> list[Delivery]:
    """A bulletin's outbox rows."""
    with db.transaction() as session:
        return list(session.scalars(select(Delivery).where(Delivery.bulletin_id == bulletin_id)))


def draft(db: Database, **audience: object) -> int:
    """A text-only draft for Phong Thổ unless told otherwise."""
    audience.setdefault("communes", (PHONG_THO,))
    with db.transaction() as session:
        bulletin = bulletins.create(
            session,
            title="Lũ quét",
            versions=[("vi", "Sơ tán ngay khỏi ven suối.", None)],
            audience=bulletins.Audience(**audience),  # type: ignore[arg-type]
        )
        return bulletin.id


def send(db: Database, bulletin_id: int, lead: timedelta = timedelta(0)) -> int:
    """Press send: the bulletin is marked, nothing is queued yet."""
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        return bulletins.send(session, bulletin, lead=lead, windows=WINDOWS)


def test_send_only_marks_the_bulletin_and_the_outbox_is_then_built_in_batches(db: Database) -> None:
    every_window_state(db)
    bulletin_id = draft(db)
    assert send(db, bulletin_id, lead=timedelta(minutes=30)) == 31
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None and bulletin.preparing and bulletin.status == BulletinStatus.sending
        assert bulletins.progress(session, bulletin_id).total == 0
        advance_bulletins(session)
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).status == BulletinStatus.sending  # type: ignore[union-attr]

    outbox.build(db, WINDOWS, bulletin_id, batch=5)

    rows = deliveries(db, bulletin_id)
    assert len(rows) == 31 and len({r.person_id for r in rows}) == 31
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None and not bulletin.preparing and bulletin.send_at is not None
        assert bulletins.reach(
            session, bulletins.Audience(communes=(PHONG_THO,)), WINDOWS
        ).by_channel == dict(Counter(r.channel for r in rows))
        elder = [r for r in rows if r.prestigious]
        assert len(elder) == 1 and elder[0].due_at == bulletin.send_at, "prestigious persons first"
        assert {r.due_at for r in rows if not r.prestigious} == {bulletin.send_at + timedelta(minutes=30)}


def test_a_build_that_crashed_between_batches_resumes_and_nobody_gets_it_twice(db: Database) -> None:
    every_window_state(db)
    bulletin_id = draft(db)
    send(db, bulletin_id)
    with db.transaction() as session:
        outbox.build_batch(session, WINDOWS, batch=10)
    with pytest.raises(RuntimeError), db.transaction() as session:  # the process dies mid-batch
        outbox.build_batch(session, WINDOWS, batch=10)
        raise RuntimeError("kill -9")
    assert len(deliveries(db, bulletin_id)) == 10
    with db.transaction() as session:  # worse: the cursor is lost and batches are done again
        session.execute(update(Bulletin).values(outbox_cursor=0))

    outbox.build(db, WINDOWS, bulletin_id, batch=7)

    rows = deliveries(db, bulletin_id)
    assert len(rows) == 31 and Counter(r.person_id for r in rows).most_common(1)[0][1] == 1
    with db.transaction() as session:
        advance_bulletins(session)  # built, but every row still to send
        assert session.get(Bulletin, bulletin_id).status == BulletinStatus.sending  # type: ignore[union-attr]
        session.execute(update(Delivery).values(status=DeliveryStatus.sent))
    with db.transaction() as session:
        advance_bulletins(session)
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).status == BulletinStatus.done  # type: ignore[union-attr]


def test_a_send_cancelled_while_it_is_prepared_stops_being_built(db: Database) -> None:
    for _ in range(6):
        person(db, ("telegram", None, 0))
    bulletin_id = draft(db)
    send(db, bulletin_id)
    with db.transaction() as session:
        outbox.build_batch(session, WINDOWS, batch=4)
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        bulletins.cancel(session, bulletin)
    with db.transaction() as session:
        assert outbox.build_batch(session, WINDOWS) is None
        progress = bulletins.progress(session, bulletin_id)
    assert (progress.total, progress.cancelled) == (4, 4)


def test_the_admin_shows_a_send_being_prepared_with_how_many_are_queued(
    database_url: str, db: Database
) -> None:
    settings = make_settings(database_url, run_worker=False)  # no builder: it stays being prepared
    for _ in range(3):
        person(db, ("telegram", None, 0))
    bulletin_id = draft(db)
    send(db, bulletin_id)
    with db.transaction() as session:
        outbox.build_batch(session, WINDOWS, batch=2)
    make_admin(db, "tinh")
    server = LiveServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url) as client:
            login(client, "tinh")
            page = client.get(f"/admin/bulletins/{bulletin_id}").text
            listing = client.get("/admin/bulletins").text
    finally:
        server.stop()
    assert "Đang chuẩn bị" in page and "đã xếp hàng 2 người" in page
    assert "Đang chuẩn bị" in listing
    with db.transaction() as session:
        queued = session.scalar(select(func.count()).select_from(Delivery))
    assert queued == 2


def rows_by_status(db: Database, bulletin_id: int) -> tuple[dict[str, int], int]:
    """The outbox counted the slow way: its rows by status, and how often they were retaken."""
    with db.transaction() as session:
        found = session.execute(
            select(Delivery.status, func.count(), func.sum(Delivery.retaken))
            .where(Delivery.bulletin_id == bulletin_id)
            .group_by(Delivery.status)
        ).all()
    return {str(status): n for status, n, _r in found}, sum(int(r) for *_, r in found)


def assert_counted(db: Database, bulletin_id: int) -> None:
    """Progress from the counts equals the rows, before and after the changes are folded in."""
    for fold in (False, True):
        with db.transaction() as session:
            if fold:
                bulletins.fold_counts(session)
            progress = bulletins.progress(session, bulletin_id)
        assert (progress.by_status, progress.retaken) == rows_by_status(db, bulletin_id)
        assert progress.total == sum(progress.by_status.values())


def test_progress_from_the_counts_stays_the_count_of_rows_through_every_change(
    db: Database, tmp_path: Path
) -> None:
    now = utcnow()
    telegram = [person(db, ("telegram", None, 0)) for _ in range(6)]
    person(db, ("zalo", now - timedelta(days=8), 0))  # silent too long: unreachable when claimed
    bulletin_id = draft(db)
    send(db, bulletin_id)
    with db.transaction() as session:
        outbox.build_batch(session, WINDOWS, batch=3)
    assert_counted(db, bulletin_id)
    outbox.build(db, WINDOWS, bulletin_id, batch=3)
    assert_counted(db, bulletin_id)

    with db.transaction() as session:
        claimed = claim(session, "sender-1", 10, urgent_only=False, hold_for=timedelta(0), windows=WINDOWS)
    assert len(claimed) == 6
    assert_counted(db, bulletin_id)
    outcomes = [DeliveryStatus.sent, DeliveryStatus.sent, DeliveryStatus.failed, DeliveryStatus.blocked]
    with db.transaction() as session:  # outcomes recorded as the sender records them, row by row
        for row, status in zip(claimed, outcomes, strict=False):
            session.execute(
                update(Delivery).where(Delivery.id == row.id).values(status=status, claimed_by=None)
            )
    with db.transaction() as session:  # the sender died with two in flight: taken back once expired
        assert retake_expired(session, max_attempts=5) == 2
    assert_counted(db, bulletin_id)

    for action in (bulletins.pause, bulletins.resume):
        with db.transaction() as session:
            bulletin = bulletins.get(session, bulletin_id=bulletin_id)
            assert bulletin is not None
            action(session, bulletin)
    with db.transaction() as session:
        gone = people.get(session, person_id=telegram[-1])
        assert gone is not None
        privacy.erase(session, store.FolderStore(tmp_path), gone)
    assert_counted(db, bulletin_id)
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None
        bulletins.cancel(session, bulletin)
    assert_counted(db, bulletin_id)
    with db.transaction() as session:
        progress = bulletins.progress(session, bulletin_id)
    assert (progress.sent, progress.failed, progress.blocked, progress.unreachable) == (2, 1, 1, 1)
    assert (progress.cancelled, progress.retaken, progress.total) == (2, 2, 7)


def test_two_builders_at_once_queue_everyone_once(db: Database) -> None:
    for _ in range(40):
        person(db, ("telegram", None, 0))
    bulletin_id = draft(db)
    send(db, bulletin_id)

    def builder() -> None:
        while True:
            with db.transaction() as session:
                found = outbox.build_batch(session, WINDOWS, batch=3)  # None: the other one holds it
                bulletin = found or bulletins.get(session, bulletin_id=bulletin_id)
                assert bulletin is not None
                if not bulletin.preparing:
                    return

    threads = [threading.Thread(target=builder) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    rows = deliveries(db, bulletin_id)
    assert len(rows) == 40 and len({r.person_id for r in rows}) == 40
    assert_counted(db, bulletin_id)
