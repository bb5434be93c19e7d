"""Law contests ("Cuộc thi") end to end: people register with consent and answer a round's drawn questions
in the web chat, over Telegram and over Zalo, one at a time with the explanation and source after each;
an interrupted attempt resumes, a second one is refused, a late answer is not counted; the tie-breaker
prediction and then the time break ties; results count by commune; officials see only their communes."""

from __future__ import annotations

import io
import itertools
import re
from datetime import timedelta
from pathlib import Path

import httpx
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from bot.accounts.models import Role
from bot.bulletins import service as bulletins
from bot.bulletins.models import BulletinStatus
from bot.bulletins.service import Audience
from bot.channels.telegram import POLL_SENT, quiz_sent
from bot.config import Settings
from bot.contests import service as contests
from bot.contests.models import Attempt, ContestAnswer, ContestQuestion, ContestRound
from bot.conversation.types import Quiz, Reply
from bot.db import Database, utcnow
from bot.messages import service as messages
from bot.people.models import Identity, Person
from bot.privacy import service as privacy
from bot.qa import service as qa
from tests import factories
from tests.drivers import Seen, TelegramDriver, WebDriver, ZaloDriver, onboard, wait_for_text
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import MUONG_TE, PHONG_THO, csrf, login, make_admin

LAI_CHAU = 12
MENU = "🏆 Cuộc thi"
_chat_ids = itertools.count(9_800_001)
EVERYONE = Audience()
BANK = {  # question -> (options, the right one)
    "Thẻ bảo hiểm y tế của trẻ dưới 6 tuổi do ai chi trả?": (["Gia đình", "Nhà nước"], "Nhà nước"),
    "Đăng ký khai sinh cho trẻ trong bao lâu?": (["60 ngày", "1 năm", "5 năm"], "60 ngày"),
    "Tảo hôn là kết hôn khi nào?": (["Chưa đủ tuổi", "Đủ tuổi"], "Chưa đủ tuổi"),
}


def _contest(db: Database, *, audience: Audience = EVERYONE, title: str = "Tìm hiểu pháp luật 2026") -> int:
    """A contest with the bank above and two rounds: the first open now, the second next week."""
    now = utcnow()
    with db.transaction() as session:
        contest = contests.write(
            session,
            None,
            contests.ContestDraft(title, "Mỗi vòng 3 câu.", "Giải nhất: 1 radio", audience, ("phone",)),
        )
        for text, (options, right) in BANK.items():
            contests.write_question(
                session,
                contest,
                None,
                contests.QuestionDraft(
                    {"vi": text},
                    tuple({"vi": o} for o in options),
                    options.index(right),
                    {"vi": "Giải thích ngắn."},
                    "Điều 12, Luật Bảo hiểm y tế",
                ),
            )
        for number, start in ((1, now - timedelta(hours=1)), (2, now + timedelta(days=7))):
            contests.write_round(
                session,
                contest,
                None,
                contests.RoundDraft(f"Vòng {number}", start, start + timedelta(days=6), 3),
            )
        return contest.id


def _rounds(db: Database, contest_id: int) -> list[int]:
    """The contest's round ids, in order."""
    with db.transaction() as session:
        return list(
            session.scalars(
                select(ContestRound.id)
                .where(ContestRound.contest_id == contest_id)
                .order_by(ContestRound.starts_at)
            )
        )


def _question(replies: list[Seen]) -> tuple[Seen, str]:
    """The reply asking a question, and the question's text."""
    asked = [r for r in replies if re.match(r"(Câu|Question) \d/3: ", r.text)]
    assert asked, [r.text for r in replies]
    return asked[-1], asked[-1].text.split(": ", 1)[1]


def _answer_all(
    person: WebDriver | TelegramDriver | ZaloDriver, replies: list[Seen], wrong: int = 0
) -> list[Seen]:
    """Answer every question asked from `replies` on, the first `wrong` wrongly; the last replies."""
    while any(re.match(r"(Câu|Question) \d/3: ", r.text) for r in replies):
        asked, text = _question(replies)
        options, right = BANK[text]
        pick = next(o for o in options if o != right) if wrong > 0 else right
        wrong -= 1
        replies = _pick(person, asked, pick)
    return replies


