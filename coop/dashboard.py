"""The audit figures of schools for an academic year, and a school's ФГОС coverage matrix.

Plain functions over the ORM. During a request the tenancy adds the user's row
criteria to every query, so "all schools" means all schools the user may see.
Each figure is one GROUP BY over every visible school at once: the coordinator
looks at a region of about a thousand schools, and Python only ever walks the
aggregated rows (one per school), never the plan lines or their executions.

Which rows count, for academic year `year`:

* plan lines: the school's events that repeat that year (``runs_in_year``);
  their status is that year's EventExecution, and a line without a record is
  still planned;
* agreements: those whose validity overlaps the year (no dates: always);
  partners are the organisations the school has such an agreement with;
* ФГОС results agreed: those of these agreements; covered: those among them that
  a line held that year serves (Event.fgos_results);
* seminars: held within the year; limitations: found up to the end of the year
  (at a seminar held by then, or recorded by then when found at no seminar),
  addressed when a partner's resource is named.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, methodcaller
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, intersect, or_, select

from . import models as m
from .extensions import db
from .plan_io.plan import runs_in_year
from .timing import ACADEMIC_MONTHS, academic_year_bounds, months_from_mask

PAGE_SIZE = 50
UNRESOLVED_REMARKS = ("open", "answered")


# --- the figures of one school ------------------------------------------------------


@dataclass
class SchoolFigures:
    """What a school did in one academic year (or, as totals, all the schools shown)."""

    school_id: int | None
    school: str
    partners: int = 0
    agreements: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, state) -> count
    lines: int = 0  # plan lines that run this year
    planned: int = 0
    held: int = 0
    not_held: int = 0
    cancelled: int = 0
    students: int = 0
    teachers: int = 0
    parents: int = 0
    seminars: dict[str, int] = field(default_factory=dict)  # cycle -> count
    limitations: int = 0
    limitations_addressed: int = 0
    fgos_agreed: int = 0
    fgos_covered: int = 0
    remarks_open: int = 0

    @property
    def agreements_total(self) -> int:
        return sum(self.agreements.values())

    @property
    def agreements_active(self) -> int:
        return sum(count for (_type, state), count in self.agreements.items() if state == "active")

    @property
    def seminars_total(self) -> int:
        return sum(self.seminars.values())

    @property
    def percent_held(self) -> float | None:
        """Share of this year's plan lines that were held; None without lines."""
        return round(100 * self.held / self.lines, 1) if self.lines else None

    def seminars_of(self, cycle: str) -> int:
        return self.seminars.get(cycle, 0)


def _agreements_in_year(year: int) -> ColumnElement[bool]:
    first, last = academic_year_bounds(year)
    return and_(
        m.Agreement.deleted_at.is_(None),
        or_(m.Agreement.valid_from.is_(None), m.Agreement.valid_from <= last),
        or_(m.Agreement.valid_to.is_(None), m.Agreement.valid_to >= first),
    )


def _lines_in_year(year: int) -> ColumnElement[bool]:
    return and_(m.Event.deleted_at.is_(None), runs_in_year(year))


def _execution_of_year(year: int) -> ColumnElement[bool]:
    return and_(
        m.EventExecution.event_id == m.Event.id,
        m.EventExecution.year == year,
        m.EventExecution.deleted_at.is_(None),
    )


def _only(stmt: Any, column: Any, school_ids: Sequence[int] | None) -> Any:
    return stmt if school_ids is None else stmt.where(column.in_(school_ids))


def _rows(stmt: Any) -> list[Any]:
    return list(db.session.execute(stmt).all())


