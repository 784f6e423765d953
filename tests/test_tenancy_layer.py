"""coop/tenancy.py on its own, with the views bypassed: whom the ORM acts for, the
policy's criteria on every SELECT, UPDATE and DELETE of every mapped model (not only
events), the trash, and the checks at flush (new rows, changes, transitions, hard
deletes) called directly through the session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import product
from typing import Any

import pytest
from flask import Flask, g
from flask_login import login_user
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from coop import access, tenancy, workflow
from coop import models as m
from coop.extensions import Model, db

from .conftest import ACCOUNTS

pytestmark = pytest.mark.usefixtures("fresh_db")

ROLES = ("admin", "coordinator", "school31", "kemsu")
MODELS = sorted((mapper.class_ for mapper in Model.registry.mappers), key=lambda model: model.__name__)


@pytest.fixture
def request_ctx(app: Flask, ids: dict[str, int]) -> Iterator[None]:
    """A request of nobody in particular (the demo's ids looked up before it)."""
    with app.test_request_context():
        yield
        db.session.rollback()


def _user(key: str) -> m.User:
    with tenancy.as_system():
        return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


def _as(key: str | None) -> Any:
    g.principal = _user(key) if key else None
    return g.principal


def _ids(model: type, **options: Any) -> set[Any]:
    key = model.__mapper__.primary_key[0]
    stmt = select(model).execution_options(**options)
    return {getattr(row, key.key) for row in db.session.execute(stmt).scalars()}


def _expected(user: Any, model: type, include_deleted: bool = False) -> set[Any]:
    """The rows the policy's criteria select, read as the system."""
    key = model.__mapper__.primary_key[0]
    with tenancy.as_system():
        stmt = select(model).where(access.criteria(user, model))
        rows = db.session.execute(stmt.execution_options(include_deleted=include_deleted)).scalars()
        return {getattr(row, key.key) for row in rows}


def _all(model: type) -> set[Any]:
    key = model.__mapper__.primary_key[0]
    with tenancy.as_system():
        stmt = select(model).execution_options(include_deleted=True)
        return {getattr(row, key.key) for row in db.session.execute(stmt).scalars()}


# --- whom the ORM acts for ---------------------------------------------------------------


def test_whom_the_orm_acts_for(app: Flask) -> None:
    with app.app_context():
        assert tenancy.current_principal() is tenancy.SYSTEM
        assert tenancy.started_by() is None
    with app.test_request_context():
        assert tenancy.current_principal() is None  # nobody signed in: deny by default
        assert tenancy.started_by() is None
        user = _as("school31")
        assert tenancy.current_principal() is user
        with tenancy.as_system():
            assert tenancy.current_principal() is tenancy.SYSTEM
            assert tenancy.started_by() is user
            with tenancy.as_system():  # nested: still the user who started the outer block
                assert tenancy.started_by() is user
            assert tenancy.started_by() is user
        assert tenancy.current_principal() is user
        assert g.get("system_started_by") is None
        contact = object()
        with pytest.raises(RuntimeError), tenancy.as_system(acting_for=contact):
            assert tenancy.started_by() is contact
            raise RuntimeError
        assert tenancy.current_principal() is user  # restored after an error too
        assert g.get("system_started_by") is None


def test_the_principal_is_the_signed_in_user(app: Flask) -> None:
    with app.test_request_context():
        tenancy._set_principal()
        assert g.principal is None
        user = _user("coordinator")
        login_user(user)
        tenancy._set_principal()
        assert g.principal is user


def test_the_guard_is_registered_once(app: Flask) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    # Again, on an app of its own (the suite's has served requests: Flask refuses new hooks
    # there): the session's listeners are global and stay one each.
    tenancy.init_app(Flask("another"))
    assert event.contains(Session, "do_orm_execute", tenancy._scope_statement)
    assert event.contains(Session, "before_flush", tenancy._check_flush)
    with app.test_request_context():
        _as("school31")
        schools = db.session.execute(select(m.School)).scalars().all()
        assert len(schools) == 1


def test_a_process_without_the_guard_gets_it_from_its_first_app() -> None:
    """What the first app of a process does (the suite's own app did it before any test):
    the session's two listeners, and whom each request acts for."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    listeners = {"do_orm_execute": tenancy._scope_statement, "before_flush": tenancy._check_flush}

    def detach() -> None:
        for name, function in product(listeners, listeners.values()):
            while event.contains(Session, name, function):
                event.remove(Session, name, function)

    detach()
    try:
        first, second = Flask("first"), Flask("second")
        tenancy.init_app(first)
        assert all(event.contains(Session, name, function) for name, function in listeners.items())
        assert not event.contains(Session, "do_orm_execute", tenancy._check_flush)
        assert not event.contains(Session, "before_flush", tenancy._scope_statement)
        tenancy.init_app(second)
        assert first.before_request_funcs == second.before_request_funcs == {None: [tenancy._set_principal]}
    finally:  # the suite's own registration, whatever the code under test left behind
        detach()
        for name, function in listeners.items():
            event.listen(Session, name, function)


# --- what a SELECT returns ----------------------------------------------------------------


@pytest.mark.parametrize("key", ROLES)
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_model_is_scoped_for_every_role(request_ctx: None, key: str, model: type) -> None:
    """With no view in between: the rows a SELECT returns are those of the policy's criteria
    (deny for a model it does not name), without the trash; session.get too."""
    user = _as(key)
    expected = _expected(user, model)
    assert _ids(model) == expected
    hidden = _all(model) - expected
    for row_id in sorted(hidden, key=str)[:3]:
        db.session.expunge_all()
        assert db.session.get(model, row_id) is None, (model.__name__, row_id)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_anonymous_reads_no_row_of_any_model(request_ctx: None, model: type) -> None:
    _as(None)
    assert _ids(model) == set()
    assert _ids(model, include_deleted=True) == set()


def _trash_one_event(school_key: str = "school31") -> m.Event:
    with tenancy.as_system():
        event = db.session.execute(
            select(m.Event).join(m.School).where(m.School.id == _user(school_key).school_id).limit(1)
        ).scalar_one()
        event.deleted_at = dt.datetime(2024, 1, 1)
        db.session.flush()
        return event


def test_the_trash_is_hidden_unless_asked_for(request_ctx: None) -> None:
    trashed = _trash_one_event().id
    with tenancy.as_system():
        assert trashed not in _ids(m.Event)
        assert trashed in _ids(m.Event, include_deleted=True)
        assert trashed in _ids(m.Event, include_deleted=True, skip_scope=True)
    school = _as("school31")
    assert trashed not in _ids(m.Event)
    assert trashed in _ids(m.Event, include_deleted=True)
    assert _ids(m.Event, include_deleted=True) == _expected(school, m.Event, include_deleted=True)
    # skip_scope lifts the policy, never the trash.
    everything = _ids(m.Event, skip_scope=True)
    assert trashed not in everything
    assert everything == _all(m.Event) - {trashed} != _expected(school, m.Event)
    assert _ids(m.Event, skip_scope=True, include_deleted=True) == _all(m.Event)
    # Lifting the policy lifts it for a model without a trash too.
    assert _ids(m.User, skip_scope=True) == _all(m.User) != _ids(m.User)
    # The other school does not see the row in the trash either.
    _as("gymnasium17")
    assert trashed not in _ids(m.Event, include_deleted=True)


def test_the_criteria_are_built_once_a_request_for_each_principal(
    request_ctx: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    school, partner = _user("school31"), _user("kemsu")
    models = (m.Event, m.Partner, m.Agreement)
    expected = {(user.id, model): _expected(user, model) for user in (school, partner) for model in models}
    built: list[type] = []
    criteria = access.criteria
    monkeypatch.setattr(access, "criteria", lambda user, model: built.append(model) or criteria(user, model))
    g.principal = school
    for model in models:
        assert _ids(model) == expected[school.id, model]
    assert sorted(built, key=lambda model: model.__name__) == MODELS  # once, for three statements
    g.principal = partner
    assert _ids(m.Event) == expected[partner.id, m.Event]
    assert len(built) == 2 * len(MODELS)
    g.principal = school
    assert _ids(m.Event) == expected[school.id, m.Event]
    assert len(built) == 2 * len(MODELS)  # the school's, built before, serve again


def test_the_system_and_an_anonymous_request_are_scoped_apart(request_ctx: None) -> None:
    """Signing in runs as the system inside an anonymous request: neither gets the other's
    criteria."""
    with tenancy.as_system():
        stmt = select(m.Event.id, m.Event.deleted_at).execution_options(include_deleted=True)
        live = {row_id for row_id, deleted_at in db.session.execute(stmt) if deleted_at is None}
    g.principal = None
    assert _ids(m.Event) == set()
    with tenancy.as_system():
        assert _ids(m.Event) == live != set()
    assert _ids(m.Event) == set()


def _saved_view_of(user: m.User) -> int:
    with tenancy.as_system():
        view = m.SavedView(
            user_id=user.id, endpoint="event", name="Мои", visibility="personal", school_id=user.school_id
        )
        db.session.add(view)
        db.session.flush()
        return view.id


# (account, what changes in its principal within the request, the model whose rows show it)
CHANGED_PRINCIPALS = [
    ("school31", {"school_id": "gymnasium17"}, m.Event),
    ("kemsu", {"partner_id": "museum"}, m.Event),
    ("school31", {"role": "coordinator"}, m.Event),
    ("school31", {"id": "admin"}, m.SavedView),
]


@pytest.mark.parametrize(("key", "changes", "model"), CHANGED_PRINCIPALS)
def test_a_principal_changed_within_a_request_is_scoped_as_it_is_now(
    request_ctx: None, ids: dict[str, int], key: str, changes: dict[str, str], model: type
) -> None:
    """The criteria built for a principal are not served to one that differs in what the
    policy reads of it (a stand-in never flushed: the same account with one value changed)."""
    user = _as(key)
    if model is m.SavedView:
        _saved_view_of(user)
    before = _ids(model)
    assert before == _expected(user, model)
    values = {"id": user.id, "email": user.email, "role": user.role, "active": True}
    values |= {"school_id": user.school_id, "partner_id": user.partner_id}
    for name, value in changes.items():
        values[name] = _user(value).id if name == "id" else ids.get(value, value)
    g.principal = stand_in = m.User(**values)
    after = _ids(model)
    assert after == _expected(stand_in, model) != before


def test_a_join_is_scoped_on_each_side(request_ctx: None) -> None:
    _as("kemsu")
    stmt = select(m.Event.id, m.School.id).join(m.School, m.Event.school_id == m.School.id)
    pairs = db.session.execute(stmt).all()
    user = g.principal
    assert {event_id for event_id, _ in pairs} == _expected(user, m.Event)
    assert {school_id for _, school_id in pairs} <= access.agreed_school_ids(user)


def test_update_and_delete_statements_reach_only_the_users_rows(request_ctx: None) -> None:
    school = _as("school31")
    own = _expected(school, m.Event)
    result = db.session.execute(
        update(m.Event).values(title="Переименовано").execution_options(synchronize_session=False)
    )
    assert result.rowcount == len(own)
    with tenancy.as_system():
        renamed = set(db.session.execute(select(m.Event.id).filter_by(title="Переименовано")).scalars())
    assert renamed == own
    messages = _expected(school, m.Notification)
    with tenancy.as_system():
        total = db.session.execute(select(func.count()).select_from(m.Notification)).scalar_one()
    result = db.session.execute(delete(m.Notification).execution_options(synchronize_session=False))
    assert result.rowcount == len(messages)
    with tenancy.as_system():
        left = db.session.execute(select(func.count()).select_from(m.Notification)).scalar_one()
    assert left == total - len(messages)


# --- the checks at flush -------------------------------------------------------------------


def _row_of(model: type, school_key: str) -> Any:
    with tenancy.as_system():
        return db.session.execute(
            select(model).where(model.school_id == _user(school_key).school_id).order_by(model.id).limit(1)
        ).scalar_one()


def test_a_new_row_starts_and_is_stamped_at_flush(request_ctx: None, ids: dict[str, int]) -> None:
    with tenancy.as_system():
        system_event = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title="От системы")
        db.session.add(system_event)
        db.session.flush()
        assert system_event.state == "approved"
        assert system_event.created_by_id is None
    partner = _as("kemsu")
    proposal = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title="Предложение")
    db.session.add(proposal)
    db.session.flush()
    assert proposal.state == "draft"
    assert (proposal.created_by_id, proposal.updated_by_id) == (partner.id, partner.id)
    school = _as("school31")
    line = m.Event(school_id=ids["school31"], partner_id=ids["museum"], title="Своя строка")
    db.session.add(line)
    db.session.flush()
    assert line.state == "approved"
    assert (line.created_by_id, line.updated_by_id) == (school.id, school.id)


@pytest.mark.parametrize(
    ("key", "make"),
    [
        ("school31", lambda ids: m.Event(school_id=ids["gymnasium17"], title="Чужая")),
        (
            "kemsu",
            lambda ids: m.Event(
                school_id=ids["gymnasium17"], partner_id=ids["kemsu"], title="Без соглашения"
            ),
        ),
        (
            "kemsu",
            lambda ids: m.Programme(
                school_id=ids["school31"], title="Программа", first_year=2020, last_year=2021
            ),
        ),
        ("coordinator", lambda ids: m.Event(school_id=ids["school31"], title="Координатор")),
        (None, lambda ids: m.Event(school_id=ids["school31"], title="Аноним")),
        ("school31", lambda ids: m.EventKind(name="Новый вид")),
    ],
)
def test_a_new_row_the_user_may_not_create_is_refused_at_flush(
    request_ctx: None, ids: dict[str, int], key: str | None, make: Any
) -> None:
    _as(key)
    row = make(ids)
    db.session.add(row)
    with pytest.raises(access.AccessDenied, match=rf"^{type(row).__name__.lower()}\.create: "):
        db.session.flush()


def test_a_change_is_judged_as_an_edit_and_stamped(request_ctx: None) -> None:
    own = _row_of(m.Programme, "school31")
    foreign = _row_of(m.Programme, "gymnasium17")
    school = _as("school31")
    own.title = own.title + " (изм.)"
    db.session.flush()
    assert own.updated_by_id == school.id
    foreign.title = foreign.title + " (изм.)"
    with pytest.raises(access.AccessDenied, match=r"^programme\.edit: "):
        db.session.flush()


def test_a_change_of_a_collection_alone_is_judged_as_an_edit(request_ctx: None) -> None:
    """Another school's line whose responsible positions alone change is still its edit:
    a relationship collection counts as a change (is_modified(include_collections=True))."""
    foreign = _row_of(m.Event, "gymnasium17")
    with tenancy.as_system():
        position = db.session.execute(select(m.Position).order_by(m.Position.id)).scalars().first()
        assert position is not None and position not in foreign.responsible
    _as("school31")
    foreign.responsible.append(position)
    with pytest.raises(access.AccessDenied, match=r"^event\.edit: "):
        db.session.flush()


def test_a_row_touched_without_a_change_is_not_judged(request_ctx: None) -> None:
    foreign = _row_of(m.Programme, "gymnasium17")
    with tenancy.as_system():
        stamped = foreign.updated_by_id
    _as("school31")
    foreign.title = foreign.title  # in session.dirty, but nothing changed
    assert foreign in db.session.dirty
    db.session.flush()
    assert foreign.updated_by_id == stamped


def test_a_transition_is_judged_by_its_own_permission(request_ctx: None, ids: dict[str, int]) -> None:
    """A partner may submit a draft it could no longer edit once submitted; it may not
    approve one, however the transition reached the row."""
    with tenancy.as_system():
        draft = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title="Черновик", state="draft")
        db.session.add(draft)
        db.session.flush()
    partner = _as("kemsu")
    workflow.fire(partner, draft, "submit")
    db.session.flush()  # event.submit: allowed, although event.edit of a submitted event is not
    assert draft.state == "submitted" and draft.updated_by_id == partner.id
    assert not access.can(partner, "event.edit", draft)
    draft._coop_transition = None
    draft.state = "approved"  # a change of state without a transition: an edit, refused
    with pytest.raises(access.AccessDenied, match=r"^event\.edit: "):
        db.session.flush()
    db.session.rollback()
    with tenancy.as_system():
        proposal = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title="Ещё", state="draft")
        db.session.add(proposal)
        db.session.flush()
    _as("kemsu")
    workflow.fire(_user("admin"), proposal, "approve")  # fired for someone else, flushed by the partner
    with pytest.raises(access.AccessDenied, match=r"^event\.review: "):
        db.session.flush()


def test_a_hard_delete_is_judged_at_flush(request_ctx: None) -> None:
    foreign = _row_of(m.Limitation, "gymnasium17")
    _as("school31")
    db.session.delete(foreign)
    with pytest.raises(access.AccessDenied, match=r"^limitation\.delete: "):
        db.session.flush()
    db.session.rollback()
    own = _row_of(m.Limitation, "school31")
    _as("school31")
    db.session.delete(own)
    db.session.flush()
    with tenancy.as_system():
        assert db.session.get(m.Limitation, own.id) is None
    db.session.rollback()
    remark = _row_of(m.Remark, "school31")
    _as("coordinator")  # creates and edits remarks, deletes none
    db.session.delete(remark)
    with pytest.raises(access.AccessDenied, match=r"^remark\.delete: "):
        db.session.flush()


def test_the_system_writes_unchecked(request_ctx: None) -> None:
    foreign = _row_of(m.Limitation, "gymnasium17")
    with tenancy.as_system():
        foreign.description = "Системная правка"
        db.session.flush()
        db.session.delete(foreign)
        db.session.flush()


def test_no_one_started_anything_outside_an_application() -> None:
    assert tenancy.started_by() is None


def test_an_aliased_table_is_scoped_too(request_ctx: None) -> None:
    school = _as("school31")
    alias = aliased(m.Event)
    got = {row.id for row in db.session.execute(select(alias)).scalars()}
    assert got == _expected(school, m.Event)


def test_a_transition_on_another_schools_row_is_judged_on_that_row(request_ctx: None) -> None:
    foreign = _row_of(m.Event, "gymnasium17")
    foreign.state = "submitted"
    with tenancy.as_system():
        db.session.flush()
    _as("school31")  # reviews its own school's events, not the gymnasium's
    workflow.fire(_user("admin"), foreign, "approve")
    with pytest.raises(access.AccessDenied, match=r"^event\.review: "):
        db.session.flush()


def test_a_filters_options_asked_alone_are_the_rows_the_user_sees(app: Flask, ids: dict[str, int]) -> None:
    """Flask-Admin may ask a filter for its options outside the view's preloading (as when a
    view is built within a request): they are read then, under the policy."""
    from coop.views.loading import RowOptions

    with app.test_request_context():
        user = _user("school31")
        login_user(user)
        tenancy._set_principal()
        school = db.session.get(m.School, ids["school31"])
        assert RowOptions(m.School, capped=True)() == [(ids["school31"], str(school))]
