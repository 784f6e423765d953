"""The municipality's data requests (coop/data_requests.py): the coordinator writes a request
and its questions in generated forms (DataRequestView, DataRequestQuestionView), sends it,
and follows it on its board; a school answers on its answer form. The board and the form
are custom pages (DESIGN.md), on the secured base and the policy like every page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload
from wtforms.validators import InputRequired, NumberRange, Optional

from .. import access, added_fields, data_requests, labels, request_figures, workflow
from .. import models as m
from ..extensions import db
from ..plan_io.export import FORMATS
from ..timing import academic_year_label
from .base import AdminForm, SecuredModelView, SecuredView
from .loading import AJAX_LOOKUPS, LOOKUP_PLACEHOLDER


class _Hidden:
    """A generated view reached from the data requests' page, not from the menu."""

    def is_visible(self) -> bool:
        return False


class DataRequestView(_Hidden, SecuredModelView):
    column_list = ["title", "year", "deadline", "addressees"]
    column_searchable_list = ["title"]
    column_sortable_list = ["title", "year", "deadline"]
    column_default_sort = ("deadline", True)
    column_filters = ["year", "addressees", "deadline"]
    form_columns = ["title", "explanation", "year", "deadline", "addressees", "schools"]
    column_details_list = [*form_columns, "questions"]
    form_ajax_refs = {"schools": {"placeholder": LOOKUP_PLACEHOLDER, **AJAX_LOOKUPS["school"]}}
    form_args = {
        "title": {"validators": [InputRequired()]},
        "year": {"validators": [InputRequired()]},
        "deadline": {"validators": [InputRequired()]},
        "schools": {"description": _l("For «Chosen schools» only.")},
    }

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        # A new request goes on with its questions: its board lists them.
        return url_for("datarequests.board", id=model.id)


class DataRequestQuestionView(_Hidden, SecuredModelView):
    column_list = ["request", "sort_order", "label", "kind", "required", "prefill"]
    column_searchable_list = ["label"]
    column_sortable_list = ["sort_order", "label"]
    column_default_sort = "sort_order"
    column_filters = ["kind", "prefill"]
    column_select_related_list = [m.DataRequestQuestion.request]
    # The requests grow year by year: a look-up, the latest listed without typing.
    form_ajax_refs = {
        "request": {"placeholder": LOOKUP_PLACEHOLDER, "fields": ["title"], "page_size": 20}
        | {"minimum_input_length": 0}
    }
    # No figure: nothing shown (not the code's None).
    column_formatters = {
        "prefill": lambda v, c, row, n: labels.choice_label(m.DataRequestQuestion, "prefill", row.prefill)
    }
    column_formatters_export = column_formatters
    form_columns = [
        "request",
        "label",
        "kind",
        "choice_list",
        "required",
        "help_text",
        "sort_order",
        "prefill",
    ]
    column_details_list = form_columns
    form_args = {
        "request": {"validators": [InputRequired()]},
        "label": {"validators": [InputRequired()]},
        "kind": {"validators": [InputRequired()]},
        "choice_list": {"description": _l("For the kinds «One of a list» and «Several of a list».")},
        "sort_order": {"validators": [InputRequired(), NumberRange(min=0, max=100_000)]},
        "prefill": {
            "validators": [Optional()],
            "description": _l(
                "The school's answer starts from this figure of Coop's data for the request's year; "
                "the school may correct it."
            ),
        },
    }

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        # «Add a question» on a request's board names the request.
        if request.method == "GET" and request.args.get("request", "").isdigit():
            found = db.session.get(m.DataRequest, int(request.args["request"]))
            if found is not None:
                form.request.data = found
        return form

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        return url_for("datarequests.board", id=model.request_id)


CHART_SCHOOLS = 30  # bars a chart of a number question draws: the schools with the most
LABEL_CHARS = 26  # as the dashboard's charts cut a label


@dataclass(frozen=True)
class ValueBar:
    label: str
    short_label: str
    value: str  # as shown
    y: int
    width: float


