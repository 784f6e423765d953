"""What became of a plan line each academic year: the short forms that record it
(«Отметить проведённым», «Не проведено») and the events list's filters by year.

The rule (who may, in which state) is the EVENT workflow's outcomes in coop/workflow.py
and its permission in coop/access.py; `workflow.record` writes the year's record. The
line's state in a year is derived from its records (coop/plan_io/plan.py state_in_year).
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from flask import abort, flash, g, has_request_context, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import CombinedMultiDict
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import access, confirmations, labels, uploads, workflow
from .. import models as m
from ..extensions import db
from ..plan_io.plan import APPROVAL, COUNTED, YEAR_STATES, plan_years, runs_in_year, state_in_year
from ..request_cache import request_cache
from ..timing import ACADEMIC_YEARS, academic_year_bounds, academic_year_label, academic_year_of
from .base import AdminForm
from .validators import COUNT, NotBefore

# --- the forms ---------------------------------------------------------------------------


def _column_length(name: str) -> Length:
    """At most what the record's column holds."""
    column_type: Any = m.EventExecution.__table__.c[name].type
    return Length(max=column_type.length)


def _label(name: str) -> Any:
    return labels.lazy_label(m.EventExecution, name)


class _WithinTheYear:
    """A date within the academic year chosen on the form, and not after today."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is None or form.year.data is None:
            return
        first, last = academic_year_bounds(form.year.data)
        if not first <= field.data <= last:
            raise ValidationError(
                gettext(
                    "The date must fall within the academic year %(year)s (%(first)s – %(last)s).",
                    year=academic_year_label(form.year.data),
                    first=first.strftime("%d.%m.%Y"),
                    last=last.strftime("%d.%m.%Y"),
                )
            )
        if field.data > dt.date.today():
            raise ValidationError(gettext("The date is still to come: record what was held."))


class _WebLink:
    """An address a browser opens: http:// or https://."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError(gettext("A link starts with http:// or https://."))


def _count(name: str) -> IntegerField:
    return IntegerField(_label(name), default=0, validators=[Optional(), COUNT])


FILE_HINT = _l("PDF, Word (.docx), Excel (.xlsx), PNG or JPEG, up to 20 MB.")
# The browser's date input sends ISO; a date typed by hand is read the Russian way too.
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


class OutcomeForm(AdminForm):
    year = SelectField(_l("Academic year"), coerce=int, validate_choice=True)


class HeldForm(OutcomeForm):
    held_on = DateField(
        _label("held_on"), format=DATE_FORMATS, validators=[InputRequired(), _WithinTheYear()]
    )
    held_until = DateField(
        _label("held_until"),
        format=DATE_FORMATS,
        validators=[Optional(), NotBefore("held_on"), _WithinTheYear()],
        description=_l("For an event of several days: its last day."),
    )
    students_count = _count("students_count")
    students_grades = StringField(
        _label("students_grades"),
        validators=[_column_length("students_grades")],
        description=_l("For example: 5–7, 9"),
    )
    teachers_count = _count("teachers_count")
    parents_count = _count("parents_count")
    results = TextAreaField(_label("results"), validators=[Length(max=10_000)])
    evidence_file = FileField(
        _l("Evidence (file)"), validators=[uploads.CheckedFile()], description=FILE_HINT
    )
    evidence_url = StringField(
        _label("evidence_url"), validators=[_column_length("evidence_url"), _WebLink()]
    )


class NotHeldForm(OutcomeForm):
    results = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=10_000)])


FORMS: dict[str, type[OutcomeForm]] = {"held": HeldForm, "not_held": NotHeldForm}


# --- the page ------------------------------------------------------------------------------


