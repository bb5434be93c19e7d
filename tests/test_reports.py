"""The periodic report: every figure of every table against a count of the test's own log of a year of
history (two communes, three languages, two apps), for the province and for one commune, on each backend;
the same figures later, whatever people do after the period; the DOCX and XLSX read back."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook

from bot.accounts.models import Role
from bot.bulletins.models import DeliveryStatus
from bot.db import Database
from bot.people import service as people
from bot.people.models import Person
from bot.reports import documents
from bot.reports import service as reports
from bot.reports.service import Period, Report, Scope, commune_label, language_label
from bot.reports.tables import sections
from tests.reports_history import COMMUNE_A, COMMUNE_B, EDGES, HOSTILE, Log, Tried, build
from tests.test_admin import csrf, login, make_admin

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PERIOD = reports.whole_year(2026)
ANSWER_DAYS = 3


def _identity(text: str) -> str:
    """No translation: the Vietnamese the code is written in."""
    return text


@pytest.fixture
def history(db: Database) -> Log:
    """A year and more of history in the test's database."""
    return build(db)


def _report(db: Database, period: Period, scope: Scope) -> Report:
    """The report as the admin page makes it."""
    with db.transaction() as session:
        return reports.build(session, period, scope, ZONE, answer_days=ANSWER_DAYS)


def _in(scope: Scope, commune: int | None) -> bool:
    """Whether a commune is in the scope."""
    return scope.communes is None or commune in scope.communes


def _expected_reach(
    log: Log, period: Period, scope: Scope, key: Callable[[tuple[Any, ...]], Any]
) -> Counter[Any]:
    """Per key: [subscribed at the end, joined in, left in], counted from the log's states."""
    start, end = period.bounds(ZONE)
    counts: Counter[Any] = Counter()
    for human in log.humans:
        state = human.state(end)
        if state is not None and _in(scope, state[0]):
            counts[(key(state), "subscribed")] += 1
        previous = None
        seen = False
        for at, now in human.history:
            if start <= at < end:
                if previous is None and now is not None and not seen and _in(scope, now[0]):
                    counts[(key(now), "joined")] += 1
                if previous is not None and now is None and _in(scope, previous[0]):
                    counts[(key(previous), "left")] += 1
            seen = seen or now is not None
            previous = now
    return counts


def _check_reach(report: Report, log: Log, scope: Scope) -> None:
    """Table 1 against the log."""
    groupings: list[tuple[list[reports.ReachRow], Callable[[tuple[Any, ...]], Any], Callable[[Any], str]]] = [
        (report.reach.communes, lambda s: s[0], commune_label),
        (report.reach.languages, lambda s: s[2], language_label),
        (report.reach.channels, lambda s: s[4], reports.channel_label),
    ]
    for rows, key, name in groupings:
        expected = _expected_reach(log, report.period, scope, key)
        keys = {k for k, _ in expected}
        assert sorted(r.name for r in rows) == sorted(name(k) for k in keys)
        for k in keys:
            row = next(r for r in rows if r.name == name(k))
            assert (row.subscribed, row.joined, row.left) == (
                expected[(k, "subscribed")],
                expected[(k, "joined")],
                expected[(k, "left")],
            ), name(k)
    total = _expected_reach(log, report.period, scope, lambda s: "all")
    assert (report.reach.total.subscribed, report.reach.total.joined, report.reach.total.left) == (
        total[("all", "subscribed")],
        total[("all", "joined")],
        total[("all", "left")],
    )
    _, end = report.period.bounds(ZONE)
    villages = {v for v, (c, _) in log.villages.items() if _in(scope, c)}
    prestigious = {
        s[1]
        for h in log.humans
        if (s := h.state(end)) is not None and s[3] == "prestigious" and s[1] in villages
    }
    assert (report.reach.villages, report.reach.villages_with_prestigious) == (
        len(villages),
        len(prestigious),
    )


