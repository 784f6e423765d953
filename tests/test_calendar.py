"""The yearly calendar, the JSON plan, exports and iCalendar feeds, as each role gets them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
from typing import Any

import docx
import icalendar
import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop.extensions import db
from coop.lookup import find_school
from coop.plan_io.plan import build_plan

from .conftest import csrf_token

ALL_MONTHS = [9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8]


def _plan_json(client: Any, school_id: int, year: int = 2019) -> dict:
    response = client.get(f"/api/plan.json?school={school_id}&year={year}")
    assert response.status_code == 200
    return response.get_json()


def test_the_seed_plan_is_in_the_2019_calendar_with_the_seed_months(
    client_as: Any, ids: dict[str, int]
) -> None:
    plan = _plan_json(client_as("school31"), ids["school31"])
    events = plan["events"]
    assert len(events) == 48
    assert len({e["partner"] for e in events}) == 5
    by_timing = {e["timing_text"]: e["months"] for e in events}
    assert by_timing["ноябрь - апрель"] == [11, 12, 1, 2, 3, 4]
    assert by_timing["октябрь, март"] == [10, 3]
    assert by_timing["ноябрь-декабрь"] == [11, 12]
    assert by_timing["в течение года"] == ALL_MONTHS
    assert by_timing["В течение года"] == ALL_MONTHS
    for key in (
        "partner",
        "number",
        "title",
        "timing_text",
        "months",
        "all_year",
        "audience",
        "responsible",
        "state",
    ):
        assert key in events[0]


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022])
def test_the_teachers_lines_repeat_every_year_of_the_programme(
    client_as: Any, ids: dict[str, int], year: int
) -> None:
    events = _plan_json(client_as("school31"), ids["school31"], year)["events"]
    teachers = [e for e in events if e["timing_text"] == "2019-2023гг."]
    assert len(teachers) == 4
    assert all(e["months"] == ALL_MONTHS for e in teachers)


def test_no_plan_lines_outside_the_programme_years(client_as: Any, ids: dict[str, int]) -> None:
    assert _plan_json(client_as("school31"), ids["school31"], 2018)["events"] == []


def test_calendar_grid_shows_every_line_and_fills_its_months(client_as: Any, ids: dict[str, int]) -> None:
    page = (
        client_as("school31")
        .get(f"/admin/calendar/?school={ids['school31']}&year=2019")
        .get_data(as_text=True)
    )
    rows = re.findall(r'<tr class="event-row[^"]*">(.*?)</tr>', page, re.S)
    assert len(rows) == 48
    fair = next(row for row in rows if "Выставка-ярмарка учебных мест, организованных ВУЗом" in row)
    filled = re.findall(r'<td class="col-month on[^"]*" title="([^"]+)"', fair)
    assert filled == ["ноябрь", "декабрь", "январь", "февраль", "март", "апрель"]
    assert "<title>Сетевой план - Календарь на год - Coop</title>" in page
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert heading
    assert " ".join(heading.group(1).split()) == "Сетевой план — МБОУ «СОШ № 31», 2019/2020 учебный год"


def test_month_agenda_lists_only_that_months_lines(client_as: Any, ids: dict[str, int]) -> None:
    url = f"/admin/calendar/?school={ids['school31']}&year=2019&view=month&month=1"
    page = client_as("school31").get(url).get_data(as_text=True)
    assert "Олимпиада по математике для учащихся 5-9 классов" in page  # январь
    assert "Дни открытых дверей" not in page  # апрель, март


def test_calendar_filters_by_partner_and_state(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("school31")
    base = f"/admin/calendar/?school={ids['school31']}&year=2019"
    page = client.get(f"{base}&partner={ids['kemsu']}").get_data(as_text=True)
    assert len(re.findall(r'<tr class="event-row', page)) == 11
    page = client.get(f"{base}&state=draft").get_data(as_text=True)
    assert 'class="event-row' not in page


def test_partner_sees_only_its_own_lines(client_as: Any, ids: dict[str, int]) -> None:
    events = _plan_json(client_as("kemsu"), ids["school31"])["events"]
    assert len(events) == 11
    assert {e["partner_short_name"] for e in events} == {"КемГУ (НФИ КемГУ)"}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("school=abc&year=2019", 400),
        ("year=2019", 400),
        ("school=1&year=19", 400),
        ("school=1&year=x", 400),
        ("school=999999&year=2019", 404),
    ],
)
def test_api_rejects_bad_parameters_with_a_message(client_as: Any, query: str, status: int) -> None:
    response = client_as("admin").get(f"/api/plan.json?{query}")
    assert response.status_code == status
    assert response.get_json()["error"]


def test_calendar_ignores_nonsense_in_the_query(client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("school31")
    assert client.get("/admin/calendar/?year=abc&partner=x&month=99&view=month").status_code == 200
    assert client.get("/admin/calendar/?school=abc").status_code == 200  # falls back to own school
    assert client.get("/admin/calendar/?school=999999").status_code == 404


def test_docx_export_has_the_seed_tables(client_as: Any, ids: dict[str, int]) -> None:
    response = client_as("school31").get(f"/admin/calendar/export/docx/?school={ids['school31']}&year=2019")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    assert len(document.tables) == 5
    header = [cell.text.strip() for cell in document.tables[0].rows[0].cells]
    assert header == ["№ п/п", "Наименование мероприятия", "сроки", "ответственные"]
    texts = [p.text for p in document.paragraphs]
    assert any("Сибирский государственный индустриальный университет" in t for t in texts)


def test_xlsx_and_ics_exports_open(client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("school31")
    xlsx = client.get(f"/admin/calendar/export/xlsx/?school={ids['school31']}&year=2019")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    ics = client.get(f"/admin/calendar/export/ics/?school={ids['school31']}&year=2019")
    calendar = icalendar.Calendar.from_ical(ics.data)
    summaries = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    assert "Дни открытых дверей" in summaries
    assert client.get(f"/admin/calendar/export/pdf/?school={ids['school31']}&year=2019").status_code == 404


def _create_feed(client: Any, school_id: int) -> str:
    page = client.get(f"/admin/calendar/?school={school_id}&year=2019")
    response = client.post(
        f"/admin/calendar/feed/?school={school_id}", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    page = client.get(f"/admin/calendar/?school={school_id}&year=2019").get_data(as_text=True)
    return re.search(r"/feeds/([\w-]+)\.ics", page).group(1)


@pytest.mark.usefixtures("fresh_db")
def test_school_feed_is_scoped_and_revocable(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("school31")
    token = _create_feed(client, ids["school31"])
    anonymous = client_as("anonymous")
    response = anonymous.get(f"/feeds/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert not any("Гимназ" in str(event["SUMMARY"]) for event in calendar.walk("VEVENT"))
    assert len(calendar.walk("VEVENT")) > 48
    new_token = _create_feed(client, ids["school31"])
    assert new_token != token
    assert anonymous.get(f"/feeds/{token}.ics").status_code == 404
    assert anonymous.get(f"/feeds/{new_token}.ics").status_code == 200


@pytest.mark.usefixtures("fresh_db")
def test_partner_feed_has_only_its_own_events(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    token = _create_feed(client_as("kemsu"), ids["school31"])
    calendar = icalendar.Calendar.from_ical(client_as("anonymous").get(f"/feeds/{token}.ics").data)
    summaries = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    assert "Выставка-ярмарка учебных мест, организованных ВУЗом" in summaries
    assert "Фестиваль робототехники" not in summaries  # СибГИУ's line
    assert not any("Гимназ" in summary for summary in summaries)


@pytest.mark.usefixtures("fresh_db")
def test_the_feed_uses_the_date_a_yearly_record_gives(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """A line held on a recorded day is that day in the feed; a line with no date keeps its months."""
    with app.app_context():
        held, planned = (
            db.session.execute(
                select(m.Event)
                .where(m.Event.school_id == ids["school31"], m.Event.title == title)
                .order_by(m.Event.id)
            )
            .scalars()
            .first()
            for title in ("Анкетирование и тестирование старшеклассников", "Дни открытых дверей")
        )
        record = db.session.execute(
            select(m.EventExecution).where(
                m.EventExecution.event_id == held.id, m.EventExecution.year == 2019
            )
        ).scalar_one_or_none() or m.EventExecution(event_id=held.id, year=2019, status="held")
        record.held_on, record.held_until = dt.date(2019, 10, 15), dt.date(2019, 10, 16)
        db.session.add(record)
        db.session.commit()
        held_id, planned_id = held.id, planned.id
    token = _create_feed(client_as("school31"), ids["school31"])
    calendar = icalendar.Calendar.from_ical(client_as("anonymous").get(f"/feeds/{token}.ics").data)
    spans: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for vevent in calendar.walk("VEVENT"):
        event_id, year = (int(part) for part in str(vevent["UID"]).split("-")[1:3])
        if year == 2019:
            spans.setdefault(event_id, []).append((vevent["DTSTART"].dt, vevent["DTEND"].dt))
    # «октябрь, март» was two month-long bars; the record says 15–16 October.
    assert spans[held_id] == [(dt.date(2019, 10, 15), dt.date(2019, 10, 17))]
    assert (dt.date(2020, 4, 1), dt.date(2020, 5, 1)) in spans[planned_id]  # «апрель», no date


@pytest.mark.usefixtures("fresh_db")
def test_a_new_subscription_link_keeps_the_chosen_school_and_year(
    client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    page = client.get(f"/admin/calendar/?school={ids['school31']}&year=2020").get_data(as_text=True)
    assert f"/admin/calendar/feed/?school={ids['school31']}&amp;year=2020" in page
    response = client.post(
        f"/admin/calendar/feed/?school={ids['school31']}&year=2020", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/calendar/?school={ids['school31']}&year=2020")


def test_unknown_feed_token_is_404(client_as: Any) -> None:
    assert client_as("anonymous").get("/feeds/not-a-real-token-at-all-0000.ics").status_code == 404


def test_coordinator_cannot_make_a_school_feed_for_a_school_it_cannot_see(client_as: Any) -> None:
    client = client_as("school31")
    token = csrf_token(client.get("/admin/calendar/").text)
    assert client.post("/admin/calendar/feed/?school=999999", data={"csrf_token": token}).status_code == 404


@pytest.mark.usefixtures("fresh_db")
def test_cli_export_plan(app: Flask, tmp_path: Any) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "plan.docx"
    result = runner.invoke(
        args=[
            "coop",
            "export-plan",
            "--school",
            "сош № 31",
            "--year",
            "2019",
            "--format",
            "docx",
            "-o",
            str(target),
        ]
    )
    assert result.exit_code == 0, result.output
    assert len(docx.Document(str(target)).tables) == 5
    result = runner.invoke(
        args=["coop", "export-plan", "--school", "СОШ № 31", "--year", "2019", "--format", "json"]
    )
    assert len(json.loads(result.stdout)["events"]) == 48
    for bad in (
        ["--school", "МБОУ", "--year", "2019", "--format", "json"],
        ["--school", "СОШ № 31", "--year", "19", "--format", "json"],
        ["--school", "СОШ № 31", "--year", "2019", "--format", "pdf"],
    ):
        result = runner.invoke(args=["coop", "export-plan", *bad])
        assert result.exit_code != 0 and "Traceback" not in result.output


def test_build_plan_keeps_plan_order(app: Flask) -> None:
    with app.app_context():
        plan = build_plan(find_school("СОШ № 31"), 2019)
        assert [p.short_name for p in plan.partners] == [
            "КемГУ (НФИ КемГУ)",
            "СибГИУ",
            "АНО ДПО ИНО",
            "НТТТ",
            "ЦДЮТТ «Меридиан»",
        ]
        ino = plan.partners[2]
        assert [e.section for e in ino.events][:5] == ["учителя-предметники"] * 4 + ["учащиеся"]


def _options(page: str, select_id: str) -> list[str]:
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="(\d+)"', select)


def test_calendar_filter_choices_do_not_shrink_with_the_filter(client_as: Any, ids: dict[str, int]) -> None:
    """The partner choice lists every partner of the school's plan, in plan order,
    whatever the filter and the year; the year choice spans every visible line."""
    client = client_as("school31")
    base = f"/admin/calendar/?school={ids['school31']}"
    everything = client.get(f"{base}&year=2019").text
    partners = _options(everything, "f-partner")
    assert len(partners) == 5 and partners[0] == str(ids["kemsu"])
    for query in (f"&year=2019&partner={ids['kemsu']}", "&year=2019&state=draft", "&year=2018"):
        page = client.get(base + query).text
        assert _options(page, "f-partner") == partners, query
        assert _options(page, "f-year") == _options(everything, "f-year")
    assert _options(everything, "f-year")[0] == "2019"  # the first year of its lines


def test_calendar_plan_leaves_out_only_what_the_page_does_not_show(app: Flask) -> None:
    with app.app_context():
        school = find_school("СОШ № 31")
        full, lean = build_plan(school, 2019), build_plan(school, 2019, details=False)
        assert full.programme_title and not lean.programme_title
        assert any(event.fgos_results for event in full.events)
        assert not any(event.fgos_results for event in lean.events)
        strip = {"fgos_results": ()}
        assert [dataclasses.replace(e, **strip) for e in full.events] == lean.events
