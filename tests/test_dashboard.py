"""The dashboard tells the truth: each figure equals an independent count of a built history, each number
links to a list of exactly that many, an officer sees their communes only, days are the deployment's days."""

from __future__ import annotations

import html
import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, text

from bot.accounts.models import Role
from bot.bulletins import service as bulletins
from bot.bulletins.models import BulletinStatus, Delivery, DeliveryStatus
from bot.config import Settings
from bot.db import Database, midnights, utcnow
from bot.feedback import service as feedback
from bot.feedback.models import TicketStatus
from bot.media import store
from bot.messages import service as messages
from bot.messages.models import Direction, Message, MessageDay, MessageDayChange, MessageDayZone, Status
from bot.people import service as people
from bot.people.models import Person
from bot.people.service import PersonFilter
from bot.privacy import service as privacy
from bot.qa.models import OpenQuestion, QuestionStatus
from tests.test_admin import MUONG_TE, PHONG_THO, login, make_admin

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
LAI_CHAU = 12


@dataclass(frozen=True)
class Someone:
    """One person of the built history, as the test itself knows them."""

    urn: str
    commune: int
    language: str
    standing: str  # receiving, stopped or signing_up
    days_ago: int


@dataclass(frozen=True)
class Complaint:
    """One ticket of the built history: its commune, status and due day relative to today."""

    commune: int
    status: TicketStatus
    due_in: int  # days from today (negative: overdue if still open)
    days_ago: int  # when it was received


PEOPLE = [
    Someone("telegram:1001", PHONG_THO, "vi", "receiving", 2),
    Someone("telegram:1002", PHONG_THO, "hmn", "receiving", 20),
    Someone("zalo:1003", PHONG_THO, "hmn", "stopped", 40),
    Someone("web:1004", PHONG_THO, "vi", "signing_up", 1),
    Someone("telegram:1005", MUONG_TE, "en", "receiving", 100),
    Someone("zalo:1006", MUONG_TE, "vi", "receiving", 5),
    Someone("zalo:1007", MUONG_TE, "en", "signing_up", 3),
    Someone("telegram:1008", MUONG_TE, "vi", "stopped", 300),
    Someone("web:1009", PHONG_THO, "vi", "receiving", 29),
]
TICKETS = [
    Complaint(PHONG_THO, TicketStatus.new, -3, 20),  # overdue
    Complaint(PHONG_THO, TicketStatus.in_progress, 2, 10),  # due soon
    Complaint(PHONG_THO, TicketStatus.received, 30, 1),  # open, not soon
    Complaint(PHONG_THO, TicketStatus.closed, -10, 50),  # closed: neither open nor overdue
    Complaint(MUONG_TE, TicketStatus.received, -1, 60),  # overdue
    Complaint(MUONG_TE, TicketStatus.answered, 1, 4),  # answered: waits for the rating, not an official
    Complaint(MUONG_TE, TicketStatus.new, 6, 2),  # due soon (the seventh day)
    Complaint(MUONG_TE, TicketStatus.new, 7, 2),  # the eighth day: not soon
]
QUESTIONS = [(PHONG_THO, 50, QuestionStatus.open), (MUONG_TE, 5, QuestionStatus.open)]  # hours ago
QUESTIONS += [(MUONG_TE, 200, QuestionStatus.open), (MUONG_TE, 80, QuestionStatus.answered)]
QUESTIONS += [(PHONG_THO, 2, QuestionStatus.answered)]
HOSTILE = "<script>alert('x')</script> Bản tin"