def _check_bulletins(report: Report, log: Log, scope: Scope) -> None:
    """Table 2 against the log: messages placed by where each recipient last was before the period ended."""
    start, end = report.period.bounds(ZONE)
    sent = [b for b in log.bulletins if start <= b["sent"] < end]
    by_language: Counter[Any] = Counter()
    by_commune: Counter[Any] = Counter()
    reached: set[int] = set()
    seconds = 0.0
    for k, bulletin in enumerate(sent):
        for row in bulletin["rows"]:
            human = row["human"]
            place = None if human.erased else human.last_place(end)
            if scope.communes is not None and (place is None or place[0] not in scope.communes):
                continue
            reached.add(k)
            status = row["status"]
            outcome = (
                "delivered"
                if status == DeliveryStatus.sent
                else "failed"
                if status == DeliveryStatus.failed
                else "undeliverable"
            )
            for counter, key in ((by_language, row["language"]), (by_commune, place[0] if place else None)):
                if counter is by_commune and key is None:
                    continue
                counter[(key, "recipients")] += 1
                counter[(key, outcome)] += 1
        if k in reached or scope.communes is None:
            seconds += bulletin["seconds"]
    total = report.bulletins.total
    assert total.bulletins == (len(sent) if scope.communes is None else len(reached))
    for rows, counter, name in (
        (report.bulletins.languages, by_language, language_label),
        (report.bulletins.communes, by_commune, commune_label),
    ):
        keys = {k for k, _ in counter}
        assert sorted(r.name for r in rows) == sorted(name(k) for k in keys)
        for k in keys:
            row = next(r for r in rows if r.name == name(k))
            assert (row.recipients, row.delivered, row.undeliverable, row.failed) == tuple(
                counter[(k, f)] for f in ("recipients", "delivered", "undeliverable", "failed")
            )
    assert total.recipients == sum(counter for (_, f), counter in by_language.items() if f == "recipients")
    assert report.bulletins.minutes == round(seconds / 60, 1)
    relays: Counter[Any] = Counter()
    for bulletin in sent:
        for _, commune, village, households in bulletin["relays"]:
            if _in(scope, commune):
                name = log.villages[village][1] if village is not None else "—"
                relays[(commune_label(commune), name, "n")] += 1
                relays[(commune_label(commune), name, "h")] += households
    assert {(r.commune, r.village): (r.relays, r.households) for r in report.bulletins.relays} == {
        (c, v): (relays[(c, v, "n")], relays[(c, v, "h")]) for c, v, f in relays if f == "n"
    }


def _check_questions(report: Report, log: Log, scope: Scope) -> None:
    """Table 3 against the log."""
    start, end = report.period.bounds(ZONE)
    asked = [a for a in log.asked if start <= a[0] < end and _in(scope, a[1])]
    forwarded = [f for f in log.forwarded if start <= f[0] < end and _in(scope, f[1])]
    on_time = sum(
        1
        for at, _, answered in forwarded
        if answered and answered < end and answered - at <= timedelta(days=ANSWER_DAYS)
    )
    late = sum(
        1
        for at, _, answered in forwarded
        if answered and answered < end and answered - at > timedelta(days=ANSWER_DAYS)
    )
    total = report.questions.total
    assert (total.asked, total.answered_by_bot, total.forwarded) == (
        len(asked),
        sum(1 for a in asked if a[2] == "answered"),
        len(forwarded),
    )
    assert (total.answered_on_time, total.answered_late, total.waiting) == (
        on_time,
        late,
        len(forwarded) - on_time - late,
    )
    for row in report.questions.communes:
        assert row.asked == sum(1 for a in asked if commune_label(a[1]) == row.name)
    tags = {entry_id: tags for _, _, tags, entry_id in log.entries}
    topics: Counter[str] = Counter(tag for a in asked if a[3] for tag in tags[a[3]])
    assert dict(report.questions.topics) == dict(sorted(topics.items(), key=lambda t: (-t[1], t[0]))[:10])
    added = [
        e
        for e in log.entries
        if start <= e[0] < end and (scope.communes is None or set(e[1]) & set(scope.communes))
    ]
    assert report.questions.entries_added == len(added)


