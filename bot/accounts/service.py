"""Admin accounts: hashing, login with throttling, scope and the audit log; the caller commits."""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot import codes
from bot.accounts.models import AdminCommune, AdminLanguage, AdminUser, AuditEntry, LoginAttempt, Role
from bot.db import utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.throttle import backoff

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("loaban-dummy-password")
MIN_PASSWORD_LENGTH = 10


class AccountError(Refusal):
    """A refused account change."""


def hash_password(password: str) -> str:
    """Argon2id hash, the current recommendation for stored passwords."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(mark("Mật khẩu phải có ít nhất {n} ký tự."), n=MIN_PASSWORD_LENGTH)
    return _hasher.hash(password)


def generate_password() -> str:
    """A one-time password an operator can type: 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def get(session: Session, *, admin_id: int) -> AdminUser | None:
    """An admin by id."""
    return session.get(AdminUser, admin_id)


def get_by_username(session: Session, username: str) -> AdminUser | None:
    """An admin by login name (case-insensitive)."""
    return session.scalar(select(AdminUser).where(func.lower(AdminUser.username) == username.lower()))


def get_all(session: Session) -> list[AdminUser]:
    """Every admin account, by username."""
    return list(session.scalars(select(AdminUser).order_by(AdminUser.username)))


def count(session: Session) -> int:
    """How many admin accounts exist (zero means the first one must be created)."""
    return session.scalar(select(func.count()).select_from(AdminUser)) or 0


def create(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    full_name: str = "",
    unit: str = "",
    commune_codes: Iterable[int] = (),
    language_codes: Iterable[str] = (),
    must_change_password: bool = False,
) -> AdminUser:
    """Create an admin; refuses duplicate usernames with a readable message."""
    username = username.strip()
    if not username:
        raise AccountError(mark("Tên đăng nhập không được để trống."))
    if get_by_username(session, username) is not None:
        raise AccountError(mark("Tên đăng nhập '{username}' đã có."), username=username)
    admin = AdminUser(
        username=username,
        full_name=full_name.strip(),
        unit=unit.strip(),
        password_hash=hash_password(password),
        role=role,
        must_change_password=must_change_password,
    )
    admin.communes = [AdminCommune(commune_code=c) for c in sorted(set(commune_codes))]
    admin.languages = [AdminLanguage(language=code) for code in sorted(set(language_codes))]
    session.add(admin)
    session.flush()
    return admin


def update(
    session: Session,
    admin: AdminUser,
    *,
    role: Role,
    full_name: str,
    unit: str,
    active: bool,
    commune_codes: Iterable[int],
    language_codes: Iterable[str] = (),
) -> AdminUser:
    """Change an admin's role, name, unit, status, communes and languages; a new role or a deactivation
    ends the account's sessions."""
    if role != admin.role or (admin.active and not active):
        end_sessions(admin)
    admin.role = role
    admin.full_name = full_name.strip()
    admin.unit = unit.strip()
    admin.active = active
    wanted = set(commune_codes)
    admin.communes = [c for c in admin.communes if c.commune_code in wanted] + [
        AdminCommune(commune_code=c) for c in sorted(wanted - set(admin.commune_codes))
    ]
    languages = set(language_codes)
    admin.languages = [lang for lang in admin.languages if lang.language in languages] + [
        AdminLanguage(language=code) for code in sorted(languages - set(admin.language_codes))
    ]
    session.flush()
    return admin


def set_password(session: Session, admin: AdminUser, password: str, *, must_change: bool = False) -> None:
    """Replace an admin's password; every session signed in with the old one ends."""
    admin.password_hash = hash_password(password)  # refuses a weak password before anything changes
    end_sessions(admin)
    admin.must_change_password = must_change
    session.flush()


def end_sessions(admin: AdminUser) -> None:
    """Make every admin cookie issued so far for this account worthless."""
    admin.session_version += 1


