"""coop/access.py read as tables, cell by cell, against expectations written out here
(not read off the policy): which rows of every model each role sees, in the SQL form and
the per-row form, with rows built to break each rule — a partner's event at a school it
has no agreement with, a partner whose agreements are in the trash, another school's
rows, another user's messages — and what each role may do with its own row, another
tenant's row and the model in general, for every permission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from coop import access
from coop import models as m
from coop.extensions import Model, db

from .conftest import ACCOUNTS, _restore

KEYS = ("anonymous", "admin", "coordinator", "school31", "gymnasium17", "kemsu", "museum")
MODELS = sorted((mapper.class_ for mapper in Model.registry.mappers), key=lambda model: model.__name__)
PERSONAL = (m.Notification, m.UserSession, m.NotificationPreference, m.StagedImport, m.ApiToken)
CATALOGS = (m.PartnerKind, m.EventKind, m.EventLevel, m.Audience, m.Position, m.EducationLevel, m.FgosResult)
SCHOOLS_ROWS = (
    *(m.Programme, m.Agreement, m.Event, m.EventExecution, m.Seminar, m.Limitation, m.Remark, m.StoredFile),
    *(m.CalendarFeed, m.SchoolYearFigure, m.DataRequestAnswer),
)
# The municipality's data requests and their questions: a school reads those that go to it.
REQUESTS = (m.DataRequest, m.DataRequestQuestion)
# The tables whose history the coordinator and a school read (a school: its own rows').
HISTORY_TABLES = {
    *("schools", "partners", "partner_resources", "programmes", "agreements", "events"),
    *("event_executions", "seminars", "limitations", "remarks", "stored_files", "calendar_feeds"),
    *("partner_kinds", "event_kinds", "event_levels", "audiences", "positions", "education_levels"),
    *("fgos_results", "school_year_figures", "figure_years", "data_request_answers"),
}
# The coordinator reads every field and choice list added in the site, and so their history.
COORDINATOR_HISTORY = HISTORY_TABLES | {"field_definitions", "choice_lists"}
COORDINATOR_HISTORY |= {"data_requests", "data_request_questions"}


class World:
    """The rows as the system holds them, and the agreements not in the trash."""

    def __init__(self) -> None:
        stmt = select(m.Agreement).execution_options(include_deleted=True)
        self.agreed = {
            (a.partner_id, a.school_id) for a in db.session.execute(stmt).scalars() if a.deleted_at is None
        }
        self.school_of_user = {u.id: u.school_id for u in _rows(m.User)}
        self.events = {e.id: e for e in _rows(m.Event)}
        self.requests = {r.id: r for r in _rows(m.DataRequest)}
        self.programmes = _rows(m.Programme)

    def request_goes_to(self, request_id: int, school_id: int | None) -> bool:
        """Whether a data request goes to the school, written out apart from the policy."""
        request = self.requests[request_id]
        if request.addressees == "all":
            return True
        if request.addressees == "chosen":
            return school_id in {s.id for s in request.schools}
        return any(
            p.school_id == school_id
            and p.state == "active"
            and p.deleted_at is None
            and p.first_year <= request.year <= p.last_year
            for p in self.programmes
        )

    def partner_sees_event(self, user: Any, event: Any) -> bool:
        return event.partner_id == user.partner_id and (user.partner_id, event.school_id) in self.agreed


def _rows(model: type) -> list[Any]:
    return list(db.session.execute(select(model).execution_options(include_deleted=True)).scalars())


def _expected(key: str, user: Any, model: type, row: Any, world: World) -> bool:
    role = ACCOUNTS[key].role
    if role is None:
        return False
    if model in PERSONAL:
        return row.user_id == user.id
    if model is m.User:
        return role == "admin" or row.id == user.id
    if model is m.SavedView:  # its owner's, or shared with the owner's school or everyone
        school = row.visibility == "school" and user.school_id is not None and row.school_id == user.school_id
        return row.user_id == user.id or row.visibility == "everyone" or school
    if model in (m.FieldDefinition, m.ChoiceList):  # the municipality's, and a school's own
        if role in ("admin", "coordinator"):
            return True
        if role == "school":
            return row.school_id in (None, user.school_id)
        return row.school_id is None or (user.partner_id, row.school_id) in world.agreed
    if model in CATALOGS:
        return True
    if role == "admin":
        return model is not m.Token or row.purpose == "invitation"
    if model in (m.SignIn,):
        return False
    if model in REQUESTS:
        if role == "coordinator":
            return True
        if role == "school":
            request_id = row.id if model is m.DataRequest else row.request_id
            return world.request_goes_to(request_id, user.school_id)
        return False
    if role == "coordinator":
        if model is m.History:
            return row.table_name in COORDINATOR_HISTORY
        return model is not m.Token
    if role == "school":
        if model is m.School:
            return row.id == user.school_id
        if model in SCHOOLS_ROWS:
            return row.school_id == user.school_id
        if model is m.Token:
            return (
                row.purpose == "invitation" and world.school_of_user.get(row.created_by_id) == user.school_id
            )
        if model is m.History:
            return row.table_name in HISTORY_TABLES and row.school_id == user.school_id
        return model in (m.Partner, m.PartnerResource, m.FigureYear)
    # A partner.
    if model is m.School:
        return (user.partner_id, row.id) in world.agreed
    if model is m.Partner:
        return row.id == user.partner_id
    if model in (m.PartnerResource, m.Agreement, m.CalendarFeed):
        return row.partner_id == user.partner_id
    if model is m.Event:
        return world.partner_sees_event(user, row)
    if model is m.EventExecution:
        return world.partner_sees_event(user, world.events[row.event_id])
    if model is m.History:
        event = world.events.get(row.row_id) if row.table_name == "events" else None
        return event is not None and world.partner_sees_event(user, event)
    return False


def _principal(key: str) -> Any:
    if ACCOUNTS[key].role is None:
        return AnonymousUserMixin()
    return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


@pytest.fixture(scope="module")
def broken(app: Flask) -> Iterator[dict[str, int]]:
    """The demo with rows that break each rule: КемГУ's event (and its year's record and
    history) at the gymnasium, with which it has no agreement; the museum's agreements in
    the trash, its events left; an invitation and a reset link; another user's message."""
    with app.app_context():
        kemsu, gymnasium = _principal("kemsu"), _principal("gymnasium17")
        stray = m.Event(
            school_id=gymnasium.school_id,
            partner_id=kemsu.partner_id,
            title="Без соглашения",
            state="approved",
        )
        db.session.add(stray)
        db.session.flush()
        db.session.add(m.EventExecution(event=stray, school_id=gymnasium.school_id, year=2020, status="held"))
        museum = _principal("museum")
        for agreement in db.session.execute(
            select(m.Agreement).filter_by(partner_id=museum.partner_id)
        ).scalars():
            agreement.deleted_at = dt.datetime(2024, 1, 1)
        # A personal API token of two accounts: each reads only its own.
        for owner in (kemsu, _principal("school31")):
            db.session.add(
                m.ApiToken(
                    user_id=owner.id,
                    name="Отчётность",
                    secret_hash=f"{owner.id:064d}",
                    expires_at=dt.datetime(2030, 1, 1),
                )
            )
        # Data requests: one to СОШ № 31 alone, one to the gymnasium alone, one to every
        # school with a programme in progress in 2019 (the demo's СОШ № 31 has one).
        school31 = _principal("school31")
        to_31 = m.DataRequest(title="Запрос СОШ № 31", year=2019, deadline=dt.date(2020, 5, 1))
        to_31.addressees, to_31.schools = "chosen", [school31.school]
        to_gym = m.DataRequest(title="Запрос гимназии", year=2019, deadline=dt.date(2020, 5, 1))
        to_gym.addressees, to_gym.schools = "chosen", [gymnasium.school]
        to_active = m.DataRequest(title="Запрос площадкам", year=2019, deadline=dt.date(2020, 5, 1))
        to_active.addressees = "active_programme"
        db.session.add_all([to_31, to_gym, to_active])
        db.session.flush()
        for request in (to_31, to_gym, to_active):
            db.session.add(m.DataRequestQuestion(request=request, label="Сколько?", kind="integer"))
        db.session.add(m.DataRequestAnswer(request=to_31, school_id=school31.school_id, state="draft"))
        db.session.add(m.DataRequestAnswer(request=to_gym, school_id=gymnasium.school_id, state="submitted"))
        db.session.commit()
        ids = {"stray": stray.id, "to_31": to_31.id, "to_gym": to_gym.id}
    yield ids
    with app.app_context():  # the demo as it was, for the next module
        _restore(app.config["DEMO_SNAPSHOT"])


