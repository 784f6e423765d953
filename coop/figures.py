"""The audit figures of schools for an academic year, and a school's ФГОС coverage matrix.

Plain functions over the ORM. During a request the tenancy adds the user's row
criteria to every query, so "all schools" means all schools the user may see.
The coordinator looks at a region of about a thousand schools and a million
execution records: each figure is one GROUP BY over every visible school at
once, all of them (and the charts) go to the database as one statement, the plan
lines of the year are joined with that year's executions once for all the
figures that need them, and Python only ever walks the aggregated rows, never
the plan lines or their executions.

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
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter, methodcaller
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    intersect,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from . import models as m
from .extensions import db
from .plan_io.plan import runs_in_year
from .search import fold, fold_text
from .timing import ACADEMIC_MONTHS, academic_year_bounds, months_from_mask

logger = logging.getLogger(__name__)

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
    # The fields added to the yearly records (coop/added_fields.py), by key: the sum of a
    # number field's values in hundredths, and how many records say «yes» to a yes/no one.
    added: dict[str, tuple[int, int]] = field(default_factory=dict)

    def added_sum(self, key: str) -> int | float:
        """A number field's sum over the year's records: whole, or to the hundredth."""
        hundredths = self.added.get(key, (0, 0))[0]
        return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100

    def added_yes(self, key: str) -> int:
        """How many of the year's records say «yes» to a yes/no field."""
        return self.added.get(key, (0, 0))[1]

    @property
    def agreements_total(self) -> int:
        return sum(self.agreements.values())

    @property
    def agreements_active(self) -> int:
        return sum(count for (_type, state), count in self.agreements.items() if state == "active")

    @property
    def percent_held(self) -> float | None:
        """Share of this year's plan lines that were held; None without lines."""
        return round(100 * self.held / self.lines, 1) if self.lines else None

    def seminars_of(self, cycle: str) -> int:
        return self.seminars.get(cycle, 0)


# A statement of any columns (Select is generic over its row's types).
AnySelect = Select[*tuple[Any, ...]]


def agreements_in_year(year: int) -> ColumnElement[bool]:
    """Agreements whose validity overlaps the academic year (no dates: always)."""
    first, last = academic_year_bounds(year)
    return and_(
        or_(m.Agreement.valid_from.is_(None), m.Agreement.valid_from <= last),
        or_(m.Agreement.valid_to.is_(None), m.Agreement.valid_to >= first),
    )


def _lines_in_year(year: int) -> ColumnElement[bool]:
    return runs_in_year(year)


