"""The coordinator's dashboard (and a school's own), and a school's ФГОС coverage matrix.

The figures come from coop.figures; this module picks the school and the
academic year from the URL, links every figure to the admin list of its rows,
lays out the bar charts (inline SVG, drawn on the server: no script) and writes
the table to XLSX.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, current_app, flash, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import (
    FilterEqual,
    IntEqualFilter,
    IntGreaterFilter,
    IntSmallerFilter,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .. import access, added_fields, figures, labels
from .. import models as m
from ..formats import month_name
from ..plan_io.export import FORMATS
from ..plan_io.xlsx_out import safe_cell
from ..report.data import build_report
from ..report.docx_out import filename as report_filename
from ..report.docx_out import report_to_docx
from ..timing import academic_year_bounds, academic_year_label
from .base import SecuredView
from .display import DateBetweenFilter, date_range
from .loading import SchoolFilter
from .pickers import YEAR_RANGE, ShownYear, int_arg, school_for, visible_schools, year_choice

CYCLE_NUMERALS = dict(zip(m.SEMINAR_CYCLES, ("I", "II", "III", "IV"), strict=True))


@dataclass(frozen=True)
class Column:
    """A figure column of the table: a short heading under its group's, the full label in XLSX."""

    key: str  # of coop.figures.FIGURES
    group: Any
    heading: Any
    label: Any


def _columns(group: Any, *columns: tuple[str, Any, Any]) -> list[Column]:
    return [Column(key, group, heading, label) for key, heading, label in columns]


COLUMNS: tuple[Column, ...] = (
    *_columns(
        _l("Partners and agreements"),
        ("partners", _l("partners"), _l("Partners with agreements")),
        ("agreements", _l("agreements"), _l("Agreements")),
        ("agreements_active", _l("in force"), _l("Agreements in force")),
    ),
    *_columns(
        _l("Plan lines of the year"),
        ("lines", _l("all"), _l("Plan lines of the year")),
        ("held", _l("held"), _l("Held")),
        ("not_held", _l("not held"), _l("Not held")),
        ("cancelled", _l("cancelled"), _l("Cancelled")),
        ("planned", _l("planned"), _l("Planned")),
        ("percent_held", "%", _l("Held, %")),
    ),
    *_columns(
        _l("People reached"),
        ("students", _l("students"), _l("Students reached")),
        ("teachers", _l("teachers"), _l("Teachers reached")),
        ("parents", _l("parents"), _l("Parents reached")),
    ),
    *_columns(
        _l("Seminars by cycle"),
        *(
            (f"seminars_{cycle}", CYCLE_NUMERALS[cycle], label)
            for cycle, label in labels.choices(m.Seminar, "cycle").items()
        ),
    ),
    *_columns(
        _l("Limitations"),
        ("limitations", _l("found"), _l("Limitations found")),
        ("limitations_addressed", _l("addressed"), _l("Limitations addressed")),
    ),
    *_columns(
        _l("FGOS results"),
        ("fgos_agreed", _l("agreed"), _l("FGOS results agreed")),
        ("fgos_covered", _l("covered"), _l("FGOS results covered by held events")),
    ),
    *_columns(_l("Remarks"), ("remarks_open", _l("open"), _l("Open remarks"))),
)


def column_groups() -> list[tuple[Any, int]]:
    """The groups' headings over the columns, with how many columns each spans."""
    groups: list[tuple[Any, int]] = []
    for column in COLUMNS:
        if groups and groups[-1][0] is column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return groups


# --- drill-down: from a figure to the admin list of its rows --------------------------------


def _column_key(column: Any) -> tuple[str, str]:
    column = getattr(column, "expression", column)
    return column.table.name, column.name


