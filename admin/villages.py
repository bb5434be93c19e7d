"""Villages of a commune: listed for everyone, added, renamed and removed by those who edit places."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.common import redirect, render
from admin.deps import AdminDep, PlacesEditorDep, SessionDep, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.areas import service as areas
from bot.areas import villages as village_service
from bot.areas.models import Village
from bot.i18n import mark
from bot.security import client_ip

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])


def get_village_in_scope(session: Session, admin: AdminUser, village_id: int) -> Village:
    """A village the admin may change, or a 404 page."""
    village = village_service.get(session, village_id=village_id)
    if village is None:
        raise HTTPException(status_code=404, detail=mark("Không có thôn này."))
    _commune_in_scope(admin, village.commune_code)
    return village


@router.get("/villages", response_class=HTMLResponse)
def villages_page(
    request: Request, session: SessionDep, admin: AdminDep, commune: int = 0, q: str = ""
) -> Response:
    """Pick a commune (search by name), then list and edit its villages."""
    scope = accounts.scope(admin)
    chosen = areas.get_commune(commune) if commune else None
    if chosen is not None and scope is not None and chosen.code not in scope:
        raise HTTPException(status_code=404, detail=mark("Xã này không thuộc phạm vi của bạn."))
    if scope is not None:
        matches = [a for code in scope if (a := areas.get_commune(code)) is not None]
    else:
        matches = areas.search(areas.all_communes(), q)[:30] if q else []
    return render(
        request,
        "villages.html",
        admin,
        commune=chosen,
        matches=matches,
        q=q,
        villages=village_service.get_all(session, commune_code=chosen.code) if chosen else [],
        can_edit=accounts.can_edit_people_and_places(admin),
        error=None,
    )


def _commune_in_scope(admin: AdminUser, commune: int) -> None:
    """Refuse village changes outside the admin's communes."""
    scope = accounts.scope(admin)
    if areas.get_commune(commune) is None or (scope is not None and commune not in scope):
        raise HTTPException(status_code=404, detail=mark("Xã này không thuộc phạm vi của bạn."))


@router.post("/villages")
def village_create(
    request: Request,
    session: SessionDep,
    admin: PlacesEditorDep,
    commune: Annotated[int, Form()],
    name: Annotated[str, Form(min_length=1, max_length=120)],
) -> Response:
    """Add a village to a commune."""
    _commune_in_scope(admin, commune)
    village = village_service.get_or_create(session, commune_code=commune, name=name)
    accounts.audit(session, admin, "village_created", f"village:{village.id}", client_ip(request), name=name)
    return redirect(f"/admin/villages?commune={commune}")


@router.post("/villages/{village_id}")
def village_update(
    request: Request,
    session: SessionDep,
    admin: PlacesEditorDep,
    village_id: int,
    name: Annotated[str, Form(min_length=1, max_length=120)],
) -> Response:
    """Rename a village."""
    village = get_village_in_scope(session, admin, village_id)
    village_service.update(session, village=village, name=name)
    accounts.audit(session, admin, "village_renamed", f"village:{village.id}", client_ip(request), name=name)
    return redirect(f"/admin/villages?commune={village.commune_code}")


@router.post("/villages/{village_id}/delete")
def village_delete(
    request: Request, session: SessionDep, admin: PlacesEditorDep, village_id: int
) -> Response:
    """Remove a village; its people keep their commune."""
    village = get_village_in_scope(session, admin, village_id)
    commune = village.commune_code
    accounts.audit(
        session, admin, "village_deleted", f"village:{village.id}", client_ip(request), name=village.name
    )
    village_service.delete(session, village=village)
    return redirect(f"/admin/villages?commune={commune}")
