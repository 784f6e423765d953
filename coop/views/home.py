"""The home page: what needs attention and the dashboard for those who audit (admin,
coordinator, a school), links to the sections for everyone else."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user

from .. import access, workflow
from .. import models as m
from ..attention import ENDING_WITHIN_DAYS, Attention, attention, sees_every_school
from ..data_requests import SHOWN_STATES
from .base import SecuredMixin, SecuredModelView
from .dashboard import DrillDown, dashboard_context
from .data_requests import open_requests
from .display import DateBetweenFilter, date_range
from .loading import SchoolFilter


class HomeView(SecuredMixin, AdminIndexView):
    permission = "home.view"

    @expose("/")
    def index(self) -> str:
        if access.can(current_user, "dashboard.view"):
            context = dashboard_context()
            every_school = sees_every_school(current_user)
            items = attention(context["year"], kept=context["figures_kept"], every_school=every_school)
            return self.render(
                "coop/dashboard.html",
                home_links=self._links(),
                attention=items,
                attention_links=_attention_links(items, context["year"]),
                open_requests=open_requests(),
                request_states=SHOWN_STATES,
                **context,
            )
        return self.render(self._template, home_links=self._links())

    def _links(self) -> list[dict[str, Any]]:
        """The list views the user may open, in menu order."""
        return [
            {"name": view.name, "category": view.category, "url": url_for(f"{view.endpoint}.index_view")}
            for view in self.admin._views
            if isinstance(view, SecuredModelView) and view.is_visible() and view.is_accessible()
        ]


def _attention_links(items: Attention, year: int) -> dict[str, Any]:
    """Where each line of the attention list leads: the rows, filtered in the list's URL."""
    drill = DrillDown(year)
    today = dt.date.today()
    ending = date_range(today, today + dt.timedelta(days=ENDING_WITHIN_DAYS))
    may_review = access.can(current_user, workflow.REVIEW.permission)

    def review(school_id: int) -> str | None:
        if may_review:  # the school's own queue, oldest first
            return url_for("review.index")
        return drill.url(
            "event",
            (m.Event.school_id, SchoolFilter, school_id),
            (m.Event.state, FilterEqual, "submitted"),
        )

    # Past the schools named: all the rows of the kind, every school's.
    more = {
        "review": url_for("review.index")
        if may_review
        else drill.url("event", (m.Event.state, FilterEqual, "submitted")),
        "agreements": drill.url("agreement", (m.Agreement.valid_to, DateBetweenFilter, ending)),
        # The dashboard, the schools with the most lines still planned first.
        "without_record": url_for("admin.index", year=year, sort="planned", desc=1),
    }
    return {
        "more": more,
        "remark": {r.id: url_for("remark.details_view", id=r.id) for r in items.remarks},
        "remarks": drill.url("remark", (m.Remark.state, FilterEqual, "open")),
        "review": {row.school_id: review(row.school_id) for row in items.waiting_review},
        "without_record": {
            row.school_id: url_for("calendar.index", school=row.school_id, year=year)
            for row in items.without_record
        },
        "agreements": {
            row.school_id: drill.url(
                "agreement",
                (m.Agreement.school_id, SchoolFilter, row.school_id),
                (m.Agreement.valid_to, DateBetweenFilter, ending),
            )
            for row in items.agreements_ending
        },
    }
