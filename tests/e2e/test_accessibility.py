"""WCAG 2.1 AA (ГОСТ Р 52872-2019) on every page, for every role, on a laptop and a phone.

Each role's pages are found as a person finds them: every link of the menu, and on each
list its create form and its first row's details and edit pages; then the pages no menu
leads to (the calendar's month, the search, the password pages, an import's preview, …).
axe-core (tests/e2e/axe.py) runs on each; a failure lists every page with its violations.
The count per page goes to test-artifacts/e2e/<test>/axe.txt, to be compared over time.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from coop import models as m
from coop import notify, outbox, tokens
from coop.extensions import db

from ..test_import_seed import seed_docx
from . import axe
from .conftest import SIZES, AxePage, Shot

YEAR = 2022  # an academic year of the demo plan with events held and not held
ROLES = ["kemsu", "school31", "coordinator", "admin"]  # in this order: see RECORD_PAGES
# Links that download a file, not a page.
FILES = (".xlsx", ".docx", ".csv", ".json", ".ics", ".pdf", "/download/")
Found = dict[str, list[dict[str, Any]]]


def _links(page: Page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "as => as.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if h and h.startswith("/") and not any(f in urlsplit(h).path for f in FILES)]


def _found_on(page: Page, url: str) -> list[str]:
    """The pages a person goes on to from this one: the menu's from the home page, a list's
    create form and its first row's details and edit pages."""
    if urlsplit(url).path in ("/admin/", "/admin"):
        return _links(page, "#admin-navbar-collapse a[href], .navbar a.nav-link[href]")
    if page.locator("table.model-list").count():
        return _links(
            page,
            ".nav-tabs a[href*='/new/'], table.model-list tbody tr:first-child .list-buttons-column a[href]",
        )
    return []


# A page of a model view's record (its create, details or edit form) is drawn by the view's class
# from the same template for every model of that class: one of each per class is checked (the
# catalogs share one), and, at each size, by the first role in ROLES that opens it (a partner's
# and a school's forms are their own; the admin's are those only the admin opens).
RECORD_PAGES = ("new", "details", "edit")
checked: dict[str, set[tuple[str, str]]] = {size: set() for size in SIZES}


def _kind(app: Flask, url: str) -> tuple[str, str] | None:
    """(the view's class, the page's kind) of a model view's page, None for another page."""
    parts = urlsplit(url).path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "admin":
        return None
    view = next((v for v in app.extensions["admin"][0]._views if v.endpoint == parts[1]), None)
    if view is None or not hasattr(view, "model"):
        return None
    return type(view).__name__, parts[2] if len(parts) > 2 else "list"


def walk(app: Flask, page: Page, start: list[str], size: str) -> Found:
    """axe's violations on each page reached from `start` (in the order visited)."""
    found: Found = {}
    seen: set[tuple[str, str]] = set()
    queue = deque(start)
    while queue:
        url = queue.popleft()
        kind = _kind(app, url)
        if url in found or kind in seen or (kind and kind[1] in RECORD_PAGES and kind in checked[size]):
            continue
        if kind:
            seen.add(kind)
            checked[size].add(kind)
        response = page.goto(url)
        assert response is not None and response.status < 400, f"{url}: {response and response.status}"
        found[url] = axe.violations(page)
        queue.extend(_found_on(page, url))
    return found


def report(found: Found, artifacts: Path) -> None:
    """Counts per page to axe.txt; a failure naming every page and each of its violations."""
    table = "\n".join(f"{axe.count(v):4d}  {url}" for url, v in found.items())
    failing = {url: v for url, v in found.items() if v}
    details = "\n".join(f"{url}: {axe.count(v)}\n{axe.describe(v)}" for url, v in failing.items())
    total = sum(axe.count(v) for v in found.values())
    (artifacts / "axe.txt").write_text(f"{total} in all\n{table}\n\n{details}\n")
    assert not failing, f"{len(failing)} of {len(found)} pages break WCAG 2.1 AA:\n{details}"