def verify_password(admin: AdminUser, password: str) -> bool:
    """Check a password against the stored hash without leaking timing on format errors."""
    try:
        return _hasher.verify(admin.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_check(password: str) -> bool:
    """Spend the same time as a real check, and always fail."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_DUMMY_HASH, password + "\x00")
    return False


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: the admin, or why not (and how long to wait before the next)."""

    admin: AdminUser | None
    wait_seconds: int = 0


ADDRESS_FACTOR = 4  # one address may fail this many times more, across usernames, before it is slowed


def _failures(
    session: Session, since: datetime, *conditions: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    """How many failed logins match since a moment, and when the last was."""
    stmt = select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since, *conditions
    )
    count, last = session.execute(stmt).one()
    return int(count), last


def throttle(session: Session, *, username: str, ip: str, max_failures: int, window: timedelta) -> int:
    """Whole seconds this address must wait before trying this username again. Failures slow the pair
    (username, address) and, far later, the address; never the account itself, so nobody can lock an
    official out by guessing from elsewhere."""
    now = utcnow()
    since = now - window
    pair = _failures(
        session, since, func.lower(LoginAttempt.username) == username.lower(), LoginAttempt.ip == ip
    )
    address = _failures(session, since, LoginAttempt.ip == ip)
    wait = max(
        backoff(pair[0], max_failures, pair[1], window, now),
        backoff(address[0], ADDRESS_FACTOR * max_failures, address[1], window, now),
    )
    return math.ceil(wait)


def login(
    session: Session, *, username: str, password: str, ip: str, max_failures: int, lockout: timedelta
) -> LoginResult:
    """Authenticate, asking a guesser to wait longer after each failure (see `throttle`)."""
    wait = throttle(session, username=username, ip=ip, max_failures=max_failures, window=lockout)
    if wait:
        return LoginResult(None, wait_seconds=wait)
    admin = get_by_username(session, username)
    # An unknown username still costs one hash check, so timing does not reveal which names exist.
    ok = verify_password(admin, password) if admin is not None else _dummy_check(password)
    ok = ok and admin is not None and admin.active
    session.add(LoginAttempt(username=username[:80], ip=ip[:64], success=ok))
    if not ok or admin is None:
        return LoginResult(None)
    admin.last_login_at = utcnow()
    return LoginResult(admin)


def scope(admin: AdminUser) -> list[int] | None:
    """The communes an admin is limited to; None means the whole province."""
    return admin.commune_codes if admin.role == Role.commune_officer else None


def languages_of(admin: AdminUser) -> list[str] | None:
    """The languages an admin may translate; None means every language (province admins, editors), an
    empty list none at all."""
    if admin.role == Role.translator:
        return admin.language_codes
    return None if admin.role in CONTENT_EDITORS else []


CONTENT_EDITORS = (Role.province_admin, Role.editor)
BULLETIN_AUTHORS = (Role.province_admin, Role.editor, Role.commune_officer)  # officers: their communes only


def can_edit_content(admin: AdminUser) -> bool:
    """Province admins and editors curate Q&A and bulletins."""
    return admin.role in CONTENT_EDITORS


def can_edit_people_and_places(admin: AdminUser) -> bool:
    """Province admins and commune officers manage people and villages; editors and viewers do not."""
    return admin.role in (Role.province_admin, Role.commune_officer)


def audit(
    session: Session, admin: AdminUser | None, action: str, target: str = "", ip: str = "", **detail: Any
) -> None:
    """Append one line to the audit log inside the action's own transaction."""
    session.add(
        AuditEntry(
            admin_id=admin.id if admin else None,
            username=admin.username if admin else str(detail.get("username", "")),
            action=action,
            target=target[:200],
            detail=detail,
            ip=ip[:64],
        )
    )


def audit_page(session: Session, *, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
    """One page of the audit log, newest first."""
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def new_link_code(session: Session, admin: AdminUser) -> str:
    """A one-time code the admin sends to the bot (/link CODE) so the bot can notify them there."""
    code = codes.issue(admin, "LK-")
    session.flush()
    return code


def link_chat(session: Session, code: str, urn: str) -> AdminUser | None:
    """Tie a chat to the admin whose unexpired code it sent; the code then stops working."""
    admin = codes.redeem(session, AdminUser, "LK-", code)
    if admin is None:
        return None
    previous = session.scalar(select(AdminUser).where(AdminUser.chat_urn == urn, AdminUser.id != admin.id))
    if previous is not None:
        previous.chat_urn = None
        session.flush()
    admin.chat_urn = urn
    return admin


def linked(session: Session) -> list[AdminUser]:
    """Active province admins and commune officers who linked a chat: whom the bot tells of their work."""
    stmt = select(AdminUser).where(
        AdminUser.active.is_(True),
        AdminUser.chat_urn.is_not(None),
        AdminUser.role.in_([Role.province_admin, Role.commune_officer]),
    )
    return list(session.scalars(stmt.order_by(AdminUser.id)))


def to_notify(session: Session, commune_code: int | None) -> list[AdminUser]:
    """Active province admins, and commune officers of that commune, who linked a chat."""
    return [a for a in linked(session) if scope(a) is None or commune_code in (scope(a) or [])]
