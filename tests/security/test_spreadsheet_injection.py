"""Spreadsheet formula injection: text someone typed into Loa Bản is written into the officials' Excel
exports as text, never as a live formula."""

from __future__ import annotations

import io
import zipfile

import httpx
import yaml
from openpyxl import load_workbook

from bot.db import Database
from bot.qa import service as qa
from bot.spreadsheet import workbook
from tests.drivers import WebDriver, onboard
from tests.test_admin import login, make_admin
from tests.test_feedback import file_reflection, send_named

HOSTILE = [
    '=HYPERLINK("http://evil.example","bấm")',
    '=1+2*WEBSERVICE("http://evil.example")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]


def formulas(data: bytes) -> list[str]:
    """Every formula element in a workbook's sheets."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        return [n for n in sheets if b"<f>" in book.read(n) or b"<f " in book.read(n)]


def test_hostile_text_stays_text_in_a_workbook() -> None:
    data = workbook("x", ["Tên", "Số"], [[text, 3] for text in HOSTILE])
    assert formulas(data) == []
    sheet = load_workbook(io.BytesIO(data)).active
    kept = [sheet.cell(row=i + 2, column=1).value for i in range(len(HOSTILE))]
    assert kept == HOSTILE, "as typed (openpyxl writes through lxml, which python-docx brings: a CR stays)"
    assert sheet.cell(row=2, column=2).value == 3, "numbers stay numbers"


def test_the_qa_export_writes_a_hostile_question_as_text(client: httpx.Client, db: Database) -> None:
    rows = yaml.safe_load(
        "- {id: x, question: '=1+2*WEBSERVICE(\"http://evil.example\")', answer: '@SUM(1)'}"
    )
    with db.transaction() as session:
        assert not qa.import_rows(session, rows).errors
    make_admin(db, "tinh")
    login(client, "tinh")
    exported = client.get("/admin/qa/export.xlsx")
    assert exported.status_code == 200 and formulas(exported.content) == []
    values = [c.value for row in load_workbook(io.BytesIO(exported.content)).active.iter_rows() for c in row]
    assert '=1+2*WEBSERVICE("http://evil.example")' in values and "@SUM(1)" in values


def test_the_tickets_export_writes_a_hostile_text_and_name_as_text(
    client: httpx.Client, db: Database
) -> None:
    text, name = '=1+2*WEBSERVICE("http://x")', '=HYPERLINK("http://x","y")'
    person = WebDriver(client)
    onboard(person)
    file_reflection(person, text=text)
    person.tap("fb_done")
    assert "Mã phản ánh: PA-" in send_named(person, name)[0].text
    make_admin(db, "tinh")
    login(client, "tinh")
    exported = client.get("/admin/feedback/export.xlsx")
    assert exported.status_code == 200 and formulas(exported.content) == []
    [_header, row] = load_workbook(io.BytesIO(exported.content)).active.iter_rows()
    hostile = [c for c in row if c.value in (text, name)]
    assert {c.value for c in hostile} == {text, name}, "both kept as typed"
    assert all(c.data_type == "s" for c in hostile), "as text, not a formula"
