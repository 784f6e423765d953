"""The texts of the fields added in the site are searched (issue 14): a record is found by
its added text value in its list's search box and on the site-wide search page, by other
forms of the words too; the index follows the write in its transaction (SQLite's FTS5
tables in the flush, PostgreSQL's generated column by itself); numbers are not text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop import search
from coop.extensions import db

pytestmark = pytest.mark.usefixtures("fresh_db")


@pytest.fixture
def fields(app: Flask) -> Iterator[None]:
    with app.app_context():
        db.session.add_all(
            [
                m.FieldDefinition(model="event", key="resources", label="Ресурсы партнёра", kind="long_text"),
                m.FieldDefinition(model="event", key="hours", label="Часы", kind="integer"),
                m.FieldDefinition(model="partner", key="contact_site", label="Сайт", kind="url"),
            ]
        )
        db.session.commit()
    yield


def _found(app: Flask, text: str, model: type = m.Event) -> list[int]:
    with app.app_context():
        stmt, _rank = search.apply(select(model.id), model, text)
        return list(db.session.execute(stmt).scalars())


def _set(app: Flask, model: type, row_id: int, **values: Any) -> None:
    with app.app_context():
        row = db.session.get(model, row_id)
        row.extra = {**(row.extra or {}), **values}
        db.session.commit()


def _titles(html: str) -> list[str]:
    return re.findall(r'<td class="col-title[^"]*"[^>]*>\s*(.*?)\s*</td>', html, re.S)


def _first(app: Flask, model: type, school_id: int | None = None) -> int:
    with app.app_context():
        stmt = select(model.id).order_by(model.id)
        if school_id is not None:
            stmt = stmt.where(model.school_id == school_id)
        return db.session.execute(stmt.limit(1)).scalar_one()


def test_an_added_text_is_found_by_other_forms_of_its_words(
    app: Flask, fields: None, ids: dict[str, int]
) -> None:
    event_id = _first(app, m.Event, ids["school31"])
    assert _found(app, "планетарием") == []
    _set(app, m.Event, event_id, resources="Телескоп планетария и лаборатория мехатроники", hours=31415)
    assert _found(app, "планетарием") == [event_id]  # another form of «планетария»
    assert _found(app, "мехатрон") == [event_id]  # a word being typed
    assert _found(app, "31415") == []  # a number is not text
    # Changed: the old words are gone from the index at once, the new ones in.
    _set(app, m.Event, event_id, resources="Микроскопы")
    assert _found(app, "планетарий") == []
    assert _found(app, "микроскоп") == [event_id]


def test_a_rolled_back_write_leaves_the_index_as_it_was(
    app: Flask, fields: None, ids: dict[str, int]
) -> None:
    event_id = _first(app, m.Event, ids["school31"])
    with app.app_context():
        row = db.session.get(m.Event, event_id)
        row.extra = {"resources": "Обсерватория"}
        db.session.flush()
        stmt, _rank = search.apply(select(m.Event.id), m.Event, "обсерватории")
        assert list(db.session.execute(stmt).scalars()) == [event_id]  # in the same transaction
        db.session.rollback()
    assert _found(app, "обсерватории") == []


def test_list_box_and_site_wide_search_find_the_added_value(
    app: Flask, client_as: Any, fields: None, ids: dict[str, int]
) -> None:
    event_id = _first(app, m.Event, ids["school31"])
    _set(app, m.Event, event_id, resources="Квадрокоптеры детского технопарка")
    _set(app, m.Partner, ids["kemsu"], contact_site="https://kvantorium.example.ru/")
    client = client_as("school31")
    page = client.get("/admin/event/?" + urlencode({"search": "квадрокоптер"}))
    assert page.status_code == 200
    with app.app_context():
        title = db.session.get(m.Event, event_id).title
    assert _titles(page.text) == [title]
    found = client.get("/search/?" + urlencode({"q": "квадрокоптеров"})).text
    assert f"/admin/event/details/?id={event_id}" in found
    assert _found(app, "kvantorium", m.Partner) == [ids["kemsu"]]
    # Another school's user does not find the school's line by it.
    other = client_as("gymnasium17").get("/admin/event/?" + urlencode({"search": "квадрокоптер"}))
    assert _titles(other.text) == []
