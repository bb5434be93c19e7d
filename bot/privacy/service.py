"""Consent and erasure decided per kind of data. Never commits: the caller owns the transaction; files on
disk follow its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

import bot.models  # noqa: F401  (every table that may point at a stored file is known to the metadata)
from bot.bulletins.models import Bulletin, Delivery, DeliveryStatus, Relay
from bot.db import Base, after, utcnow
from bot.feedback.models import Ticket
from bot.media import service as media
from bot.media.models import Media
from bot.messages import service as messages
from bot.people import service as people
from bot.people.models import Person
from bot.privacy import notice
from bot.privacy.models import Export
from bot.qa.models import OpenQuestion

KEPT_EVENT_TEXT = {"status", "assign"}  # of a ticket's history only how it moved, never what was said


def agree(person: Person, *, name: str) -> None:
    """Consent to the notice in force, with its time and version; the platform's name may be kept now."""
    person.consented_at, person.declined_at = utcnow(), None
    person.consent_version = notice.PRIVACY_VERSION
    person.display_name = person.display_name or name[:200]


def decline(person: Person) -> None:
    """A 'no' to the notice in force: no name is kept, only what bulletins and answers need (language,
    place, chat address)."""
    person.consented_at, person.declined_at = None, utcnow()
    person.consent_version = notice.PRIVACY_VERSION
    person.display_name = ""


def outdated(person: Person) -> bool:
    """Someone who agreed to another text of the notice than the one in force now."""
    return person.consented and person.consent_version != notice.PRIVACY_VERSION


@dataclass(frozen=True)
class Kept:
    """What erasing a person left, linked to nobody: rows officials must be able to count."""

    tickets: int
    deliveries: int
    relays: int


def erase(session: Session, root: Path, person: Person) -> Kept:
    """Delete the person's identity, chat addresses, messages, questions, the text, files and location of
    their reflections, and their data exports; keep each ticket's category, commune, status and dates,
    and their bulletin deliveries and relays, with the link to them removed (Decree 13/2023/NĐ-CP lets
    records the State must keep outlive the link to the person)."""
    urns = people.urns_of(session, person)
    files = {int(media_id) for _kind, media_id in person.state_data.get("files", [])}  # a reflection begun
    tickets = list(
        session.scalars(select(Ticket).where(or_(Ticket.person_id == person.id, Ticket.urn.in_(urns))))
    )
    now = utcnow()
    for ticket in tickets:
        files |= {a.media_id for a in ticket.attachments}
        files |= {e.media_id for e in ticket.events if e.media_id is not None}
        ticket.attachments.clear()
        for event in ticket.events:
            event.media = None
            if event.kind not in KEPT_EVENT_TEXT:
                event.text = ""
        ticket.person_id, ticket.urn, ticket.text, ticket.language = None, "", "", ""
        ticket.latitude = ticket.longitude = ticket.village_id = None
        ticket.erased_at = now
    session.execute(delete(OpenQuestion).where(OpenQuestion.person_id == person.id))
    mine = Delivery.person_id == person.id
    session.execute(
        update(Delivery)
        .where(mine, Delivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sending]))
        .values(status=DeliveryStatus.cancelled, claimed_by=None),
        execution_options={"synchronize_session": False},
    )
    deliveries = session.scalar(select(func.count()).where(mine)) or 0
    session.execute(
        update(Delivery).where(mine).values(person_id=None, urn=""),
        execution_options={"synchronize_session": False},
    )
    relays = session.scalar(select(func.count()).where(Relay.person_id == person.id)) or 0
    session.execute(
        update(Relay).where(Relay.person_id == person.id).values(person_id=None),
        execution_options={"synchronize_session": False},
    )
    for export in session.scalars(select(Export).where(Export.person_id == person.id)):
        _remove(session, root, export)
    messages.forget(session, person.id, urns)
    session.delete(person)
    session.flush()
    for unused in _unshared(session, files):
        media.delete(session, root, unused)
    return Kept(len(tickets), deliveries, relays)


def _unshared(session: Session, media_ids: set[int]) -> list[Media]:
    """The files among these that nothing else uses: a file is stored once per content, so the same
    picture may be a bulletin's or another person's too."""
    if not media_ids:
        return []
    used: set[int] = set()
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Media.__tablename__:
                used |= set(session.scalars(select(fk.parent).where(fk.parent.in_(media_ids))))
    for image_ids in session.scalars(select(Bulletin.image_ids)):
        used |= media_ids.intersection(image_ids)
    return list(session.scalars(select(Media).where(Media.id.in_(media_ids - used))))


def _remove(session: Session, root: Path, found: Export) -> None:
    """An export's row now, its file with the commit."""
    path = root / found.path
    session.delete(found)
    after(session, "commit", lambda: path.unlink(missing_ok=True))