def _pick(person: WebDriver | TelegramDriver | ZaloDriver, asked: Seen, label: str) -> list[Seen]:
    """Answer a question: on Telegram by voting in its quiz poll, elsewhere by tapping the option."""
    if not isinstance(person, TelegramDriver):
        return person.tap(asked.payload(f". {label}"))
    poll = person.fake.last_poll(person.chat_id)
    assert poll is not None and poll["question"] == asked.text
    assert poll["type"] == "quiz" and not poll["is_anonymous"], "a quiz whose answers come back"
    index = next(i for i, o in enumerate(poll["options"]) if o["text"].endswith(f". {label}"))
    person.fake.vote(poll["id"], person.chat_id, index)
    return person.deliver(factories.poll_answer_update(person.chat_id, poll["id"], [index]))


def _button(seen: Seen, prefix: str, suffix: str = "") -> str:
    """The payload of a button by its payload's shape (the labels are in the person's language)."""
    return next(p for _label, p in seen.buttons if p.startswith(prefix) and p.endswith(suffix))


def _register(
    person: WebDriver | TelegramDriver | ZaloDriver, replies: list[Seen], *, named: bool
) -> list[Seen]:
    """Agree, give a name and phone (the rules require a phone), skip the rest, say whether to be named."""
    assert "Mỗi vòng 3 câu." in replies[-1].text and "Giải nhất: 1 radio" in replies[-1].text
    asked = person.tap(_button(replies[-1], "cc:", ":y"))
    assert "?" in asked[-1].text and any(p.startswith("cs:") for _, p in asked[-1].buttons), "name: optional"
    asked = person.send("Lò Văn Hùng")
    asked = person.tap(_button(asked[-1], "cs:"))  # year of birth
    assert not any(p.startswith("cs:") for _, p in asked[-1].buttons), "a required field cannot be skipped"
    assert "0912345678" in person.send("12")[-1].text, "a phone number that is not one is asked again"
    asked = person.send("0912 345 678")
    asked = person.tap(_button(asked[-1], "cs:"))  # village
    return person.tap(_button(asked[-1], "cn:", ":y" if named else ":n"))


def _attempts(db: Database) -> list[Attempt]:
    """Every attempt, oldest first."""
    with db.transaction() as session:
        return list(session.scalars(select(Attempt).order_by(Attempt.id)))


