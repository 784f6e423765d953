"""Reading a network plan from a spreadsheet: Excel (.xlsx) or CSV.

Columns are found by their headers (PlanBuilder's rules); partners come from a
partner column, or from heading rows that start each partner's block as in
Word. Merged cells are read as Excel shows them: every cell of a merged range
has its text. Formula cells are refused, since their values are not in the file
for certain.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

from .imported import MAX_CELLS, ImportedPlan, PlanBuilder, PlanFileError, Row, brief_error, is_header

MAX_ROWS = 5000  # filled rows of a sheet; a plan has tens to hundreds
MAX_COLUMNS = 40
MAX_SHEET_XML = 8 * 2**20  # unpacked; a plan's sheet is a few hundred kilobytes
MAX_MERGED_CELLS = 10_000  # openpyxl takes about a second for these
_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")
_MERGE_REF = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"', re.IGNORECASE
)
DELIMITERS = (";", ",", "\t")
# What a spreadsheet would start a formula with; our own export writes such text
# with a leading apostrophe, taken off again here.
_FORMULA_STARTS = ("=", "+", "-", "@")


# --- Excel ---------------------------------------------------------------------------


def read_xlsx(data: bytes, added: Mapping[str, str] | None = None) -> ImportedPlan:
    """The plan in an .xlsx workbook (every visible sheet); PlanFileError when unreadable.
    added: the added fields' headings (PlanBuilder)."""
    _check_sheets(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it does not keep (data validation, slicers…).
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), data_only=False, keep_links=False)
    except Exception as error:  # a broken package makes zipfile, lxml or openpyxl raise anything
        raise PlanFileError(
            "corrupt",
            gettext(
                "The Excel workbook is damaged and cannot be opened (%(error)s).", error=brief_error(error)
            ),
        ) from error
    builder = PlanBuilder("xlsx", added)
    for sheet in workbook.worksheets:
        if sheet.sheet_state == "visible":
            label = gettext("sheet «%(name)s»", name=sheet.title)
            builder.table(_sheet_rows(sheet, label), label)
    return builder.result()


def _check_sheets(data: bytes) -> None:
    """Refuse sheets too big to load before openpyxl tries: it makes an object for
    every cell the sheets hold and every cell of a merged range, so a few bytes
    merging A1:XFD1048576 would keep a worker busy for hours. (The sizes the
    archive unpacks to are checked before, in importer.)"""
    cells = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                if info.file_size > MAX_SHEET_XML:
                    raise PlanFileError(
                        "too_big", gettext("A sheet of the workbook is too large for a network plan.")
                    )
                xml = archive.read(info)
                cells += sum(1 for _cell in _CELL.finditer(xml))
                if cells > MAX_CELLS:
                    raise PlanFileError(
                        "too_big",
                        gettext(
                            "The workbook has more than %(n)s cells: this is not a network plan.",
                            n=f"{MAX_CELLS:,}".replace(",", " "),
                        ),
                    )
                merged = sum(_area(match) for match in _MERGE_REF.finditer(xml))
                if merged > MAX_MERGED_CELLS:
                    raise PlanFileError(
                        "too_big",
                        gettext(
                            "Merged cells cover more than %(n)s cells: unmerge them.", n=MAX_MERGED_CELLS
                        ),
                    )
    except PlanFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as error:
        raise PlanFileError(
            "corrupt",
            gettext(
                "The Excel workbook is damaged and cannot be opened (%(error)s).", error=brief_error(error)
            ),
        ) from error


def _area(match: re.Match[bytes]) -> int:
    first_column, first_row, last_column, last_row = match.groups()
    columns = column_index_from_string(last_column.decode().upper()) - column_index_from_string(
        first_column.decode().upper()
    )
    return (abs(columns) + 1) * (abs(int(last_row) - int(first_row)) + 1)


