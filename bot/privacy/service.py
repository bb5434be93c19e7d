"""Consent, a copy of everything about a person, and erasure decided per kind of data. Never commits: the
caller owns the transaction; files in the media store follow its outcome (an erased person's at once)."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

import bot.models  # noqa: F401  (every table that may point at a stored file is known to the metadata)
from bot.areas import service as areas
from bot.bulletins.models import Bulletin, Delivery, DeliveryStatus, Relay
from bot.contests import service as contests
from bot.db import Base, after, utcnow
from bot.feedback import service as feedback
from bot.feedback.models import Ticket, TicketStatus
from bot.i18n import SOURCE_LANGUAGE
from bot.media import service as media
from bot.media.models import Media
from bot.media.store import MediaStore
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.people.models import Person
from bot.polls import service as polls
from bot.privacy import notice
from bot.privacy.models import Export
from bot.qa.models import OpenQuestion
from bot.voice import service as voice
from bot.voice.service import Spoken

log = logging.getLogger(__name__)
EXPORTS = "exports"  # key prefix in the media store; never served by /media (its names are content hashes)
EXPORT_NAME = "loaban-du-lieu-cua-toi.json"  # the file name the person sees
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


def _tickets(session: Session, person: Person, urns: list[str]) -> list[Ticket]:
    """The person's reflections, also those filed from a chat address before it was joined to them."""
    mine = or_(Ticket.person_id == person.id, Ticket.urn.in_(urns))
    return list(session.scalars(select(Ticket).where(mine).order_by(Ticket.id)))


def awaiting_answer(session: Session, person: Person) -> list[str]:
    """Codes of the person's reflections no official has answered yet: erasure closes them unanswered, so
    the person is told before they confirm."""
    waiting = (TicketStatus.new, TicketStatus.received, TicketStatus.in_progress)
    tickets = _tickets(session, person, people.urns_of(session, person))
    return [ticket.code for ticket in tickets if ticket.status in waiting]


def erase(session: Session, files: MediaStore, person: Person) -> Kept:
    """Delete the person's identity, chat addresses, messages, questions, the text, files and location of
    their reflections (the officials' notices quoting them too) and their data exports; close their tickets,
    as nobody is left to answer; keep each ticket's category, commune, status and dates, their bulletin
    deliveries and relays, and their poll choices and numbers (not what they typed or recorded), with the
    link to them removed (Decree 13/2023/NĐ-CP lets records the State must keep outlive the link to the
    person). Their files leave the media store before this returns (OSError when the store refuses, so the
    caller rolls back and never says "deleted" while a file remains)."""
    urns = people.urns_of(session, person)
    begun = person.state_data.get("files", [])  # the files of a reflection not yet sent
    media_ids = {int(media_id) for _kind, media_id in begun}
    tickets = _tickets(session, person, urns)
    answers = [e.text for t in tickets for e in t.events if e.kind == "reply" and e.text]
    answers += session.scalars(select(OpenQuestion.answer).where(OpenQuestion.person_id == person.id)).all()
    # the clips of officials' answers to them, made for '🔊 Nghe'
    media_ids |= voice.forget(session, [Spoken(text, SOURCE_LANGUAGE) for text in answers if text])
    now = utcnow()
    for ticket in tickets:
        media_ids |= {a.media_id for a in ticket.attachments}
        media_ids |= {e.media_id for e in ticket.events if e.media_id is not None}
        ticket.attachments.clear()
        for event in ticket.events:
            event.media = None
            if event.kind not in KEPT_EVENT_TEXT:
                event.text = ""
        ticket.person_id, ticket.urn, ticket.text, ticket.language = None, "", "", ""
        ticket.latitude = ticket.longitude = ticket.village_id = ticket.phone = None
        ticket.sender_name = ""
        ticket.erased_at = now
        feedback.close_unanswerable(ticket)
    messages.blank_mentions(session, [ticket.code for ticket in tickets])
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
    media_ids |= polls.forget(session, person)
    contests.forget(session, person)
    for export in session.scalars(select(Export).where(Export.person_id == person.id)):
        files.delete(export.path)
        session.delete(export)
    messages.forget(session, person.id, urns)
    session.delete(person)
    session.flush()
    for unused in _unshared(session, media_ids):
        media.delete(session, files, unused)
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


@dataclass(frozen=True)
class Holdings:
    """What Loa Bản holds about a person, counted, for the short summary of 'my data'."""

    person: Person
    channels: list[str]
    received: int  # messages they sent
    sent: int  # messages Loa Bản sent them
    unkept: int  # of those, messages kept only as a count: what was said went once answered (no consent)
    questions: int
    tickets: list[str]  # codes, newest first
    bulletins: int


def holdings(session: Session, person: Person) -> Holdings:
    """Count what is kept about a person."""
    counts = dict(
        session.execute(
            select(Message.direction, func.count())
            .where(Message.person_id == person.id)
            .group_by(Message.direction)
        ).all()
    )
    return Holdings(
        person=person,
        channels=sorted({identity.channel for identity in person.identities}),
        received=int(counts.get(Direction.inbound, 0)),
        sent=int(counts.get(Direction.outbound, 0)),
        unkept=session.scalar(select(func.count()).where(Message.person_id == person.id, Message.text == ""))
        or 0,
        questions=session.scalar(select(func.count()).where(OpenQuestion.person_id == person.id)) or 0,
        tickets=list(
            session.scalars(
                select(Ticket.code).where(Ticket.person_id == person.id).order_by(Ticket.id.desc())
            )
        ),
        bulletins=session.scalar(select(func.count()).where(Delivery.person_id == person.id)) or 0,
    )


