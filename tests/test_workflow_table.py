"""coop/workflow.py on its own, as tables: every transition from every state of its
workflow (the target where it is allowed, the exact Russian refusal where it is not),
every comment-required transition without a comment, the refusal to whoever lacks the
permission, the yearly outcomes and a partner's report of a year, each with the message
the user reads. The expectations are written out here, not read off the module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop import timing, workflow
from coop.extensions import db
from coop.workflow import WorkflowError


@dataclass
class User:
    """A principal without a database row: the policy reads only these fields."""

    role: str
    school_id: int | None = None
    partner_id: int | None = None
    id: int = 0
    is_authenticated: bool = True


ADMIN = User("admin", id=-1)
COORDINATOR = User("coordinator", id=-2)
SCHOOL = 10**6  # a school id that no demo row has: transient rows belong to it
OWN_SCHOOL = User("school", school_id=SCHOOL, id=-3)
FOREIGN_SCHOOL = User("school", school_id=SCHOOL + 1, id=-4)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def dbctx(fresh_db: None, app: Flask) -> Iterator[None]:
    """ctx for tests that flush: rolled back before fresh_db puts the demo back."""
    with app.app_context():
        yield
        db.session.rollback()


# model → (workflow, state → what the user reads)
STATES: dict[type, dict[str, str]] = {
    m.Event: {
        "draft": "Черновик",
        "returned": "Возвращено на доработку",
        "submitted": "На согласовании",
        "approved": "Согласовано",
        "cancelled": "Отменено",
    },
    m.Agreement: {
        "draft": "Черновик",
        "signing": "На подписании",
        "active": "Действует",
        "completed": "Завершено",
        "terminated": "Расторгнуто",
    },
    m.Programme: {"draft": "Черновик", "active": "Реализуется", "completed": "Завершено"},
    m.Remark: {"open": "Открыто", "answered": "Дан ответ", "resolved": "Устранено", "closed": "Закрыто"},
    m.DataRequestAnswer: {
        "not_started": "Не начато",
        "draft": "Черновик",
        "submitted": "Отправлено",
        "returned": "Возвращено на доработку",
        "accepted": "Принято",
    },
}


@dataclass(frozen=True)
class Expected:
    model: type
    name: str
    label: str
    source: frozenset[str]
    target: str
    permission: str
    comment_required: bool
    style: str
    comment_field: str | None = None


def _x(model: type, name: str, label: str, source: str, target: str, permission: str, **kw: Any) -> Expected:
    return Expected(
        model,
        name,
        label,
        frozenset(source.split()),
        target,
        permission,
        kw.get("comment", False),
        kw.get("style", "primary"),
        kw.get("field"),
    )


TRANSITIONS = [
    _x(m.Event, "submit", "Отправить на согласование", "draft returned", "submitted", "event.submit"),
    _x(
        m.Event,
        "approve",
        "Согласовать",
        "draft returned submitted",
        "approved",
        "event.review",
        style="success",
    ),
    _x(
        m.Event,
        "return",
        "Вернуть на доработку",
        "submitted approved",
        "returned",
        "event.review",
        comment=True,
        style="warning",
    ),
    _x(
        m.Event,
        "cancel",
        "Отменить",
        "draft returned submitted approved",
        "cancelled",
        "event.review",
        style="danger",
    ),
    _x(
        m.Event,
        "reopen",
        "Вернуть в согласованные",
        "cancelled",
        "approved",
        "event.review",
        style="secondary",
    ),
    _x(m.Agreement, "to_signing", "Направить на подписание", "draft", "signing", "agreement.edit"),
    _x(m.Agreement, "sign", "Подписано: действует", "signing", "active", "agreement.edit", style="success"),
    _x(m.Agreement, "complete", "Завершить", "active", "completed", "agreement.edit", style="secondary"),
    _x(
        m.Agreement,
        "terminate",
        "Расторгнуть",
        "signing active",
        "terminated",
        "agreement.edit",
        comment=True,
        style="danger",
    ),
    _x(
        m.Agreement,
        "back_to_draft",
        "Вернуть в проект",
        "signing",
        "draft",
        "agreement.edit",
        style="secondary",
    ),
    _x(m.Programme, "start", "Начать реализацию", "draft", "active", "programme.edit", style="success"),
    _x(m.Programme, "finish", "Завершить", "active", "completed", "programme.edit", style="secondary"),
    _x(
        m.Remark,
        "answer",
        "Ответить",
        "open answered",
        "answered",
        "remark.answer",
        comment=True,
        field="response",
    ),
    _x(
        m.Remark,
        "resolve",
        "Отметить устранённым",
        "open answered",
        "resolved",
        "remark.answer",
        style="success",
    ),
    _x(m.Remark, "close", "Закрыть", "answered resolved", "closed", "remark.close", style="secondary"),
    _x(
        m.Remark,
        "reopen",
        "Открыть снова",
        "answered resolved closed",
        "open",
        "remark.close",
        comment=True,
        style="warning",
    ),
    _x(
        m.DataRequestAnswer,
        "save",
        "Сохранить черновик",
        "not_started returned",
        "draft",
        "datarequestanswer.answer",
        style="secondary",
    ),
    _x(
        m.DataRequestAnswer,
        "submit",
        "Отправить",
        "not_started draft returned",
        "submitted",
        "datarequestanswer.answer",
    ),
    _x(
        m.DataRequestAnswer,
        "accept",
        "Принять",
        "submitted",
        "accepted",
        "datarequestanswer.review",
        style="success",
    ),
    _x(
        m.DataRequestAnswer,
        "return",
        "Вернуть на доработку",
        "submitted accepted",
        "returned",
        "datarequestanswer.review",
        comment=True,
        style="warning",
        field="return_comment",
    ),
]

CELLS = [(t, state) for t in TRANSITIONS for state in STATES[t.model]]


def _cell_id(cell: tuple[Expected, str]) -> str:
    t, state = cell
    return f"{t.model.__name__}.{t.name}@{state}"


def _row(model: type, state: str | None) -> Any:
    """A row of `model` in `state`, of the school OWN_SCHOOL works at, in no session."""
    return model(state=state, school_id=SCHOOL)


def test_the_table_is_the_one_written_here(ctx: None) -> None:
    """Each workflow's states, transitions (label, sources, target, permission, comment,
    the button's style, the field the comment fills) exactly."""
    assert set(workflow.WORKFLOWS) == set(STATES)
    for model, states in STATES.items():
        flow = workflow.workflow_of(model)
        assert flow is not None and {k: str(v) for k, v in flow.states.items()} == states
        expected = [t for t in TRANSITIONS if t.model is model]
        got = [
            (
                t.name,
                str(t.label),
                t.source,
                t.target,
                t.permission,
                t.comment_required,
                t.style,
                t.comment_field,
            )
            for t in flow.transitions
        ]
        assert got == [
            (t.name, t.label, t.source, t.target, t.permission, t.comment_required, t.style, t.comment_field)
            for t in expected
        ]
    assert workflow.workflow_of(m.Event) is workflow.EVENT
    assert workflow.workflow_of(m.Event()) is workflow.EVENT
    assert workflow.workflow_of(m.School) is None
    assert workflow.workflow_of(m.School()) is None
    assert workflow.flow_states(m.School()) == {}
    assert str(workflow.EVENT.noun) == "Мероприятие"
    assert [
        str(f.noun)
        for f in (workflow.AGREEMENT, workflow.PROGRAMME, workflow.REMARK, workflow.DATA_REQUEST_ANSWER)
    ] == ["Соглашение", "Программа", "Замечание", "Ответ на запрос данных"]


