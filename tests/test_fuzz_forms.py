"""Hostile and careless input to every form of every view (issue 7, item 5).

For every model view registered in the admin, the create form and the edit form
of a row the poster owns are read as the browser gets them and posted, by each
role that may use them, with values from tests/fuzz_helpers.py: first a typical
entry with script payloads in every text field, then what hypothesis draws. For
every response: no server error and nothing of the server's insides in the page;
a refused post writes nothing; a stored row is the row the form was about,
belongs to the poster's own school or organisation, links only rows of its own
school, and renders escaped. A role that may not use a form posts to it all the
same and writes nothing, and a tenant posting to its neighbour's rows changes
nothing. The list pages' search, filters and look-ups, and the forms that are not
model views (sign-in, password, workflow comment, trash, calendar feed, import),
get the same hostile values.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import RelationshipDirection

from coop import access
from coop import models as m
from coop.extensions import db
from coop.views import MENU
from coop.views.base import SecuredModelView

from .conftest import ACCOUNTS, csrf_token, login
from .fuzz_helpers import (
    LEAKS,
    RAW_MARKUP,
    SCRIPT,
    FormField,
    form_fields,
    hostile,
    hostile_text,
    plausible,
    typical,
)

# Endpoints as coop/views/__init__.py registers them; test_the_fuzzer_knows_every_model_view
# keeps this list equal to the admin's.
ENDPOINTS = [
    model.__name__.lower()
    for _area, modules in MENU
    for module in modules
    for _view, model, _name in getattr(module, "VIEWS", ())
]
POSTERS = ("admin", "coordinator", "school31", "kemsu")
# Whose rows each poster must never touch (for admin and coordinator: the school
# whose programme a crossed link names).
NEIGHBOURS = {
    "admin": "gymnasium17",
    "coordinator": "gymnasium17",
    "school31": "gymnasium17",
    "kemsu": "museum",
}
# Drawn examples per form, after the typical one: the tenants' forms get more,
# the admin's many catalogs fewer, so that the module takes about a minute on SQLite.
EXAMPLES = {"admin": 2, "coordinator": 6, "school31": 5, "kemsu": 5}
HIDDEN = ("csrf_token", "loaded_version")
# Names a hostile poster adds to any form: owner columns, state, bookkeeping.
MASS_ASSIGNMENT = (
    *("school", "school_id", "partner", "partner_id", "programme", "state", "id", "version"),
    *("created_by_id", "role", "password_hash", "deleted_at", "token"),
)
# A failing example may hold the 10 000-character payloads; let hypothesis print it anyway.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run, in CI too
    database=None,
    phases=(Phase.explicit, Phase.generate),  # the drawn form in the report is enough; shrinking is slow here
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass(frozen=True)
class Poster:
    key: str
    role: str
    user_id: int
    school_id: int | None
    partner_id: int | None
    agreed: frozenset[int]


@dataclass(frozen=True)
class SignedIn:
    client: FlaskClient
    token: str  # Flask-WTF's token is valid for the whole session


@pytest.fixture(scope="module")
def posters(app: Flask) -> dict[str, Poster]:
    with app.app_context():
        made = {}
        for key in (*POSTERS, "gymnasium17", "museum"):
            user = db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()
            made[key] = Poster(
                key, user.role, user.id, user.school_id, user.partner_id, access.agreed_school_ids(user)
            )
        return made


@pytest.fixture(scope="module")
def sessions(app: Flask) -> dict[str, SignedIn]:
    """One signed-in client per poster for the whole module: signing in hashes a password."""
    made = {}
    for key in POSTERS:
        client = app.test_client()
        login(client, ACCOUNTS[key].email, ACCOUNTS[key].password)
        made[key] = SignedIn(client, csrf_token(client.get("/admin/").text))
    return made


def _views(app: Flask) -> dict[str, SecuredModelView]:
    admin = app.extensions["admin"][0]
    return {view.endpoint: view for view in admin._views if isinstance(view, SecuredModelView)}


def test_the_fuzzer_knows_every_model_view(app: Flask) -> None:
    assert sorted(ENDPOINTS) == sorted(_views(app))


# --- what every response must be -------------------------------------------------------------


def assert_sound(response: Any, url: str) -> None:
    """No server error, nothing of the server's insides, no payload rendered as markup."""
    assert response.status_code < 500, f"{url}: {response.status_code}"
    if response.mimetype not in ("text/html", "application/json"):
        # Downloads (CSV, xlsx) hold the data as entered; a browser does not render them.
        assert "attachment" in response.headers.get("Content-Disposition", ""), url
        return
    body = response.get_data(as_text=True)
    leaked = [marker for marker in LEAKS if marker in body]
    assert not leaked, f"{url} shows {leaked}"
    raw = [marker for marker in RAW_MARKUP if marker in body]
    assert response.mimetype != "text/html" or not raw, f"{url} shows unescaped {raw}"