def _all_lines_in_year(year: int) -> ColumnElement[bool]:
    """_lines_in_year for reading every line of the year: the same rows.

    Nearly every line of a plan runs in any one year. SQLite would still look
    runs_in_year's ORs up in the indexes on the years, a table lookup per line:
    written with COALESCE, they leave it the scan it needs anyway. PostgreSQL
    scans either way, and estimates the plain form better.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return _lines_in_year(year)
    return and_(
        func.coalesce(m.Event.first_year, year) <= year,
        func.coalesce(m.Event.last_year, year) >= year,
    )


def _execution_of_year(year: int) -> ColumnElement[bool]:
    """The line's record of `year`, when it says an outcome: a partner's report the school
    has not confirmed yet counts for nothing, its people reached neither."""
    return and_(
        m.EventExecution.event_id == m.Event.id,
        m.EventExecution.year == year,
        m.EventExecution.status.in_(COUNTED_STATUSES),
    )


def _only(stmt: Any, column: Any, school_ids: Sequence[int] | AnySelect | None) -> Any:
    return stmt if school_ids is None else stmt.where(column.in_(school_ids))


def _rows(stmt: Any) -> list[Any]:
    return list(db.session.execute(stmt).all())


# --- one statement for every figure ------------------------------------------------------
#
# Each figure is one GROUP BY over every school at once; the branches go to the
# database together as one UNION ALL, each row tagged with its figure and padded
# to one layout: (figure, key, TEXTS texts, NUMBERS numbers). The largest join,
# the plan lines of the year with their status that year, is one common table
# expression that the line figures, the ФГОС coverage and the charts read.

TEXTS, NUMBERS = 2, 7
COUNTED_STATUSES = ("held", "not_held", "cancelled")  # any other status, or none, is planned


def _tagged(figure: str, stmt: AnySelect, texts: int = 0) -> AnySelect:
    """stmt selecting (key, *texts, *numbers), in the common layout and tagged with figure."""
    key, *values = stmt.selected_columns
    text_values, numbers = values[:texts], values[texts:]
    return stmt.with_only_columns(
        literal_column(f"'{figure}'").label("figure"),
        key.label("key"),
        *_pad(text_values, TEXTS, "text", String),
        *_pad(numbers, NUMBERS, "number", Integer),
        maintain_column_froms=True,
    )


def _pad(columns: Sequence[Any], width: int, name: str, kind: type) -> list[Any]:
    # PostgreSQL types a UNION's columns branch by branch: a NULL needs its type.
    padded = [*columns, *([cast(null(), kind)] * (width - len(columns)))]
    return [column.label(f"{name}{index}") for index, column in enumerate(padded)]


def _line_statuses(year: int, school_ids: Sequence[int] | None) -> CTE:
    """One row per plan line of the year, with its status and people reached that year."""
    execution = m.EventExecution
    stmt = (
        select(
            m.Event.id,
            m.Event.school_id,
            m.Event.partner_id,
            m.Event.level_id,
            m.Event.months_mask,
            m.Event.all_year,
            execution.status,
            # A column of its own, not a condition on status: PostgreSQL knows nothing
            # of a CTE's columns and would guess "status = 'held'" matches next to no line.
            (execution.status == "held").label("held"),
            execution.students_count,
            execution.teachers_count,
            execution.parents_count,
            execution.extra,
        )
        .outerjoin(execution, _execution_of_year(year))
        .where(_all_lines_in_year(year))
    )
    # SQLite reads a CTE that is used more than once into a temporary table once;
    # PostgreSQL would too, but then plans its readers without parallel workers,
    # which cost it more than joining the lines again in each.
    return (
        _only(stmt, m.Event.school_id, school_ids)
        .cte("line")
        .prefix_with("NOT MATERIALIZED", dialect="postgresql")
    )


def _counted(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _figure_branches(year: int, school_ids: Sequence[int] | None, line: CTE) -> list[AnySelect]:
    """The GROUP BYs of SchoolFigures, one per figure, and the partners of all the schools."""
    return [
        _schools(school_ids),
        *school_branches(year, school_ids, line),
        _all_partners_branch(year, school_ids),
    ]


def _schools(school_ids: Sequence[int] | None) -> AnySelect:
    return _tagged(
        "school",
        _only(select(m.School.id, m.School.short_name, m.School.name), m.School.id, school_ids),
        texts=2,
    )


def _all_partners_branch(year: int, school_ids: Sequence[int] | None) -> AnySelect:
    """Partners counted once however many of the schools work with them: the totals'."""
    agreement = m.Agreement
    stmt = select(cast(null(), Integer), func.count(distinct(agreement.partner_id))).where(
        agreements_in_year(year)
    )
    return _tagged("all_partners", _only(stmt, agreement.school_id, school_ids))


def school_branches(year: int, school_ids: Sequence[int] | None, line: CTE) -> list[AnySelect]:
    """The GROUP BYs of SchoolFigures by school, one per figure: what coop.summary keeps."""
    agreement, agreed = m.Agreement, m.agreement_fgos_results.c
    in_year = agreements_in_year(year)
    first, last = academic_year_bounds(year)

    def by_school(figure: str, stmt: AnySelect, column: Any, texts: int = 0) -> AnySelect:
        return _tagged(figure, _only(stmt, column, school_ids), texts)

    return [
        by_school(
            "agreements",
            select(agreement.school_id, agreement.agreement_type, agreement.state, func.count())
            .where(in_year)
            .group_by(agreement.school_id, agreement.agreement_type, agreement.state),
            agreement.school_id,
            texts=2,
        ),
        by_school(
            "partners",
            select(
                agreement.school_id,
                func.count(distinct(agreement.partner_id)),
                func.count(distinct(agreed.fgos_result_id)),
            )
            .outerjoin(m.agreement_fgos_results, agreed.agreement_id == agreement.id)
            .where(in_year)
            .group_by(agreement.school_id),
            agreement.school_id,
        ),
        # The line CTE is already limited to school_ids.
        _tagged(
            "lines",
            select(
                line.c.school_id,
                func.count(),
                *(_counted(line.c.status == status) for status in COUNTED_STATUSES),
                func.sum(line.c.students_count),
                func.sum(line.c.teachers_count),
                func.sum(line.c.parents_count),
            ).group_by(line.c.school_id),
        ),
        by_school(
            "seminars",
            select(m.Seminar.school_id, m.Seminar.cycle, func.count())
            .where(m.Seminar.held_on.between(first, last))
            .group_by(m.Seminar.school_id, m.Seminar.cycle),
            m.Seminar.school_id,
            texts=1,
        ),
        by_school("limitations", _limitations(last), m.Limitation.school_id),
        _tagged("covered", _covered(year, school_ids, line)),
        by_school(
            "remarks",
            select(m.Remark.school_id, func.count())
            .where(m.Remark.state.in_(UNRESOLVED_REMARKS))
            .group_by(m.Remark.school_id),
            m.Remark.school_id,
        ),
        _tagged("added", _added(line), texts=1),
    ]


