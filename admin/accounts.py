"""Admin accounts: signing in and out, one's own password, and the province admin's list of accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.common import parse_codes, parse_languages, redirect, render
from admin.deps import (
    AdminDep,
    ProvinceAdminDep,
    SessionDep,
    admin_gettext,
    csrf_protect,
    csrf_token,
)
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.i18n import KNOWN_LANGUAGES, SOURCE_LANGUAGE, mark
from bot.runtime import runtime_of
from bot.security import client_ip

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The login form."""
    return render(request, "login.html", None, error=None)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    """Log in; after too many failures from one address, each try waits longer (never a lock-out)."""
    settings = runtime_of(request).settings
    result = accounts.login(
        session,
        username=username,
        password=password,
        ip=client_ip(request),
        max_failures=settings.login_max_failures,
        lockout=timedelta(minutes=settings.login_lockout_minutes),
    )
    if result.wait_seconds:
        _ = admin_gettext(request)
        error = _("Bạn đã nhập sai nhiều lần. Hãy đợi {n} giây rồi thử lại.").format(n=result.wait_seconds)
        page = render(request, "login.html", None, status=429, error=error)
        page.headers["Retry-After"] = str(result.wait_seconds)
        return page
    if result.admin is None:
        accounts.audit(session, None, "login_failed", ip=client_ip(request), username=username[:80])
        _ = admin_gettext(request)
        return render(request, "login.html", None, status=401, error=_("Sai tên đăng nhập hoặc mật khẩu."))
    request.session.clear()
    request.session["admin_id"] = result.admin.id
    request.session["admin_version"] = result.admin.session_version
    csrf_token(request)
    accounts.audit(session, result.admin, "login", ip=client_ip(request))
    return redirect("/admin")


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the account's sessions everywhere (a copied cookie stops working too) and forget this one."""
    admin_id = request.session.get("admin_id")
    admin = accounts.get(session, admin_id=admin_id) if isinstance(admin_id, int) else None
    if admin is not None and request.session.get("admin_version") == admin.session_version:
        accounts.end_sessions(admin)
    request.session.clear()
    return redirect("/admin/login")


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, admin: AdminDep) -> Response:
    """Change one's own password (forced after a one-time password)."""
    return render(request, "password.html", admin, error=None)


@router.post("/password")
def change_password(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    repeat: Annotated[str, Form()],
) -> Response:
    """Check the current password, then store the new one."""
    _ = admin_gettext(request)
    error = None
    if not accounts.verify_password(admin, current):
        error = _("Mật khẩu hiện tại không đúng.")
    elif new != repeat:
        error = _("Hai lần nhập mật khẩu mới không giống nhau.")
    else:
        try:
            accounts.set_password(session, admin, new)
        except accounts.AccountError as exc:
            error = exc.translate(_)
    if error:
        return render(request, "password.html", admin, status=400, error=error)
    accounts.audit(session, admin, "password_changed", ip=client_ip(request))
    request.session["admin_version"] = admin.session_version  # this browser stays signed in, no other
    return redirect("/admin")


def account_form(
    request: Request, admin: AdminUser, target: AdminUser | None, error: str | None = None
) -> Response:
    """The create/edit account form, with an error (status 400) when a change was refused."""
    status = 400 if error else 200
    return render(
        request,
        "admin_form.html",
        admin,
        status=status,
        target=target,
        error=error,
        roles=list(Role),
        languages=[lang for code, lang in KNOWN_LANGUAGES.items() if code != SOURCE_LANGUAGE],
    )


def get_account(session: Session, admin_id: int) -> AdminUser:
    """An admin account by id, or a 404 page."""
    target = accounts.get(session, admin_id=admin_id)
    if target is None:
        raise HTTPException(status_code=404, detail=mark("Không có tài khoản này."))
    return target


@router.get("/admins", response_class=HTMLResponse)
def admins_list(request: Request, session: SessionDep, admin: ProvinceAdminDep) -> Response:
    """All admin accounts."""
    return render(request, "admins.html", admin, rows=accounts.get_all(session))


@router.get("/admins/new", response_class=HTMLResponse)
def admin_new_page(request: Request, admin: ProvinceAdminDep) -> Response:
    """Form for a new admin account."""
    return account_form(request, admin, None)


@router.post("/admins/new")
def admin_create(
    request: Request,
    session: SessionDep,
    admin: ProvinceAdminDep,
    username: Annotated[str, Form()],
    role: Annotated[Role, Form()],
    full_name: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    communes: Annotated[str, Form()] = "",
    languages: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create an admin with a one-time password shown once."""
    password = accounts.generate_password()
    try:
        target = accounts.create(
            session,
            username=username,
            password=password,
            role=role,
            full_name=full_name,
            unit=unit,
            commune_codes=parse_codes(communes),
            language_codes=parse_languages(languages),
            must_change_password=True,
        )
    except accounts.AccountError as exc:
        return account_form(request, admin, None, exc.translate(admin_gettext(request)))
    accounts.audit(session, admin, "admin_created", f"admin:{target.id}", client_ip(request), role=role.value)
    return render(request, "admin_password.html", admin, target=target, password=password)


@router.get("/admins/{admin_id}", response_class=HTMLResponse)
def admin_edit_page(
    request: Request, session: SessionDep, admin: ProvinceAdminDep, admin_id: int
) -> Response:
    """Form to change an admin's role, communes and status."""
    return account_form(request, admin, get_account(session, admin_id))


@router.post("/admins/{admin_id}")
def admin_update(
    request: Request,
    session: SessionDep,
    admin: ProvinceAdminDep,
    admin_id: int,
    role: Annotated[Role, Form()],
    full_name: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    communes: Annotated[str, Form()] = "",
    active: Annotated[bool, Form()] = False,
    languages: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save an admin's role, communes and status; nobody can lock themselves out."""
    target = get_account(session, admin_id)
    try:
        if target.id == admin.id and (role != Role.province_admin or not active):
            raise accounts.AccountError(mark("Bạn không thể tự hạ quyền hay khóa tài khoản của chính mình."))
        accounts.update(
            session,
            target,
            role=role,
            full_name=full_name,
            unit=unit,
            active=active,
            commune_codes=parse_codes(communes),
            language_codes=parse_languages(languages),
        )
    except accounts.AccountError as exc:
        return account_form(request, admin, target, exc.translate(admin_gettext(request)))
    accounts.audit(session, admin, "admin_updated", f"admin:{target.id}", client_ip(request), role=role.value)
    return redirect("/admin/admins")


@router.post("/admins/{admin_id}/reset-password")
def admin_reset_password(
    request: Request, session: SessionDep, admin: ProvinceAdminDep, admin_id: int
) -> Response:
    """Give an admin a new one-time password."""
    target = get_account(session, admin_id)
    password = accounts.generate_password()
    accounts.set_password(session, target, password, must_change=True)
    accounts.audit(session, admin, "admin_password_reset", f"admin:{target.id}", client_ip(request))
    return render(request, "admin_password.html", admin, target=target, password=password)