class DrillDown:
    """URLs of the admin lists behind the figures of one academic year, school by school.

    Flask-Admin names a filter in the URL by its position among the view's
    filters (flt0_7=…); the positions are looked up, not written down, so that
    adding a filter to a view never breaks a link.
    """

    def __init__(self, year: int) -> None:
        self.year = year
        self.first, self.last = academic_year_bounds(year)
        self._views = {
            view.endpoint: view
            for view in current_app.extensions["admin"][0]._views
            if getattr(view, "_filters", None) and view.is_accessible()
        }
        self._args: dict[tuple[str, tuple[str, str], type], str | None] = {}
        self._links: dict[str, str | None] | None = None

    def _arg(self, endpoint: str, column: Any, kind: type) -> str | None:
        key = (endpoint, _column_key(column), kind)
        if key not in self._args:
            view = self._views.get(endpoint)
            filters = enumerate((view._filters or ()) if view is not None else ())
            self._args[key] = next(
                (
                    view.get_filter_arg(index, flt)
                    for index, flt in filters
                    if view is not None
                    and type(flt) is kind
                    and _column_key(getattr(flt, "column", None)) == key[1]
                ),
                None,
            )
        return self._args[key]

    def url(self, endpoint: str, *conditions: tuple[Any, type, Any]) -> str | None:
        """The list at `endpoint` filtered by (column, filter class, value) conditions, if it has them."""
        args = {}
        for position, (column, kind, value) in enumerate(conditions):
            arg = self._arg(endpoint, column, kind)
            if arg is None:
                return None
            args[f"flt{position}_{arg}"] = value
        return url_for(f"{endpoint}.index_view", **args)

    # Stands for the school's id in the URLs built once per page: a table of 50 schools
    # would otherwise cost some 1,400 url_for calls.
    SCHOOL = "SCHOOLID"

    def links(self, school_id: int) -> dict[str, str | None]:
        """Figure key -> URL of its rows for one school."""
        if self._links is None:
            self._links = self._links_of(self.SCHOOL)
        school = str(school_id)
        return {key: url and url.replace(self.SCHOOL, school) for key, url in self._links.items()}

    def _links_of(self, school_id: int | str) -> dict[str, str | None]:
        year = self.year
        agreements = (m.Agreement.school_id, SchoolFilter, school_id)
        executions = (
            (m.EventExecution.school_id, SchoolFilter, school_id),
            (m.EventExecution.year, IntEqualFilter, year),
        )
        held_on = date_range(self.first, self.last)
        links = {
            "partners": self.url("agreement", agreements),
            "agreements": self.url("agreement", agreements),
            "agreements_active": self.url(
                "agreement", agreements, (m.Agreement.state, FilterEqual, "active")
            ),
            "lines": self.url(
                "event",
                (m.Event.school_id, SchoolFilter, school_id),
                (m.Event.first_year, IntSmallerFilter, year + 1),
                (m.Event.last_year, IntGreaterFilter, year - 1),
            ),
            # Lines without a record are planned too: the year's calendar shows them all.
            "planned": url_for("calendar.index", school=school_id, year=year),
            **{
                status: self.url(
                    "eventexecution", *executions, (m.EventExecution.status, FilterEqual, status)
                )
                for status in ("held", "not_held", "cancelled")
            },
            **dict.fromkeys(
                ("percent_held", "students", "teachers", "parents"), self.url("eventexecution", *executions)
            ),
            **{
                f"seminars_{cycle}": self.url(
                    "seminar",
                    (m.Seminar.school_id, SchoolFilter, school_id),
                    (m.Seminar.cycle, FilterEqual, cycle),
                    (m.Seminar.held_on, DateBetweenFilter, held_on),
                )
                for cycle in m.SEMINAR_CYCLES
            },
            **dict.fromkeys(
                ("limitations", "limitations_addressed"),
                self.url("limitation", (m.Limitation.school_id, SchoolFilter, school_id)),
            ),
            **dict.fromkeys(
                ("fgos_agreed", "fgos_covered"), url_for("coverage.index", school=school_id, year=year)
            ),
            "remarks_open": self.url("remark", (m.Remark.school_id, SchoolFilter, school_id)),
        }
        for kind in m.AGREEMENT_TYPES:
            for state in m.AGREEMENT_STATES:
                links[f"agreements_{kind}_{state}"] = self.url(
                    "agreement",
                    agreements,
                    (m.Agreement.agreement_type, FilterEqual, kind),
                    (m.Agreement.state, FilterEqual, state),
                )
        return links


# --- bar charts as inline SVG ------------------------------------------------------------------


LABEL_CHARS = 26  # a longer label is cut, its full text in the row's tooltip


@dataclass(frozen=True)
class ChartRow:
    label: str
    short_label: str
    lines: int
    held: int
    y: int
    lines_width: float
    held_width: float


@dataclass(frozen=True)
class BarChart:
    """Geometry of a horizontal bar chart: per row a bar of plan lines with the held ones inside it."""

    title: str
    rows: tuple[ChartRow, ...]
    width: int = 480
    # Room for LABEL_CHARS characters at the chart's 12 px (about 7.6 px each in a common sans)
    # right-aligned before the bars: a label must not start left of the drawing.
    label_width: int = 220
    bar_space: int = 200  # and the rest of the width for the figures after the longest bar
    row_height: int = 22

    @property
    def height(self) -> int:
        return max(1, len(self.rows)) * self.row_height + 4


