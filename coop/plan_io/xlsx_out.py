"""A network plan as an Excel sheet: one row per event, ready to filter and sort.

Besides the plan's own columns there is one column per month of the academic
year (September to August) marked where the event runs, so a year can be read
at a glance.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .. import added_fields
from ..timing import ACADEMIC_MONTHS, format_timing
from .json_out import execution_label, state_label
from .plan import Plan, PlanEvent, PlanPartner

SHEET_TITLE = "Сетевой план"
TITLE = "Сетевой план {school} на {year_label} учебный год"
HEADER = (
    "Организация-партнёр",
    "№ п/п",
    "Наименование мероприятия",
    "Сроки",
    "Месяцы",
    "Аудитория",
    "Классы",
    "Ответственные",
    "Состояние",
    "Исполнение",
)
MONTH_ABBR: dict[int, str] = {
    9: "сен",
    10: "окт",
    11: "ноя",
    12: "дек",
    1: "янв",
    2: "фев",
    3: "мар",
    4: "апр",
    5: "май",
    6: "июн",
    7: "июл",
    8: "авг",
}
MARK = "●"
WIDTHS = (30, 7, 50, 18, 18, 16, 10, 30, 16, 14)
MONTH_WIDTH = 5
ADDED_WIDTH = 18

HEADER_ROW = 2
# Leading characters with which spreadsheets start a formula (or DDE call).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` fit for a cell: text never runs as a formula nor holds illegal characters."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def plan_to_xlsx(plan: Plan) -> bytes:
    """The plan as an .xlsx workbook with one sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    title = TITLE.format(school=plan.school_short_name or plan.school_name, year_label=plan.year_label)
    if plan.programme_title:
        title = f"{title}. {plan.programme_title}"
    ws.cell(1, 1, safe_cell(title)).font = Font(bold=True, size=14)

    added = plan.document_fields  # the fields added in the site, last
    columns = (*HEADER, *(MONTH_ABBR[m] for m in ACADEMIC_MONTHS), *(d.label for d in added))
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, text in enumerate(columns, start=1):
        cell = ws.cell(HEADER_ROW, col, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border

    row = HEADER_ROW
    top = Alignment(vertical="top", wrap_text=True)
    centre = Alignment(horizontal="center", vertical="top")
    for partner in plan.partners:
        for event in partner.events:
            row += 1
            values = [
                *_values(partner, event),
                *(added_fields.shown(d, event.extra.get(d.key)) for d in added),
            ]
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row, col, safe_cell(value))
                months = len(HEADER) < col <= len(HEADER) + len(ACADEMIC_MONTHS)
                cell.alignment = centre if months or col == 2 else top
                cell.border = border

    widths = (*WIDTHS, *[MONTH_WIDTH] * len(ACADEMIC_MONTHS), *[ADDED_WIDTH] * len(added))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    last = get_column_letter(len(columns))
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{row}"
    # Printing: landscape, one page wide, the header on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _values(partner: PlanPartner, event: PlanEvent) -> list[Any]:
    months = set(event.months)
    return [
        partner.short_name or partner.name,
        event.number,
        event.title,
        event.timing_text,
        format_timing(event.months, event.all_year) if event.months else "",
        event.audience,
        event.grades,
        ", ".join(event.responsible),
        state_label(event.state),
        execution_label(event.execution),
        *(MARK if m in months else None for m in ACADEMIC_MONTHS),
    ]