@pytest.mark.parametrize("cell", CELLS, ids=_cell_id)
def test_every_transition_from_every_state(ctx: None, cell: tuple[Expected, str]) -> None:
    """Allowed: the row reaches the target, the history's note says exactly what
    happened. Refused: the Russian message names the action and the state, and the row
    is untouched."""
    t, state = cell
    row = _row(t.model, state)
    if state in t.source:
        fired = workflow.fire(ADMIN, row, t.name, "  Причина  ")
        assert fired is workflow.find(row, t.name)
        assert row.state == t.target
        assert row._coop_transition == {
            "name": t.name,
            "permission": t.permission,
            "from": state,
            "to": t.target,
            "comment": "Причина",
        }
        if t.comment_field:
            assert getattr(row, t.comment_field) == "Причина"
    else:
        with pytest.raises(WorkflowError) as refused:
            workflow.fire(ADMIN, row, t.name, "Причина")
        assert (
            str(refused.value) == f"Действие «{t.label}» невозможно в состоянии «{STATES[t.model][state]}»."
        )
        assert row.state == state
        assert getattr(row, "_coop_transition", None) is None


@pytest.mark.parametrize("t", [t for t in TRANSITIONS if t.comment_required], ids=lambda t: t.name)
@pytest.mark.parametrize("comment", ["", "   \n "])
def test_a_comment_required_transition_without_one_is_refused(ctx: None, t: Expected, comment: str) -> None:
    for state in sorted(t.source):
        row = _row(t.model, state)
        with pytest.raises(WorkflowError) as refused:
            workflow.fire(ADMIN, row, t.name, comment)
        assert str(refused.value) == f"Для действия «{t.label}» нужен комментарий."
        assert row.state == state
        assert getattr(row, "_coop_transition", None) is None


