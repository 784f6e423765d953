"""The neutral form of a school's network plan for one academic year.

Built from the database within the asking user's scope (the ORM applies the
access policy), and written out by the format modules beside this one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from .. import models as m
from ..extensions import db
from ..timing import ACADEMIC_MONTHS, academic_year_label, academic_year_of


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
    responsible: tuple[str, ...]
    kind: str
    level: str
    fgos_results: tuple[str, ...]
    state: str  # code of models.EVENT_STATES
    execution: str | None  # code of models.EXECUTION_STATUSES for this year, if recorded
    first_year: int | None
    last_year: int | None


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
    state: str | None = None
    month: int | None = None


def runs_in_year(year: int) -> ColumnElement[bool]:
    """Plan lines that repeat in the given academic year."""
    return or_(m.Event.first_year.is_(None), m.Event.first_year <= year) & or_(
        m.Event.last_year.is_(None), m.Event.last_year >= year
    )


def plan_years() -> list[int]:
    """Academic years that the visible plan lines run in, and the current one."""
    first, last = db.session.execute(select(func.min(m.Event.first_year), func.max(m.Event.last_year))).one()
    today = academic_year_of(dt.date.today())
    return list(range(min(first or today, today), max(last or today, today) + 1))


def build_plan(school: m.School, year: int, where: PlanFilter | None = None) -> Plan:
    """The school's plan lines that run in `year`, by partner in plan order."""
    where = where or PlanFilter()
    stmt = (
        select(m.Event)
        .where(m.Event.school_id == school.id, m.Event.deleted_at.is_(None), runs_in_year(year))
        .options(
            selectinload(m.Event.partner),
            selectinload(m.Event.audience),
            selectinload(m.Event.kind),
            selectinload(m.Event.level),
            selectinload(m.Event.responsible),
            selectinload(m.Event.fgos_results),
        )
        .order_by(m.Event.id)
    )
    if where.partner_id:
        stmt = stmt.where(m.Event.partner_id == where.partner_id)
    if where.audience_id:
        stmt = stmt.where(m.Event.audience_id == where.audience_id)
    if where.state:
        stmt = stmt.where(m.Event.state == where.state)
    if where.fgos_result_id:
        stmt = stmt.where(m.Event.fgos_results.any(m.FgosResult.id == where.fgos_result_id))
    if where.month:
        stmt = stmt.where(m.Event.months_mask.op("&")(1 << (where.month - 1)) != 0)
    events = db.session.execute(stmt).scalars().all()
    executions = dict(
        db.session.execute(
            select(m.EventExecution.event_id, m.EventExecution.status).where(
                m.EventExecution.school_id == school.id, m.EventExecution.year == year
            )
        ).all()
    )
    by_partner: dict[int, list[PlanEvent]] = {}
    partners: dict[int, m.Partner] = {}
    for event in events:
        partners[event.partner_id] = event.partner
        by_partner.setdefault(event.partner_id, []).append(_plan_event(event, executions.get(event.id)))
    programme = (
        db.session.execute(
            select(m.Programme.title).where(
                m.Programme.school_id == school.id,
                m.Programme.first_year <= year,
                m.Programme.last_year >= year,
            )
        )
        .scalars()
        .first()
    )
    return Plan(
        school_id=school.id,
        school_name=school.name,
        school_short_name=school.short_name,
        programme_title=programme or "",
        year=year,
        partners=tuple(
            PlanPartner(pid, partners[pid].name, partners[pid].short_name, tuple(lines))
            for pid, lines in by_partner.items()  # dicts keep plan order: first event first
        ),
    )


def _plan_event(event: m.Event, execution: str | None) -> PlanEvent:
    return PlanEvent(
        id=event.id,
        number=event.number,
        title=event.title,
        timing_text=event.timing_text,
        months=ACADEMIC_MONTHS if event.all_year else event.months,
        all_year=event.all_year,
        timing_recognized=event.timing_recognized,
        start=event.start_date,
        end=event.end_date,
        section=event.section,
        audience=event.audience.name if event.audience else "",
        grades=event.grades,
        responsible=tuple(p.name for p in event.responsible),
        kind=event.kind.name if event.kind else "",
        level=event.level.name if event.level else "",
        fgos_results=tuple(r.title for r in event.fgos_results),
        state=event.state,
        execution=execution,
        first_year=event.first_year,
        last_year=event.last_year,
    )