def test_a_two_round_contest_over_the_web_chat_telegram_and_zalo(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, live: object
) -> None:
    contest_id = _contest(db)
    first, second = _rounds(db, contest_id)

    # In the web chat (Phong Thổ): registers with consent, is interrupted after one answer, resumes.
    web = WebDriver(client)
    onboard(web)
    menu = web.send("menu")[-1]
    registering = web.tap(menu.payload(MENU))
    assert "Thể lệ: Mỗi vòng 3 câu." in registering[-1].text
    replies = _register(web, registering, named=True)
    assert any("Đã đăng ký dự thi" in r.text for r in replies)
    asked, text = _question(replies)
    assert asked.text.startswith("Câu 1/3: ") and [label[:3] for label, _ in asked.buttons][:2] == [
        "A. ",
        "B. ",
    ]
    options, right = BANK[text]
    wrong = next(o for o in options if o != right)
    after = web.tap(asked.payload(f". {wrong}"))
    assert after[0].text.startswith("❌ Chưa đúng. Đáp án đúng: ") and right in after[0].text
    assert "Giải thích ngắn." in after[0].text and "📄 Nguồn: Điều 12, Luật Bảo hiểm y tế" in after[0].text
    _question(after)
    web.tap("menu")  # interrupted
    resumed = web.tap("contests")
    assert any("tiếp tục" in r.text for r in resumed)
    assert _question(resumed)[0].text.startswith("Câu 2/3: "), "the same draw, at the question left"
    end = _answer_all(web, resumed)
    assert any(re.match(r"🏁 Bạn trả lời đúng 2/3 câu trong \d+ giây\.", r.text) for r in end)
    assert "Dự đoán có bao nhiêu người trả lời đúng tất cả câu hỏi của vòng này?" in end[-1].text
    assert "gõ một con số" in web.send("nhiều lắm")[-1].text
    assert "Dự đoán của bạn: 2 người" in web.send("2")[-1].text
    again = web.tap("contests")
    assert "Bạn đã dự thi vòng này rồi" in again[-1].text

    # Over Telegram (Mường Tè, English): all right, predicts 1; a redelivered answer counts once.
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=MUONG_TE, province=LAI_CHAU, language="en")
    telegram = TelegramDriver(client, fake_telegram, db, chat)
    registering = telegram.tap("contests")
    assert "Rules: Mỗi vòng 3 câu." in registering[-1].text, "in the person's language"
    replies = _register(telegram, registering, named=False)
    asked, text = _question(replies)
    options, right = BANK[text]
    quiz = fake_telegram.last_poll(chat)
    assert quiz is not None and asked.buttons == [("☰ Main menu", "menu")], (
        "a native quiz, the menu under it"
    )
    index = [o["text"] for o in quiz["options"]].index(f"{'ABC'[options.index(right)]}. {right}")
    assert quiz["correct_option_ids"] == [index] and quiz["explanation"] == "Giải thích ngắn."
    fake_telegram.vote(quiz["id"], chat, index)
    vote = factories.poll_answer_update(chat, quiz["id"], [index])
    replies = telegram.deliver(vote)
    assert replies[0].text.startswith("✅")
    assert telegram.post(vote).status_code == 200, "the same answer delivered again"
    telegram.wait_settled(str(vote["update_id"]))
    fake_telegram.wait_for(
        lambda: fake_telegram.messages[(chat, fake_telegram.polls[quiz["id"]][1])]["poll"]["is_closed"]
    )
    end = _answer_all(telegram, replies)
    assert any("3/3" in r.text for r in end)
    telegram.send("1")

    # Over Zalo (Phong Thổ): all right, predicts 4.
    user = str(next(_chat_ids))
    factories.add_person(db, f"zalo:{user}", commune=PHONG_THO, province=LAI_CHAU)
    zalo = ZaloDriver(client, fake_zalo, db, user)
    zalo.send("menu")
    end = _answer_all(zalo, _register(zalo, zalo.tap("contests"), named=True))
    assert any("3/3" in r.text for r in end)
    zalo.send("4")

    # A fourth person (Phong Thổ, web) is too slow: the round ends before the answer; it is not counted.
    late = WebDriver(client)
    onboard(late)
    asked, _text = _question(_register(late, late.tap("contests"), named=True))
    with db.transaction() as session:
        answers_before = session.scalar(select(func.count(ContestAnswer.id)))
        session.execute(
            update(ContestRound)
            .where(ContestRound.id == first)
            .values(ends_at=utcnow() - timedelta(seconds=1))
        )
    refused = late.tap(asked.buttons[0][1])
    assert "vòng thi đã kết thúc lúc" in refused[-1].text and "không được tính" in refused[-1].text
    with db.transaction() as session:
        assert session.scalar(select(func.count(ContestAnswer.id))) == answers_before
    assert MENU not in [label for label, _ in late.send("menu")[-1].buttons], (
        "no round open: gone from the menu"
    )

    # Ranking: 2 perfect scores. Telegram (predicted 1) and Zalo (predicted 4) tie on score; Telegram's
    # prediction is closer. With Zalo predicting 1 too, the quicker wins.
    attempts = _attempts(db)
    assert [a.score for a in attempts[:3]] == [2, 3, 3]
    with db.transaction() as session:
        round_ = session.get(ContestRound, first)
        assert round_ is not None
        ranked = contests.ranking(session, round_)
        assert [r.attempt.id for r in ranked] == [attempts[1].id, attempts[2].id, attempts[0].id]
        session.execute(update(Attempt).where(Attempt.id == attempts[2].id).values(prediction=1))
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempts[2].id)
            .values(started_at=attempts[2].finished_at - timedelta(seconds=30))  # type: ignore[operator]
        )
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempts[1].id)
            .values(started_at=attempts[1].finished_at - timedelta(seconds=90))  # type: ignore[operator]
        )
    with db.transaction() as session:
        round_ = session.get(ContestRound, first)
        assert round_ is not None
        ranked = contests.ranking(session, round_)
        assert [r.distance for r in ranked[:2]] == [1, 1] and [r.seconds for r in ranked[:2]] == [30, 90]
        assert [r.attempt.id for r in ranked] == [attempts[2].id, attempts[1].id, attempts[0].id]
        by_commune = contests.results(session, round_, by="commune")
        assert by_commune.groups == {PHONG_THO: (2, 1), MUONG_TE: (1, 1)}
        assert by_commune.started == 4 and by_commune.finished == 3

    # The second round opens: the same person from a linked Telegram account gets one attempt only.
    with db.transaction() as session:
        session.execute(
            update(ContestRound)
            .where(ContestRound.id == second)
            .values(starts_at=utcnow() - timedelta(minutes=1))
        )
    end = _answer_all(zalo, zalo.tap("contests"))
    assert any("3/3" in r.text for r in end), "registered once for the contest: straight to the questions"
    zalo.send("2")
    linked = next(_chat_ids)
    with db.transaction() as session:
        person_id = session.scalar(select(Identity.person_id).where(Identity.urn == zalo.urn))
        session.add(Identity(person_id=person_id, urn=f"telegram:{linked}", channel="telegram"))
    other_app = TelegramDriver(client, fake_telegram, db, linked)
    assert "Bạn đã dự thi vòng này rồi" in other_app.tap("contests")[-1].text
    assert len(_attempts(db)) == 5

    # The results page: winners named only with consent, participation by commune, share right.
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/contests/{contest_id}/rounds/{first}").text
    ranking = page[page.index('id="ranking"') :].split("</table>")[0]
    rows = re.findall(r"<tr><td class=\"num\">(\d)</td><td>(.*?)</td><td>(.*?)</td>", ranking)
    assert [(place, re.sub(r"<[^>]+>", "", name), commune) for place, name, commune in rows] == [
        ("1", "Lò Văn Hùng", "Xã Phong Thổ"),
        ("2", "(không nêu tên)", "Xã Mường Tè"),
        ("3", "Lò Văn Hùng", "Xã Phong Thổ"),
    ]
    participation = page[page.index('id="participation"') :].split("</table>")[0]
    assert re.search(r"<td>Xã Phong Thổ</td><td class=\"num\">2</td><td class=\"num\">1</td>", participation)
    assert re.search(r"<td>Xã Mường Tè</td><td class=\"num\">1</td><td class=\"num\">1</td>", participation)
    assert "Số người trả lời đúng tất cả: 2." in page
    shares = page[page.index('id="questions"') :].split("</table>")[0]
    assert len(re.findall(r"<td class=\"num\">3</td><td class=\"num\">[23] \((67|100)%\)</td>", shares)) == 3
    by_language = client.get(f"/admin/contests/{contest_id}/rounds/{first}", params={"by": "language"}).text
    assert re.search(r"<td>Tiếng Anh</td><td class=\"num\">1</td>", by_language)
    book = load_workbook(
        io.BytesIO(client.get(f"/admin/contests/{contest_id}/rounds/{first}/export.xlsx").content)
    )
    assert [row[:4] for row in book.active.iter_rows(min_row=2, values_only=True)] == [
        (1, "Lò Văn Hùng", "Xã Phong Thổ", 3),
        (2, "(không nêu tên)", "Xã Mường Tè", 3),
        (3, "Lò Văn Hùng", "Xã Phong Thổ", 2),
    ]
    assert "Tìm hiểu pháp luật 2026" in client.get("/admin").text, "the dashboard shows the round open now"

    # Round 1 is over: each commune's results go back to its people, once, in their language.
    token = csrf(client.get(f"/admin/contests/{contest_id}/rounds/{first}"))
    publish = f"/admin/contests/{contest_id}/rounds/{first}/publish"
    assert (
        client.post(
            f"/admin/contests/{contest_id}/rounds/{second}/publish", data={"csrf_token": token}
        ).status_code
        == 409
    )
    assert client.post(publish, data={"csrf_token": token}).status_code == 303
    told = wait_for_text(web, "Kết quả «Tìm hiểu pháp luật 2026 – Vòng 1» ở Xã Phong Thổ: 2 người tham gia.")
    assert re.search(
        r"• Thẻ bảo hiểm y tế của trẻ dưới 6 tuổi do ai chi trả\?: (50|100)% trả lời đúng", told.text
    )
    in_english = wait_for_text(telegram, "in Xã Mường Tè: 1 people took part.")
    assert in_english.text.count("100% answered right") == 3
    assert not any("Kết quả" in r.text for r in late.send("menu")), "who did not finish is told nothing"
    assert client.post(publish, data={"csrf_token": token}).status_code == 409, "once"