def document(session: Session, person: Person) -> dict[str, Any]:
    """Everything about a person, as the JSON file they are given."""
    province = areas.get_province(person.province_code or 0)
    commune = areas.get_commune(person.commune_code or 0)
    tickets = session.scalars(select(Ticket).where(Ticket.person_id == person.id).order_by(Ticket.id))
    questions = session.scalars(
        select(OpenQuestion).where(OpenQuestion.person_id == person.id).order_by(OpenQuestion.id)
    )
    deliveries = session.execute(
        select(Delivery, Bulletin.title)
        .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        .where(Delivery.person_id == person.id)
        .order_by(Delivery.id)
    )
    relays = session.scalars(select(Relay).where(Relay.person_id == person.id).order_by(Relay.id))
    history = session.scalars(select(Message).where(Message.person_id == person.id).order_by(Message.id))
    return {
        "generated_at": _time(utcnow()),
        "privacy_notice_in_force": notice.PRIVACY_VERSION,
        "person": {
            "name": person.display_name,
            "language": person.language,
            "province": province.name if province else None,
            "commune": commune.name if commune else None,
            "village": person.village.name if person.village else None,
            "role": person.role.value,
            "receives_bulletins": person.subscribed,
            "consented_at": _time(person.consented_at),
            "declined_at": _time(person.declined_at),
            "consent_version": person.consent_version,
            "first_contact": _time(person.created_at),
            "last_seen": _time(person.last_seen_at),
        },
        "chat_addresses": [
            {"address": i.urn, "app": i.channel, "since": _time(i.created_at)} for i in person.identities
        ],
        "messages": [
            {
                "direction": "from_you" if m.direction == Direction.inbound else "to_you",
                "at": _time(m.created_at),
                "kind": m.kind,
                "text": m.text,
            }
            for m in history
        ],
        "questions_to_officials": [
            {
                "at": _time(q.created_at),
                "text": q.text,
                "status": q.status.value,
                "answer": q.answer,
                "answered_at": _time(q.answered_at),
            }
            for q in questions
        ],
        "reflections": [
            {
                "code": t.code,
                "category": t.category.label if t.category else None,
                "status": t.status.value,
                "anonymous": t.anonymous,
                "text": t.text,
                "location": [t.latitude, t.longitude] if t.latitude is not None else None,
                "files": [
                    {"kind": a.kind, "type": a.media.mime, "bytes": a.media.size} for a in t.attachments
                ],
                "sent_at": _time(t.created_at),
                "due_on": t.due_on.isoformat(),
                "answers": [e.text for e in t.events if e.kind == "reply"],
            }
            for t in tickets
        ],
        "bulletins_sent_to_you": [
            {"title": title, "status": d.status.value, "app": d.channel, "sent_at": _time(d.sent_at)}
            for d, title in deliveries
        ],
        "relays_you_reported": [
            {
                "bulletin_id": r.bulletin_id,
                "households": r.households,
                "how": r.method,
                "at": _time(r.created_at),
            }
            for r in relays
        ],
        "poll_answers": polls.answers_of(session, person),
        "contests": contests.entries_of(session, person),
    }


def _time(moment: datetime | None) -> str | None:
    """A stored time in ISO 8601 (UTC)."""
    return moment.isoformat() if moment is not None else None


def export(session: Session, files: MediaStore, person: Person, urn: str, *, hours: int) -> Export:
    """The row of a copy of the person's data that only a fresh unguessable token opens, for `hours`;
    its file is made by a durable job (privacy.copies), since an S3 PUT may take seconds and must not run
    while a transaction holds its locks, and the link is sent only once the file is there. Expired
    copies of anyone are removed first."""
    prune(session, files)
    token = secrets.token_urlsafe(32)
    found = Export(
        token=token,
        person_id=person.id,
        urn=urn,
        path=f"{EXPORTS}/{token}.json",
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(found)
    session.flush()
    return found


def content(session: Session, person: Person) -> bytes:
    """The file of a person's copy: what the database holds about them now."""
    return json.dumps(document(session, person), ensure_ascii=False, indent=2).encode()


def named_exports(session: Session, keys: list[str]) -> set[str]:
    """The data copies (exports/…) whose row remains: the sweep removes the others once a day old (a
    copy written by a job that then found its person erased, and stopped before removing it)."""
    return set(session.scalars(select(Export.path).where(Export.path.in_(keys))))


def get_export(session: Session, files: MediaStore, token: str, urn: str | None) -> Export | None:
    """An unexpired export by its token; one made in the web chat only for the session that asked (`urn`
    of the caller, None when it is not a web chat)."""
    found = session.get(Export, token)
    if found is None:
        return None
    if found.expires_at <= utcnow():
        _remove(session, files, found)
        return None
    if found.urn.startswith("web:") and found.urn != urn:
        return None
    return found


def prune(session: Session, files: MediaStore) -> None:
    """Remove the copies whose time is up."""
    for expired in session.scalars(select(Export).where(Export.expires_at <= utcnow())):
        _remove(session, files, expired)


def _remove(session: Session, files: MediaStore, found: Export) -> None:
    """An expired export's row now, its file with the commit (nobody can open it meanwhile: the row is
    what the link is checked against)."""
    key = found.path
    session.delete(found)
    after(session, "commit", lambda: discard(files, key))


def discard(files: MediaStore, key: str) -> None:
    """Remove a file nothing refers to any more; one the store refuses to remove is logged, not raised
    (the transaction is over, and no link opens it)."""
    try:
        files.delete(key)
    except OSError as exc:
        log.warning("an unused data export stayed in the media store: %s", exc)
