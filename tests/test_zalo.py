"""Zalo end to end against the fake Zalo: every event type as Zalo sends it, signatures, retried events,
the webhook's answer before slow work, the rotating token (also when it expires mid-broadcast), Zalo's
reply windows and quota in the bulletin sender and its preview, and one person on Telegram and Zalo."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.audio import ffmpeg
from bot.audio import service as audio
from bot.bulletins import service as bulletins
from bot.bulletins.models import Delivery, DeliveryStatus, Relay
from bot.channels.models import ChannelToken
from bot.channels.zalo import to_inbound
from bot.config import Settings
from bot.conversation.engine import Conversation
from bot.conversation.types import Inbound
from bot.db import Database, utcnow
from bot.media import service as media
from bot.media import store
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.people.models import Identity, PersonRole
from bot.people.windows import reply_windows
from bot.server import create_app
from tests.conftest import webhook_settings
from tests.drivers import Driver, TelegramDriver, ZaloDriver, onboard
from tests.factories import PNG, add_person, tone, wait_done
from tests.fakes import zalo_api
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import csrf, login, make_admin
from tests.test_feedback import file_reflection, ticket_of

PHONG_THO, LAI_CHAU = 3549, 12
_users = itertools.count(4_400_001)
WINDOWS = reply_windows(Settings(_env_file=None))  # type: ignore[call-arg]  # Zalo's rules as shipped


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, tmp_path: Path) -> Settings:
    """Telegram and Zalo, bulletins sent at once, files under the test's folder."""
    return webhook_settings(
        database_url,
        fake_telegram,
        fake_zalo,
        media_dir=tmp_path / "media",
        quiet_hours="",
        relay_lead_minutes=0,
        delivery_chat_interval_seconds=0.05,
    )


def zalo_person(client: httpx.Client, fake: FakeZalo, db: Database) -> ZaloDriver:
    """Someone new writing to the OA."""
    return ZaloDriver(client, fake, db, str(next(_users)))


def follower(db: Database, fake: FakeZalo, *, hours_ago: float = 0, language: str = "vi") -> str:
    """An onboarded Zalo person of Phong Thổ who last wrote `hours_ago`; their user id."""
    user_id = str(next(_users))
    add_person(db, f"zalo:{user_id}", commune=PHONG_THO, province=LAI_CHAU, language=language)
    fake.follower(user_id, hours_ago)
    with db.transaction() as session:
        session.execute(
            update(Identity)
            .where(Identity.urn == f"zalo:{user_id}")
            .values(last_inbound_at=utcnow() - timedelta(hours=hours_ago))
        )
    return user_id


