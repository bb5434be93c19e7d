"""Law contests ("Cuộc thi") end to end: people register with consent and answer a round's drawn questions
in the web chat, over Telegram and over Zalo, one at a time with the explanation and source after each;
an interrupted attempt resumes, a second one is refused, a late answer is not counted; the tie-breaker
prediction and then the time break ties; results count by commune; officials see only their communes."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from bot.bulletins.service import Audience
from bot.contests import service as contests
from bot.contests.models import Attempt, ContestAnswer, ContestRound
from bot.db import Database, utcnow
from bot.people.models import Identity
from tests import factories
from tests.drivers import Seen, TelegramDriver, WebDriver, ZaloDriver, onboard
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import MUONG_TE, PHONG_THO

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
        replies = person.tap(asked.payload(f". {pick}"))
    return replies


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
    tap = factories.callback_update(
        chat, asked.payload(f". {right}"), telegram.message_with(asked.payload(f". {right}"))
    )
    replies = telegram.deliver(tap)
    assert replies[0].text.startswith("✅")
    assert telegram.post(tap).status_code == 200
    telegram.wait_settled(str(tap["update_id"]))
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
