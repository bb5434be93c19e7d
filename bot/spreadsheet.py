"""Excel workbooks for officials who work in spreadsheets: sheets of a header row, then the rows."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook


def workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx file with one sheet."""
    return workbook_of([(title, header, rows)])


UNFIT = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet's name


def workbook_of(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An .xlsx file with a sheet per (title, header, rows), titles cut to Excel's 31 characters. Every
    text is written as text, never as a formula: a name typed as '=HYPERLINK(…)' by anyone on the Internet
    must not run in an official's spreadsheet (OWASP's formula injection); numbers and dates keep their
    types."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(UNFIT.sub(" ", title)[:31])
        for number, row in enumerate([header, *rows], start=1):
            for column, value in enumerate(row, start=1):  # cell by cell: max_row would rescan the sheet
                cell = sheet.cell(row=number, column=column, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def cell_text(value: Any) -> str:
    """A cell as text: dates in ISO form, empty cells as ''."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_rows(data: bytes) -> list[dict[str, str] | None]:
    """The first sheet's rows under its header row as {column: text}; a blank row is None, so row numbers
    match the sheet (the first data row is line 2)."""
    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    header = [cell_text(h) for h in rows[0]]
    out: list[dict[str, str] | None] = []
    for values in rows[1:]:
        cells = {name: cell_text(v) for name, v in zip(header, values, strict=False) if name}
        out.append(cells if any(cells.values()) else None)
    return out