def school_figures(year: int, school_ids: Sequence[int] | None = None) -> list[SchoolFigures]:
    """One SchoolFigures per visible school (or per school of `school_ids`), by name."""
    schools = _only(
        select(m.School.id, m.School.short_name, m.School.name).where(m.School.deleted_at.is_(None)),
        m.School.id,
        school_ids,
    ).order_by(m.School.short_name)
    figures = {sid: SchoolFigures(sid, short or name) for sid, short, name in _rows(schools)}

    def each(stmt: Any) -> Iterable[tuple[SchoolFigures, Any]]:
        for row in _rows(stmt):
            if row[0] in figures:
                yield figures[row[0]], row

    agreement = m.Agreement
    for fig, (_sid, count) in each(
        _only(
            select(agreement.school_id, func.count(distinct(agreement.partner_id)))
            .where(_agreements_in_year(year))
            .group_by(agreement.school_id),
            agreement.school_id,
            school_ids,
        )
    ):
        fig.partners = count
    for fig, (_sid, kind, state, count) in each(
        _only(
            select(agreement.school_id, agreement.agreement_type, agreement.state, func.count())
            .where(_agreements_in_year(year))
            .group_by(agreement.school_id, agreement.agreement_type, agreement.state),
            agreement.school_id,
            school_ids,
        )
    ):
        fig.agreements[(kind, state)] = count

    execution = m.EventExecution
    for fig, (_sid, status, count, students, teachers, parents) in each(
        _only(
            select(
                m.Event.school_id,
                execution.status,
                func.count(m.Event.id),
                func.coalesce(func.sum(execution.students_count), 0),
                func.coalesce(func.sum(execution.teachers_count), 0),
                func.coalesce(func.sum(execution.parents_count), 0),
            )
            .select_from(m.Event)
            .outerjoin(execution, _execution_of_year(year))
            .where(_lines_in_year(year))
            .group_by(m.Event.school_id, execution.status),
            m.Event.school_id,
            school_ids,
        )
    ):
        fig.lines += count
        # No record yet, or a record still saying so: planned.
        key = status if status in ("held", "not_held", "cancelled") else "planned"
        setattr(fig, key, getattr(fig, key) + count)
        fig.students += students
        fig.teachers += teachers
        fig.parents += parents

    first, last = academic_year_bounds(year)
    for fig, (_sid, cycle, count) in each(
        _only(
            select(m.Seminar.school_id, m.Seminar.cycle, func.count())
            .where(m.Seminar.deleted_at.is_(None), m.Seminar.held_on.between(first, last))
            .group_by(m.Seminar.school_id, m.Seminar.cycle),
            m.Seminar.school_id,
            school_ids,
        )
    ):
        fig.seminars[cycle] = count

    limitation = m.Limitation
    found_by_then = or_(
        m.Seminar.held_on <= last,
        and_(
            m.Seminar.held_on.is_(None),
            limitation.created_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time()),
        ),
    )
    for fig, (_sid, found, addressed) in each(
        _only(
            select(limitation.school_id, func.count(limitation.id), func.count(limitation.resource_id))
            .outerjoin(m.Seminar, m.Seminar.id == limitation.seminar_id)
            .where(limitation.deleted_at.is_(None), found_by_then)
            .group_by(limitation.school_id),
            limitation.school_id,
            school_ids,
        )
    ):
        fig.limitations, fig.limitations_addressed = found, addressed

    agreed = m.agreement_fgos_results.c
    for fig, (_sid, count) in each(
        _only(
            select(agreement.school_id, func.count(distinct(agreed.fgos_result_id)))
            .join(m.agreement_fgos_results, agreed.agreement_id == agreement.id)
            .where(_agreements_in_year(year))
            .group_by(agreement.school_id),
            agreement.school_id,
            school_ids,
        )
    ):
        fig.fgos_agreed = count
    # Covered: the (school, result) pairs both agreed and served by a line held that year.
    served = m.event_fgos_results.c
    agreed_pairs = _only(
        select(agreement.school_id, agreed.fgos_result_id)
        .join(m.agreement_fgos_results, agreed.agreement_id == agreement.id)
        .where(_agreements_in_year(year)),
        agreement.school_id,
        school_ids,
    )
    held_pairs = _only(
        select(m.Event.school_id, served.fgos_result_id)
        .join(m.event_fgos_results, served.event_id == m.Event.id)
        .join(execution, and_(_execution_of_year(year), execution.status == "held"))
        .where(_lines_in_year(year)),
        m.Event.school_id,
        school_ids,
    )
    covered = intersect(agreed_pairs, held_pairs).subquery()
    for fig, (_sid, count) in each(select(covered.c.school_id, func.count()).group_by(covered.c.school_id)):
        fig.fgos_covered = count

    for fig, (_sid, count) in each(
        _only(
            select(m.Remark.school_id, func.count())
            .where(m.Remark.deleted_at.is_(None), m.Remark.state.in_(UNRESOLVED_REMARKS))
            .group_by(m.Remark.school_id),
            m.Remark.school_id,
            school_ids,
        )
    ):
        fig.remarks_open = count
    return list(figures.values())


