"""Loading the shipped sample content (and operators' own files) into the database, idempotently."""

from __future__ import annotations

import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy.orm import Session

from bot.areas import service as areas
from bot.areas import villages as village_service
from bot.qa import service as qa
from bot.qa.spreadsheet import rows_from_xlsx
from bot.translations import content as content_translations

# The content's translations its authors stand behind as people may read them: English, which the team
# writes and checks as it writes the Vietnamese. Its Chinese is marked "chưa được người bản ngữ duyệt"
# (content/knowledge/sample.yaml), as the Chinese catalog is, so it waits for a native reviewer.
SHIPPED_REVIEWED = ("en",)


class ContentError(ValueError):
    """A content file that cannot be imported, with where and why."""


def import_villages(session: Session, path: Path) -> int:
    """Add the villages listed in a YAML file; returns how many entries it names."""
    entries: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ContentError(f"{path}: expected a list of {{commune, villages}}")
    count = 0
    for i, entry in enumerate(entries, start=1):
        code = entry.get("commune") if isinstance(entry, dict) else None
        names = entry.get("villages") if isinstance(entry, dict) else None
        if not isinstance(code, int) or areas.get_commune(code) is None:
            raise ContentError(f"{path}: entry {i}: unknown commune code {code!r}")
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise ContentError(f"{path}: entry {i}: 'villages' must be a list of names")
        for name in names:
            village_service.get_or_create(session, commune_code=code, name=name)
            count += 1
    return count


def knowledge_rows(name: str, data: bytes) -> tuple[list[Any], int]:
    """Rows of a YAML or Excel (.xlsx) Q&A file, and the line number of its first row."""
    if name.lower().endswith(".xlsx"):
        try:
            return rows_from_xlsx(data), 2
        except (zipfile.BadZipFile, InvalidFileException, OSError, ValueError, KeyError) as exc:
            raise ContentError(f"{name}: not a readable Excel file ({exc})") from exc
    try:
        rows: Any = yaml.safe_load(data.decode("utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ContentError(f"{name}: not valid YAML ({exc})") from exc
    if not isinstance(rows, list):
        raise ContentError(f"{name}: expected a list of Q&A entries")
    return rows, 1


def import_knowledge(
    session: Session, path: Path, *, skip_bad: bool = False, reviewed: Collection[str] = ()
) -> int:
    """Q&A entries from a YAML or Excel file; refuses the whole file, naming each bad row, unless skip_bad.
    Translations into the `reviewed` languages count as approved by whoever ships the file; any other
    translation is a draft that people never read until a second person approves it in the workbench.
    A translation a person approved stays as they approved it while the entry's Vietnamese is unchanged."""
    rows, first_line = knowledge_rows(path.name, path.read_bytes())
    ids = [str(r["id"]).strip() for r in rows if isinstance(r, dict) and isinstance(r.get("id"), str)]
    approved = content_translations.approved_by_people(session, ids)
    report = qa.import_rows(session, rows, skip_bad=skip_bad, first_line=first_line)
    if report.errors and not skip_bad:
        raise ContentError(f"{path}: nothing imported:\n  " + "\n  ".join(map(str, report.errors)))
    content_translations.keep_approved(session, approved)  # a reviewer's work outlives a re-import
    if reviewed:
        content_translations.mark_shipped(session, ids, reviewed)
    return report.created + report.updated


def import_all(session: Session, content_dir: Path) -> dict[str, int]:
    """Import everything Loa Bản knows how to read from a content folder."""
    results: dict[str, int] = {}
    villages = content_dir / "villages.yaml"
    if villages.exists():
        results["villages"] = import_villages(session, villages)
    knowledge = sorted((content_dir / "knowledge").glob("*.yaml"))
    if knowledge:
        results["qa_entries"] = sum(
            import_knowledge(session, path, reviewed=SHIPPED_REVIEWED) for path in knowledge
        )
    return results