@dataclass(frozen=True)
class ValueChart:
    """A horizontal bar chart of a number question's values across the schools (inline SVG,
    drawn as the dashboard's charts are: coop/static/dashboard.css)."""

    title: str
    bars: tuple[ValueBar, ...]
    schools: int  # that gave a value
    width: int = 480
    label_width: int = 220
    bar_space: int = 200
    row_height: int = 22

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * self.row_height + 4


def number_charts(table: data_requests.Consolidated) -> list[ValueChart]:
    """One chart per number question: the delivered values, the largest first."""
    charts = []
    for question in table.questions:
        if not added_fields.KINDS[question.kind].number:
            continue
        given = sorted(
            (
                (value, str(row.school))
                for row in table.board.rows
                if isinstance(value := table.value(row, question), int | float)
                and not isinstance(value, bool)
            ),
            key=lambda pair: (-pair[0], pair[1]),
        )
        most = max((abs(value) for value, _school in given), default=0) or 1
        bars = tuple(
            ValueBar(
                label=f"{school}: {data_requests.shown(question, value)}",
                short_label=school if len(school) <= LABEL_CHARS else school[: LABEL_CHARS - 1] + "…",
                value=data_requests.shown(question, value),
                y=index * ValueChart.row_height + 2,
                width=round(ValueChart.bar_space * abs(value) / most, 1),
            )
            for index, (value, school) in enumerate(given[:CHART_SCHOOLS])
        )
        charts.append(ValueChart(question.label, bars, len(given)))
    return charts


def _request_or_404(request_id: Any) -> m.DataRequest:
    """The request the user may see (the policy scopes the load), or 404."""
    try:
        found = db.session.execute(
            select(m.DataRequest)
            .where(m.DataRequest.id == int(request_id))
            .options(selectinload(m.DataRequest.questions).joinedload(m.DataRequestQuestion.choice_list))
        ).scalar_one_or_none()
    except (TypeError, ValueError):
        found = None
    if found is None:
        abort(404)
    return found


def _posted(questions: list[m.DataRequestQuestion]) -> dict[int, Any]:
    """The values posted for the questions, as typed (data_requests.write reads them)."""
    posted: dict[int, Any] = {}
    for question in questions:
        name = f"q{question.id}"
        if question.kind == "boolean":
            posted[question.id] = "да" if request.form.get(name) else "нет"
        elif question.kind == "choices":
            posted[question.id] = request.form.getlist(name)
        elif name in request.form:
            posted[question.id] = request.form.get(name, "")
    return posted


def _answer_form(questions: list[m.DataRequestQuestion], values: dict[int, Any], formdata: Any) -> Any:
    """A form of the questions, each as its kind asks (added_fields.KINDS), filled with
    `values` (or, after a refusal, with what was posted)."""
    fields = {}
    for question in questions:
        definition = cast(m.FieldDefinition, question)  # a question has what a field's form reads
        fields[f"q{question.id}"] = added_fields.KINDS[question.kind].form_field(
            definition, label=question.label, description=question.help_text, validators=[Optional()]
        )
    form_class = type("AnswerForm", (AdminForm,), fields)
    data = {
        f"q{q.id}": added_fields.form_data(cast(m.FieldDefinition, q), values.get(q.id)) for q in questions
    }
    return form_class(formdata, **data)


