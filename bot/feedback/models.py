"""A ticket per reflection, its attachments, its history, and the categories admins configure."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.areas.models import Village
from bot.db import Base, str_enum, utcnow
from bot.media.models import Media


class TicketStatus(enum.StrEnum):
    """mới -> đã tiếp nhận -> đang xử lý -> đã trả lời -> đã đóng (reopened once: back to đang xử lý)."""

    new = "new"
    received = "received"
    in_progress = "in_progress"
    answered = "answered"
    closed = "closed"


class Category(Base):
    """What a reflection is about; each has its own deadline in working days, or in hours for urgent
    matters (landslides, floods, fires), which are listed first and announced at once."""

    __tablename__ = "feedback_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    deadline_days: Mapped[int] = mapped_column(default=10)
    deadline_hours: Mapped[int | None]  # set: urgent, due this many hours after filing, day or night
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Ticket(Base):
    """One reflection: what, where, by whom (hidden when anonymous), by when it must be answered."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_commune", "status", "commune_code"),
        Index("ix_tickets_person_id", "person_id"),
        Index("ix_tickets_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    urn: Mapped[str] = mapped_column(String(200))  # where answers go, also for anonymous senders
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Who the person said they are when filing (kept as given, whatever their profile becomes), and a
    # number officials may call back (people who cannot read); both empty for anonymous tickets.
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(10))
    on_behalf_of: Mapped[int | None]  # a prestigious person filing for villagers: how many people
    category_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_categories.id", ondelete="SET NULL"))
    commune_code: Mapped[int | None]
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(8), default="vi")
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, 12), default=TicketStatus.new)
    text: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    due_on: Mapped[date]
    due_at: Mapped[datetime | None]  # urgent: the moment it is due
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    agency: Mapped[str | None] = mapped_column(String(120))  # the unit it was forwarded to, as typed
    # A duplicate is closed into its main ticket, whose answers reach its sender too.
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    reopened: Mapped[bool] = mapped_column(default=False)
    satisfied: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The sender erased their data: only category, commune, status and dates are left, for the statistics
    # officials must report; nobody is left to answer.
    erased_at: Mapped[datetime | None]

    category: Mapped[Category | None] = relationship(lazy="joined")
    village: Mapped[Village | None] = relationship(lazy="joined")  # where the sender lives, as when filed
    main: Mapped[Ticket | None] = relationship(remote_side=[id])

    @property
    def urgent(self) -> bool:
        """Filed under an urgent category: due within hours, first in the inbox until answered."""
        return self.due_at is not None

    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", order_by="Attachment.id", lazy="selectin"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        cascade="all, delete-orphan", order_by="TicketEvent.id", lazy="selectin"
    )


class Attachment(Base):
    """A photo, voice note, audio, video or document the person sent, stored before they were told."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))

    media: Mapped[Media] = relationship(lazy="joined")


class TicketEvent(Base):
    """The ticket's history: replies (sent to the person), internal notes, status changes, assignments,
    transfers to another commune or an agency, merges, satisfaction and reopening."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # reply, note, status, assign, transfer, forward, merged…
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    # Where it went: 'from:to' commune codes for a transfer, the agency's name, the other ticket's code.
    target: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    media: Mapped[Media | None] = relationship(lazy="joined")


class ReplyTemplate(Base):
    """An answer an official keeps to reuse: their own, or shared with the officials of one commune."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    commune_code: Mapped[int | None] = mapped_column(index=True)  # shared with this commune; None: own
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
