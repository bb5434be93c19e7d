"""The Telegram channel end to end: webhook security, redelivery, bad input, platform limits, polling."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.db import Database, utcnow
from bot.messages import service as messages
from bot.messages.models import Message, Status
from bot.people import service as people
from bot.server import create_app
from tests import factories
from tests.conftest import TG_TOKEN, make_settings
from tests.drivers import TelegramDriver, onboard
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI

_chat_ids = itertools.count(6_000_001)


@pytest.fixture
def tg(client: httpx.Client, fake_telegram: FakeBotAPI, db: Database) -> TelegramDriver:
    """A new Telegram user."""
    return TelegramDriver(client, fake_telegram, db, next(_chat_ids))


def count_messages(db: Database) -> int:
    """All stored messages."""
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def test_webhook_is_registered_with_its_secret(live: LiveServer, fake_telegram: FakeBotAPI) -> None:
    assert fake_telegram.webhook is not None
    assert fake_telegram.webhook["url"] == "https://loaban.example.org/webhooks/telegram"
    assert fake_telegram.webhook["secret_token"] == "s3cret-webhook-token_for-tests"


@pytest.mark.parametrize("secret", ["wrong-secret", None, ""])
def test_wrong_or_missing_secret_is_refused_and_nothing_stored(
    tg: TelegramDriver, db: Database, secret: str | None
) -> None:
    response = tg.post(factories.text_update(tg.chat_id, "/start"), secret=secret)
    assert response.status_code == 403
    assert count_messages(db) == 0
    assert tg.fake.sent(tg.chat_id) == []


def test_redelivered_update_is_handled_once(tg: TelegramDriver, db: Database) -> None:
    update = factories.text_update(tg.chat_id, "/start")
    first = tg.deliver(update)
    assert len(first) == 1
    again = tg.post(update)
    assert again.status_code == 200
    tg.wait_settled(str(update["update_id"]))
    assert len(tg.fake.sent(tg.chat_id)) == 1
    with db.transaction() as session:
        inbound = session.scalar(select(func.count()).where(Message.external_id == str(update["update_id"])))
    assert inbound == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"no_update_id": true}', b"\xff\xfe"])
def test_malformed_update_gets_400_and_the_bot_keeps_working(tg: TelegramDriver, body: bytes) -> None:
    response = tg.client.post(
        "/webhooks/telegram",
        content=body,
        headers={
            "X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token_for-tests",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    assert tg.send("/start")[0].buttons


def test_sticker_gets_a_clear_answer(tg: TelegramDriver) -> None:
    onboard(tg)
    replies = tg.deliver(factories.sticker_update(tg.chat_id))
    assert "chỉ đọc được chữ và nút bấm" in replies[0].text


def test_tap_is_answered_and_the_next_step_replaces_the_tapped_message(tg: TelegramDriver) -> None:
    tg.send("/start")
    language_message = tg.message_with("lang:vi")
    tg.tap("lang:vi")
    tg.fake.wait_for(lambda: len(tg.fake.calls_to("answerCallbackQuery")) == 1)
    assert len(tg.fake.sent(tg.chat_id)) == 1, "no new message: the menu changed in place"
    shown = tg.fake.messages[(tg.chat_id, language_message)]
    assert shown["text"].startswith("Bạn ở tỉnh hay thành phố nào?")
    assert "lang:vi" not in str(shown["reply_markup"]), "the used keyboard is gone, it cannot be tapped twice"


def test_tap_on_a_message_telegram_will_not_edit_gets_a_new_message(tg: TelegramDriver) -> None:
    tg.send("/start")
    tg.fake.messages.clear()  # as if the message were too old to edit
    replies = tg.deliver(factories.callback_update(tg.chat_id, "lang:vi", 1))
    assert replies[0].text.startswith("Bạn ở tỉnh hay thành phố nào?")
    assert len(tg.fake.sent(tg.chat_id)) == 2
    assert tg.fake.calls_to("editMessageText")[0].status == 400


def test_blocking_the_bot_unsubscribes_without_reply(tg: TelegramDriver, db: Database) -> None:
    onboard(tg)
    before = len(tg.fake.sent(tg.chat_id))
    tg.deliver(factories.blocked_update(tg.chat_id))
    assert len(tg.fake.sent(tg.chat_id)) == before
    with db.transaction() as session:
        person = people.get_by_urn(session, tg.urn)
        assert person is not None and not person.subscribed


def test_send_refused_with_403_unsubscribes_and_keeps_the_reason(tg: TelegramDriver, db: Database) -> None:
    onboard(tg)
    tg.fake.blocked.add(tg.chat_id)
    update = factories.text_update(tg.chat_id, "/menu")
    assert tg.post(update).status_code == 200
    tg.fake.wait_for(lambda: any(c.status == 403 for c in tg.fake.calls_to("sendMessage")))
    tg.wait_settled(str(update["update_id"]))
    with db.transaction() as session:
        person = people.get_by_urn(session, tg.urn)
        assert person is not None and not person.subscribed
        failed = session.scalars(
            select(Message).where(Message.urn == tg.urn, Message.status == Status.failed)
        ).all()
        assert failed and "blocked" in (failed[0].error or "")


@pytest.fixture
def strict_fake() -> Iterator[FakeBotAPI]:
    """Telegram's limits with no burst allowance: the second message in a second gets 429."""
    fake = FakeBotAPI(TG_TOKEN, chat_burst=1).start()
    yield fake
    fake.stop()


