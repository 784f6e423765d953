"""What the annual report of an innovation site says, for a school and an academic year.

The reporting year ends on 31 May: the report covers 1 September – 31 May of the
academic year. Plan lines whose months all fall in June–August (and that were not
held by 31 May) are listed apart, as after the period. Everything else is read
within the asking user's scope, as the dashboard reads it (coop.figures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import added_fields, figures
from .. import models as m
from ..extensions import db
from ..plan_io.plan import COUNTED, PlanEvent, build_plan
from ..timing import academic_year_bounds, academic_year_label

SUMMER = frozenset({6, 7, 8})


@dataclass(frozen=True)
class ReportLine:
    """A plan line with what became of it in the year."""

    partner: str
    event: PlanEvent
    execution: m.EventExecution | None

    @property
    def status(self) -> str:
        """A code of models.EXECUTION_STATUSES; "planned" when nothing is recorded."""
        return self.execution.status if self.execution else "planned"


@dataclass(frozen=True)
class AddedTotal:
    """An added number or yes/no field of the yearly records, summed per partner and in all."""

    definition: m.FieldDefinition
    by_partner: dict[str, int | float]
    total: int | float


@dataclass(frozen=True)
class AnnualReport:
    school: m.School
    year: int
    programmes: list[m.Programme]
    agreements: list[m.Agreement]
    lines: list[ReportLine]  # within the reporting period
    later_lines: list[ReportLine]  # planned for June–August only
    seminars: list[m.Seminar]
    stored_files: list[m.StoredFile]
    limitations: list[m.Limitation]
    coverage: figures.Coverage
    remarks: list[m.Remark]

    @property
    def year_label(self) -> str:
        return academic_year_label(self.year)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return period_of(self.year)

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def percent_held(self) -> float | None:
        return round(100 * self.count("held") / len(self.lines), 1) if self.lines else None

    def reached(self, field: str) -> int:
        """Students, teachers or parents (`field` of EventExecution) reached by held lines."""
        return sum(getattr(line.execution, field) for line in self.lines if line.status == "held")

    def added_totals(self) -> list[AddedTotal]:
        """The number and yes/no fields added to the yearly records (coop/added_fields.py),
        summed (a yes/no field: its «yes» counted) over the lines recorded in the period,
        per partner and in total."""
        definitions = [
            d
            for d in added_fields.of_record(m.EventExecution, self.school.id)
            if added_fields.KINDS[d.kind].number or d.kind == "boolean"
        ]
        recorded = [line for line in self.lines if line.execution is not None]
        totals = []
        for definition in definitions:
            by_partner: dict[str, int | float] = {}
            for line in recorded:
                value = (line.execution.extra or {}).get(definition.key) if line.execution else None
                if value is None or value is False:
                    continue
                by_partner[line.partner] = by_partner.get(line.partner, 0) + (1 if value is True else value)
            totals.append(AddedTotal(definition, by_partner, sum(by_partner.values())))
        return totals

    @property
    def documents(self) -> list[str]:
        """Documents produced: those named in the seminars' records, then files kept in the period."""
        named = [
            text.strip(" -•\t")
            for seminar in self.seminars
            for text in seminar.documents.splitlines()
            if text.strip(" -•\t")
        ]
        return list(dict.fromkeys(named + [f.original_name for f in self.stored_files]))

    @property
    def unmet_lines(self) -> list[ReportLine]:
        return [line for line in self.lines if line.status in ("not_held", "cancelled")]

    @property
    def open_limitations(self) -> list[m.Limitation]:
        return [limitation for limitation in self.limitations if not limitation.is_addressed]

    @property
    def open_remarks(self) -> list[m.Remark]:
        return [remark for remark in self.remarks if remark.state in figures.UNRESOLVED_REMARKS]


def period_of(year: int) -> tuple[dt.date, dt.date]:
    """1 September – 31 May of academic year `year`."""
    first, _last = academic_year_bounds(year)
    return first, dt.date(year + 1, 5, 31)


def build_report(school: m.School, year: int) -> AnnualReport:
    first, last = period_of(year)
    executions = {
        row.event_id: row
        for row in db.session.execute(
            select(m.EventExecution).where(
                m.EventExecution.school_id == school.id,
                m.EventExecution.year == year,
                # What the school has recorded: a partner's report it has not confirmed is none.
                m.EventExecution.status.in_((*COUNTED, "planned")),
            )
        ).scalars()
    }
    lines: list[ReportLine] = []
    later: list[ReportLine] = []
    for partner in build_plan(school, year).partners:
        for event in partner.events:
            line = ReportLine(partner.short_name or partner.name, event, executions.get(event.id))
            (lines if _in_period(line, last) else later).append(line)
    return AnnualReport(
        school=school,
        year=year,
        programmes=_all(
            select(m.Programme)
            .where(
                m.Programme.school_id == school.id,
                m.Programme.first_year <= year,
                m.Programme.last_year >= year,
            )
            .order_by(m.Programme.first_year, m.Programme.id)
        ),
        agreements=_all(
            select(m.Agreement)
            .where(
                m.Agreement.school_id == school.id,
                figures.agreements_in_year(year),  # as the dashboard counts them
            )
            .options(selectinload(m.Agreement.partner), selectinload(m.Agreement.fgos_results))
            .order_by(m.Agreement.signed_on, m.Agreement.id)
        ),
        lines=lines,
        later_lines=later,
        seminars=_all(
            select(m.Seminar)
            .where(
                m.Seminar.school_id == school.id,
                m.Seminar.held_on.between(first, last),
            )
            .options(selectinload(m.Seminar.partners))
            .order_by(m.Seminar.held_on, m.Seminar.id)
        ),
        stored_files=_all(
            select(m.StoredFile)
            .where(
                m.StoredFile.school_id == school.id,
                m.StoredFile.created_at >= dt.datetime.combine(first, dt.time()),
                m.StoredFile.created_at < _day_after(last),
            )
            .order_by(m.StoredFile.id)
        ),
        limitations=_all(
            select(m.Limitation)
            .outerjoin(m.Seminar, m.Seminar.id == m.Limitation.seminar_id)
            .where(
                m.Limitation.school_id == school.id,
                figures.limitations_found_by(last),  # as the dashboard counts them
            )
            .options(selectinload(m.Limitation.resource).selectinload(m.PartnerResource.partner))
            .order_by(m.Limitation.id)
        ),
        coverage=figures.coverage(school.id, year),
        remarks=_all(
            select(m.Remark)
            .where(
                m.Remark.school_id == school.id,
                # written within the period, or still waiting to be resolved
                (m.Remark.created_at < _day_after(last)) | m.Remark.state.in_(figures.UNRESOLVED_REMARKS),
            )
            .order_by(m.Remark.created_at, m.Remark.id)
        ),
    )


def _in_period(line: ReportLine, last: dt.date) -> bool:
    """Within 1 September – 31 May: held by then, or planned for a month before June."""
    if line.execution is not None and line.execution.held_on is not None:
        return line.execution.held_on <= last
    months = set(line.event.months)
    return not months or line.event.all_year or bool(months - SUMMER)


def _day_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def _all(stmt: Any) -> list[Any]:
    return list(db.session.execute(stmt).scalars())
