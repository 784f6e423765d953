"""The network plan: its lines (events) and their yearly execution."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectMultipleField
from wtforms.validators import NumberRange, Optional, ValidationError

from .. import access, confirmations, search, uploads, workflow
from .. import models as m
from ..extensions import db
from ..formats import month_name
from ..lookup import parse_id
from ..timing import ACADEMIC_MONTHS
from .base import SecuredModelView, SecuredView
from .loading import ajax_lookups, relation_filter, school_filter, used_filter
from .outcomes import FILE_HINT, YearlyOutcomes, year_filters
from .validators import OPTIONAL_YEAR, REQUIRED_COUNT, REQUIRED_YEAR, YEAR, LinksOfThisSchool, NotBefore


def _months(view: Any, context: Any, event: m.Event, name: str) -> str:
    if event.all_year:
        return str(_l("all year"))
    return ", ".join(month_name(month) for month in event.months)


def _responsible(view: Any, context: Any, event: m.Event, name: str) -> Markup:
    return Markup("<br>").join(escape(name) for name in _responsible_names(event))


def _responsible_names(event: m.Event) -> list[str]:
    """The catalog's positions, then those kept as text (not in the catalog)."""
    return [*map(str, event.responsible), *([event.responsible_other] if event.responsible_other else [])]


class EventView(YearlyOutcomes, SecuredModelView):
    details_template = "coop/event_details.html"
    column_list = ["school", "partner", "number", "title", "timing_text", "audience", "responsible", "state"]
    column_searchable_list = search.fields_of(m.Event)
    # What a person filters a plan by comes first; the columns' own filters after.
    column_filters = [
        school_filter(m.Event.school_id),
        *year_filters(),  # the academic year the line runs in, and its state in that year
        # The partners of the plan lines the user sees (a school's own partners, not the
        # directory; a partner only itself), and the catalogs' entries.
        used_filter(m.Event.partner_id),
        relation_filter(m.Event.kind_id),
        relation_filter(m.Event.level_id),
        relation_filter(m.Event.audience_id),
        *("state", "timing_text", "timing_recognized", "first_year", "last_year", "grades"),
    ]
    column_sortable_list = ["number", "title", "state"]
    column_default_sort = ("id", False)  # the order of the plan as entered or imported
    column_select_related_list = [m.Event.school, m.Event.partner, m.Event.audience, m.Event.responsible]
    column_formatters = {"responsible": _responsible, "months_mask": _months}
    column_formatters_export = {"responsible": lambda v, c, e, n: ", ".join(_responsible_names(e))}
    # The school a select while few (a partner's, the schools it has agreements with), else a look-up.
    form_ajax_refs = ajax_lookups("school", "partner", "programme")
    form_columns = [
        *("school", "partner", "programme", "number", "title", "section", "kind", "level", "audience"),
        *("grades", "responsible", "responsible_other", "fgos_results", "timing_text", "manual_months"),
        *("first_year", "last_year", "description"),
    ]
    # The months by name (see _months), under the label of the column that keeps them.
    column_details_list = [name if name != "manual_months" else "months_mask" for name in form_columns]
    form_extra_fields = {
        "manual_months": SelectMultipleField(
            _l("Months, when the timing cannot be read"),
            # Named when the form is made, in the interface's language.
            choices=lambda: [(month, month_name(month)) for month in ACADEMIC_MONTHS],
            coerce=int,
            description=_l("Used only for a timing the site could not read; it is never guessed."),
        )
    }
    form_args = {
        "school": {"validators": [LinksOfThisSchool("programme")]},
        "number": {"validators": [Optional(), NumberRange(min=1, max=10_000)]},
        "first_year": OPTIONAL_YEAR,
        "last_year": {"validators": [*OPTIONAL_YEAR["validators"], NotBefore("first_year")]},
    }
    column_descriptions = {
        "timing_text": _l("As written in the plan: «ноябрь - апрель», «октябрь, март», «в течение года»"),
    }

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        if obj is not None and not obj.timing_recognized and request.method == "GET":
            form.manual_months.data = list(obj.months)
        return form

    def on_model_change(self, form: Any, event: m.Event, is_created: bool) -> None:
        super().on_model_change(form, event, is_created)
        timing = event.set_timing(event.timing_text or "", tuple(form.manual_months.data or ()))
        years = [year for year in (timing.first_year, timing.last_year) if year is not None]
        if any(not YEAR.min <= year <= YEAR.max for year in years):
            raise ValidationError(
                gettext(
                    "The timing «%(text)s» names years outside %(min)d–%(max)d.",
                    text=timing.text,
                    min=YEAR.min,
                    max=YEAR.max,
                )
            )
        if not timing.recognized and not form.manual_months.data:
            flash(
                gettext("The timing «%(text)s» could not be read: set the months by hand.", text=timing.text),
                "warning",
            )
        if event.programme is not None:
            event.first_year = event.first_year or event.programme.first_year
            event.last_year = event.last_year or event.programme.last_year - 1


