"""Asking Loa Bản about policy, over Telegram, Zalo and the web chat: answers with sources, ratings, topics,
and questions it is unsure of reaching the officials of the person's commune."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.content import import_all
from bot.db import Database
from bot.qa.models import OpenQuestion, QAEntry
from tests.conftest import knowledge_of
from tests.drivers import Driver, on_channel, onboard, wait_for_text
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

_chat_ids = itertools.count(7_000_001)


@pytest.fixture
def person(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
    shipped_knowledge: None,
    live: LiveServer,
) -> Driver:
    """An onboarded person on each channel, with the shipped sample knowledge base imported."""
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    knowledge_of(live).warm()
    driver = on_channel(request.param, client, fake_telegram, db, next(_chat_ids), fake_zalo)
    onboard(driver)
    return driver


pytestmark = pytest.mark.parametrize("person", ["telegram", "zalo", "web"], indirect=True)


def entry(db: Database, entry_id: str) -> QAEntry:
    """An entry as stored now."""
    with db.transaction() as session:
        found = session.get(QAEntry, entry_id)
        assert found is not None
        return found


def test_a_question_typed_without_diacritics_gets_the_answer_its_source_and_a_rating(
    person: Driver, db: Database
) -> None:
    replies = person.send("muc tieu giam ngheo den nam 2025 la bao nhieu")
    answer = replies[0]
    assert "giảm trên 3% mỗi năm" in answer.text
    assert "📄 Nguồn: Kế hoạch thực hiện Chương trình hành động 55-CTr/TU" in answer.text
    assert answer.buttons == [
        ("👍", "qa_up:muc-tieu-giam-ngheo-2025"),
        ("👎", "qa_down:muc-tieu-giam-ngheo-2025"),
    ]
    assert entry(db, "muc-tieu-giam-ngheo-2025").served_count == 1
    thanked = person.tap("qa_up:muc-tieu-giam-ngheo-2025")
    assert thanked[0].text == "Cảm ơn bạn đã cho biết!"
    assert entry(db, "muc-tieu-giam-ngheo-2025").helpful_count == 1


def test_an_unsure_question_offers_the_closest_and_reaches_the_officials(
    person: Driver, db: Database
) -> None:
    replies = person.send("con bò nhà tôi bị ốm thì gọi ai")
    assert "chưa chắc" in replies[-1].text
    assert replies[-1].buttons[-1] == ("✉️ Gửi câu hỏi cho cán bộ", "qa_send")
    assert 2 <= len(replies[-1].buttons) <= 4
    sent = person.tap("qa_send")
    assert "Đã gửi câu hỏi cho cán bộ xã" in sent[0].text
    with db.transaction() as session:
        questions = session.scalars(select(OpenQuestion)).all()
        assert [(q.text, q.commune_code) for q in questions] == [("con bò nhà tôi bị ốm thì gọi ai", 3549)]


def test_a_thumbs_down_offers_an_official(person: Driver, db: Database) -> None:
    person.send("gia lang truong ban co vai tro gi")
    offer = person.tap("qa_down:vai-tro-nguoi-co-uy-tin")
    assert offer[0].buttons[0] == ("✉️ Gửi câu hỏi cho cán bộ", "qa_send")
    assert entry(db, "vai-tro-nguoi-co-uy-tin").unhelpful_count == 1


def test_topics_for_people_who_would_rather_tap(person: Driver) -> None:
    menu = person.send("/menu")
    assert ("💬 Hỏi đáp", "topics") in menu[-1].buttons
    topics = person.tap("topics")
    assert any(payload == "topic:muc-tieu-2025" for _, payload in topics[-1].buttons)
    questions = person.tap("topic:muc-tieu-2025")
    assert (
        "Tỷ lệ người dân tộc thiểu số tham gia bảo hiểm y tế phải đạt bao nhiêu?",
        "qa:muc-tieu-bao-hiem-y-te",
    ) not in questions[-1].buttons  # that one is tagged 'y tế', not 2025
    first_payload = questions[-1].buttons[0][1]
    answer = person.tap(first_payload)
    assert "📄 Nguồn:" in answer[0].text


@pytest.mark.parametrize(("said", "expected"), [("Xin chào!", "Chào bạn!"), ("cảm ơn nhé", "Không có gì ạ!")])
def test_small_talk_gets_a_friendly_word_and_the_menu(person: Driver, said: str, expected: str) -> None:
    replies = person.send(said)
    assert replies[0].text.startswith(expected)
    assert replies[-1].text.startswith("Bạn cần gì")


def test_unanswered_to_answered_to_new_entry(
    person: Driver, client: httpx.Client, db: Database, live: LiveServer
) -> None:
    from bot.accounts.models import Role
    from tests.test_admin import csrf, login, make_admin

    question = "con bò nhà tôi bị ốm thì gọi ai"
    person.send(question)
    person.tap("qa_send")
    make_admin(db, "khac", Role.commune_officer, (3445,))  # another commune
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    with httpx.Client(base_url=str(client.base_url)) as other:
        login(other, "khac")
        assert question not in other.get("/admin/questions").text
        with db.transaction() as session:
            question_id = session.scalars(select(OpenQuestion.id)).one()
        page = other.get("/admin/questions")
        refused = other.post(
            f"/admin/questions/{question_id}/answer", data={"answer": "x", "csrf_token": csrf(page)}
        )
        assert refused.status_code == 404
    with httpx.Client(base_url=str(client.base_url)) as officer:
        login(officer, "phongtho")
        inbox = officer.get("/admin/questions")
        assert question in inbox.text
        answered = officer.post(
            f"/admin/questions/{question_id}/answer",
            data={
                "answer": "Gọi cán bộ thú y xã, số điện thoại dán ở nhà văn hóa thôn.",
                "csrf_token": csrf(inbox),
            },
        )
        assert answered.status_code == 303
        reached = wait_for_text(person, "Gọi cán bộ thú y xã")
        assert "Cán bộ xã trả lời câu hỏi của bạn «con bò nhà tôi bị ốm thì gọi ai»" in reached.text
        made = officer.post(f"/admin/questions/{question_id}/to-entry", data={"csrf_token": csrf(inbox)})
        assert made.status_code == 303
        assert "Đã thành mục hỏi đáp" in officer.get("/admin/questions").text
    knowledge_of(live).warm()  # the server rebuilds its index in the background after the commit
    again = person.send(question)
    assert again[0].text.startswith("Gọi cán bộ thú y xã")
    assert "📄 Nguồn: Cán bộ phongtho trả lời" in again[0].text
