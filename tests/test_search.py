"""Search and filters people expect (issue 11, item 7).

A search folds case for Russian as for Latin and reads ё as е, on SQLite and on
PostgreSQL whatever its locale (coop/search.py), in every list's search box,
every «contains» filter and every look-up of a form; % and _ are plain
characters; a school still finds only its own rows. The events list filters by
partner (the partners of the lines the user sees), kind, level and audience.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import func, literal, select

from coop import models as m
from coop.extensions import db
from coop.search import fold, fold_text
from coop.views import loading
from coop.views.base import SecuredModelView

from . import test_fulltext as fulltext
from .test_view_layer import list_column


def _found(client: FlaskClient, endpoint: str = "event", **args: Any) -> set[int]:
    """The rows a list page shows (every row on one page) for these query arguments."""
    page = client.get(f"/admin/{endpoint}/?" + urlencode({"page_size": 100, **args}))
    assert page.status_code == 200
    return {int(row_id) for row_id in re.findall(rf"/admin/{endpoint}/details/\?id=(\d+)", page.text)}


def _view(app: Flask, endpoint: str) -> SecuredModelView:
    return next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)


def _filter_arg(app: Flask, column: Any, operation: str = "равно") -> str:
    """The URL argument of the list's filter on column («flt0_N»)."""
    view = _view(app, column.class_.__tablename__.rstrip("s").replace("_", ""))
    with app.test_request_context():
        (index,) = [
            i
            for i, flt in enumerate(view._filters or ())
            if getattr(flt.column, "key", None) == column.key and str(flt.operation()) == operation
        ]
    return f"flt0_{index}"


def _schools_of_events(app: Flask) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(select(m.Event.id, m.Event.school_id))
        return {row_id: school for row_id, school in rows}


def _add_event(app: Flask, school_id: int, partner_id: int, title: str) -> int:
    with app.app_context():
        event = m.Event(school_id=school_id, partner_id=partner_id, title=title, state="approved")
        event.set_timing("ноябрь")
        db.session.add(event)
        db.session.commit()
        return event.id


def test_the_database_folds_as_python_does(app: Flask) -> None:
    """The SQL fold (SQLite's function, PostgreSQL's translate) and fold_text agree letter by letter."""
    sample = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгдеёжзийклмнопрстуфхцчшщъыьэюя ABCXYZ abcxyz №1 %_"
    with app.app_context():
        folded = db.session.execute(select(fold(literal(sample)))).scalar_one()
    assert folded == fold_text(sample)
    assert folded == "абвгдеежзийклмнопрстуфхцчшщъыьэюя абвгдеежзийклмнопрстуфхцчшщъыьэюя abcxyz abcxyz №1 %_"


def test_russian_search_finds_the_same_events_whatever_the_case(app: Flask, client_as: Any) -> None:
    client = client_as("coordinator")
    found = {term: _found(client, search=term) for term in ("конкурс", "Конкурс", "КОНКУРС", "кОнКуРс")}
    assert len(found["конкурс"]) >= 9, found["конкурс"]
    assert all(rows == found["конкурс"] for rows in found.values()), found


def test_yo_and_ye_find_each_other(app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None) -> None:
    new = _add_event(app, ids["school31"], ids["kemsu"], "Ёлочный конкурс «Зимние ёжики»")
    client = client_as("school31")
    for term in ("елочный", "ЁЛОЧНЫЙ", "Ёлочный", "ёлочный", "ЕЖИКИ елочный", "конкурс ёжики"):
        assert _found(client, search=term) == {new}, term
    assert new in _found(client, search="КОНКУРС")


