"""Every role's main pages on a laptop (1366×768) and on a phone (390×844).

On each: the page never scrolls sideways (`document.documentElement.scrollWidth <=
innerWidth`: a wide table scrolls inside its own box, a list turns into cards), and what a
person opened it for — a list's first title, the page's heading, the form's save button — is
shown within the screen's width. A screenshot of each goes to
test-artifacts/e2e/<test>/<nn>-<width>-<page>.png, to be looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from coop import models as m
from coop.extensions import db
from coop.tenancy import as_system

from ..test_workflow import _fire, _propose
from .conftest import PageAs, Shot

YEAR = 2022  # an academic year of the demo plan with events held and not held
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = (LAPTOP, PHONE)

FIRST_TITLE = "table.model-list tbody tr:first-child td.list-primary"  # the row's title cell
SAVE = "form.admin-form input[type=submit]"


@dataclass(frozen=True)
class Screen:
    name: str
    path: str
    needed: str  # a selector: what a person needs on this page, shown within the screen's width


def common(ids: dict[str, int]) -> list[Screen]:
    """The pages of the network plan every signed-in role opens."""
    return [
        Screen("home", "/admin/", "h1"),
        Screen("events", "/admin/event/", FIRST_TITLE),
        Screen("calendar", f"/admin/calendar/?year={YEAR}", "h1"),
        Screen("calendar-grid", f"/admin/calendar/?year={YEAR}&view=year", "td.col-title a"),
        Screen("sessions", "/admin/sessions/", ".user-session-current button"),
    ]


def audit(ids: dict[str, int]) -> list[Screen]:
    """The coordinator's pages (the admin's and a school's too)."""
    school = ids["school31"]
    return [
        Screen("dashboard", f"/admin/dashboard/?year={YEAR}", "h1"),
        Screen("dashboard-school", f"/admin/dashboard/?school={school}&year={YEAR}", ".figure-big"),
        Screen("coverage", f"/admin/coverage/?school={school}&year={YEAR}", ".coverage-matrix th.col-result"),
        Screen("remarks", "/admin/remark/", FIRST_TITLE),
        Screen("history", "/admin/history/", FIRST_TITLE),
    ]


def within_width(page: Page, selector: str) -> None:
    """The first element `selector` finds is shown, its box inside the viewport's width."""
    element = page.locator(selector).first
    expect(element).to_be_visible()
    box = element.bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{selector} at {box}, screen {width} px"


def no_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: the page is {widths[0]} px wide on a {widths[1]} px screen"


def cards_hold_content(page: Page) -> None:
    """Nothing in a card runs past its edge (a table in a scrolling box of its own excepted)."""
    spill = page.evaluate(
        """() => [...document.querySelectorAll('.card')].flatMap(card => {
            const edge = card.getBoundingClientRect().right + 1;
            return [...card.querySelectorAll('*')]
                .filter(e => !e.closest('.table-responsive, .sr-only'))
                .filter(e => e.getBoundingClientRect().right > edge)
                .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 40));
        })"""
    )
    assert spill == [], f"{page.url}: past a card's edge: {spill}"


def menu_opens(page: Page, shot: Shot) -> None:
    """On a phone the menu bar is one line with ☰, which opens the menu (sign-out included)."""
    menu = page.locator("#admin-navbar-collapse")
    expect(menu).to_be_hidden()
    page.click(".navbar-toggler")
    expect(menu).to_have_class(re.compile(r"\bshow\b"))  # opened, its animation over
    within_width(page, ".navbar form[action$='/logout'] button")
    shot(page, "390-menu")


def charts_fit(page: Page) -> None:
    """No bar chart's label starts left of its drawing (it would be cut off)."""
    cut = page.evaluate(
        "[...document.querySelectorAll('.chart-label')]"
        ".filter(t => t.getBBox().x < 0).map(t => t.textContent)"
    )
    assert cut == [], f"chart labels cut off on the left: {cut}"


def check(page: Page, shot: Shot, screens: list[Screen]) -> None:
    for size in SIZES:
        page.set_viewport_size(size)
        for screen in screens:
            response = page.goto(screen.path)
            assert response is not None and response.status == 200, f"{screen.path}: {response}"
            if screen.name == "calendar" and size is PHONE:
                # A phone opens the month agenda: the year grid is too wide to read at a glance.
                expect(page).to_have_url(re.compile(r"view=month"))
                page.wait_for_load_state()
                within_width(page, ".agenda-item a")
            no_overflow(page)
            within_width(page, screen.needed)
            cards_hold_content(page)
            if screen.name.startswith("dashboard"):
                charts_fit(page)
            shot(page, f"{size['width']}-{screen.name}")
            if screen.name == "home" and size is PHONE:
                menu_opens(page, shot)