# A kept number is an integer column: a sum past this (in hundredths) is kept as this.
ADDED_LIMIT = 2_000_000_000


def _added(line: CTE) -> AnySelect:
    """Per school and key of the added fields of its yearly records (the line's record of
    the year, when it says an outcome): the sum of the numbers, in hundredths, and the
    count of «yes». Every key whose values are numbers or yes/no: which fields the
    dashboard shows is the definitions' to say, when it shows them."""
    if db.engine.dialect.name == "postgresql":
        pairs: Any = func.jsonb_each(line.c.extra).table_valued("key", "value").lateral("added")
        kind = func.jsonb_typeof(pairs.c.value)
        text_value = pairs.c.value.op("#>>")(literal_column("'{}'"))
        number = case((kind == "number", cast(text_value, Numeric)))
        yes = and_(kind == "boolean", text_value == "true")
        typed = kind.in_(("number", "boolean"))
    else:
        pairs = func.json_each(line.c.extra).table_valued("key", "value", "type").alias("added")
        number = case((pairs.c.type.in_(("integer", "real")), pairs.c.value))
        yes = pairs.c.type == "true"
        typed = pairs.c.type.in_(("integer", "real", "true"))
    hundredths = func.round(func.coalesce(func.sum(number), 0) * 100)
    kept = case(
        (hundredths > ADDED_LIMIT, ADDED_LIMIT), (hundredths < -ADDED_LIMIT, -ADDED_LIMIT), else_=hundredths
    )
    return (
        select(line.c.school_id, pairs.c.key, cast(kept, Integer), _counted(yes))
        .select_from(line)
        .join(pairs, true())
        .where(line.c.extra.isnot(None), typed)
        .group_by(line.c.school_id, pairs.c.key)
    )


def limitations_found_by(last: dt.date) -> ColumnElement[bool]:
    """Limitations found by `last`: at a seminar held by then, or recorded by then when
    found at none. The statement joins Seminar on the limitation's seminar."""
    return or_(
        m.Seminar.held_on <= last,
        and_(
            m.Seminar.held_on.is_(None),
            m.Limitation.created_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time()),
        ),
    )


def _limitations(last: dt.date) -> AnySelect:
    """Limitations found by the end of the year, and those a partner's resource addresses."""
    limitation = m.Limitation
    return (
        select(limitation.school_id, func.count(limitation.id), func.count(limitation.resource_id))
        .outerjoin(m.Seminar, m.Seminar.id == limitation.seminar_id)
        .where(limitations_found_by(last))
        .group_by(limitation.school_id)
    )


def _covered(year: int, school_ids: Sequence[int] | None, line: CTE) -> AnySelect:
    """Per school, the (school, result) pairs both agreed and served by a line held that year."""
    agreement, agreed, served = m.Agreement, m.agreement_fgos_results.c, m.event_fgos_results.c
    agreed_pairs = _only(
        select(agreement.school_id, agreed.fgos_result_id)
        .join(m.agreement_fgos_results, agreed.agreement_id == agreement.id)
        .where(agreements_in_year(year)),
        agreement.school_id,
        school_ids,
    )
    held_pairs = (
        select(line.c.school_id, served.fgos_result_id)
        .join(m.event_fgos_results, served.event_id == line.c.id)
        .where(line.c.held)
    )
    covered = intersect(agreed_pairs, held_pairs).subquery()
    return select(covered.c.school_id, func.count()).group_by(covered.c.school_id)


def school_chart(line: CTE) -> AnySelect:
    """Per school, lines of the year and those held by (partner kind, level, timing)."""
    return _tagged(
        "chart",
        select(
            line.c.school_id,
            m.Partner.kind_id,
            line.c.level_id,
            line.c.months_mask,
            cast(line.c.all_year, Integer),
            func.count(),
            _counted(line.c.held),
        )
        .select_from(line)
        .outerjoin(m.Partner, m.Partner.id == line.c.partner_id)
        .group_by(line.c.school_id, m.Partner.kind_id, line.c.level_id, line.c.months_mask, line.c.all_year),
    )


