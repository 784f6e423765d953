"""Statements per request do not grow with the rows (issue 6): the budget of 8.

For every model view registered in the admin, as the admin, over more than 100
rows of its table: a list page of the smallest page size and one of 100 rows
send the same number of SQL statements. A difference is an N+1: a column whose
relation is loaded row by row (add it to ``column_select_related_list``) or a
``__str__`` that reaches into another relation (add it to models.LABEL_RELATIONS).

Every list, details page, edit form and create form stays within SQL_BUDGET
statements, as the admin (every field, every picker) and as a school user, with
more than 100 rows in every table: a picker that loaded a large table row by
row, or a relation loaded lazily per field, would exceed it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, insert, select

from coop import api_tokens, api_v1, create_app, sqlcount
from coop import models as m
from coop.extensions import db
from coop.seed import bench as bench_data
from coop.views import MENU
from coop.views.base import SecuredModelView

from .conftest import ACCOUNTS, _restore

MODEL_VIEWS = {
    model.__name__.lower(): model
    for _area, modules in MENU
    for module in modules
    for _view, model, _name in getattr(module, "VIEWS", ())
}
LARGE_PAGE = 100
SQL_BUDGET = 8  # statements per page, the sign-in's user load included


def _fill_catalogs() -> None:
    """The seeded catalogs have a dozen rows each: add enough to fill a page of 100."""
    for model in m.CATALOGS:
        table = model.__table__
        rows = [
            {
                key: value
                for key, value in {
                    "name": f"Пункт {i}",
                    "code": f"T{i}",
                    "group": "Личностные",
                    "title": f"Результат {i}",
                }.items()
                if key in table.c
            }
            for i in range(LARGE_PAGE + 1)
        ]
        db.session.execute(insert(table), rows)
    db.session.commit()


def _fill_sign_ins() -> None:
    """The sign-in log is written by signing in: a page of 100 and more, directly."""
    at = dt.datetime(2026, 11, 22, 8, 0)
    rows = [
        {"at": at, "email": f"user{i}@coop.example", "ip": "127.0.0.1", "user_agent": "x"}
        | ({"success": True, "reason": "ok"} if i % 2 else {"success": False, "reason": "bad_password"})
        for i in range(LARGE_PAGE + 1)
    ]
    db.session.execute(insert(m.SignIn.__table__), rows)
    db.session.commit()


def _fill_added_fields() -> None:
    """Choice lists and added fields (switched off, so that forms stay as they are)."""
    stamp = {"created_at": dt.datetime(2026, 11, 22), "updated_at": dt.datetime(2026, 11, 22), "version": 1}
    lists = [{"name": f"Список {i}", "items": ["а", "б"], **stamp} for i in range(LARGE_PAGE + 1)]
    db.session.execute(insert(m.ChoiceList.__table__), lists)
    fields = [
        {
            **stamp,
            **dict(model="school", key=f"field_{i}", label=f"Поле {i}", label_en="", kind="text"),
            **dict(required=False, help_text="", group="", sort_order=100, filled_by="school"),
            **dict(in_list=False, in_plan_document=False, is_active=False),
        }
        for i in range(LARGE_PAGE + 1)
    ]
    db.session.execute(insert(m.FieldDefinition.__table__), fields)
    db.session.commit()


def _fill_data_requests() -> None:
    """Data requests to every school (their board and the list count each school) and
    questions of the first."""
    stamp = {"created_at": dt.datetime(2026, 11, 22), "updated_at": dt.datetime(2026, 11, 22), "version": 1}
    rows = [
        {**stamp, "title": f"Запрос {i}", "explanation": "", "year": 2026, "deadline": dt.date(2026, 12, 1)}
        | {"addressees": "all"}
        for i in range(LARGE_PAGE + 1)
    ]
    db.session.execute(insert(m.DataRequest.__table__), rows)
    first = db.session.execute(select(func.min(m.DataRequest.id))).scalar_one()
    questions = [
        {**stamp, "request_id": first, "label": f"Вопрос {i}", "kind": "integer", "required": False}
        | {"help_text": "", "sort_order": i, "prefill": "lines_held" if i % 2 else None}
        for i in range(LARGE_PAGE + 1)
    ]
    db.session.execute(insert(m.DataRequestQuestion.__table__), questions)
    db.session.commit()


@pytest.fixture(scope="module")
def many_rows(app: Flask) -> Iterator[None]:
    """Over 100 rows in every table a list view shows, on top of the demo data; the
    demo anew afterwards, as fresh_db does (once for the module: loading takes seconds)."""
    with app.app_context():
        bench_data.generate(
            schools=101,
            partners=101,
            agreements=150,
            events=200,
            years=2,
            users=101,
            seed=1,
            today=dt.date(2026, 11, 22),
        )
        _fill_catalogs()
        _fill_sign_ins()
        _fill_added_fields()
        _fill_data_requests()
    yield
    with app.app_context():
        db.session.rollback()
        _restore(app.config["DEMO_SNAPSHOT"])


def _statements(app: Flask, client: FlaskClient, url: str) -> int:
    count = 0

    def counter(*_args: Any) -> None:
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, url
    return count


def test_every_model_view_is_measured(app: Flask) -> None:
    admin = app.extensions["admin"][0]
    registered = {view.endpoint for view in admin._views if isinstance(view, SecuredModelView)}
    assert registered == set(MODEL_VIEWS)


# The pages of issue 13's budget, with the demo data, as the role that opens them.
NAMED_PAGES = {
    "events list, as the school": ("school31", "/admin/event/"),
    "events list, as the admin": ("admin", "/admin/event/"),
    "event edit form, as the admin": ("admin", "/admin/event/edit/?id={event}"),
    "event edit form, as the school": ("school31", "/admin/event/edit/?id={event}"),
    "school edit form, as the school": ("school31", "/admin/school/edit/?id={school}"),
    "agreements list, as the admin": ("admin", "/admin/agreement/"),
    "agreements list, as the school": ("school31", "/admin/agreement/"),
    "partners list, as the admin": ("admin", "/admin/partner/"),
    "partners list, as the school": ("school31", "/admin/partner/"),
    "dashboard, as the coordinator": ("coordinator", "/admin/dashboard/"),
    "home, as the coordinator": ("coordinator", "/admin/"),
    "home, as the school": ("school31", "/admin/"),
    "API tokens, as the school": ("school31", "/admin/apitokens/"),
    "API tokens, as the partner": ("kemsu", "/admin/apitokens/"),
    "data requests, as the coordinator": ("coordinator", "/admin/datarequests/"),
    "data requests, as the school": ("school31", "/admin/datarequests/"),
    "a data request's board, as the coordinator": ("coordinator", "/admin/datarequests/board/?id={request}"),
    "an answer, as the coordinator": (
        "coordinator",
        "/admin/datarequests/answer/?id={request}&school={school}",
    ),
    "the answer form, as the school": ("school31", "/admin/datarequests/answer/?id={request}"),
}


def _named_pages(app: Flask, client_as: Any, ids: dict[str, int]) -> dict[str, tuple[int, str]]:
    """Statements and the page of each of NAMED_PAGES (printed: pytest -s shows them)."""
    event = _row_id(app, m.Event, school_id=ids["school31"])
    with app.app_context():  # the demo's request, or the first of many_rows' (with their questions)
        data_request = db.session.execute(select(func.min(m.DataRequest.id))).scalar_one()
    clients: dict[str, FlaskClient] = {}
    measured = {}
    for name, (role, url) in NAMED_PAGES.items():
        client = clients.setdefault(role, client_as(role))
        url = url.format(event=event, school=ids["school31"], request=data_request)
        _statements(app, client, url)  # warm-up
        count = _statements(app, client, url)
        measured[name] = (count, client.get(url).text)
    print("\n".join(f"{count:3d}  {name}" for name, (count, _page) in measured.items()))
    over = {name: count for name, (count, _page) in measured.items() if count > SQL_BUDGET}
    assert not over, f"over {SQL_BUDGET} SQL statements: {over}"
    return measured


def test_the_budgeted_pages_stay_within_the_statement_budget(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """Issue 13's pages with the demo data (before many_rows fills the tables)."""
    measured = _named_pages(app, client_as, ids)
    form = measured["event edit form, as the admin"][1]
    assert re.search(r'<select[^>]*name="school"', form)  # two schools: listed


