"""Villages and hamlets (thôn, bản) live in the database because no national list exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class Village(Base):
    """A village or hamlet inside one commune, maintained by admins."""

    __tablename__ = "villages"
    __table_args__ = (
        UniqueConstraint("commune_code", "name", name="uq_villages_commune_name"),
        Index("ix_villages_commune_code", "commune_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