def _check_feedback(report: Report, log: Log, scope: Scope) -> None:
    """Table 4 against the log."""
    start, end = report.period.bounds(ZONE)
    tickets = [t for t in log.tickets if start <= t["created"] < end and _in(scope, t["commune"])]

    def outcome(t: dict[str, Any]) -> str:
        if t["replied"] is not None and t["replied"] < end:
            return "on_time" if t["replied"] <= t["deadline"] else "late"
        return "overdue" if t["deadline"] < end else "waiting"

    for rows, key in ((report.feedback.categories, "category"), (report.feedback.communes, "commune")):
        names = {t[key] if key == "category" else commune_label(t[key]) for t in tickets}
        assert sorted(r.name for r in rows) == sorted(names)
        for row in rows:
            mine = [
                t for t in tickets if (t[key] if key == "category" else commune_label(t[key])) == row.name
            ]
            outcomes = Counter(outcome(t) for t in mine)
            verdicts = Counter(kind for t in mine for kind in {k for k, at in t["verdicts"] if at < end})
            days = [
                (t["replied"] - t["created"]).total_seconds() / 86400
                for t in mine
                if t["replied"] and t["replied"] < end
            ]
            assert (row.received, row.on_time, row.late, row.overdue, row.waiting) == (
                len(mine),
                outcomes["on_time"],
                outcomes["late"],
                outcomes["overdue"],
                outcomes["waiting"],
            )
            assert (row.satisfied, row.unsatisfied, row.reopened) == (
                verdicts["satisfied"],
                verdicts["unsatisfied"],
                verdicts["reopened"],
            )
            assert row.average_days == (round(sum(days) / len(days), 1) if days else None)
    assert report.feedback.total.received == len(tickets)


def _check_participation(report: Report, log: Log, scope: Scope) -> None:
    """Table 5 against the log."""
    start, end = report.period.bounds(ZONE)
    rows = [r for r in log.responses if start <= r[0] < end and _in(scope, r[1])]
    expected = {
        commune_label(c): (
            sum(1 for r in rows if r[1] == c),
            sum(1 for r in rows if r[1] == c and r[2] and r[2] < end),
        )
        for c in {r[1] for r in rows}
    }
    assert {p.commune: (p.started, p.finished) for p in report.participation} == expected


def _check_contests(report: Report, log: Log, scope: Scope) -> None:
    """Table 5's contests against the log: personal attempts begun in the period, by round and commune,
    finished before its end, and their answers given before it, right or not."""
    start, end = report.period.bounds(ZONE)
    tried = [
        t for t in log.attempts if start <= t.started < end and _in(scope, t.commune) and not t.for_group
    ]

    def counted(rows: list[Tried]) -> tuple[int, int, int, int]:
        answers = [right for t in rows for at, right in t.answers if at < end]
        finished = sum(1 for t in rows if t.finished is not None and t.finished < end)
        return len(rows), finished, len(answers), sum(answers)

    expected = {
        title: {
            **{
                commune_label(c): counted([t for t in tried if t.round == title and t.commune == c])
                for c in {t.commune for t in tried if t.round == title}
            },
            "": counted([t for t in tried if t.round == title]),
        }
        for title in {t.round for t in tried}
    }
    found = {
        r.title: {c.commune: (c.started, c.finished, c.answers, c.right) for c in [*r.communes, r.total]}
        for r in report.contests
    }
    assert found == expected