@pytest.mark.parametrize("t", [t for t in TRANSITIONS if not t.comment_required], ids=lambda t: t.name)
def test_a_transition_without_a_required_comment_fires_without_one(ctx: None, t: Expected) -> None:
    state = sorted(t.source)[0]
    row = _row(t.model, state)
    workflow.fire(ADMIN, row, t.name)
    assert row.state == t.target
    assert row._coop_transition["comment"] == ""


@pytest.mark.parametrize("t", TRANSITIONS, ids=lambda t: f"{t.model.__name__}.{t.name}")
def test_a_user_without_the_permission_is_refused_and_the_row_untouched(ctx: None, t: Expected) -> None:
    """A foreign school's user holds none of the transitions' permissions on this row."""
    state = sorted(t.source)[0]
    row = _row(t.model, state)
    with pytest.raises(WorkflowError) as refused:
        workflow.fire(FOREIGN_SCHOOL, row, t.name, "Причина")
    assert str(refused.value) == "У вас нет прав на это действие с данной записью."
    assert row.state == state
    assert getattr(row, "_coop_transition", None) is None
    assert workflow.available(FOREIGN_SCHOOL, row) == []


def test_an_unknown_action_and_an_unknown_state(ctx: None) -> None:
    row = _row(m.Event, "approved")
    with pytest.raises(WorkflowError) as refused:
        workflow.fire(ADMIN, row, "explode", "Причина")
    assert str(refused.value) == "Такого действия нет."
    assert row.state == "approved"
    # Even in a state the action would not allow: that the action exists is checked first.
    with pytest.raises(WorkflowError, match=r"^Такого действия нет.$"):
        workflow.fire(ADMIN, _row(m.Event, "cancelled"), "submit_all")
    # A state the workflow does not know is named as it is.
    with pytest.raises(WorkflowError) as refused:
        workflow.fire(ADMIN, _row(m.Event, "lost"), "approve")
    assert str(refused.value) == "Действие «Согласовать» невозможно в состоянии «lost»."
    assert workflow.find(row, "explode") is None
    assert workflow.find(m.School(), "approve") is None
    assert workflow.available(ADMIN, m.School()) == []


@pytest.mark.parametrize(("model", "state"), [(model, s) for model in STATES for s in STATES[model]])
def test_available_lists_exactly_the_transitions_from_the_state(ctx: None, model: type, state: str) -> None:
    row = _row(model, state)
    expected = [t.name for t in TRANSITIONS if t.model is model and state in t.source]
    assert [t.name for t in workflow.available(ADMIN, row)] == expected
    # The school whose row it is: everything but the coordinator's closing of remarks
    # and the partner's submitting.
    own = [
        t.name
        for t in TRANSITIONS
        if t.model is model and state in t.source and t.permission not in ("remark.close", "event.submit")
    ]
    if model is m.DataRequestAnswer:  # an answer to no request that goes to the school: none
        own = []  # (the answers' whole way, with their requests: tests/test_data_requests.py)
    assert [t.name for t in workflow.available(OWN_SCHOOL, row)] == own


def test_the_permission_comes_before_the_comment(ctx: None) -> None:
    """A user who may not return an event hears that, not that a comment is missing."""
    row = _row(m.Event, "submitted")
    with pytest.raises(WorkflowError, match=r"^У вас нет прав"):
        workflow.fire(FOREIGN_SCHOOL, row, "return", "")


