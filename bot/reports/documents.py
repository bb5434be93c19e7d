"""The report as files an office works with: a DOCX in the form Vietnamese offices use (A4, Times New Roman
13/14, the national title block, unit/number/date lines left to fill, numbered sections and tables, the
charts as pictures), an XLSX with every table as a sheet, and a PDF when LibreOffice is on the machine."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.document import Document as Word
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from bot.reports import charts
from bot.reports.service import Report, commune_label
from bot.reports.tables import Cell, Section, Translate, sections
from bot.spreadsheet import workbook_of

FONT = "Times New Roman"
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


def text(value: Cell) -> str:
    """A cell as the text written into the document: stored names are kept as typed, as text (never
    markup), less the control characters a Word file cannot hold."""
    return NOT_XML.sub("", "" if value is None else str(value))


def period_line(report: Report, _: Translate) -> str:
    """'(Từ ngày 21/12/2025 đến ngày 20/06/2026)'."""
    start, end = report.period.start, report.period.end
    return _("(Từ ngày {start} đến ngày {end})").format(
        start=start.strftime("%d/%m/%Y"), end=end.strftime("%d/%m/%Y")
    )


def _paragraph(
    where: _Cell | Word,
    words: str,
    *,
    size: int = 13,
    bold: bool = False,
    italic: bool = False,
    center: bool = False,
) -> Paragraph:
    """One paragraph in the report's font."""
    paragraph = where.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text(words))
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return paragraph


def _page(document: Word) -> None:
    """A4 with the margins of Decree 30/2020 on administrative documents, Times New Roman 13."""
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    style.paragraph_format.space_after = Pt(3)


def _two_columns(document: Word, left: Length, right: Length) -> Table:
    """A borderless table of two fixed columns (the title block, the signatures): Word reads the cells'
    widths, LibreOffice the grid's."""
    block: Table = document.add_table(rows=1, cols=2)
    block.autofit = False
    for column, width in zip(block.columns, (left, right), strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    return block


def _title_block(document: Word, report: Report, unit: str, _: Translate) -> None:
    """The unit and number on the left, the national motto and the place/date line on the right."""
    block = _two_columns(document, Cm(6), Cm(10.5))
    left, right = block.rows[0].cells
    for cell, lines in (
        (left, [(unit or _("TÊN CƠ QUAN, ĐƠN VỊ"), True, False), (_("Số: ....../BC-......"), False, False)]),
        (
            right,
            [
                (_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), True, False),
                (_("Độc lập - Tự do - Hạnh phúc"), True, False),
                (_("......, ngày ...... tháng ...... năm ......"), False, True),
            ],
        ),
    ):
        cell.paragraphs[0].text = ""
        for i, (words, bold, italic) in enumerate(lines):
            size = 14 if cell is right and i == 1 else 13
            paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(text(words))
            run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    document.add_paragraph()
    _paragraph(document, _("BÁO CÁO"), size=14, bold=True, center=True)
    _paragraph(
        document,
        _("Kết quả công tác thông tin, tuyên truyền, tiếp nhận phản ánh qua Loa Bản"),
        size=14,
        bold=True,
        center=True,
    )
    _paragraph(document, period_line(report, _), italic=True, center=True)
    _paragraph(document, scope_line(report, _), center=True)


def scope_line(report: Report, _: Translate) -> str:
    """Which communes the figures cover."""
    if report.scope.communes is None:
        return _("Phạm vi: toàn tỉnh")
    return _("Phạm vi: {communes}").format(
        communes=", ".join(commune_label(c) for c in report.scope.communes)
    )


def _table(document: Word, number: str, title: str, header: list[str], rows: list[list[Cell]]) -> None:
    """A numbered table with its caption, a bold header row and numbers aligned right."""
    _paragraph(document, f"{number}. {title}", bold=True, italic=True)
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, name in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].text = ""
        run = cell.paragraphs[0].add_run(text(name))
        run.bold, run.font.size = True, Pt(11)
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            run = cell.paragraphs[0].add_run(text(value))
            run.font.size = Pt(11)
            if isinstance(value, int | float):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph()


def _picture(document: Word, png: bytes, caption: str) -> None:
    """A chart across the text width, with its caption."""
    document.add_picture(io.BytesIO(png), width=Cm(16))
    _paragraph(document, caption, italic=True, center=True)


def docx(report: Report, _: Translate, *, unit: str = "") -> bytes:
    """The report as a Word document an office fills in (unit, number, date), signs and sends."""
    document = Document()
    _page(document)
    _title_block(document, report, unit, _)
    parts: list[Section] = sections(report, _)
    for n, section in enumerate(parts, start=1):
        _paragraph(document, f"{n}. {section.title}", bold=True)
        for sentence in section.sentences:
            _paragraph(document, sentence).paragraph_format.first_line_indent = Cm(1)
        for m, table in enumerate(section.tables, start=1):
            _table(document, _("Bảng {n}").format(n=f"{n}.{m}"), table.title, table.header, table.rows)
        if n == 1 and report.reach.communes:
            communes = report.reach.communes
            _picture(
                document,
                charts.bars([r.name for r in communes], [r.subscribed for r in communes]),
                _("Biểu đồ 1. Người đang nhận tin cuối kỳ theo xã"),
            )
        if n == len(parts) and report.months:
            _picture(
                document,
                charts.line([m.month for m in report.months], [m.subscribed for m in report.months]),
                _("Biểu đồ 2. Người đang nhận tin theo tháng"),
            )
    _signatures(document, _)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _signatures(document: Word, _: Translate) -> None:
    """Who receives it on the left, who signs on the right, left blank for the office."""
    block = _two_columns(document, Cm(7), Cm(9.5))
    left, right = block.rows[0].cells
    left.paragraphs[0].add_run(_("Nơi nhận:")).bold = True
    left.add_paragraph(_("- Như trên;"))
    left.add_paragraph(_("- Lưu: VT."))
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].add_run(_("THỦ TRƯỞNG ĐƠN VỊ")).bold = True
    right.add_paragraph(_("(Ký, ghi rõ họ tên, đóng dấu)")).alignment = WD_ALIGN_PARAGRAPH.CENTER


def xlsx(report: Report, _: Translate) -> bytes:
    """Every table of the report as a sheet of its own, named by its number and title."""
    sheets = []
    for n, section in enumerate(sections(report, _), start=1):
        for m, table in enumerate(section.tables, start=1):
            sheets.append((f"{n}.{m} {table.title}", table.header, table.rows))
    return workbook_of(sheets)


def has_office() -> bool:
    """Whether LibreOffice is installed to make PDFs."""
    return _office() is not None


def _office() -> str | None:
    """LibreOffice's command, if installed."""
    return shutil.which("libreoffice") or shutil.which("soffice")


def pdf(document: bytes) -> bytes | None:
    """The DOCX as PDF through LibreOffice, when it is installed (None otherwise)."""
    office = _office()
    if office is None:
        return None
    with tempfile.TemporaryDirectory(prefix="loaban-report-") as folder:
        source = Path(folder) / "bao-cao.docx"
        source.write_bytes(document)
        profile = Path(folder) / "profile"
        subprocess.run(
            [
                office,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                folder,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (Path(folder) / "bao-cao.pdf").read_bytes()