def test_a_search_as_a_school_keeps_to_its_rows(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    everyone = _found(client_as("coordinator"), search="КОНКУРС")
    mine = _found(client_as("school31"), search="КОНКУРС")
    theirs = _found(client_as("gymnasium17"), search="КОНКУРС")
    schools = _schools_of_events(app)
    assert mine and {schools[row] for row in mine} == {ids["school31"]}
    assert {schools[row] for row in theirs} <= {ids["gymnasium17"]}
    assert mine | theirs <= everyone


def test_percent_and_underscore_are_plain_characters(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    new = _add_event(app, ids["school31"], ids["kemsu"], "Скидка 100% для 5_А класса")
    client = client_as("school31")
    for term in ("%", "_", "100%", "^Скидка"):
        assert _found(client, search=term) == {new}, term
    assert new in _found(client, search="5_а")  # two words, «5» and «а» (coop/search.py)
    assert _found(client, search="=скидка") == set()  # «=»: the whole text
    assert _found(client, search="1%0") == set()


def test_a_contains_filter_folds_as_the_search_does(app: Flask, client_as: Any) -> None:
    client = client_as("coordinator")
    arg = _filter_arg(app, m.Event.timing_text, "содержит")
    lower = _found(client, **{arg: "ноябрь"})
    assert lower and _found(client, **{arg: "НОЯБРЬ"}) == lower


@pytest.mark.parametrize("term", ["кемеровский", "КЕМЕРОВСКИЙ", "Кемеровский государственный", "кемгу"])
def test_a_partner_look_up_finds_kemerovsky(client_as: Any, ids: dict[str, int], term: str) -> None:
    client = client_as("school31")
    answer = client.get("/admin/event/ajax/lookup/?" + urlencode({"name": "partner", "query": term}))
    assert answer.status_code == 200
    assert ids["kemsu"] in [row_id for row_id, _label in answer.json]


def test_a_look_up_reads_percent_literally(client_as: Any) -> None:
    answer = client_as("school31").get("/admin/event/ajax/lookup/?name=partner&query=%25")
    assert answer.status_code == 200 and answer.json == []


def _filter_options(client: FlaskClient, group: str, endpoint: str = "event") -> dict[int, str]:
    page = html.fromstring(client.get(f"/admin/{endpoint}/").text)
    (data,) = page.xpath("//*[@id='filter-groups-data']")
    groups = json.loads(data.text)
    assert group in groups, sorted(groups)
    (options,) = [flt["options"] for flt in groups[group] if flt["options"]]
    return {int(value): label for value, label in options}


def test_the_partner_filter_offers_the_partners_of_the_users_lines(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        partners = {
            school: set(db.session.execute(select(m.Event.partner_id).filter_by(school_id=school)).scalars())
            for school in (ids["school31"], ids["gymnasium17"])
        }
    assert partners[ids["school31"]] != partners[ids["gymnasium17"]], "the demo's schools share partners"
    assert set(_filter_options(client_as("school31"), "Организация-партнёр")) == partners[ids["school31"]]
    assert set(_filter_options(client_as("kemsu"), "Организация-партнёр")) == {ids["kemsu"]}

    client = client_as("school31")
    chosen = _found(client, **{_filter_arg(app, m.Event.partner_id): ids["kemsu"]})
    with app.app_context():
        expected = set(
            db.session.execute(
                select(m.Event.id).filter_by(school_id=ids["school31"], partner_id=ids["kemsu"])
            ).scalars()
        )
    assert chosen == expected and chosen


@pytest.mark.parametrize(
    ("column", "group"),
    [(m.Event.kind_id, "Вид"), (m.Event.level_id, "Уровень"), (m.Event.audience_id, "Целевая аудитория")],
)
def test_the_events_list_filters_by_the_catalogs(
    app: Flask, client_as: Any, ids: dict[str, int], column: Any, group: str
) -> None:
    client = client_as("school31")
    with app.app_context():
        used = db.session.execute(
            select(column).where(m.Event.school_id == ids["school31"], column.is_not(None)).limit(1)
        ).scalar_one()
        expected = set(
            db.session.execute(
                select(m.Event.id).where(m.Event.school_id == ids["school31"], column == used)
            ).scalars()
        )
    assert used in _filter_options(client, group)
    assert _found(client, **{_filter_arg(app, column): used}) == expected


def test_a_foreign_or_malformed_filter_value_finds_nothing_foreign(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    arg = _filter_arg(app, m.Event.partner_id)
    schools = _schools_of_events(app)
    for value in (ids["museum"], "abc", "1 OR 1=1"):
        assert {schools[row] for row in _found(client, **{arg: value})} <= {ids["school31"]}


def test_the_fold_does_not_depend_on_the_databases_locale(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the "C" collation PostgreSQL's lower() leaves Cyrillic as it is: a database whose
    LC_CTYPE is "C" gets the Russian capitals translated first, and folds all the same."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's collations")
    word = literal("КОНКУРС Ёлка").collate("C")
    with engine.connect() as conn:
        uncached = conn.execution_options(compiled_cache=None)
        assert uncached.execute(select(func.lower(word))).scalar_one() == "КОНКУРС Ёлка"
        monkeypatch.setattr(engine.dialect, "coop_lower_folds_cyrillic", False)
        assert uncached.execute(select(fold(word))).scalar_one() == "конкурс елка"


def test_agreements_filter_by_the_partners_of_the_users_agreements(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        stmt = select(m.Agreement.id, m.Agreement.partner_id).filter_by(school_id=ids["school31"])
        agreements = {row_id: partner for row_id, partner in db.session.execute(stmt)}
    client = client_as("school31")
    options = _filter_options(client, "Организация-партнёр", "agreement")
    assert set(options) == set(agreements.values())
    chosen = _found(client, "agreement", **{_filter_arg(app, m.Agreement.partner_id): ids["kemsu"]})
    assert chosen == {row_id for row_id, partner in agreements.items() if partner == ids["kemsu"]} != set()


def test_programmes_filter_by_school(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("coordinator")
    assert {ids["school31"], ids["gymnasium17"]} <= set(_filter_options(client, "Школа", "programme"))
    chosen = _found(client, "programme", **{_filter_arg(app, m.Programme.school_id): ids["gymnasium17"]})
    with app.app_context():
        stmt = select(m.Programme.id).filter_by(school_id=ids["gymnasium17"])
        assert chosen == set(db.session.execute(stmt).scalars()) != set()


def test_seminars_filter_by_partner(app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None) -> None:
    with app.app_context():
        stmt = select(m.Seminar).filter_by(school_id=ids["school31"]).order_by(m.Seminar.id)
        first, *_others = db.session.execute(stmt).scalars().all()
        first.partners.append(db.session.get(m.Partner, ids["kemsu"]))
        db.session.commit()
        first_id = first.id
    client = client_as("school31")
    group = "Участвующие организации-партнёры"
    assert set(_filter_options(client, group, "seminar")) == {ids["kemsu"]}
    view = _view(app, "seminar")
    with app.test_request_context():
        (index,) = [i for i, flt in enumerate(view._filters or ()) if str(flt.name) == group]
    assert _found(client, "seminar", **{f"flt0_{index}": ids["kemsu"]}) == {first_id}
    assert _found(client, "seminar", **{f"flt0_{index}": ids["museum"]}) == set()


def test_partners_filter_by_kind(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    with app.app_context():
        kinds = {row_id: kind for row_id, kind in db.session.execute(select(m.Partner.id, m.Partner.kind_id))}
    kind = next(kind for kind in kinds.values() if kind is not None)
    assert kind in _filter_options(client, "Вид", "partner")
    chosen = _found(client, "partner", **{_filter_arg(app, m.Partner.kind_id): kind})
    assert chosen == {row_id for row_id, of in kinds.items() if of == kind}


def test_a_long_list_of_partners_becomes_a_box_for_a_name(
    app: Flask, client_as: Any, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past OPTIONS_CAP related rows (a region's partners for the coordinator) the filter
    lists none and takes a name instead, folded as the search is; an id still works."""
    monkeypatch.setattr(loading, "OPTIONS_CAP", 1)
    client = client_as("coordinator")
    page = html.fromstring(client.get("/admin/event/").text)
    groups = json.loads(page.xpath("//*[@id='filter-groups-data']")[0].text)
    assert [flt["options"] for flt in groups["Организация-партнёр"]] == [None]
    arg = _filter_arg(app, m.Event.partner_id)
    with app.app_context():
        stmt = select(m.Event.id).filter_by(partner_id=ids["kemsu"])
        kemsu_events = set(db.session.execute(stmt).scalars())
    assert kemsu_events
    for typed in ("КЕМЕРОВСКИЙ государственный", "кемгу", str(ids["kemsu"])):
        assert _found(client, **{arg: typed}) == kemsu_events, typed
    assert _found(client, **{arg: "нет такого партнёра"}) == set()


def test_a_long_list_of_schools_becomes_a_box_for_a_name(
    app: Flask, client_as: Any, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The school filter lists the schools up to OPTIONS_CAP (a school its own), past it
    (a region's schools for the coordinator) none, every list page: it takes a name; the
    drill-down links' ids still work."""
    monkeypatch.setattr(loading, "OPTIONS_CAP", 1)
    assert set(_filter_options(client_as("school31"), "Школа")) == {ids["school31"]}
    client = client_as("coordinator")
    page = html.fromstring(client.get("/admin/event/").text)
    groups = json.loads(page.xpath("//*[@id='filter-groups-data']")[0].text)
    assert [flt["options"] for flt in groups["Школа"]] == [None]
    arg = _filter_arg(app, m.Event.school_id)
    with app.app_context():
        stmt = select(m.Event.id).filter_by(school_id=ids["gymnasium17"])
        gymnasium = set(db.session.execute(stmt).scalars())
    assert gymnasium
    for typed in ("гимназия № 17", "ГИМНАЗ", str(ids["gymnasium17"])):
        assert _found(client, **{arg: typed}) == gymnasium, typed
    assert _found(client, **{arg: "нет такой школы"}) == set()


def test_the_list_box_finds_a_word_in_another_form(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    """«олимпиаду» finds «Олимпиада»: the box reads the full-text index, not the letters typed."""
    new = _add_event(app, ids["school31"], ids["kemsu"], "Олимпиада по химии")
    found = _found(client_as("school31"), search="олимпиаду")
    assert new in found
    with app.app_context():
        titles = db.session.execute(select(m.Event.title).where(m.Event.id.in_(found))).scalars().all()
    assert all("олимпиад" in fold_text(title) for title in titles), titles


def test_a_list_outside_the_index_searches_its_own_columns(app: Flask, client_as: Any) -> None:
    """The users' list (no full-text index): its search box reads its searchable columns."""
    found = _found(client_as("admin"), "user", search="SCHOOL31@")
    with app.app_context():
        expected = set(db.session.execute(select(m.User.id).where(m.User.email.like("school31@%"))).scalars())
    assert len(expected) == 1 and found == expected


def test_a_searched_list_puts_the_best_match_first_unless_sorted_by_a_column(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    """Searched, a list is in the order of relevance (a title's match before a description's,
    whatever their age); sorted by a column, in that column's order, either way."""
    fulltext._add_event(app, ids, "Встреча с астрономом", description="Потом планетарий")  # the older
    fulltext._add_event(app, ids, "Планетарий для пятиклассников")
    client = client_as("school31")

    def titles(**args: Any) -> list[str]:
        return [
            re.sub(r"<[^>]+>", "", title) for title in fulltext._list_titles(client, "планетарий", **args)
        ]

    assert titles() == ["Планетарий для пятиклассников", "Встреча с астрономом"]
    by_title = list_column(app, m.Event, "title")
    assert titles(sort=by_title) == ["Встреча с астрономом", "Планетарий для пятиклассников"]
    assert titles(sort=by_title, desc=1) == ["Планетарий для пятиклассников", "Встреча с астрономом"]
