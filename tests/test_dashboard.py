"""The dashboard and the ФГОС coverage matrix: the figures against the demo data counted
independently, drill-down links, the XLSX export, and who may open what."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from coop import figures, tenancy
from coop import models as m
from coop.extensions import db
from coop.seed.demo import load_demo

from .conftest import ACCOUNTS

YEAR = 2019
TEMPLATES = Path(__file__).resolve().parent.parent / "coop" / "templates" / "coop"
ENDPOINTS = {
    "dashboard.index": "/admin/dashboard/?year=2019{school}",
    "dashboard.export": "/admin/dashboard/export.xlsx?year=2019{school}",
    "coverage.index": "/admin/coverage/?year=2019{school}",
}
MAY_OPEN = {"admin", "coordinator", "school31", "gymnasium17"}
FOREIGN_MARKER = {"school31": "Гимназ", "gymnasium17": "СОШ № 31"}


# --- the figures, counted here without the dashboard's queries ---------------------------------


def _expected(school_id: int, year: int) -> dict[str, Any]:
    """School 31's figures for the year from plain row-by-row counting."""
    first, last = dt.date(year, 9, 1), dt.date(year + 1, 8, 31)
    events = [
        e
        for e in db.session.execute(select(m.Event).filter_by(school_id=school_id)).scalars()
        if (e.first_year is None or e.first_year <= year) and (e.last_year is None or e.last_year >= year)
    ]
    records = {
        x.event_id: x
        for x in db.session.execute(
            select(m.EventExecution).filter_by(school_id=school_id, year=year)
        ).scalars()
    }
    statuses = Counter(records[e.id].status if e.id in records else "planned" for e in events)
    agreements = [
        a
        for a in db.session.execute(select(m.Agreement).filter_by(school_id=school_id)).scalars()
        if (a.valid_from is None or a.valid_from <= last) and (a.valid_to is None or a.valid_to >= first)
    ]
    agreed = {r.id for a in agreements for r in a.fgos_results}
    held_results = {r.id for e in events if _held(records, e) for r in e.fgos_results}
    seminars = Counter(
        s.cycle
        for s in db.session.execute(select(m.Seminar).filter_by(school_id=school_id)).scalars()
        if s.held_on and first <= s.held_on <= last
    )
    limitations = list(db.session.execute(select(m.Limitation).filter_by(school_id=school_id)).scalars())
    return {
        "lines": len(events),
        "held": statuses["held"],
        "not_held": statuses["not_held"],
        "cancelled": statuses["cancelled"],
        "planned": statuses["planned"],
        "students": sum(x.students_count for x in records.values()),
        "teachers": sum(x.teachers_count for x in records.values()),
        "parents": sum(x.parents_count for x in records.values()),
        "partners": len({a.partner_id for a in agreements}),
        "agreements": Counter((a.agreement_type, a.state) for a in agreements),
        "seminars": seminars,
        "limitations": len(limitations),
        "limitations_addressed": sum(1 for item in limitations if item.resource_id is not None),
        "fgos_agreed": len(agreed),
        "fgos_covered": len(agreed & held_results),
    }


def _held(records: dict[int, m.EventExecution], event: m.Event) -> bool:
    return event.id in records and records[event.id].status == "held"


def _figures_on(page: str, school_id: int | str | None = None) -> dict[str, str]:
    """The figures a page shows (data-figure="key"), within one school's row if given."""
    if school_id is not None:
        match = re.search(rf'<tr data-school="{school_id}"[^>]*>(.*?)</tr>', page, re.DOTALL)
        assert match, f"no row for school {school_id}"
        page = match.group(1)
    shown: dict[str, str] = {}
    for key, grouped in re.findall(r'data-figure="([a-z_]+)">([^<]*)<', page):
        value = grouped.replace("\u202f", "")  # 1 226 is 1226
        assert shown.setdefault(key, value) == value, f"{key} shown as {shown[key]} and {value}"
    return shown


