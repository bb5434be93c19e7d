"""Admin pages: login, dashboard, people, admin accounts, villages and the audit log."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Form,
    HTTPException,
    Query,
    Request,
)
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin.deps import (
    AdminDep,
    LoginRequired,
    PasswordChangeRequired,
    PlacesEditorDep,
    ProvinceAdminDep,
    SessionDep,
    admin_gettext,
    client_ip,
    csrf_protect,
    csrf_token,
    to_login,
)
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.areas import service as areas
from bot.areas.models import Village
from bot.channels import service as channels
from bot.conversation.feedback import STATUS_LABELS as TICKET_LABELS
from bot.db import local_today, utcnow
from bot.feedback import service as feedback
from bot.i18n import KNOWN_LANGUAGES, mark
from bot.media.models import Media
from bot.messages import service as messages
from bot.messages.models import Direction, Message
from bot.people import service as people
from bot.people.windows import reply_windows
from bot.runtime import runtime_of

log = logging.getLogger(__name__)
router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
PAGE_SIZE = 25
ROLE_LABELS = {
    Role.province_admin: mark("Quản trị tỉnh"),
    Role.editor: mark("Biên tập viên"),
    Role.commune_officer: mark("Cán bộ xã"),
    Role.viewer: mark("Người xem"),
}


@dataclass(frozen=True)
class Page:
    """Pagination numbers for a list."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        """Rows to skip for this page."""
        return (self.number - 1) * self.size


def render(
    request: Request, template: str, admin: AdminUser | None, status: int = 200, **ctx: Any
) -> Response:
    """Render an admin page with what every page needs: the admin, CSRF token and helpers."""
    templates = runtime_of(request).admin_templates
    context = {
        "admin": admin,
        "csrf_token": csrf_token(request),
        "role_labels": ROLE_LABELS,
        "label": labeller(request),
        "commune_name": commune_name,
        "province_name": province_name,
        "language_name": language_name,
        "app_name": people.app_name,
        "day_label": day_label,
        **ctx,
    }
    return templates.TemplateResponse(request, template, context, status_code=status)


def labeller(request: Request) -> Callable[[Mapping[Any, str], object], str]:
    """`label(labels, key)` for templates: a catalog label in the admin's language, or the stored value as
    typed when it has none, always as plain text that Jinja escapes (the templates' `_()` would mark stored
    data safe HTML)."""
    gettext = admin_gettext(request)
    return lambda labels, key: gettext(labels[key]) if key in labels else str(key)


def commune_name(code: int | None) -> str:
    """A commune's full name for display, or a dash."""
    area = areas.get_commune(code) if code else None
    return area.name if area else "—"


def province_name(code: int | None) -> str:
    """A province's full name for display, or a dash."""
    area = areas.get_province(code) if code else None
    return area.name if area else "—"


def language_name(code: str | None) -> str:
    """A language's Vietnamese name for display."""
    lang = KNOWN_LANGUAGES.get(code or "")
    return lang.vietnamese_name if lang else (code or "—")


