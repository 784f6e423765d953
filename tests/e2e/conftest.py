"""The site served on a real port, a real Chromium, and a signed-in page per role.

The server is the session `app` of tests/conftest.py (same database, demo data
loaded), so a test that writes uses `fresh_db` as any other. Screenshots of each
step go to test-artifacts/e2e/<test>/<nn>-<step>.png (and failed-<account>.png
of every open page when a test fails), where they stay after the run.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, StorageState, expect, sync_playwright
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from ..conftest import ACCOUNTS
from . import axe

CHROMIUM = Path(os.environ.get("COOP_CHROMIUM", "/usr/bin/chromium"))  # as scripts/browser.sh
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A step or an expectation that takes longer than this fails (a busy CI machine needs more than
# Playwright's default 5 s for an expectation).
TIMEOUT_MS = 10_000

# The two screens every page is checked on: a laptop's and a phone's.
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}

Shot = Callable[[Page, str], Path]
PageAs = Callable[..., Page]  # (key, reuse=False)
AxePage = Callable[[str, str], Page]  # (key, size)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A mark, not a fixture: skipped before any fixture (the app, the browser) is set up.
    if os.environ.get("COOP_SKIP_E2E") != "1":
        return
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.skip(reason="COOP_SKIP_E2E=1: end-to-end tests not run"))


def _closed_before_sending(app: Flask) -> WSGIApplication:
    """The app with each response read whole and closed before werkzeug sends it.

    When Chromium drops a connection mid-response (it cancels a script it no longer needs on a
    navigation), werkzeug's dev server may leave the response's file unclosed; its
    ResourceWarning then fails whichever test is running. Our pages and files are small.
    """

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return serve


@pytest.fixture(scope="package")
def live_server(app: Flask) -> Iterator[str]:
    """The base URL of the app served by werkzeug in a background thread on a free port."""
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Missing Chromium is a broken environment, not a reason to pass quietly.
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install --no-install-recommends chromium), or set COOP_SKIP_E2E=1 "
            "to leave out the end-to-end tests",
            pytrace=False,
        )
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's folder under test-artifacts/e2e/, emptied of a previous run's files."""
    name = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
    folder = request.config.rootpath / "test-artifacts" / "e2e" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def shot(artifacts: Path) -> Shot:
    """shot(page, "step") saves <nn>-<step>.png, numbered in the order the steps were taken."""
    counter = itertools.count(1)

    def take(page: Page, step: str) -> Path:
        path = artifacts / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill and send the real /login form, as a person does."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")


@pytest.fixture(scope="package")
def signed_in() -> dict[str, StorageState]:
    """Cookies of the sessions page_as opened, by account, for reuse=True."""
    return {}


@pytest.fixture
def page_as(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    artifacts: Path,
    signed_in: dict[str, StorageState],
) -> Iterator[PageAs]:
    """page_as("kemsu") → a page in its own browser context, signed in as that demo account
    through the /login form ("anonymous": not signed in). With reuse=True, a session an
    earlier test of this package signed in is taken up instead: each sign-in costs seconds."""
    pages: dict[str, Page] = {}

    def open_as(key: str, reuse: bool = False) -> Page:
        context = browser.new_context(
            base_url=live_server,
            locale="ru-RU",
            viewport={"width": 1280, "height": 900},
            storage_state=signed_in.get(key) if reuse else None,
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        account = ACCOUNTS[key]
        if account.role and reuse and key in signed_in:
            page.goto("/admin/")  # where signing in leads
        elif account.role:
            sign_in(page, account.email, account.password)
            assert "/login" not in page.url, f"could not sign in as {key}"
            signed_in[key] = context.storage_state()
        pages[key] = page
        return page

    yield open_as
    report = request.node.stash.get(CALL_REPORT, None)
    for key, page in pages.items():
        if report is not None and report.failed:
            page.screenshot(path=artifacts / f"failed-{key}.png", full_page=True)
        page.context.close()


@pytest.fixture
def axe_page(browser: Browser, live_server: str, signed_in: dict[str, StorageState]) -> Iterator[AxePage]:
    """axe_page(key, size) → a page of a context that runs axe, signed in as `key`
    (a session signed in earlier in this package is taken up)."""
    contexts = []

    def open_as(key: str, size: str) -> Page:
        context = browser.new_context(
            base_url=live_server,
            viewport=SIZES[size],
            storage_state=signed_in.get(key),
            **axe.CONTEXT_OPTIONS,
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        axe.enable(context)
        page = context.new_page()
        account = ACCOUNTS[key]
        if account.role and key not in signed_in:
            sign_in(page, account.email, account.password)
            assert "/login" not in page.url, f"could not sign in as {key}"
            signed_in[key] = context.storage_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    # Kept so that page_as can photograph every open page of a failed test.
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report