def test_a_prestigious_person_answers_for_a_household_group_counted_apart(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, live: object
) -> None:
    contest_id = _contest(db)
    [first, _second] = _rounds(db, contest_id)
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=LAI_CHAU, role="prestigious")
    elder = TelegramDriver(client, fake_telegram, db, chat)
    choice = elder.tap("contests")[-1]
    replies = _register(elder, elder.tap(choice.payload("Nhập thay nhóm hộ")), named=True)
    choice = replies[-1]
    end = _answer_all(elder, elder.tap(choice.payload("Nhập thay nhóm hộ")))
    assert any("nhóm hộ đã được ghi nhận" in r.text for r in end)
    end = _answer_all(elder, elder.tap(elder.tap("contests")[-1].payload("Tự dự thi")))
    assert "Dự đoán" in end[-1].text
    with db.transaction() as session:
        round_ = session.get(ContestRound, first)
        assert round_ is not None
        assert [r.attempt.for_group for r in contests.ranking(session, round_)] == [False], "never ranked"
        results = contests.results(session, round_, by="commune")
        assert results.for_groups == 1 and results.finished == 1


def _sheet(*rows: list[str]) -> bytes:
    """An .xlsx file of question rows under the import's header."""
    book = Workbook()
    sheet = book.active
    sheet.append(
        ["question", "option_a", "option_b", "option_c", "correct", "explanation", "source", "question:en"]
    )
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_editor_writes_a_contest_its_rounds_and_its_question_bank(
    client: httpx.Client, db: Database
) -> None:
    with db.transaction() as session:
        report = qa.import_rows(
            session,
            [
                {
                    "id": "bhyt-tre-em",
                    "question": "Trẻ dưới 6 tuổi có được cấp thẻ BHYT miễn phí không?",
                    "answer": "Có, Nhà nước đóng.",
                    "tags": ["bhyt"],
                    "source": {"document": "Luật BHYT", "section": "Điều 12"},
                }
            ],
        )
        assert not report.errors
    make_admin(db, "tinh")
    login(client, "tinh")
    token = csrf(client.get("/admin/contests/new"))
    created = client.post(
        "/admin/contests/new",
        data={
            "csrf_token": token,
            "title": "Tìm hiểu Luật BHYT",
            "rules": "3 câu mỗi vòng",
            "everyone": "yes",
            "required": ["phone"],
        },
    )
    assert created.status_code == 303, created.text
    contest_id = int(created.headers["location"].rsplit("/", 1)[1])
    base = f"/admin/contests/{contest_id}"
    backwards = {
        "csrf_token": token,
        "title": "Vòng 1",
        "starts_at": "2030-01-08T08:00",
        "ends_at": "2030-01-01T08:00",
        "draw": "2",
    }
    refused = client.post(f"{base}/rounds/new", data=backwards)
    assert refused.status_code == 400 and "Thời điểm kết thúc phải sau thời điểm bắt đầu." in refused.text
    round_form = backwards | {"ends_at": "2030-01-15T20:00"}
    assert client.post(f"{base}/rounds/new", data=round_form).status_code == 303
    page = client.get(base).text
    assert "08/01/2030 08:00 → 15/01/2030 20:00" in page, "local time, as typed"
    assert "Chờ mở" in page

    # A question written by hand: one option is refused, then two with the right one.
    question = {
        "csrf_token": token,
        "text_vi": "Ai đóng BHYT cho trẻ dưới 6 tuổi?",
        "option0_vi": "Nhà nước",
        "correct": "0",
        "source": "Điều 12",
    }
    one = client.post(f"{base}/questions/new", data=question)
    assert one.status_code == 400 and "Câu hỏi cần từ 2 đến 4 phương án." in one.text
    assert client.post(f"{base}/questions/new", data=question | {"option1_vi": "Gia đình"}).status_code == 303
    # Begun from a Q&A entry: its question, answer as the explanation, and source are filled in.
    from_qa = client.get(f"{base}/questions/new", params={"entry": "bhyt-tre-em"}).text
    assert "Trẻ dưới 6 tuổi có được cấp thẻ BHYT miễn phí không?</textarea>" in from_qa
    assert "Có, Nhà nước đóng.</textarea>" in from_qa and 'value="Điều 12, Luật BHYT"' in from_qa
    assert client.get(f"{base}/questions/new", params={"entry": "khong-co"}).status_code == 404

    # An Excel import with a bad row refuses the whole file and names the row; a good one adds them.
    good = [
        "Tảo hôn là gì?",
        "Kết hôn khi chưa đủ tuổi",
        "Kết hôn muộn",
        "",
        "A",
        "Luật HN&GĐ",
        "Điều 3",
        "What is child marriage?",
    ]
    bad = ["Câu không có đáp án đúng", "Có", "Không", "", "E", "", "", ""]
    files = {"file": ("cau-hoi.xlsx", _sheet(good, bad), "application/octet-stream")}
    refused = client.post(f"{base}/questions/import", data={"csrf_token": token}, files=files)
    assert refused.status_code == 400 and "dòng 3: Hãy chọn phương án đúng." in refused.text
    assert "Ngân hàng câu hỏi (1)</h2>" in refused.text, "the page again, the bank as it was"
    with db.transaction() as session:
        contest = contests.get(session, contest_id=contest_id)
        assert contest is not None and len(contest.questions) == 1, "nothing of the bad file was added"
    files = {"file": ("cau-hoi.xlsx", _sheet(good), "application/octet-stream")}
    assert client.post(f"{base}/questions/import", data={"csrf_token": token}, files=files).status_code == 303
    with db.transaction() as session:
        contest = contests.get(session, contest_id=contest_id)
        assert contest is not None
        imported = contest.questions[-1]
        assert imported.texts == {"vi": "Tảo hôn là gì?", "en": "What is child marriage?"}
        assert imported.correct == 0 and imported.source == "Điều 3"

    # The round's invitation: a bulletin draft to the contest's audience, sent like any bulletin.
    [round_id] = _rounds(db, contest_id)
    invited = client.post(f"{base}/rounds/{round_id}/invite", data={"csrf_token": token})
    assert invited.status_code == 303 and invited.headers["location"].startswith("/admin/bulletins/")
    bulletin_id = int(invited.headers["location"].rsplit("/", 1)[1])
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None and bulletin.status == BulletinStatus.draft
        texts = {v.language: v.text for v in bulletin.versions}
        assert (
            "Mời bà con dự thi «Tìm hiểu Luật BHYT» – Vòng 1, từ 08:00 08/01 đến 20:00 15/01/2030"
            in texts["vi"]
        )
        assert "Bấm «🏆 Cuộc thi» trong menu" in texts["vi"] and texts["en"].startswith("🏆 You are invited")
        assert bulletin.audience == contests.audience_of(contest).to_json()
    assert client.post(f"{base}/rounds/{round_id}/invite", data={"csrf_token": token}).status_code == 409
    audit = client.get("/admin/audit").text
    assert (
        "Nhập câu hỏi cuộc thi từ Excel" in audit
        and "Lưu vòng thi" in audit
        and "Soạn bản tin mời dự thi" in audit
    )


