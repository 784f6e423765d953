"""The whole lifecycle of events, agreements, programmes and remarks, as tables.

Per workflow: its states, the initial state by the creator's role (`start` is the
only place one is chosen), the transitions with the permission (in coop.access)
that guards each and any field a transition's comment also fills, what the
creator may still do in each state, the worklists (a saved query over states),
and the yearly outcomes (what a plan line's record of one academic year may be
set to). `fire()` is the one function that changes a state, `record()` the one
that writes a year's outcome; coop.history records who, when, and the comment.
coop.access reads the per-state rights when it judges an edit; this module asks
coop.access who may fire a transition (each uses the other only at call time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, select

from . import access, timing
from . import models as m
from .extensions import db


class WorkflowError(ValueError):
    """A transition that cannot be fired; str() is the message for the user."""


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any  # lazy translated
    source: frozenset[str]
    target: str
    permission: str
    comment_required: bool = False
    style: str = "primary"
    # A field of the row the comment is written to as well (the remark's answer).
    comment_field: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a plan line in one academic year, written to that year's record
    (EventExecution.status). Not a transition: the line keeps its state (the approval
    lifecycle), and "held in year Y" is its record of Y, so that every list, the
    calendar, the dashboard and the annual report read one fact."""

    name: str
    label: Any  # lazy translated
    status: str  # the code of models.EXECUTION_STATUSES written
    source: frozenset[str]  # the line's states in which it may be recorded
    permission: str
    style: str = "primary"
    # Held: a date and who took part; not held: only why.
    reason_required: bool = False


@dataclass(frozen=True)
class Worklist:
    """Rows waiting for someone: those in the given states, for whoever holds the permission."""

    label: Any
    states: frozenset[str]
    permission: str

    def holds(self, model: Any) -> ColumnElement[bool]:
        """The SQL condition for the rows on the list."""
        return model.state.in_(sorted(self.states))


@dataclass(frozen=True)
class Workflow:
    states: dict[str, Any]
    # The state a new row starts in, by the creator's role (default: "*").
    initial: dict[str, str]
    transitions: tuple[Transition, ...]
    # What one row is called («Мероприятие»): the message after a transition names it.
    noun: Any
    # What the role that proposes rows (its own initial state is a draft) may still
    # do with them, by state; in any state not named, nothing.
    proposer: str | None = None
    proposer_rights: dict[str, frozenset[str]] = field(default_factory=dict)
    worklists: dict[str, Worklist] = field(default_factory=dict)
    # States whose reason is shown with the row (on its pages and in its list): the
    # comment of the transition that led to it (a returned event: the school's why).
    noticed: frozenset[str] = frozenset()
    outcomes: tuple[Outcome, ...] = ()

    def initial_for(self, role: str | None) -> str:
        return self.initial.get(role or "", self.initial["*"])

    def proposer_may(self, action: str, state: str) -> bool:
        return action in self.proposer_rights.get(state, frozenset())


def _t(name: str, label: Any, source: set[str], target: str, permission: str, **options: Any) -> Transition:
    # Runs only while the module is imported, before mutmut switches a mutant on: its
    # mutants cannot be tried (tests/test_workflow_table.py checks every row it built).
    return Transition(name, label, frozenset(source), target, permission, **options)  # pragma: no mutate


EVENT = Workflow(
    states=m.EVENT_STATES,
    # A partner proposes; a school (or admin) may enter an approved line directly.
    initial={"*": "approved", "partner": "draft"},
    proposer="partner",
    # A returned event is the partner's again, as a draft is, until it submits it anew.
    proposer_rights={state: frozenset({"edit", "delete"}) for state in ("draft", "returned")},
    worklists={"review": Worklist(_l("Awaiting approval"), frozenset({"submitted"}), "event.review")},
    noun=_l("Event"),
    noticed=frozenset({"returned"}),
    transitions=(
        _t("submit", _l("Submit for approval"), {"draft", "returned"}, "submitted", "event.submit"),
        _t(
            "approve",
            _l("Approve"),
            {"draft", "returned", "submitted"},
            "approved",
            "event.review",
            style="success",
        ),
        _t(
            "return",
            _l("Return for revision"),
            {"submitted", "approved"},
            "returned",
            "event.review",
            comment_required=True,
            style="warning",
        ),
        _t(
            "cancel",
            _l("Cancel"),
            {"draft", "returned", "submitted", "approved"},
            "cancelled",
            "event.review",
            style="danger",
        ),
        _t("reopen", _l("Back to approved"), {"cancelled"}, "approved", "event.review", style="secondary"),
    ),
    # Held or not is said per academic year, on the year's record (see Outcome).
    outcomes=(
        Outcome("held", _l("Mark as held"), "held", frozenset({"approved"}), "event.review", style="success"),
        Outcome(
            "not_held",
            _l("Mark as not held"),
            "not_held",
            frozenset({"approved"}),
            "event.review",
            style="outline-secondary",
            reason_required=True,
        ),
    ),
)

