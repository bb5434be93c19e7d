"""Admin accounts with roles, the communes a commune officer covers, login attempts and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.codes import LinkCoded
from bot.db import Base, str_enum, utcnow


class Role(enum.StrEnum):
    """What an admin may do: everything, content, their communes only, only look, or translate their
    languages (and nothing else)."""

    province_admin = "province_admin"
    editor = "editor"
    commune_officer = "commune_officer"
    viewer = "viewer"
    translator = "translator"


class AdminUser(LinkCoded, Base):
    """A person who logs into /admin."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")  # 'UBND xã Phong Thổ', named in sources
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Every signed-in cookie carries the version it was issued under; raising it ends them all (logout,
    # password change, role change, deactivation), since a signed cookie cannot be taken back otherwise.
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    chat_urn: Mapped[str | None] = mapped_column(String(200), unique=True)  # where the bot notifies them

    communes: Mapped[list[AdminCommune]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    languages: Mapped[list[AdminLanguage]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @property
    def commune_codes(self) -> list[int]:
        """The communes this admin is assigned to."""
        return [c.commune_code for c in self.communes]

    @property
    def language_codes(self) -> list[str]:
        """The languages a translator works on."""
        return [lang.language for lang in self.languages]


class AdminCommune(Base):
    """One commune a commune officer answers for."""

    __tablename__ = "admin_communes"

    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), primary_key=True)
    commune_code: Mapped[int] = mapped_column(primary_key=True)


class AdminLanguage(Base):
    """One language a translator translates and reviews."""

    __tablename__ = "admin_languages"

    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)


class LoginAttempt(Base):
    """A login try, kept to throttle password guessing per username."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64), default="")
    success: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what to which object, for province admins to review."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