def _sheet_rows(sheet: Worksheet, label: str) -> list[Row]:
    # The cells the file holds; iter_rows would make every empty cell up to the
    # last formatted one, which may be a million rows down.
    by_row: dict[int, dict[int, str]] = {}
    formulas: dict[int, dict[int, str]] = {}
    for (row, column), cell in sheet._cells.items():
        if column > MAX_COLUMNS or cell.value is None:
            continue
        text = _text(cell.value)
        if cell.data_type == "f" or isinstance(cell.value, ArrayFormula | DataTableFormula):
            formulas.setdefault(row, {})[column - 1] = f"{cell.coordinate}: {text}"
        by_row.setdefault(row, {})[column] = text
    if len(by_row) > MAX_ROWS:
        raise PlanFileError(
            "too_big",
            gettext(
                "%(where)s has more than %(n)s filled rows: this is not a network plan.",
                where=label,
                n=MAX_ROWS,
            ),
        )
    # A merged range's text stands in its first column on each of its rows (a
    # partner or a timing merged down over several events applies to each), and
    # a range across columns marks a heading row.
    spanning: dict[int, tuple[int, int]] = {}
    for merged in sheet.merged_cells.ranges:
        top = by_row.get(merged.min_row, {}).get(merged.min_col)
        if top is None or merged.min_col > MAX_COLUMNS or merged.max_row - merged.min_row > MAX_ROWS:
            continue
        for row in range(merged.min_row, merged.max_row + 1):
            by_row.setdefault(row, {})[merged.min_col] = top
            if merged.max_col > merged.min_col:
                spanning[row] = (merged.min_col, merged.max_col)
    rows = []
    for number in sorted(by_row):
        cells = by_row[number]
        width = max(cells)
        texts = [cells.get(column, "") for column in range(1, width + 1)]
        span = spanning.get(number)
        filled = [column for column, text in cells.items() if text.strip()]
        merged = span is not None and all(span[0] <= column <= span[1] for column in filled)
        where = gettext("%(sheet)s, row %(row)s", sheet=label, row=number)
        rows.append(Row(texts, where, merged=merged, formulas=formulas.get(number, {})))
    return rows


def _text(value: Any) -> str:
    if isinstance(value, ArrayFormula):
        return value.text or ""
    if isinstance(value, DataTableFormula):
        return "="
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):  # a date cell in «Сроки»: the form timing reads
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text.startswith("'") and text[1:2] in _FORMULA_STARTS:
        return text[1:]
    return text


# --- CSV -----------------------------------------------------------------------------


def read_csv(data: bytes, added: Mapping[str, str] | None = None) -> ImportedPlan:
    """The plan in a CSV file: UTF-8 (with or without BOM), UTF-16 or Windows-1251;
    separated by semicolons, commas or tabs. added: the added fields' headings (PlanBuilder)."""
    text = decode_text(data)
    builder = PlanBuilder("csv", added)
    builder.table(_csv_rows(text, _delimiter(text, added)), gettext("the file"))
    return builder.result()


def decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1251")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlanFileError(
        "encoding",
        gettext(
            "The text file is neither in UTF-8 nor in Windows-1251: save it as «CSV UTF-8» and try again."
        ),
    )


def _csv_rows(text: str, delimiter: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    cells_read = 0
    try:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            cells_read += len(cells)
            if cells_read > MAX_CELLS:
                raise PlanFileError(
                    "too_big",
                    gettext(
                        "The file has more than %(n)s cells: this is not a network plan.",
                        n=f"{MAX_CELLS:,}".replace(",", " "),
                    ),
                )
            if any(cell.strip() for cell in cells):
                rows.append(Row([_text(cell) for cell in cells], gettext("row %(row)s", row=line)))
                if len(rows) > MAX_ROWS:
                    raise PlanFileError(
                        "too_big",
                        gettext(
                            "The file has more than %(n)s filled rows: this is not a network plan.",
                            n=MAX_ROWS,
                        ),
                    )
    except csv.Error as error:
        raise PlanFileError(
            "corrupt",
            gettext(
                "The CSV file is damaged at row %(row)s (%(error)s).",
                row=reader.line_num,
                error=brief_error(error),
            ),
        ) from error
    return rows


def _delimiter(text: str, added: Mapping[str, str] | None = None) -> str:
    """The separator under which some early row reads as a plan header, else the
    one that splits the first lines into most columns."""
    head = "\n".join(text.splitlines()[:40])
    best, best_width = DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if any(is_header(row[:MAX_COLUMNS], added) for row in rows[:12]):
            return delimiter
        width = max((len(row) for row in rows), default=0)
        if width > best_width:
            best, best_width = delimiter, width
    return best
