"""Issue 14's journey in Chromium: the admin adds a field to the yearly records through
the web, a school fills it in three records, and it shows in the form, the record's
page, the list, the XLSX export and the dashboard's sums; a value that is not a number is
refused in Russian, naming the field.

Screenshots (test-artifacts/e2e/<test>/) are taken at 1366x768 and at 390x844 for
the form and the record's page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from coop import figures
from coop import models as m
from coop.extensions import db

from .conftest import PageAs, Shot

LABEL = "Обучающиеся с ОВЗ"
EXECUTION = "Запись о выполнении пункта плана за год"
INTEGER = "Целое число"
VALUES = (2, 3, 4)
WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 390, "height": 844}


def pick(page: Page, field: str, text: str) -> None:
    """Choose text in the select2 drop-down of the form's field, as a person does."""
    page.click(f"#s2id_{field}")
    page.locator(".select2-drop-active .select2-result-label", has_text=text).first.click()
    expect(page.locator(f"#s2id_{field} .select2-chosen")).to_have_text(text)


def save(page: Page) -> None:
    page.click("form.admin-form input[type=submit]:not([name])")  # «Сохранить»


def shot_both(page: Page, shot: Shot, step: str) -> None:
    """The page at a laptop's size and at a phone's, back to the laptop's afterwards."""
    page.set_viewport_size(WIDE)
    shot(page, f"{step}-1366")
    page.set_viewport_size(NARROW)
    shot(page, f"{step}-390")
    page.set_viewport_size(WIDE)


def school31_records(app: Flask, school_id: int) -> list[int]:
    """The ids of the school's first three yearly records, as its list shows them first."""
    with app.app_context():
        stmt = (
            select(m.EventExecution.id)
            .where(m.EventExecution.school_id == school_id)
            .order_by(m.EventExecution.id)
            .limit(3)
        )
        return list(db.session.execute(stmt).scalars())


def extra_of(app: Flask, record_id: int) -> dict[str, object]:
    with app.app_context():
        return dict(db.session.get(m.EventExecution, record_id).extra or {})