def _saved(response: Any) -> bool:
    return response.status_code == 302 and "/login" not in response.headers.get("Location", "")


# --- the database before and after a post ----------------------------------------------------

TRACKED = sorted(
    (mapper.class_ for mapper in db.Model.registry.mappers if issubclass(mapper.class_, m.Tracked)),
    key=lambda model: model.__tablename__,
)


def _world() -> dict[str, Any]:
    """Every tracked row's version, and the size of every other table (links, history)."""
    state: dict[str, Any] = {
        model.__tablename__: dict(db.session.execute(select(model.id, model.version)).all())
        for model in TRACKED
    }
    for table in db.metadata.sorted_tables:
        if table.name not in state:
            state[table.name] = db.session.execute(select(func.count()).select_from(table)).scalar_one()
    return state


def _changes(before: dict[str, Any], after: dict[str, Any], poster: Poster) -> set[tuple[str, Any]]:
    changed: set[tuple[str, Any]] = set()
    for name, rows in after.items():
        if isinstance(rows, dict):
            changed |= {
                (name, row_id)
                for row_id in rows.keys() | before[name].keys()
                if rows.get(row_id) != before[name].get(row_id)
            }
        elif rows != before[name]:
            changed.add((name, "count"))
    # Session bookkeeping may touch the poster's own account.
    changed.discard(("users", poster.user_id))
    return changed


def _school_of(row: Any) -> int | None:
    return row.id if isinstance(row, m.School) else getattr(row, "school_id", None)


def _tenancy_problems(row: Any, poster: Poster) -> list[str]:
    """What is wrong with whose the stored row is and with the rows it links."""
    problems = []
    school = _school_of(row)
    own_school = school == poster.school_id or not isinstance(row, (m.School, *m.SCHOOL_OWNED))
    if poster.role == access.SCHOOL and not own_school:
        problems.append(f"row of school {school}, posted by school {poster.school_id}")
    if poster.role == access.PARTNER:
        partner = row.id if isinstance(row, m.Partner) else getattr(row, "partner_id", None)
        if partner != poster.partner_id:
            problems.append(f"row of partner {partner}, posted by partner {poster.partner_id}")
        if isinstance(row, m.Event) and school not in poster.agreed:
            problems.append(f"event for school {school}, which has no agreement with the partner")
    for rel in inspect(type(row)).relationships:
        linked = getattr(row, rel.key) if rel.direction is RelationshipDirection.MANYTOONE else None
        if school is not None and isinstance(linked, m.SCHOOL_OWNED) and linked.school_id != school:
            problems.append(f"{rel.key} of school {linked.school_id} linked to a row of school {school}")
    return problems


# --- one form, one poster ----------------------------------------------------------------------