def test_the_budgeted_pages_stay_within_the_statement_budget_with_many_rows(
    app: Flask, many_rows: None, client_as: Any, ids: dict[str, int]
) -> None:
    """The same over 100 schools, partners, agreements, plan lines: the admin's school
    picker is a look-up, its schools not sent; the filters' options are capped."""
    measured = _named_pages(app, client_as, ids)
    form = measured["event edit form, as the admin"][1]
    assert re.search(r'<input[^>]*data-role="select2-ajax"[^>]*name="school"', form)
    with app.app_context():
        schools = db.session.execute(select(m.School.sql_label())).scalars().all()
    assert len(schools) > 100
    assert not [name for name in schools if f">{name}</option>" in form]  # no school listed


@pytest.mark.parametrize("endpoint", sorted(MODEL_VIEWS))
def test_list_statements_do_not_grow_with_rows(
    app: Flask, many_rows: None, client_as: Any, endpoint: str
) -> None:
    model = MODEL_VIEWS[endpoint]
    with app.app_context():
        rows = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    assert rows > LARGE_PAGE, f"only {rows} rows of {model.__name__}"
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    small_page = min(view.page_size_options)
    client = client_as("admin")
    small_url = f"/admin/{endpoint}/?page_size={small_page}"
    _statements(app, client, small_url)  # warm-up: the first request of a session does more
    small = _statements(app, client, small_url)
    large = _statements(app, client, f"/admin/{endpoint}/?page_size={LARGE_PAGE}")
    assert large == small, (
        f"{endpoint}: {small} SQL statements for a page of {small_page} rows, {large} for {LARGE_PAGE}"
    )
    assert large <= SQL_BUDGET, f"{endpoint}: {large} SQL statements for a list page"


