"""Asking Loa Bản about policy, over Telegram, Zalo and the web chat: every answer says which question it
understood, cites its source and where it holds; unsure questions are never answered; a topic the knowledge
base does not cover is said so; a 👎 forwards the same question; only entries of the person's place, valid
today and published are ever shown; questions reach the officials of the person's commune."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.db import Database
from bot.qa import service as qa
from bot.qa.models import EntryStatus, ForwardReason, OpenQuestion, QAEntry
from bot.translations import content as content_translations
from tests.conftest import knowledge_of
from tests.drivers import Driver, on_channel, onboard, wait_for_text
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

_chat_ids = itertools.count(7_000_001)
KB = Path(__file__).parent / "data" / "qa_places.yaml"


@pytest.fixture
def person(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
    live: LiveServer,
) -> Driver:
    """An onboarded person of Xã Phong Thổ (Lai Châu) on each channel, with the tests' knowledge base."""
    with db.transaction() as session:
        report = qa.import_rows(session, yaml.safe_load(KB.read_text(encoding="utf-8")))
        assert not report.errors, report.errors
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


def carries_payloads(person: Driver) -> bool:
    """Telegram and the web chat send a button's payload back, so a forged one can arrive; a Zalo tap is
    the button's text, matched against what was shown."""
    return not person.urn.startswith("zalo:")


def forwarded(db: Database) -> list[OpenQuestion]:
    """The questions in the officials' inbox."""
    with db.transaction() as session:
        return list(session.scalars(select(OpenQuestion).order_by(OpenQuestion.id)))


def test_an_answer_says_what_it_understood_its_source_and_where_it_holds(
    person: Driver, db: Database
) -> None:
    replies = person.send("the bao hiem y te cho nguoi dan toc co mat tien ko")
    answer = replies[0]
    first_line = answer.text.splitlines()[0]
    assert first_line == (
        "❓ Bạn hỏi: “Người dân tộc thiểu số ở xã đặc biệt khó khăn "
        "có được cấp thẻ bảo hiểm y tế miễn phí không?”"
    )
    assert "không phải đóng tiền" in answer.text
    assert "📄 Nguồn: Luật Bảo hiểm y tế – Điều 12" in answer.text
    assert "📍 Áp dụng: toàn quốc" in answer.text
    assert answer.buttons == [
        ("👍", "qa_up:bhyt-mien-phi"),
        ("👎", "qa_down:bhyt-mien-phi"),
        ("🔊 Nghe", "listen:qa:bhyt-mien-phi"),  # heard as a voice note (tests/test_voice.py)
    ]
    assert entry(db, "bhyt-mien-phi").served_count == 1
    thanked = person.tap("qa_up:bhyt-mien-phi")
    assert thanked[0].text == "Cảm ơn bạn đã cho biết!"
    assert entry(db, "bhyt-mien-phi").helpful_count == 1


def test_a_person_is_answered_only_from_entries_of_their_province(person: Driver) -> None:
    """Two provinces answer the same question differently: a Lai Châu villager gets Lai Châu's."""
    answer = person.send("ho ngheo vay von lam nha duoc bao nhieu")[0]
    assert "Ở tỉnh Lai Châu" in answer.text
    assert "📍 Áp dụng: Lai Châu" in answer.text
    assert "Bắc Ninh" not in answer.text
    if carries_payloads(person):
        refused = person.tap("qa:vay-lam-nha-bac-ninh")
        assert "Câu hỏi này không còn nữa" in refused[0].text, "not even by a forged payload"


def test_expired_and_draft_entries_are_never_served(person: Driver) -> None:
    for typed in ("Hộ nghèo được hỗ trợ tiền điện mỗi tháng bao nhiêu?", "Câu hỏi đang soạn, chưa đăng"):
        replies = person.send(typed)
        assert all("Năm 2025 hộ nghèo được hỗ trợ tiền điện" not in r.text for r in replies)
        assert all("chưa được duyệt" not in r.text for r in replies)
    for payload in ("qa:tien-dien-2025", "qa:ban-nhap-chua-dang") if carries_payloads(person) else ():
        shown = person.tap(payload)
        assert "Câu hỏi này không còn nữa" in shown[0].text


