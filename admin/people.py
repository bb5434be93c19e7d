"""The people Loa Bản reaches: a searchable list and each person's conversation, in the admin's scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from admin.common import PAGE_SIZE, Page, render
from admin.deps import AdminDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.i18n import mark
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.runtime import runtime_of

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    q: str = "",
    lang: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Searchable, paginated list of people in the admin's communes."""
    flt = people.PersonFilter(query=q, language=lang or None, commune_codes=accounts.scope(admin))
    rows, total = people.get_all(session, flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    template = "people_rows.html" if request.headers.get("HX-Request") else "people.html"
    return render(
        request,
        template,
        admin,
        rows=rows,
        page=Page(page, total),
        q=q,
        lang=lang,
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