def test_sign_in_page_fits(page_as: PageAs, shot: Shot) -> None:
    page = page_as("anonymous")
    check(page, shot, [Screen("login", "/login", "form button[type=submit]")])
    for size in SIZES:  # every demo account's e-mail is readable, none runs off the card
        page.set_viewport_size(size)
        for email in page.locator(".demo-account code").all():
            expect(email).to_be_visible()
            box, card = email.bounding_box(), page.locator(".login-page .card").last.bounding_box()
            assert box and card and box["x"] + box["width"] <= card["x"] + card["width"], box


def test_admin_pages_fit(page_as: PageAs, shot: Shot, ids: dict[str, int]) -> None:
    check(
        page_as("admin", reuse=True),
        shot,
        [
            *common(ids),
            *audit(ids),
            Screen("users", "/admin/user/", FIRST_TITLE),
            Screen("user-form", "/admin/user/new/", SAVE),
            Screen("sign-ins", "/admin/signin/", "table.model-list"),  # empty after another test's restore
        ],
    )


def test_coordinator_pages_fit(page_as: PageAs, shot: Shot, ids: dict[str, int]) -> None:
    check(
        page_as("coordinator", reuse=True),
        shot,
        [*common(ids), *audit(ids), Screen("remark-form", "/admin/remark/new/", SAVE)],
    )


@pytest.mark.usefixtures("fresh_db")
def test_school_pages_fit(
    app: Flask, client_as: Any, page_as: PageAs, shot: Shot, ids: dict[str, int]
) -> None:
    # An event waiting in the school's review queue, so that the queue shows a row.
    partner = client_as("kemsu")
    event = _propose(app, partner, ids, "Е2Е: мастер-класс КемГУ по робототехнике для 7-х классов")
    assert _fire(partner, "event", event, "submit").status_code == 302
    page = page_as("school31", reuse=True)
    # The rows behind a dashboard figure: a list with its filters shown.
    page.goto(f"/admin/dashboard/?school={ids['school31']}&year={YEAR}")
    held = page.get_attribute("[data-figure=held]", "href")
    assert held
    check(
        page,
        shot,
        [
            *common(ids),
            Screen("held-filtered", held, FIRST_TITLE),
            Screen("review", "/admin/review/", "table.review-queue td.list-primary a"),
            Screen("event", f"/admin/event/details/?id={event}", ".workflow-panel"),
            *audit(ids),
            Screen("event-form", "/admin/event/new/", SAVE),
            Screen("execution-form", "/admin/eventexecution/new/", SAVE),
        ],
    )


def test_partner_pages_fit(page_as: PageAs, shot: Shot, ids: dict[str, int]) -> None:
    check(
        page_as("kemsu", reuse=True),
        shot,
        [
            *common(ids),
            Screen("event-form", "/admin/event/new/", SAVE),
            Screen("resource-form", "/admin/partnerresource/new/", SAVE),
        ],
    )


@pytest.mark.usefixtures("fresh_db")
def test_a_record_changed_by_a_long_name_fits_a_phone(app: Flask, page_as: PageAs, shot: Shot) -> None:
    """The «Создано / Изменено» line under a record wraps a long name instead of widening the page."""
    long_name = "Константинопольская Анастасия-Виктория Владиславовна, заместитель директора по УВР"
    with app.app_context(), as_system():
        admin = db.session.execute(select(m.User).filter_by(email="admin@coop.example")).scalar_one()
        event = db.session.execute(select(m.Event).order_by(m.Event.id)).scalars().first()
        db.session.execute(update(m.User).where(m.User.id == admin.id).values(name=long_name))
        stamp = {"created_by_id": admin.id, "updated_by_id": admin.id}
        db.session.execute(update(m.Event).where(m.Event.id == event.id).values(**stamp))
        db.session.commit()
        event_id = event.id
    page = page_as("admin")
    page.set_viewport_size(PHONE)
    page.goto(f"/admin/event/details/?id={event_id}")
    expect(page.locator(".record-stamp")).to_contain_text(long_name[:20])
    no_overflow(page)
    shot(page, "390-long-name")