@pytest.mark.usefixtures("fresh_db")
def test_admin_adds_a_field_and_a_school_fills_it(
    app: Flask, page_as: PageAs, shot: Shot, artifacts: Path, ids: dict[str, int]
) -> None:
    # 1. The admin adds the field through the web, from the menu.
    admin = page_as("admin", reuse=True)
    admin.set_viewport_size(WIDE)
    menu = admin.locator(".navbar li.dropdown:has(a[href$='/admin/fielddefinition/']) > a.dropdown-toggle")
    expect(menu).to_have_text(re.compile("Справочники"))
    menu.click()
    admin.locator(".navbar a[href$='/admin/fielddefinition/']").click()
    expect(admin).to_have_title(re.compile("Дополнительные поля"))
    admin.locator(".nav-tabs a[href*='/admin/fielddefinition/new/']").click()
    pick(admin, "model", EXECUTION)
    admin.fill("#label", LABEL)
    pick(admin, "kind", INTEGER)
    admin.check("#in_list")
    expect(admin.locator("#is_active")).to_be_checked()  # a new field is switched on
    shot(admin, "admin-new-field")
    save(admin)
    expect(admin.locator(".alert-success")).to_be_visible()
    row = admin.locator("table.model-list tbody tr", has_text=LABEL)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(EXECUTION)
    expect(row).to_contain_text(INTEGER)
    shot(admin, "admin-fields")
    with app.app_context():
        definition = db.session.execute(select(m.FieldDefinition).filter_by(label=LABEL)).scalar_one()
        assert (definition.model, definition.kind, definition.school_id) == ("execution", "integer", None)
        assert definition.in_list and definition.is_active and not definition.required
        key = definition.key
    field = f"#extra__{key}"

    # 2. The school fills it in three of its yearly records, from the list.
    records = school31_records(app, ids["school31"])
    school = page_as("school31", reuse=True)
    school.set_viewport_size(WIDE)
    for number, (record_id, value) in enumerate(zip(records, VALUES, strict=True)):
        school.goto("/admin/eventexecution/")
        school.locator(f"table.model-list a[href*='/admin/eventexecution/edit/?id={record_id}&']").click()
        expect(school.locator(f"label[for='extra__{key}']")).to_contain_text(LABEL)
        school.wait_for_load_state("load")  # the drop-downs drawn (select2) before the screenshot
        expect(school.locator("#s2id_event")).to_be_visible()
        school.fill(field, str(value))
        if number == 0:
            shot_both(school, shot, "school-form")
        save(school)
        expect(school.locator(".alert-success")).to_be_visible()
        assert extra_of(app, record_id).get(key) == value

    # The record's page shows the value by the field's label.
    school.goto(f"/admin/eventexecution/details/?id={records[0]}")
    cell = school.locator("table.added-fields tr", has_text=LABEL)
    expect(cell).to_have_count(1)
    expect(cell.locator("td").nth(1)).to_have_text(str(VALUES[0]))
    shot_both(school, shot, "school-details")

    # 3. The list has the column with the values, and so has the XLSX export.
    school.goto("/admin/eventexecution/")
    headings = school.locator("table.model-list thead th")
    expect(headings.filter(has_text=LABEL)).to_have_count(1)
    column = [text.strip() for text in headings.all_inner_texts()].index(LABEL)
    for record_id, value in zip(records, VALUES, strict=True):
        listed = school.locator(
            "table.model-list tbody tr", has=school.locator(f"a[href*='/details/?id={record_id}&']")
        )
        expect(listed.locator("td").nth(column)).to_have_text(str(value))
    shot(school, "school-list")
    school.locator("a.dropdown-toggle", has_text="Экспорт").click()
    with school.expect_download() as download_info:
        school.locator("a[href*='/admin/eventexecution/export/xlsx/']").click()
    exported = artifacts / download_info.value.suggested_filename
    download_info.value.save_as(exported)
    assert exported.suffix == ".xlsx"
    sheet = load_workbook(exported, read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    heading = [str(c or "") for c in rows[0]]
    assert LABEL in heading, heading
    values = [r[heading.index(LABEL)] for r in rows[1:]]
    # Written as the list shows them, as the core numbers are (Flask-Admin's export writes texts).
    assert sorted(str(v) for v in values if v not in (None, "")) == [str(v) for v in VALUES]

    # 4. The dashboard sums it over the year's records of the school, and in the totals.
    with app.app_context():
        stmt = select(m.EventExecution.id, m.EventExecution.year, m.EventExecution.status).where(
            m.EventExecution.id.in_(records)
        )
        found = {row.id: row for row in db.session.execute(stmt)}
        year = found[records[0]].year
        expected = sum(
            value
            for record_id, value in zip(records, VALUES, strict=True)
            if found[record_id].year == year and found[record_id].status in figures.COUNTED_STATUSES
        )
    coordinator = page_as("coordinator", reuse=True)
    coordinator.set_viewport_size(WIDE)
    coordinator.goto(f"/admin/dashboard/?year={year}&school={ids['school31']}")
    card = coordinator.locator("section.added-figures")
    expect(card).to_contain_text(LABEL)
    expect(card.locator(f"[data-figure='extra__{key}']")).to_have_text(str(expected))
    shot_both(coordinator, shot, "coordinator-dashboard-school")
    coordinator.goto(f"/admin/dashboard/?year={year}")
    total = coordinator.locator(f"tr[data-school='total'] [data-figure='extra__{key}']")
    expect(total).to_have_text(str(expected))
    expect(coordinator.locator("table.dashboard-table thead")).to_contain_text(LABEL)
    shot(coordinator, "coordinator-dashboard-all")

    # 5. Not a number: the browser's number box takes no letters; a client that sends
    # them anyway (here: the box made a text box) gets a Russian message, nothing saved.
    record_id = records[0]
    school.goto(f"/admin/eventexecution/edit/?id={record_id}")
    school.locator(field).evaluate("box => { box.type = 'text'; }")
    school.fill(field, "много")
    school.fill("#students_count", "99")  # a core field changed in the same form is not saved either
    save(school)
    error = school.locator(f".form-group:has({field}) .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_contain_text(f"«{LABEL}»: нужно целое число")  # under the field, named
    expect(school.locator(".alert-success")).to_have_count(0)
    shot_both(school, shot, "school-bad-value")
    assert extra_of(app, record_id).get(key) == VALUES[0]
    with app.app_context():
        assert db.session.get(m.EventExecution, record_id).students_count != 99
