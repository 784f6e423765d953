"""Full-text search with Russian morphology (issue 13, item 1), on SQLite and PostgreSQL.

The demo's real titles are found by other forms of their words, by a word being typed,
whatever the case, ё or е; several words narrow the result; the best match comes first.
The index follows every write in its transaction (SQLite's FTS5 tables; PostgreSQL's
expression index follows by itself); a search never finds a row the user may not see.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from coop import lookup, search, trash
from coop import models as m
from coop.extensions import db


def _titles(app: Flask, text: str, model: type = m.Event, **options: Any) -> list[str]:
    """The titles (or names) of model's rows that match text, best first (as the system)."""
    index = search.BY_MODEL[model]
    label = getattr(model, index.head[0])
    with app.app_context():
        stmt, relevance = search.apply(select(label), model, text, **options)
        stmt = stmt.order_by(*relevance.order) if relevance is not None else stmt
        return list(db.session.execute(stmt).scalars())


def _list_titles(client: FlaskClient, text: str, **args: Any) -> list[str]:
    page = client.get("/admin/event/?" + urlencode({"search": text, "page_size": 100, **args}))
    assert page.status_code == 200
    return re.findall(r'<td class="col-title[^"]*"[^>]*>\s*(.*?)\s*</td>', page.text, re.S)


def _add_event(
    app: Flask, ids: dict[str, int], title: str, description: str = "", school: str = "school31"
) -> int:
    with app.app_context():
        event = m.Event(
            school_id=ids[school],
            partner_id=ids["kemsu"],
            title=title,
            description=description,
            state="approved",
        )
        event.set_timing("ноябрь")
        db.session.add(event)
        db.session.commit()
        return event.id


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("олимпиаду", "Всероссийская олимпиада школьников"),
        ("ОЛИМПИАДЫ", "Олимпиада по русскому языку"),
        ("конференции", "Международная научно-практическая конференция"),
        ("экскурс", "Гимназическая профориентационная экскурсия"),
        ("Экскурсии", "Гимназическая профориентационная экскурсия"),
        ("олимпиаду школьникам", "Всероссийская олимпиада школьников"),
        ("научно-практической конференции", "Международная научно-практическая конференция"),
    ],
)
def test_russian_word_forms_find_the_demo_titles(app: Flask, typed: str, found: str) -> None:
    titles = _titles(app, typed)
    assert any(title.startswith(found) for title in titles), (typed, titles)


def test_several_words_narrow_the_result(app: Flask) -> None:
    olympiads = _titles(app, "олимпиада")
    narrowed = _titles(app, "олимпиада математике")
    assert narrowed and set(narrowed) < set(olympiads)
    assert all("математик" in title.lower() for title in narrowed)
    assert _titles(app, "олимпиада экскурсия") == []


def test_a_title_match_comes_before_a_description_match(
    app: Flask, ids: dict[str, int], fresh_db: None
) -> None:
    _add_event(app, ids, "Встреча с выпускниками", description="После встречи — экскурсия по заводу")
    titles = _titles(app, "экскурсия")
    assert titles[-1] == "Встреча с выпускниками"
    assert titles[0] != "Встреча с выпускниками"