def _chart_branches(line: CTE) -> list[AnySelect]:
    """Lines of the year and those held by (partner kind, level, timing), with the names.

    A plan has few partner kinds, levels and distinct timings, so the groups are
    few; the names are joined to the groups, and Python spreads each timing over
    its months.
    """
    groups = (
        select(
            m.Partner.kind_id,
            line.c.level_id,
            line.c.months_mask,
            line.c.all_year,
            func.count().label("lines"),
            _counted(line.c.held).label("held"),
        )
        .select_from(line)
        .outerjoin(m.Partner, m.Partner.id == line.c.partner_id)
        .group_by(m.Partner.kind_id, line.c.level_id, line.c.months_mask, line.c.all_year)
        .subquery()
    )
    return [_named_chart(groups)]


def _named_chart(groups: Any) -> AnySelect:
    """The chart's groups (kind_id, level_id, months_mask, all_year, lines, held) with the
    names and orders of the kinds and levels."""
    kind, level = m.PartnerKind, m.EventLevel
    return _tagged(
        "chart",
        select(
            groups.c.kind_id,
            kind.name,
            level.name,
            groups.c.level_id,
            kind.sort_order,
            level.sort_order,
            groups.c.months_mask,
            cast(groups.c.all_year, Integer),
            groups.c.lines,
            groups.c.held,
        )
        .select_from(groups)
        .outerjoin(kind, kind.id == groups.c.kind_id)
        .outerjoin(level, level.id == groups.c.level_id),
        texts=2,
    )


def _tagged_rows(branches: Sequence[AnySelect]) -> dict[str, list[Any]]:
    """Run the branches as one statement; their rows by figure."""
    by_figure: dict[str, list[Any]] = {}
    for figure, *row in _rows(union_all(*branches)):
        by_figure.setdefault(figure, []).append(row)
    return by_figure


# --- from the rows to the figures -------------------------------------------------------


def _school_figures(rows: dict[str, list[Any]]) -> list[SchoolFigures]:
    """SchoolFigures from the tagged rows of _figure_branches, in name order."""
    figures = {
        school_id: SchoolFigures(school_id, short or name)
        for school_id, short, name, *_ in rows.get("school", ())
    }
    _fill(figures, rows)
    return sorted(figures.values(), key=_sort_key("school"))


def _fill(figures: dict[Any, SchoolFigures], rows: dict[str, list[Any]]) -> None:
    """figures (by the rows' key: a school's id) given the values of the tagged rows."""

    def each(figure: str) -> Iterable[tuple[SchoolFigures, Sequence[Any]]]:
        for school_id, *values in rows.get(figure, ()):
            if school_id in figures:  # a school in the trash keeps its rows: not shown
                yield figures[school_id], values

    for fig, (kind, state, count, *_) in each("agreements"):
        fig.agreements[(kind, state)] = count
    for fig, (_t0, _t1, partners, agreed, *_) in each("partners"):
        fig.partners, fig.fgos_agreed = partners, agreed
    for fig, (_t0, _t1, lines, *counts) in each("lines"):
        fig.lines = lines
        fig.held, fig.not_held, fig.cancelled = counts[:3]
        fig.planned = lines - sum(counts[:3])  # no record yet, or a record still saying so
        fig.students, fig.teachers, fig.parents = (count or 0 for count in counts[3:6])
    for fig, (cycle, _t1, count, *_) in each("seminars"):
        fig.seminars[cycle] = count
    for fig, (_t0, _t1, found, addressed, *_) in each("limitations"):
        fig.limitations, fig.limitations_addressed = found, addressed
    for fig, (_t0, _t1, count, *_) in each("covered"):
        fig.fgos_covered = count
    for fig, (_t0, _t1, count, *_) in each("remarks"):
        fig.remarks_open = count
    for fig, (key, _t1, hundredths, yes, *_) in each("added"):
        fig.added[key] = (int(hundredths or 0), int(yes or 0))


def _all_partners(rows: dict[str, list[Any]]) -> int:
    ((_key, _t0, _t1, count, *_),) = rows["all_partners"]
    return count


# --- the figures kept, or counted when the year is not kept ------------------------------
#
# coop.summary keeps the rows of school_branches() and school_chart() of every school for the
# years in FigureYear, exact at every flush. A page reads them (a few rows per school), and
# counts from the rows only a year that is not kept, in a second statement.

