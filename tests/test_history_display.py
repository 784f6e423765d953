"""A history entry as a person reads it: fields by their labels, every value as the pages show it
(a referenced row by its name, on creation as on change; codes by their labels; yes/no; month
names; dates дд.мм.гггг; academic years «2019/2020»), times in the site's time zone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from coop import formats, tenancy
from coop import models as m
from coop.extensions import db
from coop.history import shown_changes


def test_codes_show_by_their_names(app: Flask, ids: dict[str, int]) -> None:
    changes = {
        "id": [None, 5],
        "state": ["approved", "held"],
        "all_year": [None, False],
        "months_mask": [None, 3087],
        "school_id": [None, ids["school31"]],
        "partner_id": [ids["museum"], ids["kemsu"]],
        "responsible": [[], ["Учителя-предметники"]],
        "title": ["", "Лекция"],
        "first_year": [None, 2019],
        "start_date": [None, "2019-11-21"],
        "section": [None, ""],  # empty on creation: nothing to say
        "end_date": [None, None],
    }
    with app.test_request_context(), tenancy.as_system():
        shown = shown_changes("events", changes)
    assert shown == [
        ("Состояние", "Согласовано", "Проведено"),
        ("В течение года", "—", "нет"),
        ("Месяцы", "—", "ноябрь, декабрь, январь, февраль, март, апрель"),
        ("Школа", "—", "МБОУ «СОШ № 31»"),
        ("Организация-партнёр", "Краеведческий музей", "КемГУ (НФИ КемГУ)"),
        ("Ответственные", "—", "Учителя-предметники"),
        ("Мероприятие", "—", "Лекция"),
        ("С учебного года", "—", "2019/2020"),
        ("Дата начала", "—", "21.11.2019"),
    ]


def test_a_state_is_named_by_the_workflow_of_its_table(app: Flask) -> None:
    with app.test_request_context():
        assert shown_changes("agreements", {"state": ["signing", "active"]}) == [
            ("Состояние", "На подписании", "Действует")
        ]
        assert shown_changes("event_executions", {"status": ["planned", "held"]}) == [
            ("Статус", "Запланировано", "Проведено")
        ]


def test_a_dropped_column_keeps_its_label(app: Flask) -> None:
    with app.test_request_context():
        assert shown_changes("event_executions", {"evidence_file": [None, "акт.pdf"]}) == [
            ("Подтверждение (файл)", "—", "акт.pdf")
        ]


def test_a_row_the_reader_may_not_see_is_named_by_its_number(app: Flask, ids: dict[str, int]) -> None:
    """Anonymous here: the policy hides every school, and the history tells no name it hides."""
    with app.test_request_context():
        assert shown_changes("events", {"school_id": [None, ids["school31"]]}) == [
            ("Школа", "—", f"№ {ids['school31']}")
        ]


def _history_rows(html: str) -> list[str]:
    table = html.split('class="table table-sm history-table"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in table.split("<tr>")[2:]]


def test_the_history_on_creation_names_the_event_and_the_school(app: Flask, client_as: Any) -> None:
    """The demo's yearly record was created with ids: its page names them («Мероприятие: — → 56»
    and «Школа: — → 1» before), with labels, never raw names, and at the minute, in the site's zone."""
    with app.app_context():
        record = db.session.execute(select(m.EventExecution).order_by(m.EventExecution.id)).scalars().first()
        created = (
            db.session.execute(
                select(m.History).where(
                    m.History.table_name == "event_executions", m.History.row_id == record.id
                )
            )
            .scalars()
            .first()
        )
        event, school, year = str(record.event), record.school.short_name, record.year
    page = client_as("school31").get(f"/admin/eventexecution/details/?id={record.id}")
    assert page.status_code == 200
    rows = _history_rows(page.text)
    creation = rows[-1]
    assert f"Мероприятие: — → {event}" in creation
    assert f"Школа: — → {school}" in creation
    assert f"Учебный год: — → {year}/{year + 1}" in creation
    assert "— → —" not in creation
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", creation), creation
    with app.app_context():
        local = formats.local(created.at)
    assert creation.startswith(local.strftime("%d.%m.%Y %H:%M"))
    assert local != created.at  # the site's zone is not UTC: a time shown in UTC would fail above


def test_times_show_in_the_sites_time_zone(app: Flask) -> None:
    with app.app_context():
        assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Novokuznetsk"
        assert formats.moment(dt.datetime(2026, 12, 5, 17, 29, 51, 921315)) == "06.12.2026 00:29"
        assert formats.date(dt.datetime(2026, 12, 5, 17, 29)) == "06.12.2026"
        assert formats.date(dt.date(2019, 11, 21)) == "21.11.2019"


def test_the_history_list_names_tables_people_and_times(app: Flask, client_as: Any) -> None:
    """The admin's history of changes: tables by their sections' names, the system in Russian,
    times to the minute; an entry's page lists its changes as the rows' pages do, not as JSON."""
    client = client_as("admin")
    page = client.get("/admin/history/?sort=0")
    assert page.status_code == 200
    body = re.sub(r"<[^>]+>", " ", page.text.split("</thead>", 1)[1].split("</table>", 1)[0])
    assert "event_executions" not in body and "system" not in body
    assert " Мероприятия " in body and " events " not in body
    assert "Система" in body
    assert not re.search(r"\d\d:\d\d:\d\d", body)  # no seconds, no microseconds
    with app.app_context():
        entry = (
            db.session.execute(select(m.History).where(m.History.table_name == "schools")).scalars().first()
        )
    details = client.get(f"/admin/history/details/?id={entry.id}").text
    assert '{"id"' not in details and "short_name" not in details
    assert "Краткое наименование:" in details
    assert "Версия" not in details
