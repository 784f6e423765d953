"""Layout shared by the Word documents Coop writes (network plan, annual report):
Russian typography on A4, table cells, rows that never split across pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Length, Pt
from docx.table import Table, _Cell, _Row

from .text import clean_text
from .text_width import longest_word_width

FONT = "Times New Roman"


def setup_a4(doc: Document, title: str, landscape: bool = False) -> None:
    """A4 with 2 cm / 1.5 cm margins, Times New Roman 12, Russian, the document's title set."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    width, height = (Cm(29.7), Cm(21)) if landscape else (Cm(21), Cm(29.7))
    section.page_width, section.page_height = width, height
    section.left_margin, section.right_margin = Cm(2), Cm(1.5)
    section.top_margin = section.bottom_margin = Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(12)
    # font.name sets only the Latin slots; Cyrillic may fall into the others,
    # and the language lets Word spell-check in Russian.
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for slot in ("w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "ru-RU")
    rpr.append(lang)
    normal.paragraph_format.space_after = Pt(0)
    doc.core_properties.title = clean_text(title)
    doc.core_properties.language = "ru-RU"


def page_text_width(doc: Document) -> Length:
    """The width between the margins: what a table may take."""
    section = doc.sections[0]
    width, left, right = section.page_width, section.left_margin, section.right_margin
    assert width is not None and left is not None and right is not None  # setup_a4 set them
    return Emu(width - left - right)


def fill(cell: _Cell, text: str, bold: bool = False, centred: bool = False, size: Pt | None = None) -> None:
    """Write text into a new cell (line breaks in the text become <w:br/>)."""
    para = cell.paragraphs[0]  # a new cell holds one empty paragraph
    run = para.add_run(clean_text(text))
    if bold:  # else inherit from the style rather than write an explicit «not bold»
        run.bold = True
    if size is not None:
        run.font.size = size
    if centred:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER


def keep_row_whole(row: _Row, header: bool = False) -> None:
    """Keep the row on one page; a header row also repeats at the top of every page."""
    trpr = row._tr.get_or_add_trPr()
    # Schema order inside w:trPr: cantSplit comes before tblHeader.
    for tag in ("w:cantSplit", "w:tblHeader") if header else ("w:cantSplit",):
        marker = OxmlElement(tag)
        marker.set(qn("w:val"), "true")
        trpr.append(marker)


# The «Table Grid» style's cell padding, 108 twips each side, and a point for the borders.
CELL_PADDING = Emu(2 * 108 * 635 + 12700)


def fitted_widths(
    preferred: Sequence[Length],
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    size: Pt,
    total: Length,
) -> list[Length]:
    """Column widths adding up to `total` in which no word of a cell has to break.

    Each column is at least as wide as its longest word (the header's in bold);
    the room left goes to the columns by their `preferred` widths. When even the
    longest words do not fit in `total`, the table keeps to the page and the
    columns share it by those minimums.
    """
    # Plain numbers of EMU: sums of Lengths are ints.
    minimum: list[int] = [longest_word_width(text, size, bold=True) + CELL_PADDING for text in header]
    for row in rows:
        for index, text in enumerate(row):
            minimum[index] = max(minimum[index], longest_word_width(text, size) + CELL_PADDING)
    widths: list[int] = [max(want, least) for want, least in zip(preferred, minimum, strict=True)]
    weights: list[int]
    excess = sum(widths) - total
    if excess <= 0:  # room to spare: widen by the preferred widths
        share, weights = excess, list(preferred)
    elif sum(widths) - sum(minimum) >= excess:  # narrow the columns that have room, by that room
        share, weights = excess, [width - least for width, least in zip(widths, minimum, strict=True)]
    else:
        widths, share, weights = [0 for _ in minimum], -total, list(minimum)
    return [
        Emu(round(width - share * weight / sum(weights)))
        for width, weight in zip(widths, weights, strict=True)
    ]


def set_column_widths(table: Table, widths: Sequence[Length]) -> None:
    """Fix the table's column widths where both Word and LibreOffice read them.

    LibreOffice lays a table out by its grid (w:tblGrid), Word by each cell's
    w:tcW; the fixed layout and the table's own width keep either from
    re-fitting the columns to the text.
    """
    table.autofit = False  # w:tblLayout fixed
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(width.twips for width in widths)))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for tr in table._tbl.tr_lst:
        column = 0
        for tc in tr.tc_lst:
            span = tc.grid_span  # a merged cell is as wide as the columns it covers
            tc.width = Emu(sum(widths[column : column + span]))
            column += span
