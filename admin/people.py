"""The people Loa Bản reaches: a searchable list and each person's conversation, in the admin's scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from admin.common import PAGE_SIZE, Page, local_period, render
from admin.deps import AdminDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.i18n import mark
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.runtime import runtime_of

STANDING_LABELS = {
    people.Standing.onboarded: mark("Đã đăng ký xong"),
    people.Standing.receiving: mark("Đang nhận tin"),
    people.Standing.stopped: mark("Đã ngừng nhận"),
    people.Standing.signing_up: mark("Đang đăng ký"),
}
router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])


class Listing(BaseModel):
    """The people list's filters as typed in its query string (the dashboard's numbers link to them)."""

    q: str = ""
    lang: str = ""
    standing: str = ""  # a people.Standing value: finished onboarding, receiving, stopped, signing up
    commune: str = ""
    channel: str = ""
    start: str = ""  # first wrote from this local day ...
    end: str = ""  # ... to this one, both included

    @property
    def query(self) -> str:
        """The same filters for the pager's links."""
        return urlencode({k: v for k, v in self.model_dump().items() if v})

    def to_filter(self, admin: AdminUser, zone: ZoneInfo) -> people.PersonFilter:
        """The service's filter, always inside the admin's communes."""
        since, until = local_period(self.start, self.end, zone)
        return people.PersonFilter(
            query=self.q,
            language=self.lang or None,
            commune_codes=accounts.scope(admin),
            standing=people.Standing(self.standing) if self.standing in people.Standing.__members__ else None,
            commune_code=int(self.commune) if self.commune.isdigit() else None,
            channel=self.channel or None,
            since=since,
            until=until,
        )


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    shown: Annotated[Listing, Query()],
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Searchable, paginated list of people in the admin's communes."""
    flt = shown.to_filter(admin, ZoneInfo(runtime_of(request).settings.timezone))
    rows, total = people.get_all(session, flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    template = "people_rows.html" if request.headers.get("HX-Request") else "people.html"
    return render(
        request,
        template,
        admin,
        rows=rows,
        page=Page(page, total),
        shown=shown,
        q=shown.q,
        lang=shown.lang,
        standing_labels=STANDING_LABELS,
        languages=runtime_of(request).catalogs.languages(),
    )


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_detail(request: Request, session: SessionDep, admin: AdminDep, person_id: int) -> Response:
    """One person and their conversation, only inside the admin's scope."""
    person = people.get(session, person_id=person_id)
    if person is None or not people.in_scope(person, accounts.scope(admin)):
        raise HTTPException(status_code=404, detail=mark("Không tìm thấy người này trong phạm vi của bạn."))
    return render(
        request,
        "person.html",
        admin,
        person=person,
        urns=people.urns_of(session, person),
        history=readable(messages.history(session, person.id), admin_gettext(request)),
    )


def readable(history: list[Message], _: Callable[[str], str]) -> list[tuple[Message, str]]:
    """Each message with what an official should read: a tapped button by the label the person saw
    (its payload, e.g. 'consent:yes', means nothing to them), anything else as written."""
    labels: dict[str, str] = {}
    shown = []
    for message in history:
        for button in message.payload.get("buttons", []) if message.direction == Direction.outbound else []:
            labels[str(button.get("payload"))] = str(button.get("label"))
        if message.direction == Direction.inbound and message.kind == "button":
            shown.append((message, "🔘 " + labels.get(message.text, _("(bấm một nút cũ)"))))
        else:
            shown.append((message, message.text))
    return shown