def _check_months(report: Report, log: Log, scope: Scope) -> None:
    """The month-by-month table against the log."""
    assert [m.month for m in report.months] == [
        f"{p.start.month:02d}/{p.start.year}" for p in report.period.months()
    ]
    for row, part in zip(report.months, report.period.months(), strict=True):
        start, end = part.bounds(ZONE)
        subscribed = sum(1 for h in log.humans if (s := h.state(end)) is not None and _in(scope, s[0]))
        joined = sum(
            1 for h in log.humans if start <= h.history[0][0] < end and _in(scope, h.history[0][1][0])
        )  # type: ignore[index]
        questions = sum(1 for a in log.asked if start <= a[0] < end and _in(scope, a[1]))
        tickets = sum(1 for t in log.tickets if start <= t["created"] < end and _in(scope, t["commune"]))
        assert (row.subscribed, row.joined, row.questions, row.tickets) == (
            subscribed,
            joined,
            questions,
            tickets,
        ), row.month


CHECKS = [
    _check_reach,
    _check_bulletins,
    _check_questions,
    _check_feedback,
    _check_participation,
    _check_contests,
    _check_months,
]


@pytest.mark.parametrize("scope", [Scope(), Scope((COMMUNE_A,))], ids=["province", "commune"])
def test_every_figure_matches_an_independent_count(db: Database, history: Log, scope: Scope) -> None:
    """Each table of the yearly report, and of the year before it, equals a count over the log."""
    report = _report(db, PERIOD, scope)
    assert report.previous is not None and report.previous.period == Period(
        PERIOD.start.replace(year=2024), PERIOD.start - timedelta(days=1)
    )
    for check in CHECKS:
        check(report, history, scope)
        check(report.previous, history, scope)
    assert (
        report.reach.total.joined > 0
        and report.bulletins.total.delivered > 0
        and report.feedback.total.late > 0
        and len(report.contests) == 2
    )


def test_the_day_a_moment_counts_in_is_the_deployments(db: Database, history: Log) -> None:
    """Four people joined minutes either side of local midnight at the period's edges: the two joined
    on 16/12/2025 and 15/12/2026 Vietnam time are in, those at 23:50 on 15/12/2025 and 00:10 on
    16/12/2026 are not, whatever the database's own clock says."""
    report = _report(db, PERIOD, Scope())
    start, end = PERIOD.bounds(ZONE)
    assert start == datetime(2025, 12, 15, 17, tzinfo=UTC) and end == datetime(2026, 12, 15, 17, tzinfo=UTC)
    edges = sorted(h.history[0][0] for h in history.humans if h.history[0][0] in EDGES)
    assert [start <= at < end for at in edges] == [False, True, True, False]
    _check_reach(report, history, Scope())


def test_the_same_period_gives_the_same_figures_later(db: Database, history: Log) -> None:
    """People who leave, move or erase their data after the period change nothing in its report: they are
    counted as they were."""
    before = _report(db, reports.half_year(2026), Scope((COMMUNE_A,)))
    with db.transaction() as session:
        for person in list(session.scalars(Person.__table__.select().with_only_columns(Person.id)))[:10]:
            row = session.get(Person, person)
            assert row is not None
            row.subscribed, row.commune_code = False, COMMUNE_B
        victim = session.get(Person, history.humans[5].id)
        if victim is not None:
            session.delete(victim)
    after = _report(db, reports.half_year(2026), Scope((COMMUNE_A,)))
    assert after == before


def test_the_ledger_follows_the_bot_and_sums_to_todays_subscribers(db: Database, history: Log) -> None:
    """Summed to now, the ledger equals the people who get bulletins today, commune by commune: it
    never drifts from the rows it mirrors."""
    now = datetime.now(UTC).astimezone(ZONE).date()
    report = _report(db, Period(now - timedelta(days=30), now + timedelta(days=3650)), Scope())
    with db.transaction() as session:
        today = Counter(p.commune_code for p in session.query(Person).all() if p.onboarded and p.subscribed)
    assert {r.name: r.subscribed for r in report.reach.communes if r.subscribed} == {
        commune_label(c): n for c, n in today.items()
    }


