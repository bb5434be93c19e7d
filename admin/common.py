"""What every admin page shares: page rendering and its helpers, pagination, redirects, private files,
typed commune codes and the friendly error pages."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin.deps import LoginRequired, PasswordChangeRequired, admin_gettext, csrf_token, to_login
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser, Role
from bot.areas import service as areas
from bot.i18n import KNOWN_LANGUAGES, SOURCE_LANGUAGE, mark
from bot.media import store
from bot.media.models import Media
from bot.media.responses import stored_file
from bot.people import service as people
from bot.runtime import runtime_of

log = logging.getLogger(__name__)
PAGE_SIZE = 25
ROLE_LABELS = {
    Role.province_admin: mark("Quản trị tỉnh"),
    Role.editor: mark("Biên tập viên"),
    Role.commune_officer: mark("Cán bộ xã"),
    Role.viewer: mark("Người xem"),
    Role.translator: mark("Người dịch"),
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


def local_period(start: str, end: str, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Typed local days '2026-06-01'..'2026-06-30' (both included; either may be blank) as the UTC moments
    that bound them: officials count days on the deployment's clock."""

    def moment(text: str, shift: int) -> datetime | None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime.combine(day + timedelta(days=shift), time(), zone)

    return moment(start, 0), moment(end, 1)


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET."""
    return RedirectResponse(url, status_code=303)


def private_file(request: Request, stored: Media | None) -> Response:
    """A file an admin page shows only to officials allowed that page (a person's photo, an official's
    answer, a draft's audio), never cached anywhere on the way; 404 when there is none."""
    if stored is None:
        raise HTTPException(status_code=404, detail=mark("Không có tệp này."))
    files = store.of(runtime_of(request).settings)
    found = stored_file(files, stored.path, stored.mime, {"Cache-Control": "private, no-store"})
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có tệp này."))
    return found


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


def parse_languages(codes: list[str] | None) -> list[str]:
    """The languages ticked for a translator; an unknown code is refused with a message."""
    for code in codes or []:
        if code not in KNOWN_LANGUAGES or code == SOURCE_LANGUAGE:
            raise accounts.AccountError(mark("Không có ngôn ngữ '{code}'."), code=code[:20])
    return sorted(set(codes or []))


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
