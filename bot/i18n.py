"""Languages Loa Bản speaks, their gettext catalogs (Vietnamese is the source language) and formatting."""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

SOURCE_LANGUAGE = "vi"
DOMAIN = "messages"
COMPLETE_RATIO = 0.9


@dataclass(frozen=True)
class Language:
    """A language a person can pick, named in itself so people recognise it without reading Vietnamese."""

    code: str
    endonym: str
    vietnamese_name: str


KNOWN_LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("vi", "Tiếng Việt", "Tiếng Việt"),
        Language("en", "English", "Tiếng Anh"),
        Language("hmn", "Lus Hmoob", "Tiếng H'Mông"),
        Language("tyz", "Tiếng Tày", "Tiếng Tày"),
        Language("blt", "Tai Dam", "Tiếng Thái"),
        Language("ium", "Iu Mienh", "Tiếng Dao"),
        Language("nut", "Tiếng Nùng", "Tiếng Nùng"),
        Language("km", "ភាសាខ្មែរ", "Tiếng Khmer"),
        Language("zh", "中文", "Tiếng Hoa"),
    )
}


def mark(message: str) -> str:
    """Mark a string for extraction where it is translated later (menu labels defined at import)."""
    return message


def message_key(msgid: str, context: str = "") -> str:
    """A message's identity as gettext looks it up: the context and the msgid joined by EOT."""
    return f"{context}\x04{msgid}" if context else msgid


@dataclass(frozen=True)
class SourceMessage:
    """One message of the shipped catalog as translators meet it: the Vietnamese text and its context."""

    msgid: str
    context: str = ""

    @property
    def key(self) -> str:
        """Its identity in the catalogs and in the overrides."""
        return message_key(self.msgid, self.context)


@lru_cache(maxsize=64)
def _compiled(po: bytes) -> tuple[dict[str, str], tuple[SourceMessage, ...], bytes]:
    """A .po's translated messages by key, its messages and its compiled .mo, kept per content: parsing
    takes a second, and a process that builds several apps (tests build hundreds) reads the same files."""
    catalog = read_po(io.BytesIO(po), locale=None)
    messages = [m for m in catalog if m.id and isinstance(m.id, str)]
    shipped = {
        message_key(str(m.id), m.context or ""): str(m.string) for m in messages if m.string and not m.fuzzy
    }
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return shipped, tuple(SourceMessage(str(m.id), m.context or "") for m in messages), buf.getvalue()


class Catalogs:
    """The gettext catalogs found in a locales folder, compiled in memory from the .po files, with the
    reviewed overrides of the database laid over them (see bot/translations)."""

    def __init__(self, locales_dir: Path, wanted: list[str]) -> None:
        self.locales_dir = locales_dir
        self.available = [code for code in wanted if code == SOURCE_LANGUAGE or self._po_path(code).exists()]
        self._translations: dict[str, gettext.GNUTranslations | gettext.NullTranslations] = {}
        self._shipped: dict[str, dict[str, str]] = {}
        self.sources: list[SourceMessage] = []
        self._overrides: dict[str, dict[str, str]] = {}
        self.version = -1  # of the overrides loaded; -1 until the database was first read
        for code in self.available:
            self._load(code)

    def _po_path(self, code: str) -> Path:
        """Where a language's catalog lives."""
        return self.locales_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"

    def _load(self, code: str) -> None:
        """Compile one .po in memory, so a fresh checkout needs no build step to speak every language."""
        path = self._po_path(code)
        if not path.exists():
            self._translations[code] = gettext.NullTranslations()
            self._shipped[code] = {}
            return
        shipped, sources, mo = _compiled(path.read_bytes())
        self._shipped[code] = dict(shipped)
        if code == SOURCE_LANGUAGE:
            self.sources = list(sources)
        self._translations[code] = gettext.GNUTranslations(io.BytesIO(mo))

    def use_overrides(self, version: int, overrides: dict[str, dict[str, str]]) -> None:
        """Lay reviewed strings (language -> message key -> text) over the shipped catalogs; every
        translate function handed out so far sees them from now on."""
        self._overrides = overrides
        self.version = version

    def gettext(self, code: str | None) -> Callable[[str], str]:
        """The translate function for a language: a reviewed override, else the shipped catalog, else the
        Vietnamese source."""
        language = code or SOURCE_LANGUAGE
        shipped = self._translations.get(language, self._translations[SOURCE_LANGUAGE]).gettext

        def translate(message: str) -> str:
            return self._overrides.get(language, {}).get(message) or shipped(message)

        return translate

    def ngettext(self, code: str | None) -> Callable[[str, str, int], str]:
        """Plural-aware translate function for a language (plurals are not overridden)."""
        fallback = self._translations[SOURCE_LANGUAGE]
        return self._translations.get(code or SOURCE_LANGUAGE, fallback).ngettext

    def has(self, code: str | None, message: str) -> bool:
        """Whether a message reads in that language rather than falling back to Vietnamese."""
        language = code or SOURCE_LANGUAGE
        return language == SOURCE_LANGUAGE or bool(
            self._overrides.get(language, {}).get(message) or self._shipped.get(language, {}).get(message)
        )

    def shipped(self, code: str, key: str) -> str:
        """A message's translation in the shipped catalog, or '' when it has none."""
        return self._shipped.get(code, {}).get(key, "")

    def completeness(self, code: str) -> float:
        """The share of the source messages that read in that language (shipped or reviewed)."""
        if code == SOURCE_LANGUAGE or not self.sources:
            return 1.0
        done = self._shipped.get(code, {}).keys() | self._overrides.get(code, {}).keys()
        return sum(1 for m in self.sources if m.key in done) / len(self.sources)

    def is_complete(self, code: str) -> bool:
        """Whether a language's catalog is translated enough to be shown as that language."""
        return self.completeness(code) >= COMPLETE_RATIO

    def languages(self) -> list[Language]:
        """The languages people can pick, in the configured order."""
        return [KNOWN_LANGUAGES.get(code, Language(code, code, code)) for code in self.available]


@cache
def babel_locale(code: str | None) -> Locale:
    """A Babel locale for formatting; languages CLDR lacks (hmn, tyz, ium, nut, blt) format as Vietnamese."""
    try:
        return Locale.parse(code or SOURCE_LANGUAGE)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LANGUAGE)


def format_day(value: date | datetime, code: str | None) -> str:
    """A date as people of that language write it (Vietnamese: 05/12/2026, as on official papers)."""
    locale = babel_locale(code)
    return str(
        babel_format_date(value, format="dd/MM/yyyy" if locale.language == "vi" else "medium", locale=locale)
    )


def format_number(value: int | float, code: str | None) -> str:
    """A number with that language's separators."""
    return str(format_decimal(value, locale=babel_locale(code)))
