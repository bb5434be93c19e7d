"""Bodies larger than their door's limit are refused with 413 while they stream in: never read whole
into memory before authentication, never written to disk."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.config import Settings


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
