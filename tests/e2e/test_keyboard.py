"""A partner's event from sign-in to the school's approval with the keyboard alone.

No click and no mouse: Tab (and Shift+Tab) moves the focus, Enter follows a link or sends a
form, Space presses a button, the arrow keys move in a menu and a picker. At each stop the
element with the focus is shown (a focus ring: an outline or a shadow), and axe-core checks
each page of the journey (tests/e2e/axe.py).
"""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from coop import models as m

from ..conftest import ACCOUNTS
from . import axe
from .conftest import AxePage
from .test_journeys import label_of, shown, transition_button

TITLE = "Клавиатура: экскурсия в лабораторию КемГУ для 9-х классов"
TIMING = "март"
# Whether the focused element matches a selector (and, when given, sits in a table row, list
# item or form that holds a text); the focus ring: an outline, or a shadow where the outline is none.
FOCUSED = """([selector, text]) => {
  const e = document.activeElement;
  if (!e || !e.matches(selector)) return false;
  return !text || (e.closest('tr') || e.closest('li, form') || e).textContent.includes(text);
}"""
RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 || style.boxShadow !== 'none';
}"""


def tab_to(page: Page, selector: str, text: str = "", limit: int = 250) -> None:
    """Press Tab until the focus is on `selector` (within `text`'s row), checking it is seen."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED, [selector, text]):
            assert page.evaluate(RING), f"{page.url}: the focus on {selector} is not shown"
            return
    raise AssertionError(f"{page.url}: {limit} presses of Tab never reached {selector} {text}")


def sign_in_by_keyboard(page: Page, key: str) -> None:
    account = ACCOUNTS[key]
    page.goto("/login")
    axe.assert_accessible(page)
    assert page.evaluate("document.activeElement.name") == "email"  # the form's first field has the focus
    page.keyboard.type(account.email)
    page.keyboard.press("Tab")
    page.keyboard.type(account.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, f"could not sign in as {key}"


def open_menu_item(page: Page, href: str) -> None:
    """From the top of a page: the menu's drop-down that holds the link, opened with Enter, then
    the arrow keys down to the link, and Enter."""
    toggle = f".navbar li.dropdown:has(a[href$='{href}']) > a.dropdown-toggle"
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    for _ in range(20):
        page.keyboard.press("ArrowDown")
        if page.evaluate(FOCUSED, [f"a[href$='{href}']", ""]):
            break
    else:
        raise AssertionError(f"the arrow keys never reached {href} in its menu")
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.usefixtures("fresh_db")
def test_a_partner_submits_and_a_school_approves_by_keyboard(app: Flask, axe_page: AxePage) -> None:
    # The partner signs in, skips the menu to the page's content, opens the events and a new one.
    partner = axe_page("anonymous", "laptop")
    sign_in_by_keyboard(partner, "kemsu")
    axe.assert_accessible(partner)
    partner.keyboard.press("Tab")
    assert partner.evaluate(FOCUSED, ["a.coop-skip-link", ""]), "the first Tab is not «Перейти к содержимому»"
    expect(partner.locator("a.coop-skip-link")).to_be_visible()
    open_menu_item(partner, "/admin/event/")
    tab_to(partner, ".nav-tabs a[href*='/admin/event/new/']")
    with partner.expect_navigation():
        partner.keyboard.press("Enter")
    axe.assert_accessible(partner)

    # The form: the school (the one it has an agreement with) picked with the arrow keys, the
    # title and the timing typed, then «Сохранить и продолжить редактирование».
    tab_to(partner, "#s2id_school input.select2-focusser")
    partner.keyboard.press("ArrowDown")
    expect(partner.locator(".select2-drop-active .select2-result-label")).to_have_count(1)
    partner.keyboard.press("Enter")
    expect(partner.locator("#s2id_school .select2-chosen")).to_have_text("МБОУ «СОШ № 31»")
    tab_to(partner, "#title")
    partner.keyboard.type(TITLE)
    tab_to(partner, "#timing_text")
    partner.keyboard.type(TIMING)
    tab_to(partner, "form.admin-form input[type=submit][name=_continue_editing]")
    with partner.expect_navigation():
        partner.keyboard.press("Enter")
    expect(partner.locator(".alert-success")).to_be_visible()
    axe.assert_accessible(partner)

    # The saved event's form offers «Отправить на согласование»: Space presses it.
    tab_to(partner, "form:has(input[name=transition][value=submit]) button[type=submit]")
    expect(transition_button(partner, "submit")).to_have_text(shown(app, label_of("submit")))
    with partner.expect_navigation():
        partner.keyboard.press("Space")
    expect(partner.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["submitted"]))
    axe.assert_accessible(partner)

    # The school signs in, opens its review queue from the menu and approves the event.
    school = axe_page("anonymous", "laptop")
    sign_in_by_keyboard(school, "school31")
    open_menu_item(school, "/admin/review/")
    expect(school.locator("tr", has_text=TITLE)).to_have_count(1)
    axe.assert_accessible(school)
    tab_to(school, "form:has(input[name=transition][value=approve]) button[type=submit]", TITLE)
    with school.expect_navigation():
        school.keyboard.press("Space")
    expect(school.locator("tr", has_text=TITLE)).to_have_count(0)
    axe.assert_accessible(school)