KEPT_FIGURES = ("agreements", "partners", "lines", "seminars", "limitations", "covered", "remarks", "added")


def _kept_rows(year: int, school_ids: Sequence[int] | AnySelect | None) -> AnySelect:
    """The kept rows of the year, of these schools (ids, or a select of them) or all."""
    kept = m.SchoolYearFigure
    stmt = select(
        kept.figure.label("figure"),
        kept.school_id.label("key"),
        *(getattr(kept, f"text{index}").label(f"text{index}") for index in range(TEXTS)),
        *(getattr(kept, f"number{index}").label(f"number{index}") for index in range(NUMBERS)),
    ).where(kept.year == year, kept.figure.in_(KEPT_FIGURES))
    return _only(stmt, kept.school_id, school_ids)


def _kept_chart(year: int, school_ids: Sequence[int] | None) -> AnySelect:
    kept = m.SchoolYearFigure
    groups = _only(
        select(
            kept.number0.label("kind_id"),
            kept.number1.label("level_id"),
            kept.number2.label("months_mask"),
            kept.number3.label("all_year"),
            func.sum(kept.number4).label("lines"),
            func.sum(kept.number5).label("held"),
        )
        .where(kept.year == year, kept.figure == "chart")
        .group_by(kept.number0, kept.number1, kept.number2, kept.number3),
        kept.school_id,
        school_ids,
    )
    return _named_chart(groups.subquery())


def _kept_year(year: int) -> AnySelect:
    return _tagged("kept", select(cast(null(), Integer), func.count()).where(m.FigureYear.year == year))


def is_kept(rows: dict[str, list[Any]]) -> bool:
    """Whether the rows of _read came from the figures kept."""
    return "kept" in rows


def _read(
    year: int, school_ids: Sequence[int] | None, *, with_figures: bool = True, with_charts: bool = False
) -> dict[str, list[Any]]:
    """The tagged rows of the figures and/or the charts: one statement when the year is kept,
    two when it is not (then counted from the rows, as coop.summary counts what it keeps)."""
    branches = [_kept_year(year)]
    if with_figures:
        branches += [
            _schools(school_ids),
            _kept_rows(year, school_ids),
            _all_partners_branch(year, school_ids),
        ]
    if with_charts:
        branches.append(_kept_chart(year, school_ids))
    rows = _tagged_rows(branches)
    ((_key, _t0, _t1, kept, *_),) = rows.pop("kept")
    if kept:
        rows["kept"] = []
        return rows
    line = _line_statuses(year, school_ids)
    branches = [*_figure_branches(year, school_ids, line)] if with_figures else []
    if with_charts:
        branches += _chart_branches(line)
    return _tagged_rows(branches)


def school_figures(year: int, school_ids: Sequence[int] | None = None) -> list[SchoolFigures]:
    """One SchoolFigures per visible school (or per school of `school_ids`), by name."""
    return _school_figures(_read(year, school_ids))


def totals(
    year: int,
    rows: Sequence[SchoolFigures],
    school_ids: Sequence[int] | None = None,
    partners: int | None = None,
) -> SchoolFigures:
    """The sum of the rows; partners counted once however many schools work with them.

    `partners` is that count when the caller has it already; else it is asked for.
    """
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
        for pair, count in row.agreements.items():
            total.agreements[pair] = total.agreements.get(pair, 0) + count
        for cycle, count in row.seminars.items():
            total.seminars[cycle] = total.seminars.get(cycle, 0) + count
        for key, (hundredths, yes) in row.added.items():
            was = total.added.get(key, (0, 0))
            total.added[key] = (was[0] + hundredths, was[1] + yes)
    if partners is None:
        stmt = select(func.count(distinct(m.Agreement.partner_id))).where(agreements_in_year(year))
        partners = db.session.execute(_only(stmt, m.Agreement.school_id, school_ids)).scalar_one()
    total.partners = partners
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
    if sort == "school":  # folded as in SQL (_name_order): «ё» is «е»
        return lambda fig: fold_text(fig.school)
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


def _sorted(rows: list[SchoolFigures], sort: str, desc: bool) -> list[SchoolFigures]:
    """rows (in name order) sorted by a key of SORTS, ties in name order."""
    if sort in FIGURES or desc:
        rows.sort(key=_sort_key(sort if sort in SORTS else "school"), reverse=desc)
    return rows