def test_school31_figures_for_2019_equal_the_demo_data_counted_row_by_row(
    app: Flask, ids: dict[str, int]
) -> None:
    with app.app_context():
        want = _expected(ids["school31"], YEAR)
        (got,) = figures.school_figures(YEAR, [ids["school31"]])
    assert want["lines"] == 48 and want["held"] > 0 and want["not_held"] > 0  # the demo is what we think
    for key in (
        "lines",
        "held",
        "not_held",
        "cancelled",
        "planned",
        "students",
        "teachers",
        "parents",
        "partners",
        "limitations",
        "limitations_addressed",
        "fgos_agreed",
        "fgos_covered",
    ):
        assert getattr(got, key) == want[key], key
    assert got.agreements == dict(want["agreements"])
    assert got.seminars == dict(want["seminars"]) == dict.fromkeys(m.SEMINAR_CYCLES, 1)
    assert 0 < got.fgos_covered < got.fgos_agreed  # some results covered, some gaps
    assert got.percent_held == round(100 * want["held"] / want["lines"], 1)


@pytest.mark.parametrize("key", ["school31", "coordinator"])
def test_the_pages_show_the_same_figures(app: Flask, client_as: Any, ids: dict[str, int], key: str) -> None:
    with app.app_context():
        want = _expected(ids["school31"], YEAR)
    client = client_as(key)
    shown = [_figures_on(client.get(f"/admin/dashboard/?year=2019&school={ids['school31']}").text)]
    if key == "coordinator":  # and the school's row in the table of all schools
        shown.append(_figures_on(client.get("/admin/dashboard/?year=2019").text, ids["school31"]))
    for on_page in shown:
        for name in ("lines", "held", "not_held", "cancelled", "planned", "students", "teachers", "parents"):
            assert on_page[name] == str(want[name]), name
        assert on_page["partners"] == str(want["partners"])
        assert on_page["fgos_agreed"] == str(want["fgos_agreed"])
        assert on_page["fgos_covered"] == str(want["fgos_covered"])
        assert on_page["limitations"] == str(want["limitations"])
        for cycle in m.SEMINAR_CYCLES:
            assert on_page[f"seminars_{cycle}"] == str(want["seminars"][cycle])