@dataclass
class FormFuzz:
    app: Flask
    signed_in: SignedIn
    poster: Poster
    view: SecuredModelView
    mode: str  # create or edit
    neighbour: Poster  # whose rows the poster must never touch

    @property
    def model(self) -> type:
        return self.view.model

    @property
    def client(self) -> FlaskClient:
        return self.signed_in.client

    def run(self) -> bool:
        """Fuzz the form if the poster may use it, else post to it in vain; True if fuzzed."""
        target = self._target()
        url = f"/admin/{self.view.endpoint}/new/" if self.mode == "create" else self._edit_url(target)
        page = self.client.get(url)
        may = self._may(target)
        expected = (200,) if may else (403, 404)
        assert page.status_code in expected, f"{url}: {page.status_code} for {self.poster.key}"
        if may:
            fields = {name: spec for name, spec in form_fields(page.text).items() if name not in HIDDEN}
            assert fields, f"no fields in {url}"
            self._fuzz(url, fields, target)
        else:
            self._post_in_vain(url)
        self._neighbours_rows_in_vain()
        return may

    # -- which row, and may the poster use the form ------------------------------------------

    def _edit_url(self, row_id: int | None) -> str:
        return f"/admin/{self.view.endpoint}/edit/?id={row_id}"

    def _target(self) -> int | None:
        """The row the edit form is opened on: one the poster owns, else the first."""
        if self.mode == "create":
            return None
        with self.app.app_context():
            stmt = select(self.model.id).order_by(self.model.id)
            if issubclass(self.model, m.Tracked):
                stmt = stmt.where(self.model.deleted_at.is_(None))
            own = self._own_rows(stmt)
            row_id = db.session.execute(own if own is not None else stmt).scalars().first()
            if row_id is None and self.model is m.Event and self.poster.role == access.PARTNER:
                row_id = self._draft_event()
            return row_id

    def _own_rows(self, stmt: Any) -> Any:
        model, poster = self.model, self.poster
        if poster.role == access.SCHOOL and model is m.School:
            return stmt.where(model.id == poster.school_id)
        if poster.role == access.SCHOOL and hasattr(model, "school_id"):
            return stmt.where(model.school_id == poster.school_id)
        if poster.role == access.PARTNER and model is m.Partner:
            return stmt.where(model.id == poster.partner_id)
        if poster.role == access.PARTNER and model is m.PartnerResource:
            return stmt.where(model.partner_id == poster.partner_id)
        if poster.role == access.PARTNER and model is m.Event:
            return stmt.where(model.partner_id == poster.partner_id, model.state == "draft")
        if poster.role == access.ADMIN and model is m.User:
            # An account no fuzzing client signs in with: the fuzzer would lock itself out.
            return stmt.where(model.email == ACCOUNTS["museum"].email)
        return None

    def _draft_event(self) -> int:
        """A partner edits only its drafts, and the demo's events are all approved."""
        event = m.Event(
            school_id=min(self.poster.agreed), partner_id=self.poster.partner_id, title="Черновик партнёра"
        )
        db.session.add(event)
        db.session.commit()
        return event.id

    def _may(self, target: int | None) -> bool:
        with self.app.app_context():
            user = db.session.get(m.User, self.poster.user_id)
            row = db.session.get(self.model, target) if target is not None else None
            action = "create" if self.mode == "create" else "edit"
            return access.can_on(user, action, self.model, row) and (row is None or access.visible(user, row))

    # -- what to post ------------------------------------------------------------------------------

    def _ids(self, name: str, poster: Poster | None) -> list[str]:
        """Ids of the rows a relation field names: all of them, or those the poster may see."""
        rel = inspect(self.model).relationships.get(name)
        if rel is None:
            return []
        target = rel.mapper.class_
        stmt = select(target.id).order_by(target.id)
        with self.app.app_context():
            if poster is not None:
                user = db.session.get(m.User, poster.user_id)
                stmt = stmt.where(access.criteria(user, target), target.deleted_at.is_(None))
            return [str(row_id) for row_id in db.session.execute(stmt).scalars()]

    def _strategies(self, fields: dict[str, FormField]) -> dict[str, st.SearchStrategy[Any]]:
        """What post() draws: well-formed values around hostile text, or hostile values
        everywhere; maybe one hostile field on top; owner and bookkeeping names the form
        does not have; and, on an edit form, maybe a stale version."""
        own = {name: plausible(spec, self._ids(name, self.poster)) for name, spec in fields.items()}
        anything = {name: hostile(spec, self._ids(name, None)) for name, spec in fields.items()}
        one_bad = st.sampled_from(sorted(anything)).flatmap(
            lambda name: anything[name].map(lambda value: {name: value})
        )
        extra = st.dictionaries(
            st.sampled_from([name for name in MASS_ASSIGNMENT if name not in fields]),
            st.sampled_from(self._neighbours_values()),
            max_size=4,
        )
        return {
            "values": st.fixed_dictionaries(own) | st.fixed_dictionaries(anything),
            "bad": st.none() | one_bad,
            "extra": extra,
            "stale": st.sampled_from([False, False, self.mode == "edit"]),
        }

    def _typical(self, fields: dict[str, FormField]) -> dict[str, Any]:
        label = f"{self.poster.key}-{self.mode}"
        return {name: typical(spec, self._ids(name, self.poster), label) for name, spec in fields.items()}

    def _crossed(self, fields: dict[str, FormField]) -> dict[str, Any] | None:
        """The typical entry linking another school's programme, agreement, event or
        seminar; None when the form links none."""
        values = self._typical(fields)
        chosen = values.get("school") or self.poster.school_id or self._neighbours_school()
        crossed = {}
        with self.app.app_context():
            for name, spec in fields.items():
                rel = inspect(self.model).relationships.get(name)
                target = rel.mapper.class_ if rel is not None else None
                if target in m.SCHOOL_OWNED:
                    stmt = select(target.id).where(target.school_id != int(chosen)).order_by(target.id)
                    other = db.session.execute(stmt).scalar()
                    if other is not None:
                        crossed[name] = [str(other)] if spec.multiple else str(other)
        return values | crossed if crossed else None

    def _neighbours_values(self) -> list[str]:
        with self.app.app_context():
            programme = db.session.execute(
                select(m.Programme.id).where(m.Programme.school_id == self._neighbours_school())
            ).scalar()
        ids = (self._neighbours_school(), self.neighbour.partner_id, programme)
        return ["approved", "admin", "1", "0", "", "2020-01-01", *(str(value) for value in ids if value)]

    def _neighbours_school(self) -> int:
        return self.neighbour.school_id or min(self.neighbour.agreed)

    # -- posting ------------------------------------------------------------------------------------

    def _fuzz(self, url: str, fields: dict[str, FormField], target: int | None) -> None:
        def post(
            values: dict[str, Any], bad: dict[str, Any] | None, extra: dict[str, str], stale: bool
        ) -> None:
            data = {
                name: value for name, value in (extra | values | (bad or {})).items() if value is not None
            }
            data["csrf_token"] = self.signed_in.token
            if target is not None:
                with self.app.app_context():
                    version = db.session.get(self.model, target).version
                # A stale version takes the path that reports someone else's changes.
                data["loaded_version"] = str(version - 1 if stale else version)
            self._post_and_check(url, data, target)

        # First the typical entry, and the same linking another school's rows.
        for values in (self._crossed(fields), self._typical(fields)):
            if values is not None:
                post = example(values=values, bad=None, extra={}, stale=False)(post)
        post = given(**self._strategies(fields))(post)
        settings(SETTINGS, max_examples=EXAMPLES[self.poster.key])(post)()

    def _post_and_check(self, url: str, data: dict[str, Any], target: int | None) -> None:
        with self.app.app_context():
            before = _world()
        response = self.client.post(url, data=data)
        assert_sound(response, url)
        with self.app.app_context():
            changes = _changes(before, _world(), self.poster)
            if not _saved(response):
                assert not changes, f"a refused post to {url} wrote {sorted(changes, key=str)}"
                return
            table = self.model.__tablename__
            rows = {row_id for name, row_id in changes if name == table}
            elsewhere = {(name, row_id) for name, row_id in changes if name != table and row_id != "count"}
            assert not elsewhere, f"a post to {url} wrote other tables' rows: {sorted(elsewhere)}"
            assert rows <= {target} if target else len(rows) <= 1, f"{url} wrote rows {rows}"
            stored = [db.session.get(self.model, row_id) for row_id in rows]
            problems = [problem for row in stored for problem in _tenancy_problems(row, self.poster)]
            assert not problems, f"{self.poster.key} via {url}: {problems}"
            shown = [getattr(row, name) for row in stored for name, _label in self.view._details_columns]
        if any(isinstance(value, str) and "<" in value for value in shown):
            self._details_escaped(rows, any(isinstance(value, str) and SCRIPT in value for value in shown))

    def _details_escaped(self, rows: set[int], has_script: bool) -> None:
        for row_id in rows:
            url = f"/admin/{self.view.endpoint}/details/?id={row_id}"
            page = self.client.get(url)
            assert_sound(page, url)
            assert page.status_code == 200, url
            assert not has_script or str(escape(SCRIPT)) in page.text, f"{url} does not show the text escaped"

    # -- in vain -----------------------------------------------------------------------------------------

    def _post_in_vain(self, url: str, **fields: str) -> None:
        """Posting to a form the poster may not use writes nothing."""
        data = dict.fromkeys(("name", "title", "text", "topic", "email"), SCRIPT)
        data.update(school=str(self._neighbours_school()), csrf_token=self.signed_in.token, **fields)
        with self.app.app_context():
            before = _world()
        response = self.client.post(url, data=data)
        assert_sound(response, url)
        assert response.status_code in (403, 404), f"{url}: {response.status_code} for {self.poster.key}"
        with self.app.app_context():
            assert not _changes(before, _world(), self.poster), f"a refused post to {url} wrote"

    def _neighbours_rows_in_vain(self) -> None:
        """A tenant editing or deleting its neighbour's row changes nothing."""
        if self.mode != "edit" or self.poster.role in (access.ADMIN, access.COORDINATOR):
            return
        with self.app.app_context():
            row_id = db.session.execute(self._neighbours_rows()).scalars().first()
        if row_id is not None:
            self._post_in_vain(self._edit_url(row_id))
            self._post_in_vain(f"/admin/{self.view.endpoint}/delete/", id=str(row_id))

    def _neighbours_rows(self) -> Any:
        model = self.model
        stmt = select(model.id).order_by(model.id)
        if model is m.School:
            return stmt.where(model.id == self._neighbours_school())
        if model is m.Partner:
            return stmt.where(model.id == self.neighbour.partner_id)
        if model is m.PartnerResource:
            return stmt.where(model.partner_id == self.neighbour.partner_id)
        if hasattr(model, "school_id"):
            return stmt.where(model.school_id == self._neighbours_school())
        return stmt.where(model.id.is_(None))  # catalogs and accounts: no tenant, refused by role above


