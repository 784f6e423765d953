"""The yearly calendar printed on A4 landscape keeps its month marks (issue 11, item 6):
Bootstrap's print sheet whitened every table cell, so the printed plan lost its months.
The marks carry their state's symbol on the screen too (issue 16)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import PageAs

# Per marked cell in print: its background colour and the symbol drawn after it.
MARKS = """() => [...document.querySelectorAll('.calendar-grid td.col-month.on')].map(cell => {
  const row = [...cell.closest('tr').classList].find(name => name.startsWith('state-'));
  return [row, getComputedStyle(cell).backgroundColor, getComputedStyle(cell, '::after').content];
})"""


def test_the_printed_calendar_keeps_its_month_marks(page_as: PageAs, artifacts: Path) -> None:
    school = page_as("school31", reuse=True)
    school.goto("/admin/calendar/?year=2019")
    school.emulate_media(media="print")
    marks = school.evaluate(MARKS)
    assert len(marks) > 40
    white = {"rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"}
    assert not [mark for mark in marks if mark[1] in white], "a month mark prints blank"
    assert not [mark for mark in marks if mark[2] in ("none", "normal", '""')], "a mark without a symbol"
    symbols = {state: symbol for state, _colour, symbol in marks}
    assert symbols["state-held"] == '"✓"' and symbols["state-not_held"] == '"✗"'
    swatch = school.locator(".legend .state-held .swatch")
    legend = swatch.evaluate("e => getComputedStyle(e, '::after').content")
    assert legend == '"✓"'  # the legend explains the symbols in black and white

    pdf = artifacts / "calendar-a4-landscape.pdf"
    school.pdf(path=str(pdf), format="A4", landscape=True)
    if shutil.which("pdftotext"):  # the symbols are in the printed pages, not only in the style
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert text.count("✓") >= sum(1 for _state, _colour, symbol in marks if symbol == '"✓"')

    # On screen the same symbols: a colour is not all that tells the states apart (WCAG 1.4.1).
    school.emulate_media(media="screen")
    assert {state: symbol for state, _colour, symbol in school.evaluate(MARKS)} == symbols