def _extra_pages(app: Flask, key: str, ids: dict[str, int]) -> list[str]:
    """Pages no menu leads to: the calendar's views, the bell's, the user menu's, the search,
    a school's forms of a year's outcome."""
    school = ids["school31"]
    with app.app_context():
        event = db.session.execute(
            select(m.Event.id).filter_by(school_id=school, partner_id=ids["kemsu"]).order_by(m.Event.id)
        ).scalar()
    pages = [
        f"/admin/calendar/?year={YEAR}&view=year",
        f"/admin/calendar/?year={YEAR}&view=month&month=11",
        "/admin/notifications/",
        "/admin/notifications/settings/",
        "/admin/sessions/",
        "/admin/apitokens/",
        "/password",
        "/search/?q=музей",
        "/admin/no-such-page/",
    ]
    if key == "school31":  # a school marks a year of its line held or not held
        pages += [
            f"/admin/event/outcome/?id={event}&outcome={name}&year={YEAR}" for name in ("held", "not_held")
        ]
    if key in ("admin", "coordinator", "school31"):
        pages += [
            f"/admin/dashboard/?school={school}&year={YEAR}",
            f"/admin/coverage/?school={school}&year={YEAR}",
        ]
    with app.app_context():  # the demo's data request: its board, an answer, the answer form
        data_request = db.session.execute(select(m.DataRequest.id)).scalar()
    if key in ("admin", "coordinator"):
        pages += [
            f"/admin/datarequests/board/?id={data_request}",
            f"/admin/datarequests/answer/?id={data_request}&school={ids['gymnasium17']}",
        ]
    if key == "school31":
        pages += [f"/admin/datarequests/answer/?id={data_request}"]
    return pages


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ROLES)
def test_every_page_of_a_role(
    app: Flask, axe_page: AxePage, ids: dict[str, int], artifacts: Path, key: str, size: str
) -> None:
    page = axe_page(key, size)
    found = walk(app, page, ["/admin/"], size)
    extra = [url for url in _extra_pages(app, key, ids) if url not in found]
    for url in extra:
        response = page.goto(url)
        assert response is not None and (response.ok or "no-such-page" in url), (
            f"{url}: {response and response.status}"
        )
        found[url] = axe.violations(page)
    report(found, artifacts)


def _token(app: Flask, purpose: str, **fields: Any) -> str:
    with app.app_context():
        _token_row, secret = tokens.issue(purpose, **fields)
        db.session.commit()
        return secret


@pytest.mark.parametrize("size", SIZES)
def test_the_pages_before_signing_in(
    app: Flask, axe_page: AxePage, artifacts: Path, fresh_db: None, size: str
) -> None:
    """The login and password pages, and the pages a link in a message opens."""
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        event = db.session.execute(select(m.Event).order_by(m.Event.id)).scalars().first()
        user_id, school_id, event_id, partner_id = user.id, user.school_id, event.id, event.partner_id
        event_school = event.school_id
    page = axe_page("anonymous", size)
    found: Found = {}
    reset = _token(app, "password_reset", user_id=user_id, email="school31@coop.example")
    invitation = _token(app, "invitation", email="new@coop.example", role="school", school_id=school_id)
    confirmation = _token(
        app, "event_confirmation", event_id=event_id, partner_id=partner_id, school_id=event_school, year=YEAR
    )
    for name, url in [
        ("/login", "/login"),
        ("/password/forgot", "/password/forgot"),
        ("/password/reset/…", f"/password/reset/{reset}"),
        ("/invitation/…", f"/invitation/{invitation}"),
        ("/confirm/…", f"/confirm/{confirmation}"),
        ("/password/reset/… (a link that opens nothing)", "/password/reset/" + "x" * 40),
    ]:
        response = page.goto(url)
        assert response is not None and (response.ok or "nothing" in name), (
            f"{url}: {response and response.status}"
        )
        found[name] = axe.violations(page)
    page.goto("/password/forgot")
    page.fill("input[name=email]", "nobody@coop.example")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    found["/password/forgot (sent)"] = axe.violations(page)
    page.goto("/login")
    page.fill("input[name=email]", "school31@coop.example")
    page.fill("input[name=password]", "wrong")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    found["/login (refused)"] = axe.violations(page)
    report(found, artifacts)


@pytest.mark.parametrize("size", SIZES)
def test_an_import_and_its_preview(
    axe_page: AxePage, artifacts: Path, fresh_db: None, tmp_path: Path, size: str
) -> None:
    page = axe_page("school31", size)
    found: Found = {}
    page.goto("/admin/plan_import/")
    found["/admin/plan_import/"] = axe.violations(page)
    plan = tmp_path / "plan.docx"
    plan.write_bytes(seed_docx())
    page.set_input_files("#import-file", plan)
    with page.expect_navigation():
        page.click("form.import-form button[type=submit]")
    assert "/preview/" in page.url, page.url
    found["/admin/plan_import/preview/…"] = axe.violations(page)
    with page.expect_navigation():
        page.click("button[form=import-cancel]")
    report(found, artifacts)


