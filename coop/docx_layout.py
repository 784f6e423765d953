"""Layout shared by the Word documents Coop writes (network plan, annual report):
Russian typography on A4, table cells, rows that never split across pages."""

from __future__ import annotations

from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell, _Row

from .text import clean_text

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


def fill(cell: _Cell, text: str, bold: bool = False, centred: bool = False) -> None:
    """Write text into a new cell (line breaks in the text become <w:br/>)."""
    para = cell.paragraphs[0]  # a new cell holds one empty paragraph
    run = para.add_run(clean_text(text))
    if bold:  # else inherit from the style rather than write an explicit «not bold»
        run.bold = True
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
