"""The yearly calendar of the network plan, its month agenda, exports and feeds."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from .. import access
from .. import models as m
from ..extensions import db
from ..plan_io.export import FORMATS, export_filename
from ..plan_io.plan import Plan, PlanFilter, build_plan, plan_years
from ..timing import ACADEMIC_MONTHS, MONTH_NAMES, academic_year_label, academic_year_of
from .base import SecuredView

AREA = _l("Network plan")
YEAR_RANGE = range(2000, 2100)


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


class CalendarView(SecuredView):
    permission = "calendar.view"

    def _selection(self) -> tuple[list[m.School], m.School | None, int]:
        schools = visible_schools()
        school = school_for(int_arg("school"), schools)
        if request.args.get("school") and school is None:
            abort(404)
        year = int_arg("year", YEAR_RANGE) or academic_year_of(dt.date.today())
        return schools, school, year

    @expose("/")
    def index(self) -> str:
        schools, school, year = self._selection()
        where = PlanFilter(
            partner_id=int_arg("partner"),
            audience_id=int_arg("audience"),
            fgos_result_id=int_arg("fgos"),
            state=request.args.get("state") if request.args.get("state") in m.EVENT_STATES else None,
            month=int_arg("month", range(1, 13)) if request.args.get("view") == "month" else None,
        )
        plan = build_plan(school, year, where) if school else None
        return self.render(
            "coop/calendar.html",
            schools=schools,
            school=school,
            year=year,
            years=plan_years(),
            plan=plan,
            where=where,
            view=request.args.get("view", "year"),
            months=[(month, MONTH_NAMES[month]) for month in ACADEMIC_MONTHS],
            current_month=dt.date.today().month if academic_year_of(dt.date.today()) == year else None,
            partners=_partner_options(school),
            audiences=db.session.execute(select(m.Audience).order_by(m.Audience.sort_order)).scalars().all(),
            fgos_results=db.session.execute(select(m.FgosResult).order_by(m.FgosResult.sort_order))
            .scalars()
            .all(),
            states=m.EVENT_STATES,
            executions=m.EXECUTION_STATUSES,
            year_label=academic_year_label,
            feed=_feed_for(school),
            may_manage_feed=access.can(current_user, "calendarfeed.create", _feed_owner(school)),
            formats=list(FORMATS),
        )

    @expose("/export/<fmt>/")
    def export(self, fmt: str) -> Response:
        if fmt not in FORMATS or not access.can(current_user, "plan.export"):
            abort(404)
        _schools, school, year = self._selection()
        if school is None:
            abort(404)
        plan = build_plan(school, year)
        return _download(plan, fmt)

    @expose("/feed/", methods=("POST",))
    def feed(self) -> Any:
        """Create the subscription URL, or replace it (revoking the old one)."""
        _schools, school, _year = self._selection()
        if school is None and access.role_of(current_user) != access.PARTNER:
            abort(404)
        owner = _feed_owner(school)
        if not access.can(current_user, "calendarfeed.create", owner):
            abort(403)
        feed = _feed_for(school) or owner
        feed.token = secrets.token_urlsafe(32)
        db.session.add(feed)
        db.session.commit()
        flash(gettext("A new subscription link is ready; the old one no longer works."), "success")
        return redirect(url_for(".index", school=school.id if school else None))


def _partner_options(school: m.School | None) -> list[m.Partner]:
    if school is None:
        return []
    stmt = (
        select(m.Partner)
        .join(m.Event, m.Event.partner_id == m.Partner.id)
        .where(m.Event.school_id == school.id)
        .group_by(m.Partner.id)
        .order_by(func.min(m.Event.id))
    )
    return list(db.session.execute(stmt).scalars())


def _feed_owner(school: m.School | None) -> m.CalendarFeed:
    """The feed this user would get: their partner's, else the selected school's."""
    if access.role_of(current_user) == access.PARTNER:
        return m.CalendarFeed(partner_id=current_user.partner_id)
    return m.CalendarFeed(school_id=school.id if school else None)


def _feed_for(school: m.School | None) -> m.CalendarFeed | None:
    owner = _feed_owner(school)
    stmt = select(m.CalendarFeed).where(
        m.CalendarFeed.partner_id == owner.partner_id
        if owner.partner_id
        else m.CalendarFeed.school_id == owner.school_id
    )
    return db.session.execute(stmt).scalar_one_or_none()


def _download(plan: Plan, fmt: str) -> Response:
    export = FORMATS[fmt]
    return Response(
        export.render(plan),
        mimetype=export.mimetype,
        headers={"Content-Disposition": f"attachment; filename={export_filename(plan, fmt)}"},
    )


VIEWS: list = []  # model views: none here
PAGES = [(CalendarView, "calendar", _l("Yearly calendar"))]