def build(db: Database) -> None:
    """The history: people in two communes, three languages and three apps; tickets; questions; a send."""
    now = utcnow()
    with db.transaction() as session:
        for s in PEOPLE:
            person, _ = people.get_or_create_by_urn(session, s.urn)
            person.commune_code, person.province_code, person.language = s.commune, LAI_CHAU, s.language
            person.created_at = now - timedelta(days=s.days_ago)
            if s.standing != "signing_up":
                person.consented_at = person.created_at
            person.subscribed = s.standing != "stopped"
        sender = people.get_by_urn(session, "telegram:1001")
        assert sender is not None
        today = now.astimezone(ZONE).date()
        for t in TICKETS:
            sender.commune_code = t.commune
            ticket = feedback.create(
                session, person=sender, urn=sender_urn(), filing=feedback.Filing(None, "Đường hỏng"), now=now
            )
            ticket.status, ticket.due_on = t.status, today + timedelta(days=t.due_in)
            ticket.created_at = now - timedelta(days=t.days_ago)
        sender.commune_code = PHONG_THO
        for commune, hours, status in QUESTIONS:
            session.add(
                OpenQuestion(
                    commune_code=commune, text="Hỏi?", status=status, created_at=now - timedelta(hours=hours)
                )
            )
        bulletin = bulletins.create(
            session,
            title=HOSTILE,
            versions=[("vi", "Tin", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
        )
        bulletin.status = (
            BulletinStatus.paused
        )  # a send under way the worker leaves alone while the test looks


def sender_urn() -> str:
    """Where the tickets came from (one person files them all, moved from commune to commune)."""
    return "telegram:1001"


def expected(communes: tuple[int, ...], days: int = 30) -> dict[str, int]:
    """The figures counted by hand from the lists above, not by the code under test."""
    mine = [s for s in PEOPLE if s.commune in communes]
    tickets = [t for t in TICKETS if t.commune in communes]
    waiting = [t for t in tickets if t.status in feedback.OPEN]
    return {
        "total-people": sum(s.standing != "signing_up" for s in mine),
        "people-receiving": sum(s.standing == "receiving" for s in mine),
        "people-stopped": sum(s.standing == "stopped" for s in mine),
        "people-signing-up": sum(s.standing == "signing_up" for s in mine),
        "people-joined": sum(s.standing != "signing_up" and s.days_ago < days for s in mine),
        "tickets-open": len(waiting),
        "tickets-overdue": sum(t.due_in < 0 for t in waiting),
        "tickets-due-soon": sum(0 <= t.due_in < 7 for t in waiting),
        "tickets-received": sum(t.days_ago < days for t in tickets),
        "questions-waiting": sum(c in communes and s == QuestionStatus.open for c, _, s in QUESTIONS),
        **{
            f"questions-over-{days}": sum(
                c in communes and s == QuestionStatus.open and hours > 24 * days for c, hours, s in QUESTIONS
            )
            for days in (1, 3, 7)
        },
    }


def numbers(page: str) -> dict[str, tuple[int, str]]:
    """Each figure the dashboard shows by its id, with the link it carries."""
    found = re.findall(r'<a id="([a-z0-9-]+)"(?: class="error")? href="([^"]+)">(\d+)</a>', page)
    return {name: (int(n), html.unescape(href)) for name, href, n in found}


def listed(client: httpx.Client, href: str) -> int:
    """How many rows the list behind a link holds, checked against the total it states."""
    page = client.get(href)
    assert page.status_code == 200, href
    if href.startswith("/admin/questions"):
        return len(re.findall(r'<section class="card question', page.text))
    total = int(re.search(r'id="(?:people|tickets)-total">Tìm thấy (\d+)', page.text).group(1))  # type: ignore[union-attr]
    rows = len(re.findall(r'<a href="/admin/(?:people|feedback)/\d+"', page.text))
    assert rows == total, f"{href}: {rows} rows shown, {total} said"
    return total


@pytest.mark.parametrize(
    ("role", "communes"),
    [(Role.province_admin, (PHONG_THO, MUONG_TE)), (Role.commune_officer, (MUONG_TE,))],
)
def test_every_figure_is_an_independent_count_and_links_to_a_list_that_long(
    client: httpx.Client, db: Database, role: Role, communes: tuple[int, ...]
) -> None:
    build(db)
    make_admin(db, "xem", role, communes if role == Role.commune_officer else ())
    login(client, "xem")
    page = client.get("/admin").text
    shown = numbers(page)
    want = expected(communes)
    assert {k: shown[k][0] for k in want} == want
    for name, (n, href) in shown.items():
        assert listed(client, href) == n, f"{name} links to {href}"
    by_commune = dict(
        re.findall(r'href="/admin/people\?standing=onboarded&amp;commune=(\d+)">(\d+)</a>', page)
    )
    assert {int(c): int(n) for c, n in by_commune.items()} == {
        c: sum(s.commune == c and s.standing != "signing_up" for s in PEOPLE) for c in communes
    }
    for code, n in by_commune.items():
        assert listed(client, f"/admin/people?standing=onboarded&commune={code}") == int(n)
    by_app = dict(re.findall(r'href="/admin/people\?standing=onboarded&amp;channel=(\w+)">(\d+)</a>', page))
    mine = [s for s in PEOPLE if s.commune in communes and s.standing != "signing_up"]
    assert {a: int(n) for a, n in by_app.items()} == {
        a: sum(s.urn.startswith(f"{a}:") for s in mine) for a in {s.urn.split(":")[0] for s in mine}
    }
    by_language = dict(re.findall(r'href="/admin/people\?standing=onboarded&amp;lang=(\w+)">(\d+)</a>', page))
    assert {lang: int(n) for lang, n in by_language.items()} == {
        lang: sum(s.language == lang for s in mine) for lang in {s.language for s in mine}
    }
    if role == Role.commune_officer:
        assert "Xã Phong Thổ" not in page and HOSTILE not in page, "another commune's figures stay hidden"
        assert listed(client, f"/admin/people?standing=onboarded&commune={PHONG_THO}") == 0
    else:
        assert "&lt;script&gt;alert(" in page and HOSTILE not in page, "a title is shown escaped"
        running = page[page.index('id="running"') :].split("</section>")[0]
        assert "đang tạm dừng" in running


def test_a_chosen_period_counts_its_days_only(client: httpx.Client, db: Database) -> None:
    build(db)
    make_admin(db, "tinh")
    login(client, "tinh")
    for days in (7, 90, 365):
        shown = numbers(client.get("/admin", params={"days": days}).text)
        want = expected((PHONG_THO, MUONG_TE), days)
        assert shown["people-joined"][0] == want["people-joined"]
        assert shown["tickets-received"][0] == want["tickets-received"]
        assert listed(client, shown["people-joined"][1]) == want["people-joined"]
    today = datetime.now(ZONE).date()
    typed = {
        "start": (today - timedelta(days=45)).isoformat(),
        "end": (today - timedelta(days=10)).isoformat(),
    }
    page = client.get("/admin", params=typed).text
    shown = numbers(page)
    assert shown["people-joined"][0] == sum(
        s.standing != "signing_up" and 10 <= s.days_ago <= 45 for s in PEOPLE
    )  # 1002 (20 days ago) and 1003 (40); 1009 (29)
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]+)"', page).group(1)))  # type: ignore[union-attr]
    assert len(chart["labels"]) == 36 and sum(chart["series"][0]) == shown["people-joined"][0]


