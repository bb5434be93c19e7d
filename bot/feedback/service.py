"""Tickets: filing with attachments, deadlines in working days, the officials' inbox and answers, and
people's satisfaction. Never commits: the caller owns the transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.areas import service as areas
from bot.db import utcnow
from bot.errors import Refusal
from bot.feedback.models import Attachment, Category, Ticket, TicketEvent, TicketStatus
from bot.i18n import mark
from bot.media import transcripts
from bot.media.models import Media
from bot.people.models import Person
from bot.text import fold

OPEN = (TicketStatus.new, TicketStatus.received, TicketStatus.in_progress)
# The categories migration 0005 inserts, listed here so their labels are in the catalogs and people read
# them in their own language; categories admins add are shown as written.
DEFAULT_CATEGORIES = (
    ("khan-cap", mark("Khẩn cấp: sạt lở, lũ, cháy, an ninh"), 1),  # migration 0012: due in 24 hours
    ("chinh-sach", mark("Chế độ, chính sách"), 10),
    ("duong-cau", mark("Đường sá, cầu cống"), 10),
    ("dien-nuoc", mark("Điện, nước"), 10),
    ("dat-rung", mark("Đất đai, rừng"), 10),
    ("y-te", mark("Y tế"), 10),
    ("truong-hoc", mark("Trường học"), 10),
    ("an-ninh", mark("An ninh, trật tự"), 5),
    ("lua-dao", mark("Lừa đảo"), 5),
    ("khac", mark("Khác"), 10),
)


class FeedbackError(Refusal):
    """A refused ticket action (wrong state, nothing to send)."""


PHONE_RE = re.compile(r"(?:\+?84|0)([35789]\d{8})")
PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def phone_number(typed: str) -> str | None:
    """A Vietnamese mobile number as officials dial it (0xxxxxxxxx), from how people write it (0912 345
    678, +84 912.345.678, 84912345678); None when it is not one."""
    match = PHONE_RE.fullmatch(PHONE_SEPARATORS.sub("", typed))
    return f"0{match.group(1)}" if match else None


def working_days_after(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The day `days` working days after `start`, skipping Saturdays, Sundays and the given holidays."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            left -= 1
    return day


# Words (folded, whole) that may mean someone or something is in danger now: landslides, floods, fire,
# drowning, robbery, violence. 'cháy' folds to 'chay' like 'chạy' (to run), so fire is named with what burns.
DANGER = re.compile(
    r"\b(?:sat lo|sat nui|lo dat|dat lo|lu|lu quet|lu ong|nuoc lu|ngap|ngap lut|hoa hoan|dam chay|boc chay|"
    r"chay nha|chay rung|chay lon|bi chay|duoi nuoc|chet duoi|cuop|trom cuop|dong dat|sap nha|nha sap|"
    r"danh nhau|dam nhau|giet|bat coc|no min|nguy hiem)\b"
)


def sounds_urgent(text: str) -> bool:
    """Whether a reflection's words speak of a danger (however typed, with or without diacritics), so the
    person filing it under an ordinary category is asked whether it is an emergency."""
    return DANGER.search(fold(text)) is not None


@dataclass(frozen=True)
class Filing:
    """What a person put together before confirming."""

    category_id: int | None
    text: str
    media_ids: tuple[tuple[str, int], ...] = ()  # (kind, media id)
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool = False
    on_behalf_of: int | None = None
    sender_name: str = ""
    phone: str | None = None


def create(session: Session, *, person: Person, urn: str, filing: Filing, now: datetime) -> Ticket:
    """Create the ticket with its code (PA-<year>-<number>) and due date, `now` being the moment of filing
    on the deployment's clock (working days count its days; an urgent category's hours run day and
    night); the caller commits it before the person is told. An anonymous ticket keeps neither name nor
    number, whatever the filing carries."""
    if not filing.text.strip() and not filing.media_ids and filing.latitude is None:
        raise FeedbackError(mark("Phản ánh chưa có nội dung."))
    if filing.phone is not None and phone_number(filing.phone) != filing.phone:
        raise FeedbackError(mark("Số điện thoại không hợp lệ."))
    category = session.get(Category, filing.category_id) if filing.category_id else None
    today = now.date()
    hours = category.deadline_hours if category else None
    due_at = now + timedelta(hours=hours) if hours else None
    ticket = Ticket(
        code="",
        person_id=person.id,
        urn=urn,
        anonymous=filing.anonymous,
        sender_name="" if filing.anonymous else filing.sender_name.strip()[:200],
        phone=None if filing.anonymous else filing.phone,
        on_behalf_of=filing.on_behalf_of,
        category_id=category.id if category else None,
        commune_code=person.commune_code,
        village_id=person.village_id,
        language=person.language or "vi",
        status=TicketStatus.new,
        text=filing.text.strip(),
        latitude=filing.latitude,
        longitude=filing.longitude,
        due_on=due_at.date()
        if due_at
        else working_days_after(today, category.deadline_days if category else 10),
        due_at=due_at,
    )
    session.add(ticket)
    session.flush()
    ticket.code = f"PA-{today.year}-{ticket.id:06d}"
    for kind, media_id in filing.media_ids:
        ticket.attachments.append(Attachment(kind=kind, media_id=media_id))
    session.flush()
    transcripts.queue(session, filing.media_ids)
    return ticket


def get(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket by id."""
    return session.get(Ticket, ticket_id)