class YearlyOutcomes:
    """Mixed into the events' view: the record-an-outcome page, the year table of a line,
    and, when the list is filtered by an academic year, each line's state in that year."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        view: Any = self
        state = view.column_formatters.get("state")
        view.column_formatters = {**view.column_formatters, "state": partial(_with_year_state, state)}

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)  # type: ignore[misc]
        year = g.get(_YEAR_KEY)
        if year is not None and kwargs.get("execute", True) and rows and _reads_records():
            stmt = select(m.EventExecution.event_id, m.EventExecution.status).where(
                m.EventExecution.year == year, m.EventExecution.event_id.in_([row.id for row in rows])
            )
            request_cache(_YEAR_STATES_KEY).update(dict(db.session.execute(stmt).all()))
        return count, rows

    def year_records(self, event: m.Event) -> list[tuple[int, m.EventExecution | None]]:
        """Each academic year of the line with its record, if any (the table on the line's
        page, coop/event_details.html); [] for those who may not read the records."""
        if not access.can(current_user, "eventexecution.view"):
            return []
        records = {
            row.year: row
            for row in db.session.execute(
                select(m.EventExecution).where(m.EventExecution.event_id == event.id)
            ).scalars()
        }
        # A record kept for a year the line no longer spans is shown too: nothing recorded hides.
        return [(year, records.get(year)) for year in sorted({*workflow.line_years(event), *records})]

    def _apply_filters(self, query: Any, count_query: Any, joins: Any, count_joins: Any, filters: Any) -> Any:
        remember_filter_year(self, filters)
        return super()._apply_filters(query, count_query, joins, count_joins, filters)  # type: ignore[misc]

    def outcomes_for(self, event: m.Event) -> list[workflow.Outcome]:
        return workflow.outcomes_available(current_user, event)

    def partner_offers(
        self, event: m.Event, years: list[tuple[int, m.EventExecution | None]]
    ) -> tuple[dict[int, confirmations.YearOffer], str | None]:
        """What the year table offers to ask the line's partner, by year, and why nothing
        is offered when the line's partner cannot be asked (for whoever records outcomes)."""
        if not self.outcomes_for(event):
            return {}, None
        return confirmations.year_offers(current_user, event, years), confirmations.not_offered(event)

    @expose("/ask_partner/", methods=("POST",))
    def ask_partner_view(self) -> Any:
        """Send the line's partner a link to confirm the outcome of one year."""
        view: Any = self
        event = view.get_one(request.args.get("id", ""))
        if not self.outcomes_for(event):
            abort(403)
        year = request.form.get("year", "")
        try:
            if not year.isdigit() or len(year) != 4:
                raise confirmations.ConfirmationError(gettext("Choose an academic year of the event."))
            email = confirmations.ask(current_user, event, int(year))
            db.session.commit()
        except confirmations.ConfirmationError as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            flash(
                gettext(
                    "A link to confirm «%(event)s» in %(year)s has been sent to %(email)s; it is valid for "
                    "%(days)d days. The partner's answer will appear in the review queue.",
                    event=event.title,
                    year=academic_year_label(int(year)),
                    email=email,
                    days=confirmations.LIFETIME.days,
                ),
                "success",
            )
        return redirect(view.get_url(".details_view", id=event.id))

    def status_label(self, record: m.EventExecution | None) -> str:
        return labels.choice_label(m.EventExecution, "status", record.status if record else "planned")

    @expose("/outcome/", methods=("GET", "POST"))
    def outcome_view(self) -> Any:
        view: Any = self
        event = view.get_one(request.args.get("id", ""))
        outcome = workflow.find_outcome(event, request.args.get("outcome", ""))
        if outcome is None:
            abort(404)
        if outcome not in workflow.outcomes_available(current_user, event):
            abort(403)
        years = workflow.line_years(event)
        form = FORMS[outcome.name](
            CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None
        )
        form.year.choices = [(year, academic_year_label(year)) for year in years]
        if request.method == "GET":
            form.year.data = _chosen_year(years, request.args.get("year"), event)
            record = _record_of(event, form.year.data)
            if record is not None and record.status == outcome.status:
                form.process(None, obj=record, year=form.year.data)
        elif form.validate():
            error = self._write(event, outcome, form)
            if error is None:
                return redirect(view.landing(event, None))
        return view.render(
            "coop/outcome.html",
            event=event,
            outcome=outcome,
            form=form,
            return_url=view.get_url(".details_view", id=event.id),
        )

    def _write(self, event: m.Event, outcome: workflow.Outcome, form: Any) -> str | None:
        """Write the year's record (and its evidence file) in one transaction; on a refusal
        write nothing and put the reason on the form."""
        values = {name: form[name].data for name in workflow.RECORD_FIELDS if name in form}
        upload = uploads.chosen(form.evidence_file.data) if "evidence_file" in form else None
        try:
            record = workflow.record(current_user, event, outcome.name, form.year.data, values)
            if upload is not None:
                db.session.flush()  # the file is attached to the record's id
                uploads.store(upload, record)
            db.session.commit()
        except uploads.UploadError as error:
            db.session.rollback()
            form.evidence_file.errors = [*form.evidence_file.errors, str(error)]
            return str(error)
        except workflow.WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
            return str(error)
        except (IntegrityError, StaleDataError):  # the same year's record saved meanwhile
            db.session.rollback()
            message = gettext("Someone else has changed this record meanwhile. Reload it and try again.")
            flash(message, "error")
            return message
        flash(
            gettext(
                "Event «%(event)s»: %(status)s in %(year)s.",
                event=event,
                status=self.status_label(record).lower(),
                year=academic_year_label(record.year),
            ),
            "success",
        )
        return None