@pytest.fixture
def world(app: Flask, broken: dict[str, int]) -> Iterator[World]:
    with app.app_context():
        yield World()
        db.session.rollback()


def test_the_rows_that_break_the_rules_are_there(world: World, broken: dict[str, int]) -> None:
    kemsu, museum = _principal("kemsu"), _principal("museum")
    stray = world.events[broken["stray"]]
    assert stray.partner_id == kemsu.partner_id and (kemsu.partner_id, stray.school_id) not in world.agreed
    museums_events = [e for e in world.events.values() if e.partner_id == museum.partner_id]
    assert museums_events and not any(pair[0] == museum.partner_id for pair in world.agreed)
    assert any(world.partner_sees_event(kemsu, e) for e in world.events.values())


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_cell_of_the_visibility_table(world: World, key: str, model: type) -> None:
    user = _principal(key)
    rows = _rows(model)
    pk = model.__mapper__.primary_key[0].key
    expected = {getattr(row, pk) for row in rows if _expected(key, user, model, row, world)}
    stmt = select(model).where(access.criteria(user, model)).execution_options(include_deleted=True)
    assert {getattr(row, pk) for row in db.session.execute(stmt).scalars()} == expected
    for row in rows[:400]:
        assert access.visible(user, row) == (getattr(row, pk) in expected), (model.__name__, getattr(row, pk))