def sorted_figures(year: int, sort: str = "school", desc: bool = False) -> list[SchoolFigures]:
    """Every visible school's figures, sorted by a key of SORTS (ties in name order)."""
    return _sorted(school_figures(year), sort, desc)


def _page(
    year: int, rows: list[SchoolFigures], partners: int, sort: str, desc: bool, page: int
) -> FiguresPage:
    sort = sort if sort in SORTS else "school"
    rows = _sorted(rows, sort, desc)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return FiguresPage(
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        totals=totals(year, rows, partners=partners),
        page=page,
        pages=pages,
        count=len(rows),
        sort=sort,
        desc=desc,
    )


def figures_page(year: int, sort: str = "school", desc: bool = False, page: int = 1) -> FiguresPage:
    """One page of the sorted table, with the totals of every school."""
    found = dashboard(year, None, sort, desc, page).page
    assert found is not None  # all schools: always a page
    return found


# --- a page of the table, sorted and cut in SQL from the figures kept ----------------------
#
# Only the page's schools are read whole: the order is one figure per school from the kept
# rows (or the name), the totals the kept rows summed in the database. A school without a
# row of the figure counts 0; without lines, its share held is lowest (-1), as in _sort_key.

_KEPT = m.SchoolYearFigure
_TOTALS = -1  # the key of the totals' rows (a school's id is positive)
# A figure of FIGURES as (the kept rows' figure, what each of a school's rows adds to it).
_SORT_VALUES: dict[str, tuple[str, Any]] = {
    "partners": ("partners", _KEPT.number0),
    "agreements": ("agreements", _KEPT.number0),
    "agreements_active": ("agreements", case((_KEPT.text1 == "active", _KEPT.number0), else_=0)),
    "lines": ("lines", _KEPT.number0),
    "held": ("lines", _KEPT.number1),
    "not_held": ("lines", _KEPT.number2),
    "cancelled": ("lines", _KEPT.number3),
    "planned": ("lines", _KEPT.number0 - _KEPT.number1 - _KEPT.number2 - _KEPT.number3),
    "students": ("lines", func.coalesce(_KEPT.number4, 0)),
    "teachers": ("lines", func.coalesce(_KEPT.number5, 0)),
    "parents": ("lines", func.coalesce(_KEPT.number6, 0)),
    **{
        f"seminars_{cycle}": ("seminars", case((_KEPT.text0 == cycle, _KEPT.number0), else_=0))
        for cycle in m.SEMINAR_CYCLES
    },
    "limitations": ("limitations", _KEPT.number0),
    "limitations_addressed": ("limitations", _KEPT.number1),
    "fgos_agreed": ("partners", _KEPT.number1),
    "fgos_covered": ("covered", _KEPT.number0),
    "remarks_open": ("remarks", _KEPT.number0),
}


def _sort_value(year: int, sort: str) -> Any:
    """Per school (school_id, value): the figure `sort` of the year, from the kept rows."""
    if sort == "percent_held":  # SchoolFigures.percent_held; no lines: -1
        lines, held = _KEPT.number0, _KEPT.number1
        share = func.round(held * literal_column("100.0") / lines, 1)
        value: Any = func.max(case((lines > 0, share), else_=-1))
        figure = "lines"
    else:
        figure, added = _SORT_VALUES[sort]
        value = func.sum(added)
    return (
        select(_KEPT.school_id, value.label("value"))
        .where(_KEPT.year == year, _KEPT.figure == figure)
        .group_by(_KEPT.school_id)
        .subquery()
    )


def _name_order() -> Any:
    """A school's name as _sort_key("school") orders it: folded, letter by letter."""
    name = fold(m.School.sql_label())
    return name.collate("C") if db.engine.dialect.name == "postgresql" else name


def _page_of_schools(year: int, sort: str, desc: bool, page: int) -> CTE:
    """The page's schools (id, short name, name, place in the order), sorted and cut in SQL."""
    name = _name_order()
    stmt = select(m.School.id, m.School.short_name, m.School.name)
    if sort in FIGURES:
        found = _sort_value(year, sort)
        value = func.coalesce(found.c.value, -1 if sort == "percent_held" else 0)
        stmt = stmt.outerjoin(found, found.c.school_id == m.School.id)
        order = [value.desc() if desc else value, name, m.School.id]
    else:
        order = [name.desc(), m.School.id.desc()] if desc else [name, m.School.id]
    return (
        stmt.add_columns(func.row_number().over(order_by=order).label("place"))
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
        .cte("page")
    )