def bar_chart(title: str, bars: Sequence[figures.Bar]) -> BarChart:
    chart = BarChart(title, ())
    most = max((bar.lines for bar in bars), default=0)
    if not most:  # no lines at all: the template says so instead of drawing empty bars
        return chart
    rows = []
    for index, bar in enumerate(bars):
        label = bar.label or gettext("not set")
        rows.append(
            ChartRow(
                label=label,
                short_label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
                lines=bar.lines,
                held=bar.held,
                y=index * chart.row_height + 2,
                lines_width=round(chart.bar_space * bar.lines / most, 1),
                held_width=round(chart.bar_space * bar.held / most, 1),
            )
        )
    return BarChart(title, tuple(rows))


def _charts(data: figures.Charts) -> list[BarChart]:
    months = [figures.Bar(month_name(int(bar.label)), bar.lines, bar.held) for bar in data.months]
    return [
        bar_chart(gettext("Plan lines by month"), months),
        bar_chart(gettext("Plan lines by kind of partner"), data.partner_kinds),
        bar_chart(gettext("Plan lines by level"), data.levels),
    ]


# --- choosing the school and the year ------------------------------------------------------------


def _year(strict: bool, school: m.School | None) -> tuple[ShownYear, list[int]]:
    """The academic year asked for, else the latest with data in the user's scope (the school's,
    when one is shown), and the years to choose from: one statement, none for a download that
    names its year. A bad year is said so (or, strict, 404)."""
    raw = request.args.get("year", "")
    asked = int_arg("year", YEAR_RANGE) if raw else None
    if strict and raw:
        if asked is None:
            abort(404)
        return ShownYear(asked), []
    shown, years, _values = year_choice(asked, school.id if school else None)
    years = sorted({*years, shown.year})  # a year asked for outside the plan's is offered too
    if raw and asked is None:
        flash(
            gettext(
                "«%(value)s» is not an academic year; showing %(year)s.",
                value=raw[:20],
                year=academic_year_label(shown.year),
            ),
            "warning",
        )
    return shown, years


def _school(schools: list[m.School], default_first: bool) -> m.School | None:
    """The school asked for (404 when it is not one the user sees); else the only one, or the first."""
    if not request.args.get("school"):
        return schools[0] if schools and (len(schools) == 1 or default_first) else None
    school_id = int_arg("school")
    school = school_for(school_id, schools) if school_id is not None else None
    if school is None:
        abort(404)
    return school


def grouped(value: Any) -> str:
    """12345 as «12 345», 7.5 as «7,5», as Russian writes numbers (with a narrow no-break space)."""
    if isinstance(value, float):  # an added number field's sum, to the hundredth
        return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def added_columns(school_id: int | None) -> list[m.FieldDefinition]:
    """The fields added to the yearly records that the dashboard sums (number kinds) or
    counts («yes» of yes/no): the municipality's, and a school's own on its page."""
    return [
        d
        for d in added_fields.of_record(m.EventExecution, school_id)
        if added_fields.KINDS[d.kind].number or d.kind == "boolean"
    ]


def added_value(fig: figures.SchoolFigures, definition: m.FieldDefinition) -> int | float:
    """A field's figure: the sum of a number field, the «yes» of a yes/no one."""
    if definition.kind == "boolean":
        return fig.added_yes(definition.key)
    return fig.added_sum(definition.key)


def dashboard_context() -> dict[str, Any]:
    """What the dashboard page shows for the school and year of the URL (also the home page)."""
    schools = visible_schools(int_arg("school"))
    school = _school(schools, default_first=False)
    shown, years = _year(strict=False, school=school)
    year = shown.year
    data = figures.dashboard(  # the figures and the charts in one statement
        year,
        school.id if school else None,
        sort=request.args.get("sort", "school"),
        desc=request.args.get("desc") == "1",
        page=int_arg("page") or 1,
        every_school=access.scope_of(current_user, m.School) is access.ALL,
    )
    context: dict[str, Any] = {
        "year": year,
        "shown_year": shown,
        "years": years,
        "year_label": academic_year_label,
        "schools": schools,
        "school": school,
        "columns": COLUMNS,
        "column_groups": column_groups(),
        "figure": lambda fig, key: figures.FIGURES[key](fig),
        "grouped": grouped,
        "cycles": labels.choices(m.Seminar, "cycle"),
        "cycle_numerals": CYCLE_NUMERALS,
        "agreement_types": labels.choices(m.Agreement, "agreement_type"),
        "agreement_states": labels.choices(m.Agreement, "state"),
        "remark_states": labels.choices(m.Remark, "state"),
        "charts": _charts(data.charts),
        "may_see_remarks": access.can(current_user, "remark.view"),
        "figures_kept": data.kept,
        "added_columns": added_columns(school.id if school else None),
        "added_value": added_value,
    }
    drill = DrillDown(year)
    if school is not None:
        links: Any = drill.links(school.id)
        context.update(fig=data.school, links=links, remarks=figures.remarks(school.id))
    else:
        rows = data.page.rows if data.page else []
        links = {row.school_id: drill.links(row.school_id) for row in rows if row.school_id is not None}
        context.update(page=data.page, links=links)
    return context