def test_the_partner_cells_on_the_broken_rows(world: World, broken: dict[str, int]) -> None:
    """The cells the demo alone cannot tell apart, named one by one."""
    kemsu, museum = _principal("kemsu"), _principal("museum")
    stray = world.events[broken["stray"]]
    assert not access.visible(kemsu, stray)
    assert not access.visible(kemsu, stray.executions[0])
    assert not access.visible(kemsu, stray.school)
    assert access.agreed_school_ids(kemsu) == frozenset(s for p, s in world.agreed if p == kemsu.partner_id)
    assert access.agreed_school_ids(museum) == frozenset()
    for event in world.events.values():
        if event.partner_id == museum.partner_id:
            assert not access.visible(museum, event)
            assert not access.can(museum, "event.view", event)
    school31 = _principal("school31")
    assert access.agreed_partner_ids(school31) == frozenset(
        p for p, s in world.agreed if s == school31.school_id
    )
    assert access.agreed_school_ids(school31) == frozenset()
    assert access.agreed_partner_ids(kemsu) == frozenset()


@pytest.mark.parametrize("key", KEYS)
def test_the_columns_each_role_reads(world: World, key: str) -> None:
    user = _principal(key)
    role = ACCOUNTS[key].role
    invitation_fields = (
        *("email", "name", "role", "school", "partner", "created_by_id"),
        *("created_at", "expires_at", "used_at", "user_id"),
    )
    for model in MODELS:
        fields = access.visible_fields(user, model)
        if role is None or (role == "partner" and model in (m.SignIn, m.Token, m.FigureYear, *REQUESTS)):
            assert fields == (), model
        elif model is m.Token:
            assert fields == (invitation_fields if role in ("admin", "school") else ()), model
        elif role == "partner" and model is m.School:
            assert fields == ("name", "short_name")
        elif role == "partner" and model is m.Agreement:
            assert fields == (
                *("school", "agreement_type", "number", "signed_on", "valid_from", "valid_to"),
                *("subject", "state", "levels", "fgos_results"),
                *("programme_kind", "programme_level", "programme_focus", "student_status"),
                *("responsibilities", "issued_documents", "term"),
            )
        elif role == "partner" and model is m.EventExecution:
            assert fields == (
                *("school", "event", "year", "status", "held_on", "held_until"),
                *("students_count", "students_grades", "teachers_count", "parents_count", "results"),
            )
        elif role == "partner" and model is m.History:
            assert fields == ("at", "action", "table_name", "row_id", "summary", "changes", "comment")
        elif role in ("coordinator", "school") and model is m.SignIn:
            assert fields == (), model
        elif role == "coordinator" and model is m.Token:
            assert fields == ()
        elif role == "partner" and model in SCHOOLS_ROWS and model not in (m.Event, m.CalendarFeed):
            assert fields == (), model
        else:
            assert fields is None, (key, model.__name__)