def _kept_totals(year: int, visible: Any) -> AnySelect:
    """The kept rows of every visible school summed per figure and code: the totals' rows."""
    grouped = (_KEPT.figure, _KEPT.text0, _KEPT.text1)
    return (
        select(
            _KEPT.figure.label("figure"),
            literal_column(str(_TOTALS)).label("key"),
            *(getattr(_KEPT, f"text{index}").label(f"text{index}") for index in range(TEXTS)),
            *(func.sum(getattr(_KEPT, f"number{index}")).label(f"number{index}") for index in range(NUMBERS)),
        )
        .where(_KEPT.year == year, _KEPT.figure.in_(KEPT_FIGURES), _KEPT.school_id.in_(visible))
        .group_by(*grouped)
    )


def _totals_branches(year: int) -> list[AnySelect]:
    """The totals of the visible schools' kept rows, their partners counted once, the charts."""
    return [
        _kept_totals(year, select(m.School.id)),
        _all_partners_branch(year, None),
        _kept_chart(year, None),
    ]


def _totals_stamp(year: int) -> AnySelect:
    """The totals of all schools kept with the year (text0, as JSON) and its version (number0)."""
    kept = m.FigureYear
    stmt = select(cast(null(), Integer), cast(kept.totals, String), kept.version).where(kept.year == year)
    return _tagged("stamp", stmt, texts=1)


def _totals_of_all(year: int, stamp: Sequence[Any]) -> dict[str, list[Any]]:
    """The totals' rows of all schools (_totals_branches) for a user who sees every school:
    as kept with the year while its version agrees (coop.summary adds to it at every write
    that may change them), else counted and kept for the next page. stamp: the row of
    _totals_stamp the page read."""
    _key, blob, _t1, version, *_ = stamp
    kept: dict[str, Any] | None = json.loads(blob) if blob else None
    if kept and kept.get("version") == version:
        rows: dict[str, list[Any]] = kept["rows"]
        return rows
    counted = count_totals(year)
    keep_with_year(year, version, totals={"version": version, "rows": counted})
    return counted


def count_totals(year: int) -> dict[str, list[Any]]:
    """The totals' rows of the schools the user sees, counted from the kept rows, as JSON keeps them."""
    return {
        figure: [[int(value) if isinstance(value, Decimal) else value for value in row] for row in found]
        for figure, found in _tagged_rows(_totals_branches(year)).items()
    }


def keep_with_year(year: int, version: int, **kept: Any) -> None:
    """Keep what was counted of all schools at the year's `version` (the totals, the
    attention list) unless a write has changed it since: on a connection of its own,
    committed at once (the page's transaction only reads). A page that cannot keep it has
    counted it all the same."""
    stmt = update(m.FigureYear).where(m.FigureYear.year == year, m.FigureYear.version == version)
    try:
        with db.engine.begin() as connection:
            connection.execute(stmt.values(**kept))
    except SQLAlchemyError:
        logger.warning("Не удалось сохранить посчитанное по всем школам за %s год", year, exc_info=True)


