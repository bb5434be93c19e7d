"""Schemathesis against the app's own OpenAPI schema for the JSON routes (the web chat's API), over real
HTTP: whatever the schema allows a client to send, the server never answers with a 5xx. Bounded to a few
dozen examples per operation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.fakes.server import LiveServer


def test_the_chat_api_never_answers_with_a_server_error(live: LiveServer) -> None:
    # Loaded by hand, not by schemathesis' pytest plugin: its lazy fixtures do not work with this pytest.
    loaded = schemathesis.openapi.from_url(f"{live.url}/openapi.json").include(path_regex="^/chat/api/")
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert {(o.method.upper(), o.path) for o in operations} >= {
        ("GET", "/chat/api/messages"),
        ("POST", "/chat/api/messages"),
        ("POST", "/chat/api/files"),
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers(case: schemathesis.Case) -> None:
            response = case.call_and_validate(checks=[not_a_server_error])
            assert response.status_code < 500, (case.path, response.text)

        answers()
