"""The municipality's data requests (запросы данных): the coordinator asks the schools
for figures, each school answers, the coordinator accepts or returns each answer.

The tables are coop/models.py's (DataRequest, DataRequestQuestion, DataRequestAnswer);
who sees and does what is coop/access.py's; the answer's states and transitions are
coop/workflow.py's DATA_REQUEST_ANSWER; a question's kind of value is one of the
low-code kinds (coop/added_fields.py KINDS), read and shown as an added field's is.
This module holds what is the requests' own: whom a request goes to, the answer as a
school writes it, and the state a board shows ("overdue" is derived, never stored).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from . import added_fields, formats, request_figures, workflow
from . import models as m
from .extensions import db
from .plan_io.xlsx_out import safe_cell
from .timing import academic_year_label

OVERDUE = "overdue"
# What a board shows of a school's answer: its state, or overdue (a derived one).
SHOWN_STATES: dict[str, Any] = {**m.DATA_REQUEST_ANSWER_STATES, OVERDUE: _l("Overdue")}
# An answer in these states has reached the coordinator: it is not overdue.
DELIVERED = frozenset({"submitted", "accepted"})
NOT_STARTED = "not_started"
HEADER_ROW = 4  # of the consolidated table (to_xlsx)
LINE_CHARS = 16  # characters a line of its question's column holds, about (width 22)


class AnswerError(ValueError):
    """An answer that cannot be written; str() is the message for the user, in Russian."""


def today() -> dt.date:
    return dt.date.today()


def shown_state(request: m.DataRequest, state: str | None, on: dt.date | None = None) -> str:
    """The state a board shows for an answer in `state` (None: no answer yet): overdue when
    the deadline has passed and the answer has not been submitted."""
    state = state or NOT_STARTED
    if state not in DELIVERED and request.deadline < (on or today()):
        return OVERDUE
    return state


def addressed_school_ids(request: m.DataRequest) -> list[int]:
    """The schools the request goes to (models.DataRequest.addressed), by name."""
    return list(db.session.execute(_addressed_schools(request, m.School.id)).scalars())


def _addressed_schools(request: m.DataRequest, *columns: Any) -> Any:
    """The statement of the schools the request goes to, by name."""
    return (
        select(*columns)
        .join(m.DataRequest, m.DataRequest.id == request.id)
        .where(m.DataRequest.addressed(m.DataRequest, m.School.id))
        .order_by(m.School.short_name, m.School.id)
    )


def goes_to(request: m.DataRequest, school_id: int) -> bool:
    """Whether the request goes to the school."""
    return (
        db.session.execute(_addressed_schools(request, m.School.id).where(m.School.id == school_id)).first()
        is not None
    )


def answer_of(request: m.DataRequest, school_id: int) -> m.DataRequestAnswer | None:
    stmt = select(m.DataRequestAnswer).filter_by(request_id=request.id, school_id=school_id)
    return db.session.execute(stmt).scalar_one_or_none()


def question_key(question: m.DataRequestQuestion) -> str:
    """A question's key in an answer's values: its id, as text (JSON's keys are text)."""
    return str(question.id)


def _read(question: m.DataRequestQuestion, value: Any) -> Any:
    """The value kept for question from what was posted; AnswerError naming it. A question
    has what added_fields.read reads of a field: its label, kind and choice list."""
    try:
        return added_fields.read(cast(m.FieldDefinition, question), value)
    except added_fields.FieldValueError as error:
        raise AnswerError(str(error)) from None


def shown(question: m.DataRequestQuestion, value: Any) -> str:
    """A kept value as a page shows it ("" for none)."""
    return added_fields.shown(cast(m.FieldDefinition, question), value)


def is_corrected(answer: m.DataRequestAnswer | None, question: m.DataRequestQuestion) -> bool:
    """Whether the school's value of a prefilled question differs from what Coop counted."""
    entry = (answer.values or {}).get(question_key(question), {}) if answer is not None else {}
    return "computed" in entry and entry.get("value") != entry["computed"]


def value_of(answer: m.DataRequestAnswer | None, question: m.DataRequestQuestion) -> Any:
    """The school's value for question (its correction of a prefilled one), None if none."""
    if answer is None:
        return None
    return (answer.values or {}).get(question_key(question), {}).get("value")


# --- prefilled questions ---------------------------------------------------------------------


def prefilled(request: m.DataRequest, school_ids: Sequence[int]) -> dict[int, dict[int, Any]]:
    """What Coop counts for each prefilled question of the request, school by school:
    school → question id → value (coop/request_figures.py; two statements for all)."""
    questions = [q for q in request.questions if q.prefill in request_figures.FIGURES]
    found = request_figures.computed(request.year, school_ids, [q.prefill or "" for q in questions])
    return {
        school_id: {q.id: by_name.get(q.prefill or "") for q in questions}
        for school_id, by_name in found.items()
    }


def prefill_all(request: m.DataRequest) -> dict[int, dict[int, Any]]:
    """The prefilled values of every school the request goes to."""
    return prefilled(request, addressed_school_ids(request))


def _values(
    request: m.DataRequest,
    before: Mapping[str, Any],
    posted: Mapping[int, Any],
    submitting: bool,
    computed: Mapping[int, Any] | None = None,
) -> dict[str, Any]:
    """The answer's values with those posted (by question id) read in; every question not
    posted keeps what it had. A prefilled question keeps, beside the school's value, the
    value Coop counted (`computed`, by question id) and the figure's name: the school's
    correction never overwrites it. Submitting, every required question must have a value."""
    values = {key: dict(entry) for key, entry in before.items()}
    errors = []
    for question in request.questions:
        key = question_key(question)
        entry = values.setdefault(key, {})
        if computed is not None and question.id in computed:
            entry["computed"], entry["source"] = computed[question.id], question.prefill
            if question.id not in posted and "value" not in entry and computed[question.id] is not None:
                entry["value"] = computed[question.id]
        if question.id in posted:
            try:
                kept = _read(question, posted[question.id])
            except AnswerError as error:
                errors.append(str(error))
                continue
            entry["value"] = kept
        if submitting and question.required and entry.get("value") in (None, "", []):
            errors.append(gettext("«%(question)s»: an answer is required", question=question.label))
    if errors:
        raise AnswerError("; ".join(errors))
    return {key: entry for key, entry in values.items() if entry}


def write(
    user: Any, request: m.DataRequest, school_id: int, posted: Mapping[int, Any], submit: bool = False
) -> m.DataRequestAnswer:
    """The school's answer to request with the values posted (by question id), saved as a
    draft or submitted; the caller commits. AnswerError (nothing written) if a value does
    not fit, a required one is missing on submitting, or the answer's state does not let
    the user change it; workflow.WorkflowError if the user may not answer at all."""
    answer = answer_of(request, school_id)
    state = answer.state if answer is not None else NOT_STARTED
    flow = workflow.DATA_REQUEST_ANSWER
    if state not in flow.proposer_rights:
        raise AnswerError(
            gettext(
                "The answer is «%(state)s»: it can no longer be changed.", state=flow.states.get(state, state)
            )
        )
    computed = prefilled(request, [school_id]).get(school_id, {})
    values = _values(
        request, answer.values if answer is not None else {}, posted, submitting=submit, computed=computed
    )
    if answer is None:
        answer = m.DataRequestAnswer(request_id=request.id, school_id=school_id, state=NOT_STARTED, values={})
    name = "submit" if submit else ("save" if state != "draft" else None)
    if name is not None:
        workflow.fire(user, answer, name)
    if answer.id is None:
        db.session.add(answer)
    answer.values = values
    if submit:
        answer.submitted_at = m.utcnow()
    return answer


def decide(user: Any, answer: m.DataRequestAnswer, name: str, comment: str = "") -> m.DataRequestAnswer:
    """The coordinator accepts the answer or returns it with a comment (workflow.fire:
    its rule, its permission, its history); the caller commits."""
    if name not in ("accept", "return"):
        raise workflow.WorkflowError(gettext("There is no such action."))
    workflow.fire(user, answer, name, comment)
    return answer


# --- over the years ----------------------------------------------------------------------------

QUESTION_FIELDS = ("label", "kind", "choice_list_id", "required", "help_text", "sort_order", "prefill")


def _next_year_date(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def copy_to_next_year(request: m.DataRequest) -> m.DataRequest:
    """A new request for the academic year after request's: its title (the year in it moved
    on), explanation, schools and questions, its deadline a year later, no answers; it names
    the request it was copied from (previous_id). The caller adds nothing; it commits."""
    old, new = academic_year_label(request.year), academic_year_label(request.year + 1)
    copy = m.DataRequest(
        title=request.title.replace(old, new) if old in request.title else f"{request.title} ({new})",
        explanation=request.explanation,
        year=request.year + 1,
        deadline=_next_year_date(request.deadline),
        addressees=request.addressees,
        previous_id=request.id,
    )
    copy.schools = list(request.schools)
    db.session.add(copy)
    for question in request.questions:
        db.session.add(
            m.DataRequestQuestion(request=copy, **{name: getattr(question, name) for name in QUESTION_FIELDS})
        )
    return copy


def years_of(request: m.DataRequest) -> list[m.DataRequest]:
    """The request and those it was copied from, year after year, the earliest first (those
    the user may see; a chain of at most 50)."""
    chain = [request]
    while chain[0].previous_id is not None and len(chain) < 50:
        earlier = db.session.get(m.DataRequest, chain[0].previous_id)
        if earlier is None or earlier in chain:
            break
        chain.insert(0, earlier)
    return chain


@dataclass(frozen=True)
class Comparison:
    """A school's delivered answers to the years of one request: per question (by its label,
    as a copy keeps it), the value of each year (None: none delivered, or no such question)."""

    years: list[m.DataRequest]
    rows: list[tuple[m.DataRequestQuestion, list[Any]]]


def compare(request: m.DataRequest, school_id: int) -> Comparison:
    """The school's answers to request and to the requests it was copied from."""
    years = years_of(request)
    answers = {
        a.request_id: a
        for a in db.session.execute(
            select(m.DataRequestAnswer).where(
                m.DataRequestAnswer.request_id.in_([r.id for r in years]),
                m.DataRequestAnswer.school_id == school_id,
                m.DataRequestAnswer.state.in_(sorted(DELIVERED)),
            )
        ).scalars()
    }
    rows = []
    for question in request.questions:
        values = []
        for year in years:
            same = next((q for q in year.questions if q.label == question.label), None)
            values.append(value_of(answers.get(year.id), same) if same is not None else None)
        rows.append((question, values))
    return Comparison(years, rows)


# --- the coordinator's board ---------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    school: m.School
    answer: m.DataRequestAnswer | None
    state: str  # a key of SHOWN_STATES

    @property
    def state_label(self) -> str:
        return str(SHOWN_STATES[self.state])


@dataclass(frozen=True)
class Board:
    request: m.DataRequest
    rows: list[BoardRow]

    @property
    def counts(self) -> dict[str, int]:
        """How many schools are in each shown state, every state named (0 too)."""
        found = Counter(row.state for row in self.rows)
        return {state: found.get(state, 0) for state in SHOWN_STATES}


def board(request: m.DataRequest, on: dt.date | None = None) -> Board:
    """Each school the request goes to, with its answer and its shown state: two statements."""
    schools = db.session.execute(_addressed_schools(request, m.School)).scalars()
    answers = {
        a.school_id: a
        for a in db.session.execute(select(m.DataRequestAnswer).filter_by(request_id=request.id)).scalars()
    }
    rows = []
    for school in schools:
        answer = answers.get(school.id)
        rows.append(BoardRow(school, answer, shown_state(request, answer.state if answer else None, on)))
    return Board(request, rows)


# --- the consolidated table -----------------------------------------------------------------


@dataclass(frozen=True)
class Consolidated:
    """The answers delivered (submitted or accepted) of every school the request goes to,
    a row per school and a column per question; totals and averages of the number ones."""

    board: Board
    questions: list[m.DataRequestQuestion]

    def value(self, row: BoardRow, question: m.DataRequestQuestion) -> Any:
        """The school's delivered value (None: none, or not delivered)."""
        if row.answer is None or row.answer.state not in DELIVERED:
            return None
        return value_of(row.answer, question)

    def computed(self, row: BoardRow, question: m.DataRequestQuestion) -> Any:
        """What Coop counted beside a corrected prefilled value (None: not corrected)."""
        if row.answer is None or row.answer.state not in DELIVERED or not is_corrected(row.answer, question):
            return None
        return (row.answer.values or {}).get(question_key(question), {}).get("computed")

    @cached_property
    def _numbers(self) -> dict[int, list[int | float]]:
        return {
            q.id: [v for row in self.board.rows if isinstance(v := self.value(row, q), int | float)]
            for q in self.questions
            if added_fields.KINDS[q.kind].number
        }

    def numbers(self, question: m.DataRequestQuestion) -> list[int | float]:
        """The numbers given for a number question (a boolean is no number)."""
        return [v for v in self._numbers.get(question.id, []) if not isinstance(v, bool)]

    def total(self, question: m.DataRequestQuestion) -> int | float | None:
        """The sum of a number question's values (None: not a number question)."""
        if not added_fields.KINDS[question.kind].number:
            return None
        return sum(self.numbers(question))

    def average(self, question: m.DataRequestQuestion) -> float | None:
        """The mean of the values given (None: none given, or not a number question)."""
        numbers = self.numbers(question) if added_fields.KINDS[question.kind].number else []
        return round(sum(numbers) / len(numbers), 2) if numbers else None


def consolidated(request: m.DataRequest, on: dt.date | None = None) -> Consolidated:
    return Consolidated(board(request, on), list(request.questions))


TOP = Alignment(wrap_text=True, vertical="top")


def _height(ws: Any, line: int, values: Sequence[Any]) -> int:
    """Give row `line` the height of its longest text wrapped in a question's column (no
    spreadsheet sizes a row to its wrapped text when printing); its lines."""
    lines = max((-(-len(value) // LINE_CHARS) for value in values if isinstance(value, str)), default=1)
    if lines > 1:
        ws.row_dimensions[line].height = 15 * lines
    return lines


def to_xlsx(table: Consolidated) -> bytes:
    """The consolidated table as a one-sheet workbook: the request's title, a row per school
    (its state, when it submitted, a column per question), then the totals and the averages
    of the number questions. A corrected prefilled value carries what Coop counted as a note."""
    request = table.board.request
    wb = Workbook()
    ws = wb.active
    ws.title = academic_year_label(request.year).replace("/", "-")
    ws.cell(1, 1, safe_cell(request.title)).font = Font(bold=True, size=13)
    ws.cell(
        2,
        1,
        gettext(
            "Academic year %(year)s, deadline %(date)s; the answers submitted and accepted.",
            year=academic_year_label(request.year),
            date=formats.date(request.deadline),
        ),
    )
    header = [
        gettext("School"),
        gettext("State"),
        gettext("Submitted at"),
        *(q.label for q in table.questions),
    ]
    bold = Font(bold=True)
    for col, text in enumerate(header, start=1):
        cell = ws.cell(HEADER_ROW, col, safe_cell(text))
        cell.font, cell.alignment = bold, TOP
    _height(ws, HEADER_ROW, header[3:])
    numbers = [added_fields.KINDS[q.kind].number for q in table.questions]
    top_style = None
    line = HEADER_ROW
    for row in table.board.rows:
        line += 1
        submitted = row.answer.submitted_at if row.answer is not None else None
        values = [
            value if number or value is None else safe_cell(shown(question, value))
            for question, number, value in zip(
                table.questions, numbers, (table.value(row, q) for q in table.questions), strict=True
            )
        ]
        cells = [
            safe_cell(str(row.school)),
            row.state_label,
            formats.moment(submitted) if submitted else None,
        ]
        # A row of one line needs no alignment (setting it on every cell costs a second at 1,000 schools).
        tall = _height(ws, line, values) > 1
        for col, value in enumerate([*cells, *values], start=1):
            cell = ws.cell(line, col, value)
            if tall:  # the style of a cell aligned once, copied (openpyxl's own way costs 30 µs a cell)
                if top_style is None:
                    cell.alignment = TOP
                    top_style = cell._style
                else:
                    cell._style = copy.copy(top_style)
        for col, question in enumerate(table.questions, start=4):
            computed = table.computed(row, question)
            if computed is not None:
                ws.cell(line, col).comment = Comment(
                    gettext("Coop counted: %(value)s", value=shown(question, computed) or "—"), "Coop"
                )
    for label, of in ((gettext("Total"), table.total), (gettext("Average"), table.average)):
        line += 1
        ws.cell(line, 1, label).font = bold
        for col, question in enumerate(table.questions, start=4):
            ws.cell(line, col, of(question)).font = bold
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 18
    for col in range(4, len(header) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 22
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2)
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
