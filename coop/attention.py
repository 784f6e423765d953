"""What needs attention, for the home page of those who audit (coordinator, admin, a school):
open remarks by age, proposals waiting for review too long, past months' plan lines with
no yearly record, and agreements about to end.

Two SQL statements whatever the number of rows (the remarks; the counts per school, each
item a part of one UNION ALL); the ORM applies the policy (coop/tenancy.py) to every part,
so a school finds only its own rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, cast, exists, func, literal, null, select, union_all

from . import access, figures, workflow
from . import models as m
from .extensions import db
from .plan_io.plan import COUNTED, runs_in_year
from .timing import ACADEMIC_MONTHS, month_date_in_year

REVIEW_WAIT_DAYS = 7  # a proposal waiting longer than this is overdue
ENDING_WITHIN_DAYS = 60
REMARKS_SHOWN = 10  # the oldest ones; the rest are behind the link to all open remarks
# Schools named per item, those with the most first: a region's thousand schools would make
# the home page a list of thousands; the rest are counted in one line (Attention.more).
SCHOOLS_SHOWN = 20
# The line's states in the agreed plan, where its outcome is recorded (the workflow's table):
# a draft, a proposal or a cancelled line is owed no record.
IN_PLAN = tuple(sorted(frozenset().union(*(outcome.source for outcome in workflow.EVENT.outcomes))))


@dataclass(frozen=True)
class OpenRemark:
    id: int
    text: str
    school: str
    age_days: int


@dataclass(frozen=True)
class PerSchool:
    school_id: int
    school: str
    count: int
    soonest: dt.date | None = None  # agreements: the first to end


@dataclass(frozen=True)
class Attention:
    year: int
    remarks: list[OpenRemark]
    remarks_total: int
    waiting_review: list[PerSchool]
    without_record: list[PerSchool]
    agreements_ending: list[PerSchool]
    more: dict[str, int] = field(default_factory=dict)  # item -> schools beyond those named
    review_wait_days: int = REVIEW_WAIT_DAYS
    ending_within_days: int = ENDING_WITHIN_DAYS

    def __bool__(self) -> bool:
        return bool(self.remarks or self.waiting_review or self.without_record or self.agreements_ending)


def _oldest_open_remarks() -> tuple[list[tuple[int, str, str, dt.datetime]], int]:
    """The oldest open remarks (id, text, school, written at) and how many are open, in one statement."""
    rows = db.session.execute(
        select(m.Remark.id, m.Remark.text, m.School.short_name, m.Remark.created_at, func.count().over())
        .join(m.School, m.School.id == m.Remark.school_id)
        .where(m.Remark.state == "open")
        .order_by(m.Remark.created_at, m.Remark.id)
        .limit(REMARKS_SHOWN)
    ).all()
    return [(id_, text, school, created) for id_, text, school, created, _ in rows], rows[0][4] if rows else 0


def _aged(oldest: list[tuple[int, str, str, dt.datetime]], now: dt.datetime) -> list[OpenRemark]:
    return [OpenRemark(id_, text, school, (now - created).days) for id_, text, school, created in oldest]


def past_months_mask(year: int, today: dt.date) -> int:
    """The months of academic year `year` that are over by `today`, as a months mask."""
    mask = 0
    for month in ACADEMIC_MONTHS:
        start = month_date_in_year(month, year)
        following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        if following <= today:
            mask |= 1 << (month - 1)
    return mask


def waiting_review(now: dt.datetime) -> ColumnElement[bool]:
    """Proposals that have waited for review more than REVIEW_WAIT_DAYS days since the day
    of their last change. Whole days: the list kept of a day (kept_attention) holds all day."""
    since = dt.datetime.combine(now.date() - dt.timedelta(days=REVIEW_WAIT_DAYS), dt.time())
    return workflow.REVIEW.holds(m.Event) & (m.Event.updated_at < since)


def _owed_a_record(year: int) -> ColumnElement[bool]:
    """Lines of the plan running in `year`, in the agreed plan, with no outcome recorded for
    that year (one still «planned», or a partner's report the school has not confirmed, is none)."""
    recorded = exists().where(
        m.EventExecution.event_id == m.Event.id,
        m.EventExecution.year == year,
        m.EventExecution.status.in_(COUNTED),
    )
    return runs_in_year(year) & m.Event.state.in_(IN_PLAN) & ~recorded


def without_record(year: int, past: int) -> ColumnElement[bool]:
    """Lines owed a record of `year` with a month already over (in the `past` mask)."""
    return _owed_a_record(year) & (m.Event.months_mask.op("&")(past) != 0)


def unrecorded_by_timing(year: int) -> Select:
    """Per school and timing (months mask), the lines owed a record of `year`: what
    coop.summary keeps for _without_record."""
    return (
        select(m.Event.school_id, m.Event.months_mask, func.count())
        .where(_owed_a_record(year))
        .group_by(m.Event.school_id, m.Event.months_mask)
    )


def _without_record(year: int, past: int) -> Select:
    """Per school, the lines of past months with no record of `year`."""
    return (
        select(literal("without_record").label("item"), m.Event.school_id, func.count(), _NO_DATE)
        .where(without_record(year, past))
        .group_by(m.Event.school_id)
    )


def _kept_without_record(year: int, past: int) -> Select:
    """_without_record read from the figures kept for `year` (coop.summary)."""
    kept = m.SchoolYearFigure
    return (
        select(literal("without_record").label("item"), kept.school_id, func.sum(kept.number1), _NO_DATE)
        .where(kept.year == year, kept.figure == "unrecorded", kept.number0.op("&")(past) != 0)
        .group_by(kept.school_id)
    )


def agreement_ending(today: dt.date, within_days: int = ENDING_WITHIN_DAYS) -> ColumnElement[bool]:
    """Agreements in force or being signed that end within `within_days` from `today`."""
    until = today + dt.timedelta(days=within_days)
    return m.Agreement.state.in_(("active", "signing")) & m.Agreement.valid_to.between(today, until)


def _waiting_review(now: dt.datetime) -> Select:
    """Per school, the proposals waiting for review too long."""
    return select(literal("review").label("item"), m.Event.school_id, func.count(), _NO_DATE).where(
        waiting_review(now)
    )


def _agreements_ending(today: dt.date) -> Select:
    """Per school, the agreements about to end, and the first to end."""
    return select(
        literal("agreements").label("item"),
        m.Agreement.school_id,
        func.count(),
        func.min(m.Agreement.valid_to),
    ).where(agreement_ending(today))


_NO_DATE = cast(null(), Date)


def per_school(
    year: int, now: dt.datetime, kept: bool = False, shown: int | None = None
) -> tuple[dict[str, list[PerSchool]], dict[str, int]]:
    """The three counts per school (review, without_record, agreements) in one statement,
    the schools with the most first, at most `shown` of them per item (None: all), and per
    item the number of schools left out. kept: the year's figures are kept (coop.summary),
    and the lines without a record are read from them."""
    past = past_months_mask(year, now.date())
    unrecorded = _kept_without_record if kept else _without_record
    parts = [
        _waiting_review(now).group_by(m.Event.school_id),
        *([unrecorded(year, past)] if past else []),
        _agreements_ending(now.date()).group_by(m.Agreement.school_id),
    ]
    counts = union_all(*parts).subquery()
    item, school_id, count, soonest = counts.c
    ranked = (
        select(
            item,
            school_id,
            m.School.short_name,
            count,
            soonest,
            func.row_number()
            .over(partition_by=item, order_by=(count.desc(), m.School.short_name))
            .label("rank"),
            func.count().over(partition_by=item).label("schools"),
        )
        .join(m.School, m.School.id == school_id)
        .subquery()
    )
    *values, rank, schools = ranked.c
    stmt = select(*values, schools).order_by(rank)
    rows = db.session.execute(stmt if shown is None else stmt.where(rank <= shown))
    found: dict[str, list[PerSchool]] = {"review": [], "without_record": [], "agreements": []}
    more: dict[str, int] = {}
    for kind, *row, total in rows:
        found[kind].append(PerSchool(*row))
        more[kind] = total - len(found[kind])
    return found, more


def attention(
    year: int, now: dt.datetime | None = None, kept: bool = False, every_school: bool = False
) -> Attention:
    """Everything that needs attention, in two statements; `year` is the academic year whose
    plan is checked for records (kept: its figures are kept, see per_school). every_school:
    the user sees every row it counts (sees_every_school), and the list kept with the year
    is theirs: one statement while it holds (kept_attention)."""
    now = now or m.utcnow()
    if kept and every_school:
        return kept_attention(year, now)
    return _attention(year, count_attention(year, now, kept), now)


def sees_every_school(user: Any) -> bool:
    """Whether the user sees every row the attention list counts, so that the list kept of
    all schools is the one it would count."""
    return all(access.scope_of(user, model) is access.ALL for model in READS)


READS = (m.School, m.Remark, m.Event, m.Agreement, m.SchoolYearFigure)  # the rows the list counts


def count_attention(year: int, now: dt.datetime, kept: bool) -> dict[str, Any]:
    """What needs attention as counted now, in the form kept with the year (JSON: dates as
    ISO text; the remarks with the moment they were written, aged when shown)."""
    oldest, total = _oldest_open_remarks()
    counts, more = per_school(year, now, kept, shown=SCHOOLS_SHOWN)
    return {
        "counted_as": _counted_as(now),
        "remarks": [[id_, text, school, created.isoformat()] for id_, text, school, created in oldest],
        "remarks_total": total,
        "counts": {
            kind: [
                [row.school_id, row.school, int(row.count), row.soonest and row.soonest.isoformat()]
                for row in rows
            ]
            for kind, rows in counts.items()
        },
        "more": more,
    }


def kept_attention(year: int, now: dt.datetime) -> Attention:
    """The attention list of all schools kept with the year at its version (coop.summary adds
    1 to it at every write that may change the list) on this day; else counted and kept."""
    stamp = db.session.execute(
        select(m.FigureYear.version, m.FigureYear.attention).where(m.FigureYear.year == year)
    ).one_or_none()
    version, found = stamp if stamp else (None, None)
    if found is not None and is_current(found, version, now):
        return _attention(year, found, now)
    counted = count_attention(year, now, kept=True)
    if version is not None:
        figures.keep_with_year(year, version, attention={**counted, "version": version})
    return _attention(year, counted, now)


def is_current(kept: dict[str, Any] | None, version: int | None, now: dt.datetime) -> bool:
    """Whether a list kept with the year is the one counted now: at the year's version, on
    this day, by these rules."""
    return kept is not None and kept.get("version") == version and kept.get("counted_as") == _counted_as(now)


def _counted_as(now: dt.datetime) -> list[Any]:
    """What besides the rows the list depends on: the day, and the rules' numbers."""
    return [now.date().isoformat(), REVIEW_WAIT_DAYS, ENDING_WITHIN_DAYS, REMARKS_SHOWN, SCHOOLS_SHOWN]


def _attention(year: int, counted: dict[str, Any], now: dt.datetime) -> Attention:
    day_of = dt.date.fromisoformat
    remarks = [
        (id_, text, school, dt.datetime.fromisoformat(at)) for id_, text, school, at in counted["remarks"]
    ]
    counts = {
        kind: [
            PerSchool(school_id, school, count, soonest and day_of(soonest))
            for school_id, school, count, soonest in rows
        ]
        for kind, rows in counted["counts"].items()
    }
    return Attention(
        year=year,
        remarks=_aged(remarks, now),
        remarks_total=counted["remarks_total"],
        waiting_review=counts["review"],
        without_record=counts["without_record"],
        agreements_ending=counts["agreements"],
        more={kind: left for kind, left in counted["more"].items() if left},
    )
