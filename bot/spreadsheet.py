"""Excel workbooks for officials who work in spreadsheets: sheets of a header row, then the rows."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook


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
