"""Web chat sessions (issue 14, item 12): the id is the only key to a person's replies, so the server
issues it (128 random bits and a signature) and refuses ids it did not issue, malformed ones first."""

from __future__ import annotations

import httpx

from bot.db import Database
from bot.people import service as people


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