def test_a_topic_not_covered_is_said_plainly_and_can_be_forwarded(person: Driver, db: Database) -> None:
    replies = person.send("tro cap that nghiep duoc bao nhieu")
    said = replies[-1]
    assert said.text.startswith("Loa Bản chưa có thông tin về việc này.")
    assert not any(payload.startswith("qa:") for _, payload in said.buttons), "no nearest entry offered"
    assert ("✉️ Gửi câu hỏi cho cán bộ", "qa_send") in said.buttons
    sent = person.tap("qa_send")
    assert "Đã gửi câu hỏi cho cán bộ xã" in sent[0].text
    [question] = forwarded(db)
    assert (question.text, question.commune_code, question.reason) == (
        "tro cap that nghiep duoc bao nhieu",
        3549,
        ForwardReason.not_covered,
    )


def test_an_unsure_question_is_not_answered_and_offers_the_closest(person: Driver, db: Database) -> None:
    replies = person.send("nha toi muon xin ho tro")
    offer = replies[-1]
    assert "chưa chắc" in offer.text and "chưa trả lời" in offer.text
    assert offer.buttons[-3:] == [
        ("✉️ Gửi câu hỏi cho cán bộ", "qa_send"),
        ("⬅️ Quay lại các chủ đề", "topics"),
        ("☰ Menu chính", "menu"),
    ], "the offer ends with a way back, as topic lists do"
    offered = [payload for _, payload in offer.buttons if payload.startswith("qa:")]
    assert len(offered) == 3
    assert all(not r.text.startswith("❓ Bạn hỏi") for r in replies), "nothing is answered"
    person.tap("qa_send")
    [question] = forwarded(db)
    assert question.reason == ForwardReason.unsure
    assert question.offered == [p.removeprefix("qa:") for p in offered]


def test_a_thumbs_down_forwards_the_same_question_and_shows_the_other_candidates(
    person: Driver, db: Database
) -> None:
    typed = "ho tro cho ho ngheo"
    answer = person.send(typed)
    answered_id = answer[0].buttons[1][1].removeprefix("qa_down:")
    offer = person.tap(f"qa_down:{answered_id}")
    assert f"«{typed}»" in offer[0].text, "the person does not have to type it again"
    assert offer[0].buttons[0] == ("✉️ Gửi câu hỏi cho cán bộ", "qa_send")
    others = [payload for _, payload in offer[0].buttons if payload.startswith("qa:")]
    assert len(others) == 2 and f"qa:{answered_id}" not in others
    assert entry(db, answered_id).unhelpful_count == 1
    person.tap("qa_send")
    [question] = forwarded(db)
    assert (question.text, question.reason, question.answered_with) == (
        typed,
        ForwardReason.unhelpful,
        answered_id,
    )


def test_topics_have_a_way_back(person: Driver) -> None:
    menu = person.send("/menu")
    assert ("💬 Hỏi đáp", "topics") in menu[-1].buttons
    topics = person.tap("topics")
    labels = [label for label, _ in topics[-1].buttons]
    assert "Vay vốn" in labels and "☰ Menu chính" in labels
    questions = person.tap("topic:vay-von")
    assert [p for _, p in questions[-1].buttons if p.startswith("qa:")] == ["qa:vay-lam-nha-lai-chau"]
    assert questions[-1].buttons[-2:] == [("⬅️ Quay lại các chủ đề", "topics"), ("☰ Menu chính", "menu")]
    answer = person.tap("qa:vay-lam-nha-lai-chau")
    assert answer[0].text.startswith("❓ Bạn hỏi:")


def test_the_other_questions_offered_after_an_answer_end_with_a_way_back(person: Driver) -> None:
    replies = person.send("ho tro cho ho ngheo")
    assert replies[0].text.startswith("❓ Bạn hỏi:")
    [others] = [r for r in replies if r.text.startswith("Có thể bạn cũng muốn hỏi")]
    assert any(payload.startswith("qa:") for _, payload in others.buttons)
    assert others.buttons[-2:] == [("⬅️ Quay lại các chủ đề", "topics"), ("☰ Menu chính", "menu")]