@pytest.mark.parametrize("key", KEYS)
def test_whose_history_a_role_reads(world: World, key: str) -> None:
    user = _principal(key)
    role = ACCOUNTS[key].role
    for model in MODELS:
        table = model.__tablename__
        expected = {
            None: False,
            "admin": True,
            "coordinator": table in COORDINATOR_HISTORY,
            "school": table in HISTORY_TABLES,
            "partner": table == "events",
        }[role]
        assert access.reads_history_of(user, model) is expected, (key, table)
    assert access.reads_history_of(None, m.Event) is False


# --- the permission table -------------------------------------------------------------------
#
# The rows each permission is asked about, built without a session: own (of school31 and
# КемГУ, which have an agreement), foreign (of the gymnasium and the museum), None (the
# model in general). Each expectation: the keys that may, by row.

S31, GYM = "school31", "gymnasium17"


def _ids() -> dict[str, Any]:
    return {key: _principal(key) for key in KEYS}


def _rows_for(area: str, users: dict[str, Any]) -> dict[str, Any]:
    s31, gym = users[S31].school_id, users[GYM].school_id
    kemsu, museum = users["kemsu"].partner_id, users["museum"].partner_id
    school_row = {
        "own": lambda model: model(school_id=s31),
        "foreign": lambda model: model(school_id=gym),
    }
    if area == "school":
        return {"own": m.School(id=s31), "foreign": m.School(id=gym)}
    if area == "partner":
        return {"own": m.Partner(id=kemsu), "foreign": m.Partner(id=museum)}
    if area == "partnerresource":
        return {"own": m.PartnerResource(partner_id=kemsu), "foreign": m.PartnerResource(partner_id=museum)}
    if area == "event":
        return {
            "own": m.Event(school_id=s31, partner_id=kemsu, state="approved"),
            "own-draft": m.Event(school_id=s31, partner_id=kemsu, state="draft"),
            "own-returned": m.Event(school_id=s31, partner_id=kemsu, state="returned"),
            "stray": m.Event(school_id=gym, partner_id=kemsu, state="draft"),
            "foreign": m.Event(school_id=gym, partner_id=museum, state="draft"),
        }
    if area == "calendarfeed":
        return {
            "own": m.CalendarFeed(school_id=s31),
            "own-partner": m.CalendarFeed(partner_id=kemsu),
            "foreign": m.CalendarFeed(school_id=gym),
        }
    if area == "agreement":
        return {
            "own": m.Agreement(school_id=s31, partner_id=kemsu),
            "foreign": m.Agreement(school_id=gym, partner_id=museum),
        }
    if area == "user":
        return {"own": "self", "foreign": users["admin"]}
    if area == "apitoken":  # one's own token, and the admin's
        return {"own": "own-token", "foreign": m.ApiToken(user_id=users["admin"].id)}
    if area == "fielddefinition":
        return {
            "own": m.FieldDefinition(school_id=s31, is_active=True),
            "municipal": m.FieldDefinition(school_id=None, is_active=True),
            "proposal": m.FieldDefinition(school_id=None, is_active=False),
            "foreign": m.FieldDefinition(school_id=gym, is_active=True),
        }
    if area == "choicelist":
        return {
            "own": m.ChoiceList(school_id=s31),
            "municipal": m.ChoiceList(school_id=None),
            "foreign": m.ChoiceList(school_id=gym),
        }
    if area in ("datarequest", "datarequestquestion", "datarequestanswer"):
        requests = {r.title: r.id for r in _rows(m.DataRequest)}
        to_31, to_gym = requests["Запрос СОШ № 31"], requests["Запрос гимназии"]
        if area == "datarequest":
            return {"own": m.DataRequest(id=to_31), "foreign": m.DataRequest(id=to_gym)}
        if area == "datarequestquestion":
            return {
                "own": m.DataRequestQuestion(request_id=to_31),
                "foreign": m.DataRequestQuestion(request_id=to_gym),
            }
        return {
            "own": m.DataRequestAnswer(request_id=to_31, school_id=s31, state="draft"),
            "own-submitted": m.DataRequestAnswer(request_id=to_31, school_id=s31, state="submitted"),
            # The gymnasium's answer to a request that is not the gymnasium's.
            "foreign": m.DataRequestAnswer(request_id=to_31, school_id=gym, state="draft"),
        }
    models = {
        "programme": m.Programme,
        "seminar": m.Seminar,
        "limitation": m.Limitation,
        "remark": m.Remark,
        "storedfile": m.StoredFile,
        "eventexecution": m.EventExecution,
    }
    if area in models:
        return {kind: make(models[area]) for kind, make in school_row.items()}
    return {}