def test_days_are_counted_on_the_deployment_clock(db: Database) -> None:
    """A person who wrote at 23:30 UTC wrote the next morning in Viet Nam: that is the day they count on."""
    late = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # 06:30 on 10/3 in Hà Nội
    early = datetime(2026, 3, 10, 16, 59, tzinfo=UTC)  # 23:59 on 10/3
    with db.transaction() as session:
        for urn, moment in (("web:a", late), ("web:b", early), ("web:c", early + timedelta(minutes=2))):
            person, _ = people.get_or_create_by_urn(session, urn)
            person.created_at = moment
    with db.transaction() as session:
        days = people.new_per_day(session, PersonFilter(), midnights(date(2026, 3, 1), 31, ZONE))
        edge = people.new_per_day(session, PersonFilter(), midnights(date(2026, 3, 11), 1, ZONE))
    assert days == [(date(2026, 3, 10), 2), (date(2026, 3, 11), 1)]
    assert edge == [(date(2026, 3, 11), 1)], "a period's first day starts at local midnight"


def test_sends_under_way_end_one_after_another_at_the_shared_rate(db: Database) -> None:
    """Sends share the platform's rate: urgent rows leave first, then the oldest send's; a paused send has
    no end; the rows already sent do not count."""
    now = utcnow()
    with db.transaction() as session:
        made = {}
        for name, urgent, status in (
            ("older", False, BulletinStatus.sending),
            ("urgent", True, BulletinStatus.sending),
            ("paused", False, BulletinStatus.paused),
        ):
            b = bulletins.create(
                session, title=name, versions=[("vi", "Tin", None)], audience=bulletins.Audience()
            )
            b.status, b.urgent, made[name] = status, urgent, b
        session.flush()
        rows = {"older": (290, 10), "urgent": (58, 0), "paused": (100, 0)}
        for name, (pending, sent) in rows.items():
            for i in range(pending + sent):
                session.add(
                    Delivery(
                        bulletin_id=made[name].id,
                        urn=f"web:{name}{i}",
                        channel="web",
                        language="vi",
                        status=DeliveryStatus.pending if i < pending else DeliveryStatus.sent,
                    )
                )
    with db.transaction() as session:
        found = bulletins.running(session, now, 29.0, quiet=None, zone=ZONE)
    assert [(r.bulletin.title, r.progress.pending, r.progress.sent) for r in found] == [
        ("urgent", 58, 0),
        ("older", 290, 10),
        ("paused", 100, 0),
    ]
    assert [r.expected_end for r in found] == [now + timedelta(seconds=2), now + timedelta(seconds=12), None]


