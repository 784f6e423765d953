"""The site-wide search (issue 13, item 1): one box in the menu bar, a page of the rows
found grouped by kind, matching words marked and escaped, each linking to its details
page, and only the rows the user may see (the role × status table of test_access_matrix's
COVERED_ELSEWHERE row "search.index")."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coop import models as m
from coop import search
from coop.extensions import db
from tests.conftest import ACCOUNTS

MARKER = "Турнир «Кубок Бардина» <b>для</b> гимназистов"


def _page(client: FlaskClient, q: str) -> Any:
    return client.get("/search/?" + urlencode({"q": q}))


@pytest.fixture
def theirs(app: Flask, ids: dict[str, int], fresh_db: None) -> int:
    """An event of Гимназия № 17 with KemSU, whose title no other row has."""
    with app.app_context():
        event = m.Event(school_id=ids["gymnasium17"], partner_id=ids["kemsu"], title=MARKER, state="approved")
        event.set_timing("ноябрь")
        db.session.add(event)
        db.session.commit()
        return event.id


# Who finds Гимназия № 17's event: its school, the admin, the coordinator, and KemSU
# (its partner) if it has an agreement with the gymnasium; never СОШ № 31 or the museum.
SEES_THEIRS = {"admin": True, "coordinator": True, "school31": False, "gymnasium17": True, "museum": False}


@pytest.mark.parametrize("key", sorted(ACCOUNTS))
def test_who_opens_the_search_and_finds_what(
    app: Flask, client_as: Any, ids: dict[str, int], theirs: int, key: str
) -> None:
    client = client_as(key)
    page = _page(client, "турнира бардина")
    if key == "anonymous":
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        return
    assert page.status_code == 200
    found = f"/admin/event/details/?id={theirs}" in page.text
    expected = SEES_THEIRS.get(key)
    if expected is None:  # KemSU, the event's partner: if it has an agreement with the gymnasium
        with app.app_context():
            expected = (
                db.session.query(m.Agreement)
                .filter_by(partner_id=ids["kemsu"], school_id=ids["gymnasium17"])
                .count()
                > 0
            )
    assert found is expected, key


def test_matching_words_are_marked_and_the_rest_escaped(client_as: Any, theirs: int) -> None:
    page = _page(client_as("gymnasium17"), "турнира ГИМНАЗИСТОВ")
    assert page.status_code == 200
    assert "<mark>Турнир</mark> «Кубок Бардина» &lt;b&gt;для&lt;/b&gt; <mark>гимназистов</mark>" in page.text
    assert "<b>для</b>" not in page.text


def test_results_are_grouped_by_kind_and_link_to_details(client_as: Any) -> None:
    client = client_as("coordinator")
    page = _page(client, "кемеровский")
    assert page.status_code == 200
    headings = re.findall(r'<section class="coop-search-group[^"]*">\s*<h5>([^<]+)<', page.text)
    assert "Партнёры" in " ".join(headings) or headings, headings
    links = re.findall(r'href="(/admin/\w+/details/\?id=\d+)"', page.text)
    assert links
    for link in links[:5]:
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("", "Введите слово или несколько слов"),
        ("   ", "Введите слово или несколько слов"),
        ("слово " * 11, "Слишком длинный запрос"),
        ("я" * (search.MAX_QUERY_LENGTH + 1), "Слишком длинный запрос"),
        ("зюзяблик", "ничего не найдено"),
        ("%", "ничего не найдено"),
    ],
)
def test_empty_too_long_or_unknown_queries_get_a_message(client_as: Any, q: str, says: str) -> None:
    page = _page(client_as("school31"), q)
    assert page.status_code == 200
    assert says in page.text


def test_the_menu_bar_has_the_search_box(client_as: Any) -> None:
    page = client_as("kemsu").get("/admin/")
    assert 'action="/search/"' in page.text and 'name="q"' in page.text


def test_a_partner_sees_no_remarks_group(client_as: Any) -> None:
    page = _page(client_as("kemsu"), "замечание мероприятие")
    assert page.status_code == 200
    assert "/admin/remark/details/" not in page.text