A, C, SC, G, K, MU = "admin", "coordinator", S31, GYM, "kemsu", "museum"
SIGNED_IN = {A, C, SC, G, K, MU}
STAFF = {A, C, SC, G}


def _school_area(view: set[str] | None = None) -> dict[str, dict[str, set[str]]]:
    """A school's rows: staff read (a school its own), the admin and the school write."""
    return {
        "view": {"none": view or STAFF, "own": view or STAFF - {G}, "foreign": (view or STAFF) - {SC}},
        **{
            action: {"none": {A, SC, G}, "own": {A, SC}, "foreign": {A, G}}
            for action in ("create", "edit", "delete")
        },
    }


PERMISSION_TABLE: dict[str, dict[str, dict[str, set[str]]]] = {
    "home": {"view": {"none": SIGNED_IN}},
    "calendar": {"view": {"none": SIGNED_IN}},
    "plan": {"view": {"none": SIGNED_IN}, "export": {"none": SIGNED_IN}, "import": {"none": {A, SC, G}}},
    "dashboard": {"view": {"none": STAFF}},
    "coverage": {"view": {"none": STAFF}},
    "school": {
        "view": {"none": SIGNED_IN, "own": {A, C, SC, K}, "foreign": {A, C, G}},
        "create": {"none": {A}, "own": {A}, "foreign": {A}},
        "edit": {"none": {A, SC, G}, "own": {A, SC}, "foreign": {A, G}},
        "delete": {"none": {A}, "own": {A}, "foreign": {A}},
    },
    "partner": {
        "view": {"none": SIGNED_IN, "own": STAFF | {K}, "foreign": STAFF | {MU}},
        "create": {"none": {A, SC, G}, "own": {A, SC, G}, "foreign": {A, SC, G}},
        "edit": {"none": {A, K, MU}, "own": {A, K}, "foreign": {A, MU}},
        "delete": {"none": {A}, "own": {A}, "foreign": {A}},
    },
    "partnerresource": {
        "view": {"none": SIGNED_IN, "own": STAFF | {K}, "foreign": STAFF | {MU}},
        **{a: {"none": {A, K, MU}, "own": {A, K}, "foreign": {A, MU}} for a in ("create", "edit", "delete")},
    },
    "programme": _school_area(),
    "seminar": _school_area(),
    "limitation": _school_area(),
    "agreement": {
        **_school_area(),
        "view": {"none": SIGNED_IN, "own": {A, C, SC, K}, "foreign": {A, C, G, MU}},
    },
    "eventexecution": {
        **_school_area(),
        # A record without its line: no partner reads it.
        "view": {"none": SIGNED_IN, "own": {A, C, SC}, "foreign": {A, C, G}},
    },
    "storedfile": {
        "view": {"none": STAFF, "own": {A, C, SC}, "foreign": {A, C, G}},
        "create": {"none": {A, SC, G}, "own": {A, SC}, "foreign": {A, G}},
        "delete": {"none": {A, SC, G}, "own": {A, SC}, "foreign": {A, G}},
    },
    "calendarfeed": {
        "view": {"none": SIGNED_IN, "own": {A, C, SC}, "own-partner": {A, C, K}, "foreign": {A, C, G}},
        **{
            a: {"none": {A, SC, G, K, MU}, "own": {A, SC}, "own-partner": {A, K}, "foreign": {A, G}}
            for a in ("create", "edit", "delete")
        },
    },
    "event": {
        # The museum's agreements are in the trash (the module's fixture): it sees none of its events.
        "view": {
            "none": SIGNED_IN,
            "own": {A, C, SC, K},
            "own-draft": {A, C, SC, K},
            "own-returned": {A, C, SC, K},
            "stray": {A, C, G},
            "foreign": {A, C, G},
        },
        "create": {
            "none": {A, SC, G, K, MU},
            "own": {A, SC, K},
            "own-draft": {A, SC, K},
            "own-returned": {A, SC, K},
            "stray": {A, G},
            "foreign": {A, G},
        },
        **{
            action: {
                "none": {A, SC, G, K, MU},
                "own": {A, SC},
                "own-draft": {A, SC, K},
                "own-returned": {A, SC, K},
                "stray": {A, G},
                "foreign": {A, G},
            }
            for action in ("edit", "delete")
        },
        "submit": {
            "none": {A, K, MU},
            "own": {A, K},
            "own-draft": {A, K},
            "own-returned": {A, K},
            "stray": {A},
            "foreign": {A},
        },
        "review": {
            "none": {A, SC, G},
            "own": {A, SC},
            "own-draft": {A, SC},
            "own-returned": {A, SC},
            "stray": {A, G},
            "foreign": {A, G},
        },
    },
    "remark": {
        "view": {"none": STAFF, "own": {A, C, SC}, "foreign": {A, C, G}},
        "create": {"none": {A, C}, "own": {A, C}, "foreign": {A, C}},
        "edit": {"none": {A, C}, "own": {A, C}, "foreign": {A, C}},
        "delete": {"none": {A}, "own": {A}, "foreign": {A}},
        "answer": {"none": {A, SC, G}, "own": {A, SC}, "foreign": {A, G}},
        "close": {"none": {A, C}, "own": {A, C}, "foreign": {A, C}},
    },
    "history": {"view": {"none": STAFF}},
    "trash": {"view": {"none": {A, SC, G}}, "restore": {"none": {A, SC, G}}, "purge": {"none": {A}}},
    "signin": {"view": {"none": {A}}},
    "mailfiles": {"view": {"none": {A}}},
    "notification": {"view": {"none": SIGNED_IN}, "edit": {"none": SIGNED_IN}},
    "usersession": {"view": {"none": SIGNED_IN}, "delete": {"none": SIGNED_IN}},
    "stagedimport": {
        "view": {"none": SIGNED_IN},
        "create": {"none": {A, SC, G}},
        "delete": {"none": SIGNED_IN},
    },
    "notificationpreference": {a: {"none": SIGNED_IN} for a in ("view", "create", "edit")},
    # Personal API tokens: each account makes and revokes its own only.
    "apitoken": {
        "view": {"none": SIGNED_IN},
        **{a: {"none": SIGNED_IN, "own": SIGNED_IN, "foreign": {A}} for a in ("create", "edit")},
    },
    "invitation": {
        "view": {"none": {A, SC, G}},
        "create": {"none": {A, SC, G}},
        "revoke": {"none": {A, SC, G}},
    },
    "search": {"view": {"none": SIGNED_IN}},
    # Fields and lists added in the site: the admin any, a school its own, the coordinator
    # the municipality's lists and its proposals (fields switched off).
    "fielddefinition": {
        "view": {
            "none": STAFF,
            "own": {A, C, SC},
            "municipal": STAFF,
            "proposal": STAFF,
            "foreign": {A, C, G},
        },
        **{
            action: {
                "none": {A, C, SC, G},
                "own": {A, SC},
                "municipal": {A},
                "proposal": {A, C},
                "foreign": {A, G},
            }
            for action in ("create", "edit", "delete")
        },
    },
    "choicelist": {
        "view": {"none": STAFF, "own": {A, C, SC}, "municipal": STAFF, "foreign": {A, C, G}},
        **{
            action: {"none": {A, C, SC, G}, "own": {A, SC}, "municipal": {A, C}, "foreign": {A, G}}
            for action in ("create", "edit", "delete")
        },
    },
    # The municipality's data requests: the coordinator writes them, a school reads those to it.
    **{
        area: {
            "view": {"none": STAFF, "own": {A, C, SC}, "foreign": {A, C, G}},
            **{a: {"none": {A, C}, "own": {A, C}, "foreign": {A, C}} for a in ("create", "edit", "delete")},
        }
        for area in ("datarequest", "datarequestquestion")
    },
    # A school's answer: its own, to a request that goes to it, changed while a draft.
    "datarequestanswer": {
        "view": {"none": STAFF, "own": {A, C, SC}, "own-submitted": {A, C, SC}, "foreign": {A, C, G}},
        "create": {"none": {A, SC, G}, "own": {A, SC}, "own-submitted": {A, SC}, "foreign": {A}},
        "edit": {"none": {A, SC, G}, "own": {A, SC}, "own-submitted": {A}, "foreign": {A, G}},
        "delete": {"none": {A}, "own": {A}, "own-submitted": {A}, "foreign": {A}},
        "answer": {"none": {A, SC, G}, "own": {A, SC}, "own-submitted": {A, SC}, "foreign": {A}},
        "review": {"none": {A, C}, "own": {A, C}, "own-submitted": {A, C}, "foreign": {A, C}},
    },
    # Saved views (coop/saved_views.py; their rows' cells: tests/test_saved_views.py).
    "savedview": {action: {"none": SIGNED_IN} for action in ("view", "create", "edit", "delete", "feed")},
    "user": {
        "view": {"none": {A}, "own": SIGNED_IN, "foreign": {A}},
        **{a: {"none": {A}, "own": {A}, "foreign": {A}} for a in ("create", "edit", "delete")},
    },
    **{
        catalog: {
            "view": {"none": SIGNED_IN},
            **{a: {"none": {A}} for a in ("create", "edit", "delete")},
        }
        for catalog in (
            "partnerkind",
            "eventkind",
            "eventlevel",
            "audience",
            "position",
            "educationlevel",
            "fgosresult",
        )
    },
}


