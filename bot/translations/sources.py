"""Where each catalog message appears in the code, so a translator sees its context: the files and lines,
whether it labels a button, and whether people or only officials read it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).resolve().parent.parent.parent
KEYWORDS: dict[str, None] = {"_": None, "mark": None}
# Code only officials read; a message used anywhere else reaches people (the chat, its notices, the web chat).
OFFICIALS_PATHS = ("admin/", "bot/accounts/", "bot/qa/service.py", "bot/content.py", "bot/cli.py")
BUTTON_MARKERS = ("Button(", "MenuEntry(", "label=")


@dataclass(frozen=True)
class Place:
    """Where a message is used: every file:line, whether it is a button label, whether people see it."""

    lines: tuple[str, ...]
    button: bool
    people: bool


@cache
def _lines(path: Path) -> tuple[str, ...]:
    """A source file's lines, read once however many messages it holds."""
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def _is_button(path: Path, lineno: int) -> bool:
    """Whether the call around a message's line makes it a button label (the marker is on its line or
    the line before, where a long Button( call breaks)."""
    near = " ".join(_lines(path)[max(0, lineno - 2) : lineno])
    return any(marker in near for marker in BUTTON_MARKERS)


@cache
def places() -> dict[str, Place]:
    """Every extracted message's place, found once per process (about half a second) from the source tree
    the process runs; empty when the tree is not there (an installed wheel without babel.cfg)."""
    cfg = ROOT / "babel.cfg"
    if not cfg.exists():
        return {}
    with cfg.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    found: dict[str, list[tuple[str, bool]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if not isinstance(message, str):
            continue
        key = f"{context}\x04{message}" if context else message
        found.setdefault(key, []).append((f"{filename}:{lineno}", _is_button(ROOT / filename, lineno)))
    _lines.cache_clear()  # the files were needed only to look around each message
    return {
        key: Place(
            lines=tuple(where for where, _b in spots),
            button=any(b for _w, b in spots),
            people=any(not where.startswith(OFFICIALS_PATHS) for where, _b in spots),
        )
        for key, spots in found.items()
    }
