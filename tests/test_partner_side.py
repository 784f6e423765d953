"""A partner's side of the work (issue 11, item 3): its agreements, read-only; what
became of each of its events every year; and its calendar saying what the school's says."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop import trash
from coop.extensions import db

from .conftest import csrf_token


def _agreement_id(school_id: int, partner_id: int) -> int:
    return db.session.execute(
        select(m.Agreement.id).filter_by(school_id=school_id, partner_id=partner_id)
    ).scalar_one()


def _text(html: str) -> str:
    """What a person reads on the page: no markup, no scripts, spaces folded."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- its agreements, read-only --------------------------------------------------------


@pytest.mark.usefixtures("fresh_db")
def test_a_partner_reads_its_agreement_as_signed(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    with app.app_context():
        own = db.session.get(m.Agreement, _agreement_id(ids["school31"], ids["kemsu"]))
        # A network-form agreement (art. 15 of 273-ФЗ): its own fields are the partner's to read.
        own.agreement_type, own.programme_kind = "network", "Дополнительная общеразвивающая"
        own.issued_documents = "Сертификат участника"
        own.valid_to = own.valid_to.replace(year=2031)
        own.programme.title = "Программа школы, не партнёра"
        db.session.add(m.Remark(school_id=ids["school31"], agreement=own, text="Внутреннее замечание"))
        db.session.commit()
        own_id, number, programme = own.id, own.number, own.programme.title
        neighbour = _agreement_id(
            ids["school31"],
            db.session.execute(select(m.Partner.id).filter_by(short_name="СибГИУ")).scalar_one(),
        )
        neighbour_number = db.session.get(m.Agreement, neighbour).number
    client = client_as("kemsu")
    listing = _text(client.get("/admin/agreement/").text)
    assert number in listing and neighbour_number not in listing

    page = client.get(f"/admin/agreement/details/?id={own_id}")
    assert page.status_code == 200
    seen = _text(page.text)
    for shown in (
        number,
        "МБОУ «СОШ № 31»",
        "Договор о сетевой форме",
        "2031",  # valid to
        "Дополнительная общеразвивающая",
        "Сертификат участника",
        "Образовательные результаты ФГОС",
        "Уровни образования",
    ):
        assert shown in seen, shown
    # Not the school's: its programme, its remarks, its files, its staff's history.
    assert programme not in seen and "Внутреннее замечание" not in seen
    assert "Файлы" not in seen and "История изменений" not in seen
    assert client.get("/admin/remark/").status_code == 403
    # Nor its neighbour's agreement with the same school.
    assert client.get(f"/admin/agreement/details/?id={neighbour}").status_code == 404
    # The school still reads all of it, files and history included.
    school_page = _text(client_as("school31").get(f"/admin/agreement/details/?id={own_id}").text)
    assert programme in school_page and "Файлы" in school_page and "История изменений" in school_page


@pytest.mark.usefixtures("fresh_db")
def test_a_partner_cannot_change_its_agreement(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    with app.app_context():
        own_id = _agreement_id(ids["school31"], ids["kemsu"])
    client = client_as("kemsu")
    page = client.get(f"/admin/agreement/details/?id={own_id}")
    token = csrf_token(page.text)
    assert "/admin/agreement/transition/" not in page.text and "/admin/agreement/edit/" not in page.text
    assert client.get(f"/admin/agreement/edit/?id={own_id}").status_code == 403
    assert client.get("/admin/agreement/new/").status_code == 403
    posts = {
        f"/admin/agreement/edit/?id={own_id}": {"number": "Подделка", "subject": "Подделка"},
        "/admin/agreement/delete/": {"id": own_id},
        "/admin/agreement/new/": {"number": "Подделка"},
    }
    for url, data in posts.items():
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    fired = client.post(
        f"/admin/agreement/transition/?id={own_id}",
        data={"csrf_token": token, "transition": "terminate", "comment": "Подделка"},
    )
    assert fired.status_code == 302
    client.post(
        "/admin/agreement/action/",
        data={"csrf_token": token, "action": "workflow_complete", "rowid": own_id},
    )
    with app.app_context():
        agreement = db.session.get(m.Agreement, own_id)
        assert (agreement.state, agreement.number, agreement.deleted_at) == ("active", "2019/1", None)


@pytest.mark.usefixtures("fresh_db")
def test_an_agreement_in_the_trash_is_not_the_partners_to_read(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        agreement = db.session.get(m.Agreement, _agreement_id(ids["school31"], ids["kemsu"]))
        agreement_id, number = agreement.id, agreement.number
        trash.discard(agreement)
        db.session.commit()
    client = client_as("kemsu")
    assert number not in _text(client.get("/admin/agreement/").text)
    assert client.get(f"/admin/agreement/details/?id={agreement_id}").status_code == 404


def test_a_partners_lists_offer_no_filters_it_cannot_use(client_as: Any) -> None:
    """A reader of some fields only gets no filters, so no button opening an empty menu."""
    for url in ("/admin/agreement/", "/admin/eventexecution/", "/admin/school/"):
        assert "Добавить фильтр" not in client_as("kemsu").get(url).text, url
        assert "Добавить фильтр" in client_as("school31").get(url).text, url


def test_the_other_partner_reads_its_own_agreements_only(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    listing = _text(client_as("museum").get("/admin/agreement/").text)
    assert "Гимназия № 17" in listing and "СОШ № 31" not in listing
    with app.app_context():
        own = db.session.execute(
            select(func.count()).select_from(m.Agreement).where(m.Agreement.partner_id == ids["museum"])
        ).scalar_one()
    assert f"Список ({own})" in listing


def test_a_partners_home_and_menu_name_its_agreements(client_as: Any) -> None:
    page = client_as("kemsu").get("/admin/").text
    assert 'href="/admin/agreement/"' in page and "Соглашения" in page
    assert 'href="/admin/eventexecution/"' in page and "Выполнение по годам" in page
    assert 'href="/admin/programme/"' not in page and 'href="/admin/remark/"' not in page


# --- what became of its events, year by year -----------------------------------------------


def test_a_partner_sees_the_outcome_of_its_event_by_year(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        event = db.session.execute(
            select(m.Event).filter_by(school_id=ids["school31"], partner_id=ids["kemsu"], number=5)
        ).scalar_one()
        records = {r.year: r for r in event.executions}
        event_id, first, last = event.id, event.first_year, event.last_year
        parents = records[2019].parents_count
    page = client_as("kemsu").get(f"/admin/event/details/?id={event_id}")
    assert page.status_code == 200
    table = re.search(r'<table class="table table-sm by-year-table">(.*?)</table>', page.text, re.S)
    assert table and "По годам" in page.text
    found = re.findall(r'<tr class="by-year-row"[^>]*>(.*?)</tr>', table.group(1), re.S)
    rows = [_text(row) for row in found]
    assert len(rows) == last - first + 1
    assert rows[0].strip().startswith(f"{first}/{first + 1}")
    assert "Проведено" in rows[0] and f"Родителей: {parents}" in rows[0]


@pytest.mark.usefixtures("fresh_db")
def test_the_year_table_shows_dates_grades_results_and_no_evidence(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    import datetime as dt

    with app.app_context():
        event = (
            db.session.execute(
                select(m.Event)
                .filter_by(school_id=ids["school31"], partner_id=ids["kemsu"])
                .order_by(m.Event.id)
            )
            .scalars()
            .first()
        )
        record = next(r for r in event.executions if r.year == 2020)
        record.held_on, record.held_until = dt.date(2020, 11, 21), dt.date(2020, 11, 23)
        record.students_count, record.students_grades = 25, "9-11"
        record.results, record.evidence_url = "Профориентационные анкеты", "https://example.ru/secret-report"
        missing = next(r for r in event.executions if r.year == 2021)
        db.session.delete(missing)
        db.session.commit()
        event_id, record_id = event.id, record.id
    client = client_as("kemsu")
    page = client.get(f"/admin/event/details/?id={event_id}").text
    rows = [_text(row) for row in re.findall(r'<tr class="by-year-row"[^>]*>(.*?)</tr>', page, re.S)]
    year_2020 = next(row for row in rows if "2020/2021" in row)
    for shown in ("21.11.2020 – 23.11.2020", "Обучающихся: 25 (классы 9-11)", "Профориентационные анкеты"):
        assert shown in year_2020, shown
    assert "Нет записи за этот год" in next(row for row in rows if "2021/2022" in row)
    assert "secret-report" not in page
    # The record's own page: read-only, without the evidence.
    details = client.get(f"/admin/eventexecution/details/?id={record_id}")
    assert details.status_code == 200
    assert "Профориентационные анкеты" in details.text and "secret-report" not in details.text
    assert client.get(f"/admin/eventexecution/edit/?id={record_id}").status_code == 403
    assert client.get("/admin/eventexecution/new/").status_code == 403
    token = csrf_token(details.text)
    response = client.post(
        f"/admin/eventexecution/edit/?id={record_id}",
        data={"csrf_token": token, "results": "Подделка", "year": 2020},
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(m.EventExecution, record_id).results == "Профориентационные анкеты"
    # The school reads the evidence.
    assert "secret-report" in client_as("school31").get(f"/admin/eventexecution/details/?id={record_id}").text


def test_a_partner_lists_the_records_of_its_own_events_only(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        own, other = (
            db.session.execute(
                select(m.EventExecution.id)
                .join(m.Event, m.EventExecution.event)
                .where(m.Event.partner_id == partner, m.Event.school_id == ids["school31"])
                .order_by(m.EventExecution.id)
            )
            .scalars()
            .all()
            for partner in (
                ids["kemsu"],
                db.session.execute(select(m.Partner.id).filter_by(short_name="СибГИУ")).scalar_one(),
            )
        )
    client = client_as("kemsu")
    listing = client.get("/admin/eventexecution/?page_size=100").text
    assert f"Список ({len(own)})" in _text(listing)
    assert client.get(f"/admin/eventexecution/details/?id={own[0]}").status_code == 200
    assert client.get(f"/admin/eventexecution/details/?id={other[0]}").status_code == 404
    assert client_as("museum").get(f"/admin/eventexecution/details/?id={own[0]}").status_code == 404


# --- its calendar says what the school's says -----------------------------------------------


def _kemsu_lines(client: Any, school_id: int, partner_id: int, year: int) -> dict[int, tuple]:
    plan = client.get(f"/api/plan.json?school={school_id}&year={year}").get_json()
    return {
        e["id"]: (e["state"], e["execution"], e["execution_label"])
        for e in plan["events"]
        if e["partner_short_name"] == "КемГУ (НФИ КемГУ)"
    }


def _grid_rows(page: str) -> dict[str, str]:
    """Each line's title in the calendar grid → its row's state class."""
    return {
        _text(title).strip(): state
        for state, title in re.findall(
            r'<tr class="event-row state-([a-z_]+)">.*?<td class="col-title">(.*?)</td>', page, re.S
        )
    }


def _agenda(page: str) -> dict[str, str]:
    """Each line's title in the month agenda → its badge."""
    return {
        _text(title).strip(): _text(badge).strip()
        for title, badge in re.findall(
            r'<li class="agenda-item[^"]*">\s*<a [^>]*>(.*?)</a>.*?<span class="badge[^"]*">(.*?)</span>',
            page,
            re.S,
        )
    }


def _xlsx_rows(data: bytes) -> dict[str, tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return {str(row[2]): row for row in sheet.iter_rows(values_only=True) if row[0] == "КемГУ (НФИ КемГУ)"}


@pytest.mark.parametrize("year", [2019, 2022])
def test_the_partners_calendar_says_what_the_schools_says(
    client_as: Any, ids: dict[str, int], year: int
) -> None:
    school, partner = client_as("school31"), client_as("kemsu")
    on_school = _kemsu_lines(school, ids["school31"], ids["kemsu"], year)
    on_partner = _kemsu_lines(partner, ids["school31"], ids["kemsu"], year)
    assert on_partner == on_school and len(on_partner) == 11
    assert any(label == "Проведено" for _state, _code, label in on_partner.values())

    base = f"/admin/calendar/?school={ids['school31']}&year={year}&partner={ids['kemsu']}"
    grid_school, grid_partner = _grid_rows(school.get(base).text), _grid_rows(partner.get(base).text)
    assert grid_partner == grid_school and "held" in grid_partner.values()
    for month in (10, 3):
        url = f"{base}&view=month&month={month}"
        agenda_school, agenda_partner = _agenda(school.get(url).text), _agenda(partner.get(url).text)
        assert agenda_partner == agenda_school and agenda_partner
        assert "Согласовано" not in agenda_partner.values() or "Согласовано" in agenda_school.values()

    export = f"/admin/calendar/export/{{fmt}}/?school={ids['school31']}&year={year}"
    json_school = school.get(export.format(fmt="json")).get_json()
    json_partner = partner.get(export.format(fmt="json")).get_json()
    kemsu_school = [e for e in json_school["events"] if e["partner_short_name"] == "КемГУ (НФИ КемГУ)"]
    assert json_partner["events"] == kemsu_school
    xlsx_partner = _xlsx_rows(partner.get(export.format(fmt="xlsx")).data)
    assert xlsx_partner == _xlsx_rows(school.get(export.format(fmt="xlsx")).data) and xlsx_partner
    assert any("Проведено" in row for row in xlsx_partner.values())
