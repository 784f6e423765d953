"""axe-core in the browser tests: WCAG 2.1 A and AA, checked on the page as it is shown.

axe.min.js comes from the pinned PyPI package axe-playwright-python (requirements-dev.txt),
which bundles a release of axe-core. The site's Content-Security-Policy allows no script
but its own, so a context that runs axe is opened with Playwright's bypass_csp=True (only
in the tests: the site's header stays as it is) and axe is added to each of its pages as
an init script.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_FILE_PATH
from playwright.sync_api import BrowserContext, Page

# WCAG 2.0 and 2.1, levels A and AA: what ГОСТ Р 52872-2019 asks of a site.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CONTEXT_OPTIONS: dict[str, Any] = {"bypass_csp": True, "locale": "ru-RU"}


def enable(context: BrowserContext) -> None:
    """Every page this context opens from now on carries axe (a context opened with
    CONTEXT_OPTIONS)."""
    context.add_init_script(path=AXE_FILE_PATH)


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of TAGS on the page as it is now (an empty list: none)."""
    if not page.evaluate("typeof window.axe === 'object'"):  # a page opened before enable()
        page.add_script_tag(path=AXE_FILE_PATH)
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
                   .then(r => r.violations)""",
        TAGS,
    )
    return list(result)


def describe(found: list[dict[str, Any]]) -> str:
    """Each violation as a person fixing it needs it: the rule, its help and where to
    read more, then each element (its CSS path) and what is wrong with it."""
    lines = []
    for violation in found:
        lines.append(
            f"  {violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def count(found: list[dict[str, Any]]) -> int:
    """Elements in violation, all rules together (what the reports count)."""
    return sum(len(violation["nodes"]) for violation in found)


def assert_accessible(page: Page, where: str = "") -> None:
    """No violation of WCAG 2.1 A and AA on the page, or a failure that lists them."""
    found = violations(page)
    assert not found, f"{where or page.url}: {count(found)} axe violations\n{describe(found)}"
