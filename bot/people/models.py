"""A person is one human; an identity is one channel address of theirs (telegram:123, web:abc)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, String, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.areas.models import Village
from bot.codes import LinkCoded
from bot.db import Base, str_enum, utcnow


class PersonRole(enum.StrEnum):
    """Villagers receive bulletins; prestigious persons receive them first and relay them."""

    villager = "villager"
    prestigious = "prestigious"


class Person(LinkCoded, Base):  # a link code joins another app's address to them
    """Someone reached by Loa Bản, with the place and language they chose and their conversation state;
    their name is kept only once they agree to the privacy notice."""

    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_commune_code", "commune_code"),
        Index("ix_people_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    province_code: Mapped[int | None]
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id", ondelete="SET NULL"))
    role: Mapped[PersonRole] = mapped_column(str_enum(PersonRole, 20), default=PersonRole.villager)
    consented_at: Mapped[datetime | None]  # when they agreed to the privacy notice ...
    declined_at: Mapped[datetime | None]  # ... or said no: then bulletins and questions, without a name
    consent_version: Mapped[str] = mapped_column(String(40), default="")  # the notice they answered
    subscribed: Mapped[bool] = mapped_column(default=True)
    fallback_notice_sent: Mapped[bool] = mapped_column(default=False)
    spoken_prompts: Mapped[bool] = mapped_column(
        default=False
    )  # chose "🔊 Nghe hướng dẫn": prompts read aloud
    state: Mapped[str] = mapped_column(String(40), default="")
    state_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )
    village: Mapped[Village | None] = relationship()

    @hybrid_property
    def onboarded(self) -> bool:
        """People who answered the privacy notice, yes or no, get the main menu and bulletins."""
        return self.consented_at is not None or self.declined_at is not None

    @onboarded.inplace.expression
    @classmethod
    def _onboarded_expression(cls) -> ColumnElement[bool]:
        """The same in SQL, for choosing bulletin recipients."""
        return or_(cls.consented_at.is_not(None), cls.declined_at.is_not(None))

    @property
    def consented(self) -> bool:
        """Only people who agreed have their name, their messages and named reflections kept."""
        return self.consented_at is not None


class Identity(Base):
    """One channel address (URN) of a person; a person may have several."""

    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    urn: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Platforms with a reply window (Zalo) let a business write only so long after the person's last
    # message, and only so many messages for free: these two say where that window stands.
    last_inbound_at: Mapped[datetime | None]
    sent_since_inbound: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="identities")


class Invite(Base):
    """A one-time code an admin gives a village elder; entered in the bot, it makes them prestigious."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    commune_code: Mapped[int | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]
