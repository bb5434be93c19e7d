"""A bulletin, its language versions, one outbox row per recipient, and prestigious persons' relays."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, str_enum, utcnow
from bot.media.models import Media

AUDIO_PENDING = "pending"  # a version's audio_source while its speech is being made
AUDIO_UPLOAD_PREFIX = "pending-upload:"  # ... while its uploaded recording waits to be transcoded
AUDIO_ERROR_PREFIX = "error:"  # ... when neither worked, with the reason
AUDIO_STORAGE_ERROR = "error:storage:"  # ... when it could not be saved, before what it was made from


class BulletinStatus(enum.StrEnum):
    """draft -> scheduled | sending -> done; sending <-> paused; cancelled from any but done."""

    draft = "draft"
    scheduled = "scheduled"
    sending = "sending"
    paused = "paused"
    cancelled = "cancelled"
    done = "done"


class DeliveryStatus(enum.StrEnum):
    """pending -> sending -> sent | failed | blocked; a crash leaves `sending`, taken again once its claim
    expires."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    blocked = "blocked"
    cancelled = "cancelled"
    unreachable = "unreachable"  # the platform's rules forbid the message now (Zalo: silent > 7 days)


class Bulletin(Base):
    """What an admin broadcasts: a title, versions per language, pictures, and who should get it."""

    __tablename__ = "bulletins"
    __table_args__ = (Index("ix_bulletins_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[BulletinStatus] = mapped_column(str_enum(BulletinStatus, 12), default=BulletinStatus.draft)
    urgent: Mapped[bool] = mapped_column(default=False)
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)  # provinces, communes, villages, ...
    image_ids: Mapped[list[int]] = mapped_column(default=list)
    send_at: Mapped[datetime | None]
    lead_minutes: Mapped[int] = mapped_column(default=0)  # prestigious persons get it this much earlier
    # Sent, its outbox is built in the background, a batch of people at a time (bot/bulletins/outbox.py):
    # while `preparing`, people up to `outbox_cursor` (a person id) have their rows, due at `send_at` for
    # prestigious persons and at `everyone_at` for the others; it is done only once built.
    preparing: Mapped[bool] = mapped_column(default=False)
    outbox_cursor: Mapped[int] = mapped_column(default=0)
    everyone_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    versions: Mapped[list[BulletinVersion]] = relationship(
        back_populates="bulletin", cascade="all, delete-orphan", order_by="BulletinVersion.language"
    )

    def version(self, language: str | None) -> BulletinVersion | None:
        """The version in a language, if written."""
        return next((v for v in self.versions if v.language == language), None)

    def text_in(self, language: str) -> str:
        """The text of the version in a language, empty when there is none (or it is a recording only)."""
        version = self.version(language)
        return version.text if version is not None else ""

    @property
    def audio_ready(self) -> bool:
        """No version's audio is still being made or failed (a draft is sent only when this holds)."""
        return not any(v.audio_source.startswith((AUDIO_PENDING, AUDIO_ERROR_PREFIX)) for v in self.versions)


class BulletinVersion(Base):
    """The bulletin in one language: its text and, where there is one, its audio in both forms."""

    __tablename__ = "bulletin_versions"
    __table_args__ = (UniqueConstraint("bulletin_id", "language", name="uq_bulletin_versions_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    voice_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    mp3_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    audio_source: Mapped[str] = mapped_column(String(120), default="")  # engine, "recording", "pending…"

    bulletin: Mapped[Bulletin] = relationship(back_populates="versions")
    voice: Mapped[Media | None] = relationship(foreign_keys=[voice_id])
    mp3: Mapped[Media | None] = relationship(foreign_keys=[mp3_id])


class Delivery(Base):
    """One outbox row per (bulletin, person, channel); `part` counts the messages of it already sent. A
    person who erases their data leaves their rows without person or address: counted, not attributed."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "person_id", "channel", name="uq_deliveries_recipient"),
        Index("ix_deliveries_status_due", "status", "due_at"),
        Index("ix_deliveries_status_urgent_due", "status", "urgent", "due_at"),  # urgent warnings first
        Index("ix_deliveries_bulletin_status", "bulletin_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    urn: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    prestigious: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, 16), default=DeliveryStatus.pending
    )
    part: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # the sender that took it last
    # The fencing token of the claim in flight (new at every claim) and until when it holds unless its
    # sender renews it: only a write carrying the token counts, and only an expired claim is taken back.
    claim_id: Mapped[str | None] = mapped_column(String(32))
    claim_expires_at: Mapped[datetime | None]
    retaken: Mapped[int] = mapped_column(default=0)  # times taken again after a crash: possible duplicates
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class DeliveryCount(Base):
    """How many of a bulletin's outbox rows are in one status (and how often they were retaken), so its
    progress is read from a few rows, not counted over half a million. Kept by the database itself:
    triggers on `deliveries` append every change to `delivery_count_changes` (migration 0017), and
    bot/bulletins/outbox.py folds those in here; progress adds the changes not folded yet, so it is exact."""

    __tablename__ = "delivery_counts"

    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[int] = mapped_column(default=0)
    retaken: Mapped[int] = mapped_column(default=0)


class DeliveryCountChange(Base):
    """One statement's change to the counts (rows in, minus rows out, per bulletin and status): only ever
    appended by the triggers, so senders never wait on one another for a counter row."""

    __tablename__ = "delivery_count_changes"
    __table_args__ = (Index("ix_delivery_count_changes_bulletin", "bulletin_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int]
    retaken: Mapped[int]


class Relay(Base):
    """A prestigious person's word that they passed a bulletin on: roughly how many households, and how."""

    __tablename__ = "relays"
    __table_args__ = (UniqueConstraint("bulletin_id", "person_id", name="uq_relays_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id", ondelete="SET NULL"))
    households: Mapped[int] = mapped_column(default=0)  # the low end of the band they chose
    method: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """Who may run a singleton job (the bulletin sender: one per bot token, so limits hold across
    processes) and until when; a holder that stops renewing loses it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