class EventExecutionView(SecuredModelView):
    attachments = True  # the signed document, evidence, minutes: see coop/uploads.py
    column_list = [
        "school",
        "event",
        "year",
        "status",
        "held_on",
        "students_count",
        "teachers_count",
        "parents_count",
    ]
    column_filters = ["year", "status", "held_on", school_filter(m.EventExecution.school_id)]
    column_sortable_list = ["year", "status", "held_on"]
    column_select_related_list = [m.EventExecution.school, m.EventExecution.event]
    form_ajax_refs = ajax_lookups("event")
    form_columns = [
        "event",
        "year",
        "status",
        "held_on",
        "held_until",
        "students_count",
        "students_grades",
        "teachers_count",
        "parents_count",
        "results",
        "evidence_url",
        "evidence_file",
    ]
    # A file chosen on the form is kept with the record, in the same transaction (see
    # on_model_change); more are attached on its details page.
    form_extra_fields = {
        "evidence_file": FileField(
            _l("Evidence (file)"), validators=[uploads.CheckedFile()], description=FILE_HINT
        )
    }
    form_args = {
        "year": REQUIRED_YEAR,
        "held_until": {"validators": [NotBefore("held_on")]},
        **dict.fromkeys(("students_count", "teachers_count", "parents_count"), REQUIRED_COUNT),
    }

    def on_model_change(self, form: Any, record: m.EventExecution, is_created: bool) -> None:
        super().on_model_change(form, record, is_created)
        upload = uploads.chosen(form.evidence_file.data)
        if upload is not None:
            db.session.flush()  # the file is kept under the record's id
            uploads.store(upload, record)


REVIEW_COUNT_CAP = 999  # a region has thousands submitted: count no further than the menu shows


def awaiting_review() -> int:
    """Events awaiting approval that the user may see, counted up to REVIEW_COUNT_CAP + 1,
    once per request (the menu shows its label more than once)."""
    if "awaiting_review" not in g:
        submitted = select(m.Event.id).where(workflow.REVIEW.holds(m.Event)).limit(REVIEW_COUNT_CAP + 1)
        # The partners' reports of a year's outcome wait in the same queue (coop/confirmations.py).
        reported = (
            select(m.EventExecution.id)
            .where(m.EventExecution.status == workflow.REPORTED)
            .limit(REVIEW_COUNT_CAP + 1)
        )
        g.awaiting_review = db.session.execute(
            select(
                select(func.count()).select_from(submitted.subquery()).scalar_subquery()
                + select(func.count()).select_from(reported.subquery()).scalar_subquery()
            )
        ).scalar_one()
    return g.awaiting_review


class ReviewMenuName:
    """The menu label with the number of events awaiting approval, counted per request."""

    def __str__(self) -> str:
        count = 0
        if current_user.is_authenticated and access.can(current_user, workflow.REVIEW.permission):
            count = awaiting_review()
        if count > REVIEW_COUNT_CAP:
            return gettext("Awaiting approval (%(count)d+)", count=REVIEW_COUNT_CAP)
        return gettext("Awaiting approval (%(count)d)", count=count)

    def __html__(self) -> str:
        return str(self)


class ReviewView(SecuredView):
    """The school's queue: events partners submitted, to approve or return, and what
    partners reported of a year's outcome by a link, to confirm or reject."""

    permission = workflow.REVIEW.permission

    @expose("/")
    def index(self) -> str:
        # The partner in the same statement; the transitions are decided in Python
        # (workflow.available asks the policy, which needs no query for these rules).
        events = (
            db.session.execute(
                select(m.Event)
                .where(workflow.REVIEW.holds(m.Event))
                .options(joinedload(m.Event.partner))
                .order_by(m.Event.updated_at)
                .limit(200)
            )
            .scalars()
            .all()
        )
        return self.render(
            "coop/review.html",
            events=events,
            transitions={event.id: workflow.available(current_user, event) for event in events},
            reports=confirmations.waiting(),
        )

    @expose("/report/", methods=("POST",))
    def report(self) -> Any:
        """Confirm or reject a partner's report of a year's outcome."""
        record = db.session.execute(
            select(m.EventExecution).where(m.EventExecution.id == parse_id(request.args.get("id")))
        ).scalar_one_or_none()
        if record is None:
            abort(404)
        try:
            message = confirmations.decide(
                current_user, record, request.form.get("decision", ""), request.form.get("comment", "")
            )
            db.session.commit()
        except (confirmations.ConfirmationError, workflow.WorkflowError) as refused:
            db.session.rollback()
            flash(str(refused), "error")
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            message = gettext("Someone else has changed this record meanwhile. Reload it and try again.")
            flash(message, "error")
        else:
            flash(message, "success")
        return redirect(url_for(".index"))


VIEWS = [
    (EventView, m.Event, _l("Events")),
    (EventExecutionView, m.EventExecution, _l("Execution by year")),
]
PAGES = [(ReviewView, "review", ReviewMenuName())]