def test_the_coordinator_closes_remarks_and_answers_none(ctx: None) -> None:
    row = _row(m.Remark, "answered")
    assert [t.name for t in workflow.available(COORDINATOR, row)] == ["close", "reopen"]
    workflow.fire(COORDINATOR, row, "close")
    assert row.state == "closed"
    with pytest.raises(WorkflowError, match=r"^У вас нет прав"):
        workflow.fire(COORDINATOR, _row(m.Remark, "open"), "resolve")


def test_the_answer_of_a_remark_is_written_to_its_response(ctx: None) -> None:
    row = _row(m.Remark, "open")
    row.response = "прежний"
    workflow.fire(OWN_SCHOOL, row, "answer", "  Исправлено в плане \n")
    assert (row.state, row.response) == ("answered", "Исправлено в плане")
    # Resolving writes no answer.
    workflow.fire(OWN_SCHOOL, row, "resolve", "Готово")
    assert (row.state, row.response) == ("resolved", "Исправлено в плане")


# --- initial states, proposer's rights, worklists -------------------------------------


@pytest.mark.parametrize(
    ("model", "user", "state"),
    [
        (m.Event, User("partner", partner_id=1), "draft"),
        (m.Event, OWN_SCHOOL, "approved"),
        (m.Event, ADMIN, "approved"),
        (m.Event, COORDINATOR, "approved"),
        (m.Event, None, "approved"),
        (m.Event, User("partner", partner_id=1, is_authenticated=False), "approved"),
        (m.Agreement, OWN_SCHOOL, "draft"),
        (m.Agreement, User("partner", partner_id=1), "draft"),
        (m.Programme, ADMIN, "draft"),
        (m.Remark, COORDINATOR, "open"),
    ],
)
def test_a_new_row_starts_in_its_creators_initial_state(
    ctx: None, model: type, user: User | None, state: str
) -> None:
    row = _row(model, None)
    workflow.start(user, row)
    assert row.state == state


def test_start_keeps_a_state_already_set_and_ignores_rows_without_a_workflow(ctx: None) -> None:
    row = _row(m.Event, "cancelled")
    workflow.start(User("partner", partner_id=1), row)
    assert row.state == "cancelled"
    school = m.School()
    workflow.start(ADMIN, school)  # a row without a workflow: nothing to set, nothing read
    assert not hasattr(school, "state")


def test_initial_for_and_the_proposers_rights() -> None:
    assert workflow.EVENT.initial_for("partner") == "draft"
    assert workflow.EVENT.initial_for("school") == "approved"
    assert workflow.EVENT.initial_for(None) == "approved"
    assert workflow.EVENT.initial_for("") == "approved"
    assert workflow.EVENT.proposer == "partner"
    rights = {
        (action, state)
        for action in ("edit", "delete", "submit", "view")
        for state in STATES[m.Event]
        if workflow.EVENT.proposer_may(action, state)
    }
    assert rights == {("edit", "draft"), ("delete", "draft"), ("edit", "returned"), ("delete", "returned")}
    assert not any(
        flow.proposer_may(action, state)
        for flow in (workflow.AGREEMENT, workflow.PROGRAMME, workflow.REMARK)
        for action in ("edit", "delete")
        for state in flow.states
    )
    assert workflow.EVENT.noticed == frozenset({"returned"})


def test_the_review_worklist_holds_the_submitted_events(ctx: None) -> None:
    review = workflow.REVIEW
    assert review is workflow.EVENT.worklists["review"]
    assert (str(review.label), review.states, review.permission) == (
        "На согласовании",
        frozenset({"submitted"}),
        "event.review",
    )
    sql = str(review.holds(m.Event).compile(compile_kwargs={"literal_binds": True}))
    assert sql == "events.state IN ('submitted')"


# --- yearly outcomes --------------------------------------------------------------------


def test_the_outcomes_as_a_table(ctx: None) -> None:
    got = [
        (o.name, str(o.label), o.status, o.source, o.permission, o.style, o.reason_required)
        for o in workflow.EVENT.outcomes
    ]
    assert got == [
        ("held", "Отметить проведённым", "held", frozenset({"approved"}), "event.review", "success", False),
        (
            "not_held",
            "Не проведено",
            "not_held",
            frozenset({"approved"}),
            "event.review",
            "outline-secondary",
            True,
        ),
    ]
    for flow in (workflow.AGREEMENT, workflow.PROGRAMME, workflow.REMARK):
        assert flow.outcomes == ()


