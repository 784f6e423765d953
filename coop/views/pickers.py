"""The school and academic year a custom page shows (calendar, dashboard, coverage,
import), read from the request: the shared pickers of coop/_filters.html."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy import ColumnElement, exists, select

from .. import access
from .. import models as m
from ..extensions import db
from ..plan_io.plan import runs_in_year, year_bounds, years_between
from ..timing import ACADEMIC_YEARS, academic_year_of
from .loading import LIST_UP_TO

YEAR_RANGE = ACADEMIC_YEARS


def int_arg(name: str, allowed: range | None = None) -> int | None:
    """An integer query argument, or None when absent or not a number in range."""
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if allowed is None or value in allowed else None


class SchoolOptions(list[m.School]):
    """The schools a custom page's picker offers, in name order: all of them while they are
    few (LIST_UP_TO), else the first few and the one asked for, and `lookup` set: the
    picker is then a policy-scoped ajax look-up (the events' look-up of schools)."""

    lookup: bool = False


def visible_schools(asked: int | None = None) -> SchoolOptions:
    """Schools whose plans the user may open (the ORM applies the policy), in one statement
    that reads at most LIST_UP_TO + 1 of them and the one `asked` for. A user whose scope of
    schools is its own school (a school user) has it already, loaded with the account
    (coop/sessions.py): no statement for it."""
    if access.scope_of(current_user, m.School) is access.OWN_SCHOOL:
        own = current_user.school
        return SchoolOptions([own] if own is not None and own.deleted_at is None else [])
    first = select(m.School.id).order_by(m.School.short_name).limit(LIST_UP_TO + 1)
    wanted: ColumnElement[bool] = m.School.id.in_(first.scalar_subquery())
    if asked is not None:
        wanted = wanted | (m.School.id == asked)
    rows = list(db.session.execute(select(m.School).where(wanted).order_by(m.School.short_name)).scalars())
    options = SchoolOptions(rows)
    options.lookup = len(rows) > LIST_UP_TO  # more than LIST_UP_TO whichever was asked for
    return options


def school_for(school_id: int | None, schools: list[m.School]) -> m.School | None:
    if school_id is None:
        return schools[0] if schools else None
    return next((s for s in schools if s.id == school_id), None)


@dataclass(frozen=True)
class ShownYear:
    """The academic year a page opens on, and whether it stepped back from the current one."""

    year: int
    latest_with_data: bool = False  # the current year has no plan lines: the page says so


def year_choice(
    asked: int | None, school_id: int | None = None, *columns: Any, today: dt.date | None = None
) -> tuple[ShownYear, list[int], tuple[Any, ...]]:
    """The year to show, the years to choose from, and the values of `columns`, in one statement.

    The year is the one asked for; else the current academic year when a plan line the user
    sees (of the school, when one is shown) runs in it; else the latest earlier one in which
    one runs (a line that ended runs in its last year); else the current one. Each half reads
    an index; the ORM applies the policy. The years to choose from are those of the visible
    plan lines and the current one.
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
    first, last, running, latest, *values = db.session.execute(
        select(*year_bounds(), exists(now), before.scalar_subquery(), *columns)
    ).one()
    if asked is not None:
        shown = ShownYear(asked)
    elif running or latest is None or latest not in YEAR_RANGE:
        shown = ShownYear(current)
    else:
        shown = ShownYear(latest, latest_with_data=True)
    return shown, years_between(first, last), tuple(values)