def test_officers_see_only_their_communes_and_viewers_only_read(client: httpx.Client, db: Database) -> None:
    theirs = _contest(db, audience=Audience(communes=(MUONG_TE,)), title="Riêng xã Mường Tè")
    shared = _contest(db, title="Chung toàn tỉnh")
    [round_id, _later] = _rounds(db, theirs)
    [shared_round, _] = _rounds(db, shared)
    for commune, name in ((MUONG_TE, "Người Mường Tè"), (PHONG_THO, "Người Phong Thổ")):
        person_id = factories.add_person(db, f"web:{commune}" + "x" * 40, commune=commune, province=LAI_CHAU)
        _all_right(db, shared_round, person_id, name)
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    token = csrf(client.get("/admin/contests"))
    assert "Riêng xã Mường Tè" not in client.get("/admin/contests").text
    [question_id] = [q for q in _question_ids(db, theirs)][:1]
    for url in (
        f"/admin/contests/{theirs}",
        f"/admin/contests/{theirs}/edit",
        f"/admin/contests/{theirs}/rounds/{round_id}",
        f"/admin/contests/{theirs}/rounds/{round_id}/edit",
        f"/admin/contests/{theirs}/rounds/{round_id}/export.xlsx",
        f"/admin/contests/{theirs}/questions/new",
        f"/admin/contests/{theirs}/questions/{question_id}/edit",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/admin/contests/{theirs}/edit",
        f"/admin/contests/{theirs}/rounds/new",
        f"/admin/contests/{theirs}/rounds/{round_id}/edit",
        f"/admin/contests/{theirs}/questions/new",
        f"/admin/contests/{theirs}/questions/{question_id}/edit",
        f"/admin/contests/{theirs}/questions/import",
    ):
        sheet = {"file": ("q.xlsx", _sheet(), "application/octet-stream")}
        assert client.post(url, data={"csrf_token": token}, files=sheet).status_code == 404, url
    # The province's contest: readable, only their commune's people, not theirs to change.
    page = client.get(f"/admin/contests/{shared}/rounds/{shared_round}").text
    assert "Người Phong Thổ" in page and "Người Mường Tè" not in page
    book = load_workbook(
        io.BytesIO(client.get(f"/admin/contests/{shared}/rounds/{shared_round}/export.xlsx").content)
    )
    assert [r[1] for r in book.active.iter_rows(min_row=2, values_only=True)] == ["Người Phong Thổ"]
    assert client.post(f"/admin/contests/{shared}/edit", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/admin/contests/{shared}/questions/new").status_code == 403
    # Their own contest they may write, only for their communes.
    own = {"csrf_token": token, "title": "Của xã Phong Thổ", "everyone": "no", "communes": [str(PHONG_THO)]}
    assert client.post("/admin/contests/new", data=own).status_code == 303
    outside = client.post("/admin/contests/new", data=own | {"communes": [str(MUONG_TE)]})
    assert outside.status_code == 400

    make_admin(db, "xem", Role.viewer)
    with httpx.Client(base_url=str(client.base_url)) as viewer:
        login(viewer, "xem")
        token = csrf(viewer.get("/admin/contests"))
        assert viewer.get(f"/admin/contests/{theirs}/rounds/{round_id}").status_code == 200
        assert viewer.get("/admin/contests/new").status_code == 403
        assert (
            viewer.post(f"/admin/contests/{theirs}/rounds/new", data={"csrf_token": token}).status_code == 403
        )


def _all_right(db: Database, round_id: int, person_id: int, name: str) -> None:
    """A person registered under `name` (agreeing to be named) answers a whole round right."""
    with db.transaction() as session:
        person = session.get(Person, person_id)
        round_ = session.get(ContestRound, round_id)
        assert person is not None and round_ is not None
        contests.register(session, round_.contest, person, {"name": name}, named=True)
        attempt = contests.start(session, round_, person, "web")
        for question_id in attempt.question_ids:
            question = session.get(ContestQuestion, question_id)
            assert question is not None
            contests.answer(session, attempt, question, question.correct)


def _question_ids(db: Database, contest_id: int) -> list[int]:
    """The contest's bank question ids."""
    with db.transaction() as session:
        return list(
            session.scalars(select(ContestQuestion.id).where(ContestQuestion.contest_id == contest_id))
        )


def test_hostile_text_is_shown_escaped(client: httpx.Client, db: Database) -> None:
    contest_id = _contest(db, title="<script>alert('t')</script> Thi")
    [round_id, _] = _rounds(db, contest_id)
    with db.transaction() as session:
        contest = contests.get(session, contest_id=contest_id)
        assert contest is not None
        contests.write_question(
            session,
            contest,
            None,
            contests.QuestionDraft(
                {"vi": "<img src=x onerror=alert(1)> Câu?"}, ({"vi": "<b>A</b>"}, {"vi": "B"}), 0
            ),
        )
    person_id = factories.add_person(db, "web:" + "z" * 40, commune=PHONG_THO, province=LAI_CHAU)
    _all_right(db, round_id, person_id, "<svg onload=alert(2)>")
    make_admin(db, "tinh")
    login(client, "tinh")
    pages = [
        client.get(f"/admin/contests/{contest_id}").text,
        client.get(f"/admin/contests/{contest_id}/rounds/{round_id}").text,
    ]
    for page in pages:
        assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Thi" in page
    assert "<img src=x" not in pages[0] and "&lt;img src=x onerror=alert(1)&gt; Câu?" in pages[0]
    assert "<b>A</b>" not in pages[0]
    assert "<svg" not in pages[1] and "&lt;svg onload=alert(2)&gt;" in pages[1]
    assert "<script>alert" not in client.get("/admin/contests").text


def test_a_question_too_long_for_a_telegram_quiz_is_asked_with_buttons(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, live: object
) -> None:
    contest_id = _contest(db)
    [round_id, _] = _rounds(db, contest_id)
    with db.transaction() as session:
        round_ = session.get(ContestRound, round_id)
        assert round_ is not None
        for question in round_.contest.questions:
            question.explanation = {"vi": "Giải thích dài. " * 20}  # over the quiz's 200 characters
    chat = next(_chat_ids)
    person_id = factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=LAI_CHAU)
    with db.transaction() as session:
        person, contest = session.get(Person, person_id), contests.get(session, contest_id=contest_id)
        assert person is not None and contest is not None
        contests.register(session, contest, person, {"phone": "0912345678"}, named=False)
    telegram = TelegramDriver(client, fake_telegram, db, chat)
    asked, text = _question(telegram.tap("contests"))
    assert fake_telegram.last_poll(chat) is None, "no native quiz"
    _options, right = BANK[text]
    answered = telegram.tap(asked.payload(f". {right}"))
    assert answered[0].text.startswith("✅") and "Giải thích dài." in answered[0].text


