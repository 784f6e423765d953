"""JSON over HTTP: the network plan of a school for an academic year (DESIGN.md contract)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from . import access
from . import models as m
from .extensions import csrf, db
from .lookup import parse_id
from .plan_io.json_out import plan_to_json
from .plan_io.plan import build_plan
from .timing import ACADEMIC_YEARS

bp = Blueprint("api", __name__, url_prefix="/api")


def _error(status: int, message: str) -> Any:
    return jsonify({"error": message}), status


@bp.get("/plan.json")
def plan_json() -> Any:
    if not current_user.is_authenticated:
        return _error(401, gettext("Sign in to read the plan."))
    if not access.can(current_user, "plan.view"):
        return _error(403, gettext("You have no rights to open this page."))
    school_id, year = request.args.get("school", ""), request.args.get("year", "")
    if parse_id(school_id) is None:
        return _error(400, gettext("Give the school's id: ?school=ID."))
    if not (year.isascii() and year.isdigit() and len(year) == 4 and int(year) in ACADEMIC_YEARS):
        return _error(400, gettext("Give the academic year by its first calendar year: ?year=2019."))
    # The ORM applies the policy: a school the user may not see is simply absent.
    school = db.session.execute(select(m.School).where(m.School.id == int(school_id))).scalar_one_or_none()
    if school is None:
        return _error(404, gettext("There is no such page or record, or it is not available to you."))
    return jsonify(plan_to_json(build_plan(school, int(year))))


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # read-only GETs; nothing to forge
    app.register_blueprint(bp)
