"""The yearly calendar of the network plan, its month agenda, exports and feeds."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select

from .. import access, labels
from .. import models as m
from ..extensions import db
from ..formats import month_name
from ..plan_io.export import FORMATS, export_filename
from ..plan_io.plan import YEAR_STATES, Plan, PlanFilter, PlanLines, build_plan
from ..timing import ACADEMIC_MONTHS, academic_year_label, academic_year_of
from .base import SecuredView
from .pickers import YEAR_RANGE, ShownYear, int_arg, school_for, visible_schools, year_choice


@dataclass(frozen=True)
class Selection:
    schools: list[m.School]
    school: m.School | None
    shown: ShownYear
    years: list[int] = field(default_factory=list)
    feed_token: str | None = None


class CalendarView(SecuredView):
    permission = "calendar.view"

    def _selection(self, page: bool = False) -> Selection:
        """The schools, the one shown and the year shown; for the page also the years to
        choose from and the subscription link's token, in the year's one statement."""
        schools, school = self._school()
        asked, school_id = int_arg("year", YEAR_RANGE), school.id if school else None
        if not page:  # a download: a statement only when no year is asked
            shown = ShownYear(asked) if asked is not None else year_choice(None, school_id)[0]
            return Selection(schools, school, shown)
        token = _feed_query(school).with_only_columns(m.CalendarFeed.token).limit(1).scalar_subquery()
        shown, years, (feed_token,) = year_choice(asked, school_id, token)
        return Selection(schools, school, shown, years, feed_token)

    def _school(self) -> tuple[list[m.School], m.School | None]:
        schools = visible_schools(int_arg("school"))
        school = school_for(int_arg("school"), schools)
        if request.args.get("school") and school is None:
            abort(404)
        return schools, school

    @expose("/")
    def index(self) -> str:
        # Eight SQL statements whatever the size of the plan: the user, the menu's
        # count, the schools, the years (the one shown among them) and the feed's token,
        # the lines, their responsible, and the audience and ФГОС choices.
        selected = self._selection(page=True)
        schools, school, year = selected.schools, selected.school, selected.shown.year
        where = PlanFilter(
            partner_id=int_arg("partner"),
            audience_id=int_arg("audience"),
            fgos_result_id=int_arg("fgos"),
            state=request.args.get("state") if request.args.get("state") in YEAR_STATES else None,
            month=int_arg("month", range(1, 13)) if request.args.get("view") == "month" else None,
            year=year,
        )
        lines = PlanLines.load([school], [year], where, details=False) if school else None
        return self.render(
            "coop/calendar.html",
            schools=schools,
            school=school,
            year=year,
            shown_year=selected.shown,
            years=selected.years,
            plan=lines.plan(school, year) if lines and school else None,
            where=where,
            view=request.args.get("view", "year"),
            months=[(month, month_name(month)) for month in ACADEMIC_MONTHS],
            current_month=dt.date.today().month if academic_year_of(dt.date.today()) == year else None,
            partners=lines.partners() if lines else [],
            audiences=db.session.execute(select(m.Audience).order_by(m.Audience.sort_order)).scalars().all(),
            fgos_results=db.session.execute(select(m.FgosResult).order_by(m.FgosResult.sort_order))
            .scalars()
            .all(),
            states=labels.choice_names(m.Event, "state"),  # written on every line
            year_states=YEAR_STATES,  # the filter: the line's state in the year, as its records say
            executions=labels.choice_names(m.EventExecution, "status"),
            year_label=academic_year_label,
            # One url_for, not one per line: building a URL costs more than a row of the grid.
            event_url=url_for("event.details_view", id=""),
            feed_token=selected.feed_token,
            may_manage_feed=access.can(current_user, "calendarfeed.create", _feed_owner(school)),
            formats=list(FORMATS),
        )

    @expose("/export/<fmt>/")
    def export(self, fmt: str) -> Response:
        if fmt not in FORMATS or not access.can(current_user, "plan.export"):
            abort(404)
        selected = self._selection()
        if selected.school is None:
            abort(404)
        plan = build_plan(selected.school, selected.shown.year)
        return _download(plan, fmt)

    @expose("/feed/", methods=("POST",))
    def feed(self) -> Any:
        """Create the subscription URL, or replace it (revoking the old one)."""
        _schools, school = self._school()
        year = int_arg("year", YEAR_RANGE)  # the year the person was looking at, if one was asked
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
        # Back to the calendar the person was looking at: the same school and year.
        return redirect(url_for(".index", school=school.id if school else None, year=year))


def _feed_owner(school: m.School | None) -> m.CalendarFeed:
    """The feed this user would get: their partner's, else the selected school's."""
    if access.role_of(current_user) == access.PARTNER:
        return m.CalendarFeed(partner_id=current_user.partner_id)
    return m.CalendarFeed(school_id=school.id if school else None)


def _feed_query(school: m.School | None) -> Select:
    owner = _feed_owner(school)
    return select(m.CalendarFeed).where(
        m.CalendarFeed.partner_id == owner.partner_id
        if owner.partner_id
        else m.CalendarFeed.school_id == owner.school_id
    )


def _feed_for(school: m.School | None) -> m.CalendarFeed | None:
    return db.session.execute(_feed_query(school)).scalar_one_or_none()


def _download(plan: Plan, fmt: str) -> Response:
    export = FORMATS[fmt]
    return Response(
        export.render(plan),
        mimetype=export.mimetype,
        headers={"Content-Disposition": f"attachment; filename={export_filename(plan, fmt)}"},
    )


VIEWS: list = []  # model views: none here
PAGES = [(CalendarView, "calendar", _l("Yearly calendar"))]