@pytest.mark.parametrize("state", list(STATES[m.Event]))
def test_outcomes_available_by_state_and_user(ctx: None, state: str) -> None:
    row = _row(m.Event, state)
    expected = ["held", "not_held"] if state == "approved" else []
    assert [o.name for o in workflow.outcomes_available(ADMIN, row)] == expected
    assert [o.name for o in workflow.outcomes_available(OWN_SCHOOL, row)] == expected
    assert workflow.outcomes_available(FOREIGN_SCHOOL, row) == []
    assert workflow.outcomes_available(COORDINATOR, row) == []


def test_outcomes_of_a_row_without_them(ctx: None) -> None:
    assert workflow.outcomes_available(ADMIN, m.School()) == []
    assert workflow.outcomes_available(ADMIN, _row(m.Agreement, "active")) == []
    assert workflow.find_outcome(m.School(), "held") is None
    assert workflow.find_outcome(_row(m.Event, "approved"), "vanished") is None
    assert workflow.find_outcome(_row(m.Event, "approved"), "held") is workflow.EVENT.outcomes[0]


def _current() -> int:
    return timing.academic_year_of(dt.date.today())


@pytest.mark.parametrize(
    ("first", "last", "years"),
    [
        (2019, 2021, lambda c: [2019, 2020, 2021]),
        (2019, 2019, lambda c: [2019]),
        (None, None, lambda c: [c]),
        (None, 2010, lambda c: [2010]),  # only the last year: that one
        (None, "+3", lambda c: [c, c + 1, c + 2, c + 3]),  # ends later: from now on
        (2019, None, lambda c: list(range(2019, c + 1))),  # open end: up to the current year
        ("+2", None, lambda c: [c + 2]),  # starts later, open end: its first year
        (2021, 2019, lambda c: [2021]),  # backwards: the first year alone
    ],
)
def test_line_years(first: Any, last: Any, years: Any) -> None:
    current = _current()

    def year(value: Any) -> int | None:
        return current + int(value) if isinstance(value, str) else value

    event = m.Event(first_year=year(first), last_year=year(last))
    assert workflow.line_years(event) == years(current)


# --- recording a year, a partner's report, the school's decision -------------------------

LINE_FIRST, LINE_LAST = 2001, 2002  # years no demo line has a record of


def _line(state: str = "approved") -> m.Event:
    """A demo line of some school, in `state`, running 2001–2002 (not committed)."""
    event = db.session.execute(select(m.Event).order_by(m.Event.id).limit(1)).scalar_one()
    event.state, event.first_year, event.last_year = state, LINE_FIRST, LINE_LAST
    return event


def _school_user(event: m.Event) -> User:
    return User("school", school_id=event.school_id, id=-5)


HELD = {
    "held_on": dt.date(2001, 10, 3),
    "held_until": dt.date(2001, 10, 4),
    "students_count": 25,
    "students_grades": "5–6",
    "teachers_count": 2,
    "parents_count": 4,
    "results": "Итоги",
    "evidence_url": "https://example.org/a",
}


def test_record_writes_every_field_and_clears_those_left_out(dbctx: None) -> None:
    event = _line()
    row = workflow.record(_school_user(event), event, "held", LINE_FIRST, HELD)
    assert (row.event, row.school_id, row.year, row.status) == (event, event.school_id, LINE_FIRST, "held")
    assert {name: getattr(row, name) for name in workflow.RECORD_FIELDS} == HELD
    assert row in db.session.new
    again = workflow.record(ADMIN, event, "not_held", LINE_FIRST, {"results": "Карантин", "held_on": None})
    assert again is row
    assert {name: getattr(row, name) for name in workflow.RECORD_FIELDS} == {
        **workflow.RECORD_FIELDS,
        "results": "Карантин",
    }
    assert workflow.RECORD_FIELDS == {
        "held_on": None,
        "held_until": None,
        "students_count": 0,
        "students_grades": "",
        "teachers_count": 0,
        "parents_count": 0,
        "results": "",
        "evidence_url": "",
    }
    assert row.status == "not_held"


