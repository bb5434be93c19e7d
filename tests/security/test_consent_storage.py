"""Consent before storage, over Telegram, Zalo and the web chat: until a person agrees to the privacy
notice Loa Bản keeps only what onboarding needs (language, place, chat address), never their name or what
they wrote once it is answered; a 'no' still gets bulletins and answers; and a message redelivered after
erasure does not bring the person back (only a digest of its id is kept to know it again)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import select

from bot.config import Settings
from bot.content import import_all
from bot.db import Database
from bot.messages.models import Message
from bot.people.models import Identity
from bot.privacy import notice
from tests import factories
from tests.conftest import PROJECT_ROOT, knowledge_of
from tests.drivers import Driver, TelegramDriver, WebDriver, ZaloDriver, onboard, wait_for_text, wait_handled
from tests.fakes.server import LiveServer
from tests.test_admin import login, make_admin
from tests.test_privacy import (
    BULLETIN_TEXT,
    PHONE,
    PHONG_THO,
    QUESTION,
    REFLECTION,
    eventually,
    every_row,
    person,
    send_bulletin,
    settings,
    stored,
)

__all__ = ["person", "settings"]  # fixtures shared with tests/test_privacy.py


def say_replayably(person: Driver, db: Database, text: str) -> Callable[[], httpx.Response]:
    """Send a text as the platform would; returns how to deliver exactly the same message again."""
    if isinstance(person, TelegramDriver):
        update_json = factories.text_update(person.chat_id, text)
        person.deliver(update_json)
        return lambda: person.post(update_json)
    if isinstance(person, ZaloDriver):
        event = person.fake.event("user_send_text", person.user_id, {"text": text})
        assert person.post(event).status_code == 200
        wait_handled(db, "zalo", event["message"]["msg_id"], person.urn)
        return lambda: person.post(event)
    assert isinstance(person, WebDriver)
    body = {"session": person.session, "text": text, "id": uuid.uuid4().hex}
    assert person.client.post("/chat/api/messages", json=body).status_code == 200
    return lambda: person.client.post("/chat/api/messages", json=body)


def start_without_answering(person: Driver) -> None:
    """Onboarding up to the privacy notice, whose buttons are never tapped."""
    person.send("/start")
    person.tap("lang:vi")
    person.send("lai chau")
    shown = person.send("phong tho")
    if any(p == "vil:0" for _l, p in shown[-1].buttons):
        shown = person.tap("vil:0")
    assert [p for _l, p in shown[-1].buttons] == ["consent:yes", "consent:no"]


def test_someone_who_never_answers_the_notice_is_kept_without_name_or_words(
    person: Driver, db: Database
) -> None:
    start_without_answering(person)
    person.send(REFLECTION)
    person.send(QUESTION)
    person.tap("fb")
    found = stored(db, person.urn)
    assert found is not None and not found.consented and found.declined_at is None
    assert found.display_name == "" and found.commune_code == PHONG_THO, "only what onboarding needs"

    def mine() -> list[Message]:
        with db.transaction() as session:
            return list(session.scalars(select(Message).where(Message.person_id == found.id)))

    eventually(lambda: all(m.text == "" for m in mine()))
    assert len(mine()) > 8, "every message is still counted"
    assert all(m.payload == {} for m in mine() if m.direction == "in")
    for table, rows in every_row(db).items():
        for row in rows:
            for trace in (REFLECTION, PHONE, QUESTION, "lai chau", "phong tho", "A Páo"):
                assert trace not in row, f"{trace!r} kept in {table}: {row}"


def test_a_message_redelivered_after_erasure_does_not_bring_the_person_back(
    person: Driver, db: Database
) -> None:
    onboard(person)
    replay = say_replayably(person, db, "xin chào")
    person.tap("settings")
    person.tap("erase")
    person.tap("erase_yes")
    assert stored(db, person.urn) is None
    assert replay().status_code == 200
    with db.transaction() as session:
        assert session.scalars(select(Identity.urn).where(Identity.urn == person.urn)).all() == []
    assert stored(db, person.urn) is None
    assert all("xin chào" not in row for rows in every_row(db).values() for row in rows)
    fresh = person.send("/start")
    assert fresh[-1].buttons[0] == ("Tiếng Việt", "lang:vi"), "a new message starts afresh"


def test_saying_no_keeps_no_name_yet_bulletins_and_answers_still_come(
    person: Driver, client: httpx.Client, db: Database, settings: Settings, live: LiveServer
) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    knowledge_of(live).warm()
    person.send("/start")
    person.tap("lang:vi")
    person.send("lai chau")
    shown = person.send("phong tho")
    if any(p == "vil:0" for _l, p in shown[-1].buttons):
        person.tap("vil:0")
    declined = person.tap("consent:no")
    said = declined[0].text
    assert "Loa Bản không giữ tên bạn" in said and "ngôn ngữ, nơi ở và địa chỉ trò chuyện" in said
    assert "vẫn nhận bản tin, hỏi đáp và gửi phản ánh ẩn danh" in said
    assert "không thể gửi kèm tên hay số điện thoại để cán bộ gọi lại" in said
    assert "cuộc thi" not in said, "there is no contest to take part in"
    assert "⚙️ Cài đặt → «✅ Đồng ý lưu dữ liệu»" in said
    assert ("💬 Hỏi đáp", "topics") in declined[-1].buttons, "the menu follows"
    found = stored(db, person.urn)
    assert found is not None and found.onboarded and not found.consented
    assert found.display_name == "" and found.declined_at is not None
    assert found.consent_version == notice.PRIVACY_VERSION and found.commune_code == PHONG_THO

    answer = person.send("Quyết định 1719 của Thủ tướng phê duyệt chương trình nào?")
    assert answer[0].text.startswith("❓ Bạn hỏi:")
    send_bulletin(db, settings)
    wait_for_text(person, BULLETIN_TEXT)

    def said_and_answered() -> list[Message]:
        with db.transaction() as session:
            return list(
                session.scalars(
                    select(Message).where(Message.person_id == found.id, Message.kind != "bulletin")
                )
            )

    eventually(lambda: all(m.text == "" for m in said_and_answered()))
    mine = said_and_answered()
    assert len(mine) > 10, "every message is still there, to be counted"
    assert all(m.payload == {} for m in mine if m.direction == "in"), (
        "what was said is not kept once answered"
    )
    assert stored(db, person.urn).display_name == ""  # type: ignore[union-attr]
    make_admin(db, "tinh")
    login(client, "tinh")
    shown_to_officials = client.get(f"/admin/people/{found.id}").text
    assert "(không tên)" in shown_to_officials and "Không đồng ý (" in shown_to_officials

    settings_screen = person.tap("settings")
    person.tap(settings_screen[-1].payload("Đồng ý lưu dữ liệu"))
    person.tap("consent:yes")
    agreed = stored(db, person.urn)
    assert agreed is not None and agreed.consented and agreed.declined_at is None
    if isinstance(person, TelegramDriver):
        assert agreed.display_name == "A Páo", "the name is kept once they agree"
