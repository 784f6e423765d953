"""Saved views (coop/saved_views.py, coop/views/saved_views.py): who sees which, saving
a list's state and opening it again (filters, sort and columns applied to the rows shown),
bad input, exporting one, and a saved view of the events as an iCalendar feed.

Every URL of the saved views is here as role × status, anonymous included, on own, shared
and foreign views (tests/test_access_matrix.py: COVERED_ELSEWHERE, TOKEN_PAGES).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from coop import access
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token
from .test_query_counts import _statements

pytestmark = pytest.mark.usefixtures("fresh_db")

# The saved views of the world below, by name: the owner's account and whom it is shown to.
WORLD = {
    "Админ: личный": ("admin", "personal"),
    "Координатор: всем": ("coordinator", "everyone"),
    "Школа 31: личный": ("school31", "personal"),
    "Школа 31: школе": ("school31", "school"),
    "Гимназия: школе": ("gymnasium17", "school"),
    "КемГУ: личный": ("kemsu", "personal"),
}
DEMO_VIEW = "Мероприятия с КемГУ"  # the demo's: СОШ № 31 shares it among its users
NAMES = [*WORLD, DEMO_VIEW]
# Which of them each account sees: its own, its school's, everyone's. Written apart from
# coop/access.py, as DESIGN.md says it.
SEES = {
    "admin": {"Админ: личный", "Координатор: всем"},
    "coordinator": {"Координатор: всем"},
    "school31": {"Координатор: всем", "Школа 31: личный", "Школа 31: школе", DEMO_VIEW},
    "gymnasium17": {"Координатор: всем", "Гимназия: школе"},
    "kemsu": {"Координатор: всем", "КемГУ: личный"},
    "museum": {"Координатор: всем"},
}
PARTNER_FILTER = "flt0_3"  # the events list's filter «Организация-партнёр равно»


def _user(key: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


@pytest.fixture
def world(app: Flask, ids: dict[str, int]) -> dict[str, int]:
    return _make_world(app, ids)


def _make_world(app: Flask, ids: dict[str, int]) -> dict[str, int]:
    """The saved views of WORLD, each of the events list filtered by КемГУ; ids by name."""
    with app.app_context():
        made = {}
        for name, (key, visibility) in WORLD.items():
            user = _user(key)
            made[name] = m.SavedView(
                user_id=user.id,
                endpoint="event",
                name=name,
                query=f"{PARTNER_FILTER}={ids['kemsu']}",
                columns=[],
                visibility=visibility,
                school_id=user.school_id,
            )
        db.session.add_all(made.values())
        db.session.commit()
        return {name: row.id for name, row in made.items()}


def _count() -> int:
    return db.session.execute(select(func.count()).select_from(m.SavedView)).scalar_one()


def _token(client: FlaskClient) -> str:
    return csrf_token(client.get("/admin/savedviews/").text)


# --- who sees which ----------------------------------------------------------------------


@pytest.mark.parametrize("key", list(SEES))
def test_each_role_sees_its_own_its_schools_and_everyones_saved_views(
    app: Flask, client_as: Any, world: dict[str, int], key: str
) -> None:
    client = client_as(key)
    page = client.get("/admin/savedviews/").text
    assert {name for name in NAMES if name in page} == SEES[key]
    for name, view_id in world.items():
        response = client.get(f"/admin/savedviews/open/?id={view_id}")
        assert response.status_code == (302 if name in SEES[key] else 404), name
    # The policy's per-row form agrees with its SQL form.
    with app.app_context():
        user = _user(key)
        rows = db.session.execute(select(m.SavedView)).scalars().all()
        assert {row.name for row in rows if access.visible(user, row)} == SEES[key]
        query = access.scope(db.session.query(m.SavedView), user, m.SavedView)
        assert {row.name for row in query} == SEES[key]


def test_the_rules_of_sharing_as_a_table(app: Flask) -> None:
    """Whom each role may show a saved view to, and only its own."""
    with app.app_context():
        users = {key: _user(key) for key in SEES}
        for key, user in users.items():
            for visibility in m.SAVED_VIEW_VISIBILITY:
                row = m.SavedView(
                    user_id=user.id,
                    endpoint="event",
                    name="x",
                    visibility=visibility,
                    school_id=user.school_id,
                )
                allowed = (
                    visibility
                    in {
                        "admin": ("personal", "everyone"),
                        "coordinator": ("personal", "everyone"),
                        "school31": ("personal", "school"),
                        "gymnasium17": ("personal", "school"),
                        "kemsu": ("personal",),
                        "museum": ("personal",),
                    }[key]
                )
                assert access.can(user, "savedview.create", row) is allowed, (key, visibility)
                others = [u for k, u in users.items() if k != key]
                assert not any(access.can(other, "savedview.edit", row) for other in others)
        # A school's user cannot share a view with another school.
        school31, gymnasium = users["school31"], users["gymnasium17"]
        foreign = m.SavedView(user_id=school31.id, visibility="school", school_id=gymnasium.school_id)
        assert not access.can(school31, "savedview.create", foreign)


def _get_status(kind: str, key: str) -> int:
    if key == "anonymous":
        return 302
    return {"own": 302, "shared": 302, "foreign": 404}[kind]


def _post_status(kind: str, key: str) -> int:
    if key == "anonymous":
        return 302
    return {"own": 302, "shared": 403, "foreign": 404}[kind]


def _cases(world: dict[str, int], key: str) -> dict[str, int]:
    """A view of each kind for the account: its own, one shared with it, a foreign one."""
    own = next((name for name, (owner, _v) in WORLD.items() if owner == key), None)
    foreign = "Гимназия: школе" if key != "gymnasium17" else "Школа 31: школе"
    cases = {"foreign": world[foreign]}
    if key != "coordinator":
        cases["shared"] = world["Координатор: всем"]
    if own is not None:
        cases["own"] = world[own]
    return cases


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_every_url_of_the_saved_views_by_role(
    app: Flask, client_as: Any, world: dict[str, int], key: str
) -> None:
    """Role × URL × own, shared and foreign view: the status, and nothing of another school."""
    client = client_as(key)
    index = client.get("/admin/savedviews/")
    assert index.status_code == (302 if key == "anonymous" else 200)
    if key == "anonymous":
        assert "/login" in index.headers["Location"]
        token = ""
    else:
        token = csrf_token(index.text)
        other = {"school31": "Гимназия", "gymnasium17": "Школа 31"}.get(key)
        if other:
            assert other not in index.text
    for kind, view_id in _cases(world, key).items():
        for url in (f"/admin/savedviews/open/?id={view_id}", f"/admin/savedviews/export/csv/?id={view_id}"):
            assert client.get(url).status_code == _get_status(kind, key), (url, kind)
        for action in ("rename", "feed", "feed/revoke", "delete"):
            url = f"/admin/savedviews/{action}/?id={view_id}"
            assert client.post(url, data={"name": "x"}).status_code == 400, url  # no CSRF token
            with app.app_context():
                before = db.session.execute(select(m.SavedView).filter_by(id=view_id)).scalar_one()
                before_state = (before.name, before.feed_hash, before.deleted_at)
            response = client.post(url, data={"name": "Новое имя", "csrf_token": token})
            if key == "anonymous":
                assert response.status_code == 400  # the CSRF check comes first
                continue
            assert response.status_code == _post_status(kind, key), (url, kind)
            if kind != "own":
                with app.app_context():
                    after = db.session.execute(select(m.SavedView).filter_by(id=view_id)).scalar_one()
                    assert (after.name, after.feed_hash, after.deleted_at) == before_state
    response = client.post("/admin/savedviews/save/", data={"endpoint": "event", "name": "x"})
    assert response.status_code == 400
    for bad in ("0", "x", "-1", "99999999999999999999"):
        if key != "anonymous":
            assert client.get(f"/admin/savedviews/open/?id={bad}").status_code == 404


def test_an_owner_renames_and_deletes_to_the_trash(app: Flask, client_as: Any, world: dict[str, int]) -> None:
    client = client_as("school31")
    view_id = world["Школа 31: личный"]
    token = _token(client)
    response = client.post(
        f"/admin/savedviews/rename/?id={view_id}", data={"name": "  Партнёр  КемГУ ", "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/admin/savedviews/").text
    assert "Вид переименован: «Партнёр КемГУ»." in page
    response = client.post(f"/admin/savedviews/rename/?id={view_id}", data={"name": "", "csrf_token": token})
    assert "Назовите вид." in client.get(response.headers["Location"]).text
    client.post(f"/admin/savedviews/delete/?id={view_id}", data={"csrf_token": token})
    page = client.get("/admin/savedviews/").text
    assert "Вид «Партнёр КемГУ» перемещён в корзину." in _flash(page)
    assert f'id="saved-view-{view_id}"' not in page
    assert client.get(f"/admin/savedviews/open/?id={view_id}").status_code == 404
    with app.app_context():
        row = db.session.execute(
            select(m.SavedView).filter_by(id=view_id), execution_options={"include_deleted": True}
        ).scalar_one()
        assert row.deleted_at is not None and row.name == "Партнёр КемГУ"


def test_the_menu_and_the_lists_read_saved_views_with_the_user(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """No statement of their own: a page costs the same with saved views as without."""
    client = client_as("gymnasium17")
    urls = ("/admin/", "/admin/event/", "/admin/calendar/", "/admin/agreement/")
    for url in urls:  # warm-up: what a process reads once (the added fields' definitions)
        client.get(url)
    without = {url: _statements(app, client, url) for url in urls}
    assert DEMO_VIEW not in client.get("/admin/event/").text
    _make_world(app, ids)  # the gymnasium's own view and the coordinator's for everyone
    page = client.get("/admin/event/").text
    assert "Гимназия: школе" in page and "Координатор: всем" in page
    assert {url: _statements(app, client, url) for url in urls} == without


# --- saving a list's state and opening it again --------------------------------------------


def _titles(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<td class="col-title[^"]*"[^>]*>(.*?)</td>', html, re.S)
    ]


def _headers(html: str) -> list[str]:
    return re.findall(r'<th class="column-header col-([\w-]+)', html)


def _flash(html: str) -> str:
    alerts = re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(" ".join(re.sub(r"<[^>]+>|×", " ", alert).split()) for alert in alerts)


def test_saving_and_opening_applies_filters_sort_page_size_and_columns(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    # The list as the person arranged it: КемГУ's lines, by title from the end, 50 a page.
    query = f"{PARTNER_FILTER}={ids['kemsu']}&sort=3&desc=1&page_size=50&page=2&evil=1"
    page = client.get(f"/admin/event/?{query}").text
    response = client.post(
        "/admin/savedviews/save/",
        data={
            "csrf_token": csrf_token(page),
            "endpoint": "event",
            "name": "Лекции КемГУ",
            "visibility": "school",
            "query": query,
            "columns": ["title", "number", "state"],
        },
    )
    assert response.status_code == 302
    opened = response.headers["Location"]
    assert "page=2" not in opened and "evil" not in opened and "page_size=50" in opened
    shown = client.get(opened).text
    assert "Вид «Лекции КемГУ» сохранён." in shown
    assert _headers(shown) == ["number", "title", "state"]  # the list's order, the columns chosen
    with app.app_context():
        expected = (
            db.session.execute(
                select(m.Event.title)
                .where(m.Event.school_id == ids["school31"], m.Event.partner_id == ids["kemsu"])
                .order_by(m.Event.title.desc(), m.Event.id)
            )
            .scalars()
            .all()
        )
        saved = db.session.execute(select(m.SavedView).filter_by(name="Лекции КемГУ")).scalar_one()
        assert saved.visibility == "school" and saved.school_id == ids["school31"]
        assert "sort=title" in saved.query and saved.columns == ["number", "title", "state"]
    assert expected and _titles(shown) == list(expected)
    # A colleague of the same school opens it from the menu, with the same rows.
    assert re.search(r'dropdown-item coop-saved-view[^"]*" href="[^"]*sv=\d+', shown)
    # The menu lists it on every page, right under the list it belongs to.
    home = client.get("/admin/").text
    events_link = home.index('href="/admin/event/"')
    assert events_link < home.index("Лекции КемГУ") < events_link + 600
    # Another school sees none of it.
    other = client_as("gymnasium17")
    assert "Лекции КемГУ" not in other.get("/admin/").text
    assert client_as("gymnasium17").get(f"/admin/savedviews/open/?id={saved.id}").status_code == 404


def test_the_sort_follows_the_column_when_the_columns_change(
    app: Flask, client_as: Any, world: dict[str, int]
) -> None:
    with app.app_context():
        row = db.session.get(m.SavedView, world["Школа 31: личный"])
        assert row is not None
        row.query, row.columns = "sort=title&desc=1", ["title"]
        db.session.commit()
    client = client_as("school31")
    location = client.get(f"/admin/savedviews/open/?id={world['Школа 31: личный']}").headers["Location"]
    assert "sort=0" in location and "cols=title" in location
    shown = client.get(location).text
    assert _headers(shown) == ["title"]
    titles = _titles(shown)
    assert titles == sorted(titles, reverse=True) or len(set(titles)) < len(titles)


BAD = [
    ({"name": ""}, "Назовите вид."),
    ({"name": "   "}, "Назовите вид."),
    ({"name": "я" * 101}, "Слишком длинное название: не больше 100 символов."),
    ({"endpoint": "nosuchlist"}, "Такого списка нет."),
    ({"endpoint": "user"}, "Такого списка нет."),  # a list the school may not open
    ({"visibility": "everyone"}, "Этим людям вид показать нельзя"),
    ({"visibility": "nobody"}, "Этим людям вид показать нельзя"),
    ({"columns": ["title", "password_hash"]}, "В списке нет такого столбца: password_hash."),
    ({"query": "search=" + "я" * 5000}, "Состояние списка слишком длинное"),
    ({"name": "Школа 31: личный"}, "У вас уже есть вид «Школа 31: личный» в этом списке."),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_input_gets_a_russian_message_and_writes_nothing(
    app: Flask, client_as: Any, world: dict[str, int], change: dict[str, Any], message: str
) -> None:
    client = client_as("school31")
    data = {"endpoint": "event", "name": "Новый вид", "visibility": "personal", "query": "", **change}
    with app.app_context():
        before = _count()
    response = client.post("/admin/savedviews/save/", data={**data, "csrf_token": _token(client)})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Вид не сохранён: " + message in _flash(page)
    with app.app_context():
        assert _count() == before


def test_a_coordinator_shares_with_everyone_and_a_school_cannot(client_as: Any, app: Flask) -> None:
    coordinator = client_as("coordinator")
    response = coordinator.post(
        "/admin/savedviews/save/",
        data={
            "endpoint": "event",
            "name": "Все мероприятия",
            "visibility": "everyone",
            "csrf_token": _token(coordinator),
        },
    )
    assert response.status_code == 302 and "sv=" in response.headers["Location"]
    for key in ("school31", "gymnasium17", "kemsu", "admin"):
        assert "Все мероприятия" in client_as(key).get("/admin/").text, key
    coordinator_page = coordinator.get("/admin/event/").text
    assert '<option value="everyone">Всем</option>' in coordinator_page
    school_page = client_as("school31").get("/admin/event/").text
    assert (
        '<option value="school">Моей школе</option>' in school_page and 'value="everyone"' not in school_page
    )


# --- exports and the calendar --------------------------------------------------------------


def test_a_saved_view_is_the_source_of_an_export(
    app: Flask, client_as: Any, ids: dict[str, int], world: dict[str, int]
) -> None:
    with app.app_context():
        row = db.session.get(m.SavedView, world["Школа 31: школе"])
        assert row is not None
        row.columns = ["title", "partner"]
        db.session.commit()
        expected = set(
            db.session.execute(
                select(m.Event.title).where(
                    m.Event.school_id == ids["school31"], m.Event.partner_id == ids["kemsu"]
                )
            ).scalars()
        )
        others = (
            set(
                db.session.execute(
                    select(m.Event.title).where(
                        m.Event.school_id == ids["school31"], m.Event.partner_id != ids["kemsu"]
                    )
                ).scalars()
            )
            - expected
        )
    client = client_as("school31")
    response = client.get(f"/admin/savedviews/export/csv/?id={world['Школа 31: школе']}")
    assert response.status_code == 302 and "/admin/event/export/csv/" in response.headers["Location"]
    exported = client.get(response.headers["Location"])
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Организация-партнёр", "Наименование мероприятия"] or len(rows[0]) == 2
    assert {line[1] for line in rows[1:]} == expected and expected and others
    xlsx = client.get(
        client.get(f"/admin/savedviews/export/xlsx/?id={world['Школа 31: школе']}").headers["Location"]
    )
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get(f"/admin/savedviews/export/pdf/?id={world['Школа 31: школе']}").status_code == 404


def _feed_url(client: FlaskClient, view_id: int) -> str:
    response = client.post(f"/admin/savedviews/feed/?id={view_id}", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    found = re.search(r"http://localhost(/feeds/views/[\w-]+\.ics)", page)
    assert found, _flash(page)
    return found.group(1)


def _summaries(body: str) -> set[str]:
    unfolded = body.replace("\r\n ", "")
    return {
        line[len("SUMMARY:") :].replace("\\,", ",").replace("\\;", ";")
        for line in unfolded.split("\r\n")
        if line.startswith("SUMMARY:")
    }


def test_a_saved_view_of_events_is_an_icalendar_feed(
    app: Flask, client_as: Any, ids: dict[str, int], world: dict[str, int]
) -> None:
    client = client_as("school31")
    view_id = world["Школа 31: личный"]
    url = _feed_url(client, view_id)
    secret = url.removeprefix("/feeds/views/").removesuffix(".ics")
    anonymous = client_as("anonymous")
    feed = anonymous.get(url)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert "X-WR-CALNAME:Школа 31: личный" in body
    with app.app_context():
        kemsu = set(
            db.session.execute(
                select(m.Event.title).where(
                    m.Event.school_id == ids["school31"], m.Event.partner_id == ids["kemsu"]
                )
            ).scalars()
        )
        row = db.session.get(m.SavedView, view_id)
        assert row is not None
        # Only the secret's SHA-256 is kept, with the day the link stops working.
        assert row.feed_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert row.feed_expires_at is not None and row.feed_expires_at > m.utcnow() + dt.timedelta(days=300)
        history = db.session.execute(
            select(m.History).filter_by(table_name="saved_views", row_id=view_id)
        ).scalars()
        assert all(
            secret not in str(entry.changes) and row.feed_hash not in str(entry.changes) for entry in history
        )
    assert kemsu and _summaries(body) <= {" ".join(title.split()) for title in kemsu} | {
        title for title in kemsu
    }
    assert len(_summaries(body)) >= 1
    # A new link replaces the old one; a stopped link, an expired one and a deleted view open nothing.
    newer = _feed_url(client, view_id)
    assert anonymous.get(url).status_code == 404 and anonymous.get(newer).status_code == 200
    client.post(f"/admin/savedviews/feed/revoke/?id={view_id}", data={"csrf_token": _token(client)})
    assert anonymous.get(newer).status_code == 404
    newest = _feed_url(client, view_id)
    with app.app_context():
        row = db.session.get(m.SavedView, view_id)
        assert row is not None
        row.feed_expires_at = m.utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    assert anonymous.get(newest).status_code == 404
    assert anonymous.get("/feeds/views/" + "x" * 43 + ".ics").status_code == 404
    assert anonymous.get("/feeds/views/short.ics").status_code == 404


def test_a_feed_reads_with_its_owners_rights(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    """A gymnasium's view of every line shows its own lines only; the coordinator's both schools'."""
    counts = {}
    for key in ("gymnasium17", "coordinator"):
        client = client_as(key)
        visibility = "school" if key == "gymnasium17" else "personal"
        response = client.post(
            "/admin/savedviews/save/",
            data={
                "endpoint": "event",
                "name": "Все строки",
                "visibility": visibility,
                "csrf_token": _token(client),
            },
        )
        view_id = int(re.search(r"sv=(\d+)", response.headers["Location"]).group(1))  # type: ignore[union-attr]
        body = client_as("anonymous").get(_feed_url(client, view_id)).get_data(as_text=True)
        counts[key] = body
    assert "СОШ № 31" not in counts["gymnasium17"]
    assert "СОШ № 31" in counts["coordinator"]


def test_a_feed_is_only_for_the_events(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    response = client.post(
        "/admin/savedviews/save/",
        data={
            "endpoint": "agreement",
            "name": "Договоры",
            "visibility": "personal",
            "csrf_token": _token(client),
        },
    )
    view_id = re.search(r"sv=(\d+)", response.headers["Location"]).group(1)  # type: ignore[union-attr]
    response = client.post(f"/admin/savedviews/feed/?id={view_id}", data={"csrf_token": _token(client)})
    assert response.status_code == 404
