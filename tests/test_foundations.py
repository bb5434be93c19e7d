"""Schema, catalogs, areas and settings: the ground every feature stands on."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from string import Formatter

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from pydantic import ValidationError

from bot.areas import service as areas
from bot.config import PROJECT_ROOT, Settings
from bot.db import Database
from bot.i18n import Catalogs, format_day, format_number
from bot.models import Base
from bot.text import fold, usual_tones

LOCALES = PROJECT_ROOT / "locales"


def test_models_match_migrations(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every user-visible string in the code and templates, extracted now with the project's own config."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "mark",
            "-k",
            "_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_string_is_in_the_catalog_and_translated(extracted: set[str], language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = {m.id: m for m in read_po(fh) if m.id}
    missing = sorted(extracted - catalog.keys())
    assert missing == [], f"run `make locales-update` and translate: {missing}"
    untranslated = sorted(k for k in extracted if not catalog[k].string or catalog[k].fuzzy)
    assert untranslated == []


def placeholders(message: Message, text: str) -> list[str]:
    """The named slots a string fills in (`{name}` or `%(name)s`), which every translation must keep."""
    if "python-format" in message.flags:
        return sorted(re.findall(r"%\((\w+)\)", text))
    if "python-brace-format" not in message.flags:
        return []
    try:
        return sorted(str(name) for _, name, _, _ in Formatter().parse(text) if name is not None)
    except ValueError:  # an unbalanced brace: .format() would fail on it too
        return ["<unbalanced>"]


@pytest.mark.parametrize("language", sorted(p.name for p in LOCALES.iterdir() if p.is_dir()))
def test_translations_keep_every_placeholder(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    broken = [m.id for m, errors in catalog.check() if errors]  # Babel's own %-format checks
    broken += [
        m.id
        for m in catalog
        if m.id and m.string and placeholders(m, str(m.string)) != placeholders(m, str(m.id))
    ]
    assert broken == [], "a translation lost or renamed a placeholder"


@pytest.mark.parametrize("language", ["zh", "km"])
def test_a_catalog_awaiting_a_native_reviewer_stays_marked_through_an_update(
    language: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "tools"))
    locales_tool = importlib.import_module("locales")

    shutil.copytree(LOCALES / language, tmp_path / language)
    shutil.copy(LOCALES / "messages.pot", tmp_path / "messages.pot")
    monkeypatch.setattr(locales_tool, "LOCALES", tmp_path)
    locales_tool.update(language)
    po_path = tmp_path / language / "LC_MESSAGES" / "messages.po"
    assert '"X-Reviewed: no\\n"' in po_path.read_text(encoding="utf-8")
    with po_path.open("rb") as fh:
        written = [m for m in read_po(fh) if m.id and m.string]
    assert written and all("unreviewed" in m.user_comments for m in written)


def test_minority_catalogs_exist_and_fall_back_to_vietnamese() -> None:
    catalogs = Catalogs(LOCALES, ["vi", "en", "hmn", "tyz", "ium", "nut", "xx"])
    assert catalogs.available == ["vi", "en", "hmn", "tyz", "ium", "nut"]
    assert catalogs.is_complete("vi") and catalogs.is_complete("en")
    assert not catalogs.is_complete("hmn")
    assert catalogs.gettext("hmn")("Bỏ qua") == "Bỏ qua"
    assert catalogs.gettext("en")("Bỏ qua") == "Skip"


@pytest.mark.parametrize("language", ["hmn", "tyz", "ium", "nut"])
def test_languages_cldr_lacks_format_like_vietnamese(language: str) -> None:
    from datetime import date

    assert format_number(1234567.5, language) == format_number(1234567.5, "vi") == "1.234.567,5"
    assert format_day(date(2026, 2, 9), language) == format_day(date(2026, 2, 9), "vi")


def test_areas_after_the_2025_reform() -> None:
    assert len(areas.provinces()) == 34
    assert sum(len(areas.communes(p.code)) for p in areas.provinces()) == 3321
    lai_chau = areas.search(areas.provinces(), "lai chau")
    assert [p.name for p in lai_chau] == ["Lai Châu"]
    assert areas.get_commune(99_999_999) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Đồng Văn", "dong van"),
        ("ĐIỆN BIÊN", "dien bien"),
        ("Chiêm Hoá", "chiem hoa"),
        ("Chiêm Hóa", "chiem hoa"),
        ("  nà   hang ", "na hang"),
        ("Hà Giang", "ha giang"),
    ],
)
def test_folding_for_search(typed: str, expected: str) -> None:
    assert fold(typed) == expected


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("Chiêm Hoá", "Chiêm Hóa"),
        ("hoá", "hóa"),
        ("HOÁ", "HÓA"),
        ("hoà", "hòa"),
        ("Thuận Hoà", "Thuận Hòa"),
        ("thuý", "thúy"),
        ("Sơn Thuỷ", "Sơn Thủy"),
        ("khoẻ", "khỏe"),
        ("xoè", "xòe"),
        ("huỷ", "hủy"),
        ("hòa", "hòa"),  # already the usual way
        ("quý", "quý"),  # 'qu' is a consonant: the tone stays on 'y'
        ("Quỳnh", "Quỳnh"),
        ("quá", "quá"),
        ("giá", "giá"),
        ("hoàng", "hoàng"),  # a closed syllable keeps its tone on the main vowel
        ("ngoài", "ngoài"),
        ("thuở", "thuở"),
    ],
)
def test_place_names_are_spelt_one_way(written: str, shown: str) -> None:
    assert usual_tones(written) == shown


def test_areas_show_the_usual_spelling() -> None:
    chiem_hoa = areas.get_commune(2287)
    assert chiem_hoa is not None and chiem_hoa.name == "Xã Chiêm Hóa"
    assert [c.name for c in areas.search(areas.communes(8), "chiem hoa")] == ["Xã Chiêm Hóa"]
    names = [c.name for p in areas.provinces() for c in areas.communes(p.code)]
    assert not [n for n in names if usual_tones(n) != n]


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    assert Settings(_env_file=None, environment="production", secret_key="x" * 40).secret_key  # type: ignore[call-arg]
