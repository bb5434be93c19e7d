"""The web chat's JSON protocol: errors a portal can show, polling for later replies, the page itself."""

from __future__ import annotations

import uuid

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


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{oops", 400, "JSON hợp lệ"),
        (b'"just a string"', 422, "đối tượng JSON"),
        (b'{"session": "short", "text": "hi"}', 422, "session"),
        (b'{"session": "abcdefghijklmnopqrstu", "text": "hi", "button": "menu"}', 422, "đúng một"),
        (b'{"session": "abcdefghijklmnopqrstu", "text": 42}', 422, "'text'"),
        (b'{"session": "abcdefghijklmnopqrstu", "button": "' + b"x" * 80 + b'"}', 422, "64 byte"),
        (b'{"session": "abcdefghijklmnopqrstu", "text": "' + b"a" * 70_000 + b'"}', 413, "quá lớn"),
    ],
)
def test_bad_requests_get_a_clear_vietnamese_error(
    client: httpx.Client, body: bytes, status: int, fragment: str
) -> None:
    response = client.post("/chat/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert fragment in response.json()["error"]


def test_retried_post_with_the_same_id_is_handled_once(client: httpx.Client, db: Database) -> None:
    session = uuid.uuid4().hex
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


def test_poll_refuses_a_bad_session(client: httpx.Client) -> None:
    assert client.get("/chat/api/messages", params={"session": "x"}).status_code == 422


def test_health(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
