"""One-time codes cannot be guessed: invite (UT-) and link (LB-, LK-) codes are ten characters read out in
two groups, an invite lasts three days, and a chat that types wrong codes is slowed (told for how many
minutes) while the right code still works for everyone else; each burst is logged, never with a code."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.codes import ADDRESS_ALLOWED, CHAT_ALLOWED
from bot.db import Database, utcnow
from bot.people import service as people
from bot.people.models import Invite, PersonRole
from tests.drivers import WebDriver, onboard
from tests.test_admin import PHONG_THO, csrf, login, make_admin

SLOWED = re.compile(r"Bạn đã nhập sai mã quá nhiều lần, hãy thử lại sau (\d+) phút")
CODE = re.compile(r"^(UT|LB|LK)-[ACDEFHJKMNPQRTUVWXY3479]{5}-[ACDEFHJKMNPQRTUVWXY3479]{5}$")


def invite(db: Database) -> str:
    """An invite code for a prestigious person of Phong Thổ."""
    with db.transaction() as session:
        return people.create_invite(session, commune_code=PHONG_THO, created_by=None).code


def at_invite_step(client: httpx.Client) -> WebDriver:
    """A web chat person at 'enter the invite code'."""
    person = WebDriver(client)
    onboard(person)
    person.tap("settings")
    person.tap("invite")
    return person


def role_of(db: Database, person: WebDriver) -> PersonRole:
    """The person's role as stored."""
    with db.transaction() as session:
        found = people.get_by_urn(session, person.urn)
        assert found is not None
        return found.role


def test_wrong_invite_codes_from_one_person_are_slowed_and_the_right_one_still_works_for_another(
    client: httpx.Client, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    code = invite(db)
    guesser = at_invite_step(client)
    guesses = ["UT-AAAAA-AAAAA", "UT-CCCCC-CCCCC", "UT-DDDDD-DDDDD", "UT-EEEEE-EEEEE", "UT-FFFFF-FFFFF"]
    with caplog.at_level(logging.WARNING):
        for guess in guesses[:CHAT_ALLOWED]:
            assert "Mã không đúng" in guesser.send(guess)[0].text
        slowed = guesser.send("UT-HHHHH-HHHHH")[0].text
    wait = SLOWED.search(slowed)
    assert wait is not None and int(wait.group(1)) >= 1, slowed
    assert SLOWED.search(guesser.send(code)[0].text), "while slowed, no code is even checked"
    assert role_of(db, guesser) == PersonRole.villager

    elder = at_invite_step(client)
    assert "người có uy tín" in elder.send(code.lower().replace("-", " "))[0].text
    assert role_of(db, elder) == PersonRole.prestigious

    bursts = [r for r in caplog.records if r.name == "bot.codes" and r.levelno == logging.WARNING]
    assert len(bursts) == 1, "the burst is logged once"
    logged = bursts[0].getMessage()
    assert "UT" in logged and not any(g in logged for g in [*guesses, code, "HHHHH", guesser.session])


def test_wrong_link_codes_are_slowed_too(client: httpx.Client, db: Database) -> None:
    person = WebDriver(client)
    onboard(person)
    for n in range(CHAT_ALLOWED):
        assert "Mã liên kết không đúng" in person.send(f"/link LB-AAAAA-AAAA{'ACDEF'[n]}")[0].text
    assert SLOWED.search(person.send("/link LB-CCCCC-CCCCC")[0].text)
    official_guess = WebDriver(client)
    for n in range(CHAT_ALLOWED):
        assert "Mã liên kết không đúng" in official_guess.send(f"/link LK-AAAAA-AAAA{'ACDEF'[n]}")[0].text
    assert SLOWED.search(official_guess.send("/link LK-CCCCC-CCCCC")[0].text)


def test_codes_are_long_and_an_invite_lasts_three_days(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    made = client.post(
        "/admin/prestigious/invites",
        data={"csrf_token": csrf(client.get("/admin/prestigious")), "commune": str(PHONG_THO)},
    )
    shown = client.get(made.headers["location"]).text
    assert "hạn 3 ngày" in shown
    with db.transaction() as session:
        stored = session.scalars(select(Invite)).one()
        assert CODE.match(stored.code), stored.code
        assert stored.code in shown
        assert stored.expires_at - utcnow() <= timedelta(hours=72)
    person = WebDriver(client)
    onboard(person)
    person.tap("settings")
    offered = person.tap("link_me")
    link = next(word for r in offered for word in r.text.split() if word.startswith("LB-"))
    assert CODE.match(link), link


def test_many_chats_from_one_address_are_slowed_together(
    client: httpx.Client, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """New web chat sessions cost nothing, so one address guessing through many of them is slowed as a
    whole, after more tries than one chat gets (phones behind a carrier's NAT share an address)."""
    with caplog.at_level(logging.WARNING):
        for n in range(ADDRESS_ALLOWED // 2):
            guesser = at_invite_step(client)
            for guess in (f"UT-AAAAA-AAAA{'ACDEFHJKMNPQ'[n]}", f"UT-CCCCC-CCCC{'ACDEFHJKMNPQ'[n]}"):
                assert "Mã không đúng" in guesser.send(guess)[0].text
        fresh = at_invite_step(client)
        assert SLOWED.search(fresh.send(invite(db))[0].text), "a new chat from that address waits too"
    bursts = [r.getMessage() for r in caplog.records if r.name == "bot.codes"]
    assert any("network address" in b for b in bursts) and not any("127.0.0.1" in b for b in bursts)
