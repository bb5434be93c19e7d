"""Login guessing is slowed per (account, address) and per address with a growing delay; an attacker can
no longer keep an official locked out, since the right password from the official's own address works."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from bot.db import Database
from bot.server import create_app
from tests.conftest import make_settings
from tests.fakes.server import LiveServer
from tests.test_admin import PASSWORD, csrf, make_admin

ATTACKER, OFFICIAL = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def behind_proxy(database_url: str) -> Iterator[str]:
    """Loa Bản behind a reverse proxy on loopback, so each test request can say which address it is from."""
    live = LiveServer(create_app(make_settings(database_url, trusted_proxies=["127.0.0.1"]))).start()
    yield live.url
    live.stop()


def attempt(url: str, address: str, password: str, username: str = "tinh") -> httpx.Response:
    """One login through the form from an address."""
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": address}) as browser:
        token = csrf(browser.get("/admin/login"))
        return browser.post(
            "/admin/login", data={"username": username, "password": password, "csrf_token": token}
        )


def test_guessing_does_not_lock_the_official_out(behind_proxy: str, db: Database) -> None:
    make_admin(db, "tinh")
    for _ in range(5):
        assert attempt(behind_proxy, ATTACKER, "guess").status_code == 401
    assert attempt(behind_proxy, ATTACKER, "guess").status_code == 429, "the guesser is slowed"
    assert attempt(behind_proxy, OFFICIAL, PASSWORD).status_code == 303, "the official is not locked out"


def test_each_failure_makes_the_guesser_wait_longer(behind_proxy: str, db: Database) -> None:
    make_admin(db, "tinh")
    waits = []
    for _ in range(5):
        attempt(behind_proxy, ATTACKER, "guess")
    for _ in range(3):
        slowed = attempt(behind_proxy, ATTACKER, "guess")
        assert slowed.status_code == 429
        wait = int(slowed.headers["retry-after"])
        waits.append(wait)
        time.sleep(wait + 0.1)
        assert attempt(behind_proxy, ATTACKER, "guess").status_code == 401, "after the wait, one more try"
    assert waits == sorted(waits) and waits[-1] > waits[0], waits
    assert re.search(r"Hãy đợi \d+ giây", slowed.text)


def test_one_address_guessing_many_accounts_is_slowed_too(behind_proxy: str, db: Database) -> None:
    for n in range(20):
        assert attempt(behind_proxy, ATTACKER, "guess", username=f"user{n}").status_code == 401
    assert attempt(behind_proxy, ATTACKER, "guess", username="someone-else").status_code == 429