AGREEMENT = Workflow(
    states=m.AGREEMENT_STATES,
    initial={"*": "draft"},
    noun=_l("Agreement"),
    transitions=(
        _t("to_signing", _l("Send for signing"), {"draft"}, "signing", "agreement.edit"),
        _t("sign", _l("Signed: in force"), {"signing"}, "active", "agreement.edit", style="success"),
        _t("complete", _l("Complete"), {"active"}, "completed", "agreement.edit", style="secondary"),
        _t(
            "terminate",
            _l("Terminate"),
            {"signing", "active"},
            "terminated",
            "agreement.edit",
            style="danger",
            comment_required=True,
        ),
        _t("back_to_draft", _l("Back to draft"), {"signing"}, "draft", "agreement.edit", style="secondary"),
    ),
)

PROGRAMME = Workflow(
    states=m.PROGRAMME_STATES,
    initial={"*": "draft"},
    noun=_l("Programme"),
    transitions=(
        _t("start", _l("Start implementing"), {"draft"}, "active", "programme.edit", style="success"),
        _t("finish", _l("Complete"), {"active"}, "completed", "programme.edit", style="secondary"),
    ),
)

REMARK = Workflow(
    states=m.REMARK_STATES,
    initial={"*": "open"},
    noun=_l("Remark"),
    transitions=(
        _t(
            "answer",
            _l("Answer"),
            {"open", "answered"},
            "answered",
            "remark.answer",
            comment_required=True,
            comment_field="response",
        ),
        _t(
            "resolve",
            _l("Mark as resolved"),
            {"open", "answered"},
            "resolved",
            "remark.answer",
            style="success",
        ),
        _t("close", _l("Close"), {"answered", "resolved"}, "closed", "remark.close", style="secondary"),
        _t(
            "reopen",
            _l("Reopen"),
            {"answered", "resolved", "closed"},
            "open",
            "remark.close",
            style="warning",
            comment_required=True,
        ),
    ),
)

# A school's answer to a data request (coop/data_requests.py): the school fills it in and
# submits it, the coordinator accepts it or returns it saying why; a returned answer is the
# school's to change and submit again. "Overdue" is no state: it is said of an answer not
# submitted by the deadline (data_requests.shown_state).
DATA_REQUEST_ANSWER = Workflow(
    states=m.DATA_REQUEST_ANSWER_STATES,
    initial={"*": "not_started"},
    proposer="school",
    proposer_rights={state: frozenset({"edit"}) for state in ("not_started", "draft", "returned")},
    worklists={
        "review": Worklist(_l("Awaiting acceptance"), frozenset({"submitted"}), "datarequestanswer.review")
    },
    noun=_l("Answer to a data request"),
    noticed=frozenset({"returned"}),
    transitions=(
        _t(
            "save",
            _l("Save a draft"),
            {"not_started", "returned"},
            "draft",
            "datarequestanswer.answer",
            style="secondary",
        ),
        _t(
            "submit",
            _l("Submit"),
            {"not_started", "draft", "returned"},
            "submitted",
            "datarequestanswer.answer",
        ),
        _t("accept", _l("Accept"), {"submitted"}, "accepted", "datarequestanswer.review", style="success"),
        _t(
            "return",
            _l("Return for revision"),
            {"submitted", "accepted"},
            "returned",
            "datarequestanswer.review",
            comment_required=True,
            comment_field="return_comment",
            style="warning",
        ),
    ),
)

WORKFLOWS: dict[type, Workflow] = {
    m.DataRequestAnswer: DATA_REQUEST_ANSWER,
    m.Event: EVENT,
    m.Agreement: AGREEMENT,
    m.Programme: PROGRAMME,
    m.Remark: REMARK,
}


def workflow_of(obj_or_model: Any) -> Workflow | None:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return WORKFLOWS.get(model)


def flow_states(obj: Any) -> dict[str, Any]:
    flow = workflow_of(obj)
    return flow.states if flow else {}


