"""Q&A entries as an Excel sheet, for officials who work in spreadsheets: one row per entry, lists joined
with ' | ', translations in 'question:<lang>' and 'answer:<lang>' columns."""

from __future__ import annotations

from typing import Any

from bot.spreadsheet import read_rows, workbook

COLUMNS = [
    "id",
    "question",
    "alternatives",
    "answer",
    "tags",
    "source_document",
    "source_section",
    "valid_from",
    "valid_to",
    "status",
    "provinces",  # where the entry holds: province and commune codes, comma-separated; both empty: nationwide
    "communes",
]
SEPARATOR = " | "


def rows_from_xlsx(data: bytes) -> list[Any]:
    """The first sheet's rows in the YAML import format; blank rows kept so row numbers match the sheet."""
    out: list[Any] = []
    for cells in read_rows(data):
        if cells is None:
            out.append(None)
            continue
        row: dict[str, Any] = {
            "id": cells.get("id", ""),
            "question": cells.get("question", ""),
            "answer": cells.get("answer", ""),
            "alternatives": [a.strip() for a in cells.get("alternatives", "").split("|") if a.strip()],
            "tags": [t.strip() for t in cells.get("tags", "").replace("|", ",").split(",") if t.strip()],
            "source": {
                "document": cells.get("source_document", ""),
                "section": cells.get("source_section", ""),
            },
            "status": cells.get("status") or "published",
        }
        for key in ("valid_from", "valid_to"):
            if cells.get(key):
                row[key] = cells[key]
        area = {key: _codes(cells.get(key, "")) for key in ("provinces", "communes") if cells.get(key)}
        if area:
            row["area"] = area
        translations: dict[str, dict[str, str]] = {}
        for name, value in cells.items():
            field, _, lang = name.partition(":")
            if lang and field in ("question", "answer") and value:
                translations.setdefault(lang, {})[field] = value
        if translations:
            row["translations"] = translations
        out.append(row)
    return out


def _codes(text: str) -> list[int] | str:
    """'12, 24' -> [12, 24]; anything else stays text, for the import's checks to name."""
    parts = [p.strip() for p in text.replace("|", ",").split(",") if p.strip()]
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else text


def xlsx_from_rows(rows: list[dict[str, Any]]) -> bytes:
    """Exported entries as a workbook that imports back unchanged."""
    langs = sorted({lang for r in rows for lang in (r.get("translations") or {})})
    header = COLUMNS + [f"{field}:{lang}" for lang in langs for field in ("question", "answer")]

    def line(r: dict[str, Any]) -> list[Any]:
        source = r.get("source") or {}
        translations = r.get("translations") or {}
        return [
            r["id"],
            r["question"],
            SEPARATOR.join(r.get("alternatives") or []),
            r["answer"],
            ", ".join(r.get("tags") or []),
            source.get("document", ""),
            source.get("section", ""),
            r.get("valid_from", ""),
            r.get("valid_to", ""),
            r.get("status", "published"),
            ", ".join(str(c) for c in (r.get("area") or {}).get("provinces", [])),
            ", ".join(str(c) for c in (r.get("area") or {}).get("communes", [])),
        ] + [translations.get(lang, {}).get(field, "") for lang in langs for field in ("question", "answer")]

    return workbook("Hỏi đáp", header, (line(r) for r in rows))
