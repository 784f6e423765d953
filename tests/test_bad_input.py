"""Bad input that still got through (issue 10, part 9): numbers out of any range in
URLs, hostile archives to the importer, and what a stored file is served as."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_admin.contrib.sqla import filters as sqla_filters

# --- numbers in URLs ------------------------------------------------------------------

HUGE = "99999999999999999999"  # > 2**64
# Values no integer column, page or year holds, and garbage an int() parser may trip on.
BAD_NUMBERS = [
    HUGE,
    "1234567890123456789012345",
    "-" + HUGE,
    "-1",
    "0",
    "9" * 5000,  # beyond Python's int() digit limit: ValueError, not a number
    "1e400",
    "٣",  # an Arabic-Indic digit: str.isdigit() says yes
    "abc",
]
ROLES = ["admin", "school31"]
# Whatever the value, a refusal is one of these, on a Russian page.
REFUSALS = {400, 404}
RUSSIAN = ("Некорректный запрос", "Не найдено")

PAGES = [
    "/admin/event/?page={v}",
    "/admin/event/?page_size={v}",
    "/admin/event/?sort={v}&desc={v}",
    "/admin/event/?search={v}",
    "/admin/event/details/?id={v}",
    "/admin/event/edit/?id={v}",
    "/admin/event/export/csv/?page={v}",
    "/admin/eventexecution/?page={v}",
    "/admin/programme/?page={v}",
    "/admin/history/?page={v}",
    "/admin/event/ajax/lookup/?name=partner&query=&offset={v}&limit={v}",
    "/admin/event/ajax/lookup/?name=programme&query=&offset={v}",
    "/admin/calendar/?year={v}",
    "/admin/calendar/?school={v}",
    "/admin/calendar/?partner={v}&audience={v}&fgos={v}",
    "/admin/calendar/?view=month&month={v}",
    "/admin/calendar/export/json/?school={v}",
    "/admin/calendar/export/json/?year={v}",
    "/admin/dashboard/?year={v}",
    "/admin/dashboard/?school={v}",
    "/api/plan.json?school={v}&year=2019",
    "/api/plan.json?school=1&year={v}",
    "/files/{v}",
]


def _answer_is_not_an_error(response: Any, url: str) -> None:
    """Not a 500; a refusal is a Russian page (or, for the JSON API, a JSON error)."""
    assert response.status_code in {200, 302, *REFUSALS}, (url, response.status_code)
    if response.status_code in REFUSALS:
        text = response.get_data(as_text=True)
        if response.mimetype == "application/json":
            assert response.get_json()["error"], url
        else:
            assert any(words in text for words in RUSSIAN), (url, text[:300])


@pytest.mark.parametrize("key", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_numbers_out_of_range_in_urls_are_refused_not_500(client_as: Any, key: str, page: str) -> None:
    client = client_as(key)
    for value in BAD_NUMBERS:
        url = page.format(v=value)
        response = client.get(url)
        response.close()
        _answer_is_not_an_error(response, url)


@pytest.mark.parametrize(
    "page", ["/admin/event/?page={v}", "/admin/event/ajax/lookup/?name=partner&offset={v}"]
)
@pytest.mark.parametrize("value", [HUGE, "1234567890123456789012345"])
def test_a_page_past_any_number_is_refused(client_as: Any, page: str, value: str) -> None:
    """Python's int has no bound; the database refuses the offset (SQLite's driver with
    OverflowError, PostgreSQL with a data exception) and the user reads why."""
    response = client_as("school31").get(page.format(v=value))
    assert response.status_code == 400
    assert "Некорректный запрос" in response.text and "вне допустимого диапазона" in response.text


# Integer and relation filters of every list (flt0_<index>=<value>), found from the views.
INT_FILTERS = (
    sqla_filters.IntEqualFilter,
    sqla_filters.IntNotEqualFilter,
    sqla_filters.IntGreaterFilter,
    sqla_filters.IntSmallerFilter,
    sqla_filters.IntInListFilter,
    sqla_filters.IntNotInListFilter,
)


def _integer_filter_urls(app: Flask) -> list[str]:
    admin = app.extensions["admin"][0]
    urls = {}  # one of each kind of integer filter per list
    for view in admin._views:
        for index, flt in enumerate(getattr(view, "_filters", None) or ()):
            if isinstance(flt, INT_FILTERS):
                urls.setdefault((view.endpoint, type(flt)), f"/admin/{view.endpoint}/?flt0_{index}={{v}}")
    return list(urls.values())


@pytest.mark.parametrize("key", ROLES)
def test_integer_filters_with_numbers_out_of_range_are_refused_not_500(
    app: Flask, client_as: Any, key: str
) -> None:
    urls = _integer_filter_urls(app)
    assert any(url.startswith("/admin/event/?flt0_") for url in urls)
    client = client_as(key)
    for page in urls:
        for value in ("1234567890123456789012345", "-" + HUGE, f"1,{HUGE}"):
            url = page.format(v=value)
            response = client.get(url)
            response.close()
            _answer_is_not_an_error(response, url)
