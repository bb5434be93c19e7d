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


def test_poll_refuses_a_bad_session(client: httpx.Client) -> None:
    assert client.get("/chat/api/messages", params={"session": "x"}).status_code == 422


def test_only_a_session_the_server_issued_is_accepted(client: httpx.Client, db: Database) -> None:
    """Nobody can pick a trivial id and read the replies of whoever else picked it (issue 14, item 12)."""
    issued = {client.post("/chat/api/sessions").json()["session"] for _ in range(3)}
    assert len(issued) == 3 and all(len(s) == 42 for s in issued)
    mine = sorted(issued)[0]
    forged = mine[:22] + ("A" if mine[22] != "A" else "B") + mine[23:]
    for session, status in [
        ("aaaaaaaaaaaaaaaa", 422),
        ("a" * 42, 403),
        (forged, 403),
        ("0123456789abcdef" * 2, 403),  # shaped like an older page's id, but nobody has it
    ]:
        posted = client.post("/chat/api/messages", json={"session": session, "text": "/start"})
        assert posted.status_code == status, (session, posted.text)
        assert "session" in posted.json()["error"] or "Phiên" in posted.json()["error"]
        polled = client.get("/chat/api/messages", headers={"X-Loaban-Session": session})
        assert polled.status_code == status
        assert client.get("/chat/api/history", params={"session": session}).status_code == status
        filed = client.post("/chat/api/files", data={"session": session}, files={"file": ("a.txt", b"x")})
        assert filed.status_code == status
    answered = client.post("/chat/api/messages", json={"session": mine, "text": "/start"})
    assert answered.status_code == 200 and "Xin chào" in answered.json()["replies"][0]["text"]
    polled = client.get("/chat/api/messages", headers={"X-Loaban-Session": mine})
    assert (
        polled.status_code == 200 and polled.json()["replies"][0]["id"] == answered.json()["replies"][0]["id"]
    )


def test_an_older_page_session_of_a_known_person_still_works(client: httpx.Client, db: Database) -> None:
    legacy = "0123456789abcdef" * 2
    with db.transaction() as session:
        people.get_or_create_by_urn(session, f"web:{legacy}")
    assert client.get("/chat/api/messages", params={"session": legacy}).status_code == 200
    answered = client.post("/chat/api/messages", json={"session": legacy, "text": "/start"})
    assert answered.status_code == 200 and answered.json()["replies"]


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