class DataRequestsView(SecuredView):
    permission = "datarequest.view"

    @expose("/")
    def index(self) -> str:
        requests = list(
            db.session.execute(
                select(m.DataRequest).order_by(m.DataRequest.deadline.desc(), m.DataRequest.id.desc())
            ).scalars()
        )
        today = data_requests.today()
        if access.role_of(current_user) == access.SCHOOL:
            answers = {
                a.request_id: a.state for a in db.session.execute(select(m.DataRequestAnswer)).scalars()
            }
            rows = [(r, data_requests.shown_state(r, answers.get(r.id), today)) for r in requests]
            return self.render("coop/data_requests.html", rows=rows, states=data_requests.SHOWN_STATES)
        counts = self._counts([r.id for r in requests])
        return self.render(
            "coop/data_requests.html",
            requests=requests,
            counts=counts,
            may_create=access.can(current_user, "datarequest.create"),
        )

    def _counts(self, request_ids: list[int]) -> dict[int, tuple[int, int]]:
        """Per request: the schools it goes to, and how many of them have submitted."""
        if not request_ids:
            return {}
        answer = m.DataRequestAnswer
        delivered = answer.state.in_(sorted(data_requests.DELIVERED))
        stmt = (
            select(m.DataRequest.id, func.count(m.School.id), func.count(answer.id))
            .select_from(m.DataRequest)
            .join(m.School, m.DataRequest.addressed(m.DataRequest, m.School.id))
            .outerjoin(
                answer,
                and_(answer.request_id == m.DataRequest.id, answer.school_id == m.School.id, delivered),
            )
            .where(m.DataRequest.id.in_(request_ids))
            .group_by(m.DataRequest.id)
        )
        return {row_id: (schools, submitted) for row_id, schools, submitted in db.session.execute(stmt)}

    @expose("/board/")
    def board(self) -> str:
        if not access.can(current_user, "datarequestanswer.review"):
            abort(403)
        found = _request_or_404(request.args.get("id"))
        table = data_requests.consolidated(found)
        return self.render(
            "coop/data_request_board.html",
            request_row=found,
            board=table.board,
            charts=number_charts(table),
            chart_schools=CHART_SCHOOLS,
            states=data_requests.SHOWN_STATES,
            figure_label=request_figures.label,
            may_edit=access.can(current_user, "datarequest.edit", found),
            may_copy=access.can(current_user, "datarequest.create"),
            addressees=m.DATA_REQUEST_ADDRESSEES,
            kinds=m.FIELD_KINDS,
        )

    @expose("/copy/", methods=("POST",))
    def copy(self) -> Any:
        """The request copied to the next academic year: its board."""
        found = _request_or_404(request.form.get("id"))
        if not access.can(current_user, "datarequest.create"):
            abort(403)
        copy = data_requests.copy_to_next_year(found)
        db.session.commit()
        flash(gettext("Copied to %(year)s.", year=academic_year_label(copy.year)), "success")
        return redirect(url_for(".board", id=copy.id))

    @expose("/compare/")
    def compare(self) -> str:
        """A school's answers to the request year on year."""
        if not access.can(current_user, "datarequestanswer.review"):
            abort(403)
        found = _request_or_404(request.args.get("id"))
        school_id = self._school_id()
        school = db.session.get(m.School, school_id)
        if school is None or not data_requests.goes_to(found, school_id):
            abort(404)
        return self.render(
            "coop/data_request_compare.html",
            request_row=found,
            school=school,
            comparison=data_requests.compare(found, school_id),
            value_shown=data_requests.shown,
        )

    @expose("/export/")
    def export(self) -> Response:
        """The consolidated table of the answers (.xlsx)."""
        if not access.can(current_user, "datarequestanswer.review"):
            abort(403)
        found = _request_or_404(request.args.get("id"))
        return Response(
            data_requests.to_xlsx(data_requests.consolidated(found)),
            mimetype=FORMATS["xlsx"].mimetype,
            headers={"Content-Disposition": f"attachment; filename=data-request-{found.id}.xlsx"},
        )

    @expose("/answer/", methods=("GET", "POST"))
    def answer(self) -> Any:
        found = _request_or_404(request.args.get("id"))
        school_id = self._school_id()
        if not data_requests.goes_to(found, school_id):
            abort(404)
        answer = data_requests.answer_of(found, school_id)
        questions = list(found.questions)
        computed = data_requests.prefilled(found, [school_id]).get(school_id, {})
        state = answer.state if answer is not None else data_requests.NOT_STARTED
        may_write = (
            access.role_of(current_user) in (access.SCHOOL, access.ADMIN)
            and access.can(
                current_user,
                "datarequestanswer.answer",
                m.DataRequestAnswer(request_id=found.id, school_id=school_id),
            )
            and state in workflow.DATA_REQUEST_ANSWER.proposer_rights
        )
        formdata = None
        if request.method == "POST":
            if not may_write:
                abort(403)
            submit = request.form.get("action") == "submit"
            try:
                data_requests.write(current_user, found, school_id, _posted(questions), submit=submit)
                db.session.commit()
            except (data_requests.AnswerError, workflow.WorkflowError) as error:
                db.session.rollback()
                flash(str(error), "error")
                formdata = request.form
                found = _request_or_404(found.id)
                questions = list(found.questions)
                answer = data_requests.answer_of(found, school_id)
            else:
                flash(
                    gettext("The answer is submitted.") if submit else gettext("The draft is saved."),
                    "success",
                )
                return redirect(url_for(".answer", id=found.id, school=school_id))
        values = {
            q.id: data_requests.value_of(answer, q)
            if data_requests.value_of(answer, q) is not None
            else computed.get(q.id)
            for q in questions
        }
        form = _answer_form(questions, values, formdata)
        shown = data_requests.shown_state(found, state)
        return self.render(
            "coop/data_request_answer.html",
            request_row=found,
            answer=answer,
            questions=questions,
            form=form,
            computed=computed,
            entries=(answer.values or {}) if answer is not None else {},
            shown=shown,
            state_label=data_requests.SHOWN_STATES[shown],
            may_write=may_write,
            decisions=workflow.available(current_user, answer) if answer is not None else [],
            figure_label=request_figures.label,
            value_shown=data_requests.shown,
            # Named for the coordinator and the admin (a school knows whose answer it is).
            school=None
            if access.role_of(current_user) == access.SCHOOL
            else db.session.get(m.School, school_id),
            back_url=url_for(".index")
            if access.role_of(current_user) == access.SCHOOL
            else url_for(".board", id=found.id),
        ), (400 if formdata is not None else 200)

    def _school_id(self) -> int:
        """The school whose answer is asked for: a school's user its own; the coordinator and
        the admin name it (?school=)."""
        if access.role_of(current_user) == access.SCHOOL:
            return cast(int, current_user.school_id)
        try:
            return int(request.args.get("school", ""))
        except ValueError:
            abort(404)

    @expose("/decide/", methods=("POST",))
    def decide(self) -> Any:
        try:
            answer_id = int(request.form.get("id", ""))
        except ValueError:
            abort(404)
        answer = db.session.get(m.DataRequestAnswer, answer_id)
        if answer is None:
            abort(404)
        try:
            data_requests.decide(
                current_user, answer, request.form.get("transition", ""), request.form.get("comment", "")
            )
            db.session.commit()
        except workflow.WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(gettext("Done: «%(state)s».", state=data_requests.SHOWN_STATES[answer.state]), "success")
        return redirect(url_for(".answer", id=answer.request_id, school=answer.school_id))


def open_requests() -> list[tuple[m.DataRequest, str]]:
    """The signed-in school's requests still to answer, nearest deadline first, with the
    state its answer shows: one statement (the home page lists them)."""
    if access.role_of(current_user) != access.SCHOOL:
        return []
    answer = m.DataRequestAnswer
    stmt = (
        select(m.DataRequest, answer.state)
        .outerjoin(
            answer, and_(answer.request_id == m.DataRequest.id, answer.school_id == current_user.school_id)
        )
        .where(answer.state.is_(None) | answer.state.not_in(sorted(data_requests.DELIVERED)))
        .order_by(m.DataRequest.deadline, m.DataRequest.id)
    )
    today = dt.date.today()
    return [(row, data_requests.shown_state(row, state, today)) for row, state in db.session.execute(stmt)]


# Under «Контроль»: the coordinator's requests and boards, a school's requests to answer.
PAGES = [(DataRequestsView, "datarequests", _l("Data requests"))]
VIEWS = [
    (DataRequestView, m.DataRequest, _l("Data requests")),
    (DataRequestQuestionView, m.DataRequestQuestion, _l("Questions of data requests")),
]