def _record_of(event: m.Event, year: int) -> m.EventExecution | None:
    stmt = select(m.EventExecution).filter_by(event_id=event.id, year=year)
    return db.session.execute(stmt).scalar_one_or_none()


def _chosen_year(years: list[int], asked: str | None, event: m.Event) -> int:
    """The year asked for, if it is one of the line's; else the latest year up to the
    current one that has no outcome recorded; else the line's first year."""
    if asked and asked.isdigit() and int(asked) in years:
        return int(asked)
    current = academic_year_of(dt.date.today())
    recorded = set(
        db.session.execute(
            select(m.EventExecution.year).where(
                m.EventExecution.event_id == event.id, m.EventExecution.status.in_(("held", "not_held"))
            )
        ).scalars()
    )
    open_years = [year for year in years if year <= current and year not in recorded]
    return open_years[-1] if open_years else years[0]


# --- the events list's filters -------------------------------------------------------------

_YEAR_KEY = "_coop_event_filter_year"
_YEAR_STATES_KEY = "_coop_event_year_states"


def year_state(event: m.Event, recorded: str | None) -> str:
    """The Python twin of state_in_year: the line's state in a year whose record (if any)
    has status `recorded`."""
    if recorded in COUNTED:
        return recorded
    return "planned" if event.state == "approved" else event.state


def _with_year_state(state_formatter: Any, view: Any, context: Any, event: m.Event, name: str) -> Any:
    """The line's state, and under it its state in the academic year the list is filtered by."""
    shown = state_formatter(view, context, event, name) if state_formatter else view.state_label(event)
    year = g.get(_YEAR_KEY)
    if year is None or not _reads_records():
        return shown
    state = year_state(event, g.get(_YEAR_STATES_KEY, {}).get(event.id))
    return Markup('{}<div class="year-state year-state-{} small">{}: {}</div>').format(
        shown, state, academic_year_label(year), YEAR_STATES[state]
    )


def _year_options() -> list[tuple[int, str]]:
    if not has_request_context():  # Flask-Admin also asks at start-up, for nobody
        return []
    return [(year, academic_year_label(year)) for year in plan_years()]


class AcademicYearFilter(BaseSQLAFilter):
    """Plan lines that run in the academic year chosen, shown as «2019/2020»."""

    def __init__(self) -> None:
        super().__init__(m.Event.first_year, _l("Academic year"), options=_year_options)

    def validate(self, value: str) -> bool:
        return value.isdigit() and int(value) in ACADEMIC_YEARS

    def clean(self, value: str) -> int:
        return int(value)

    def apply(self, query: Any, value: int, alias: Any = None) -> Any:
        return query.filter(runs_in_year(value))

    def operation(self) -> Any:
        return _l("equals")


class StateInYearFilter(BaseSQLAFilter):
    """The line's state in the year chosen by AcademicYearFilter (in any of its years when
    none is), as its records say: see coop/plan_io/plan.py state_in_year. Whoever may not
    read the records chooses among the approval states only."""

    def __init__(self) -> None:
        super().__init__(m.Event.state, _l("State in the academic year"), options=_state_options)

    def validate(self, value: str) -> bool:
        return value in dict(_state_options())

    def apply(self, query: Any, value: str, alias: Any = None) -> Any:
        return query.filter(state_in_year(value, g.get(_YEAR_KEY)))

    def operation(self) -> Any:
        return _l("equals")


def _reads_records() -> bool:
    return has_request_context() and access.can(current_user, "eventexecution.view")


def _state_options() -> list[tuple[str, Any]]:
    if not has_request_context():  # Flask-Admin also asks at start-up, for nobody
        return []
    return [
        (code, label)
        for code, label in YEAR_STATES.items()
        if _reads_records() or code in (*APPROVAL, "cancelled")
    ]


def year_filters() -> list[BaseSQLAFilter]:
    """The filters by academic year and the state in it, for EventView.column_filters."""
    return [AcademicYearFilter(), StateInYearFilter()]


def remember_filter_year(view: Any, filters: Any) -> None:
    """Before the filters apply: the year AcademicYearFilter chose, for StateInYearFilter
    (Flask-Admin applies each filter alone)."""
    g.pop(_YEAR_KEY, None)
    for index, _name, value in filters or ():
        flt = view._filters[index]
        if isinstance(flt, AcademicYearFilter) and flt.validate(value):
            g.setdefault(_YEAR_KEY, flt.clean(value))
