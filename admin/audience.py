"""What the admin pages of polls and contests share: which ones an official may see and run, how their
results are split into groups and what those groups are called, and how their spreadsheets leave."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import BackgroundTasks, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from admin.common import commune_name, language_name, province_name
from admin.feedback import Outbox, queue_messages
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.areas import villages as village_service
from bot.conversation.types import Reply
from bot.i18n import mark
from bot.people import service as people
from bot.people.models import PersonRole
from bot.polls import service as polls
from bot.runtime import runtime_of
from bot.spreadsheet import workbook_of

Asked = TypeVar("Asked", bound=polls.Addressed)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_LABELS = {
    "province": mark("Tỉnh"),
    "commune": mark("Xã"),
    "village": mark("Thôn, bản"),
    "language": mark("Ngôn ngữ"),
    "channel": mark("Ứng dụng"),
    "role": mark("Vai trò"),
}
ROLE_LABELS = {
    PersonRole.villager.value: mark("Người dân"),
    PersonRole.prestigious.value: mark("Người có uy tín"),
}
Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def seen(session: Session, admin: AdminUser, found: Asked | None, missing: str) -> Asked:
    """A poll or contest this admin may see, or a 404 page saying `missing` (an officer learns nothing of
    other communes' ones)."""
    if found is None or not polls.open_to(session, found, accounts.scope(admin)):
        raise HTTPException(status_code=404, detail=missing)
    return found


def may_run(session: Session, admin: AdminUser, asked: polls.Addressed) -> bool:
    """Authors run polls and contests; commune officers only those asked only in their communes."""
    return admin.role in accounts.BULLETIN_AUTHORS and polls.may_run(session, asked, accounts.scope(admin))


def runnable(session: Session, admin: AdminUser, asked: Asked, refused: str) -> Asked:
    """A poll or contest (already seen) this admin may change, or a 403 page saying `refused`."""
    if not may_run(session, admin, asked):
        raise HTTPException(status_code=403, detail=refused)
    return asked


def local_moment(request: Request, value: str) -> datetime | None:
    """A local date and time from a form, as a moment; empty means none (polls and contest rounds)."""
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(runtime_of(request).settings.timezone))
    except ValueError as exc:
        raise polls.PollError(mark("Thời gian không hợp lệ: {value}"), value=value[:40]) from exc


def group_names(
    session: Session, by: str, keys: Collection[Any], gettext: Callable[[str], str]
) -> dict[Any, str]:
    """What officials call each group (a place's name, a language's, an app's, a role's), in the order of
    those names: tables and sheets list groups as people read them, not by code."""
    unknown = gettext(mark("Chưa rõ"))
    if by == "commune":
        names = {k: commune_name(k) if k else unknown for k in keys}
    elif by == "province":
        names = {k: province_name(k) if k else unknown for k in keys}
    elif by == "village":
        villages = [v for k in keys if k and (v := village_service.get(session, village_id=k)) is not None]
        named = {v.id: v.name for v in villages}
        names = {k: named.get(k, unknown) for k in keys}
    elif by == "language":
        names = {k: language_name(k) for k in keys}
    elif by == "channel":
        names = {k: people.app_name(f"{k}:") for k in keys}
    else:
        names = {k: gettext(ROLE_LABELS[k]) if k in ROLE_LABELS else str(k) for k in keys}
    return dict(sorted(names.items(), key=lambda item: item[1]))


def results_back(
    session: Session,
    request: Request,
    background: BackgroundTasks,
    found: Iterable[polls.Recipient],
    text: Callable[[polls.Recipient], str],
) -> None:
    """Send each person who took part their results as one message (`text` writes it in their language and
    for their commune) through the outbox: sent after this commit, and sent again after a crash."""
    outbox: Outbox = [(r.urn, r.person_id, [Reply(text(r))]) for r in found]
    queue_messages(session, request, background, outbox)


def percent(part: int, whole: int) -> float:
    """A share as a spreadsheet shows it, in percent to one decimal (0 when nobody answered)."""
    return round(100 * part / whole, 1) if whole else 0.0


def spreadsheet(filename: str, sheets: Iterable[Sheet]) -> Response:
    """Sheets of a header and rows as a downloaded .xlsx file (every text written as text, never a
    formula: see bot/spreadsheet.py)."""
    return Response(
        workbook_of(sheets),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