@pytest.mark.parametrize(("said", "expected"), [("Xin chào!", "Chào bạn!"), ("cảm ơn nhé", "Không có gì ạ!")])
def test_small_talk_gets_a_friendly_word_and_the_menu(person: Driver, said: str, expected: str) -> None:
    replies = person.send(said)
    assert replies[0].text.startswith(expected)
    assert replies[-1].text.startswith("Bạn cần gì")


def test_unanswered_to_answered_reaches_the_person(
    person: Driver, client: httpx.Client, db: Database, live: LiveServer
) -> None:
    from bot.accounts.models import Role
    from tests.test_admin import csrf, login, make_admin

    question = "con bò nhà tôi bị ốm thì gọi ai"
    person.send(question)
    person.tap("qa_send")
    make_admin(db, "khac", Role.commune_officer, (3445,))  # another commune
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    [waiting] = forwarded(db)
    with httpx.Client(base_url=str(client.base_url)) as other:
        login(other, "khac")
        page = other.get("/admin/questions")
        assert question not in page.text
        refused = other.post(
            f"/admin/questions/{waiting.id}/answer", data={"answer": "x", "csrf_token": csrf(page)}
        )
        assert refused.status_code == 404
    with httpx.Client(base_url=str(client.base_url)) as officer:
        login(officer, "phongtho")
        inbox = officer.get("/admin/questions")
        assert question in inbox.text
        answered = officer.post(
            f"/admin/questions/{waiting.id}/answer",
            data={
                "answer": "Gọi cán bộ thú y xã, số điện thoại dán ở nhà văn hóa thôn.",
                "csrf_token": csrf(inbox),
            },
        )
        assert answered.status_code == 303
        reached = wait_for_text(person, "Gọi cán bộ thú y xã")
        assert "Cán bộ xã trả lời câu hỏi của bạn «con bò nhà tôi bị ốm thì gọi ai»" in reached.text
        draft = {
            "csrf_token": csrf(inbox),
            "question": "Bò bị ốm thì gọi ai?",
            "alternatives": question,
            "answer": "Gọi cán bộ thú y xã.",
            "source_document": "phongtho, Cán bộ xã",
            "communes": "3549",
        }
        made = officer.post(f"/admin/questions/{waiting.id}/to-entry", data=draft)
        assert made.status_code == 303
        assert "Đã thành mục hỏi đáp" in officer.get("/admin/questions").text
    unpublished = person.send(question)
    assert all("Gọi cán bộ thú y xã." not in r.text for r in unpublished), "a draft is never answered with"
    assert all(("Bò bị ốm thì gọi ai?", "qa:bo-bi-om-thi-goi-ai") not in r.buttons for r in unpublished)
    with db.transaction() as session:  # an editor publishes the officer's draft
        made_entry = session.get(QAEntry, "bo-bi-om-thi-goi-ai")
        assert made_entry is not None and made_entry.status == EntryStatus.draft
        made_entry.status = EntryStatus.published
    knowledge_of(live).warm()  # the server rebuilds its index in the background after the commit
    again = person.send(question)
    assert again[0].text.startswith("❓ Bạn hỏi: “Bò bị ốm thì gọi ai?”")
    assert "Gọi cán bộ thú y xã." in again[0].text and "📄 Nguồn: phongtho, Cán bộ xã" in again[0].text


