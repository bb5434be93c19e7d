"""The web chat's JSON protocol: errors a portal can show, polling for later replies, the page itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.db import Database
from bot.messages import service as messages
from bot.people import service as people
from tests.drivers import WebDriver, onboard


def test_page_is_small_and_self_contained(client: httpx.Client) -> None:
    page = client.get("/chat")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Gõ tin nhắn…" in page.text
    assert "https://" not in page.text, "no CDN or third-party code at run time"
    assert len(page.content) < 12_000, "fits a slow link"


def test_the_file_and_location_buttons_are_named_in_words(client: httpx.Client) -> None:
    page = client.get("/chat").text  # without an emoji font 📎 and 📍 alone are blank boxes
    assert 'title="Gửi ảnh, ghi âm">📎 Tệp</button>' in page
    assert 'title="Gửi vị trí">📍 Vị trí</button>' in page


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{oops", 400, "JSON hợp lệ"),
        (b'"just a string"', 422, "đối tượng JSON"),
        (b'{"session": "short", "text": "hi"}', 422, "session"),
        (b'{"session": "SESSION", "text": "hi", "button": "menu"}', 422, "đúng một"),
        (b'{"session": "SESSION", "text": 42}', 422, "'text'"),
        (b'{"session": "SESSION", "button": "' + b"x" * 80 + b'"}', 422, "64 byte"),
        (b'{"session": "SESSION", "text": "' + b"a" * 70_000 + b'"}', 413, "quá lớn"),
    ],
)
def test_bad_requests_get_a_clear_vietnamese_error(
    client: httpx.Client, body: bytes, status: int, fragment: str
) -> None:
    issued = client.post("/chat/api/sessions").json()["session"].encode()
    body = body.replace(b"SESSION", issued)
    response = client.post("/chat/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert fragment in response.json()["error"]


def test_retried_post_with_the_same_id_is_handled_once(client: httpx.Client, db: Database) -> None:
    session = client.post("/chat/api/sessions").json()["session"]
    body = {"session": session, "text": "/start", "id": "m1"}
    first = client.post("/chat/api/messages", json=body).json()
    second = client.post("/chat/api/messages", json=body).json()
    assert len(first["replies"]) == 1 and not first["duplicate"]
    assert second == {"replies": [], "duplicate": True}


def test_later_replies_are_fetched_after_a_cursor(client: httpx.Client, db: Database) -> None:
    person = WebDriver(client)
    onboard(person)
    cursor = client.get("/chat/api/messages", params={"session": person.session}).json()["replies"][-1]["id"]
    with db.transaction() as session:
        found = people.get_by_urn(session, person.urn)
        assert found is not None
        messages.record_outbound(
            session,
            person_id=found.id,
            urn=person.urn,
            kind="text",
            text="Bản tin: họp thôn tối nay",
            payload={},
        )
    later = client.get("/chat/api/messages", params={"session": person.session, "after": cursor}).json()
    assert [r["text"] for r in later["replies"]] == ["Bản tin: họp thôn tối nay"]
    assert later["replies"][0]["buttons"] == [] and later["replies"][0]["audio_url"] is None


def test_the_chat_is_served_compressed_with_its_own_icon(client: httpx.Client) -> None:
    for path in ("/chat", "/static/chat/chat.js", "/admin/login"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers.get("content-encoding") == "gzip", path
        assert int(response.headers["content-length"]) < len(response.content), "smaller on the wire"
    plain = client.get("/chat", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and "Gõ tin nhắn…" in plain.text
    for path in ("/chat", "/admin/login"):
        assert '<link rel="icon" href="/favicon.svg"' in client.get(path).text
    for path in ("/favicon.svg", "/favicon.ico"):
        icon = client.get(path)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")


def history(client: httpx.Client, person: WebDriver) -> dict[str, Any]:
    """What a reloaded page receives."""
    response = client.get("/chat/api/history", headers={"X-Loaban-Session": person.session})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_history_restores_both_sides_in_order_without_the_start_command(
    client: httpx.Client, db: Database
) -> None:
    person = WebDriver(client)
    onboard(person)
    settings = person.tap(person.screen().payload("Cài đặt"))
    person.send("cho tôi hỏi lịch họp thôn")
    restored = history(client, person)["messages"]
    mine = [m["text"] for m in restored if m["from"] == "me"]
    assert mine[-3:] == ["✅ Tôi đồng ý", "⚙️ Cài đặt", "cho tôi hỏi lịch họp thôn"]
    assert "/start" not in mine, "the page's own /start is not shown as if the person typed it"
    assert [m["id"] for m in restored] == sorted(m["id"] for m in restored)
    bots = [m["text"] for m in restored if m["from"] == "bot"]
    assert settings[-1].text in bots and bots[-1] == person.screen().text
    assert restored[-1]["from"] == "bot" and restored[-1]["id"] == history(client, person)["cursor"]


def test_history_keeps_the_newest_messages_when_there_are_many(client: httpx.Client, db: Database) -> None:
    person = WebDriver(client)
    onboard(person)
    for n in range(40):
        person.send(f"tin nhắn số {n}")
    restored = history(client, person)["messages"]
    mine = [m["text"] for m in restored if m["from"] == "me"]
    assert len(restored) <= 50 and mine[-1] == "tin nhắn số 39" and "tin nhắn số 0" not in mine
    assert restored[-1]["from"] == "bot"


def test_health(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_history_shows_a_tap_on_an_older_message_and_what_a_file_was() -> None:
    """A 👍 under an answer is tapped after the 'you may also ask' message that followed it; a photo and a
    recording come back as what they were, not as one paper clip."""
    from bot.channels.web import shown
    from bot.conversation.types import Button, Reply
    from bot.messages.models import Direction, Message

    def bot(n: int, text: str, *buttons: Button) -> Message:
        return Message(
            id=n,
            direction=Direction.outbound,
            kind="text",
            text=text,
            payload=Reply(text, list(buttons)).to_payload(),
        )

    def me(n: int, kind: str, text: str) -> Message:
        return Message(id=n, direction=Direction.inbound, kind=kind, text=text, payload={})

    rows = [
        bot(1, "❓ Bạn hỏi: …", Button("👍", "qa_up:x"), Button("👎", "qa_down:x")),
        bot(2, "Có thể bạn cũng muốn hỏi:", Button("Câu khác", "qa:y"), Button("☰ Menu chính", "menu")),
        me(3, "button", "qa_up:x"),
        me(4, "media", "photo"),
        me(5, "media", "voice"),
        me(6, "media", "document"),
        bot(7, "Cảm ơn bạn!"),
    ]
    assert [m["text"] for m in shown(rows) if m["from"] == "me"] == ["👍", "🖼", "🎤", "📎"]
