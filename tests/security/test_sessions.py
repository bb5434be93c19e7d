"""Admin sessions can be ended: after logout, a password change, a role change or a deactivation, a copy
of the old cookie no longer opens anything."""

from __future__ import annotations

import httpx

from bot.accounts.models import AdminUser, Role
from bot.db import Database
from tests.test_admin import PASSWORD, csrf, login, make_admin

PHONG_THO = 3549


def copy_of(client: httpx.Client) -> httpx.Client:
    """Another browser holding a stolen copy of the cookie."""
    thief = httpx.Client(base_url=str(client.base_url))
    thief.cookies.update(client.cookies)
    return thief


def opens_admin(client: httpx.Client) -> bool:
    """Whether a cookie still opens the admin."""
    return client.get("/admin").status_code == 200


def test_logout_ends_the_cookie_everywhere(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    with copy_of(client) as thief:
        assert opens_admin(thief)
        client.post("/admin/logout", data={"csrf_token": csrf(client.get("/admin"))})
        assert not opens_admin(thief)


def test_a_password_change_ends_other_sessions_but_not_this_one(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    with copy_of(client) as thief:
        page = client.get("/admin/password")
        changed = client.post(
            "/admin/password",
            data={
                "current": PASSWORD,
                "new": "a-new-long-password-2026",
                "repeat": "a-new-long-password-2026",
                "csrf_token": csrf(page),
            },
        )
        assert changed.status_code == 303
        assert opens_admin(client) and not opens_admin(thief)


def test_a_role_change_or_deactivation_ends_the_accounts_sessions(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    make_admin(db, "canbo", Role.commune_officer, (PHONG_THO,))
    with httpx.Client(base_url=str(client.base_url)) as officer:
        login(officer, "canbo")
        assert opens_admin(officer)
        login(client, "tinh")
        with db.transaction() as session:
            target = session.query(AdminUser).filter_by(username="canbo").one()
        form = client.get(f"/admin/admins/{target.id}")
        client.post(
            f"/admin/admins/{target.id}",
            data={"role": "viewer", "communes": str(PHONG_THO), "active": "true", "csrf_token": csrf(form)},
        )
        assert not opens_admin(officer), "a role change ends the old session"
        login(officer, "canbo")
        assert opens_admin(officer)
        client.post(f"/admin/admins/{target.id}", data={"role": "viewer", "csrf_token": csrf(form)})
        assert not opens_admin(officer), "a deactivated account is out at once"