def test_the_permission_table_names_the_same_permissions() -> None:
    assert {area: set(actions) for area, actions in access.PERMISSIONS.items()} == {
        area: set(actions) for area, actions in PERMISSION_TABLE.items()
    }


CELLS = [(area, action) for area, actions in PERMISSION_TABLE.items() for action in actions]


@pytest.mark.parametrize(("area", "action"), CELLS, ids=[f"{a}.{b}" for a, b in CELLS])
def test_every_cell_of_the_permission_table(world: World, area: str, action: str) -> None:
    users = _ids()
    rows = _rows_for(area, users)
    for kind, allowed in PERMISSION_TABLE[area][action].items():
        for key, user in users.items():
            row = None if kind == "none" else rows[kind]
            if row == "self":
                row = user if ACCOUNTS[key].role else None
                if row is None:
                    continue
            if row == "own-token":
                if not ACCOUNTS[key].role:
                    continue
                row = m.ApiToken(user_id=user.id)
            got = access.can(user, f"{area}.{action}", row)
            assert got is (key in allowed), (f"{area}.{action}", kind, key)


def test_an_unknown_permission_is_refused_to_everyone(world: World) -> None:
    for user in _ids().values():
        for permission in ("event.fly", "nothing.view", "event", "", ".view"):
            assert access.can(user, permission) is False
            with pytest.raises(access.AccessDenied, match=r": no such permission$"):
                access.require(user, permission)
    admin = _principal("admin")
    access.require(admin, "event.edit", m.Event(school_id=1, partner_id=1))
    assert access.can_on(admin, "purge", m.Event) is False  # trash.purge, not event.purge
    with pytest.raises(access.AccessDenied, match=r"^event\.purge: no such permission$"):
        access.require_on(admin, "purge", m.Event)
    access.require_on(admin, "edit", m.Event)