def test_an_officers_report_holds_only_their_communes(db: Database, history: Log) -> None:
    """A report for Phong Thổ names no other commune in any table."""
    report = _report(db, PERIOD, Scope((COMMUNE_A,)))
    other = commune_label(COMMUNE_B)
    for section in sections(report, _identity):
        for table in section.tables:
            assert all(other not in str(cell) for row in table.rows for cell in row), table.title
    assert not reports.may_see([COMMUNE_A], Scope()) and not reports.may_see([COMMUNE_A], Scope((COMMUNE_B,)))
    assert reports.may_see([COMMUNE_A], Scope((COMMUNE_A,))) and reports.may_see(None, Scope())


def test_the_docx_and_xlsx_hold_the_tables(db: Database, history: Log) -> None:
    """Read back, the Word file has the national title block, the report's title, every table cell for
    cell (a hostile village name as plain text) and two charts; the workbook has a sheet per table."""
    report = _report(db, PERIOD, Scope())
    expected = [t for s in sections(report, _identity) for t in s.tables]
    document = Document(io.BytesIO(documents.docx(report, _identity, unit="UBND XÃ PHONG THỔ")))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (
        document.styles["Normal"].font.name == "Times New Roman"
        and document.styles["Normal"].font.size.pt == 13
    )
    block = document.tables[0].rows[0].cells
    assert "UBND XÃ PHONG THỔ" in block[0].text and "Số:" in block[0].text
    assert (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in block[1].text
        and "Độc lập - Tự do - Hạnh phúc" in block[1].text
    )
    body = "\n".join(p.text for p in document.paragraphs)
    assert "BÁO CÁO" in body and "Kết quả công tác thông tin, tuyên truyền" in body
    assert "(Từ ngày 16/12/2025 đến ngày 15/12/2026)" in body
    tables = document.tables[1:-1]
    assert len(tables) == len(expected)
    for table, want in zip(tables, expected, strict=True):
        got = [[cell.text for cell in row.cells] for row in table.rows]
        assert got == [want.header, *([documents.text(c) for c in row] for row in want.rows)], want.title
    assert any(HOSTILE in cell.text for table in tables for row in table.rows for cell in row.cells)
    assert len(document.inline_shapes) == 2
    book = load_workbook(io.BytesIO(documents.xlsx(report, _identity)))
    assert len(book.sheetnames) == len(expected)
    for name, want in zip(book.sheetnames, expected, strict=True):
        rows = [list(r) for r in book[name].iter_rows(values_only=True)]
        assert rows == [want.header, *([None if c == "" else c for c in row] for row in want.rows)], name
        assert want.title[:20] in name


def test_questions_asked_and_forwarded_are_recorded_where_the_person_was(db: Database) -> None:
    """The bot's own calls write the question rows; erasing the person keeps them, unlinked."""
    from bot.qa import service as qa
    from bot.qa.models import ForwardReason
    from bot.reports.models import ASKED, ReportEvent, record_question

    with db.transaction() as session:
        person, _ = people.get_or_create_by_urn(session, "telegram:5")
        person.commune_code, person.province_code, person.language = COMMUNE_A, 12, "hmn"
        record_question(session, person, ASKED, outcome="unsure")
        qa.ask_officials(session, person=person, text="?", reason=ForwardReason.unsure)
    today = datetime.now(UTC).astimezone(ZONE).date()
    report = _report(db, Period(today, today), Scope((COMMUNE_A,)))
    assert (report.questions.total.asked, report.questions.total.forwarded) == (1, 1)
    with db.transaction() as session:
        rows = session.query(ReportEvent).filter(ReportEvent.kind.in_(("asked", "forwarded"))).all()
        assert {(r.kind, r.commune_code, r.language) for r in rows} == {
            ("asked", COMMUNE_A, "hmn"),
            ("forwarded", COMMUNE_A, "hmn"),
        }


