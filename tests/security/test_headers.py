"""Headers and addresses: every response says what a browser must not do with it, the admin cookie is
Secure behind HTTPS, a redirect never names the host the caller claimed, and X-Forwarded-For is believed
only from the configured proxies."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.accounts.models import AuditEntry
from bot.db import Database
from bot.server import create_app
from tests.conftest import make_settings
from tests.fakes.server import LiveServer
from tests.test_admin import csrf, make_admin


def test_every_response_carries_the_security_headers(client: httpx.Client) -> None:
    for path in ("/chat", "/admin/login", "/healthz", "/static/admin/admin.css", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path


def test_a_redirect_never_names_the_host_the_caller_claimed(client: httpx.Client) -> None:
    answer = client.get("/admin/people/", headers={"Host": "evil.example"})
    assert answer.status_code == 307 and answer.headers["location"] == "/admin/people"
    assert "evil.example" not in answer.headers["location"]


def test_the_admin_cookie_is_secure_whenever_the_public_url_is_https(database_url: str, db: Database) -> None:
    make_admin(db, "tinh")
    settings = make_settings(
        database_url, public_url="https://loaban.example.org", admin_session_https_only=None
    )
    live = LiveServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=live.url) as browser:
            cookie = browser.get("/admin/login").headers[
                "set-cookie"
            ]  # the session that holds the CSRF token
            assert "loaban_admin=" in cookie and "secure" in cookie.lower()
    finally:
        live.stop()


def forged_login(url: str, trusted: bool) -> None:
    """A failed login sent with a forged X-Forwarded-For."""
    with httpx.Client(base_url=url) as browser:
        token = csrf(browser.get("/admin/login"))
        browser.post(
            "/admin/login",
            data={"username": "tinh", "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": "203.0.113.7" if not trusted else "198.51.100.9"},
        )


def test_x_forwarded_for_is_believed_only_from_configured_proxies(database_url: str, db: Database) -> None:
    make_admin(db, "tinh")
    for proxies, sent, logged in (
        ([], "203.0.113.7", "127.0.0.1"),
        (["127.0.0.1"], "198.51.100.9", "198.51.100.9"),
    ):
        live = LiveServer(create_app(make_settings(database_url, trusted_proxies=proxies))).start()
        try:
            forged_login(live.url, trusted=bool(proxies))
        finally:
            live.stop()
        with db.transaction() as session:
            ips = session.scalars(select(AuditEntry.ip).where(AuditEntry.action == "login_failed")).all()
        assert ips[-1] == logged, (proxies, sent, ips)