@pytest.mark.usefixtures("fresh_db")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_input_to_every_form(
    app: Flask, sessions: dict[str, SignedIn], posters: dict[str, Poster], endpoint: str
) -> None:
    view = _views(app)[endpoint]
    fuzzed = {
        (key, mode)
        for mode in ("create", "edit")
        for key in POSTERS
        if FormFuzz(app, sessions[key], posters[key], view, mode, posters[NEIGHBOURS[key]]).run()
    }
    if endpoint not in ("history", "signin"):  # read-only for everyone
        assert {("admin", "create"), ("admin", "edit")} <= fuzzed
    # Whatever was stored, the list and its exports still render, escaped.
    base = f"/admin/{endpoint}/"
    urls = [f"{base}?page_size=100", f"{base}export/csv/", f"{base}export/xlsx/"]
    checks = [("admin", url) for url in urls] + [(key, urls[0]) for key, _mode in fuzzed if key != "admin"]
    for key, url in dict.fromkeys(checks):
        response = sessions[key].client.get(url)
        assert_sound(response, url)
        assert response.status_code == 200, f"{url} for {key}"


# --- the list pages' other doors: search, filters, sorting, paging, look-ups -----------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_search_filters_and_lookups(app: Flask, sessions: dict[str, SignedIn], endpoint: str) -> None:
    view = _views(app)[endpoint]
    params = ["search", "sort", "desc", "page", "page_size"]
    params += [f"flt0_{index}" for index in range(len(view._filters or ()))]
    lookups = [f"/admin/{endpoint}/ajax/lookup/?name={name}&query=" for name in view.form_ajax_refs or {}]
    text = hostile_text()

    @settings(SETTINGS, max_examples=4)
    @given(
        key=st.sampled_from(["admin", "school31"]),
        query=st.dictionaries(st.sampled_from(params), text, min_size=1, max_size=3),
        term=text,
    )
    @example(key="school31", query=dict.fromkeys(params, "a\x00b"), term="a\x00b")
    def get(key: str, query: dict[str, str], term: str) -> None:
        client = sessions[key].client
        urls = [f"/admin/{endpoint}/?{urllib.parse.urlencode(query)}"]
        urls += [f"/admin/{endpoint}/details/?id={urllib.parse.quote(term)}"]
        urls += [lookup + urllib.parse.quote(term) for lookup in lookups]
        for url in urls:
            assert_sound(client.get(url), url)

    get()