def text_bulletin(db: Database, text: str = "Họp thôn lúc 8 giờ sáng Chủ nhật.", **kw: Any) -> int:
    """A Vietnamese bulletin for Phong Thổ, queued at once."""
    with db.transaction() as session:
        bulletin = bulletins.create(
            session,
            title="Họp thôn",
            versions=[("vi", text, None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
            **kw,
        )
        bulletins.send(session, bulletin, lead=timedelta(0), windows=WINDOWS)
        return bulletin.id


def stored_count(db: Database, urn: str) -> int:
    """Inbound messages stored for an address."""
    with db.transaction() as session:
        found = session.scalar(
            select(func.count()).where(Message.urn == urn, Message.direction == Direction.inbound)
        )
        return int(found or 0)


# --- inbound events as Zalo sends them --------------------------------------------------------------------

EVENTS: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = [
    (
        "user_send_text",
        {"text": "ho ngheo vay von the nao"},
        {"kind": "text", "text": "ho ngheo vay von the nao"},
    ),
    ("user_send_text", {"text": "/start"}, {"kind": "command", "command": "start"}),
    (
        "user_send_image",
        {"text": "cầu gãy", "attachments": [{"type": "image", "payload": {"url": "u", "thumbnail": "t"}}]},
        {"kind": "media", "payload": "photo", "text": "cầu gãy"},
    ),
    (
        "user_send_audio",
        {"attachments": [{"type": "audio", "payload": {"url": "https://zalo.example/a.aac"}}]},
        {"kind": "media", "payload": "voice"},
    ),
    (
        "user_send_video",
        {"attachments": [{"type": "video", "payload": {"url": "v", "thumbnail": "t", "description": ""}}]},
        {"kind": "media", "payload": "video"},
    ),
    (
        "user_send_file",
        {
            "attachments": [
                {"type": "file", "payload": {"url": "f", "name": "don.pdf", "size": "2048", "type": "pdf"}}
            ]
        },
        {"kind": "media", "payload": "document"},
    ),
    (
        "user_send_location",
        {
            "attachments": [
                {"type": "location", "payload": {"coordinates": {"latitude": "22.55", "longitude": "103.35"}}}
            ]
        },
        {"kind": "location", "location": (22.55, 103.35)},
    ),
    (
        "user_send_location",
        {
            "attachments": [
                {"type": "location", "payload": {"coordinates": {"latitude": "north", "longitude": "x"}}}
            ]
        },
        {"kind": "unsupported", "payload": "location"},
    ),
    (
        "user_send_sticker",
        {"attachments": [{"type": "sticker", "payload": {"id": "bfe3", "url": "s"}}]},
        {"kind": "unsupported", "payload": "sticker"},
    ),
    ("user_send_gif", {"attachments": [{"type": "gif", "payload": {"url": "g"}}]}, {"kind": "unsupported"}),
    ("follow", None, {"kind": "command", "command": "start"}),
    ("unfollow", None, {"kind": "event", "payload": "blocked"}),
]


@pytest.mark.parametrize(
    ("name", "message", "expected"), EVENTS, ids=[f"{e[0]}-{i}" for i, e in enumerate(EVENTS)]
)
def test_each_event_is_read_as_the_core_expects(
    fake_zalo: FakeZalo, name: str, message: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    event = fake_zalo.event(name, "77", message)
    inbound = to_inbound(event)
    assert isinstance(inbound, Inbound)
    assert inbound.urn == "zalo:77" and inbound.external_id
    for field, value in expected.items():
        assert getattr(inbound, field) == value, field


@pytest.mark.parametrize(
    "name", ["user_received_message", "user_seen_message", "oa_send_text", "shop_has_order"]
)
def test_events_that_need_nothing_are_ignored(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database, name: str
) -> None:
    person = zalo_person(client, fake_zalo, db)
    event = fake_zalo.event("user_send_text", person.user_id, {"text": "x"}) | {"event_name": name}
    assert to_inbound(event) is None
    assert person.post(event).status_code == 200
    assert stored_count(db, person.urn) == 0


# --- the webhook --------------------------------------------------------------------------------------------


def test_wrong_signatures_are_refused_and_nothing_is_stored(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    person = zalo_person(client, fake_zalo, db)
    event = fake_zalo.event("user_send_text", person.user_id, {"text": "xin chào"})
    assert person.post(event, secret="not-the-oa-secret").status_code == 401
    raw, headers = fake_zalo.signed(event)
    tampered = raw.replace("xin chào".encode(), "chuyển tiền".encode())
    assert client.post("/webhooks/zalo", content=tampered, headers=headers).status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-ZEvent-Signature"}
    assert client.post("/webhooks/zalo", content=raw, headers=unsigned).status_code == 401
    other_app = event | {"app_id": "999"}
    assert person.post(other_app).status_code == 401
    assert client.post("/webhooks/zalo", content=b"{not json", headers=headers).status_code == 401
    assert stored_count(db, person.urn) == 0
    assert fake_zalo.to(person.user_id) == []


def test_a_follow_starts_onboarding_and_a_retried_event_is_handled_once(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    person = zalo_person(client, fake_zalo, db)
    greeting = person.deliver("follow")
    assert "Xin chào" in greeting[-1].text
    assert "1️⃣ Tiếng Việt" in fake_zalo.to(person.user_id)[-1].message["text"], (
        "nine languages: a numbered menu"
    )
    chosen = person.send("1")
    assert "tỉnh" in chosen[-1].text, "answering with a number chooses that entry"
    event = fake_zalo.event("user_send_text", person.user_id, {"text": "lai chau"})
    for _ in range(3):  # Zalo sends it again when it thinks we were too slow
        assert person.post(event).status_code == 200
    fake_zalo.wait_until(lambda: len(fake_zalo.to(person.user_id)) >= 3)
    time.sleep(0.3)
    assert len(fake_zalo.to(person.user_id)) == 3, "one answer for three deliveries"
    assert stored_count(db, person.urn) == 3


def test_the_webhook_answers_before_a_slow_download_and_the_reply_follows(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    person = zalo_person(client, fake_zalo, db)
    onboard(person)
    person.tap("fb")
    person.tap(person.screen().payload("Đường sá"))
    release = threading.Event()
    fake_zalo.cdn_gate = release
    url = fake_zalo.add_file(PNG, "image/png")
    before = len(fake_zalo.to(person.user_id))
    event = fake_zalo.event(
        "user_send_image", person.user_id, {"attachments": [{"type": "image", "payload": {"url": url}}]}
    )
    assert person.post(event).status_code == 200, "answered while the picture is still downloading"
    assert len(fake_zalo.to(person.user_id)) == before
    release.set()
    fake_zalo.wait_until(lambda: len(fake_zalo.to(person.user_id)) > before)
    assert (
        "ảnh" in fake_zalo.to(person.user_id)[-1].text.lower()
        or "nhận" in fake_zalo.to(person.user_id)[-1].text
    )


def test_an_event_stored_by_a_process_that_stopped_is_handled_at_the_next_start(
    settings: Settings, fake_zalo: FakeZalo, db: Database
) -> None:
    event = fake_zalo.event("follow", "5550001")
    inbound = to_inbound(event)
    assert inbound is not None
    with db.transaction() as session:
        Conversation.record(session, inbound)
    server = LiveServer(create_app(settings)).start()
    try:
        fake_zalo.wait_until(lambda: bool(fake_zalo.to("5550001")))
    finally:
        server.stop()
    assert "Xin chào" in fake_zalo.to("5550001")[0].text


# --- the token ----------------------------------------------------------------------------------------------


def test_the_refresh_token_is_used_once_and_the_new_one_kept(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    person = zalo_person(client, fake_zalo, db)
    person.send("/start")
    assert fake_zalo.refreshes == 1
    with db.transaction() as session:
        stored = session.get(ChannelToken, "zalo")
        assert stored is not None and stored.refresh_token == fake_zalo.refresh_token
        assert stored.refresh_token != zalo_api.FIRST_REFRESH_TOKEN
    person.send("/help")
    assert fake_zalo.refreshes == 1, "a valid token is reused"
    fake_zalo.expire_tokens()
    replies = person.send("/help")
    assert replies and fake_zalo.refreshes == 2, "an expired token is refreshed and the message still sent"


def test_a_token_expiring_mid_broadcast_loses_nobody(
    live: LiveServer, fake_zalo: FakeZalo, db: Database
) -> None:
    users = [follower(db, fake_zalo) for _ in range(12)]
    expired = threading.Event()

    def expire_after_four() -> None:
        fake_zalo.wait_until(lambda: len(fake_zalo.sent) >= 4, timeout=30)
        fake_zalo.expire_tokens()
        expired.set()

    threading.Thread(target=expire_after_four, daemon=True).start()
    bulletin_id = text_bulletin(db)
    progress = wait_done(db, bulletin_id)
    assert expired.is_set()
    assert progress.sent == 12 and progress.failed == 0
    assert sorted(s.user_id for s in fake_zalo.sent) == sorted(users), "each person exactly once"
    assert fake_zalo.refreshes == 2
    assert fake_zalo.rejected_tokens > 0, "some sends met the expired token"


# --- reply windows and quota --------------------------------------------------------------------------------


def test_bulletins_respect_zalo_windows_and_the_preview_says_who_can_be_reached(
    live: LiveServer, client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    fresh = follower(db, fake_zalo, hours_ago=1)
    paid = follower(db, fake_zalo, hours_ago=50)
    silent = follower(db, fake_zalo, hours_ago=24 * 8)
    make_admin(db, "tinh")
    login(client, "tinh")
    with db.transaction() as session:
        draft = bulletins.create(
            session,
            title="Tiêm phòng",
            versions=[("vi", "Tiêm phòng cho trâu bò ngày 5/12.", None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
        )
        draft_id = draft.id
    page = client.get(f"/admin/bulletins/{draft_id}")
    assert "Trên Zalo, gửi được ngay (miễn phí): 1" in page.text
    assert "hạn mức tin chủ động: 1" in page.text and "quá 7 ngày: 1" in page.text
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=draft_id)
        assert bulletin is not None
        bulletins.send(session, bulletin, lead=timedelta(0), windows=WINDOWS)
    progress = wait_done(db, draft_id)
    assert progress.sent == 2 and progress.unreachable == 1
    reached = {s.user_id: s.paid for s in fake_zalo.sent}
    assert reached == {fresh: False, paid: True}, "after 48 hours the message costs quota"
    assert silent not in {u for u, _code in fake_zalo.refused}, "Zalo is not even asked"
    with db.transaction() as session:
        person = people.get_by_urn(session, f"zalo:{silent}")
        assert person is not None
        silent_id = person.id
    shown = client.get(f"/admin/bulletins/{draft_id}/progress")
    assert "quá 7 ngày" in shown.text and f'<a href="/admin/people/{silent_id}">' in shown.text
    assert "<td>Zalo</td>" in shown.text and "zalo:" not in shown.text, "the app by name, not the address"


def test_without_quota_a_bulletin_waits_with_the_reason(
    live: LiveServer, client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    fake_zalo.quota = 0
    free = follower(db, fake_zalo, hours_ago=1)
    waiting = follower(db, fake_zalo, hours_ago=60)
    bulletin_id = text_bulletin(db)
    fake_zalo.wait_until(lambda: (waiting, -211) in fake_zalo.refused, timeout=30)
    time.sleep(0.3)
    with db.transaction() as session:
        rows = {
            r.urn: r for r in session.scalars(select(Delivery).where(Delivery.bulletin_id == bulletin_id))
        }
        held = rows[f"zalo:{waiting}"]
        assert rows[f"zalo:{free}"].status == DeliveryStatus.sent
        assert held.status == DeliveryStatus.pending and "hạn mức" in (held.error or "")
        assert held.due_at > utcnow() + timedelta(minutes=30), "tried again later, not hammered"


def test_free_messages_are_counted_per_address_and_a_message_opens_the_window_again(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    person = zalo_person(client, fake_zalo, db)
    onboard(person)
    with db.transaction() as session:
        identity = session.scalar(select(Identity).where(Identity.urn == person.urn))
        assert identity is not None and identity.last_inbound_at is not None
        assert identity.sent_since_inbound >= 1, "replies count against the free messages"
    person.send("/help")
    with db.transaction() as session:
        identity = session.scalar(select(Identity).where(Identity.urn == person.urn))
        assert identity is not None and 1 <= identity.sent_since_inbound <= 3


# --- what bulletins look like on Zalo -----------------------------------------------------------------------


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_pictures_are_uploaded_once_and_voice_becomes_a_link(
    live: LiveServer, fake_zalo: FakeZalo, db: Database, settings: Settings, tmp_path: Path
) -> None:
    users = [follower(db, fake_zalo) for _ in range(3)]
    clip = audio.recording(tone(tmp_path / "loa.mp3", seconds=1), "loa.mp3", 10_000_000)
    uploaded = audio.upload(db, store.of(settings), clip)
    png = media.upload(db, store.of(settings), PNG, kind="image", mime="image/png")
    with db.transaction() as session:
        picture = media.record(session, store.of(settings), png)
        voice = audio.record(session, store.of(settings), uploaded)
        bulletin = bulletins.create(
            session,
            title="Lịch tiêm",
            versions=[("vi", "Lịch tiêm phòng tháng 12.", voice)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
            image_ids=[picture.id],
        )
        bulletins.send(session, bulletin, lead=timedelta(0), windows=WINDOWS)
        bulletin_id = bulletin.id
    progress = wait_done(db, bulletin_id)
    assert progress.sent == 3
    assert len(fake_zalo.uploads) == 1, "one upload for everyone"
    for user in users:
        got = fake_zalo.to(user)
        assert any(s.image in fake_zalo.uploads for s in got)
        assert any("🔊 https://loaban.example.org/media/" in s.text for s in got)
        assert any("Lịch tiêm phòng tháng 12." in s.text for s in got)


def test_an_unfollow_stops_bulletins(client: httpx.Client, fake_zalo: FakeZalo, db: Database) -> None:
    person = zalo_person(client, fake_zalo, db)
    onboard(person)
    person.deliver("unfollow")
    with db.transaction() as session:
        stored = people.get_by_urn(session, person.urn)
        assert stored is not None and not stored.subscribed


# --- one person, two apps -----------------------------------------------------------------------------------


def test_a_telegram_person_links_zalo_and_is_one_person(
    live: LiveServer, client: httpx.Client, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, db: Database
) -> None:
    on_telegram: Driver = TelegramDriver(client, fake_telegram, db, 6_600_001)
    onboard(on_telegram, language="en")
    on_telegram.tap("settings")
    offered = on_telegram.tap("link_me")
    code = next(word for r in offered for word in r.text.split() if word.startswith("LB-"))
    on_zalo = zalo_person(client, fake_zalo, db)
    linked = on_zalo.send(f"/link {code}")
    assert "Linked" in linked[0].text or "nối" in linked[0].text
    assert linked[-1].buttons == [("☰ Main menu", "menu")], "a way to the menu, in the person's own language"
    with db.transaction() as session:
        person = people.get_by_urn(session, on_zalo.urn)
        assert person is not None and person.language == "en" and person.commune_code == PHONG_THO
        assert sorted(people.urns_of(session, person)) == sorted([on_telegram.urn, on_zalo.urn])
        assert session.scalar(select(func.count()).select_from(Identity)) == 2
    again = on_zalo.send(f"/link {code}")
    assert "hết hạn" in again[0].text or "expired" in again[0].text, "a code works once"
    bulletin_id = text_bulletin(db, "Bulletin for both apps.")
    wait_done(db, bulletin_id)
    assert any("Bulletin for both apps." in s.text for s in fake_zalo.to(on_zalo.user_id)), (
        "where they wrote last"
    )
    assert not any(
        "Bulletin for both apps." in (c.params.get("text") or "") for c in fake_telegram.sent(6_600_001)
    )


def test_an_answer_to_someone_silent_too_long_waits_until_they_write_again(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    person = zalo_person(client, fake_zalo, db)
    onboard(person)
    file_reflection(person)
    person.tap("fb_done")
    person.tap("fb_send:named")
    person.tap("fb_phone:skip")
    ticket = ticket_of(db, person.urn)
    fake_zalo.age(person.user_id, hours=24 * 8)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/feedback/{ticket.id}")
    client.post(f"/admin/feedback/{ticket.id}/reply", data={"csrf_token": csrf(page), "text": "Đã sửa cầu."})
    fake_zalo.wait_until(lambda: (person.user_id, -230) in fake_zalo.refused)
    time.sleep(0.2)
    assert not any("Đã sửa cầu." in s.text for s in fake_zalo.to(person.user_id))
    with db.transaction() as session:
        kept = messages.held(session, person.urn)
        assert [m.text for m in kept if "Đã sửa cầu." in m.text], "kept in the outbox, not failed"
    replies = person.send("chào")
    assert "Đã sửa cầu." in replies[0].text, "the answer arrives first once the person writes again"
    with db.transaction() as session:
        assert messages.held(session, person.urn) == []


def test_a_prestigious_person_on_zalo_relays_a_bulletin(
    live: LiveServer, client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    elder = zalo_person(client, fake_zalo, db)
    onboard(elder)
    with db.transaction() as session:
        found = people.get_by_urn(session, elder.urn)
        assert found is not None
        people.set_role(session, found, PersonRole.prestigious)
    bulletin_id = text_bulletin(db, "Mai họp thôn bàn làm đường.")
    wait_done(db, bulletin_id)
    received = elder.screen()
    assert "Mai họp thôn bàn làm đường." in received.text
    bands = elder.tap(received.payload("Đã truyền đạt"))
    how = elder.tap(bands[-1].buttons[0][1])
    elder.tap(how[-1].buttons[0][1])
    with db.transaction() as session:
        relays = session.scalars(select(Relay).where(Relay.bulletin_id == bulletin_id)).all()
        assert len(relays) == 1 and relays[0].households


def test_processes_refreshing_at_once_use_the_refresh_token_once(
    database_url: str, fake_zalo: FakeZalo, settings: Settings
) -> None:
    import asyncio

    from bot.channels.zalo_api import Tokens

    databases = [Database(database_url) for _ in range(3)]  # three processes' connection pools

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(Tokens(d, settings).get() for d in databases)))

    try:
        tokens = asyncio.run(all_at_once())
    finally:
        for database in databases:
            database.dispose()
    assert fake_zalo.refreshes == 1, "the single-use refresh token was spent once"
    assert len(set(tokens)) == 1 and tokens[0] in fake_zalo.access_tokens


def test_officials_see_the_name_zalo_knows(client: httpx.Client, fake_zalo: FakeZalo, db: Database) -> None:
    person = zalo_person(client, fake_zalo, db)
    fake_zalo.follower(person.user_id)
    fake_zalo.people[person.user_id].name = "Giàng A Pó"
    onboard(person)
    fake_zalo.wait_until(lambda: bool(stored_name(db, person.urn)))
    assert stored_name(db, person.urn) == "Giàng A Pó"


def stored_name(db: Database, urn: str) -> str:
    """The name kept for a person."""
    with db.transaction() as session:
        found = people.get_by_urn(session, urn)
        return found.display_name if found is not None else ""


def test_the_dashboard_shows_who_can_be_reached_on_each_app(
    client: httpx.Client, fake_zalo: FakeZalo, db: Database
) -> None:
    follower(db, fake_zalo, hours_ago=1)
    follower(db, fake_zalo, hours_ago=60)
    follower(db, fake_zalo, hours_ago=24 * 9)
    add_person(db, "telegram:6600777", commune=PHONG_THO, province=LAI_CHAU)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get("/admin").text
    assert "gửi miễn phí ngay: 1 · bằng hạn mức: 1 · chờ họ nhắn lại: 1" in page
    assert "Chưa lấy mã truy cập Zalo" in page
    zalo_person(client, fake_zalo, db).send("/start")
    assert "Mã truy cập Zalo còn hạn đến" in client.get("/admin").text


def test_two_servers_given_the_same_event_at_once_answer_it_once(
    settings: Settings, fake_zalo: FakeZalo, db: Database
) -> None:
    servers = [LiveServer(create_app(settings)).start() for _ in range(2)]
    try:
        for round_no in range(5):
            user_id = f"88000{round_no}"
            raw, headers = fake_zalo.signed(fake_zalo.event("user_send_text", user_id, {"text": "/start"}))
            answers = post_together([s.url + "/webhooks/zalo" for s in servers], raw, headers)
            assert answers == [200, 200]
            fake_zalo.wait_until(lambda user_id=user_id: bool(fake_zalo.to(user_id)))
            time.sleep(0.3)
            assert len(fake_zalo.to(user_id)) == 1, "one greeting, whichever server took it"
            assert stored_count(db, f"zalo:{user_id}") == 1
    finally:
        for server in servers:
            server.stop()
    assert fake_zalo.refreshes == 1


def post_together(urls: list[str], raw: bytes, headers: dict[str, str]) -> list[int]:
    """POST the same body to several servers at the same instant; their status codes."""
    together = threading.Barrier(len(urls))
    answers: list[int] = []

    def post(url: str) -> None:
        together.wait()
        answers.append(httpx.post(url, content=raw, headers=headers).status_code)

    threads = [threading.Thread(target=post, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
