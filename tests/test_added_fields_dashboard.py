"""The dashboard sums the number fields and counts the «yes» of the yes/no fields added to
the yearly records (issue 14), per school and in total, from the figures kept (coop/summary.py:
exact after every write, as `flask coop check-figures` says, which the fixture checks)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from coop import figures, summary
from coop import models as m
from coop.extensions import db

pytestmark = pytest.mark.usefixtures("fresh_db")


def _shown(html: str, key: str) -> list[str]:
    """The figures of an added field on a dashboard page, in the page's order (totals last)."""
    return [
        value.replace("\u202f", " ") for value in re.findall(rf'data-figure="extra__{key}">([^<]*)<', html)
    ]


def _records(app: Flask, school_id: int) -> tuple[int, list[int]]:
    """A year of the school's held records, and three of them."""
    with app.app_context():
        stmt = (
            select(m.EventExecution.year, m.EventExecution.id)
            .where(m.EventExecution.school_id == school_id, m.EventExecution.status == "held")
            .order_by(m.EventExecution.year.desc(), m.EventExecution.id)
        )
        rows = db.session.execute(stmt).all()
        year = rows[0][0]
        return year, [row_id for found, row_id in rows if found == year][:3]


def test_the_demo_hours_are_summed_for_the_gymnasium(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    year, _ids = _records(app, ids["gymnasium17"])
    with app.app_context():
        stmt = select(m.EventExecution.extra).where(
            m.EventExecution.school_id == ids["gymnasium17"],
            m.EventExecution.year == year,
            m.EventExecution.status.in_(figures.COUNTED_STATUSES),
        )
        expected = sum((extra or {}).get("career_hours", 0) for extra in db.session.execute(stmt).scalars())
    assert expected > 0
    page = client_as("coordinator").get(f"/admin/dashboard/?year={year}&school={ids['gymnasium17']}").text
    assert "Часы профминимума" in page
    assert _shown(page, "career_hours") == [str(expected)]


def test_number_and_yes_no_fields_per_school_and_in_total(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        db.session.add_all(
            [
                m.FieldDefinition(
                    model="execution", key="ovz_students", label="Обучающиеся с ОВЗ", kind="integer"
                ),
                m.FieldDefinition(model="execution", key="mentoring", label="Наставничество", kind="boolean"),
                m.FieldDefinition(
                    model="execution", key="hours_spent", label="Затрачено часов", kind="decimal"
                ),
                m.FieldDefinition(model="execution", key="note", label="Заметка", kind="text"),
            ]
        )
        db.session.commit()
    year, records = _records(app, ids["school31"])
    values = [
        {"ovz_students": 2, "mentoring": True, "hours_spent": 1.5, "note": "7"},
        {"ovz_students": 1500, "mentoring": False, "hours_spent": 2.25},
        {"ovz_students": 3, "mentoring": True},
    ]
    with app.app_context():
        for record_id, extra in zip(records, values, strict=True):
            record = db.session.get(m.EventExecution, record_id)
            record.extra = {**(record.extra or {}), **extra}
        db.session.commit()
        assert summary.check(db.session) == []  # the kept rows are the counted ones
    coordinator = client_as("coordinator")
    page = coordinator.get(f"/admin/dashboard/?year={year}&school={ids['school31']}").text
    assert _shown(page, "ovz_students") == ["1 505"]
    assert _shown(page, "mentoring") == ["2"]
    assert _shown(page, "hours_spent") == ["3,75"]
    assert _shown(page, "note") == []  # a text is neither summed nor counted
    table = coordinator.get(f"/admin/dashboard/?year={year}").text
    row = table[table.index(f'data-school="{ids["school31"]}"') :]
    assert _shown(row, "ovz_students")[0] == "1 505"
    totals = table[table.index('data-school="total"') :]
    assert _shown(totals, "ovz_students") == ["1 505"]
    assert _shown(totals, "mentoring") == ["2"]
    # The school sees its own figures; the export does not break.
    own = client_as("school31").get(f"/admin/dashboard/?year={year}").text
    assert _shown(own, "ovz_students") == ["1 505"]
    # The XLSX of the table has them too, by their labels (numbers, not texts).
    workbook = load_workbook(io.BytesIO(coordinator.get(f"/admin/dashboard/export.xlsx?year={year}").data))
    cells = [list(row) for row in workbook.active.iter_rows(min_row=3, values_only=True)]
    heading = cells[0]
    school_row = next(row for row in cells if row[0] == "МБОУ «СОШ № 31»")
    assert school_row[heading.index("Обучающиеся с ОВЗ")] == 1505
    assert school_row[heading.index("Наставничество")] == 2
    assert school_row[heading.index("Затрачено часов")] == 3.75
    assert cells[-1][heading.index("Обучающиеся с ОВЗ")] == 1505  # the totals
    # A value taken away: the kept figure follows at once.
    with app.app_context():
        record = db.session.get(m.EventExecution, records[1])
        record.extra = {key: value for key, value in record.extra.items() if key != "ovz_students"}
        db.session.commit()
    page = coordinator.get(f"/admin/dashboard/?year={year}&school={ids['school31']}").text
    assert _shown(page, "ovz_students") == ["5"]
