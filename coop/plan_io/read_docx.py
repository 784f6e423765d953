"""Reading a network plan from a Word document (.docx), as schools write them.

Prose before and after; each partner's name in one or more paragraphs before its
table; a header row; section rows merged across the table; cells of several
paragraphs. The document is walked in order at the XML level (through content
controls too), so merged cells, rows that start late and vertical merges are
read as Word shows them.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping

from docx import Document
from docx.oxml.ns import qn
from flask_babel import gettext
from lxml.etree import _Element

from .imported import (
    MAX_CELLS,
    ImportedPlan,
    PlanBuilder,
    PlanFileError,
    Row,
    brief_error,
    collapse,
    looks_like_prose,
)

MAX_NAME_PARAGRAPHS = 8
MAX_SPAN = 64
# Counted in the document's XML before python-docx parses it (lxml keeps every
# element: memory grows with their number, not with the file's size).
MAX_ELEMENTS = 500_000  # a hundred formatted pages have a few hundred thousand
MAX_TABLE_ROWS = 5000  # in all tables; a plan has tens to hundreds
_ELEMENT = re.compile(rb"<[A-Za-z]")
_TABLE_ROW = re.compile(rb"<w:tr[\s/>]")
_TABLE_CELL = re.compile(rb"<w:tc[\s/>]")
# Where an organisation's name begins: its legal form, written out or abbreviated
# («Государственное …», «Муниципальное …», «МБОУ …», «ГПОУ …»).
_LEGAL_FORM = re.compile(
    r"^(?:[А-ЯЁ]{2,7}\b|(?:Государственн|Федеральн|Муниципальн|Автономн|Областн|Краев|Частн|Негосударственн"
    r"|Некоммерческ|Бюджетн|Казенн|Казённ|Акционерн|Публичн|Общество|Индивидуальн|Фонд|Ассоциац|Союз)\w*)"
)
_TEXT, _TAB, _BREAKS = qn("w:t"), qn("w:tab"), (qn("w:br"), qn("w:cr"))
_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = (
    qn(f"w:{tag}") for tag in ("p", "tbl", "tr", "tc", "sdt", "sdtContent")
)


def read_docx(data: bytes, added: Mapping[str, str] | None = None) -> ImportedPlan:
    """The plan in a .docx file; PlanFileError when it cannot be read as one. added: the
    added fields' headings (PlanBuilder)."""
    _check_document(data)
    try:
        body = Document(io.BytesIO(data)).element.body
    except Exception as error:  # python-docx raises anything a broken package makes lxml or zipfile raise
        raise PlanFileError(
            "corrupt",
            gettext(
                "The Word document is damaged and cannot be opened (%(error)s).", error=brief_error(error)
            ),
        ) from error
    builder = PlanBuilder("docx", added)
    paragraphs: list[str] = []  # since the last table: the partner's name is at their end
    tables = 0
    for element in _blocks(body):
        if element.tag == _P:
            paragraphs.append(_paragraph_text(element))
            continue
        tables += 1
        label = gettext("table %(n)s", n=tables)
        builder.table(_rows(element, label), label, partner_name(paragraphs))
        paragraphs = []
    return builder.result()


def _check_document(data: bytes) -> None:
    """Refuse a document too big for a plan before it is parsed. (The sizes the
    archive unpacks to are checked before, in importer.)"""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("word/document.xml")
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError):
        return  # python-docx says what is wrong with it
    counts = (
        (_ELEMENT, MAX_ELEMENTS, gettext("elements")),
        (_TABLE_ROW, MAX_TABLE_ROWS, gettext("table rows")),
        (_TABLE_CELL, MAX_CELLS, gettext("table cells")),
    )
    for pattern, limit, what in counts:
        if sum(1 for _match in pattern.finditer(xml)) > limit:
            raise PlanFileError(
                "too_big",
                gettext(
                    "The Word document has more than %(n)s %(what)s: this is not a network plan.",
                    n=f"{limit:,}".replace(",", " "),
                    what=what,
                ),
            )


def partner_name(paragraphs: list[str]) -> str:
    """The partner's name written in the paragraphs just before a table.

    The paragraphs back to the last sentence (prose ends with a full stop) or the
    plan's title; the name begins at the organisation's legal form when one is
    written, else it is the last group of paragraphs without a blank between.
    """
    picked: list[str] = []
    for text in reversed(paragraphs):
        text = collapse(text)
        if text and (looks_like_prose(text) or sum(1 for t in picked if t) >= MAX_NAME_PARAGRAPHS):
            break
        picked.append(text)
    picked.reverse()
    filled = [text for text in picked if text]
    for index, text in enumerate(filled):
        if _LEGAL_FORM.match(text):
            return " ".join(filled[index:])
    groups: list[list[str]] = [[]]
    for text in picked:
        if text:
            groups[-1].append(text)
        elif groups[-1]:
            groups.append([])
    return " ".join(next((group for group in reversed(groups) if group), []))


def _blocks(parent: _Element) -> Iterator[_Element]:
    """Paragraphs and tables of the body in document order, content controls opened."""
    for child in parent.iterchildren():
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _blocks(content)


def _paragraph_text(p: _Element) -> str:
    parts = []
    for node in p.iter(_TEXT, _TAB, *_BREAKS):
        if node.tag == _TEXT:
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == _TAB else "\n")
    return "".join(parts)


def _cell_text(tc: _Element) -> str:
    """A cell's paragraphs, one per line (nested tables are not read)."""
    return "\n".join(_paragraph_text(p) for p in tc.iterchildren(_P))


def _rows(tbl: _Element, label: str) -> list[Row]:
    rows: list[Row] = []
    above: list[str] = []  # the row above, by grid column: vertically merged cells repeat it
    for number, tr in enumerate(tbl.iterchildren(_TR), start=1):
        cells: list[str] = [""] * _int_val(tr, "trPr", "gridBefore", default=0)
        spans: list[tuple[str, int]] = []
        for tc in tr.iterchildren(_TC):
            span = max(1, _int_val(tc, "tcPr", "gridSpan", default=1))
            start = len(cells)
            if _continues_vertical_merge(tc):
                text = above[start] if start < len(above) else ""
            else:
                text = _cell_text(tc)
            cells.extend([text, *[""] * (span - 1)])  # a wide cell's text is in its first column
            if text.strip():
                spans.append((text, span))
        where = gettext("%(table)s, row %(row)s", table=label, row=number)
        rows.append(Row(cells, where, merged=len(spans) == 1 and spans[0][1] > 1))
        above = cells
    return rows


def _int_val(element: _Element, properties: str, name: str, default: int) -> int:
    """A number property (w:gridSpan, w:gridBefore) within sane bounds; a broken one counts as absent."""
    found = element.find(f"{qn('w:' + properties)}/{qn('w:' + name)}")
    if found is None:
        return default
    try:
        return max(0, min(int(found.get(qn("w:val"), default)), MAX_SPAN))
    except ValueError:
        return default


def _continues_vertical_merge(tc: _Element) -> bool:
    merge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
    return merge is not None and merge.get(qn("w:val"), "continue") == "continue"