def test_a_line_without_a_record_for_the_year_counts_as_planned(
    app: Flask, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        before = figures.school_figures(YEAR, [ids["school31"]])[0]
        record = db.session.execute(
            select(m.EventExecution).filter_by(school_id=ids["school31"], year=YEAR, status="held").limit(1)
        ).scalar_one()
        students = record.students_count
        db.session.delete(record)
        db.session.commit()
        after = figures.school_figures(YEAR, [ids["school31"]])[0]
    assert after.lines == before.lines
    assert (after.planned, after.held) == (before.planned + 1, before.held - 1)
    assert after.students == before.students - students


def test_the_figures_are_those_of_the_schools_the_user_sees(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        everyone = {fig.school_id: fig for fig in figures.school_figures(2021)}
    with app.test_request_context():
        with tenancy.as_system():
            user = db.session.execute(
                select(m.User).filter_by(email=ACCOUNTS["gymnasium17"].email)
            ).scalar_one()
        g.principal = user
        (own,) = figures.school_figures(2021)  # asked for all schools: gets its own
        assert own == everyone[ids["gymnasium17"]]
        assert sum(bar.lines for bar in figures.charts(2021).months) == sum(
            bar.lines for bar in figures.charts(2021, ids["gymnasium17"]).months
        )
        assert figures.totals(2021, [own]).partners == own.partners


def test_the_whole_dashboard_is_one_statement_with_the_same_figures(app: Flask, ids: dict[str, int]) -> None:
    """dashboard() reads the charts and the figures at once, and reads what the separate calls read."""
    school = ids["school31"]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            whole = figures.dashboard(YEAR, sort="held", desc=True)
            one = figures.dashboard(YEAR, school)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) == 2
        page = figures.figures_page(YEAR, sort="held", desc=True)
        assert whole.page == page and whole.school is None
        assert whole.charts == figures.charts(YEAR)
        assert whole.page.rows[0].school_id == school  # the only school that held anything in 2019
        assert whole.page.totals.partners == figures.totals(YEAR, figures.school_figures(YEAR)).partners
        assert one.school == figures.school_figures(YEAR, [school])[0] and one.page is None
        assert one.charts == figures.charts(YEAR, school)
        assert sum(bar.held for bar in one.charts.months) > 0


# --- who sees what -------------------------------------------------------------------------------


def _status(key: str, school: str) -> int:
    """Anonymous: to sign-in; partners: forbidden; a school: its own school only; else 200."""
    if ACCOUNTS[key].role is None:
        return 302
    if key not in MAY_OPEN:
        return 403
    if key in FOREIGN_MARKER and school not in ("", key):
        return 404
    return 200


def _body(response: Any) -> str:
    if response.mimetype.endswith("sheet"):
        sheet = load_workbook(io.BytesIO(response.data)).active
        return "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("key", list(ACCOUNTS))
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_role_matrix(client_as: Any, ids: dict[str, int], key: str, endpoint: str) -> None:
    client = client_as(key)
    for school in ("", "school31", "gymnasium17"):
        url = ENDPOINTS[endpoint].format(school=f"&school={ids[school]}" if school else "")
        response = client.get(url)
        assert response.status_code == _status(key, school), (url, key)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
        if response.status_code == 200 and key in FOREIGN_MARKER:
            assert FOREIGN_MARKER[key] not in _body(response), (url, key)


@pytest.mark.parametrize("key", ["admin", "coordinator"])
def test_admin_and_coordinator_see_every_school(client_as: Any, ids: dict[str, int], key: str) -> None:
    page = client_as(key).get("/admin/dashboard/?year=2021").text
    assert "СОШ № 31" in page and "Гимназия № 17" in page
    assert f'data-school="{ids["school31"]}"' in page and f'data-school="{ids["gymnasium17"]}"' in page


def test_a_school_sees_only_its_own_dashboard(client_as: Any, ids: dict[str, int]) -> None:
    page = client_as("school31").get("/admin/dashboard/?year=2021").text
    assert "СОШ № 31" in page and "Гимназ" not in page
    assert 'name="school"' not in page  # no school picker for one school
    assert "data-school=" not in page  # its own figures, not the table of schools


@pytest.mark.parametrize(
    ("url", "value"),
    [
        ("/admin/dashboard/?year=abc", "abc"),
        ("/admin/dashboard/?year=1812", "1812"),
        ("/admin/coverage/?year=abc", "abc"),
        ("/admin/dashboard/?sort=nonsense&desc=maybe&page=abc", None),
        ("/admin/dashboard/?page=999", None),
    ],
)
def test_a_bad_year_is_said_and_a_bad_sort_or_page_ignored(
    client_as: Any, url: str, value: str | None
) -> None:
    response = client_as("coordinator").get(url)
    assert response.status_code == 200
    if value:  # a warning naming what was not understood, and the current year shown
        assert "alert-warning" in response.text and f"«{value}»" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/admin/dashboard/?school=999999",
        "/admin/dashboard/?school=abc",
        "/admin/coverage/?school=999999",
        "/admin/dashboard/export.xlsx?school=999999",
        "/admin/dashboard/export.xlsx?year=abc",
    ],
)
def test_an_unknown_school_is_not_found(client_as: Any, url: str) -> None:
    assert client_as("coordinator").get(url).status_code == 404


# --- drill-down ------------------------------------------------------------------------------------


def _links(page: str) -> dict[str, str]:
    return {
        key: html.unescape(href)
        for href, key in re.findall(r'<a href="([^"]+)" data-figure="([a-z_]+)"', page)
    }


