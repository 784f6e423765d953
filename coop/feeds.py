"""iCalendar subscription feeds at secret-token URLs, read with the rights of
the school or partner the feed belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, g
from sqlalchemy import select

from . import access, saved_views
from . import models as m
from .extensions import db
from .plan_io.ics_out import plan_to_ics
from .plan_io.plan import Plan, PlanFilter, PlanLines

bp = Blueprint("feeds", __name__, url_prefix="/feeds")


@dataclass(frozen=True)
class FeedReader:
    """Stands in for a user of the feed's school or partner in the access policy."""

    role: str
    school_id: int | None = None
    partner_id: int | None = None
    id: int | None = None
    is_authenticated: bool = True


@bp.get("/<token>.ics")
def feed(token: str) -> Response:
    row = db.session.execute(
        select(m.CalendarFeed).where(m.CalendarFeed.token == token),
        execution_options={"skip_scope": True},
    ).scalar_one_or_none()
    if row is None or len(token) < 20:
        abort(404)
    if row.partner_id:
        g.principal = FeedReader(access.PARTNER, partner_id=row.partner_id)
    else:
        g.principal = FeedReader(access.SCHOOL, school_id=row.school_id)
    schools, plans = _plans()
    title = f"Сетевой план: {', '.join(s.short_name for s in schools)}"
    return Response(plan_to_ics(plans, calendar_name=title), mimetype="text/calendar")


@bp.get("/views/<secret>.ics")
def saved_view(secret: str) -> Response:
    """The events of a saved view of the events list (coop/saved_views.py), read with the
    rights its owner has now: a secret that is unknown, revoked or expired, a view in the
    trash or an owner whose account is closed open nothing."""
    saved = saved_views.feed_of(secret)
    owner = db.session.get(m.User, saved.user_id, execution_options={"skip_scope": True}) if saved else None
    view = saved_views.list_view(saved.endpoint, owner) if saved and owner and owner.is_active else None
    if saved is None or view is None:
        abort(404)
    g.principal = owner
    _schools, plans = _plans(PlanFilter(event_ids=saved_views.matching_ids(view, saved, owner)))
    return Response(plan_to_ics(plans, calendar_name=saved.name), mimetype="text/calendar")


def _plans(where: PlanFilter | None = None) -> tuple[list[m.School], list[Plan]]:
    """Every plan of every school and year the reader sees, from one load: the statements
    do not grow with the schools, years or lines of the feed."""
    schools = list(db.session.execute(select(m.School).order_by(m.School.short_name)).scalars())
    lines = PlanLines.load(schools, where=where)
    return schools, [lines.plan(school, year) for school in schools for year in lines.years()]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