def test_the_admin_page_makes_the_report_and_its_files(
    client: httpx.Client, db: Database, history: Log
) -> None:
    """A province admin picks the yearly period and the province, presses 'Tạo báo cáo' and sees the
    tables and charts, a hostile village name as text; the DOCX and XLSX download; a commune officer
    gets only their commune, and asking for another is refused."""
    make_admin(db, "tinh")
    make_admin(db, "xa", Role.commune_officer, (COMMUNE_A,))
    login(client, "tinh")
    form = client.get("/admin/reports")
    assert form.status_code == 200 and "Tạo báo cáo" in form.text and 'value="year-2026"' in form.text
    query = {"made": "1", "period": "year-2026", "scope": "province"}
    page = client.get("/admin/reports", params=query)
    assert page.status_code == 200
    assert (
        "(Từ ngày 16/12/2025 đến ngày 15/12/2026)" in page.text and "Bảng 1.1. Người dân theo xã" in page.text
    )
    assert (
        HOSTILE not in page.text
        and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Bản &amp; &#34;Nà&#34;" in page.text
    )
    assert page.text.count('class="report-chart"') == 2 and commune_label(COMMUNE_B) in page.text
    docx_file = client.get("/admin/reports/report.docx", params=query)
    assert docx_file.status_code == 200 and "attachment" in docx_file.headers["content-disposition"]
    assert (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
        in Document(io.BytesIO(docx_file.content)).tables[0].rows[0].cells[1].text
    )
    if documents.has_office():  # LibreOffice turns the same document into PDF
        assert client.get("/admin/reports/report.pdf", params=query, timeout=120).content.startswith(b"%PDF")
    xlsx_file = client.get("/admin/reports/report.xlsx", params=query)
    assert load_workbook(io.BytesIO(xlsx_file.content)).sheetnames[0].startswith("1.1")
    ranged = client.get(
        "/admin/reports", params={"made": "1", "period": "range", "start": "2026-12-01", "end": "2026-01-01"}
    )
    assert ranged.status_code == 400
    client.post("/admin/logout", data={"csrf_token": csrf(page)})
    login(client, "xa")
    mine = client.get("/admin/reports", params={"made": "1", "period": "year-2026"})
    assert mine.status_code == 200 and commune_label(COMMUNE_A) in mine.text
    assert commune_label(COMMUNE_B) not in mine.text
    for scope in ("province", f"commune-{COMMUNE_B}"):
        refused = client.get("/admin/reports/report.xlsx", params={**query, "scope": scope})
        assert refused.status_code == 404


def test_merging_and_erasing_people_keep_the_ledger_exact(db: Database) -> None:
    """One human on two apps counted twice until their records are joined, then once; after erasing,
    nobody: the ledger's sum always equals the people receiving bulletins, and erased rows are unlinked."""
    from bot.reports.models import REACH_KINDS, ReportEvent

    def ledger() -> tuple[int, int]:
        with db.transaction() as session:
            rows = session.query(ReportEvent).filter(ReportEvent.kind.in_(REACH_KINDS)).all()
            live = sum(1 for p in session.query(Person).all() if p.onboarded and p.subscribed)
            return sum(r.delta for r in rows), live

    with db.transaction() as session:
        for urn in ("telegram:71", "zalo:72"):
            person, _ = people.get_or_create_by_urn(session, urn)
            person.commune_code, person.language, person.consented_at = COMMUNE_A, "vi", datetime.now(UTC)
    assert ledger() == (2, 2)
    with db.transaction() as session:
        keep, drop = people.get_by_urn(session, "telegram:71"), people.get_by_urn(session, "zalo:72")
        assert keep is not None and drop is not None
        people.merge(session, keep=keep, drop=drop)
    assert ledger() == (1, 1)
    with db.transaction() as session:
        session.delete(people.get_by_urn(session, "telegram:71"))
    assert ledger() == (0, 0)
    with db.transaction() as session:
        assert session.query(ReportEvent).filter(ReportEvent.person_id.is_not(None)).count() == 0