Chart = list[tuple[date, str, int]]


def _tally(rows: list[tuple[date, str, int | None]], communes: tuple[int, ...] | None) -> Chart:
    """(day, direction, count) rows as count_per_day gives them, counted here from (day, direction,
    commune) facts."""
    counted = Counter((d, way) for d, way, c in rows if communes is None or c in communes)
    return sorted((d, way, n) for (d, way), n in counted.items())


def test_messages_per_day_count_each_message_on_its_local_day_where_its_person_was(
    client: httpx.Client, db: Database, settings: Settings
) -> None:
    """A year of messages at instants on both sides of local midnight, from people in two communes (one
    moves half way, one erases their data at the end) and from an address nobody onboarded: the chart's
    days are the deployment's days, each message counts under the commune its person had when it was
    stored, equal to a count over the messages themselves; an erasure leaves past days as they were."""
    rng = random.Random(28)
    today = datetime.now(ZONE).date()
    first = today - timedelta(days=364)
    edges = midnights(first, 365, ZONE)
    log: list[tuple[date, str, int | None]] = []  # (local day, direction, commune then), the test's own
    with db.transaction() as session:
        folks = []
        for i, commune in enumerate((PHONG_THO, PHONG_THO, MUONG_TE, MUONG_TE, None)):
            person, _ = people.get_or_create_by_urn(session, f"telegram:77{i}")
            person.commune_code = commune
            folks.append(person)
        session.flush()
        for n in range(800):
            if n == 400:  # the second person moves: what they wrote before stays where it was written
                folks[1].commune_code = MUONG_TE
                session.flush()
            day = first + timedelta(days=365 * n // 800)
            midnight = datetime.combine(day, datetime.min.time(), ZONE)
            at = rng.choice(
                [midnight, midnight + timedelta(days=1, microseconds=-1), midnight + timedelta(hours=7)]
            )
            person = rng.choice([*folks, None])
            way = rng.choice([Direction.inbound, Direction.outbound])
            linked = person is not None and (way == Direction.outbound or rng.random() < 0.5)
            session.add(
                Message(
                    person_id=person.id if linked and person else None,  # inbound rows are linked later
                    urn=f"telegram:77{folks.index(person)}" if person else "web:nobody",
                    channel="web" if person is None else "telegram",
                    direction=way,
                    status=Status.received if way == Direction.inbound else Status.sent,
                    created_at=at.astimezone(UTC),
                )
            )
            log.append((at.date(), way.value, person.commune_code if person else None))
        # today's messages through the code that stores them: the inbound one before it is linked
        stored = messages.record_inbound(
            session, urn="telegram:772", external_id="u1", kind="text", text="Chào", payload={}
        )
        messages.mark_handled(session, stored.id, folks[2].id)
        messages.record_outbound(
            session, person_id=folks[2].id, urn="telegram:772", kind="text", text="Dạ", payload={}
        )
        log += [(today, "in", MUONG_TE), (today, "out", MUONG_TE)]
    scopes: list[tuple[int, ...] | None] = [None, (PHONG_THO,), (MUONG_TE,), (PHONG_THO, MUONG_TE)]
    with db.transaction() as session:
        stored_rows = session.execute(select(Message.created_at, Message.direction)).all()
        before = {scope: messages.count_per_day(session, edges, scope, settings.timezone) for scope in scopes}
    over_messages = [(at.astimezone(ZONE).date(), str(way), None) for at, way in stored_rows]
    assert before[None] == _tally(over_messages, None), "the province's days equal a count over the messages"
    for scope in scopes:
        assert before[scope] == _tally(log, scope), scope
    assert sum(n for _, _, n in before[(PHONG_THO,)]) > 0 and sum(n for _, _, n in before[(MUONG_TE,)]) > 0
    with db.transaction() as session:  # what the live server's outbox builder does every half second
        messages.fold_days(session)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(MessageDayChange)) == 0
        folded = {scope: messages.count_per_day(session, edges, scope, settings.timezone) for scope in scopes}
    assert folded == before, "a fold changes no figure"
    with db.transaction() as session:
        erased = session.get(Person, folks[0].id)
        assert erased is not None
        privacy.erase(session, store.of(settings), erased)
    with db.transaction() as session:
        after = {scope: messages.count_per_day(session, edges, scope, settings.timezone) for scope in scopes}
        left = session.execute(select(func.count()).select_from(Message)).scalar_one()
    assert left < len(stored_rows), "erasure deleted messages"
    assert after == before, "the days people wrote on stay counted after one of them erased their data"
    make_admin(db, "xa", Role.commune_officer, (MUONG_TE,))
    login(client, "xa")
    page = client.get("/admin", params={"days": 365}).text
    chart = json.loads(html.unescape(re.findall(r'data-chart="([^"]+)"', page)[1]))
    days = [d.date() for d in edges[:-1]]
    want = {way: {d: n for d, w, n in before[(MUONG_TE,)] if w == way} for way in ("in", "out")}
    assert chart["series"] == [[want[way].get(d, 0) for d in days] for way in ("in", "out")]


