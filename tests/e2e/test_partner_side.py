"""A partner's side of the work in a real browser, on a desktop and on a phone: from its
home page to its agreement, and to what became of one of its events year by year."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import PageAs, Shot

SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


def _overflow(page: Page, selector: str = "html") -> float:
    """How far the element reaches past the window's right edge, in CSS pixels."""
    return page.evaluate(
        "s => document.querySelector(s).getBoundingClientRect().right - innerWidth", selector
    )


def _fits_within(page: Page, seconds: float) -> bool:
    """Whether the page comes to fit the window's width within the time given.

    Polled by a function of our own, not by wait_for_function: that evaluates its predicate
    as a string, which the site's Content-Security-Policy (no 'unsafe-eval') refuses on every
    poll after the first."""
    return page.evaluate(
        """ms => new Promise(resolve => {
            const until = performance.now() + ms;
            const check = () => {
                if (document.documentElement.scrollWidth <= innerWidth) resolve(true);
                else if (performance.now() > until) resolve(false);
                else setTimeout(check, 50);
            };
            check();
        })""",
        seconds * 1000,
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_a_partner_reads_its_agreement_and_its_events_years(page_as: PageAs, shot: Shot, size: str) -> None:
    page = page_as("kemsu", reuse=True)
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.goto("/admin/")
    page.locator(".card-title a", has_text="Соглашения").click()
    expect(page).to_have_url(re.compile(r"/admin/agreement/$"))
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("МБОУ «СОШ № 31»")
    # Waited for, not read at once: right after the viewport shrinks, a busy machine may not
    # have laid the page out again yet (seen once in CI); a page that overflows still fails.
    assert _fits_within(page, seconds=5)
    assert page.get_by_text("Добавить Фильтр").count() == 0
    shot(page, f"agreements-{size}")

    rows.first.locator("a[href*='/details/']").click()
    body = page.locator("body")
    for text in (
        "2019/1",
        "МБОУ «СОШ № 31»",
        "Предмет соглашения",
        "Согласованные образовательные результаты ФГОС",
    ):
        expect(body).to_contain_text(text)
    for text in ("Файлы", "История изменений", "Изменить", "Завершить", "Расторгнуть"):
        expect(body).not_to_contain_text(text)
    shot(page, f"agreement-{size}")

    page.goto("/admin/event/")
    page.locator("table.model-list a[href*='/details/']").first.click()
    table = page.locator("table.by-year-table")
    expect(table).to_be_visible()
    expect(page.get_by_text("По годам", exact=True)).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("2019/2020")
    expect(table).to_contain_text("Проведено")
    assert _overflow(page, "table.by-year-table") <= 0  # the table fits a phone
    shot(page, f"event-by-year-{size}")
