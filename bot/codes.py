"""One-time codes people read out or type on a phone, the records that hand out link codes (an
official's account tied to a chat, a person joined on a second app), and the throttle on guessing them."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, ForeignKey, Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, utcnow
from bot.throttle import backoff

log = logging.getLogger(__name__)
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: easy to read out aloud
CODE_GROUPS = (5, 5)  # 23^10 ≈ 4·10^13 codes, read out as two groups: 'UT-K7XQ3-M9PAC'
LINK_CODE_LIFETIME = timedelta(minutes=30)
GUESS_WINDOW = timedelta(hours=1)  # failures older than this are forgotten; also the longest wait
CHAT_ALLOWED = 5  # wrong codes one chat (or one person) may type before being slowed, a minute, two …
ADDRESS_ALLOWED = 20  # wrong codes from one network address (many phones share one behind a carrier's NAT)
KIND_ALLOWED = 500  # wrong codes of one kind from everyone within the window before all are slowed
NOT_CODE = re.compile(r"[^A-Z0-9]")
JUST_CODE = re.compile(r"[A-Za-z0-9\s\-–—.]+")  # a message with nothing but a code in it, however spaced


def one_time_code(prefix: str) -> str:
    """A random code such as 'LB-K7XQ3-M9PAC'."""
    return prefix + "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(n)) for n in CODE_GROUPS)


def normalized(prefix: str, typed: str) -> str:
    """The code as stored, however it was typed: any case, with or without the prefix, spaces or dashes.
    A code of another length (made before codes grew) is kept as typed, without dashes."""
    body, letters = NOT_CODE.sub("", typed.upper()), NOT_CODE.sub("", prefix)
    if body.startswith(letters) and len(body) != sum(CODE_GROUPS):  # a full code may itself start so
        body = body[len(letters) :]
    if len(body) != sum(CODE_GROUPS):
        return prefix + body
    cut = CODE_GROUPS[0]
    return f"{prefix}{body[:cut]}-{body[cut:]}"


def typed_prefix(text: str, prefixes: tuple[str, ...]) -> str | None:
    """Which of these kinds of code a whole message is ('lb k7xq3 m9pac' is an 'LB-' code), so a person
    can send a code alone, without a command; None when the message is anything else."""
    if not JUST_CODE.fullmatch(text.strip()):
        return None
    body = NOT_CODE.sub("", text.upper())
    for prefix in prefixes:
        letters = NOT_CODE.sub("", prefix)
        if body.startswith(letters) and len(body) == len(letters) + sum(CODE_GROUPS):
            return prefix
    return None


class CodeAttempt(Base):
    """A wrong one-time code (never the code itself), kept a day to slow guessing: per chat (by a digest
    of its address, so no chat address is stored), per person, per network address where one is known
    (also a digest), and per kind of code for everyone."""

    __tablename__ = "code_attempts"
    __table_args__ = (
        Index("ix_code_attempts_chat_at", "chat", "at"),
        Index("ix_code_attempts_kind_at", "kind", "at"),
        Index("ix_code_attempts_origin_at", "origin", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))  # the code's prefix: 'UT', 'LB', 'LK'
    chat: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


def _key(address: str) -> str:
    """Which chat or network address tried, without keeping the address."""
    return hashlib.sha256(address.encode()).hexdigest()


def _failures(
    session: Session, since: datetime, condition: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    """How many wrong codes match since a moment, and when the last was."""
    stmt = select(func.count(), func.max(CodeAttempt.at)).where(CodeAttempt.at >= since, condition)
    count, last = session.execute(stmt).one()
    return int(count), last


def _waits(
    session: Session, kind: str, urn: str, person_id: int | None, origin: str
) -> tuple[float, float, int, int, int]:
    """(seconds this chat, person or address must wait, seconds everyone must wait, the chat's or person's
    failures, the address's, the kind's)."""
    now = utcnow()
    since = now - GUESS_WINDOW
    chat = _failures(session, since, CodeAttempt.chat == _key(urn))
    person = _failures(session, since, CodeAttempt.person_id == person_id) if person_id else (0, None)
    address = _failures(session, since, CodeAttempt.origin == _key(origin)) if origin else (0, None)
    everyone = _failures(session, since, CodeAttempt.kind == kind)
    minute = timedelta(minutes=1)
    own = max(
        backoff(chat[0], CHAT_ALLOWED, chat[1], GUESS_WINDOW, now, minute),
        backoff(person[0], CHAT_ALLOWED, person[1], GUESS_WINDOW, now, minute),
        backoff(address[0], ADDRESS_ALLOWED, address[1], GUESS_WINDOW, now, minute),
    )
    return (
        own,
        backoff(everyone[0], KIND_ALLOWED, everyone[1], GUESS_WINDOW, now),
        max(chat[0], person[0]),
        address[0],
        everyone[0],
    )


def wait_minutes(session: Session, kind: str, urn: str, person_id: int | None, *, origin: str = "") -> int:
    """Whole minutes before this chat may try a code of this kind again (its own wrong codes of any kind
    count, its network address's, and everyone's of this kind); 0 when it may now."""
    own, everyone, _mine, _address, _all = _waits(session, kind, urn, person_id, origin)
    return math.ceil(max(own, everyone) / 60)


def record_failure(session: Session, kind: str, urn: str, person_id: int | None, *, origin: str = "") -> None:
    """Keep that a chat typed a wrong code of a kind, and warn, once per burst, when that chat, its
    network address or everyone together starts being slowed (the log names no code, chat or network
    address); rows older than a day go."""
    session.execute(delete(CodeAttempt).where(CodeAttempt.at < utcnow() - timedelta(days=1)))
    session.add(
        CodeAttempt(kind=kind, chat=_key(urn), person_id=person_id, origin=_key(origin) if origin else None)
    )
    session.flush()
    _own, _everyone, mine, address, everyone = _waits(session, kind, urn, person_id, origin)
    if mine == CHAT_ALLOWED:
        log.warning(
            "%d wrong %s- codes from one chat (person %s) within %s: slowed",
            mine,
            kind,
            person_id,
            GUESS_WINDOW,
        )
    if address == ADDRESS_ALLOWED:
        log.warning(
            "%d wrong %s- codes from one network address within %s: slowed", address, kind, GUESS_WINDOW
        )
    if everyone == KIND_ALLOWED:
        log.warning(
            "%d wrong %s- codes from all chats within %s: everyone slowed", everyone, kind, GUESS_WINDOW
        )


class LinkCoded:
    """Columns of a record that hands out a one-time link code."""

    link_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    link_code_expires_at: Mapped[datetime | None]


L = TypeVar("L", bound=LinkCoded)


def issue(owner: LinkCoded, prefix: str) -> str:
    """A new code for the record, valid LINK_CODE_LIFETIME; it replaces any earlier one."""
    code = one_time_code(prefix)
    owner.link_code, owner.link_code_expires_at = code, utcnow() + LINK_CODE_LIFETIME
    return code


def redeem(session: Session, model: type[L], prefix: str, typed: str) -> L | None:
    """The record (locked) whose unexpired code was typed, however it was typed (see `normalized`); the
    code then stops working. None when no record has it."""
    code = normalized(prefix, typed)
    found = session.scalar(select(model).where(model.link_code == code).with_for_update())
    if found is None or found.link_code_expires_at is None or found.link_code_expires_at < utcnow():
        return None
    found.link_code, found.link_code_expires_at = None, None
    return found