# --- ids no row can have: beyond 32 bits, or "digits" that int() refuses --------------------------------

ODD_IDS = (str(2**31), str(-(2**31) - 1), "²")
PAGES_BY_SCHOOL = (
    "/api/plan.json?school={id}&year=2019",
    "/admin/calendar/?school={id}&year=2019",
    "/admin/calendar/export/json/?school={id}&year=2019",
    "/admin/dashboard/?school={id}",
)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_odd_ids_in_every_door(
    app: Flask, sessions: dict[str, SignedIn], posters: dict[str, Poster], endpoint: str
) -> None:
    """PostgreSQL compares an id only with a 32-bit integer: anything else must be a
    404 or a message, never a refused query."""
    view, admin = _views(app)[endpoint], sessions["admin"]
    with app.app_context():
        before = _world()
    for odd in ODD_IDS:
        url = f"/admin/{endpoint}/details/?id={odd}"
        assert_sound(admin.client.get(url), url)
        posts = {
            f"/admin/{endpoint}/delete/": {"id": odd},
            f"/admin/{endpoint}/action/": {"action": "delete", "rowid": odd},
            f"/admin/{endpoint}/transition/?id={odd}": {"transition": "cancel"},
            **{f"/admin/{endpoint}/new/?{name}": {name: odd} for name in view.form_ajax_refs or {}},
        }
        for url, data in posts.items():
            assert_sound(admin.client.post(url, data=data | {"csrf_token": admin.token}), url)
    with app.app_context():
        assert not _changes(before, _world(), posters["admin"])


