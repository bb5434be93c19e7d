"""Jinja2 environments with autoescaping and gettext, shared by the web chat page and the admin."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from bot.i18n import Catalogs


def make_templates(directory: Path, catalogs: Catalogs, language: str) -> Jinja2Templates:
    """Templates whose `_()` and `{% trans %}` speak one language; autoescape is always on for HTML."""
    templates = Jinja2Templates(directory=str(directory))
    env = templates.env
    env.autoescape = True
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        catalogs.gettext(language), catalogs.ngettext(language), newstyle=True
    )
    return templates
