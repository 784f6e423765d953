"""Imports fill the fields added to plan lines (issue 14): a column headed by a field's
label, Russian or English (case and spacing aside), fills that field, read by its kind; a
value that does not fit is an error naming the row and the column, and nothing is written.
The definitions are read once per flush, not once per line written."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import event, func, select

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer

from .conftest import csrf_token
from .test_import_seed import empty_school  # noqa: F401 - a fixture
from .test_import_web import _token, upload

pytestmark = pytest.mark.usefixtures("fresh_db")

HEADER = ["№", "Партнёр", "Наименование мероприятия", "Сроки", "Ответственные"]


@pytest.fixture
def fields(app: Flask) -> Iterator[None]:
    """Three fields of plan lines: a whole number, a yes/no and a date (English label too)."""
    with app.app_context():
        db.session.add_all(
            [
                m.FieldDefinition(model="event", key="hours", label="Часы", label_en="Hours", kind="integer"),
                m.FieldDefinition(model="event", key="online", label="Онлайн", kind="boolean"),
                m.FieldDefinition(
                    model="event", key="held", label="Дата проведения факт", label_en="Held on", kind="date"
                ),
                m.FieldDefinition(
                    model="event",
                    key="partner_note",
                    label="Отзыв партнёра",
                    kind="text",
                    filled_by="partner",
                ),
            ]
        )
        db.session.commit()
    yield


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(";".join(row) for row in rows).encode("utf-8")


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lines(count: int, *extra: str) -> list[list[str]]:
    return [
        [str(n), "Краеведческий музей", f"Экскурсия {n}", "октябрь", "Учитель истории", *extra]
        for n in range(1, count + 1)
    ]


def _extra(school_id: int) -> dict[str, dict[str, Any]]:
    stmt = select(m.Event).where(m.Event.school_id == school_id).order_by(m.Event.id)
    return {e.title: dict(e.extra or {}) for e in db.session.execute(stmt).scalars()}


def _run(app: Flask, path: Path, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(
        args=["coop", "import-plan", str(path), "--school", "СОШ № 99", "--year", "2019", *args]
    )
    return result.exit_code, result.output


def test_the_headings_of_a_schools_fields_are_its_own_and_the_municipalitys(
    app: Flask, fields: None, ids: dict[str, int]
) -> None:
    """A field of the school's own is read from its heading; another school's is not, and
    a field without an English label adds no empty heading (an unnamed column stays unread)."""
    with app.app_context():
        db.session.add_all(
            [
                m.FieldDefinition(
                    model="event", key="rooms", label="Кабинет", kind="text", school_id=ids["school31"]
                ),
                m.FieldDefinition(
                    model="event", key="bus", label="Автобус", kind="boolean", school_id=ids["gymnasium17"]
                ),
            ]
        )
        db.session.commit()
        headers = importer.added_headers(db.session.get(m.School, ids["school31"]))
        assert headers["кабинет"] == "rooms" and headers["часы"] == headers["hours"] == "hours"
        assert "автобус" not in headers
        assert "" not in headers


def test_csv_columns_headed_by_labels_fill_the_fields(
    app: Flask,
    tmp_path: Path,
    fields: None,
    empty_school: int,  # noqa: F811
) -> None:
    path = tmp_path / "plan.csv"
    rows = [[*HEADER, "  ЧАСЫ ", "онлайн", "held ON"]]
    rows += [[*line, "12", "да", "15.10.2019"] for line in _lines(2)]
    rows.append([*_lines(3)[2], "", "нет", ""])
    path.write_bytes(_csv(rows))
    code, output = _run(app, path)
    assert code == 0, output
    with app.app_context():
        assert _extra(empty_school) == {
            "Экскурсия 1": {"hours": 12, "online": True, "held": "2019-10-15"},
            "Экскурсия 2": {"hours": 12, "online": True, "held": "2019-10-15"},
            "Экскурсия 3": {"online": False},
        }
    # Again with another number and an empty date: the line is changed, its other values
    # kept (an empty cell keeps the value); twice: nothing.
    rows[1][5], rows[1][7] = "14", ""
    path.write_bytes(_csv(rows))
    code, output = _run(app, path)
    assert code == 0, output
    assert "обновлено — 1" in output, output
    code, output = _run(app, path)
    assert "обновлено — 0" in output, output
    with app.app_context():
        assert _extra(empty_school)["Экскурсия 1"] == {"hours": 14, "online": True, "held": "2019-10-15"}
    rows[2][5:8] = ["20", "нет", "16.10.2019"]  # every value of a line changed
    path.write_bytes(_csv(rows))
    code, output = _run(app, path)
    assert "обновлено — 1" in output, output
    with app.app_context():
        assert _extra(empty_school)["Экскурсия 2"] == {"hours": 20, "online": False, "held": "2019-10-16"}


def test_a_schools_own_field_is_filled_by_its_import(
    app: Flask,
    tmp_path: Path,
    empty_school: int,  # noqa: F811
) -> None:
    with app.app_context():
        room = m.FieldDefinition(model="event", key="rooms", label="Кабинет", kind="text")
        db.session.add(room)
        room.school_id = empty_school
        db.session.commit()
    path = tmp_path / "plan.csv"
    path.write_bytes(_csv([[*HEADER, "Кабинет"], [*_lines(1)[0], "214"]]))
    code, output = _run(app, path)
    assert code == 0, output
    with app.app_context():
        assert _extra(empty_school) == {"Экскурсия 1": {"rooms": "214"}}


def test_a_value_that_does_not_fit_names_the_row_and_column_and_writes_nothing(
    app: Flask,
    tmp_path: Path,
    fields: None,
    empty_school: int,  # noqa: F811
) -> None:
    path = tmp_path / "plan.csv"
    rows = [
        [*HEADER, "Часы", "Онлайн"],
        [*_lines(1)[0], "12", "да"],
        [*_lines(2)[1], "двенадцать", "может быть"],
    ]
    path.write_bytes(_csv(rows))
    code, output = _run(app, path)
    assert code != 0
    assert "строка 3: столбец «Часы»: нужно целое число." in output, output
    assert "строка 3: столбец «Онлайн»:" in output, output
    with app.app_context():
        assert _extra(empty_school) == {}  # all or nothing: the good line is not written either


def test_xlsx_on_the_import_page(app: Flask, client_as: Any, fields: None, ids: dict[str, int]) -> None:
    client = client_as("school31")
    # The partner's column first: not read, and said so on each line; the columns after it are.
    rows: list[list[Any]] = [[*HEADER, "Отзыв партнёра", "Hours", "Онлайн"]]
    rows += [[*line, "хорошо", 7, "Да"] for line in _lines(2)]
    for line in rows[1:]:
        line[2] = f"Новая {line[2]}"
    token = _token(upload(client, _xlsx(rows), "план.xlsx", year=2021))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    said = r"<li>([^<]*): столбец «Отзыв партнёра» заполняет другая роль: не прочитан\.</li>"
    not_read = re.findall(said, body)
    assert [re.findall(r"строка \d+", where) for where in not_read] == [["строка 2"], ["строка 3"]]
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        extra = _extra(ids["school31"])
        assert extra["Новая Экскурсия 1"] == {"hours": 7, "online": True}
        assert extra["Новая Экскурсия 2"] == {"hours": 7, "online": True}

    rows[2][6] = 7.5  # not a whole number: refused on the preview, with its sheet and row
    token = _token(upload(client, _xlsx(rows), "план.xlsx", year=2021))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    assert "строка 3" in body and "столбец «Часы»: нужно целое число" in body
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 400


@pytest.mark.parametrize("count", [3, 40])
def test_definitions_are_read_once_per_import_whatever_its_length(
    app: Flask,
    fields: None,
    empty_school: int,  # noqa: F811
    count: int,
) -> None:
    data = _csv([[*HEADER, "Часы"], *([*line, "3"] for line in _lines(count))])
    read: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "field_definitions" in statement:
            read.append(statement)

    with app.app_context():
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data, "plan.csv", school), school, 2019)
        assert preview.errors == []
        engine = db.engine
        event.listen(engine, "before_cursor_execute", note)
        try:
            importer.apply(preview)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        written = select(func.count()).where(m.Event.school_id == empty_school, m.Event.extra.isnot(None))
        assert db.session.execute(written).scalar_one() == count
    assert len(read) <= 1, read