def test_429_retry_after_is_honoured_and_nothing_is_lost(
    database_url: str, strict_fake: FakeBotAPI, db: Database
) -> None:
    settings = make_settings(
        database_url,
        telegram_token=TG_TOKEN,
        telegram_api_url=strict_fake.url,
        telegram_webhook_secret="s3cret-webhook-token_for-tests",
        public_url="https://loaban.example.org",
    )
    server = LiveServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            tg = TelegramDriver(http, strict_fake, db, next(_chat_ids))
            tg.send("/start")
            tg.tap("lang:en")
            tg.send("lai chau")
            tg.send("phong tho")
            done = tg.tap("consent:yes")  # two replies back to back: thanks, then the menu
    finally:
        server.stop()
    assert [r.text.split("!")[0] for r in done] == ["Thank you", "What do you need? Tap a button:"]
    refused = [c for c in strict_fake.calls_to("sendMessage") if c.status == 429]
    assert refused, "the fake enforced the per-chat limit"
    accepted = strict_fake.sent(tg.chat_id)
    assert len(accepted) == 4  # /start, two typed steps, the menu after consent: once each despite 429s
    stamps = [c.at for c in accepted]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(stamps[-2:])), "retry waited retry_after"


def test_webhook_mode_refuses_to_start_without_a_secret(database_url: str, fake_telegram: FakeBotAPI) -> None:
    settings = make_settings(
        database_url,
        telegram_token=TG_TOKEN,
        telegram_api_url=fake_telegram.url,
        public_url="https://x.example",
    )
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        create_app(settings)


def test_long_polling_mode(database_url: str, fake_telegram: FakeBotAPI) -> None:
    settings = make_settings(database_url, telegram_token=TG_TOKEN, telegram_api_url=fake_telegram.url)
    server = LiveServer(create_app(settings, polling=True)).start()
    chat_id = next(_chat_ids)
    try:
        fake_telegram.push_update(factories.text_update(chat_id, "/start"))
        replies = fake_telegram.wait_sent(chat_id, 1)
        assert replies[0].buttons[0] == ("Tiếng Việt", "lang:vi")
        with httpx.Client(base_url=server.url) as http:
            assert http.post("/webhooks/telegram", json={}).status_code == 404
    finally:
        server.stop()
    assert fake_telegram.webhook is None


def test_replies_committed_before_a_crash_are_sent_at_restart(
    settings: Settings, fake_telegram: FakeBotAPI, db: Database
) -> None:
    chat_id = next(_chat_ids)
    with db.transaction() as session:  # the state a crash right after the commit leaves behind
        person, _ = people.get_or_create_by_urn(session, f"telegram:{chat_id}")
        ids = messages.record_outbound_many(
            session,
            person_id=person.id,
            urn=f"telegram:{chat_id}",
            items=[("text", "Câu trả lời thứ nhất", {}), ("text", "Câu trả lời thứ hai", {})],
        )
        for message_id in ids:
            stored = session.get(Message, message_id)
            assert stored is not None
            stored.created_at = utcnow() - timedelta(minutes=5)
    server = LiveServer(create_app(settings)).start()
    try:
        replies = fake_telegram.wait_sent(chat_id, 2)
        fake_telegram.wait_for(lambda: _statuses(db).get("pending", 0) == 0)
    finally:
        server.stop()
    assert [c.params["text"] for c in replies] == ["Câu trả lời thứ nhất", "Câu trả lời thứ hai"]
    assert _statuses(db) == {"sent": 2}


def test_a_failed_transaction_stores_nothing_and_telegram_redelivers(
    tg: TelegramDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.conversation import onboarding

    def broken(_ctx: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(onboarding, "ask_language", broken)
    update = factories.text_update(tg.chat_id, "/start")
    assert tg.post(update).status_code == 500  # Telegram will retry it
    assert count_messages(db) == 0, "nothing half-done is kept"
    monkeypatch.undo()
    replies = tg.deliver(update)  # Telegram retries the same update after a non-200
    assert replies[0].buttons[0] == ("Tiếng Việt", "lang:vi")


def test_many_chats_at_once_each_get_their_reply(
    client: httpx.Client, fake_telegram: FakeBotAPI, db: Database
) -> None:
    chats = [next(_chat_ids) for _ in range(25)]

    async def post_all() -> list[int]:
        async with httpx.AsyncClient(base_url=str(client.base_url)) as http:
            responses = await asyncio.gather(
                *[
                    http.post(
                        "/webhooks/telegram",
                        json=factories.text_update(c, "/start"),
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token_for-tests"},
                    )
                    for c in chats
                ]
            )
        return [r.status_code for r in responses]

    assert asyncio.run(post_all()) == [200] * len(chats)
    for chat in chats:
        assert fake_telegram.wait_sent(chat, 1)[0].buttons
    # Telegram numbers messages per chat, so every chat's first reply has message_id 1: all recorded as sent.
    fake_telegram.wait_for(lambda: _statuses(db) == {"sent": len(chats)})


def _statuses(db: Database) -> dict[str, int]:
    """Outbound messages by status."""
    with db.transaction() as session:
        rows = session.execute(
            select(Message.status, func.count()).where(Message.direction == "out").group_by(Message.status)
        ).all()
    return {str(status): n for status, n in rows}