@pytest.mark.parametrize("page", PAGES_BY_SCHOOL)
def test_odd_ids_in_the_pages_by_school(sessions: dict[str, SignedIn], page: str) -> None:
    for key in ("admin", "school31"):
        for odd in ODD_IDS:
            url = page.format(id=urllib.parse.quote(odd))
            assert_sound(sessions[key].client.get(url), url)


# --- the forms that are not model views ----------------------------------------------------------------

OTHER_FORMS = {
    # url: (who posts, fields); {event} is an event of СОШ № 31.
    "/login": ("anonymous", ("email", "password")),
    "/password": ("school31", ("current_password", "new_password", "confirm")),
    "/admin/event/transition/?id={event}": ("school31", ("transition", "comment")),
    "/admin/event/outcome/?id={event}&outcome=held&year=2019": (
        "school31",
        (
            *("year", "held_on", "held_until", "students_count", "students_grades", "teachers_count"),
            *("parents_count", "results", "evidence_url"),
        ),
    ),
    "/admin/event/outcome/?id={event}&outcome=not_held": ("school31", ("year", "results")),
    "/admin/trash/restore/": ("school31", ("batch",)),
    "/admin/trash/purge/": ("admin", ("batch",)),
    "/admin/calendar/feed/?school={text}": ("school31", ()),
    "/admin/plan_import/upload/": ("school31", ("school", "year")),
}
TRANSITIONS = ("submit", "approve", "return", "cancel", "reopen")


@pytest.mark.usefixtures("fresh_db")
@pytest.mark.parametrize("form", OTHER_FORMS)
def test_hostile_input_to_the_other_forms(
    app: Flask, sessions: dict[str, SignedIn], posters: dict[str, Poster], form: str
) -> None:
    key, names = OTHER_FORMS[form]
    if key == "anonymous":
        client = app.test_client()
        token = csrf_token(client.get("/login").text)
    else:
        client, token = sessions[key].client, sessions[key].token
    values = hostile(FormField("any", "text"), [])
    fields = {name: values for name in names}
    if "transition" in fields:
        fields["transition"] = st.sampled_from(TRANSITIONS) | values

    def approved_event() -> int:
        """A fresh one for every example: a transition changes the event's state."""
        with app.app_context():
            stmt = select(m.Event.id).where(
                m.Event.school_id == posters["school31"].school_id, m.Event.state == "approved"
            )
            return db.session.execute(stmt.order_by(m.Event.id)).scalars().first()

    @settings(SETTINGS, max_examples=5)
    @given(data=st.fixed_dictionaries(fields), text=hostile_text())
    @example(data=dict.fromkeys(names, SCRIPT) | {"transition": "return"}, text=SCRIPT)
    @example(data=dict.fromkeys(names, "a\x00b") | {"transition": "return"}, text="a\x00b")
    def post(data: dict[str, Any], text: str) -> None:
        event = approved_event()
        url = form.format(event=event, text=urllib.parse.quote(text))
        data = {name: value for name, value in data.items() if value is not None and name in names}
        response = client.post(url, data=data | {"csrf_token": token})
        assert_sound(response, url)
        if _saved(response):
            assert_sound(client.get(response.headers["Location"]), response.headers["Location"])
        if "transition" in data:  # the comment is in the event's history
            details = f"/admin/event/details/?id={event}"
            assert_sound(client.get(details), details)

    post()
