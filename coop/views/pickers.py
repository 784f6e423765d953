"""The school and academic year a custom page shows (calendar, dashboard, coverage,
import), read from the request: the shared pickers of coop/_filters.html."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import request
from sqlalchemy import exists, select

from .. import models as m
from ..extensions import db
from ..plan_io.plan import runs_in_year
from ..timing import ACADEMIC_YEARS, academic_year_of

YEAR_RANGE = ACADEMIC_YEARS


def int_arg(name: str, allowed: range | None = None) -> int | None:
    """An integer query argument, or None when absent or not a number in range."""
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if allowed is None or value in allowed else None


def visible_schools() -> list[m.School]:
    """Schools whose plans the user may open (the ORM applies the policy)."""
    return list(db.session.execute(select(m.School).order_by(m.School.short_name)).scalars())


def school_for(school_id: int | None, schools: list[m.School]) -> m.School | None:
    if school_id is None:
        return schools[0] if schools else None
    return next((s for s in schools if s.id == school_id), None)


@dataclass(frozen=True)
class ShownYear:
    """The academic year a page opens on, and whether it stepped back from the current one."""

    year: int
    latest_with_data: bool = False  # the current year has no plan lines: the page says so


def latest_year_with_data(school_id: int | None = None, today: dt.date | None = None) -> ShownYear:
    """The current academic year when a plan line the user sees runs in it, else the latest
    earlier one in which one runs (the current one when there are none at all).

    One statement, both halves read an index: a line running now, and the line that ended
    last before now (a line that ended runs in its last year). The ORM applies the policy.
    """
    current = academic_year_of(today or dt.date.today())
    now = select(m.Event.id).where(runs_in_year(current))
    before = (
        select(m.Event.last_year)
        .where(m.Event.last_year < current)
        .order_by(m.Event.last_year.desc())
        .limit(1)
    )
    if school_id is not None:
        now, before = now.where(m.Event.school_id == school_id), before.where(m.Event.school_id == school_id)
    running, last = db.session.execute(select(exists(now), before.scalar_subquery())).one()
    if running or last is None or last not in YEAR_RANGE:
        return ShownYear(current)
    return ShownYear(last, latest_with_data=True)