@pytest.mark.parametrize("key", ["school31", "coordinator"])
def test_each_figure_links_to_its_rows(app: Flask, client_as: Any, ids: dict[str, int], key: str) -> None:
    with app.app_context():
        want = _expected(ids["school31"], YEAR)
    client = client_as(key)
    links = _links(client.get(f"/admin/dashboard/?year=2019&school={ids['school31']}").text)
    expected_rows = {
        "held": want["held"],
        "not_held": want["not_held"],
        "lines": want["lines"],
        "students": want["lines"],  # every execution record of the year
        "limitations": want["limitations"],
        "agreements_cooperation_active": want["agreements"][("cooperation", "active")],
        "seminars_design": 1,
    }
    for figure, count in expected_rows.items():
        url = links[figure]
        # The same filters on the list's CSV export: one line per row, after the header.
        area, query = url.split("/")[2], url.split("?", 1)[1]
        response = client.get(f"/admin/{area}/export/csv/?{query}")
        assert response.status_code == 200, url
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) - 1 == count, (figure, url)
    assert links["fgos_agreed"].startswith("/admin/coverage/")
    assert links["planned"].startswith("/admin/calendar/")


# --- the table of all schools and its export -------------------------------------------------------


@pytest.fixture
def many_schools(app: Flask, fresh_db: None) -> None:
    """Sixty more schools without programmes, and one whose name a spreadsheet would run."""
    with app.app_context():
        for n in range(60):
            db.session.add(m.School(name=f"Тестовая школа № {n:02d}", short_name=f"Тестовая № {n:02d}"))
        db.session.add(m.School(name='=HYPERLINK("http://x")', short_name="=1+1 школа"))
        db.session.commit()


def test_the_table_is_paged_sorted_and_totalled(
    client_as: Any, ids: dict[str, int], many_schools: None
) -> None:
    client = client_as("coordinator")
    first = client.get("/admin/dashboard/?year=2019&sort=held&desc=1").text
    rows = re.findall(r'<tr data-school="(\d+)">', first)
    assert len(rows) == figures.PAGE_SIZE
    assert rows[0] == str(ids["school31"])  # the only school that held anything in 2019
    second = client.get("/admin/dashboard/?year=2019&sort=held&desc=1&page=2").text
    assert len(re.findall(r'<tr data-school="(\d+)">', second)) == 63 - figures.PAGE_SIZE
    # The totals are those of every school, on every page.
    assert _figures_on(first, "total") == _figures_on(second, "total")
    assert _figures_on(second, "total")["held"] == _figures_on(first, ids["school31"])["held"]


@pytest.mark.parametrize("desc", [False, True])
def test_the_page_sorted_in_sql_is_the_table_sorted_whole(
    app: Flask, ids: dict[str, int], many_schools: None, desc: bool
) -> None:
    """Every sort, both ways, every page: the schools and figures of the page read from the kept
    figures (sorted and cut in SQL) are those of all the schools' figures sorted here."""
    with app.app_context():
        school = db.session.get(m.School, ids["school31"])
        school.short_name = "ёлочная школа"  # a lower-case name, and «ё»: sorted as «Е», after «Д»
        db.session.commit()
        every = figures.school_figures(YEAR)
        partners = figures.totals(YEAR, every).partners
        for sort in figures.SORTS:
            for number in (1, 2, 3):
                page = figures.figures_page(YEAR, sort, desc, number)
                whole = figures._page(YEAR, list(every), partners, sort, desc, number)
                assert page.rows == whole.rows, (sort, number)
                assert (page.totals, page.page, page.pages, page.count) == (
                    whole.totals,
                    whole.page,
                    whole.pages,
                    whole.count,
                )


def test_the_xlsx_export_holds_the_table(
    app: Flask, client_as: Any, ids: dict[str, int], many_schools: None
) -> None:
    response = client_as("coordinator").get("/admin/dashboard/export.xlsx?year=2019&sort=held&desc=1")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = values[2]
    body = [row for row in values[3:] if row[0]]
    assert len(body) == 63 + 1  # every school, not one page, and the totals
    school31 = body[0]
    assert school31[0] == "МБОУ «СОШ № 31»"
    with app.app_context():
        want = _expected(ids["school31"], YEAR)
    column = {name: index for index, name in enumerate(header)}
    held_column = next(index for name, index in column.items() if name in ("Held", "Проведено"))
    assert school31[held_column] == want["held"]
    assert body[-1][held_column] == want["held"]  # the totals
    names = [row[0] for row in body]
    assert "'=1+1 школа" in names  # never a formula
    assert not any(isinstance(name, str) and name.startswith("=") for name in names)


