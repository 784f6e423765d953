"""Lists, pickers and filters at regional scale (issue 6).

A list counts its rows only up to a cap and then says «more than 10 000»; no
list sends an uncapped COUNT; relation fields over large tables are ajax
look-ups that answer only rows the user may see, a page at a time; plain
selects list only the schools and the small catalogs.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from coop import access
from coop import models as m
from coop.extensions import db
from coop.views import MENU, loading, pickers
from coop.views import base as base_view
from coop.views.base import SecuredModelView

from .conftest import ACCOUNTS, csrf_token
from .test_import_seed import seed_docx
from .test_import_web import upload

MODEL_VIEWS = {
    model.__name__.lower(): model
    for _area, modules in MENU
    for module in modules
    for _view, model, _name in getattr(module, "VIEWS", ())
}
# The choice lists of fields added in the site: a picker offers the municipality's and the
# user's school's own, tens of them.
SMALL_TABLES = {m.School, *m.CATALOGS, m.ChoiceList}


def _views(app: Flask) -> list[SecuredModelView]:
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, SecuredModelView)]


@pytest.fixture
def small_cap(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    """A cap of 7 and pages of 5 rows: the demo plan is then a «long» list."""
    view = next(v for v in _views(app) if v.endpoint == "event")
    monkeypatch.setattr(view, "page_size_options", (5, *view.page_size_options))
    monkeypatch.setattr(loading, "COUNT_CAP", 7)
    return 7


def _event_count(app: Flask) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(m.Event).where(m.Event.deleted_at.is_(None))
        return db.session.execute(stmt).scalar_one()


def test_a_long_list_says_more_than_the_cap_and_pages_on(app: Flask, client_as: Any, small_cap: int) -> None:
    events = _event_count(app)
    assert events > 3 * small_cap, "the demo plan is too short for this test"
    client = client_as("admin")
    with app.test_request_context():
        more_than_the_cap = str(loading.CappedCount(small_cap + 1))
    first = client.get("/admin/event/?page_size=5").text
    assert f"({events})" not in first
    assert f"({more_than_the_cap})" in first
    pager = first.split('class="pagination capped-pager"', 1)[1].split("</ul>", 1)[0]
    assert "?page=1&amp;" in pager  # the next page
    # No «last page»: the pager links only to the pages around this one.
    assert max(int(n) for n in re.findall(r"[?&]page=(\d+)", pager)) == 3


def test_a_list_shorter_than_the_cap_shows_its_exact_count(app: Flask, client_as: Any) -> None:
    events = _event_count(app)
    assert events <= loading.COUNT_CAP
    body = client_as("admin").get("/admin/event/?page_size=20").text
    assert f"({events})" in body
    assert "capped-pager" not in body


def test_the_last_page_of_a_capped_list_knows_the_count(app: Flask, client_as: Any, small_cap: int) -> None:
    """Counting resumes from the page shown: near the end the count is exact again."""
    events = _event_count(app)
    last = (events - 1) // 5
    body = client_as("admin").get(f"/admin/event/?page_size=5&page={last}").text
    assert f"({events})" in body
    assert "capped-pager" not in body


def _list_counts(statements: list[str]) -> list[str]:
    """The list's own count among a page's statements (the menu's badges count too)."""
    return [s for s in statements if s.lower().startswith("select count(*)") and "events.id" in s]


def _count_shown(body: str) -> str:
    found = re.search(r"Список \(([^)]*)\)", body)
    assert found, "no count on the list page"
    return html.unescape(found.group(1))


@pytest.mark.parametrize(
    ("order", "walks_from_page"),
    [("", True), ("&sort=0&desc=1", False), ("&sort=0", False)],
    ids=["by id", "by the first column, descending", "by the first column"],
)
def test_every_page_counts_the_same_rows_whatever_the_order(
    app: Flask,
    client_as: Any,
    small_cap: int,
    statements: list[str],
    monkeypatch: pytest.MonkeyPatch,
    order: str,
    walks_from_page: bool,
) -> None:
    """A list in the order of its ids counts from its page's first row on, the rows before
    the page known by their number (a deep page walks no more than the first); any other
    order counts from the start. Either way, each page says what the first says."""
    events = _event_count(app)
    cap = events // 2  # the first pages say «more than», the last ones the number
    monkeypatch.setattr(loading, "COUNT_CAP", cap)
    client = client_as("admin")
    with app.test_request_context():
        capped = str(loading.CappedCount(cap + 1))
    for page in range((events - 1) // 5):  # every page but the last (its rows are its count)
        statements.clear()
        body = client.get(f"/admin/event/?page_size=5&page={page}{order}").text
        left = events - 5 * page
        assert _count_shown(body) == (str(events) if left <= cap else capped), page
        (count,) = _list_counts(statements)
        assert ("events.id >= " in count) is (walks_from_page and page > 0), count


def test_a_list_ordered_by_id_descending_counts_from_its_page_too(
    app: Flask, client_as: Any, small_cap: int, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    view = next(v for v in _views(app) if v.endpoint == "event")
    monkeypatch.setattr(view, "column_default_sort", ("id", True))
    monkeypatch.setattr(loading, "COUNT_CAP", 12)  # the rows from the page on (5 to 9) all counted
    events = _event_count(app)
    statements.clear()
    body = client_as("admin").get(f"/admin/event/?page_size=5&page={(events - 1) // 5 - 1}").text
    assert _count_shown(body) == str(events)
    (count,) = _list_counts(statements)
    assert "events.id <= " in count


def test_no_list_sends_an_uncapped_count(app: Flask, client_as: Any, statements: list[str]) -> None:
    """Every COUNT a list page sends stops at a LIMIT: none reads a whole large table."""
    for key in ("admin", "school31"):
        client = client_as(key)
        for endpoint in MODEL_VIEWS:
            statements.clear()
            response = client.get(f"/admin/{endpoint}/?page_size=20&search=а")
            if response.status_code != 200:
                continue
            counts = [s for s in statements if "count(" in s.lower()]
            uncapped = [s for s in counts if "limit" not in s.lower()]
            assert uncapped == [], f"{key} /admin/{endpoint}/: {uncapped}"


def test_plain_selects_list_only_schools_and_catalogs(app: Flask) -> None:
    """A relation field to any other table is an ajax look-up (form_ajax_refs)."""
    plain = {}
    for view in _views(app):
        for name in view.form_columns or ():
            prop = loading.relationship_of(view.model, name)
            if prop is not None and name not in (view.form_ajax_refs or {}):
                plain[f"{view.endpoint}.{name}"] = prop.mapper.class_
    assert plain, "no plain select found: the test looks at the wrong fields"
    assert {field: model for field, model in plain.items() if model not in SMALL_TABLES} == {}


def _user(key: str) -> m.User | None:
    return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one_or_none()


def _lookup(client: FlaskClient, endpoint: str, field: str, query: str = "", limit: int = 10) -> Any:
    response = client.get(f"/admin/{endpoint}/ajax/lookup/?name={field}&query={query}&limit={limit}")
    return response.status_code, response.get_json() if response.status_code == 200 else None


@pytest.mark.parametrize("key", ["admin", "coordinator", "school31", "kemsu"])
def test_ajax_look_ups_answer_only_visible_rows_a_page_at_a_time(
    app: Flask, client_as: Any, key: str
) -> None:
    client = client_as(key)
    checked = 0
    for view in _views(app):
        for field, loader in (view._form_ajax_refs or {}).items():
            status, found = _lookup(client, view.endpoint, field, limit=100_000)
            if status == 403:
                continue
            assert status == 200, f"{view.endpoint}.{field}: {status}"
            assert len(found) <= loader.page_size
            with app.app_context():  # outside a request: the ORM adds no policy of its own
                stmt = select(loader.model.id).where(access.criteria(_user(key), loader.model))
                visible = set(db.session.execute(stmt).scalars())
            assert {row_id for row_id, _label in found} <= visible, f"{key}: {view.endpoint}.{field}"
            checked += 1
    assert checked, "no look-up answered"


def test_a_look_up_of_another_schools_rows_finds_nothing(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """The school's look-up of agreements, searched by a number only the other school has."""
    with app.app_context():
        foreign = db.session.execute(
            select(m.Agreement.number)
            .where(m.Agreement.school_id == ids["gymnasium17"], m.Agreement.number != "")
            .limit(1)
        ).scalar_one()
        own = set(
            db.session.execute(
                select(m.Agreement.number).where(m.Agreement.school_id == ids["school31"])
            ).scalars()
        )
    assert foreign not in own
    status, found = _lookup(client_as("school31"), "remark", "agreement", query=foreign)
    assert status == 200
    assert found == []
    status, found = _lookup(client_as("admin"), "remark", "agreement", query=foreign)
    assert found, "the admin's look-up finds it: the search itself works"


def test_a_look_up_label_needs_no_statement_of_its_own(
    app: Flask, client_as: Any, statements: list[str]
) -> None:
    """An agreement's label names its school and partner: loaded with it, not row by row."""
    client = client_as("admin")
    _lookup(client, "remark", "agreement")  # warm-up
    statements.clear()
    status, found = _lookup(client, "remark", "agreement")
    assert status == 200 and len(found) > 1
    assert len(statements) <= 2  # the signed-in user, the look-up


@pytest.mark.parametrize("linked", ["other school's", "missing"])
def test_a_look_up_field_posted_with_a_row_out_of_reach_is_refused(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None, linked: str
) -> None:
    """Not saved as empty either: the form comes back with the field's error."""
    with app.app_context():
        seminar = db.session.execute(
            select(m.Seminar.id).where(m.Seminar.school_id == ids["gymnasium17"]).limit(1)
        ).scalar_one()
        before = db.session.execute(select(func.count()).select_from(m.Limitation)).scalar_one()
    client = client_as("school31")
    page = client.get("/admin/limitation/new/")
    response = client.post(
        "/admin/limitation/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "title": "Нет лаборатории",
            "seminar": str(seminar if linked == "other school's" else 10**9),
        },
    )
    assert response.status_code == 200  # the form again
    seminar_input = re.search(
        r'<input[^>]*name="seminar"[^>]*>\s*<div class="invalid-feedback">(.*?)</div>', response.text, re.S
    )
    assert seminar_input and "is-invalid" in seminar_input.group(0)
    assert re.findall(r"<li>(.*?)</li>", seminar_input.group(1)) == ["Недопустимое значение"]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(m.Limitation)).scalar_one() == before


@pytest.mark.parametrize("empty", ["", "__None"])
def test_a_look_up_field_left_empty_is_saved_empty(
    app: Flask, client_as: Any, fresh_db: None, empty: str
) -> None:
    """A look-up cleared in the browser posts nothing or Flask-Admin's «__None»: no row, no error."""
    client = client_as("school31")
    page = client.get("/admin/limitation/new/")
    response = client.post(
        "/admin/limitation/new/",
        data={"csrf_token": csrf_token(page.text), "title": "Нет лаборатории", "seminar": empty},
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        saved = db.session.execute(
            select(m.Limitation).where(m.Limitation.title == "Нет лаборатории")
        ).scalar_one()
        assert saved.seminar_id is None


def test_a_look_up_invites_typing_in_russian(client_as: Any) -> None:
    page = client_as("admin").get("/admin/remark/new/").text
    assert 'data-placeholder="Выберите или начните вводить для поиска"' in page
    assert "модель" not in page  # Flask-Admin's own placeholder: «choose a model»


@pytest.fixture
def few_listed(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    """School pickers list at most one school: the demo's two are then «many»."""
    for view in _views(app):
        loader = (view._form_ajax_refs or {}).get("school")
        if loader is not None:
            monkeypatch.setattr(loader, "list_up_to", 1)
    return 1


def _school_field(page: str) -> str | None:
    """The school field of a form page: its <select> or its look-up <input>."""
    found = re.search(r'<select[^>]*name="school".*?</select>|<input[^>]*name="school"[^>]*>', page, re.S)
    return found.group(0) if found else None


def test_every_school_picker_is_listed_when_few_and_looked_up_when_many(app: Flask) -> None:
    """Each form with a school field: a look-up past LIST_UP_TO schools (ListOrLookupField)."""
    pickers = {
        view.endpoint: view._form_ajax_refs.get(name)
        for view in _views(app)
        for name in view.form_columns or ()
        if (prop := loading.relationship_of(view.model, name)) is not None and prop.mapper.class_ is m.School
    }
    assert {"event", "programme", "agreement", "seminar", "limitation", "remark", "user"} <= set(pickers)
    assert all(loader is not None and loader.list_up_to == loading.LIST_UP_TO for loader in pickers.values())


def test_a_school_picker_lists_the_schools_while_few(client_as: Any) -> None:
    field = _school_field(client_as("admin").get("/admin/event/new/").text)
    assert field and field.startswith("<select")
    assert "МБОУ «СОШ № 31»</option>" in field and "МБОУ «Гимназия № 17»</option>" in field


def test_a_school_picker_is_a_look_up_past_the_few(
    app: Flask, client_as: Any, ids: dict[str, int], few_listed: int
) -> None:
    """The admin sees two schools, over the cap: a look-up box holding the row's school only;
    the partner sees one, its agreements' school: still a select; a school has no picker."""
    with app.app_context():
        event_id = db.session.execute(
            select(m.Event.id).where(m.Event.school_id == ids["school31"]).limit(1)
        ).scalar_one()
    page = client_as("admin").get(f"/admin/event/edit/?id={event_id}").text
    field = _school_field(page)
    assert field and field.startswith("<input") and 'data-role="select2-ajax"' in field
    assert "name=school" in field and f'value="{ids["school31"]}"' in field
    assert "Гимназия" not in field  # the other school is not sent
    assert "<option" not in field
    new = _school_field(client_as("admin").get("/admin/event/new/").text)
    assert new and new.startswith("<input") and "value=" not in new.replace("data-", "")
    partner = _school_field(client_as("kemsu").get("/admin/event/new/").text)
    assert partner and partner.startswith("<select") and "МБОУ «СОШ № 31»</option>" in partner
    assert _school_field(client_as("school31").get("/admin/event/new/").text) is None


def test_a_school_picker_past_the_few_reads_one_school_more_not_all(
    app: Flask, client_as: Any, few_listed: int, fresh_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At national scale a form must not read every school to learn there are many: one past
    the cap tells (SecuredModelView._fill_choices, loading.load_choices)."""
    with app.app_context():
        db.session.add(m.School(name="МБОУ «СОШ № 99» г. Новокузнецка", short_name="МБОУ «СОШ № 99»"))
        db.session.commit()
        assert db.session.execute(select(func.count()).select_from(m.School)).scalar_one() == 3
    read: list[int] = []

    def load_choices(models: list[type], up_to: dict[type, int] | None = None) -> Any:
        found = loading.load_choices(models, up_to)
        read.append(len(found.get(m.School, [])))
        return found

    monkeypatch.setattr(base_view, "load_choices", load_choices)
    field = _school_field(client_as("admin").get("/admin/event/new/").text)
    assert field and field.startswith("<input")  # a look-up
    assert read == [few_listed + 1]


@pytest.mark.parametrize("key", ["school31", "kemsu"])
def test_a_school_look_up_finds_no_school_out_of_reach(client_as: Any, key: str) -> None:
    """A school finds its own school only, a partner the schools it has agreements with."""
    client = client_as(key)
    status, found = _lookup(client, "event", "school", query="Гимназия")
    assert status == 200 and found == []
    status, found = _lookup(client, "event", "school", query="31")
    assert status == 200 and [label for _id, label in found] == ["МБОУ «СОШ № 31»"]
    status, found = _lookup(client_as("admin"), "event", "school", query="гимназ")
    assert [label for _id, label in found] == ["МБОУ «Гимназия № 17»"]  # the search itself works


def _event_form(page: str, **changes: str) -> dict[str, Any]:
    """The edit form's fields as posted, with changes."""
    data: dict[str, Any] = {"csrf_token": csrf_token(page)}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag and 'type="file"' not in tag:
            data.setdefault(name.group(1), value.group(1).replace("&#34;", '"') if value else "")
    for name, select_ in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        data[name] = re.findall(r'<option[^>]*value="([^"]*)"[^>]*selected', select_)
    return data | changes


def test_a_school_look_up_saves_the_school_chosen_and_refuses_one_out_of_reach(
    app: Flask, client_as: Any, ids: dict[str, int], few_listed: int, fresh_db: None
) -> None:
    with app.app_context():
        event_id, title = db.session.execute(
            select(m.Event.id, m.Event.title).where(m.Event.school_id == ids["school31"]).limit(1)
        ).one()
    client = client_as("admin")
    url = f"/admin/event/edit/?id={event_id}"
    for school, saved in ((str(10**9), False), ("x1", False), (str(ids["gymnasium17"]), True)):
        page = client.get(url).text
        response = client.post(url, data=_event_form(page, school=school, programme="", title=title))
        if saved:
            assert response.status_code == 302
        else:
            assert response.status_code == 200
            field = _school_field(response.text)
            assert field and "is-invalid" in field
        with app.app_context():
            now = db.session.get(m.Event, event_id)
            assert now is not None
            assert now.school_id == (ids["gymnasium17"] if saved else ids["school31"])


def _page_school_field(page: str) -> str | None:
    """The school picker of a custom page (dashboard, calendar, coverage, import)."""
    found = re.search(r'<select[^>]*name="school".*?</select>|<input[^>]*name="school"[^>]*>', page, re.S)
    return found.group(0) if found else None


@pytest.mark.parametrize("url", ["/admin/", "/admin/dashboard/", "/admin/calendar/", "/admin/coverage/"])
def test_a_custom_pages_school_picker_is_a_look_up_past_the_few(
    client_as: Any, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """Past LIST_UP_TO schools, the picker of the custom pages reads a few schools and the one
    asked for, and is the events' policy-scoped look-up: no school listed in the page."""
    monkeypatch.setattr(pickers, "LIST_UP_TO", 1)
    coordinator = client_as("coordinator")
    page = coordinator.get(f"{url}?school={ids['gymnasium17']}").text
    field = _page_school_field(page)
    assert field and field.startswith("<input") and 'data-role="select2-ajax"' in field
    assert 'data-url="/admin/event/ajax/lookup/?name=school"' in field
    assert f'value="{ids["gymnasium17"]}"' in field and "Гимназия № 17" in html.unescape(field)
    assert "<option" not in field and "СОШ № 31" not in html.unescape(field)
    assert "admin/js/form.js" in page  # the script that makes the box a look-up
    monkeypatch.setattr(pickers, "LIST_UP_TO", 50)
    listed = _page_school_field(coordinator.get(url).text)
    assert listed and listed.startswith("<select") and "admin/js/form.js" not in coordinator.get(url).text


def test_the_import_takes_a_school_from_its_look_up(
    client_as: Any, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pickers, "LIST_UP_TO", 1)
    admin = client_as("admin")
    field = _page_school_field(admin.get("/admin/plan_import/").text)
    assert field and 'data-role="select2-ajax"' in field and "<option" not in field
    preview = upload(admin, seed_docx(), school=ids["gymnasium17"], year=2030)
    assert preview.status_code == 200 and "МБОУ «Гимназия № 17»" in html.unescape(preview.text)
    refused = upload(admin, seed_docx(), school=10**9, year=2030)  # no such school: asked again
    assert refused.status_code == 400 and "Выберите школу" in refused.text
