"""Tables of the Word documents (the network plan, the annual report) keep their words whole
in Word and LibreOffice (issue 11, item 6): every column is as wide as its longest word needs,
in the grid LibreOffice reads and in the cells Word reads, and the table fits the page."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell

from coop.docx_layout import CELL_PADDING, fitted_widths
from coop.text_width import longest_word_width, text_width, words

from .test_report import _report

TWIP = 635  # EMU


def _check_tables(data: bytes) -> int:
    """Assert the width rules on every table of a .docx; the number of tables."""
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    page = section.page_width - section.left_margin - section.right_margin
    default = doc.styles["Normal"].font.size or Pt(12)
    for table in doc.tables:
        tbl = table._tbl
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        grid = [int(col.get(qn("w:w"))) * TWIP for col in tbl.tblGrid.findall(qn("w:gridCol"))]
        assert sum(grid) <= page + len(grid) * TWIP  # rounding to twips, no more
        assert int(tbl.tblPr.find(qn("w:tblW")).get(qn("w:w"))) * TWIP == sum(grid)
        for tr in tbl.tr_lst:
            column = 0
            for tc in tr.tc_lst:
                width = sum(grid[column : column + tc.grid_span])
                assert tc.tcPr.find(qn("w:tcW")).get(qn("w:type")) == "dxa"
                assert tc.width == width, "the cell's w:tcW (Word) and the grid (LibreOffice) agree"
                column += tc.grid_span
                for para in _Cell(tc, table).paragraphs:
                    for run in para.runs:
                        need = longest_word_width(run.text, run.font.size or default, bool(run.bold))
                        assert need + CELL_PADDING <= width + TWIP, (run.text, need, width)
    return len(doc.tables)


def test_the_plans_docx_columns_hold_their_longest_words(client_as: Any, ids: dict[str, int]) -> None:
    url = f"/admin/calendar/export/docx/?school={ids['school31']}&year=2019"
    response = client_as("coordinator").get(url)
    assert response.status_code == 200
    first_line = Document(io.BytesIO(response.data)).tables[0].rows[1]
    assert "Ответственный за профориентацию" in first_line.cells[3].text
    assert _check_tables(response.data) >= 4


def test_the_reports_columns_hold_their_words_and_dates(client_as: Any, ids: dict[str, int]) -> None:
    data = _report(client_as("coordinator"), ids["school31"])
    assert _check_tables(data) >= 5
    header = [cell.text for cell in Document(io.BytesIO(data)).tables[0].rows[0].cells]
    assert header[-1] == "Результатов ФГОС"  # a count, under a heading no wider than it needs


def test_a_period_breaks_after_the_dash_only() -> None:
    assert words("01.09.2019\u00a0– 31.08.2023") == ["01.09.2019\u00a0–", "31.08.2023"]
    assert words("ноябрь-декабрь, 2019-2020") == ["ноябрь-", "декабрь,", "2019-2020"]
    assert text_width("обучающиеся", Pt(10), bold=True) > text_width("обучающиеся", Pt(10))


def test_fitted_widths_fill_the_page_and_hold_the_longest_words() -> None:
    total = Cm(17.5)
    preferred = [Cm(1.5), Cm(8.5), Cm(3.5), Cm(4.0)]
    rows = [["1.", "Дни открытых дверей", "апрель", "Ответственный за профориентацию"]]
    widths = fitted_widths(preferred, ["№", "Мероприятие", "сроки", "ответственные"], rows, Pt(12), total)
    assert abs(sum(widths) - total) <= len(widths)
    assert widths[3] >= longest_word_width("профориентацию", Pt(12)) + CELL_PADDING > Cm(4.0)
    assert widths[1] < Cm(8.5)  # the room came from the column that had it
    # Words too long for any page: the table still keeps to the page.
    huge = [["x" * 60, "y" * 60, "z", "w"]]
    widths = fitted_widths(preferred, ["", "", "", ""], huge, Pt(12), total)
    assert abs(sum(widths) - total) <= len(widths)
