"""The neutral form of a school's network plan for one academic year.

Built from the database within the asking user's scope (the ORM applies the
access policy), and written out by the format modules beside this one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Row, ScalarSelect, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased

from .. import added_fields
from .. import models as m
from ..extensions import db
from ..timing import ACADEMIC_MONTHS, academic_year_label, academic_year_of, months_from_mask

# A plan of hundreds of lines has a few dozen sets of months: each set read from its mask once.
_months_of = cache(months_from_mask)


@dataclass(frozen=True)
class PlanEvent:
    id: int
    number: int | None
    title: str
    timing_text: str
    months: tuple[int, ...]  # calendar month numbers in academic order, September first
    all_year: bool
    timing_recognized: bool
    start: dt.date | None
    end: dt.date | None
    section: str
    audience: str
    grades: str
    responsible: tuple[str, ...]  # the catalog's positions, then Event.responsible_other if any
    kind: str
    level: str
    fgos_results: tuple[str, ...]
    state: str  # code of models.EVENT_STATES
    execution: str | None  # code of models.EXECUTION_STATUSES for this year, if recorded
    first_year: int | None
    last_year: int | None
    # The dates this year's record gives, when the line was held (held_until: a span's last day).
    held_on: dt.date | None = None
    held_until: dt.date | None = None
    # The values of the fields added in the site, by key (coop/added_fields.py).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanPartner:
    id: int
    name: str
    short_name: str
    events: tuple[PlanEvent, ...]


@dataclass(frozen=True)
class Plan:
    school_id: int
    school_name: str
    school_short_name: str
    programme_title: str
    year: int  # academic year by its first calendar year: 2019 is 2019/2020
    partners: tuple[PlanPartner, ...] = field(default=())
    # The lines' fields added in the site that the plan's documents show as columns.
    document_fields: tuple[m.FieldDefinition, ...] = field(default=())

    @property
    def year_label(self) -> str:
        return academic_year_label(self.year)

    @property
    def events(self) -> list[PlanEvent]:
        return [event for partner in self.partners for event in partner.events]


@dataclass(frozen=True)
class PlanFilter:
    partner_id: int | None = None
    audience_id: int | None = None
    fgos_result_id: int | None = None
    state: str | None = None  # a code of YEAR_STATES: the line's state in `year`
    month: int | None = None
    year: int | None = None
    event_ids: Any = None  # a SELECT of the lines' ids (a saved view's, coop/saved_views.py)

    def condition(self) -> ColumnElement[bool]:
        """SQL for the plan lines this filter lets through (every line when empty)."""
        conditions: list[ColumnElement[bool]] = []
        if self.partner_id:
            conditions.append(m.Event.partner_id == self.partner_id)
        if self.audience_id:
            conditions.append(m.Event.audience_id == self.audience_id)
        if self.state:
            conditions.append(state_in_year(self.state, self.year))
        if self.fgos_result_id:
            conditions.append(m.Event.fgos_results.any(m.FgosResult.id == self.fgos_result_id))
        if self.month:
            conditions.append(m.Event.months_mask.op("&")(1 << (self.month - 1)) != 0)
        if self.event_ids is not None:
            conditions.append(m.Event.id.in_(self.event_ids))
        return and_(true(), *conditions)


# The state of a plan line in one academic year, derived from its records: the year's
# record says held, not held or cancelled (COUNTED, as coop.figures counts them);
# without one, the line's own state says where its approval stands, and an approved
# line is planned. The events list, the calendar, the dashboard and the annual report
# read "held in year Y" as one fact: a record of Y with status held. A partner's report
# awaiting the school's confirmation ("reported") is not counted: the line is planned.
COUNTED = ("held", "not_held", "cancelled")
APPROVAL = ("draft", "returned", "submitted")
YEAR_STATES: dict[str, Any] = {
    **{code: m.EVENT_STATES[code] for code in APPROVAL},
    **m.EXECUTION_STATUSES,
}


def _recorded(year: int | None, statuses: tuple[str, ...]) -> ColumnElement[bool]:
    """The line has a record with one of statuses: of `year`, or (None) of any year it runs in."""
    # An alias: a statement that joins the lines' records itself (the calendar's) must not
    # have its own correlated into this subquery.
    execution = aliased(m.EventExecution)
    in_year = (
        execution.year == year
        if year is not None
        else and_(
            or_(m.Event.first_year.is_(None), execution.year >= m.Event.first_year),
            or_(m.Event.last_year.is_(None), execution.year <= m.Event.last_year),
        )
    )
    return exists().where(execution.event_id == m.Event.id, in_year, execution.status.in_(statuses))


def _some_year_unrecorded() -> ColumnElement[bool]:
    """The line runs in a year that has no outcome recorded (an open range always does)."""
    execution = aliased(m.EventExecution)
    recorded = (
        select(func.count())
        .where(
            execution.event_id == m.Event.id,
            execution.status.in_(COUNTED),
            execution.year.between(m.Event.first_year, m.Event.last_year),
        )
        .scalar_subquery()
    )
    span = m.Event.last_year - m.Event.first_year + 1
    return or_(m.Event.first_year.is_(None), m.Event.last_year.is_(None), span > recorded)


def state_in_year(state: str, year: int | None) -> ColumnElement[bool]:
    """Plan lines whose state in academic year `year` is `state` (a code of YEAR_STATES);
    year None: in any academic year the line runs in. An unknown code lets nothing through."""
    runs = runs_in_year(year) if year is not None else true()
    unrecorded = ~_recorded(year, COUNTED)
    if state in ("held", "not_held"):
        return runs & _recorded(year, (state,))
    if state == "cancelled":
        return runs & (_recorded(year, (state,)) | ((m.Event.state == "cancelled") & unrecorded))
    if state in APPROVAL:
        return runs & (m.Event.state == state) & (unrecorded if year is not None else true())
    if state == "planned":
        return (
            runs
            & (m.Event.state == "approved")
            & (unrecorded if year is not None else _some_year_unrecorded())
        )
    return false()


def runs_in_year(year: int) -> ColumnElement[bool]:
    """Plan lines that repeat in the given academic year."""
    return or_(m.Event.first_year.is_(None), m.Event.first_year <= year) & or_(
        m.Event.last_year.is_(None), m.Event.last_year >= year
    )


def _runs_in(line: Row, year: int) -> bool:
    """The Python twin of runs_in_year, for lines already loaded."""
    return (line.first_year is None or line.first_year <= year) and (
        line.last_year is None or line.last_year >= year
    )


def year_bounds() -> tuple[ScalarSelect, ScalarSelect]:
    """The first and the last academic year of the visible plan lines, as subqueries.

    ORDER BY … LIMIT 1 reads one end of the year's index; MIN/MAX next to the
    trash filter would read every plan line of the region.
    """
    first = (
        select(m.Event.first_year)
        .where(m.Event.first_year.is_not(None))
        .order_by(m.Event.first_year)
        .limit(1)
    )
    last = (
        select(m.Event.last_year)
        .where(m.Event.last_year.is_not(None))
        .order_by(m.Event.last_year.desc())
        .limit(1)
    )
    return first.scalar_subquery(), last.scalar_subquery()


def years_between(first: int | None, last: int | None) -> list[int]:
    """The academic years from first to last, widened to include the current one."""
    today = academic_year_of(dt.date.today())
    return list(range(min(first or today, today), max(last or today, today) + 1))


def plan_years() -> list[int]:
    """Academic years that the visible plan lines run in, and the current one."""
    first, last = db.session.execute(select(*year_bounds())).one()
    return years_between(first, last)


def build_plan(school: m.School, year: int, where: PlanFilter | None = None, *, details: bool = True) -> Plan:
    """The school's plan lines that run in `year`, by partner in plan order.

    details=False leaves out the ФГОС results of the lines and the programme's
    title (the calendar page shows neither): two SQL statements fewer.
    """
    return PlanLines.load([school], [year], where, details=details).plan(school, year)


@dataclass(frozen=True)
class PlanLines:
    """Every visible plan line of some schools, of every year, loaded at once.

    A fixed number of statements, whatever the number of lines, schools and
    years: the lines with their partner, catalog names and executions; their
    responsible positions; and, with details, their ФГОС results and the
    schools' programmes. Lines of every year are loaded so that the partners
    of the school's whole plan (the calendar's filter) come with them.
    """

    lines: tuple[Row, ...]  # in plan order (event id); `shown`: passes the filter
    executions: dict[tuple[int, int], str]  # (event id, year) -> status
    held_dates: dict[tuple[int, int], tuple[dt.date, dt.date | None]]  # (event id, year) -> dates
    responsible: dict[int, tuple[str, ...]]
    fgos_results: dict[int, tuple[str, ...]]
    programmes: tuple[Row, ...]  # school_id, first_year, last_year, title; by id

    @classmethod
    def load(
        cls,
        schools: Sequence[m.School],
        years: Sequence[int] | None = None,
        where: PlanFilter | None = None,
        *,
        details: bool = True,
    ) -> PlanLines:
        """The lines of `schools`, with their executions in `years` (None: every year)."""
        school_ids = [school.id for school in schools]
        shown = (where or PlanFilter()).condition()
        lines, executions, held_dates = _lines(school_ids, years, shown)
        lines_shown = (m.Event.school_id.in_(school_ids), shown)
        return cls(
            lines=lines,
            executions=executions,
            held_dates=held_dates,
            responsible=_names(m.Event.responsible, m.Position.name, lines_shown),
            fgos_results=_names(m.Event.fgos_results, m.FgosResult.title, lines_shown) if details else {},
            programmes=_programmes(school_ids, years) if details else (),
        )

    def partners(self) -> list[PlanPartner]:
        """Every partner with a line in any year, filtered out or not, in plan order (no events)."""
        seen: dict[int, PlanPartner] = {}
        for line in self.lines:
            if line.partner_id not in seen:
                seen[line.partner_id] = PlanPartner(line.partner_id, *_partner_names(line), ())
        return list(seen.values())

    def years(self) -> list[int]:
        """The academic years the lines run in, and the current one (as plan_years)."""
        firsts = [line.first_year for line in self.lines if line.first_year is not None]
        lasts = [line.last_year for line in self.lines if line.last_year is not None]
        return years_between(min(firsts, default=None), max(lasts, default=None))

    def plan(self, school: m.School, year: int) -> Plan:
        by_partner: dict[int, list[PlanEvent]] = {}
        names: dict[int, tuple[str, str]] = {}
        fields = added_fields.of_record(m.Event, school.id)  # switched on: their values are shown
        keys = [definition.key for definition in fields]
        for line in self.lines:
            if line.school_id != school.id or not line.shown or not _runs_in(line, year):
                continue
            names[line.partner_id] = _partner_names(line)
            by_partner.setdefault(line.partner_id, []).append(self._plan_event(line, year, keys))
        programme = next(
            (
                p.title
                for p in self.programmes
                if p.school_id == school.id and p.first_year <= year <= p.last_year
            ),
            "",
        )
        return Plan(
            school_id=school.id,
            school_name=school.name,
            school_short_name=school.short_name,
            programme_title=programme,
            year=year,
            partners=tuple(
                PlanPartner(pid, *names[pid], tuple(events))
                for pid, events in by_partner.items()  # dicts keep plan order: first event first
            ),
            document_fields=tuple(definition for definition in fields if definition.in_plan_document),
        )

    def _plan_event(self, line: Row, year: int, keys: Sequence[str]) -> PlanEvent:
        held_on, held_until = self.held_dates.get((line.id, year), (None, None))
        return PlanEvent(
            id=line.id,
            number=line.number,
            title=line.title,
            timing_text=line.timing_text,
            months=ACADEMIC_MONTHS if line.all_year else _months_of(line.months_mask),
            all_year=line.all_year,
            timing_recognized=line.timing_recognized,
            start=line.start_date,
            end=line.end_date,
            section=line.section,
            audience=line.audience or "",
            grades=line.grades,
            responsible=self.responsible.get(line.id, ()) + _other_responsible(line),
            kind=line.kind or "",
            level=line.level or "",
            fgos_results=self.fgos_results.get(line.id, ()),
            state=line.state,
            execution=self.executions.get((line.id, year)),
            first_year=line.first_year,
            last_year=line.last_year,
            held_on=held_on,
            held_until=held_until,
            extra={key: line.extra[key] for key in keys if key in (line.extra or {})},
        )


# The columns of a plan line that a PlanEvent is made of.
_LINE_COLUMNS = (
    *("id", "school_id", "partner_id", "number", "title", "timing_text", "months_mask", "all_year"),
    *("timing_recognized", "start_date", "end_date", "section", "grades", "state", "first_year"),
    *("last_year", "responsible_other", "extra"),
)


def _lines(
    school_ids: list[int], years: Sequence[int] | None, shown: ColumnElement[bool]
) -> tuple[
    tuple[Row, ...], dict[tuple[int, int], str], dict[tuple[int, int], tuple[dt.date, dt.date | None]]
]:
    """One statement: the lines, their partner and catalog names, and their
    executions in `years` with their dates (a line comes once per year it has
    an execution for)."""
    event, execution = m.Event, m.EventExecution
    in_years = execution.year.in_(years) if years is not None else true()
    stmt = (
        select(
            *(getattr(event, name) for name in _LINE_COLUMNS),
            m.Partner.name.label("partner_name"),
            m.Partner.short_name.label("partner_short_name"),
            m.Audience.name.label("audience"),
            m.EventKind.name.label("kind"),
            m.EventLevel.name.label("level"),
            execution.year.label("execution_year"),
            execution.status.label("execution"),
            execution.held_on,
            execution.held_until,
            shown.label("shown"),
        )
        .outerjoin(m.Partner, m.Partner.id == event.partner_id)
        .outerjoin(m.Audience, m.Audience.id == event.audience_id)
        .outerjoin(m.EventKind, m.EventKind.id == event.kind_id)
        .outerjoin(m.EventLevel, m.EventLevel.id == event.level_id)
        .outerjoin(
            execution,
            (execution.event_id == event.id) & in_years,
        )
        .where(event.school_id.in_(school_ids))
        .order_by(event.id)
    )
    lines: dict[int, Row] = {}
    executions: dict[tuple[int, int], str] = {}
    held_dates: dict[tuple[int, int], tuple[dt.date, dt.date | None]] = {}
    for row in db.session.execute(stmt):
        lines.setdefault(row.id, row)
        if row.execution_year is not None:
            executions[(row.id, row.execution_year)] = row.execution
            if row.held_on is not None and row.execution in COUNTED:  # not a report unconfirmed
                held_dates[(row.id, row.execution_year)] = (row.held_on, row.held_until)
    return tuple(lines.values()), executions, held_dates


def _other_responsible(line: Row) -> tuple[str, ...]:
    """The line's responsible positions kept as text (not in the catalog), after the catalog's."""
    return (line.responsible_other,) if line.responsible_other else ()


def _partner_names(line: Row) -> tuple[str, str]:
    """Name and short name of the line's partner; empty if the partner is in the trash."""
    return line.partner_name or "", line.partner_short_name or ""


def _names(relation: Any, name: Any, where: Sequence[ColumnElement[bool]]) -> dict[int, tuple[str, ...]]:
    """One statement: the names of a many-to-many catalog relation of each line, in catalog order."""
    catalog = relation.property.mapper.class_
    stmt = (
        select(m.Event.id, name)
        .join(relation)
        .where(*where)
        .order_by(m.Event.id, catalog.sort_order, catalog.id)
    )
    names: dict[int, list[str]] = {}
    for event_id, value in db.session.execute(stmt):
        names.setdefault(event_id, []).append(value)
    return {event_id: tuple(values) for event_id, values in names.items()}


def _programmes(school_ids: list[int], years: Sequence[int] | None) -> tuple[Row, ...]:
    programme = m.Programme
    stmt = (
        select(programme.school_id, programme.first_year, programme.last_year, programme.title)
        .where(programme.school_id.in_(school_ids))
        .order_by(programme.id)
    )
    if years is not None:
        stmt = stmt.where(programme.first_year <= max(years), programme.last_year >= min(years))
    return tuple(db.session.execute(stmt))
