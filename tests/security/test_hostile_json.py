"""Hostile JSON and strings on every door from the Internet get a clear 4xx, never a 500 with a traceback:
deep nesting, lone surrogates, numbers too big for a database, session ids with a newline."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from bot.channels.base import parse_json
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import zalo_api

SESSION = "s" * 20 + "-hostile"
TG_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "raw", [b"[" * 20_000, b'{"a":' * 20_000, b'"\\ud800"', b'{"text": "\\udfff"}', b"\xff\xfe", b"{not json"]
)
def test_the_parser_refuses_what_no_handler_could_store(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(raw)


def test_the_web_chat_refuses_hostile_bodies_with_a_clear_error(client: httpx.Client) -> None:
    deep = client.post(
        "/chat/api/messages", content=b"[" * 20_000, headers={"Content-Type": "application/json"}
    )
    assert deep.status_code == 400 and "JSON" in deep.json()["error"]
    for field in ("text", "button"):
        body = f'{{"session": "{SESSION}", "{field}": "a\\ud800b"}}'.encode()
        lone = client.post("/chat/api/messages", content=body, headers={"Content-Type": "application/json"})
        assert lone.status_code == 400, (field, lone.text)
    newline = client.post("/chat/api/messages", json={"session": SESSION + "\n", "text": "chào"})
    assert newline.status_code == 422
    assert client.get("/chat/api/messages", params={"session": SESSION + "\n"}).status_code == 422
    issued = client.post("/chat/api/sessions").json()["session"]
    assert client.get("/chat/api/messages", params={"session": issued, "after": 10**30}).status_code == 422
    assert client.get("/chat/api/messages", params={"session": issued, "after": 5}).status_code == 200


def test_the_telegram_webhook_refuses_nested_and_broken_updates(client: httpx.Client) -> None:
    for raw in (b"[" * 20_000, b'{"update_id": 1, "message": ' * 5_000, b'{"update_id": "\\ud800"}'):
        answered = client.post("/webhooks/telegram", content=raw, headers=TG_HEADERS)
        assert answered.status_code == 400, answered.text


def test_the_zalo_webhook_checks_the_signature_before_parsing(client: httpx.Client) -> None:
    deep = b"[" * 50_000
    assert (
        client.post("/webhooks/zalo", content=deep, headers={"X-ZEvent-Signature": "mac=0"}).status_code
        == 401
    )
    # Even a correctly signed body that is not an event is refused plainly.
    stamp = "1700000000000"
    raw = (
        b'{"app_id": "'
        + zalo_api.APP_ID.encode()
        + b'", "timestamp": "'
        + stamp.encode()
        + b'", "x": '
        + b"[" * 50_000
    )
    mac = hashlib.sha256(
        zalo_api.APP_ID.encode() + raw + stamp.encode() + zalo_api.OA_SECRET.encode()
    ).hexdigest()
    signed = client.post("/webhooks/zalo", content=raw, headers={"X-ZEvent-Signature": f"mac={mac}"})
    assert signed.status_code == 400
