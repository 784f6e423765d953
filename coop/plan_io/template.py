"""Templates of a network plan to fill in and import: Word and Excel, in the form
the readers expect (read_docx, read_table), with one example line and a short note.

The Word template is the plan's own Word export (a partner's full name above its
table of «№ п/п | Наименование мероприятия | сроки | ответственные»); the Excel one a
single table with the partner in a column. Both are Russian documents whatever the
interface language: the readers find the columns by these Russian headers.
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..timing import academic_year_of, parse_timing
from .docx_out import plan_to_docx
from .plan import Plan, PlanEvent, PlanPartner

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PARTNER = "Муниципальное бюджетное учреждение культуры «Новокузнецкий краеведческий музей»"
TITLE = "Экскурсия «История родного края» для учащихся 5-х классов"
TIMING = "октябрь, март"
RESPONSIBLE = ("Заместитель директора по УВР", "Классные руководители")
AUDIENCE, GRADES = "учащиеся", "5"

# Every line of the note ends with a full stop: the readers take a sentence for
# prose, never for a partner's name.
NOTE_DOCX = (
    "Образец сетевого плана для импорта в Coop. Строку-пример замените своими мероприятиями.",
    "Для каждой организации-партнёра: её полное наименование отдельным абзацем и под ним таблица "
    "с заголовком «№ п/п», «Наименование мероприятия», «сроки», «ответственные».",
    "Сроки — месяцы словами: «октябрь», «октябрь, март», «ноябрь - апрель», «в течение года». "
    "Ответственные — должности через запятую.",
    "Строка таблицы, объединённая на всю ширину, — раздел плана; раздел «учащиеся», «учителя» или "
    "«родители» задаёт аудиторию своих мероприятий.",
)
NOTE_XLSX = (
    "Образец сетевого плана для импорта в Coop. Строку-пример замените своими мероприятиями.",
    "Одна строка — одно мероприятие; организация-партнёр — в первом столбце, полным наименованием.",
    "Сроки — месяцы словами: «октябрь», «октябрь, март», «ноябрь - апрель», «в течение года». "
    "Ответственные — должности через запятую. Аудитория: учащиеся, учителя или родители.",
)
XLSX_HEADER = (
    "Организация-партнёр",
    "№ п/п",
    "Наименование мероприятия",
    "Сроки",
    "Ответственные",
    "Аудитория",
    "Классы",
)
XLSX_WIDTHS = (45, 7, 50, 18, 35, 14, 9)


def template(fmt: str) -> bytes:
    """The template in `fmt` ("docx" or "xlsx")."""
    return template_docx() if fmt == "docx" else template_xlsx()


def template_docx() -> bytes:
    year = academic_year_of(dt.date.today())
    timing = parse_timing(TIMING)
    example = PlanEvent(
        id=0,
        number=1,
        title=TITLE,
        timing_text=TIMING,
        months=timing.months,
        all_year=False,
        timing_recognized=True,
        start=None,
        end=None,
        section="",
        audience=AUDIENCE,
        grades=GRADES,
        responsible=RESPONSIBLE,
        kind="",
        level="",
        fgos_results=(),
        state="approved",
        execution=None,
        first_year=None,
        last_year=None,
    )
    plan = Plan(0, "школы", "", "", year, (PlanPartner(0, PARTNER, "", (example,)),))
    return plan_to_docx(plan, note=NOTE_DOCX)


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Сетевой план"
    year = academic_year_of(dt.date.today())
    sheet.cell(1, 1, f"Сетевой план на {year}/{year + 1} учебный год").font = Font(bold=True, size=14)
    for row, text in enumerate(NOTE_XLSX, start=2):
        sheet.cell(row, 1, text).font = Font(italic=True)
    header_row = len(NOTE_XLSX) + 3  # a blank row between the note and the table
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    values = (PARTNER, 1, TITLE, TIMING, ", ".join(RESPONSIBLE), AUDIENCE, GRADES)
    for col, (heading, value) in enumerate(zip(XLSX_HEADER, values, strict=True), start=1):
        head = sheet.cell(header_row, col, heading)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="DDE4EE")
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell = sheet.cell(header_row + 1, col, value)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        head.border = cell.border = border
        sheet.column_dimensions[get_column_letter(col)].width = XLSX_WIDTHS[col - 1]
    sheet.row_dimensions[header_row + 1].height = 45  # the wrapped example: spreadsheets do not grow it
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
