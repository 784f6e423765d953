"""The school and academic year a custom page shows (calendar, dashboard, coverage,
import), read from the request: the shared pickers of coop/_filters.html."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from .. import models as m
from ..extensions import db
from ..timing import ACADEMIC_YEARS

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