def test_the_newest_ranked_hits_come_first_then_the_rest_by_id(
    app: Flask, ids: dict[str, int], fresh_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the RANKED newest rows that match are ranked (best first); the older ones follow
    them by id, none left out. With fewer hits than RANKED, all are ranked."""
    added = ["Поход", "Экскурсия в планетарий", "Встреча", "Экскурсия на завод"]  # oldest first
    _add_event(app, ids, "Поход", description="Экскурсия в музей")
    _add_event(app, ids, "Экскурсия в планетарий")
    _add_event(app, ids, "Встреча", description="Экскурсия по заводу")
    _add_event(app, ids, "Экскурсия на завод")
    every = _titles(app, "экскурсия")
    assert every.index("Экскурсия в планетарий") < every.index("Поход")  # all ranked: a title first
    demo = [title for title in every if title not in added]
    monkeypatch.setattr(search, "RANKED", 2)
    found = _titles(app, "экскурсия")
    with app.app_context():
        by_id = db.session.execute(select(m.Event.title).order_by(m.Event.id.desc())).scalars()
        demo_newest_first = [title for title in by_id if title in demo]
    # The two newest by relevance, the title match first; then the rest newest first.
    assert found == ["Экскурсия на завод", "Встреча", "Экскурсия в планетарий", "Поход", *demo_newest_first]
    # A list reads its pages by search.page_of: the same order, page by page, none twice.
    assert _paged_titles(app, "экскурсия", page_size=2) == found
    assert _paged_titles(app, "экскурсия", page_size=3) == found


def _paged_titles(app: Flask, text: str, page_size: int) -> list[str]:
    """The titles of every page of text's hits as a list reads them (search.page_of)."""
    titles: list[str] = []
    with app.app_context():
        matching, relevance = search.apply(select(m.Event), m.Event, text)
        assert relevance is not None
        while True:
            page = search.page_of(matching, relevance, len(titles), page_size)
            stmt = search.in_page(select(m.Event.title), m.Event.id, page)
            found = list(db.session.execute(stmt).scalars())
            titles += found
            if len(found) < page_size:
                return titles


def test_yo_and_capitals(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    _add_event(app, ids, "Ёлочный БАЛ-маскарад «Зимние ёжики»")
    for typed in ("елочный", "ЁЛОЧНОГО", "ежики зимние", "маскарада", "бал"):
        assert "Ёлочный БАЛ-маскарад «Зимние ёжики»" in _titles(app, typed), typed


def test_the_events_list_searches_by_relevance_unless_sorted(client_as: Any) -> None:
    client = client_as("coordinator")
    shown = _list_titles(client, "конференции")
    assert shown and all("конференц" in re.sub(r"<[^>]+>", "", t).lower() for t in shown), shown
    by_title = _list_titles(client, "конференции", sort=1)
    assert sorted(by_title) == sorted(shown)


def test_a_school_does_not_find_another_schools_titles(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    _add_event(app, ids, "Турнир «Кубок Бардина»", school="gymnasium17")
    assert _list_titles(client_as("gymnasium17"), "турнира бардина")
    assert _list_titles(client_as("school31"), "турнира бардина") == []
    assert _list_titles(client_as("coordinator"), "турнира бардина")


def test_the_index_follows_every_write_in_its_transaction(
    app: Flask, ids: dict[str, int], fresh_db: None
) -> None:
    new = _add_event(app, ids, "Квиз «Путешествие по Кузбассу»")
    assert _titles(app, "квиз") == ["Квиз «Путешествие по Кузбассу»"]
    with app.app_context():
        event = db.session.get(m.Event, new)
        event.title = "Викторина «Путешествие по Кузбассу»"
        db.session.commit()
    assert _titles(app, "квиз") == [] and _titles(app, "викторины") == ["Викторина «Путешествие по Кузбассу»"]
    with app.app_context():  # a rolled-back write leaves the index as it was
        db.session.get(m.Event, new).title = "Зюзяблик"
        db.session.flush()
        assert db.session.execute(search.apply(select(m.Event.id), m.Event, "зюзяблик")[0]).all()
        db.session.rollback()
    assert _titles(app, "зюзяблик") == [] and _titles(app, "викторина") == [
        "Викторина «Путешествие по Кузбассу»"
    ]
    with app.app_context():
        batch = trash.discard(db.session.get(m.Event, new))
        db.session.commit()
    assert _titles(app, "викторина") == []  # in the trash
    with app.app_context():
        trash.restore(batch)
        db.session.commit()
    assert _titles(app, "викторина") == ["Викторина «Путешествие по Кузбассу»"]
    with app.app_context():
        trash.discard(db.session.get(m.Event, new))
        db.session.commit()
        trash.purge(batch)
        db.session.commit()
    assert _titles(app, "викторина") == []


def test_rebuild_search_command(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    before = _titles(app, "олимпиада")
    result = app.test_cli_runner().invoke(args=["coop", "rebuild-search"])
    assert result.exit_code == 0, result.output
    assert "Поисковый индекс перестроен" in result.output
    assert _titles(app, "олимпиада") == before


def test_a_look_up_searches_names_only(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    _add_event(app, ids, "Встреча с выпускниками", description="Экскурсия по заводу")
    assert "Встреча с выпускниками" in _titles(app, "заводу")
    assert "Встреча с выпускниками" not in _titles(app, "заводу", head_only=True)
    assert "Встреча с выпускниками" in _titles(app, "выпускник", head_only=True)


def test_terms_without_words_use_the_folding_like(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    _add_event(app, ids, "Скидка 100% для 5_А класса")
    assert _titles(app, "%") == ["Скидка 100% для 5_А класса"]
    assert _titles(app, "^скидка") == ["Скидка 100% для 5_А класса"]
    assert _titles(app, "=скидка") == []


def test_a_query_is_cut_to_its_limits() -> None:
    parsed = search.parse(" ".join(f"слово{i}" for i in range(30)))
    assert len(parsed.words) == search.MAX_WORDS
    assert not search.parse("   ")


def test_highlight_escapes_and_marks() -> None:
    marked = search.highlight("<b>Экскурсия</b> в «Ёлки» & музеи", search.parse("экскурс елки музей"))
    assert str(marked) == (
        "&lt;b&gt;<mark>Экскурсия</mark>&lt;/b&gt; в «<mark>Ёлки</mark>» &amp; <mark>музеи</mark>"
    )


_RUSSIAN_WORD = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюя", min_size=2, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title_words=st.lists(_RUSSIAN_WORD, min_size=1, max_size=6), data=st.data())
def test_any_title_is_found_by_each_of_its_words_in_any_case(
    app: Flask, ids: dict[str, int], title_words: list[str], data: Any
) -> None:
    assume(any(ch.isalpha() for ch in "".join(title_words)))
    title = " ".join(word.capitalize() if i == 0 else word for i, word in enumerate(title_words))
    with app.app_context():
        event = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title=title, state="approved")
        db.session.add(event)
        db.session.flush()
        try:
            for word in title_words:
                typed = "".join(
                    ch.upper() if data.draw(st.booleans(), label=f"upper {ch}") else ch for ch in word
                )
                stmt, _rank = search.apply(select(m.Event.id), m.Event, typed)
                assert event.id in db.session.execute(stmt).scalars().all(), (title, typed)
        finally:
            db.session.rollback()


@pytest.mark.parametrize("typed", ["СОШ № 31", "сош №31", "МБОУ «СОШ № 31»", "ОШ № 31"])
def test_a_command_finds_a_school_by_words_or_a_part_of_its_name(
    app: Flask, ids: dict[str, int], typed: str
) -> None:
    with app.app_context():
        assert lookup.find_school(typed).id == ids["school31"]