def _postgresql_only(db: Database) -> None:
    """Skip on SQLite, whose one writer at a time never lets two transactions meet."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")


def _message(person: Person, at: datetime, way: Direction = Direction.outbound) -> Message:
    """A stored message of a person's, at an instant."""
    status = Status.sent if way == Direction.outbound else Status.received
    urn = f"telegram:{person.id}"
    return Message(
        person_id=person.id, urn=urn, channel="telegram", direction=way, status=status, created_at=at
    )


def test_conversations_and_delivery_batches_never_wait_on_each_other_for_a_day_count(db: Database) -> None:
    """Two open transactions storing messages of the same day and commune, then each of the other's
    commune too, crosswise (a conversation that notifies officials elsewhere, and a delivery batch): none
    waits for the other's commit (a counter row held until commit would make the third statement wait
    and the fourth deadlock), and both are counted."""
    _postgresql_only(db)
    with db.transaction() as session:
        here, there = Person(commune_code=PHONG_THO), Person(commune_code=MUONG_TE)
        session.add_all([here, there])
        session.flush()
    now = utcnow()
    conversation, batch = db.sessions(), db.sessions()
    try:
        for session in (conversation, batch):
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
        for session, person in ((conversation, here), (batch, there), (conversation, there), (batch, here)):
            session.add(_message(person, now))
            session.flush()  # on the old counter rows: a lock timeout at the third
        conversation.commit()
        batch.commit()
    finally:
        conversation.close()
        batch.close()
    edges = midnights(now.astimezone(ZONE).date(), 1, ZONE)
    with db.transaction() as session:
        for scope in ((PHONG_THO,), (MUONG_TE,)):
            assert messages.count_per_day(session, edges, scope, "Asia/Ho_Chi_Minh") == [
                (now.astimezone(ZONE).date(), "out", 2)
            ]


