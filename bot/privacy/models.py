"""Copies of a person's data made at their request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class Export(Base):
    """Everything Loa Bản holds about a person, as a JSON file under the media folder that only its link's
    unguessable token opens (in the web chat, only for the session that asked) until it expires."""

    __tablename__ = "data_exports"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    urn: Mapped[str] = mapped_column(String(200))  # the address that asked for it
    path: Mapped[str] = mapped_column(String(200))  # under the media folder
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
