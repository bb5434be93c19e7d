"""Bodies larger than their door's limit are refused with 413 while they stream in: never read whole
into memory before authentication, never written to disk."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.config import Settings
from bot.db import Database
from tests.test_admin import csrf, login, make_admin


def chunks(total: int, size: int = 1_000_000) -> Iterator[bytes]:
    """A body sent in pieces with no Content-Length (chunked), as an attacker's client may."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"[" * piece


@pytest.mark.parametrize("path", ["/chat/api/messages", "/webhooks/zalo", "/webhooks/telegram"])
def test_a_huge_post_is_refused_by_its_declared_length(client: httpx.Client, path: str) -> None:
    answered = client.post(path, content=b"x" * 3_000_000, headers={"Content-Type": "application/json"})
    assert answered.status_code == 413


def test_a_huge_chunked_post_is_refused_while_it_streams(client: httpx.Client) -> None:
    answered = client.post(
        "/chat/api/messages", content=chunks(50_000_000), headers={"Content-Type": "application/json"}
    )
    assert answered.status_code == 413


def test_a_huge_upload_is_refused_before_it_reaches_the_disk(
    client: httpx.Client, settings: Settings
) -> None:
    limit = settings.max_upload_mb * 1_000_000
    before = sorted(p.name for p in settings.media_dir.rglob("*")) if settings.media_dir.exists() else []
    answered = client.post(
        "/chat/api/files",
        data={"session": "s" * 20, "id": "f1"},
        files={"file": ("big.jpg", b"\xff" * (3 * limit), "image/jpeg")},
    )
    assert answered.status_code == 413
    after = sorted(p.name for p in settings.media_dir.rglob("*")) if settings.media_dir.exists() else []
    assert after == before, "nothing of it was kept"


def test_the_login_and_ordinary_admin_forms_take_no_large_body(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    token = csrf(client.get("/admin/login"))
    big = {"username": "tinh", "password": "x" * 3_000_000, "csrf_token": token}
    assert client.post("/admin/login", data=big).status_code == 413, "before the password is even checked"
    login(client, "tinh")
    village = {"commune_code": "3549", "name": "x" * 3_000_000, "csrf_token": token}
    assert client.post("/admin/villages", data=village).status_code == 413


def test_a_form_that_takes_files_still_takes_a_recording(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    token = csrf(client.get("/admin/bulletins/new"))
    recording = {"audio_vi": ("loa.mp3", b"\xff\xfb" + bytes(3_000_000), "audio/mpeg")}
    answer = client.post("/admin/bulletins/new", data={"csrf_token": token}, files=recording)
    assert answer.status_code != 413


@pytest.mark.parametrize("path", ["/admin/bulletins/new", "/admin/feedback/1/reply", "/admin/villages"])
def test_a_post_without_a_signed_in_session_is_refused_before_its_form_is_read(
    client: httpx.Client, path: str
) -> None:
    client.get("/admin/login")  # a session with a CSRF token, but nobody signed in
    unreadable = {"Content-Type": "multipart/form-data"}  # no boundary: reading it would fail with 400
    answer = client.post(path, content=b"--x\r\n" + bytes(500_000), headers=unreadable)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"