@pytest.mark.parametrize("year", [LINE_FIRST - 1, LINE_LAST + 1])
def test_record_refuses_a_year_outside_the_line(dbctx: None, year: int) -> None:
    event = _line()
    with pytest.raises(WorkflowError) as refused:
        workflow.record(ADMIN, event, "held", year, HELD)
    assert str(refused.value) == f"Мероприятие не запланировано на {year}/{year + 1} учебный год."
    assert workflow.year_record(event, year) is None


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_not_held_needs_a_reason(dbctx: None, reason: str | None) -> None:
    event = _line()
    with pytest.raises(WorkflowError) as refused:
        workflow.record(ADMIN, event, "not_held", LINE_FIRST, {"results": reason})
    assert str(refused.value) == "Для действия «Не проведено» нужна причина."
    assert workflow.year_record(event, LINE_FIRST) is None


def test_record_refuses_a_wrong_state_an_unknown_outcome_and_a_foreign_user(dbctx: None) -> None:
    event = _line("submitted")
    with pytest.raises(WorkflowError) as refused:
        workflow.record(ADMIN, event, "held", LINE_FIRST, HELD)
    assert str(refused.value) == "Действие «Отметить проведённым» невозможно в состоянии «На согласовании»."
    event.state = "approved"
    with pytest.raises(WorkflowError, match=r"^Такого действия нет.$"):
        workflow.record(ADMIN, event, "postponed", LINE_FIRST, HELD)
    with pytest.raises(WorkflowError, match=r"^У вас нет прав на это действие с данной записью.$"):
        workflow.record(FOREIGN_SCHOOL, event, "held", LINE_FIRST, HELD)
    assert workflow.year_record(event, LINE_FIRST) is None


def test_a_years_record_in_the_trash_is_not_written_over(dbctx: None) -> None:
    event = _line()
    row = workflow.record(ADMIN, event, "held", LINE_FIRST, HELD)
    db.session.flush()
    row.deleted_at = dt.datetime(2024, 1, 1)
    db.session.flush()
    assert workflow.year_record(event, LINE_FIRST) is row
    with pytest.raises(WorkflowError) as refused:
        workflow.record(ADMIN, event, "not_held", LINE_FIRST, {"results": "Нет"})
    assert str(refused.value) == "Запись за 2001/2002 учебный год в корзине: сначала восстановите её оттуда."
    assert row.status == "held"
    with pytest.raises(WorkflowError, match=r"в корзине"):
        workflow.report(event, "held", LINE_FIRST, HELD, "")


def test_report_writes_a_reported_year_with_the_comment(dbctx: None) -> None:
    event = _line()
    row = workflow.report(event, "held", LINE_FIRST, HELD, "Всё прошло")
    assert (row.status, row.year, row.event, row._coop_comment) == (
        "reported",
        LINE_FIRST,
        event,
        "Всё прошло",
    )
    assert {name: getattr(row, name) for name in workflow.RECORD_FIELDS} == HELD
    assert workflow.reported_outcome(row).name == "held"
    # Reported once: waits for the school.
    with pytest.raises(WorkflowError) as refused:
        workflow.report(event, "not_held", LINE_FIRST, {"results": "Нет"}, "")
    assert str(refused.value) == "Итог этого года уже отправлен школе."
    # An open record (planned) may be filled.
    open_row = workflow.record(ADMIN, event, "held", LINE_LAST, HELD)
    open_row.status = workflow.OPEN
    reported = workflow.report(event, "not_held", LINE_LAST, {"results": "Карантин"}, "")
    assert reported is open_row
    assert (reported.status, reported.results, reported.held_on) == ("reported", "Карантин", None)
    assert workflow.reported_outcome(reported).name == "not_held"


@pytest.mark.parametrize("status", ["held", "not_held"])
def test_report_refuses_a_year_the_school_recorded(dbctx: None, status: str) -> None:
    event = _line()
    values = HELD if status == "held" else {"results": "Нет"}
    row = workflow.record(ADMIN, event, status, LINE_FIRST, values)
    with pytest.raises(WorkflowError) as refused:
        workflow.report(event, "held", LINE_FIRST, HELD, "")
    assert str(refused.value) == "Школа уже записала итог этого года."
    assert row.status == status