def of_person(session: Session, person_id: int, limit: int = 10) -> list[Ticket]:
    """A person's latest tickets, for 'Phản ánh của tôi'."""
    stmt = select(Ticket).where(Ticket.person_id == person_id).order_by(Ticket.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def answers(ticket: Ticket) -> list[TicketEvent]:
    """The officials' answers a person may read again, oldest first: a duplicate's are its main
    ticket's."""
    events = [*ticket.events, *(ticket.main.events if ticket.main else [])]
    return sorted((e for e in events if e.kind == "reply"), key=lambda e: (e.created_at, e.id))


def last_phone(session: Session, person_id: int) -> str | None:
    """The number a person left with their latest named ticket, offered again so they need not type it."""
    stmt = (
        select(Ticket.phone)
        .where(Ticket.person_id == person_id, Ticket.phone.is_not(None))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def hours_left(ticket: Ticket) -> int | None:
    """Whole hours until an open urgent ticket is due (negative once past), which officials read first."""
    if ticket.due_at is None or ticket.status not in OPEN:
        return None
    seconds = (ticket.due_at - utcnow()).total_seconds()
    return int(seconds // 3600) if seconds >= 0 else -int(-seconds // 3600)


def is_overdue(ticket: Ticket, today: date) -> bool:
    """Past its due date (an urgent one: its due moment) and not answered yet."""
    late = ticket.due_at < utcnow() if ticket.due_at is not None else ticket.due_on < today
    return ticket.status in OPEN and late


@dataclass(frozen=True)
class TicketFilter:
    """What the inbox can be narrowed to; `communes` None means the whole province."""

    communes: Collection[int] | None = None
    status: TicketStatus | None = None
    category_id: int | None = None
    commune_code: int | None = None
    overdue_on: date | None = None  # only tickets overdue on this day (urgent ones: now)
    open_only: bool = False  # only tickets still waiting for an official (new, received, in progress)
    due_within: tuple[date, date] | None = None  # open, not overdue on the first day, due by the last
    since: datetime | None = None
    until: datetime | None = None


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _filtered(stmt: S, flt: TicketFilter) -> S:
    """Apply the filter (scope first) to a ticket query."""
    if flt.communes is not None:
        stmt = stmt.where(Ticket.commune_code.in_(list(flt.communes)))
    if flt.status is not None:
        stmt = stmt.where(Ticket.status == flt.status)
    if flt.category_id is not None:
        stmt = stmt.where(Ticket.category_id == flt.category_id)
    if flt.commune_code is not None:
        stmt = stmt.where(Ticket.commune_code == flt.commune_code)
    if flt.overdue_on is not None:
        stmt = stmt.where(Ticket.status.in_(OPEN), _late(flt.overdue_on))
    if flt.open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN))
    if flt.due_within is not None:
        first, last = flt.due_within
        on_time = or_(and_(Ticket.due_at.is_(None), Ticket.due_on >= first), Ticket.due_at >= utcnow())
        stmt = stmt.where(Ticket.status.in_(OPEN), on_time, Ticket.due_on <= last)
    if flt.since is not None:
        stmt = stmt.where(Ticket.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Ticket.created_at < flt.until)
    return stmt


def _late(today: date) -> ColumnElement[bool]:
    """Past the due day (an urgent ticket: past its due moment), as `is_overdue` says of one ticket."""
    return or_(and_(Ticket.due_at.is_(None), Ticket.due_on < today), Ticket.due_at < utcnow())


def get_all(session: Session, flt: TicketFilter, *, offset: int, limit: int) -> tuple[list[Ticket], int]:
    """One page of the inbox and the total: open tickets first, urgent ones at the top until answered,
    then the oldest due."""
    stmt = _filtered(select(Ticket), flt)
    total = count(session, flt)
    handled = Ticket.status.in_([TicketStatus.answered, TicketStatus.closed])
    order = (handled, Ticket.due_at.is_(None), Ticket.due_on, Ticket.due_at, Ticket.id)
    return list(session.scalars(stmt.order_by(*order).offset(offset).limit(limit))), total


def ticket_communes(session: Session) -> list[int]:
    """The communes that have reflections: what a filter over the whole country can offer by name."""
    stmt = select(Ticket.commune_code).where(Ticket.commune_code.is_not(None)).distinct()
    return [code for code in session.scalars(stmt) if code is not None]


def in_scope(ticket: Ticket, communes: Collection[int] | None) -> bool:
    """Whether an admin limited to these communes may read and answer the ticket."""
    return communes is None or ticket.commune_code in communes


def _event(
    ticket: Ticket,
    kind: str,
    admin_id: int | None,
    text: str = "",
    media: Media | None = None,
    target: str = "",
) -> None:
    """Append to the ticket's history."""
    ticket.events.append(TicketEvent(kind=kind, admin_id=admin_id, text=text, media=media, target=target))


def _reason(text: str) -> str:
    """Why a ticket moves, which its history must say."""
    if not text.strip():
        raise FeedbackError(mark("Hãy ghi lý do."))
    return text.strip()[:1000]


def transfer(ticket: Ticket, admin_id: int, commune_code: int, reason: str) -> None:
    """Hand the ticket to another commune: its officials answer it from now on, the sending ones no
    longer see it; the history keeps who moved it, from where, where to and why."""
    if ticket.status == TicketStatus.closed:
        raise FeedbackError(mark("Phản ánh đã đóng."))
    if areas.get_commune(commune_code) is None:
        raise FeedbackError(mark("Không có xã, phường này."))
    if commune_code == ticket.commune_code:
        raise FeedbackError(mark("Phản ánh đã thuộc xã này."))
    _event(
        ticket, "transfer", admin_id, _reason(reason), target=f"{ticket.commune_code or ''}:{commune_code}"
    )
    ticket.commune_code, ticket.assigned_to = commune_code, None


def forward(ticket: Ticket, admin_id: int, agency: str, reason: str) -> None:
    """Send the ticket on to the agency that can act (Công an xã, Phòng Tài nguyên…), as typed; the
    commune still answers the person."""
    agency = " ".join(agency.split())
    if not agency or len(agency) > 120:
        raise FeedbackError(mark("Tên đơn vị cần từ 1 đến 120 ký tự."))
    if ticket.status == TicketStatus.closed:
        raise FeedbackError(mark("Phản ánh đã đóng."))
    _event(ticket, "forward", admin_id, _reason(reason), target=agency)
    ticket.agency = agency
    if ticket.status in (TicketStatus.new, TicketStatus.received):
        set_status(ticket, TicketStatus.in_progress, admin_id)


def merge_candidates(session: Session, ticket: Ticket, limit: int = 30) -> list[Ticket]:
    """Tickets of the same commune this one may be a duplicate of: open, not duplicates themselves."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.commune_code == ticket.commune_code,
            Ticket.id != ticket.id,
            Ticket.duplicate_of.is_(None),
            Ticket.status != TicketStatus.closed,
        )
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def merge(duplicate: Ticket, main: Ticket, admin_id: int, note: str) -> None:
    """Close a duplicate into the main ticket of the same commune: both histories say so, and the main
    ticket's answers reach the duplicate's sender too."""
    if duplicate.id == main.id or duplicate.commune_code != main.commune_code:
        raise FeedbackError(mark("Chỉ gộp được vào một phản ánh khác của cùng xã."))
    if duplicate.duplicate_of is not None or main.duplicate_of is not None:
        raise FeedbackError(mark("Phản ánh này đã được gộp."))
    if main.status == TicketStatus.closed or duplicate.status == TicketStatus.closed:
        raise FeedbackError(mark("Phản ánh đã đóng."))
    duplicate.duplicate_of, duplicate.main = main.id, main
    _event(duplicate, "merged", admin_id, note.strip()[:1000], target=main.code)
    _event(main, "merged_in", admin_id, note.strip()[:1000], target=duplicate.code)
    set_status(duplicate, TicketStatus.closed, admin_id)


def duplicates(session: Session, ticket: Ticket) -> list[Ticket]:
    """The tickets closed into this one, whose senders get its answers."""
    return list(session.scalars(select(Ticket).where(Ticket.duplicate_of == ticket.id).order_by(Ticket.id)))


def receive(ticket: Ticket, admin_id: int) -> None:
    """An official opened a new ticket: it is now 'đã tiếp nhận'."""
    if ticket.status == TicketStatus.new:
        ticket.status = TicketStatus.received
        _event(ticket, "status", admin_id, TicketStatus.received.value)


def set_status(ticket: Ticket, status: TicketStatus, admin_id: int) -> None:
    """Move a ticket along by hand (in progress, closed…)."""
    ticket.status = status
    if status == TicketStatus.closed:
        ticket.closed_at = utcnow()
    _event(ticket, "status", admin_id, status.value)


def close_unanswerable(ticket: Ticket) -> None:
    """The sender erased their data: nobody is left to answer or to rate an answer, so the ticket is closed
    (and no longer counted as waiting or overdue) with its history saying why."""
    if ticket.status == TicketStatus.closed:
        return
    ticket.status, ticket.closed_at = TicketStatus.closed, utcnow()
    _event(ticket, "erased", None)


def assign(ticket: Ticket, admin_id: int, assignee_id: int | None, name: str) -> None:
    """Hand the ticket to a colleague."""
    ticket.assigned_to = assignee_id
    _event(ticket, "assign", admin_id, name)


def note(ticket: Ticket, admin_id: int, text: str) -> None:
    """An internal note the person never sees."""
    if not text.strip():
        raise FeedbackError(mark("Ghi chú trống."))
    _event(ticket, "note", admin_id, text.strip())


def answer(ticket: Ticket, admin_id: int, text: str, voice: Media | None) -> None:
    """Record the official's answer (text and/or voice); the caller queues it to the person."""
    if ticket.erased_at is not None:
        raise FeedbackError(mark("Người gửi đã xóa dữ liệu: không còn ai để nhận câu trả lời."))
    if ticket.status == TicketStatus.closed:
        raise FeedbackError(mark("Phản ánh đã đóng."))
    if not text.strip() and voice is None:
        raise FeedbackError(mark("Câu trả lời cần có chữ hoặc ghi âm."))
    ticket.status, ticket.answered_at, ticket.satisfied = TicketStatus.answered, utcnow(), None
    _event(ticket, "reply", admin_id, text.strip(), voice)


def rate(ticket: Ticket, satisfied: bool, reason: str = "") -> bool:
    """The person's verdict on an answer. Unsatisfied reopens the ticket once (True); after that, or when
    satisfied, it is closed."""
    ticket.satisfied = satisfied
    _event(ticket, "satisfied" if satisfied else "unsatisfied", None, reason.strip())
    if not satisfied and not ticket.reopened:
        ticket.reopened, ticket.status = True, TicketStatus.in_progress
        _event(ticket, "reopened", None, reason.strip())
        return True
    ticket.status, ticket.closed_at = TicketStatus.closed, utcnow()
    return False


def export_rows(
    session: Session,
    flt: TicketFilter,
    *,
    phones: bool,
    zone: ZoneInfo,
    translate: Callable[[str], str],
    statuses: Mapping[TicketStatus, str],
) -> list[list[Any]]:
    """The filtered tickets as spreadsheet rows in the reader's words (status and satisfaction by label, never
    a code), times on the deployment's clock (anonymous ones keep no name nor number); `phones`: the reader
    is one of the officials who may call people back."""
    rows: list[list[Any]] = []
    for t in session.scalars(_filtered(select(Ticket), flt).order_by(Ticket.id)):
        rows.append(
            [
                t.code,
                t.created_at.astimezone(zone).date().isoformat(),
                translate(t.category.label) if t.category else "",
                _commune_name(t.commune_code),
                t.village.name if t.village else "",
                t.sender_name,
                (t.phone or "") if phones else "",
                t.on_behalf_of or "",
                translate(statuses[t.status]),
                t.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if t.due_at else t.due_on.isoformat(),
                t.text,
                next((e.text for e in reversed(t.events) if e.kind == "reply"), ""),
                "" if t.satisfied is None else translate(mark("Có") if t.satisfied else mark("Không")),
            ]
        )
    return rows


def _commune_name(code: int | None) -> str:
    """A commune's name for the export (the code alone means nothing to most readers)."""
    area = areas.get_commune(code) if code else None
    return area.name if area else ""


def count(session: Session, flt: TicketFilter) -> int:
    """Tickets the filter keeps: what the inbox behind a dashboard number lists."""
    return int(session.scalar(_filtered(select(func.count()).select_from(Ticket), flt)) or 0)


def count_by_status(session: Session, flt: TicketFilter) -> dict[str, int]:
    """Tickets the filter keeps, by status (the dashboard's table beside the inbox's status filter)."""
    stmt = _filtered(select(Ticket.status, func.count()), flt).group_by(Ticket.status)
    return {str(status): int(n) for status, n in session.execute(stmt)}
