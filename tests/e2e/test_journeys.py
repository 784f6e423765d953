"""What people do on the site, in Chromium: signing in, and a partner's event from proposal to plan.

Labels the site translates are read from its own catalog (`shown`), so these
tests follow the wording; what they check is where things appear and who sees them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from docx import Document
from flask import Flask
from flask_babel import gettext
from playwright.sync_api import Locator, Page, expect

from coop import models as m
from coop import workflow
from coop.seed.demo_data import DEMO_USERS
from coop.timing import MONTH_NAMES, academic_year_of
from coop.views.outcomes import AcademicYearFilter, StateInYearFilter

from .conftest import PageAs, Shot

NAMES = {email: name for email, _password, _role, _school, _partner, name in DEMO_USERS}
ROLES = ["admin", "coordinator", "school31", "gymnasium17", "kemsu", "museum"]
SCHOOL31 = "МБОУ «СОШ № 31»"
TITLE = "Е2Е: открытая лекция КемГУ «Кузбасс научный» для 10-х классов"
TIMING = "ноябрь - апрель"
TIMING_MONTHS = (11, 12, 1, 2, 3, 4)


def shown(app: Flask, message: Any, **values: Any) -> str:
    """A text as the site shows it, in its interface language."""
    with app.test_request_context():
        return gettext(message, **values) if values else str(message)


def transition_button(page: Page, name: str, within: str = "body") -> Locator:
    """A workflow button, found by the transition its form sends (labels may be reworded)."""
    return page.locator(f"{within} form:has(input[name=transition][value={name}]) button[type=submit]")


def label_of(name: str) -> Any:
    return next(t.label for t in workflow.EVENT.transitions if t.name == name)


def held_in_year(app: Flask, year: int) -> str:
    """The events list filtered to the lines held in academic year `year`."""
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == "event")
    args = {
        f"flt{position}_{view.get_filter_arg(index, flt)}": value
        for index, flt in enumerate(view._filters)
        for position, (kind, value) in enumerate(((AcademicYearFilter, year), (StateInYearFilter, "held")))
        if type(flt) is kind
    }
    return "/admin/event/?" + urlencode(args)


def events_found(title: str) -> str:
    """The events list searched for a title."""
    return "/admin/event/?" + urlencode({"search": title})


@pytest.mark.parametrize("key", ROLES)
def test_each_role_signs_in_and_sees_its_name(page_as: PageAs, shot: Shot, key: str) -> None:
    page = page_as(key)
    shot(page, "home")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator(".navbar .navbar-text")).to_contain_text(NAMES[f"{key}@coop.example"])
    expect(page.locator(".navbar form[action$='/logout'] button")).to_be_visible()


def test_wrong_password_is_refused_in_russian(page_as: PageAs, shot: Shot) -> None:
    page = page_as("anonymous")
    page.goto("/login")
    page.fill("input[name=email]", "school31@coop.example")
    page.fill("input[name=password]", "not-the-password")
    page.click("form button[type=submit]")
    expect(page.locator(".alert-danger")).to_have_text("Неверный адрес электронной почты или пароль.")
    shot(page, "wrong-password")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".navbar-text")).to_have_count(0)


@pytest.mark.usefixtures("fresh_db")
def test_partner_event_from_proposal_to_plan(
    app: Flask, page_as: PageAs, shot: Shot, artifacts: Path, ids: dict[str, int]
) -> None:
    year = academic_year_of(dt.date.today())  # a partner's event has no programme: it runs every year
    dashboard = f"/admin/dashboard/?school={ids['school31']}&year={year}"
    coordinator = page_as("coordinator", reuse=True)
    coordinator.goto(dashboard)
    lines_before = int(coordinator.locator("[data-figure=lines]").first.inner_text())

    # The partner proposes an event to the one school it has an agreement with.
    partner = page_as("kemsu", reuse=True)
    partner.goto("/admin/event/new/")
    expect(partner.locator("select#school option")).to_have_text([SCHOOL31])
    partner.click("#s2id_school")  # the select2 drop-down a person opens
    expect(partner.locator(".select2-drop-active .select2-result-label")).to_have_text([SCHOOL31])
    partner.keyboard.press("Escape")
    partner.fill("#title", TITLE)
    partner.fill("#timing_text", TIMING)
    shot(partner, "partner-new-event")
    partner.click("form.admin-form input[type=submit]:not([name])")  # «Сохранить»
    expect(partner.locator(".alert-success")).to_be_visible()
    shot(partner, "partner-saved")

    partner.goto(events_found(TITLE))
    found = partner.locator("table.model-list tbody tr", has_text=TITLE)
    expect(found).to_have_count(1)
    found.locator("a[href*='/admin/event/details/']").click()
    event_id = int(parse_qs(urlsplit(partner.url).query)["id"][0])
    expect(partner.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["draft"]))
    submit = transition_button(partner, "submit")
    expect(submit).to_have_text(shown(app, label_of("submit")))
    shot(partner, "partner-details")
    submit.click()
    expect(partner.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["submitted"]))
    expect(transition_button(partner, "submit")).to_have_count(0)
    shot(partner, "partner-submitted")

    # The school finds it in its review queue, from the menu, and approves it.
    school = page_as("school31", reuse=True)
    review_link = school.locator(".navbar a[href$='/admin/review/']")
    school.locator(".navbar li.dropdown:has(a[href$='/admin/review/']) > a.dropdown-toggle").click()
    expect(review_link).to_have_text(shown(app, "Awaiting approval (%(count)d)", count=1))
    shot(school, "school-menu")
    review_link.click()
    row = school.locator("tr", has_text=TITLE)
    expect(row).to_have_count(1)
    approve = transition_button(school, "approve", within=f"tr:has(a[href*='id={event_id}'])")
    expect(approve).to_have_text(shown(app, label_of("approve")))
    shot(school, "school-review-queue")
    approve.click()
    expect(school.locator("tr", has_text=TITLE)).to_have_count(0)
    expect(review_link).to_have_text(shown(app, "Awaiting approval (%(count)d)", count=0))
    shot(school, "school-approved")

    # It is in the school's yearly calendar, November to April.
    school.goto(f"/admin/calendar/?year={year}")
    event_row = school.locator("tr.event-row", has=school.locator(f"a[href*='id={event_id}']"))
    expect(event_row).to_have_count(1)
    expect(event_row).to_have_class(re.compile(r"\bstate-approved\b"))
    months_on = event_row.locator("td.col-month.on")
    expect(months_on).to_have_count(len(TIMING_MONTHS))
    assert [cell.get_attribute("title") for cell in months_on.all()] == [
        MONTH_NAMES[month] for month in TIMING_MONTHS
    ]
    shot(school, "school-calendar")

    # …and in the plan the school downloads as DOCX.
    with school.expect_download() as download_info:
        school.locator("a[href*='/admin/calendar/export/docx/']").click()
    download = download_info.value
    plan_file = artifacts / download.suggested_filename
    download.save_as(plan_file)
    assert plan_file.suffix == ".docx"
    cells = {
        cell.text.strip() for table in Document(str(plan_file)).tables for r in table.rows for cell in r.cells
    }
    assert any(TITLE in text for text in cells), "the event is not in a table of the exported plan"

    # The coordinator sees it in the events list and counted on the dashboard.
    coordinator.goto(events_found(TITLE))
    listed = coordinator.locator("table.model-list tbody tr", has_text=TITLE)
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(SCHOOL31)
    shot(coordinator, "coordinator-events")
    coordinator.goto(dashboard)
    expect(coordinator.locator("[data-figure=lines]").first).to_have_text(str(lines_before + 1))
    shot(coordinator, "coordinator-dashboard")
    coordinator.locator("[data-figure=planned]").click()  # the figure opens the year's calendar
    expect(coordinator.locator("tr.event-row", has_text=TITLE)).to_have_count(1)
    shot(coordinator, "coordinator-dashboard-planned")

    # The other school sees it nowhere, not even by its address.
    other = page_as("gymnasium17", reuse=True)
    other.goto(events_found(TITLE))
    expect(other.locator("table.model-list")).to_be_visible()
    expect(other.locator("table.model-list")).not_to_contain_text(TITLE)
    shot(other, "other-school-events")
    other.goto(f"/admin/calendar/?year={year}")
    expect(other.locator("h1")).to_contain_text("Гимназия № 17")
    expect(other.locator("body")).not_to_contain_text(TITLE)
    shot(other, "other-school-calendar")
    for address in (
        f"/admin/calendar/?school={ids['school31']}&year={year}",
        f"/admin/event/details/?id={event_id}",
    ):
        response = other.goto(address)
        assert response is not None and response.status == 404, address
    shot(other, "other-school-details")

    # The school records it held this year in a short form; the event's page says so, and
    # its history shows each step of its approval, who took it and when.
    school.goto(f"/admin/event/details/?id={event_id}")
    this_year = school.locator(f"tr[data-year='{year}']")
    this_year.locator("a.outcome-held").click()
    expect(school.locator("select#year option:checked")).to_have_text(f"{year}/{year + 1}")
    school.fill("#held_on", dt.date.today().isoformat())
    school.fill("#students_count", "25")
    school.fill("#students_grades", "10")
    school.fill("#results", "Лекцию слушали два десятых класса")
    shot(school, "school-held-form")
    school.click("form.outcome-form button[type=submit]")
    expect(school.locator(".alert-success")).to_contain_text(TITLE)
    expect(school.locator(".alert-success")).to_contain_text(f"{year}/{year + 1}")
    expect(this_year.locator(".year-status")).to_contain_text(shown(app, m.EXECUTION_STATUSES["held"]))
    expect(school.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["approved"]))
    steps = school.locator("table.history-table tbody tr")  # newest first
    expect(steps).to_have_count(3)
    changed = shown(app, m.HISTORY_ACTIONS["transition"])
    for row, who, before, after in (
        (0, "school31", "submitted", "approved"),
        (1, "kemsu", "draft", "submitted"),
    ):
        expect(steps.nth(row)).to_contain_text(changed)
        expect(steps.nth(row)).to_contain_text(f"{who}@coop.example")
        states = (shown(app, m.EVENT_STATES[before]), shown(app, m.EVENT_STATES[after]))
        expect(steps.nth(row)).to_contain_text("{} → {}".format(*states))  # by name, not by code
    expect(steps.nth(2)).to_contain_text(shown(app, m.HISTORY_ACTIONS["create"]))
    expect(steps.nth(2)).to_contain_text("kemsu@coop.example")
    shot(school, "school-held-history")

    # The events list finds it among the lines held this year.
    school.goto(held_in_year(app, year) + "&" + urlencode({"search": TITLE}))
    expect(school.locator("table.model-list tbody tr", has_text=TITLE)).to_have_count(1)
    shot(school, "school-events-held-this-year")