def _all_schools(year: int, sort: str, desc: bool, page: int, every_school: bool) -> Dashboard:
    """The dashboard of all schools: when the year is kept, the page read in one statement
    (two when the page asked for is past the last, or when the totals of all schools are
    counted again); else every school counted from the rows in a second and sorted here.
    every_school: the user sees every school, and the totals kept with the year are theirs."""
    page_ = _page_of_schools(year, sort, desc, page)
    branches = [
        _kept_year(year),
        _tagged("school", select(page_.c.id, page_.c.short_name, page_.c.name, page_.c.place), texts=2),
        _kept_rows(year, select(page_.c.id)),
        _tagged("count", select(cast(null(), Integer), func.count(m.School.id))),
        *([_totals_stamp(year)] if every_school else _totals_branches(year)),
    ]
    rows = _tagged_rows(branches)
    ((_key, _t0, _t1, kept, *_),) = rows.pop("kept")
    if not kept:
        line = _line_statuses(year, None)
        rows = _tagged_rows([*_figure_branches(year, None, line), *_chart_branches(line)])
        counted = _page(year, _school_figures(rows), _all_partners(rows), sort, desc, page)
        return Dashboard(charts=_charts(rows), school=None, page=counted, kept=False)
    ((_key, _t0, _t1, count, *_),) = rows["count"]
    pages = max(1, -(-count // PAGE_SIZE))
    if page > pages:  # past the last page: the last
        return _all_schools(year, sort, desc, pages, every_school)
    if every_school:  # the totals' rows beside the page's: keyed _TOTALS, not a school
        for figure, found in _totals_of_all(year, rows.pop("stamp")[0]).items():
            rows.setdefault(figure, []).extend(found)
    shown = sorted(rows.get("school", ()), key=lambda row: row[3])
    figures = {school_id: SchoolFigures(school_id, short or name) for school_id, short, name, *_ in shown}
    _fill(figures, rows)
    total = SchoolFigures(None, "")
    _fill({_TOTALS: total}, rows)
    total.partners = _all_partners(rows)
    return Dashboard(
        charts=_charts(rows),
        school=None,
        page=FiguresPage(list(figures.values()), total, page, pages, count, sort, desc),
        kept=True,
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


def _charts(rows: dict[str, list[Any]]) -> Charts:
    """Charts from the tagged rows of _chart_branches: each timing spread over its months."""
    months = {month: [0, 0] for month in ACADEMIC_MONTHS}
    kinds: dict[int | None, list[Any]] = {}
    levels: dict[int | None, list[Any]] = {}
    for kind_id, kind, level, level_id, kind_order, level_order, mask, all_year, lines, held in rows.get(
        "chart", ()
    ):
        for month in ACADEMIC_MONTHS if all_year else months_from_mask(mask):
            months[month][0] += lines
            months[month][1] += held
        for bars, key, order, name in (
            (kinds, kind_id, kind_order, kind),
            (levels, level_id, level_order, level),
        ):
            bar = bars.setdefault(key, [order, name, 0, 0])
            bar[2] += lines
            bar[3] += held
    return Charts(
        months=tuple(Bar(str(month), *counts) for month, counts in months.items()),
        partner_kinds=_catalog_bars(kinds),
        levels=_catalog_bars(levels),
    )


def _catalog_bars(counts: dict[int | None, list[Any]]) -> tuple[Bar, ...]:
    """Bars in the catalog's order, and last the lines with none set (label "").

    A catalog entry in the trash has no name here: its lines are not shown.
    """
    named = sorted(
        (order, name, lines, held)
        for key, (order, name, lines, held) in counts.items()
        if key is not None and name is not None
    )
    bars = [Bar(name, lines, held) for _order, name, lines, held in named]
    if None in counts:
        bars.append(Bar("", *counts[None][2:]))
    return tuple(bars)


def charts(year: int, school_id: int | None = None) -> Charts:
    """Plan lines of the year (and those held) by month, by partner kind and by level."""
    return _charts(
        _read(year, None if school_id is None else [school_id], with_figures=False, with_charts=True)
    )


# --- the whole dashboard in one statement -----------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    charts: Charts
    school: SchoolFigures | None  # the school's figures when one school is asked for
    page: FiguresPage | None  # else the page of the table of all schools
    kept: bool = False  # read from the figures kept for the year (coop.summary)


def dashboard(
    year: int,
    school_id: int | None = None,
    sort: str = "school",
    desc: bool = False,
    page: int = 1,
    every_school: bool = False,
) -> Dashboard:
    """The charts and the figures of one school, or of a page of all, read in one statement
    when the year is kept (coop.summary), else counted from the rows in a second.

    The same as charts() with school_figures() or figures_page(), in one statement
    instead of two (and on SQLite the plan lines are joined with their status once). A
    page of all schools reads the figures of the page's schools only (_all_schools).
    """
    if school_id is None:
        return _all_schools(year, sort if sort in SORTS else "school", desc, max(page, 1), every_school)
    rows = _read(year, [school_id], with_charts=True)
    figures = _school_figures(rows)
    return Dashboard(
        charts=_charts(rows), school=figures[0] if figures else None, page=None, kept=is_kept(rows)
    )


# --- a school's remarks ---------------------------------------------------------------------


def remarks(school_id: int) -> list[m.Remark]:
    """The coordinator's remarks on the school that are not closed, newest first."""
    stmt = (
        select(m.Remark)
        .where(m.Remark.school_id == school_id, m.Remark.state != "closed")
        .order_by(m.Remark.created_at.desc(), m.Remark.id.desc())
        # What the dashboard says each remark is about, in the same statement.
        .options(
            joinedload(m.Remark.event),
            joinedload(m.Remark.agreement).joinedload(m.Agreement.partner),
            joinedload(m.Remark.programme),
        )
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
        .where(m.Agreement.school_id == school_id, agreements_in_year(year))
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
