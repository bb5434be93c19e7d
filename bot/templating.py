"""Jinja2 environments with autoescaping and gettext, shared by the web chat page and the admin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi.templating import Jinja2Templates

from bot.i18n import Catalogs


def make_templates(directory: Path, catalogs: Catalogs, language: str, zone: str) -> Jinja2Templates:
    """Templates whose `_()` and `{% trans %}` speak one language and whose `|local` filter shows stored
    (UTC) times in the deployment's time zone; autoescape is always on for HTML."""
    templates = Jinja2Templates(directory=str(directory))
    env = templates.env
    env.filters["local"] = local_time(ZoneInfo(zone))
    env.filters["num"] = lambda n: format_decimal(n, locale="vi")  # 12.345, as Vietnamese write it
    env.autoescape = True
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        catalogs.gettext(language), catalogs.ngettext(language), newstyle=True
    )
    return templates


def local_time(zone: ZoneInfo) -> Callable[[date | datetime, str], str]:
    """A filter formatting a moment in local time (officials read Viet Nam's clock, not UTC); a calendar
    date is shown as it is."""

    def local(value: date | datetime, pattern: str = "%d/%m/%Y %H:%M") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(zone)
        return value.strftime(pattern)

    return local
