"""The date picker and the look-ups in a browser: Russian, the week from Monday, dates written
дд.мм.гггг (coop/static/admin-locale.js), in a form and in a list's filter; the history and the
details page's «Создано» line as a school reads them, on a desktop and on a phone."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import PageAs, Shot

DATE = re.compile(r"^\d\d\.\d\d\.\d{4}$")


def _record_id(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(m.EventExecution.id).order_by(m.EventExecution.id)).scalars().first()


def test_the_date_picker_is_russian_and_starts_on_monday(app: Flask, page_as: PageAs, shot: Shot) -> None:
    page = page_as("school31")
    page.goto(f"/admin/eventexecution/edit/?id={_record_id(app)}")
    expect(page.locator("#s2id_year")).to_contain_text("/")  # the year picked by «2019/2020»
    page.click("#held_on")
    picker = page.locator(".daterangepicker:visible")
    expect(picker).to_be_visible()
    days = picker.locator("thead tr").nth(1).locator("th").all_inner_texts()
    assert days[:2] == ["пн", "вт"] and days[-1] == "вс", days
    months = picker.locator("select.monthselect option").all_inner_texts()
    assert "сент." in months or "сен." in months, months
    shot(page, "picker")
    picker.locator("td.available", has_text=re.compile(r"^21$")).first.click()
    assert DATE.match(page.input_value("#held_on")), page.input_value("#held_on")
    page.click("#s2id_event")
    expect(page.locator(".select2-drop-active")).to_contain_text("Введите ещё символов")


def test_a_date_filter_picks_and_reads_dd_mm_yyyy(page_as: PageAs, shot: Shot) -> None:
    page = page_as("school31", reuse=True)
    page.goto("/admin/agreement/")
    page.click("text=Добавить фильтр")
    page.locator(".field-filters a.filter", has_text="Дата подписания").click()
    page.locator("select.filter-op").first.select_option(label="между", force=True)
    value = page.locator("input.filter-val").first
    value.fill("01.09.2019 — 01.09.2019")
    shot(page, "filter")
    with page.expect_navigation():
        page.click("#filter_form button[type=submit]")
    expect(page.locator(".nav-tabs .nav-link.active")).to_contain_text("Список (5)")
    expect(page.locator("table.model-list")).not_to_contain_text("01.09.2021")


def test_the_details_page_at_desktop_and_phone(app: Flask, page_as: PageAs, shot: Shot) -> None:
    page = page_as("school31", reuse=True)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/admin/eventexecution/details/?id={_record_id(app)}")
        expect(page.locator(".record-stamp")).to_contain_text("Создано: Система, ")
        expect(page.locator(".history-table")).to_contain_text("Школа: — → МБОУ «СОШ № 31»")
        assert page.evaluate("document.documentElement.lang") == "ru"
        # The history's table scrolls in its own box, no wider than the screen.
        box = page.locator(".history-table").evaluate("t => t.parentElement.getBoundingClientRect().right")
        assert box <= width, (width, box)
        shot(page, f"details-{width}")