@pytest.mark.parametrize("size", SIZES)
def test_a_form_sent_back_with_its_errors(axe_page: AxePage, artifacts: Path, size: str) -> None:
    """The errors are tied to their fields (aria-describedby, aria-invalid), the first field in
    error has the focus, and the page passes axe with its messages shown."""
    page = axe_page("school31", size)
    page.goto("/admin/event/new/")
    page.evaluate("document.querySelector('form.admin-form').noValidate = true")  # the server's own answer
    with page.expect_navigation():
        page.click("form.admin-form input[type=submit]:not([name])")  # «Сохранить», nothing filled in
    title = page.locator("#title")
    expect(title).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{title.get_attribute('aria-describedby')}")
    expect(error).to_have_class(re.compile(r"\binvalid-feedback\b"))
    expect(error).not_to_be_empty()
    expect(title).to_be_focused()
    report({"/admin/event/new/ (sent back)": axe.violations(page)}, artifacts)


@pytest.mark.parametrize("size", SIZES)
def test_a_sent_message_as_the_admin_reads_it(
    app: Flask, axe_page: AxePage, artifacts: Path, fresh_db: None, size: str
) -> None:
    """The list of messages written as files, and one message opened (headers, text, the HTML
    part in its frame): no menu walk reaches a message while the folder is empty."""
    with app.app_context():
        notify.send_direct(
            "password_reset", "school31@coop.example", "password_reset", {"name": "Школа"}, link="/password"
        )
        db.session.commit()
        delivered, _failed = outbox.deliver_due()
    assert delivered >= 1
    page = axe_page("admin", size)
    found: Found = {}
    page.goto("/admin/mailfiles/")
    found["/admin/mailfiles/"] = axe.violations(page)
    with page.expect_navigation():
        page.locator("td.list-primary a").first.click()
    expect(page.locator("iframe")).to_have_count(1)
    found["/admin/mailfiles/<message>/"] = axe.violations(page)
    report(found, artifacts)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["admin", "school31"])
def test_the_menu_with_each_of_its_drop_downs_open(
    axe_page: AxePage, artifacts: Path, key: str, size: str
) -> None:
    """A closed drop-down hides its items from axe; each is opened (by the keyboard) and checked."""
    page = axe_page(key, size)
    page.goto("/admin/")
    toggler = page.locator("button.navbar-toggler")
    if toggler.is_visible():  # the phone's collapsed menu
        toggler.click()
    found: Found = {}
    toggles = page.locator(".navbar .dropdown-toggle:visible")
    assert toggles.count() >= 2
    for index in range(toggles.count()):
        toggle = toggles.nth(index)
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        found[f"/admin/ menu «{toggle.inner_text().strip()}» open"] = axe.violations(page)
        page.keyboard.press("Escape")
    report(found, artifacts)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["school31", "kemsu"])
def test_the_api_tokens_page_through_its_states(
    axe_page: AxePage, artifacts: Path, shot: Shot, fresh_db: None, key: str, size: str
) -> None:
    """Sent back with an error, a new token shown once, listed, revoked: each state passes axe."""
    page = axe_page(key, size)
    found: Found = {}
    page.goto("/admin/apitokens/")
    found["/admin/apitokens/"] = axe.violations(page)
    with page.expect_navigation():
        page.click("form.api-token-form button[type=submit]")  # no name
    expect(page.locator("#name-error")).not_to_be_empty()
    found["/admin/apitokens/ (sent back)"] = axe.violations(page)
    page.fill("#name", "Муниципальная система отчётности")
    page.select_option("#lifetime", "90")
    with page.expect_navigation():
        page.click("form.api-token-form button[type=submit]")
    expect(page.locator("#api-token-secret")).to_have_value(re.compile(r"^coop_"))
    found["/admin/apitokens/ (a new token)"] = axe.violations(page)
    shot(page, f"made-{key}-{size}")
    with page.expect_navigation():
        page.click("li.api-token-active form button[type=submit]")
    expect(page.locator("li.api-token-revoked")).to_have_count(1)
    found["/admin/apitokens/ (revoked)"] = axe.violations(page)
    shot(page, f"revoked-{key}-{size}")
    report(found, artifacts)