Maker = Callable[[dict[str, Any]], Any]


def _invitation(role: str, school: str | None = None, partner: str | None = None) -> Maker:
    def make(users: dict[str, Any]) -> Any:
        return m.Token(
            purpose="invitation",
            role=role,
            school_id=users[school].school_id if school else None,
            partner_id=users[partner].partner_id if partner else None,
        )

    return make


@pytest.mark.parametrize(
    ("make", "allowed"),
    [
        (_invitation("school", school=S31), {A, SC}),
        (_invitation("school", school=GYM), {A, G}),
        (_invitation("partner", partner="kemsu"), {A, SC}),  # КемГУ: an agreement with СОШ № 31
        (_invitation("partner", partner="museum"), {A}),  # the museum's agreements are in the trash
        (_invitation("coordinator"), {A}),
        (_invitation("admin"), {A}),
        # A tenant that does not fit the role: nobody.
        (_invitation("school"), set()),
        (_invitation("school", school=S31, partner="kemsu"), set()),
        (_invitation("partner", school=S31, partner="kemsu"), set()),
        (_invitation("partner"), set()),
        (_invitation("coordinator", school=S31), set()),
        (_invitation("admin", partner="kemsu"), set()),
    ],
)
def test_who_may_invite_whom(world: World, make: Maker, allowed: set[str]) -> None:
    users = _ids()
    invitation = make(users)
    for key, user in users.items():
        assert access.can(user, "invitation.create", invitation) is (key in allowed), key