def available(user: Any, obj: Any) -> list[Transition]:
    """Transitions the user may fire on the row in its current state."""
    flow = workflow_of(obj)
    if flow is None:
        return []
    return [t for t in flow.transitions if obj.state in t.source and access.can(user, t.permission, obj)]


def find(obj: Any, name: str) -> Transition | None:
    flow = workflow_of(obj)
    return next((t for t in flow.transitions if t.name == name), None) if flow else None


def start(user: Any, obj: Any) -> None:
    """Put a new row in its initial state for the creator's role, unless one is set.

    coop.tenancy calls it for every new row at flush: views, imports and the CLI alike.
    """
    flow = workflow_of(obj)
    if flow is not None and obj.state is None:
        obj.state = flow.initial_for(access.role_of(user))


REVIEW = EVENT.worklists["review"]  # the school's queue of partners' proposals


Action = TypeVar("Action", Transition, Outcome)


def _allowed(user: Any, obj: Any, action: Action | None) -> Action:
    """The checks every transition and outcome passes: it exists, the row's state
    allows it (_possible), the user may."""
    action = _possible(obj, action)
    if not access.can(user, action.permission, obj):
        raise WorkflowError(gettext("You are not allowed to do this with this record."))
    return action


def _possible(obj: Any, action: Action | None) -> Action:
    """The action exists and the row's state allows it."""
    if action is None:
        raise WorkflowError(gettext("There is no such action."))
    if obj.state not in action.source:
        raise WorkflowError(
            gettext(
                "«%(action)s» is not possible in the state «%(state)s».",
                action=action.label,
                state=flow_states(obj).get(obj.state, obj.state),
            )
        )
    return action


def fire(user: Any, obj: Any, name: str, comment: str = "") -> Transition:
    """Apply the named transition; coop.history writes it to the history at flush."""
    transition = _allowed(user, obj, find(obj, name))
    comment = comment.strip()
    if transition.comment_required and not comment:
        raise WorkflowError(gettext("«%(action)s» needs a comment.", action=transition.label))
    if transition.comment_field:
        setattr(obj, transition.comment_field, comment)
    previous = obj.state
    obj.state = transition.target
    # Read by coop.history when the change is flushed.
    obj._coop_transition = {
        "name": name,
        "permission": transition.permission,
        "from": previous,
        "to": transition.target,
        "comment": comment,
    }
    return transition


# --- what became of a plan line in a year -----------------------------------------------


def outcomes_available(user: Any, obj: Any) -> list[Outcome]:
    """Yearly outcomes the user may record for the row in its current state."""
    flow = workflow_of(obj)
    if flow is None:
        return []
    return [o for o in flow.outcomes if obj.state in o.source and access.can(user, o.permission, obj)]


def find_outcome(obj: Any, name: str) -> Outcome | None:
    flow = workflow_of(obj)
    return next((o for o in flow.outcomes if o.name == name), None) if flow else None


def line_years(event: m.Event) -> list[int]:
    """The academic years a plan line runs in, to record outcomes for; an open end
    stops at the current academic year (nothing is held in a year to come)."""
    current = timing.academic_year_of(dt.date.today())
    first = event.first_year if event.first_year is not None else min(event.last_year or current, current)
    last = event.last_year if event.last_year is not None else max(first, current)
    return list(range(first, max(first, last) + 1))


# The fields of the year's record an outcome writes, with their empty values; those its
# form leaves empty are cleared (a year not held reached nobody, whatever an earlier
# record of it said).
RECORD_FIELDS = {
    "held_on": None,
    "held_until": None,
    "students_count": 0,
    "students_grades": "",
    "teachers_count": 0,
    "parents_count": 0,
    "results": "",
    "evidence_url": "",
}


def record(user: Any, event: m.Event, name: str, year: int, values: dict[str, Any]) -> m.EventExecution:
    """Write the outcome `name` of `event` in academic year `year` to that year's record
    (created if missing) with `values` (RECORD_FIELDS); the caller commits. A year's
    record in the trash is not written over: it is restored from the trash first."""
    outcome = _allowed(user, event, find_outcome(event, name))
    _check_year(event, outcome, year, values)
    return _write_year(event, outcome.status, year, values)