def test_folds_while_messages_are_stored_lose_and_double_nothing(db: Database) -> None:
    """Two writers store messages in many small transactions while two folders fold the changes (two
    builders can run): the chart read meanwhile always equals a count over the messages in the same
    snapshot, and in the end every message is counted once, under its day, commune, app and direction."""
    _postgresql_only(db)
    with db.transaction() as session:
        folks = [Person(commune_code=c) for c in (PHONG_THO, MUONG_TE, PHONG_THO)]
        session.add_all(folks)
        session.flush()
        zone = ZoneInfo(session.scalar(select(MessageDayZone.zone)) or "")
    start = utcnow() - timedelta(days=3)
    stored: list[Counter[tuple[date, int, str, str]]] = [Counter(), Counter()]  # each writer's own
    writing, errors, readings = threading.Event(), [], []

    def write(seed: int) -> None:
        rng, mine = random.Random(seed), stored[seed]
        try:
            for _ in range(120):
                with db.transaction() as session:
                    for _ in range(rng.randint(1, 4)):
                        person = rng.choice(folks)
                        way = rng.choice([Direction.inbound, Direction.outbound])
                        at = start + timedelta(hours=rng.randint(0, 72))
                        session.add(_message(person, at, way))
                        key = (at.astimezone(zone).date(), person.commune_code or 0, "telegram", way.value)
                        mine[key] += 1
        except Exception as error:
            errors.append(error)

    def read() -> None:
        edges = midnights((start - timedelta(days=1)).astimezone(zone).date(), 6, zone)
        while writing.is_set():
            with db.sessions() as session, session.begin():  # one snapshot for both counts
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                kept = messages.count_per_day(session, edges, None, str(zone))
                if kept != messages.count_messages_per_day(session, edges, None):
                    errors.append(AssertionError(f"the chart said {kept}"))
                readings.append(len(kept))

    def fold() -> None:
        try:
            while writing.is_set():
                with db.transaction() as session:
                    messages.fold_days(session)
        except Exception as error:
            errors.append(error)

    writing.set()
    writers = [threading.Thread(target=write, args=(seed,)) for seed in (0, 1)]
    folders = [threading.Thread(target=fold) for _ in range(2)] + [threading.Thread(target=read)]
    for thread in [*writers, *folders]:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in folders:
        thread.join()
    assert errors == [] and readings, "the chart equalled a count over the messages at every reading"
    with db.transaction() as session:
        folded = session.scalar(select(func.sum(MessageDay.messages)))
        messages.fold_days(session)
    with db.transaction() as session:
        keys = (MessageDay.day, MessageDay.commune_code, MessageDay.channel, MessageDay.direction)
        kept = session.execute(select(*keys, MessageDay.messages)).all()
        assert session.scalar(select(func.count()).select_from(MessageDayChange)) == 0
    assert {(d, c, ch, w): n for d, c, ch, w, n in kept} == dict(stored[0] + stored[1])
    assert sum((stored[0] + stored[1]).values()) > 400 and folded, "the folders folded while they wrote"
