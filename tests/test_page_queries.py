"""Statements per request of the custom pages stay within the budget and do not
grow with the rows shown (issue 6): the calendar, its exports and feed, the JSON
plan, the approval queue and the trash, as every role that opens them.

Each page is measured, then the school's plan gets many more lines (with their
responsible, ФГОС results and executions), the queue more submitted lines and
the trash more batches, and the page is measured again: the count must not move.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop import trash
from coop.extensions import db

from .conftest import csrf_token
from .test_query_counts import _statements

pytestmark = pytest.mark.usefixtures("fresh_db")

SQL_BUDGET = 8  # bench/run.py: at most 8 statements on every page
YEAR = 2019
MORE_LINES = 60

PAGES = {
    "calendar": "/admin/calendar/?school={school}&year={year}",
    "calendar, month, filtered": (
        "/admin/calendar/?school={school}&year={year}&view=month&month=11&state=submitted&fgos={fgos}"
    ),
    "calendar: export xlsx": "/admin/calendar/export/xlsx/?school={school}&year={year}",
    "calendar: export json": "/admin/calendar/export/json/?school={school}&year={year}",
    "api: plan.json": "/api/plan.json?school={school}&year={year}",
    "review": "/admin/review/",
    "trash": "/admin/trash/",
}
ROLES = {  # the pages each role may open
    "admin": list(PAGES),
    "coordinator": [name for name in PAGES if name not in ("review", "trash")],
    "school31": list(PAGES),
    "kemsu": [name for name in PAGES if name not in ("review", "trash")],
}


def _urls(app: Flask, school: int, role: str) -> dict[str, str]:
    with app.app_context():
        fgos = db.session.execute(select(m.FgosResult.id).order_by(m.FgosResult.id)).scalars().first()
    return {name: PAGES[name].format(school=school, year=YEAR, fgos=fgos) for name in ROLES[role]}


def _two(catalog: type) -> Any:
    return select(catalog).order_by(catalog.sort_order, catalog.id).limit(2)


def _more_rows(app: Flask, school_id: int, partner_id: int, round_: int) -> None:
    """Many more plan lines of the school in YEAR, submitted by the partner and three
    new ones, each with two responsible positions, two ФГОС results and an execution;
    and more trash: lines with their executions, agreements, partner resources."""
    with app.app_context():
        positions = db.session.execute(_two(m.Position)).scalars().all()
        results = db.session.execute(_two(m.FgosResult)).scalars().all()
        partners = [db.session.get(m.Partner, partner_id)]
        discarded: list[Any] = []
        for n in range(3):
            partner = m.Partner(name=f"Новый партнёр {round_}-{n}", short_name=f"НП {round_}-{n}")
            partner.resources.append(m.PartnerResource(title=f"Ресурс {round_}-{n}"))
            agreements = [m.Agreement(school_id=school_id, partner=partner, number=str(k)) for k in (1, 2)]
            db.session.add_all([partner, *agreements])
            partners.append(partner)
            discarded += [partner.resources[0], agreements[1]]
        events = []
        for number in range(MORE_LINES):
            event = m.Event(
                school_id=school_id,
                partner=partners[number % len(partners)],
                number=100 + number,
                title=f"Дополнительное мероприятие {round_}-{number}",
                state="submitted",
                first_year=YEAR,
                last_year=YEAR,
                responsible=list(positions),
                fgos_results=list(results),
            )
            event.set_timing("ноябрь - апрель")
            event.executions.append(m.EventExecution(school_id=school_id, year=YEAR, status="held"))
            events.append(event)
        db.session.add_all(events)
        db.session.flush()
        for row in [*events[-5:], *discarded]:  # more batches in the trash
            trash.discard(row)
        db.session.commit()


def _feed_url(client: Any, school: int) -> str | None:
    page = client.get(f"/admin/calendar/?school={school}&year={YEAR}")
    action = re.search(r'action="(/admin/calendar/feed/[^"]*)"', page.text)
    if action is None:
        return None
    client.post(action.group(1).replace("&amp;", "&"), data={"csrf_token": csrf_token(page.text)})
    link = re.search(r"/feeds/[\w-]+\.ics", client.get(f"/admin/calendar/?school={school}&year={YEAR}").text)
    return link.group(0) if link else None


def _measure(app: Flask, client: Any, feed: Any, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        _statements(app, client, url)  # warm-up
        counts[name] = _statements(app, client, url)
    if feed:
        counts["iCalendar feed"] = _statements(app, app.test_client(), feed)
    return counts


@pytest.mark.parametrize("role", sorted(ROLES))
def test_custom_pages_do_not_grow_with_rows(
    app: Flask, client_as: Any, ids: dict[str, int], role: str
) -> None:
    client = client_as(role)
    urls = _urls(app, ids["school31"], role)
    feed = _feed_url(client, ids["school31"])
    _more_rows(app, ids["school31"], ids["kemsu"], 1)  # the first batches in the trash
    before = _measure(app, client, feed, urls)
    _more_rows(app, ids["school31"], ids["kemsu"], 2)
    after = _measure(app, client, feed, urls)
    assert after == before
    over = {name: count for name, count in after.items() if count > SQL_BUDGET}
    assert not over, f"over {SQL_BUDGET} SQL statements: {over}"
    # Every role but the coordinator, who writes none of the schools' data, makes a subscription link.
    assert ("iCalendar feed" in after) == (role != "coordinator")


def test_the_new_lines_are_on_the_pages(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    """What the statements above load is shown: the lines, their responsible, and the queue."""
    _more_rows(app, ids["school31"], ids["kemsu"], 1)
    client = client_as("school31")
    page = client.get(f"/admin/calendar/?school={ids['school31']}&year={YEAR}").text
    assert len(re.findall(r'<tr class="event-row', page)) == 48 + MORE_LINES - 5
    with app.app_context():
        names = [p.name for p in db.session.execute(_two(m.Position)).scalars()]
    row = next(r for r in re.findall(r"<tr class=\"event-row.*?</tr>", page, re.S) if "мероприятие 1-7<" in r)
    assert f'<td class="col-responsible">{", ".join(names)}</td>' in row  # in the catalog's order
    queue = client.get("/admin/review/").text
    assert "Дополнительное мероприятие 1-0<" in queue and "Дополнительное мероприятие 1-59<" not in queue
    assert "НП 1-2" in queue  # the partner of each line