def test_erasure_keeps_the_attempt_counted_and_drops_the_registration(
    db: Database, settings: Settings
) -> None:
    contest_id = _contest(db)
    [round_id, _] = _rounds(db, contest_id)
    person_id = factories.add_person(db, "web:" + "e" * 40, commune=PHONG_THO, province=LAI_CHAU)
    _all_right(db, round_id, person_id, "Lò Thị Mai")
    with db.transaction() as session:
        person = session.get(Person, person_id)
        assert person is not None
        [entrant, attempt] = privacy.document(session, person)["contests"]
        assert entrant["name"] == "Lò Thị Mai" and attempt["score"] == 3, "in the person's copy of their data"
        privacy.erase(session, Path(settings.media_dir), person)
    with db.transaction() as session:
        round_ = session.get(ContestRound, round_id)
        assert round_ is not None
        assert contests.results(session, round_, by="commune").groups == {PHONG_THO: (1, 1)}, "still counted"
        [ranked] = contests.ranking(session, round_)
        assert ranked.entrant is not None and (ranked.entrant.name, ranked.entrant.phone) == ("", "")
        assert ranked.attempt.person_id is None


def test_a_vote_before_its_poll_is_recorded_as_sent_still_finds_its_quiz(db: Database) -> None:
    """Under load Telegram's poll_answer can arrive before the send's outcome is written: the vote must
    count for the one quiz in flight to that person, never be dropped."""
    urn = "telegram:4242"
    quiz = Quiz("Câu hỏi?", ("Có", "Không"), 0, "Vì luật nói thế.", "cq:7")
    payload = Reply("Câu hỏi?", quiz=quiz).to_payload()
    with db.transaction() as session:
        first = messages.record_outbound(
            session, person_id=None, urn=urn, kind="text", text="", payload=payload
        )
        found = quiz_sent(session, urn, "poll-not-yet-recorded")
        assert found is not None and found[0]["quiz"]["answer"] == "cq:7" and found[1] == ""
        messages.mark_delivered(session, [(first, f"{POLL_SENT}p1:10", None)])
        assert quiz_sent(session, urn, "p1") == (payload, f"{POLL_SENT}p1:10")
        assert quiz_sent(session, urn, "poll-of-someone-else") is None, "nothing in flight: no guess"
        for _ in range(2):  # two quizzes in flight at once: which one was voted on is unknown
            messages.record_outbound(session, person_id=None, urn=urn, kind="text", text="", payload=payload)
        assert quiz_sent(session, urn, "p2") is None
