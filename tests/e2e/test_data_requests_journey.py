"""Issue 15's journey in Chromium: the coordinator sends a data request to the two demo
schools with a question prefilled from Coop's data → each school sees it on its home page,
СОШ № 31 submits with the prefilled value corrected → the board shows one submitted, one
not started → the consolidated XLSX holds the answer, with what Coop counted as a note.

Screenshots (test-artifacts/e2e/<test>/) at 1366x768 and 390x844 of the board and the form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import PageAs, Shot

TITLE = "Сетевые мероприятия 2022/2023"
QUESTION = "Сколько мероприятий проведено"
FIGURE = "Мероприятий плана проведено в учебном году"
WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 390, "height": 844}


def pick(page: Page, field: str, text: str) -> None:
    """Choose text in the select2 drop-down of the form's field, as a person does."""
    page.click(f"#s2id_{field}")
    page.locator(".select2-drop-active .select2-result-label", has_text=text).first.click()
    expect(page.locator(f"#s2id_{field} .select2-chosen")).to_have_text(text)


def shot_both(page: Page, shot: Shot, step: str) -> None:
    page.set_viewport_size(WIDE)
    shot(page, f"{step}-1366")
    page.set_viewport_size(NARROW)
    shot(page, f"{step}-390")
    page.set_viewport_size(WIDE)


@pytest.mark.usefixtures("fresh_db")
def test_a_request_to_two_schools_answered_by_one(
    app: Flask, page_as: PageAs, shot: Shot, artifacts: Path, ids: dict[str, int]
) -> None:
    # 1. The coordinator writes the request from the menu, to every school (the demo's two).
    coordinator = page_as("coordinator", reuse=True)
    coordinator.set_viewport_size(WIDE)
    coordinator.locator(".navbar .dropdown-toggle", has_text="Контроль").click()
    coordinator.locator(".navbar a[href$='/admin/datarequests/']").click()
    coordinator.locator("a[href*='/admin/datarequest/new/']").click()
    coordinator.fill("#title", TITLE)
    pick(coordinator, "year", "2022/2023")
    coordinator.fill("#deadline", "31.05.2030")  # to come: not overdue
    pick(coordinator, "addressees", "Все школы")
    coordinator.click("form.admin-form input[type=submit]:not([name])")
    expect(coordinator.locator("h1")).to_have_text(TITLE)
    coordinator.locator("a[href*='/admin/datarequestquestion/new/']").click()
    coordinator.fill("#label", QUESTION)
    pick(coordinator, "kind", "Целое число")
    coordinator.fill("#sort_order", "10")
    pick(coordinator, "prefill", FIGURE)
    coordinator.click("form.admin-form input[type=submit]:not([name])")
    expect(coordinator.locator("ol.request-questions")).to_contain_text(QUESTION)
    with app.app_context():
        request_id = db.session.execute(select(m.DataRequest.id).filter_by(title=TITLE)).scalar_one()
    board_url = f"/admin/datarequests/board/?id={request_id}"

    # 2. Each school sees it on its home page; СОШ № 31 corrects the prefilled value and submits.
    gymnasium = page_as("gymnasium17", reuse=True)
    gymnasium.goto("/admin/")
    expect(gymnasium.locator("section.open-requests")).to_contain_text(TITLE)
    school = page_as("school31", reuse=True)
    school.set_viewport_size(WIDE)
    school.goto("/admin/")
    school.locator("section.open-requests a", has_text=TITLE).click()
    box = school.locator("form.answer-form input[type=text], form.answer-form input[type=number]").first
    counted = int(box.input_value())
    assert counted > 0  # СОШ № 31 held lines in 2022/2023
    expect(school.locator(".prefill-source")).to_contain_text(f"По данным Coop: {counted}")
    shot_both(school, shot, "school-form")
    box.fill(str(counted + 2))
    school.click("form.answer-form button[value=submit]")
    expect(school.locator(".alert-success")).to_contain_text("Ответ отправлен")
    expect(school.locator(".state-label")).to_have_text("Отправлено")

    # 3. The board: one submitted, one not started.
    coordinator.goto(board_url)
    expect(coordinator.locator("[data-count=submitted]")).to_have_text("1")
    expect(coordinator.locator("[data-count=not_started]")).to_have_text("1")
    expect(coordinator.locator(f"tr[data-school='{ids['school31']}']")).to_contain_text("Отправлено")
    expect(coordinator.locator(f"tr[data-school='{ids['gymnasium17']}']")).to_contain_text("Не начато")
    shot_both(coordinator, shot, "board")

    # 4. The XLSX holds the answer, Coop's figure beside it as a note.
    with coordinator.expect_download() as download_info:
        coordinator.locator("a[href*='/admin/datarequests/export/']").click()
    exported = artifacts / download_info.value.suggested_filename
    download_info.value.save_as(exported)
    sheet = load_workbook(exported).active
    header = [cell.value for cell in sheet[4]]
    assert header[3] == QUESTION
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=5)}
    answered = rows["МБОУ «СОШ № 31»"]
    assert answered[1].value == "Отправлено" and answered[3].value == counted + 2
    assert answered[3].comment is not None and answered[3].comment.text == f"По данным Coop: {counted}"
    assert rows["МБОУ «Гимназия № 17»"][3].value is None
    assert re.match(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", answered[2].value)