def test_the_owner_is_forced_from_the_user(world: World) -> None:
    users = _ids()
    school, partner = users[S31], users["kemsu"]
    row = m.Programme(school_id=users[GYM].school_id)
    access.assign_owner(school, row)
    assert row.school_id == school.school_id and row.school is school.school
    event = m.Event(school_id=users[S31].school_id, partner_id=users["museum"].partner_id)
    access.assign_owner(partner, event)
    assert event.partner_id == partner.partner_id and event.partner is partner.partner
    assert event.school_id == users[S31].school_id
    account = m.User(school_id=None)
    access.assign_owner(school, account)  # a user row is not the school's
    assert account.school_id is None
    agreement = m.Agreement(partner_id=users["museum"].partner_id, school_id=users[GYM].school_id)
    access.assign_owner(partner, agreement)  # a partner writes no agreement's tenant
    assert agreement.partner_id == users["museum"].partner_id
    record = m.EventExecution(event=m.Event(school_id=users[GYM].school_id), school_id=users[S31].school_id)
    access.assign_owner(users["admin"], record)
    assert record.school_id == users[GYM].school_id
    orphan = m.EventExecution(school_id=7)
    access.assign_owner(users["admin"], orphan)
    assert orphan.school_id == 7
    card = m.School()
    access.assign_owner(users["admin"], card)
    assert card.id is None
