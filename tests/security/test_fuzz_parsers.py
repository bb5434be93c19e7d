"""Hostile input, generated: whatever bytes or JSON reach the parsers, the web chat, the Telegram and Zalo
webhooks or the Q&A import, the answer is a result or a clear refusal — never an unhandled exception or a
500. Each property runs a bounded number of examples (a few seconds)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels import zalo
from bot.channels.base import parse_json
from bot.channels.web import parse_inbound
from bot.content import ContentError, knowledge_rows
from bot.conversation.types import Inbound
from bot.db import Database
from bot.qa import service as qa
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import zalo_api
from tests.fakes.zalo_api import FakeZalo

FAST = settings(max_examples=150, deadline=None)
# Every example over HTTP goes through the whole conversation: fewer of them, with the live server reused.
LIVE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON as it travels (no NaN or infinity: an HTTP client cannot send them; parse_json meets them as bytes).
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
scalars |= st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)


def shaped(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the keys a parser looks for, holding anything at all, and a few keys of their own."""
    known = st.fixed_dictionaries({}, optional={k: json_values for k in keys})
    return st.tuples(known, st.dictionaries(st.text(max_size=8), json_values, max_size=2)).map(
        lambda pair: pair[1] | pair[0]
    )


@FAST
@given(st.binary(max_size=400) | st.integers(1, 60_000).map(lambda n: b"[" * n) | st.text().map(str.encode))
def test_parse_json_returns_or_refuses_with_value_error(raw: bytes) -> None:
    try:
        parsed = parse_json(raw)
    except ValueError:
        return  # refused as malformed: the routes answer 400
    assert isinstance(parsed, dict | list | str | int | float | bool | None)
    assert json.dumps(parsed, ensure_ascii=False).encode("utf-8"), "storable as it is"


@FAST
@given(json_values | shaped(["session", "text", "button", "location", "id"]))
def test_a_web_chat_message_is_read_or_refused_with_a_reason(body: Any) -> None:
    read = parse_inbound(body)
    assert isinstance(read, Inbound | str)


MESSAGE = shaped(["msg_id", "text", "attachments"])


@FAST
@given(
    shaped(["sender", "follower", "timestamp"]).flatmap(
        lambda e: st.tuples(
            st.sampled_from([*zalo.MEDIA_EVENTS, "user_send_text", "user_send_location", "follow", "x"]),
            MESSAGE | json_values,
        ).map(lambda pair: e | {"event_name": pair[0], "message": pair[1]})
    )
)
def test_a_zalo_event_is_read_or_ignored(event: dict[str, Any]) -> None:
    read = zalo.to_inbound(event)
    assert read is None or isinstance(read, Inbound)


@FAST
@given(st.binary(max_size=300), st.sampled_from(["hoi-dap.yaml", "hoi-dap.xlsx"]))
def test_a_qa_file_is_read_or_refused_with_a_reason(data: bytes, name: str) -> None:
    try:
        rows, first_line = knowledge_rows(name, data)
    except ContentError:
        return  # the official reads "Không đọc được tệp (…)"
    assert isinstance(rows, list) and first_line in (1, 2)


ROWS = st.lists(
    json_values
    | shaped(["id", "question", "answer", "questions", "communes", "language", "tags", "category"]),
    max_size=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS)
def test_imported_qa_rows_are_kept_or_reported_never_a_crash(db: Database, rows: list[Any]) -> None:
    with db.sessions() as session:
        report = qa.import_rows(session, rows, skip_bad=True)
        session.flush()
        session.rollback()
    assert report.created + report.updated + len(report.errors) <= len(rows)


@LIVE
@given(json_values | shaped(["session", "text", "button", "location", "id"]))
def test_the_web_chat_answers_any_json_without_a_500(client: httpx.Client, body: Any) -> None:
    answer = client.post("/chat/api/messages", json=body)
    assert answer.status_code in (200, 400, 413, 422), answer.text


UPDATES = shaped(["update_id", "message", "callback_query", "my_chat_member", "edited_message"])


@LIVE
@given(
    UPDATES
    | st.fixed_dictionaries(
        {
            "update_id": st.integers(1, 2**31),
            "message": shaped(["message_id", "date", "chat", "from", "text", "photo", "voice", "location"]),
        }
    )
)
def test_the_telegram_webhook_answers_any_update_without_a_500(
    client: httpx.Client, update: dict[str, Any]
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    answer = client.post("/webhooks/telegram", json=update, headers=headers)
    assert answer.status_code in (200, 400), answer.text


@LIVE
@given(
    shaped(["sender", "follower", "message"]).flatmap(
        lambda e: st.sampled_from(
            ["user_send_text", "user_send_image", "user_send_location", "follow", "x"]
        ).map(lambda name: e | {"event_name": name})
    )
)
def test_the_zalo_webhook_answers_any_signed_event_without_a_500(
    client: httpx.Client, fake_zalo: FakeZalo, event: dict[str, Any]
) -> None:
    full = {"app_id": zalo_api.APP_ID, "timestamp": "1733000000000", **event}
    raw, headers = FakeZalo.signed(full)
    answer = client.post("/webhooks/zalo", content=raw, headers=headers)
    assert answer.status_code in (200, 400), answer.text