def test_a_school_exports_its_own_row(client_as: Any) -> None:
    response = client_as("school31").get("/admin/dashboard/export.xlsx?year=2019")
    sheet = load_workbook(io.BytesIO(response.data)).active
    names = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True) if row[0]]
    assert names == ["МБОУ «СОШ № 31»"]


# --- the ФГОС coverage matrix ----------------------------------------------------------------------


def test_the_coverage_matrix_lists_agreed_results_against_the_lines_serving_them(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school_id = ids["school31"]
    with app.app_context():
        agreed = {
            r.code
            for a in db.session.execute(select(m.Agreement).filter_by(school_id=school_id)).scalars()
            for r in a.fgos_results
        }
        records = {
            x.event_id: x.status
            for x in db.session.execute(
                select(m.EventExecution).filter_by(school_id=school_id, year=YEAR)
            ).scalars()
        }
        serving: dict[str, set[str]] = {code: set() for code in agreed}
        for event in db.session.execute(select(m.Event).filter_by(school_id=school_id)).scalars():
            for result in event.fgos_results:
                if result.code in serving:
                    serving[result.code].add(records.get(event.id, "planned"))
        matrix = figures.coverage(school_id, YEAR)
    want_gaps = {
        code: "no_line" if not statuses else None if "held" in statuses else "not_held"
        for code, statuses in serving.items()
    }
    assert {row.code: row.gap for row in matrix.rows} == want_gaps
    assert any(gap == "no_line" for gap in want_gaps.values())  # the demo has gaps to show
    assert any(gap is None for gap in want_gaps.values())
    # Each cell is the status of a line that serves the row's result.
    for row in matrix.rows:
        assert {cell for cell in row.cells if cell} == serving[row.code]
    assert matrix.groups[0].group == "Личностные"
    assert {group.subgroup for group in matrix.groups} >= {"Познавательные УУД", "Коммуникативные УУД"}

    page = client_as("school31").get("/admin/coverage/?year=2019").text
    shown = dict(re.findall(r'data-result="([^"]+)" data-gap="([a-z_]*)"', page))
    assert shown == {code: gap or "" for code, gap in want_gaps.items()}
    assert 'class="result-row gap gap-no_line"' in page
    assert _figures_on(page)["agreed"] == str(len(agreed))


def test_the_coverage_of_a_year_without_agreements_says_so(client_as: Any, ids: dict[str, int]) -> None:
    page = client_as("gymnasium17").get("/admin/coverage/?year=2019").text
    assert "data-result=" not in page
    assert "alert-info" in page


def test_the_demo_links_events_to_agreed_results_once(app: Flask, fresh_db: None) -> None:
    def links() -> int:
        return db.session.execute(select(func.count()).select_from(m.event_fgos_results)).scalar_one()

    with app.app_context():
        before = links()
        load_demo()
        assert links() == before > 0
        # Every link is to a result agreed with the event's partner.
        for event in db.session.execute(select(m.Event)).scalars():
            agreed = {
                r.id
                for a in db.session.execute(
                    select(m.Agreement).filter_by(school_id=event.school_id, partner_id=event.partner_id)
                ).scalars()
                for r in a.fgos_results
            }
            assert {r.id for r in event.fgos_results} <= agreed


# --- what the page is made of ----------------------------------------------------------------------


def test_the_remarks_show_on_the_school_dashboard(client_as: Any) -> None:
    page = client_as("school31").get("/admin/dashboard/?year=2019").text
    assert "Уточните ожидаемые результаты для родителей" in page


def test_charts_are_inline_svg_without_scripts_or_inline_styles(client_as: Any) -> None:
    page = client_as("coordinator").get("/admin/dashboard/?year=2019").text
    assert page.count("<svg") == 3
    assert "<rect" in page
    for name in ("dashboard.html", "coverage.html"):
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        assert "style=" not in source and "<style" not in source and "<script" not in source