class DashboardView(SecuredView):
    permission = "dashboard.view"

    @expose("/")
    def index(self) -> str:
        return self.render("coop/dashboard.html", **dashboard_context())

    @expose("/export.xlsx")
    def export(self) -> Response:
        school = _school(visible_schools(int_arg("school")), default_first=False)
        year = _year(strict=True, school=school)[0].year
        if school is not None:
            rows, total = figures.school_figures(year, [school.id]), None
        else:
            rows = figures.sorted_figures(year, request.args.get("sort", ""), request.args.get("desc") == "1")
            total = figures.totals(year, rows)
        name = f"dashboard-{year}-{year + 1}.xlsx"
        return Response(
            figures_to_xlsx(rows, total, year, school, added_columns(school.id if school else None)),
            mimetype=FORMATS["xlsx"].mimetype,
            headers={"Content-Disposition": f"attachment; filename={name}"},
        )

    @expose("/report.docx")
    def report(self) -> Response:
        """The annual report of the school's innovation site for the year (.docx)."""
        school = _school(visible_schools(int_arg("school")), default_first=False)
        year = _year(strict=True, school=school)[0].year
        if school is None:  # the report is of one school: the page offers it once one is chosen
            abort(404)
        report = build_report(school, year)
        return Response(
            report_to_docx(report),
            mimetype=FORMATS["docx"].mimetype,
            headers={"Content-Disposition": f"attachment; filename={report_filename(report)}"},
        )


def figures_to_xlsx(
    rows: Sequence[figures.SchoolFigures],
    total: figures.SchoolFigures | None,
    year: int,
    school: m.School | None,
    added: Sequence[m.FieldDefinition] = (),
) -> bytes:
    """The dashboard table as a one-sheet workbook: a row per school, and the totals; then
    the added fields' figures (added_columns), by their labels."""
    wb = Workbook()
    ws = wb.active
    ws.title = academic_year_label(year).replace("/", "-")
    where = str(school) if school else gettext("all schools")
    title = gettext(
        "Dashboard: %(where)s, academic year %(year)s", where=where, year=academic_year_label(year)
    )
    ws.cell(1, 1, safe_cell(title)).font = Font(bold=True, size=13)
    header = [
        gettext("School"),
        *(str(column.label) for column in COLUMNS),
        *(d.label for d in added),
    ]
    for col, text in enumerate(header, start=1):
        cell = ws.cell(3, col, safe_cell(text))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    line = 3
    for fig in rows:
        line += 1
        ws.cell(line, 1, safe_cell(fig.school))
        for col, column in enumerate(COLUMNS, start=2):
            ws.cell(line, col, figures.FIGURES[column.key](fig))
        for col, definition in enumerate(added, start=len(COLUMNS) + 2):
            ws.cell(line, col, added_value(fig, definition))
    if total is not None:
        line += 1
        ws.cell(line, 1, gettext("Total")).font = Font(bold=True)
        for col, column in enumerate(COLUMNS, start=2):
            ws.cell(line, col, figures.FIGURES[column.key](total)).font = Font(bold=True)
        for col, definition in enumerate(added, start=len(COLUMNS) + 2):
            ws.cell(line, col, added_value(total, definition)).font = Font(bold=True)
    ws.column_dimensions["A"].width = 40
    for col in range(2, len(header) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 12
    ws.freeze_panes = "B4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class CoverageView(SecuredView):
    permission = "coverage.view"

    @expose("/")
    def index(self) -> str:
        schools = visible_schools(int_arg("school"))
        school = _school(schools, default_first=True)
        shown, years = _year(strict=False, school=school)
        year = shown.year
        return self.render(
            "coop/coverage.html",
            year=year,
            shown_year=shown,
            years=years,
            year_label=academic_year_label,
            schools=schools,
            school=school,
            coverage=figures.coverage(school.id, year) if school else None,
            executions=labels.choices(m.EventExecution, "status"),
        )


VIEWS: list = []  # model views: none here
PAGES = [
    (DashboardView, "dashboard", _l("Dashboard")),
    (CoverageView, "coverage", _l("FGOS coverage")),
]