def _check_year(event: m.Event, outcome: Outcome, year: int, values: dict[str, Any]) -> None:
    """The line may have `outcome` in `year` with `values`; else WorkflowError."""
    if year not in line_years(event):
        raise WorkflowError(
            gettext("The event is not planned for %(year)s.", year=timing.academic_year_label(year))
        )
    if outcome.reason_required and not str(values.get("results") or "").strip():
        raise WorkflowError(gettext("«%(action)s» needs a reason.", action=outcome.label))


def year_record(event: m.Event, year: int) -> m.EventExecution | None:
    """The line's record of `year`, in the trash too."""
    stmt = select(m.EventExecution).filter_by(event_id=event.id, year=year)
    return db.session.execute(stmt.execution_options(include_deleted=True)).scalar_one_or_none()


def _write_year(event: m.Event, status: str, year: int, values: dict[str, Any]) -> m.EventExecution:
    row = year_record(event, year)
    if row is not None and row.deleted_at is not None:
        raise WorkflowError(
            gettext(
                "The record of %(year)s is in the trash: restore it from there first.",
                year=timing.academic_year_label(year),
            )
        )
    if row is None:
        row = m.EventExecution(event=event, school_id=event.school_id, year=year)
        db.session.add(row)
    row.status = status
    for field_name, empty in RECORD_FIELDS.items():
        value = values.get(field_name)
        setattr(row, field_name, empty if value is None else value)
    return row


# --- what a partner reports of a year, for the school to confirm -------------------------
#
# A partner's contact without an account says by a link (coop/confirmations.py) which
# outcome a line had in a year. The year's record then waits as REPORTED, which nothing
# counts (coop/plan_io/plan.py COUNTED), until the school confirms it (the outcome
# reported, written by record() under the outcome's rule) or rejects it (back to planned).

REPORTED = "reported"
OPEN = "planned"  # a record that says nothing yet: a partner's report may fill it


def reported_outcome(row: m.EventExecution) -> Outcome:
    """The outcome a partner reported: held (it gave a date) or not held (a reason)."""
    name = "held" if row.held_on is not None else "not_held"
    return next(o for o in EVENT.outcomes if o.name == name)


def report(event: m.Event, name: str, year: int, values: dict[str, Any], comment: str) -> m.EventExecution:
    """Write what the partner reported of `year` to the year's record, as REPORTED; the
    caller has checked the link (it names the event and the year) and commits. A year the
    school has recorded, or that already waits for its decision, is not written over."""
    outcome = _possible(event, find_outcome(event, name))  # no user: the link is the permission
    _check_year(event, outcome, year, values)
    row = year_record(event, year)
    if row is not None and row.deleted_at is None and row.status != OPEN:
        if row.status == REPORTED:
            raise WorkflowError(gettext("The outcome of this year has already been sent to the school."))
        raise WorkflowError(gettext("The school has already recorded the outcome of this year."))
    if outcome.name == "held" and values.get("held_on") is None:
        raise WorkflowError(gettext("«%(action)s» needs a date.", action=outcome.label))
    row = _write_year(event, REPORTED, year, values)
    _comment(row, comment)
    _happened(row, "report")
    return row


def confirm_report(user: Any, row: m.EventExecution, comment: str = "") -> m.EventExecution:
    """The school confirms what the partner reported: the year's outcome is written as
    the school would record it (record(): its rule, its permission)."""
    if row.status != REPORTED:
        raise WorkflowError(gettext("This report has already been decided."))
    values = {name: getattr(row, name) for name in RECORD_FIELDS}
    written = record(user, row.event, reported_outcome(row).name, row.year, values)
    _comment(written, comment)
    return written


def reject_report(user: Any, row: m.EventExecution, comment: str) -> m.EventExecution:
    """The school rejects what the partner reported, saying why: the year's record says
    nothing again (the report stays in its history)."""
    if row.status != REPORTED:
        raise WorkflowError(gettext("This report has already been decided."))
    _allowed(user, row.event, reported_outcome(row))  # as confirming it would be
    if not comment.strip():
        raise WorkflowError(gettext("Say why the report is rejected."))
    row.status = OPEN
    for field_name, empty in RECORD_FIELDS.items():
        setattr(row, field_name, empty)
    _comment(row, comment.strip())
    return row


def _comment(row: Any, comment: str) -> None:
    """The comment coop.history writes with the change of a row that no transition made."""
    row._coop_comment = comment


def _happened(row: Any, name: str) -> None:
    """What a change no transition made is, for the notification table (coop/notify.py RULES),
    which coop.history hands it to at the flush."""
    row._coop_happened = name
