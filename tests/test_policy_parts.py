"""The policy's parts on their own (coop/access.py): the rule builders and the way rules
combine, called here at run time (the module calls them once, while it is imported), and
the row checks of invitations, proposed fields, data requests and saved views, each tried
with the rows its rule must refuse."""

from __future__ import annotations

import datetime as dt
from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, g
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from coop import access, tenancy
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS

pytestmark = pytest.mark.usefixtures("fresh_db")

UNSCOPED = {"skip_scope": True}


def _user(key: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


def _ids(stmt: Any) -> set[int]:
    return set(db.session.execute(stmt, execution_options=UNSCOPED).scalars())


# --- the builders and the combinators ------------------------------------------------------


def test_a_rule_of_roles_holds_for_those_roles_alone(app: Flask) -> None:
    with app.app_context():
        rule = access._has_role(access.ADMIN, access.SCHOOL)
        assert rule.name == "role in admin/school"
        answers = {key: rule(_user(key), None) for key in ("admin", "coordinator", "school31", "kemsu")}
        assert answers == {"admin": True, "coordinator": False, "school31": True, "kemsu": False}
        assert rule(AnonymousUserMixin(), None) is False


def _recording(name: str, answer: bool, calls: list[tuple[str, Any, Any]]) -> access.Rule:
    def test(user: Any, obj: Any) -> bool:
        calls.append((name, user, obj))
        return answer

    return access.Rule(name, test)


@pytest.mark.parametrize(("first", "second"), list(product((True, False), repeat=2)))
def test_rules_combine_as_or_and_and_asking_the_second_only_when_it_matters(
    first: bool, second: bool
) -> None:
    """Later rules lean on the order: «signed in & own account» never compares the id of an
    anonymous user, and «o is None or …» never reads a missing row."""
    calls: list[tuple[str, Any, Any]] = []
    either = _recording("a", first, calls) | _recording("b", second, calls)
    assert either.name == "a | b"
    assert either("user", "row") is (first or second)
    assert calls == [("a", "user", "row")] + ([] if first else [("b", "user", "row")])

    calls.clear()
    both = _recording("a", first, calls) & _recording("b", second, calls)
    assert both.name == "a & b"
    assert both("user", "row") is (first and second)
    assert calls == [("a", "user", "row")] + ([("b", "user", "row")] if first else [])


def test_the_state_rule_lets_the_proposer_act_in_its_own_states_alone() -> None:
    rule = access._state_lets_proposer("edit")
    assert rule.name == "state lets the proposer edit"
    assert rule("user", None) is True  # the model in general: the row is judged when there is one
    # A partner edits its plan line as a draft and when returned, not once submitted.
    answers = {state: rule("user", m.Event(state=state)) for state in ("draft", "returned", "submitted")}
    assert answers == {"draft": True, "returned": True, "submitted": False}
    assert access._state_lets_proposer("delete")("user", m.Event(state="draft")) is True
    assert access._state_lets_proposer("submit")("user", m.Event(state="draft")) is False
    assert rule("user", m.School()) is False  # no workflow, no proposer


@pytest.mark.parametrize(
    ("tenant", "key", "card"), [("school", "school31", m.School), ("partner", "kemsu", m.Partner)]
)
def test_own_rows_are_the_tenants_card_and_the_rows_that_name_it(
    app: Flask, tenant: str, key: str, card: type
) -> None:
    with app.app_context():
        scope = access._own(tenant)
        assert (scope.name, scope.fields) == (f"own {tenant}'s rows", None)
        user = _user(key)
        own = getattr(user, f"{tenant}_id")
        column = getattr(m.Event, f"{tenant}_id")
        # SQL: the card by its id, the plan lines by their tenant column.
        assert _ids(select(card.id).where(scope.sql(user, card))) == {own}
        own_events = _ids(select(m.Event.id).where(column == own))
        assert own_events and _ids(select(m.Event.id).where(scope.sql(user, m.Event))) == own_events
        # The same, a row at a time.
        cards = db.session.execute(select(card), execution_options=UNSCOPED).scalars().all()
        assert {row.id for row in cards if scope.row(user, row)} == {own}
        events = db.session.execute(select(m.Event), execution_options=UNSCOPED).scalars().all()
        assert {row.id for row in events if scope.row(user, row)} == own_events
        # An account of the other kind has no such tenant: none of them.
        other = _user("kemsu" if tenant == "school" else "school31")
        assert _ids(select(m.Event.id).where(scope.sql(other, m.Event))) == set()
        assert not any(scope.row(other, row) for row in events)


# --- the row checks ------------------------------------------------------------------------


def _colleague_of(key: str) -> m.User:
    """A second account of the school of the demo account `key` (the demo has one a school)."""
    school_id = _user(key).school_id
    colleague = m.User(
        email=f"colleague-{key}@coop.example", name="Коллега", role="school", school_id=school_id
    )
    db.session.add(colleague)
    db.session.flush()
    return colleague


def test_a_school_sees_the_invitations_its_colleagues_sent_though_not_their_accounts(
    app: Flask, ids: dict[str, int]
) -> None:
    """Under the school's own scope (its users: itself alone), a colleague's invitation is
    still its school's."""
    with app.test_request_context():
        with tenancy.as_system():
            school31, gymnasium17 = _user("school31"), _user("gymnasium17")
            colleague = _colleague_of("school31")
        g.principal = school31
        assert db.session.execute(select(m.User.id).where(m.User.id == colleague.id)).first() is None
        by_colleague = SimpleNamespace(purpose="invitation", created_by_id=colleague.id)
        assert access._invited_by_own_school(school31, by_colleague) is True
        g.principal = gymnasium17
        assert access._invited_by_own_school(gymnasium17, by_colleague) is False
        db.session.rollback()


def test_an_invitation_is_its_schools_when_a_colleague_sent_it(app: Flask) -> None:
    with app.app_context():
        school31, gymnasium17, admin = _user("school31"), _user("gymnasium17"), _user("admin")
        by_school31 = SimpleNamespace(purpose="invitation", created_by_id=school31.id)
        assert access._invited_by_own_school(school31, by_school31) is True
        assert access._invited_by_own_school(gymnasium17, by_school31) is False
        assert access._invited_by_own_school(school31, SimpleNamespace(created_by_id=admin.id)) is False
        assert access._invited_by_own_school(school31, SimpleNamespace(created_by_id=None)) is False
        assert access.OWN_SCHOOLS_INVITATIONS.row(school31, by_school31) is True
        reset = SimpleNamespace(purpose="reset", created_by_id=school31.id)
        assert access.OWN_SCHOOLS_INVITATIONS.row(school31, reset) is False


def _field(**values: Any) -> m.FieldDefinition:
    field = m.FieldDefinition(model="event", kind="text", **values)
    db.session.add(field)
    db.session.flush()
    return field


def test_a_proposed_field_switched_on_by_the_admin_is_no_longer_the_coordinators(app: Flask) -> None:
    with app.app_context():
        coordinator = _user("coordinator")
        switched_on = _field(label="Гостей", key="guests", is_active=True)
        proposal = _field(label="Партнёров", key="partners", is_active=False)
        assert access.can(coordinator, "fielddefinition.edit", proposal)
        assert not access.can(coordinator, "fielddefinition.edit", switched_on)
        # The coordinator switching the admin's field off again: judged by what it was before.
        switched_on.is_active = False
        with db.session.no_autoflush:
            assert access._was_active(switched_on) is True
            assert access._was_active(proposal) is False
            assert not access.can(coordinator, "fielddefinition.edit", switched_on)
            assert access.can(coordinator, "fielddefinition.edit", proposal)
        # A school's own field is no municipal proposal, whatever its state.
        own = _field(label="Классов", key="classes", is_active=False, school_id=_user("school31").school_id)
        assert not access.can(coordinator, "fielddefinition.edit", own)
        db.session.rollback()


def _request(addressees: str, schools: list[m.School] | None = None) -> m.DataRequest:
    request = m.DataRequest(
        title=f"Запрос ({addressees})",
        year=2019,
        deadline=dt.date(2020, 5, 1),
        addressees=addressees,
        schools=schools or [],
    )
    db.session.add(request)
    db.session.flush()
    return request


def test_a_school_answers_only_the_requests_sent_to_it(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        school31, gymnasium17, coordinator = _user("school31"), _user("gymnasium17"), _user("coordinator")
        chosen = _request("chosen", [db.session.get(m.School, ids["school31"])])
        everyone = _request("all")
        assert access._addressed_to_school(school31, chosen.id) is True
        assert access._addressed_to_school(gymnasium17, chosen.id) is False
        assert access._addressed_to_school(gymnasium17, everyone.id) is True
        assert access._addressed_to_school(school31, None) is False
        assert access._addressed_to_school(school31, everyone.id + 1000) is False  # no such request
        assert access._addressed_to_school(coordinator, everyone.id) is False  # no school to send to
        # The rule the ORM guard applies to an answer being written.
        for user, school_id, request, expected in (
            (school31, ids["school31"], chosen, True),
            (gymnasium17, ids["gymnasium17"], chosen, False),
            (gymnasium17, ids["gymnasium17"], everyone, True),
        ):
            answer = m.DataRequestAnswer(request_id=request.id, school_id=school_id)
            assert access.can(user, "datarequestanswer.create", answer) is expected
            assert access.can(user, "datarequestanswer.answer", answer) is expected
        assert access.REQUESTS_TO_OWN_SCHOOL.row(gymnasium17, chosen) is False
        assert access.REQUESTS_TO_OWN_SCHOOL.row(school31, chosen) is True
        db.session.rollback()


def test_a_saved_view_is_seen_by_its_owner_and_those_it_is_shown_to(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        users = {key: _user(key) for key in ("school31", "gymnasium17", "coordinator", "admin", "kemsu")}
        users["colleague"] = _colleague_of("school31")

        def view(owner: str, visibility: str) -> int:
            user = users[owner]
            row = m.SavedView(
                user_id=user.id,
                endpoint="event",
                name=f"{owner}: {visibility}",
                visibility=visibility,
                school_id=user.school_id,
            )
            db.session.add(row)
            db.session.flush()
            return row.id

        views = {
            "31 personal": view("school31", "personal"),
            "31 school": view("school31", "school"),
            "17 school": view("gymnasium17", "school"),
            "coordinator personal": view("coordinator", "personal"),
            "coordinator everyone": view("coordinator", "everyone"),
            "partner personal": view("kemsu", "personal"),
        }
        expected = {
            "school31": {"31 personal", "31 school", "coordinator everyone"},
            "gymnasium17": {"17 school", "coordinator everyone"},
            "colleague": {"31 school", "coordinator everyone"},  # not the owner's personal one
            "coordinator": {"coordinator personal", "coordinator everyone"},
            "admin": {"coordinator everyone"},
            "kemsu": {"partner personal", "coordinator everyone"},
        }
        names = {id_: name for name, id_ in views.items()}
        rows = db.session.execute(select(m.SavedView), execution_options=UNSCOPED).scalars().all()
        for key, user in users.items():
            by_sql = _ids(select(m.SavedView.id).where(access._shared_views_sql(user, m.SavedView)))
            by_row = {row.id for row in rows if access._shared_view_row(user, row)}
            assert {names[i] for i in by_sql if i in names} == expected[key], key
            assert {names[i] for i in by_row if i in names} == expected[key], key
        db.session.rollback()


def _shown(visibility: str, school_id: int | None) -> SimpleNamespace:
    return SimpleNamespace(visibility=visibility, school_id=school_id)


def test_a_view_is_shown_no_wider_than_its_owners_role_may_show_it(app: Flask, ids: dict[str, int]) -> None:
    own, other = ids["school31"], ids["gymnasium17"]
    with app.app_context():
        school31 = _user("school31")
        allowed = {
            "admin": [_shown("personal", None), _shown("everyone", None)],
            "coordinator": [_shown("personal", None), _shown("everyone", None)],
            "school31": [_shown("personal", own), _shown("school", own)],
            "kemsu": [_shown("personal", None)],
        }
        refused = {
            "admin": [_shown("school", None), _shown("personal", own), _shown("everyone", own)],
            "coordinator": [_shown("school", None), _shown("everyone", other)],
            "school31": [_shown("everyone", own), _shown("school", other), _shown("personal", None)],
            "kemsu": [_shown("school", None), _shown("everyone", None), _shown("personal", own)],
        }
        for key in allowed:
            user = _user(key)
            assert all(access._shares_as_it_may(user, view) for view in allowed[key]), key
            assert not any(access._shares_as_it_may(user, view) for view in refused[key]), key
        anonymous = SimpleNamespace(is_authenticated=False, school_id=None)
        assert access._shares_as_it_may(anonymous, _shown("personal", None)) is False
        # The rule a saved view is written under: its owner's, shown as the owner may show it.
        shared = SimpleNamespace(user_id=school31.id, visibility="school", school_id=own)
        assert access.can(school31, "savedview.edit", shared)
        assert not access.can(
            school31, "savedview.edit", SimpleNamespace(**{**vars(shared), "visibility": "everyone"})
        )
        assert not access.can(_user("gymnasium17"), "savedview.edit", shared)
