"""A network plan as a Word document, in the form schools put in their programmes.

One bold centred heading per partner, then a four-column table
(№ п/п | Наименование мероприятия | сроки | ответственные); the timing is
printed as the school wrote it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import Table

from .. import added_fields
from .. import models as m
from ..docx_layout import fill, fitted_widths, keep_row_whole, page_text_width, set_column_widths, setup_a4
from ..text import clean_text
from .plan import Plan, PlanEvent, PlanPartner

TITLE = "Сетевой план"
YEAR_LINE = "на {year_label} учебный год"
HEADER = ("№ п/п", "Наименование мероприятия", "сроки", "ответственные")
NO_EVENTS = "Мероприятий нет."

# The columns' shares of the 17.5 cm of text; each is widened to hold its longest word.
COLUMN_WIDTHS = (Cm(1.5), Cm(8.5), Cm(3.5), Cm(4.0))
ADDED_WIDTH = Cm(3.0)  # a field added in the site (FieldDefinition.in_plan_document)
FONT_SIZE = Pt(12)  # the Normal style's


def plan_to_docx(plan: Plan, note: Sequence[str] = ()) -> bytes:
    """The plan as a .docx file; `note`: paragraphs under the title (the import template's)."""
    doc = Document()
    _setup(doc, plan)
    _title(doc, plan)
    for text in note:
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(6)
        para.add_run(clean_text(text)).italic = True
    if not plan.partners:
        doc.add_paragraph(NO_EVENTS)
    added = plan.document_fields  # the fields added in the site, last
    for partner in plan.partners:
        _partner(doc, partner, added)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _setup(doc: DocumentObject, plan: Plan) -> None:
    setup_a4(doc, _title_text(plan))


def _title_text(plan: Plan) -> str:
    school = plan.school_short_name or plan.school_name
    return f"{TITLE} {school} {YEAR_LINE.format(year_label=plan.year_label)}"


def _title(doc: DocumentObject, plan: Plan) -> None:
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run(clean_text(_title_text(plan)))
    run.bold = True
    run.font.size = Pt(14)
    if plan.programme_title:
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.add_run(clean_text(plan.programme_title)).italic = True


def _partner(doc: DocumentObject, partner: PlanPartner, added: Sequence[m.FieldDefinition]) -> None:
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.paragraph_format.space_before = Pt(12)
    heading.paragraph_format.space_after = Pt(6)
    heading.paragraph_format.keep_with_next = True  # never a heading alone at a page's foot
    heading.add_run(clean_text(partner.name.strip())).bold = True

    headings = (*HEADER, *(definition.label for definition in added))
    table = doc.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    keep_row_whole(header, header=True)
    for cell, text in zip(header.cells, headings, strict=True):
        fill(cell, text, bold=True, centred=True)

    groups = _sections(partner.events)
    show_sections = sum(1 for name, _ in groups if name) > 1
    lines: list[tuple[str, ...]] = []
    for name, events in groups:
        if show_sections and name:
            _section_row(table, name)
        for index, event in enumerate(events, start=1):
            number = event.number if event.number is not None else index
            values = (
                *(f"{number}.", event.title, event.timing_text, ", ".join(event.responsible)),
                *(added_fields.shown(d, event.extra.get(d.key)) for d in added),
            )
            lines.append(values)
            row = table.add_row()
            keep_row_whole(row)
            for cell, text in zip(row.cells, values, strict=True):
                fill(cell, text)
    widths = (*COLUMN_WIDTHS, *[ADDED_WIDTH] * len(added))
    set_column_widths(table, fitted_widths(widths, headings, lines, FONT_SIZE, page_text_width(doc)))


def _sections(events: Sequence[PlanEvent]) -> list[tuple[str, list[PlanEvent]]]:
    """Events grouped by section: unsectioned first, then by first appearance.

    Grouping keeps one heading per section even when a line was added to an
    earlier section later on.
    """
    groups: dict[str, list[PlanEvent]] = {"": []}
    for event in events:
        groups.setdefault(event.section.strip(), []).append(event)
    return [(name, lines) for name, lines in groups.items() if lines]


def _section_row(table: Table, name: str) -> None:
    row = table.add_row()
    keep_row_whole(row)
    merged = row.cells[0].merge(row.cells[-1])
    fill(merged, name, bold=True, centred=True)
    merged.paragraphs[0].runs[0].italic = True
    merged.paragraphs[0].paragraph_format.keep_with_next = True  # not alone at a page's foot