def totals(
    year: int, rows: Sequence[SchoolFigures], school_ids: Sequence[int] | None = None
) -> SchoolFigures:
    """The sum of the rows; partners counted once however many schools work with them."""
    total = SchoolFigures(None, "")
    for row in rows:
        for name in (
            "lines",
            "planned",
            "held",
            "not_held",
            "cancelled",
            "students",
            "teachers",
            "parents",
            "limitations",
            "limitations_addressed",
            "fgos_agreed",
            "fgos_covered",
            "remarks_open",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for key, count in row.agreements.items():
            total.agreements[key] = total.agreements.get(key, 0) + count
        for key, count in row.seminars.items():
            total.seminars[key] = total.seminars.get(key, 0) + count
    stmt = select(func.count(distinct(m.Agreement.partner_id))).where(_agreements_in_year(year))
    total.partners = db.session.execute(_only(stmt, m.Agreement.school_id, school_ids)).scalar_one()
    return total


# --- the table of all schools ---------------------------------------------------------

# The figures of the table, by key: what the columns show and how they sort.
FIGURES: dict[str, Callable[[SchoolFigures], Any]] = {
    "partners": attrgetter("partners"),
    "agreements": attrgetter("agreements_total"),
    "agreements_active": attrgetter("agreements_active"),
    "lines": attrgetter("lines"),
    "held": attrgetter("held"),
    "not_held": attrgetter("not_held"),
    "cancelled": attrgetter("cancelled"),
    "planned": attrgetter("planned"),
    "percent_held": attrgetter("percent_held"),
    "students": attrgetter("students"),
    "teachers": attrgetter("teachers"),
    "parents": attrgetter("parents"),
    **{f"seminars_{cycle}": methodcaller("seminars_of", cycle) for cycle in m.SEMINAR_CYCLES},
    "limitations": attrgetter("limitations"),
    "limitations_addressed": attrgetter("limitations_addressed"),
    "fgos_agreed": attrgetter("fgos_agreed"),
    "fgos_covered": attrgetter("fgos_covered"),
    "remarks_open": attrgetter("remarks_open"),
}
SORTS = ("school", *FIGURES)


def _sort_key(sort: str) -> Callable[[SchoolFigures], Any]:
    if sort == "school":
        return lambda fig: fig.school.casefold()
    value = FIGURES[sort]
    return lambda fig: -1 if value(fig) is None else value(fig)  # no lines, no percentage: lowest


@dataclass(frozen=True)
class FiguresPage:
    rows: list[SchoolFigures]  # this page's
    totals: SchoolFigures  # of every school, not only this page's
    page: int  # 1-based
    pages: int
    count: int  # schools in all
    sort: str
    desc: bool


def sorted_figures(year: int, sort: str = "school", desc: bool = False) -> list[SchoolFigures]:
    """Every visible school's figures, sorted by a key of SORTS (ties in name order)."""
    rows = school_figures(year)
    rows.sort(key=_sort_key("school"))
    if sort in FIGURES or desc:
        rows.sort(key=_sort_key(sort if sort in SORTS else "school"), reverse=desc)
    return rows


def figures_page(year: int, sort: str = "school", desc: bool = False, page: int = 1) -> FiguresPage:
    """One page of the sorted table, with the totals of every school."""
    sort = sort if sort in SORTS else "school"
    rows = sorted_figures(year, sort, desc)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return FiguresPage(
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        totals=totals(year, rows),
        page=page,
        pages=pages,
        count=len(rows),
        sort=sort,
        desc=desc,
    )


# --- charts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    lines: int  # plan lines of the year in this bar
    held: int  # of which held that year


@dataclass(frozen=True)
class Charts:
    months: tuple[Bar, ...]  # by calendar month, in academic order; labels are month numbers
    partner_kinds: tuple[Bar, ...]
    levels: tuple[Bar, ...]


def charts(year: int, school_id: int | None = None) -> Charts:
    """Plan lines of the year (and those held) by month, by partner kind and by level.

    One GROUP BY over the lines by (kind, level, months); a plan has few distinct
    timings, so the groups are few, and each is spread over its months here.
    """
    held = case((m.EventExecution.status == "held", 1), else_=0)
    stmt = (
        select(
            m.Partner.kind_id,
            m.Event.level_id,
            m.Event.months_mask,
            m.Event.all_year,
            func.count(m.Event.id),
            func.coalesce(func.sum(held), 0),
        )
        .select_from(m.Event)
        .outerjoin(m.Partner, m.Partner.id == m.Event.partner_id)
        .outerjoin(m.EventExecution, _execution_of_year(year))
        .where(_lines_in_year(year))
        .group_by(m.Partner.kind_id, m.Event.level_id, m.Event.months_mask, m.Event.all_year)
    )
    if school_id is not None:
        stmt = stmt.where(m.Event.school_id == school_id)
    months = {month: [0, 0] for month in ACADEMIC_MONTHS}
    kinds: dict[int | None, list[int]] = {}
    levels: dict[int | None, list[int]] = {}
    for kind_id, level_id, mask, all_year, lines, held_lines in _rows(stmt):
        for counts in (
            *(months[month] for month in (ACADEMIC_MONTHS if all_year else months_from_mask(mask))),
            kinds.setdefault(kind_id, [0, 0]),
            levels.setdefault(level_id, [0, 0]),
        ):
            counts[0] += lines
            counts[1] += held_lines
    return Charts(
        months=tuple(Bar(str(month), *counts) for month, counts in months.items()),
        partner_kinds=_catalog_bars(m.PartnerKind, kinds),
        levels=_catalog_bars(m.EventLevel, levels),
    )


def _catalog_bars(catalog: type, counts: dict[int | None, list[int]]) -> tuple[Bar, ...]:
    """Bars in the catalog's order, and last the lines with none set (label "")."""
    names = _rows(
        select(catalog.id, catalog.name)
        .where(catalog.id.in_([key for key in counts if key is not None]))
        .order_by(catalog.sort_order, catalog.name)
    )
    bars = [Bar(name, *counts[key]) for key, name in names]
    if None in counts:
        bars.append(Bar("", *counts[None]))
    return tuple(bars)


# --- a school's remarks ---------------------------------------------------------------------


def remarks(school_id: int) -> list[m.Remark]:
    """The coordinator's remarks on the school that are not closed, newest first."""
    stmt = (
        select(m.Remark)
        .where(m.Remark.school_id == school_id, m.Remark.deleted_at.is_(None), m.Remark.state != "closed")
        .order_by(m.Remark.created_at.desc(), m.Remark.id.desc())
    )
    return list(db.session.execute(stmt).scalars())


# --- ФГОС coverage -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageLine:
    """A plan line serving at least one agreed result, with its execution that year."""

    id: int
    number: int | None
    title: str
    partner: str
    status: str  # a code of models.EXECUTION_STATUSES; "planned" when nothing is recorded


@dataclass(frozen=True)
class CoverageRow:
    id: int
    code: str
    title: str
    agreed_with: tuple[str, ...]  # partners whose agreements fix the result
    cells: tuple[str | None, ...]  # per line of Coverage.lines: its status if it serves the result

    @property
    def served(self) -> bool:
        return any(cell is not None for cell in self.cells)

    @property
    def held(self) -> bool:
        return "held" in self.cells

    @property
    def gap(self) -> str | None:
        """ "no_line" (no plan line serves it), "not_held" (none of them held), or None."""
        if not self.served:
            return "no_line"
        return None if self.held else "not_held"


@dataclass(frozen=True)
class CoverageGroup:
    group: str  # «Личностные», «Метапредметные», «Предметные»
    subgroup: str  # «Познавательные УУД» …, or ""
    rows: tuple[CoverageRow, ...]


@dataclass(frozen=True)
class Coverage:
    school_id: int
    year: int
    lines: tuple[CoverageLine, ...]
    groups: tuple[CoverageGroup, ...]

    @property
    def rows(self) -> list[CoverageRow]:
        return [row for group in self.groups for row in group.rows]

    @property
    def partners(self) -> list[tuple[str, int]]:
        """Partners of the lines in column order, with how many columns each spans."""
        spans: list[tuple[str, int]] = []
        for line in self.lines:
            if spans and spans[-1][0] == line.partner:
                spans[-1] = (line.partner, spans[-1][1] + 1)
            else:
                spans.append((line.partner, 1))
        return spans

    @property
    def covered(self) -> int:
        return sum(1 for row in self.rows if row.gap is None)

    @property
    def gaps(self) -> list[CoverageRow]:
        return [row for row in self.rows if row.gap]


def coverage(school_id: int, year: int) -> Coverage:
    """The results agreed in the school's agreements for the year against the lines serving them."""
    agreed = m.agreement_fgos_results.c
    agreed_rows = _rows(
        select(m.FgosResult, m.Partner.short_name, m.Partner.name)
        .join(m.agreement_fgos_results, agreed.fgos_result_id == m.FgosResult.id)
        .join(m.Agreement, m.Agreement.id == agreed.agreement_id)
        .join(m.Partner, m.Partner.id == m.Agreement.partner_id)
        .where(m.Agreement.school_id == school_id, _agreements_in_year(year))
        .order_by(m.FgosResult.sort_order, m.FgosResult.id, m.Agreement.id)
    )
    results: dict[int, m.FgosResult] = {}
    agreed_with: dict[int, list[str]] = {}
    for result, short_name, name in agreed_rows:
        results[result.id] = result
        partners = agreed_with.setdefault(result.id, [])
        if (short_name or name) not in partners:
            partners.append(short_name or name)

    served = m.event_fgos_results.c
    links = _rows(
        select(served.event_id, served.fgos_result_id)
        .join(m.Event, m.Event.id == served.event_id)
        .where(
            m.Event.school_id == school_id,
            _lines_in_year(year),
            served.fgos_result_id.in_(list(results)),
        )
    )
    serving = {event_id for event_id, _rid in links}
    line_rows = _rows(
        select(
            m.Event.id,
            m.Event.number,
            m.Event.title,
            m.Partner.short_name,
            m.Partner.name,
            m.Event.partner_id,
        )
        .join(m.Partner, m.Partner.id == m.Event.partner_id)
        .add_columns(m.EventExecution.status)
        .outerjoin(m.EventExecution, _execution_of_year(year))
        .where(m.Event.id.in_(serving))
        .order_by(m.Event.id)
    )
    # Partners in plan order (their first line first), the lines of each in plan order.
    first_line: dict[int, int] = {}
    for row in line_rows:
        first_line.setdefault(row[5], row[0])
    line_rows.sort(key=lambda row: (first_line[row[5]], row[0]))
    lines = tuple(
        CoverageLine(
            id=event_id,
            number=number,
            title=title,
            partner=short_name or name,
            status=status if status in m.EXECUTION_STATUSES else "planned",
        )
        for event_id, number, title, short_name, name, _pid, status in line_rows
    )
    column = {line.id: index for index, line in enumerate(lines)}
    cells: dict[int, list[str | None]] = {rid: [None] * len(lines) for rid in results}
    for event_id, result_id in links:
        cells[result_id][column[event_id]] = lines[column[event_id]].status

    # Grouped as the ФГОС groups them, groups in the order of their first result.
    grouped: dict[tuple[str, str], list[CoverageRow]] = {}
    for result in results.values():
        grouped.setdefault((result.group, result.subgroup), []).append(
            CoverageRow(
                id=result.id,
                code=result.code,
                title=result.title,
                agreed_with=tuple(agreed_with[result.id]),
                cells=tuple(cells[result.id]),
            )
        )
    groups = tuple(CoverageGroup(group, subgroup, tuple(rows)) for (group, subgroup), rows in grouped.items())
    return Coverage(school_id=school_id, year=year, lines=lines, groups=groups)
