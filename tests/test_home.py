"""The home page: the dashboard for admin, coordinator and school (issue 4, item 6),
the sections for a partner."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

FIGURE = re.compile(r'data-figure="([a-z_]+)"')


@pytest.mark.parametrize("key", ["admin", "coordinator"])
def test_admin_and_coordinator_land_on_the_dashboard_of_all_schools(
    client_as: Any, ids: dict[str, int], key: str
) -> None:
    page = client_as(key).get("/admin/?year=2021").text
    assert f'data-school="{ids["school31"]}"' in page and f'data-school="{ids["gymnasium17"]}"' in page
    assert 'href="/admin/dashboard/export.xlsx?year=2021"' in page
    assert 'href="/admin/event/"' in page  # the sections, below the figures


def test_a_school_lands_on_its_own_dashboard(client_as: Any, ids: dict[str, int]) -> None:
    page = client_as("school31").get("/admin/?year=2019").text
    assert "СОШ № 31" in page and "Гимназ" not in page
    assert "data-school=" not in page and FIGURE.search(page)
    assert client_as("school31").get(f"/admin/?school={ids['gymnasium17']}").status_code == 404


def test_the_home_figures_are_the_dashboard_figures(client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("coordinator")
    url = f"?year=2019&school={ids['school31']}"
    home, dashboard = client.get("/admin/" + url).text, client.get("/admin/dashboard/" + url).text
    figures = re.findall(r'data-figure="([a-z_]+)">([^<]+)<', home)
    assert figures and figures == re.findall(r'data-figure="([a-z_]+)">([^<]+)<', dashboard)


def test_the_year_form_stays_on_the_home_page(client_as: Any) -> None:
    page = client_as("coordinator").get("/admin/?year=abc")
    assert page.status_code == 200 and "«abc»" in page.text  # said, and the current year shown
    assert re.search(r'<form method="get" class="form-inline', page.text)
    assert 'action="/admin/dashboard/' not in page.text


def test_a_partner_gets_the_sections(client_as: Any) -> None:
    page = client_as("kemsu").get("/admin/").text
    assert not FIGURE.search(page)
    assert 'href="/admin/event/"' in page and 'href="/admin/programme/"' not in page


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("admin", "Администратор"),  # the demo's name is the role's: said once
        ("coordinator", "Муниципальный координатор"),
        ("school31", "Координатор программы МБОУ «СОШ № 31» · Школа · МБОУ «СОШ № 31»"),
        ("kemsu", "Представитель КемГУ · Организация-партнёр · КемГУ (НФИ КемГУ)"),
    ],
)
def test_the_menu_bar_names_who_is_signed_in(client_as: Any, key: str, shown: str) -> None:
    page = client_as(key).get("/admin/").get_data(as_text=True)
    found = re.search(r'<i class="fa fa-user"></i>(.*?)</span>', page, re.S)
    assert found and " ".join(html.unescape(found.group(1)).split()) == shown
