"""Per-request dependencies of the admin: the transaction, the logged-in admin, CSRF and role checks."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.accounts.service import BULLETIN_AUTHORS, CONTENT_EDITORS
from bot.i18n import mark
from bot.runtime import runtime_of
from bot.translations import service as translations

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_session(request: Request) -> Iterator[Session]:
    """The request owns its transaction: committed when the view returns, rolled back if it raises; what
    the page sends people (an official's reply) reads the strings reviewed so far."""
    runtime = runtime_of(request)
    with runtime.db.transaction() as session:
        translations.refresh(session, runtime.catalogs)
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class LoginRequired(Exception):
    """Raised to send an anonymous visitor to the login page."""


class PasswordChangeRequired(Exception):
    """Raised until an admin with a one-time password has chosen their own."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def session_admin(request: Request, session: Session) -> AdminUser | None:
    """The active admin the cookie names, if their sessions were not ended since it was issued."""
    admin_id = request.session.get("admin_id")
    admin = accounts.get(session, admin_id=admin_id) if isinstance(admin_id, int) else None
    if admin is None or not admin.active or request.session.get("admin_version") != admin.session_version:
        return None
    return admin


def signed_in(request: Request) -> bool:
    """Whether the cookie names a signed-in admin (in a transaction of its own, before the request's)."""
    with runtime_of(request).db.transaction() as session:
        return session_admin(request, session) is not None


def to_login(request: Request) -> Response:
    """Send an anonymous visitor to log in (htmx follows HX-Redirect; a browser the 303)."""
    if request.headers.get("HX-Request"):
        return Response(status_code=401, headers={"HX-Redirect": "/admin/login"})
    return RedirectResponse("/admin/login", status_code=303)


class SignedInGate:
    """Refuses an admin POST (but the login) from anyone not signed in before its body is read: FastAPI
    reads a route's form before its dependencies run, so without this anybody could make the server
    parse a large form."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the session of unsafe /admin requests; pass everything else."""
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and scope["path"].startswith("/admin")
            and scope["path"] != "/admin/login"
        ):
            request = Request(scope)
            if not await asyncio.to_thread(signed_in, request):
                await to_login(request)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def csrf_protect(request: Request) -> None:
    """Every unsafe request must carry the session's token, in the form or the X-CSRF-Token header; a
    session without a token is refused before the body is read."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    if not isinstance(expected, str):
        raise HTTPException(
            status_code=403, detail=mark("Phiên làm việc không hợp lệ (CSRF). Hãy tải lại trang.")
        )
    given = request.headers.get("X-CSRF-Token")
    if given is None:
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not secrets.compare_digest(given, expected):
        raise HTTPException(
            status_code=403, detail=mark("Phiên làm việc không hợp lệ (CSRF). Hãy tải lại trang.")
        )


def current_admin(request: Request, session: SessionDep) -> AdminUser:
    """The logged-in, active admin whose session was not ended since; anyone else is sent to log in."""
    admin = session_admin(request, session)
    if admin is None:
        request.session.pop("admin_id", None)
        raise LoginRequired
    if admin.must_change_password and request.url.path != "/admin/password":
        raise PasswordChangeRequired
    if admin.role == Role.translator and not translator_may_open(request.url.path):
        raise HTTPException(status_code=403, detail=mark("Bạn không có quyền làm việc này."))
    return admin


TRANSLATOR_PATHS = ("/admin/translations/", "/admin/translations", "/admin/password", "/admin")


def translator_may_open(path: str) -> bool:
    """A translator works in the workbench and nowhere else (the dashboard only sends them there): one
    check for every admin route, so a page added later cannot forget it."""
    return path in TRANSLATOR_PATHS or path.startswith(TRANSLATOR_PATHS[0])


AdminDep = Annotated[AdminUser, Depends(current_admin)]


def require(*roles: Role) -> Callable[[AdminUser], AdminUser]:
    """A dependency that lets only the given roles through."""

    def check(admin: AdminDep) -> AdminUser:
        if admin.role not in roles:
            raise HTTPException(status_code=403, detail=mark("Bạn không có quyền làm việc này."))
        return admin

    return check


ProvinceAdminDep = Annotated[AdminUser, Depends(require(Role.province_admin))]
PlacesEditorDep = Annotated[AdminUser, Depends(require(Role.province_admin, Role.commune_officer))]
EditorDep = Annotated[AdminUser, Depends(require(*CONTENT_EDITORS))]
AuthorDep = Annotated[AdminUser, Depends(require(*BULLETIN_AUTHORS))]
AnswererDep = Annotated[AdminUser, Depends(require(Role.province_admin, Role.commune_officer, Role.editor))]


def admin_gettext(request: Request) -> Callable[[str], str]:
    """Translate into the admin UI's language (Vietnamese unless configured otherwise)."""
    runtime = runtime_of(request)
    return runtime.catalogs.gettext(runtime.settings.admin_language)


async def form_data(request: Request) -> FormData:
    """The posted form as it came, for forms whose fields are named at run time (one per language)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]