def day_label(day: str) -> str:
    """'2026-11-22' -> '22/11', as Vietnamese write short dates."""
    parts = day.split("-")
    return f"{parts[2]}/{parts[1]}" if len(parts) == 3 else day


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET."""
    return RedirectResponse(url, status_code=303)


def private_file(request: Request, stored: Media | None) -> Response:
    """A file an admin page shows only to officials allowed that page (a person's photo, an official's
    answer, a draft's audio), never cached anywhere on the way; 404 when there is none."""
    if stored is None:
        raise HTTPException(status_code=404, detail=mark("Không có tệp này."))
    path = Path(runtime_of(request).settings.media_dir) / stored.path
    return FileResponse(path, media_type=stored.mime, headers={"Cache-Control": "private, no-store"})


def parse_codes(raw: str) -> list[int]:
    """Commune codes typed as '1234, 5678'; unknown codes are refused with a message."""
    codes: list[int] = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or areas.get_commune(int(part)) is None:
            raise accounts.AccountError(mark("Mã xã '{code}' không tồn tại."), code=part)
        codes.append(int(part))
    return codes


# --- login -----------------------------------------------------------------


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
    admin = accounts.get(session, admin_id) if isinstance(admin_id, int) else None
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


# --- dashboard -------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, admin: AdminDep) -> Response:
    """Who Loa Bản reaches and how much it is used, in the admin's scope."""
    scope = accounts.scope(admin)
    since = utcnow() - timedelta(days=14)
    per_day: dict[str, dict[str, int]] = {}
    for day, direction, n in messages.count_per_day(session, since, scope):
        per_day.setdefault(day, {"in": 0, "out": 0})[direction] = n
    settings = runtime_of(request).settings
    tickets, overdue = feedback.summary(session, scope, local_today(settings.timezone))
    return render(
        request,
        "dashboard.html",
        admin,
        total=people.count_all(session, scope),
        by_language=people.count_by_language(session, scope),
        by_channel=people.count_by_channel(session, scope, reply_windows(settings)),
        zalo=settings.zalo_enabled,
        zalo_token_expiry=channels.token_expiry(session, "zalo"),
        by_commune=people.count_by_commune(session, scope),
        new_per_day=people.new_per_day(session, since, scope),
        messages_per_day=sorted(per_day.items()),
        tickets=tickets,
        overdue=overdue,
        ticket_labels=TICKET_LABELS,
    )


# --- people ----------------------------------------------------------------


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
    person = people.get(session, person_id)
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


# --- admin accounts --------------------------------------------------------


def account_form(
    request: Request, admin: AdminUser, target: AdminUser | None, error: str | None = None
) -> Response:
    """The create/edit account form, with an error (status 400) when a change was refused."""
    status = 400 if error else 200
    return render(
        request, "admin_form.html", admin, status=status, target=target, error=error, roles=list(Role)
    )


def get_account(session: Session, admin_id: int) -> AdminUser:
    """An admin account by id, or a 404 page."""
    target = accounts.get(session, admin_id)
    if target is None:
        raise HTTPException(status_code=404, detail=mark("Không có tài khoản này."))
    return target


def get_village_in_scope(session: Session, admin: AdminUser, village_id: int) -> Village:
    """A village the admin may change, or a 404 page."""
    village = areas.get_village(session, village_id)
    if village is None:
        raise HTTPException(status_code=404, detail=mark("Không có thôn này."))
    _commune_in_scope(admin, village.commune_code)
    return village


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


# --- villages --------------------------------------------------------------


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
        villages=areas.list_villages(session, chosen.code) if chosen else [],
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
    village = areas.get_or_create_village(session, commune_code=commune, name=name)
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
    areas.update_village(session, village, name=name)
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
    areas.delete_village(session, village)
    return redirect(f"/admin/villages?commune={commune}")


def install_handlers(app: FastAPI) -> None:
    """Turn the admin's auth exceptions into redirects and HTTP errors into friendly pages."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        return to_login(request)

    @app.exception_handler(PasswordChangeRequired)
    async def _password(_request: Request, _exc: PasswordChangeRequired) -> Response:
        return redirect("/admin/password")

    @app.exception_handler(OSError)
    async def _storage(request: Request, exc: OSError) -> Response:
        # The media folder read-only, full or gone: the request's transaction was rolled back.
        log.error("a file could not be written or read: %s", exc)
        message = admin_gettext(request)(
            mark(
                "Máy chủ không lưu được tệp (thư mục lưu tệp bị khóa ghi hoặc đã đầy), nên chưa có gì được "
                "lưu. Hãy báo người quản trị máy chủ rồi thử lại."
            )
        )
        if request.url.path.startswith("/admin") and "text/html" in request.headers.get("accept", ""):
            return render(request, "error.html", None, 503, message=message)
        return JSONResponse({"error": message}, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/admin") and "text/html" in request.headers.get("accept", ""):
            message = admin_gettext(request)(str(exc.detail))
            return render(request, "error.html", None, exc.status_code, message=message)
        return await http_exception_handler(request, exc)
