"""Logs: at every level, debug included, the process logs no message text, phone number, token or
secret, over Telegram, Zalo and the web chat; one line at a time loses phone numbers and the bearer parts
of links."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot import logs
from bot.config import Settings
from bot.db import Database
from bot.privacy.models import Export
from tests.conftest import TG_TOKEN, WEBHOOK_SECRET
from tests.drivers import WebDriver, on_channel, onboard
from tests.factories import PNG
from tests.fakes import zalo_api
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_privacy import PHONE, QUESTION, REFLECTION, file_reflection, my_data_file, settings

__all__ = ["settings"]  # the deployment fixture shared with tests/test_privacy.py
_chat_ids = itertools.count(9_600_001)


@pytest.fixture
def debug_settings(settings: Settings) -> Settings:
    """The deployment at LOABAN_LOG_LEVEL=debug."""
    return settings.model_copy(update={"log_level": "debug"})


@pytest.fixture
def captured_logs(debug_settings: Settings) -> Iterator[io.StringIO]:
    """Everything the process logs, through Loa Bản's own logging set-up (as `loaban serve` does)."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = logs.configure(debug_settings, buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "web"])
def test_logs_at_debug_hold_no_text_phone_token_or_secret(
    channel: str,
    captured_logs: io.StringIO,
    debug_settings: Settings,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
) -> None:
    from bot.server import create_app

    settings = debug_settings
    server = LiveServer(create_app(settings), log_config=None, log_level="debug").start()
    try:
        with httpx.Client(base_url=server.url, timeout=20) as client:
            person = on_channel(channel, client, fake_telegram, db, next(_chat_ids), fake_zalo)
            onboard(person)
            person.send(QUESTION)
            person.tap("qa_send")
            file_reflection(person, (PNG, "photo", "image/png"))
            my_data_file(person, client, fake_telegram)
    finally:
        server.stop()
    with db.transaction() as session:
        tokens = list(session.scalars(select(Export.token)))
    out = captured_logs.getvalue()
    assert "Calling Bot API endpoint `setWebhook` with parameters `[…]`" in out, "debug on, payloads off"
    assert "HTTP Request: POST" in out and "[…]" in out
    secrets = [
        TG_TOKEN,
        TG_TOKEN.split(":", 1)[1],
        WEBHOOK_SECRET,
        zalo_api.APP_SECRET,
        zalo_api.OA_SECRET,
        zalo_api.FIRST_REFRESH_TOKEN,
        *fake_zalo.access_tokens,
        fake_zalo.refresh_token,
        settings.secret_key,
        *tokens,
    ]
    said = [QUESTION, REFLECTION, PHONE, PHONE.replace(" ", ""), "Nậm Xe", "A Páo"]
    for leak in [*secrets, *said, *([person.session] if isinstance(person, WebDriver) else [])]:
        assert leak not in out, f"{leak!r} in the logs"


P = "[số điện thoại]"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("gọi 0912 345 678, +84912345678 hay 0213.3876.543", f"gọi {P}, {P} hay {P}"),
        ("GET /privacy/export/AbC_12-xyz?session=0123456789abcdef01", "GET /privacy/export/[…]?session=[…]"),
        ("send to web:0123456789abcdef0123 failed", "send to web:[…] failed"),
        (
            '1.2.3.4:5 - "GET /chat/api/media/7?token=Ab_c-12XyZ0123456789 HTTP/1.1" 200',
            '1.2.3.4:5 - "GET /chat/api/media/7?token=[…] HTTP/1.1" 200',
        ),
        (
            "GET /media/0a1b.ogg?expires=1765000000&sig=9f8e7d6c5b4a",
            "GET /media/0a1b.ogg?expires=1765000000&sig=[…]",
        ),
        ("update 100234 of chat 9300001 at 1764700000", "update 100234 of chat 9300001 at 1764700000"),
    ],
)
def test_a_log_line_loses_phone_numbers_and_bearer_parts(line: str, kept: str) -> None:
    assert logs.scrub(line) == kept