def test_report_refusals(dbctx: None) -> None:
    event = _line()
    with pytest.raises(WorkflowError) as refused:
        workflow.report(event, "held", LINE_FIRST, {**HELD, "held_on": None}, "")
    assert str(refused.value) == "Для действия «Отметить проведённым» нужна дата."
    with pytest.raises(WorkflowError, match=r"^Для действия «Не проведено» нужна причина.$"):
        workflow.report(event, "not_held", LINE_FIRST, {"results": " "}, "")
    with pytest.raises(WorkflowError, match=r"^Мероприятие не запланировано на 2003/2004 учебный год.$"):
        workflow.report(event, "held", 2003, HELD, "")
    with pytest.raises(WorkflowError, match=r"^Такого действия нет.$"):
        workflow.report(event, "cancelled", LINE_FIRST, HELD, "")
    event.state = "cancelled"
    with pytest.raises(WorkflowError) as refused:
        workflow.report(event, "held", LINE_FIRST, HELD, "")
    assert str(refused.value) == "Действие «Отметить проведённым» невозможно в состоянии «Отменено»."
    assert workflow.year_record(event, LINE_FIRST) is None


def test_the_school_confirms_a_report(dbctx: None) -> None:
    event = _line()
    row = workflow.report(event, "held", LINE_FIRST, HELD, "от партнёра")
    with pytest.raises(WorkflowError, match=r"^У вас нет прав"):
        workflow.confirm_report(FOREIGN_SCHOOL, row)
    assert row.status == "reported"
    written = workflow.confirm_report(_school_user(event), row, "Подтверждаю")
    assert written is row
    assert (row.status, row._coop_comment) == ("held", "Подтверждаю")
    assert {name: getattr(row, name) for name in workflow.RECORD_FIELDS} == HELD
    with pytest.raises(WorkflowError) as refused:
        workflow.confirm_report(ADMIN, row)
    assert str(refused.value) == "По этому отчёту уже принято решение."
    with pytest.raises(WorkflowError, match=r"^По этому отчёту уже принято решение.$"):
        workflow.reject_report(ADMIN, row, "Нет")
    # Confirming without a comment: the history's comment is empty.
    other = workflow.report(event, "not_held", LINE_LAST, {"results": "Карантин"}, "от партнёра")
    workflow.confirm_report(ADMIN, other)
    assert (other.status, other.results, other._coop_comment) == ("not_held", "Карантин", "")


def test_the_school_rejects_a_report_saying_why(dbctx: None) -> None:
    event = _line()
    row = workflow.report(event, "held", LINE_FIRST, HELD, "от партнёра")
    with pytest.raises(WorkflowError, match=r"^У вас нет прав"):
        workflow.reject_report(FOREIGN_SCHOOL, row, "Не было")
    for blank in ("", "  \n"):
        with pytest.raises(WorkflowError) as refused:
            workflow.reject_report(_school_user(event), row, blank)
        assert str(refused.value) == "Укажите, почему отчёт отклонён."
    assert (row.status, row.held_on) == ("reported", HELD["held_on"])
    rejected = workflow.reject_report(_school_user(event), row, "  Не было такого  ")
    assert rejected is row
    assert (row.status, row._coop_comment) == ("planned", "Не было такого")
    assert {name: getattr(row, name) for name in workflow.RECORD_FIELDS} == workflow.RECORD_FIELDS
    # A rejected year is open again: the partner may report it anew.
    assert workflow.report(event, "not_held", LINE_FIRST, {"results": "Перенесли"}, "").status == "reported"
    # A report of a line no longer approved cannot be rejected (as it could not be confirmed).
    event.state = "cancelled"
    with pytest.raises(WorkflowError, match=r"невозможно в состоянии «Отменено»"):
        workflow.reject_report(ADMIN, row, "Нет")
    assert row.status == "reported"


def test_each_line_has_its_own_record_of_a_year(dbctx: None) -> None:
    first, second = db.session.execute(select(m.Event).order_by(m.Event.id).limit(2)).scalars().all()
    for event in (first, second):
        event.state, event.first_year, event.last_year = "approved", LINE_FIRST, LINE_LAST
    mine = workflow.record(ADMIN, first, "held", LINE_FIRST, HELD)
    db.session.flush()
    assert workflow.year_record(second, LINE_FIRST) is None
    theirs = workflow.record(ADMIN, second, "not_held", LINE_FIRST, {"results": "Нет"})
    assert theirs is not mine and theirs.event is second
    assert (mine.status, theirs.status) == ("held", "not_held")
    assert workflow.year_record(first, LINE_FIRST) is mine