def test_a_source_from_several_plans_shows_each_plans_section_in_words(
    person: Driver, db: Database, live: LiveServer
) -> None:
    """Sections read as 'mục III.1' beside their own plan, not a row of bare numbers after all the plans."""
    with db.transaction() as session:
        report = qa.import_rows(
            session,
            [
                {
                    "id": "hoc-may-lai-chau",
                    "question": "Phụ nữ trong bản có được học may miễn phí không?",
                    "answer": "Ở tỉnh Lai Châu, phụ nữ trong bản được học may miễn phí ở huyện.",
                    "tags": ["Việc làm"],
                    "source": {
                        "document": "Kế hoạch A, tỉnh Lai Châu (mẫu); Kế hoạch B, huyện Phong Thổ (mẫu)",
                        "section": "III.1 Nội dung; 1.3.2",
                    },
                    "area": {"provinces": [12]},
                }
            ],
        )
        assert not report.errors, report.errors
    knowledge_of(live).warm()
    answer = person.send("phu nu trong ban co duoc hoc may mien phi ko")[0]
    assert (
        "📄 Nguồn: Kế hoạch A, tỉnh Lai Châu (mẫu) (mục III.1 Nội dung); "
        "Kế hoạch B, huyện Phong Thổ (mẫu) (mục 1.3.2)"
    ) in answer.text
    assert "📍 Áp dụng: Lai Châu" in answer.text


def test_officials_see_what_loa_ban_could_not_answer_even_when_nobody_sent_it(
    person: Driver, client: httpx.Client, db: Database
) -> None:
    """The questions inbox holds only what people chose to send; below it, the officer sees the villager's
    own words each time Loa Bản had nothing, was unsure, or got a 👎, to know which entry to add or fix."""
    from bot.accounts.models import Role
    from tests.test_admin import login, make_admin

    said = [
        "Loa Bản chưa có thông tin về việc này" if "chưa có thông tin" in told[0].text else "chưa chắc"
        for told in (
            person.send("tro cap that nghiep duoc bao nhieu"),
            person.send("nha toi muon xin ho tro"),
        )
    ]
    assert said[0] == "Loa Bản chưa có thông tin về việc này", "a topic the content never covers"
    answer = person.send("ho tro cho ho ngheo")
    answered_id = answer[0].buttons[1][1].removeprefix("qa_down:")
    person.tap(f"qa_down:{answered_id}")
    assert forwarded(db) == [], "nothing was sent to the officials"
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    make_admin(db, "khac", Role.commune_officer, (3445,))
    with httpx.Client(base_url=str(client.base_url)) as officer:
        login(officer, "phongtho")
        page = officer.get("/admin/questions").text
    assert "Không có câu hỏi nào đang chờ." in page
    rows = [
        " ".join(r.split()) for r in page[page.index('id="missed"') :].split("</table>")[0].split("<tr>")[2:]
    ]
    assert len(rows) == 3, rows
    assert "ho tro cho ho ngheo" in rows[0] and "người hỏi báo là chưa đúng ý (👎)" in rows[0]
    assert f'href="/admin/qa/{answered_id}"' in rows[0], "the entry that got the 👎"
    assert "nha toi muon xin ho tro" in rows[1] and said[1] in rows[1], "what the person was told"
    assert "tro cap that nghiep duoc bao nhieu" in rows[2] and said[0] in rows[2]
    assert all("Xã Phong Thổ" in r for r in rows)
    with httpx.Client(base_url=str(client.base_url)) as other:
        login(other, "khac")
        elsewhere = other.get("/admin/questions").text
    assert 'id="missed"' not in elsewhere and "tro cap that nghiep" not in elsewhere, (
        "only the officer's communes"
    )


def test_an_answer_comes_in_the_persons_language_else_in_vietnamese_with_a_note(
    person: Driver, db: Database
) -> None:
    with db.transaction() as session:
        found = session.get(QAEntry, "tao-hon")
        assert found is not None
        found.translations = {"en": {"question": "Is child marriage allowed?", "answer": "No: 18 and 20."}}
        reviewer = accounts.create(session, username="reviewer", password="x" * 12, role=Role.editor)
        content_translations.approve(session, reviewer, "en", found)  # people read only approved ones
    person.tap("settings")
    person.tap("set:lang")
    person.tap("lang:en")
    untranslated = person.send("the bao hiem y te cho nguoi dan toc co mat tien ko")[0]
    assert "không phải đóng tiền" in untranslated.text
    note = "(This answer is not translated into your language yet, so Loa Bản sends it in Vietnamese.)"
    assert untranslated.text.count(note) == 1
    translated = person.tap("qa:tao-hon") if carries_payloads(person) else None
    if translated is not None:
        assert "No: 18 and 20." in translated[0].text and note not in translated[0].text
