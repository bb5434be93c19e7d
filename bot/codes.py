"""One-time codes people read out or type on a phone, and the records that hand out link codes (an
official's account tied to a chat, a person joined on a second app)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import utcnow

CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: easy to read out aloud
LINK_CODE_LIFETIME = timedelta(minutes=30)


def one_time_code(prefix: str) -> str:
    """A random code such as 'LB-K7XQ3M'."""
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


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


def redeem(session: Session, model: type[L], typed: str) -> L | None:
    """The record (locked) whose unexpired code was typed, whatever the case or spaces; the code then
    stops working. None when no record has it."""
    code = typed.strip().upper().replace(" ", "")
    found = session.scalar(select(model).where(model.link_code == code).with_for_update())
    if found is None or found.link_code_expires_at is None or found.link_code_expires_at < utcnow():
        return None
    found.link_code, found.link_code_expires_at = None, None
    return found