def _row_id(app: Flask, model: type, **where: Any) -> int:
    """A row of the model with the most relations set: its pickers all have a value to show."""
    with app.app_context():
        stmt = select(model.id).filter_by(**where).order_by(model.id.desc()).limit(1)
        row_id = db.session.execute(stmt).scalar_one_or_none()
    assert row_id is not None, f"no {model.__name__} row"
    return row_id


@pytest.mark.parametrize("endpoint", sorted(MODEL_VIEWS))
def test_row_pages_stay_within_the_statement_budget(
    app: Flask, many_rows: None, client_as: Any, endpoint: str
) -> None:
    """Details, edit and create pages as the admin: every relation field shown."""
    model = MODEL_VIEWS[endpoint]
    client = client_as("admin")
    row_id = _row_id(app, model)
    urls = [f"/admin/{endpoint}/details/?id={row_id}"]
    if model not in (m.History, m.SignIn):  # append-only: no forms
        urls += [f"/admin/{endpoint}/edit/?id={row_id}", f"/admin/{endpoint}/new/"]
    _statements(app, client, urls[0])  # warm-up
    counts = {url: _statements(app, client, url) for url in urls}
    assert all(count <= SQL_BUDGET for count in counts.values()), counts


@pytest.mark.parametrize(
    "endpoint", ["programme", "agreement", "event", "eventexecution", "seminar", "limitation"]
)
def test_a_schools_row_pages_stay_within_the_statement_budget(
    app: Flask, many_rows: None, client_as: Any, ids: dict[str, int], endpoint: str
) -> None:
    """The same for a school user, whose forms lose the school field and see only its rows."""
    client = client_as("school31")
    row_id = _row_id(app, MODEL_VIEWS[endpoint], school_id=ids["school31"])
    urls = [f"/admin/{endpoint}/{page}" for page in (f"details/?id={row_id}", f"edit/?id={row_id}", "new/")]
    _statements(app, client, urls[0])  # warm-up
    counts = {url: _statements(app, client, url) for url in urls}
    assert all(count <= SQL_BUDGET for count in counts.values()), counts


def test_sql_count_header_only_when_asked(app: Flask, database_url: str) -> None:
    counted = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "AUTO_MIGRATE": False,
            "SQL_COUNT": True,
        }
    )
    client = counted.test_client()
    page = client.get("/login")
    assert int(page.headers[sqlcount.HEADER]) >= 1  # the login page lists the demo accounts it finds
    assert sqlcount.HEADER not in app.test_client().get("/login").headers
    with counted.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("key", ["admin", "school31", "kemsu"])
def test_api_pages_stay_within_the_statement_budget(
    app: Flask, client_as: Any, fresh_db: None, key: str
) -> None:
    """Each collection of the read API, a page of 100 rows, by a token (its look-up included)."""
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()
        _, secret = api_tokens.issue(user, "budget")
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    measured = {}
    for resource in api_v1.RESOURCES:
        if client.get(f"/api/v1/{resource.path}").status_code == 403:
            continue
        measured[resource.path] = _statements(app, client, f"/api/v1/{resource.path}?limit=100")
    print(key, measured)
    assert measured and max(measured.values()) <= SQL_BUDGET, measured
