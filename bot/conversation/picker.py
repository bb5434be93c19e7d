"""Paged button lists, so 34 provinces or 126 communes fit a small phone screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.conversation.types import Button

PAGE_SIZE = 8


def paged(items: Sequence[Button], page: int, nav_prefix: str, gettext: Callable[[str], str]) -> list[Button]:
    """One page of buttons plus 'previous'/'next' buttons whose payload is `nav_prefix:page`."""
    _ = gettext
    pages = max(1, (len(items) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    buttons = list(items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])
    if page > 0:
        buttons.append(Button(_("◀ Trang trước"), f"{nav_prefix}:{page - 1}"))
    if page < pages - 1:
        buttons.append(Button(_("Trang sau ▶"), f"{nav_prefix}:{page + 1}"))
    return buttons


def page_arg(arg: str) -> int:
    """The page number in a navigation payload; anything odd means the first page."""
    return int(arg) if arg.isdigit() else 0
