"""A first screen with something on it (issue 11, items 9 and 10).

The dashboard, the calendar and the ФГОС coverage open, when no year is asked for, on the
latest academic year with plan lines in the user's scope, and say so; the demo reaches the
current academic year; the home page lists what needs attention, each line a link to its
rows, within the statement budget, and a school sees only its own.

The demo is loaded with the real date (tests/conftest.py): what depends on it is computed
here from the same date, never written down.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from coop import attention
from coop import models as m
from coop.extensions import db
from coop.timing import ACADEMIC_MONTHS, academic_year_label, academic_year_of

from .test_query_counts import _statements

PAGES = ("/admin/", "/admin/dashboard/", "/admin/calendar/", "/admin/coverage/")
CURRENT = academic_year_of(dt.date.today())
NOTE = "Показан {year} — последний учебный год с данными"


def _shown_year(page: str) -> int:
    """The year selected in the page's year picker."""
    found = re.search(r'<option value="(\d{4})" selected', page)
    assert found, "no year selected"
    return int(found.group(1))


def _latest_line_year(school_id: int | None = None) -> int:
    """The latest academic year a plan line runs in, up to the current one, counted row by row."""
    events = db.session.execute(select(m.Event)).scalars()
    return max(
        min(e.last_year if e.last_year is not None else CURRENT, CURRENT)
        for e in events
        if (school_id is None or e.school_id == school_id) and (e.first_year or CURRENT) <= CURRENT
    )


def _attention(page: str) -> str:
    found = re.search(r"<section[^>]*data-attention>(.*?)</section>", page, re.S)
    assert found, "no attention list on the page"
    return found.group(1)


def _item(section: str, kind: str, school_id: int) -> str:
    found = re.search(
        rf'<li data-attention-item="{kind}" data-school="{school_id}">(.*?)</li>', section, re.S
    )
    assert found, f"no {kind} line for school {school_id}"
    return found.group(1)


def _href(fragment: str) -> str:
    found = re.search(r'href="([^"]+)"', fragment)
    assert found, "not a link"
    return html.unescape(found.group(1))


# --- the year a page opens on ---------------------------------------------------------------


def test_a_school_opens_on_its_latest_year_with_data_and_is_told_so(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        latest = _latest_line_year(ids["school31"])
    assert latest < CURRENT  # СОШ № 31's programme ended in 2023
    client = client_as("school31")
    for url in PAGES:
        page = client.get(url).text
        assert _shown_year(page) == latest, url
        assert NOTE.format(year=academic_year_label(latest)) in page, url
    # The figures are that year's, not the empty current year's.
    assert re.search(r'data-figure="lines">[1-9]', client.get("/admin/").text)


def test_a_year_asked_for_is_kept_and_not_remarked_on(client_as: Any) -> None:
    client = client_as("school31")
    for url in PAGES:
        for year in (2020, CURRENT):
            page = client.get(f"{url}?year={year}").text
            assert _shown_year(page) == year, url
            assert "data-year-note" not in page, url


def test_the_coordinator_opens_on_the_present_of_the_demo(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("coordinator")
    for url in PAGES:
        page = client.get(url).text
        assert _shown_year(page) == CURRENT and "data-year-note" not in page, url
    # The calendar opens on the first school, the gymnasium, whose plan runs this year.
    calendar = client.get("/admin/calendar/").text
    assert f'<option value="{ids["gymnasium17"]}" selected' in calendar
    assert re.search(r'<tr class="event-row', calendar)


def test_the_coordinator_steps_back_when_nothing_runs_this_year(
    app: Flask, client_as: Any, fresh_db: None
) -> None:
    with app.app_context():  # every line ends before the current academic year
        db.session.execute(
            update(m.Event)
            .where(m.Event.last_year >= CURRENT)
            .values(first_year=CURRENT - 1, last_year=CURRENT - 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        latest = _latest_line_year()
    assert latest == CURRENT - 1
    client = client_as("coordinator")
    for url in PAGES:
        page = client.get(url).text
        assert _shown_year(page) == latest, url
        assert NOTE.format(year=academic_year_label(latest)) in page, url


# --- the demo reaches the present -----------------------------------------------------------


def test_the_demo_reaches_the_current_academic_year(app: Flask, ids: dict[str, int]) -> None:
    today = dt.date.today()
    past = attention.past_months_mask(CURRENT, today)
    with app.app_context():
        running = [
            e
            for e in db.session.execute(select(m.Event).filter_by(school_id=ids["gymnasium17"])).scalars()
            if (e.first_year or CURRENT) <= CURRENT <= (e.last_year or CURRENT) and e.state == "approved"
        ]
        records = {
            x.event_id: x
            for x in db.session.execute(select(m.EventExecution).filter_by(year=CURRENT)).scalars()
        }
    assert running, "no line of the gymnasium runs in the current academic year"
    for event in running:
        record = records.get(event.id)
        if event.months_mask & ~past:  # a month still ahead: planned, no record yet
            assert record is None, event.title
        elif record is not None:  # held in a month that is over
            assert record.status == "held" and record.held_on is not None and record.held_on <= today


@pytest.mark.parametrize(
    ("year", "today", "months"),
    [
        (2026, dt.date(2026, 12, 5), (9, 10, 11)),
        (2026, dt.date(2026, 9, 1), ()),
        (2026, dt.date(2027, 1, 1), (9, 10, 11, 12)),
        (2025, dt.date(2026, 12, 5), ACADEMIC_MONTHS),
        (2027, dt.date(2026, 12, 5), ()),
    ],
)
def test_the_months_over_by_a_day(year: int, today: dt.date, months: tuple[int, ...]) -> None:
    assert attention.past_months_mask(year, today) == sum(1 << (month - 1) for month in months)


# --- what needs attention -------------------------------------------------------------------


@pytest.fixture
def overdue(app: Flask, ids: dict[str, int], fresh_db: None) -> dict[str, Any]:
    """A remark to СОШ № 31 open for 30 days and one of its lines awaiting approval for 10."""
    now = m.utcnow()
    with app.app_context():
        remark = m.Remark(
            school_id=ids["school31"],
            text="Давнее замечание: нет приказа о сетевом взаимодействии",
            state="open",
            created_at=now - dt.timedelta(days=30, hours=1),
        )
        db.session.add(remark)
        event = db.session.execute(
            select(m.Event).filter_by(school_id=ids["school31"]).order_by(m.Event.id).limit(1)
        ).scalar_one()
        event.state = "submitted"
        event.updated_at = now - dt.timedelta(days=10)
        db.session.commit()
        return {"remark": remark.id, "remark_text": remark.text, "event": event.id, "title": event.title}


def test_the_coordinator_sees_an_old_remark_and_a_waiting_event_and_follows_them(
    client_as: Any, ids: dict[str, int], overdue: dict[str, Any]
) -> None:
    client = client_as("coordinator")
    section = _attention(client.get("/admin/").text)
    remark = re.search(rf'<li data-remark="{overdue["remark"]}">(.*?)</li>', section, re.S)
    assert remark and overdue["remark_text"] in remark.group(1) and "30 дн." in remark.group(1)
    # Oldest first: before the demo's remarks.
    assert re.findall(r'data-remark="(\d+)"', section)[0] == str(overdue["remark"])
    details = client.get(_href(remark.group(1)))
    assert details.status_code == 200 and overdue["remark_text"] in details.text

    waiting = _item(section, "review", ids["school31"])
    assert "на согласовании дольше 7 дней — 1" in waiting
    rows = client.get(_href(waiting))
    assert rows.status_code == 200 and overdue["title"] in rows.text


def test_a_school_sees_its_own_and_never_a_foreign_schools(
    client_as: Any, ids: dict[str, int], overdue: dict[str, Any]
) -> None:
    school = client_as("school31")
    page = school.get("/admin/").text
    section = _attention(page)
    assert overdue["remark_text"] in section
    assert _href(_item(section, "review", ids["school31"])) == "/admin/review/"  # its own queue
    assert overdue["title"] in school.get("/admin/review/").text
    # The gymnasium's demo remark, waiting proposal and lines without records stay its own.
    assert "Гимназ" not in page and f'data-school="{ids["gymnasium17"]}"' not in section
    neighbour = _attention(client_as("gymnasium17").get("/admin/").text)
    assert overdue["remark_text"] not in neighbour and f'data-school="{ids["school31"]}"' not in neighbour
    assert "СОШ № 31" not in neighbour


def test_the_counts_per_school_are_the_rows_counted_one_by_one(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    today = dt.date.today()
    past = attention.past_months_mask(CURRENT, today)
    with app.app_context():
        recorded = {
            x.event_id
            for x in db.session.execute(select(m.EventExecution).filter_by(year=CURRENT)).scalars()
            if x.status != "planned"
        }
        events = db.session.execute(select(m.Event).filter_by(school_id=ids["gymnasium17"])).scalars().all()
        without = sum(
            1
            for e in events
            if (e.first_year or CURRENT) <= CURRENT <= (e.last_year or CURRENT)
            and e.state in attention.IN_PLAN
            and e.months_mask & past
            and e.id not in recorded
        )
        waiting = sum(
            1
            for e in events
            if e.state == "submitted"
            and e.updated_at < m.utcnow() - dt.timedelta(days=attention.REVIEW_WAIT_DAYS)
        )
    section = _attention(client_as("coordinator").get("/admin/").text)
    if without:
        line = _item(section, "without_record", ids["gymnasium17"])
        assert line.strip().endswith(f"— {without}</a>")
        assert _href(line) == f"/admin/calendar/?school={ids['gymnasium17']}&year={CURRENT}"
    if waiting:
        assert f"дольше 7 дней — {waiting}</a>" in _item(section, "review", ids["gymnasium17"])


def test_an_agreement_ending_soon_is_named_with_its_rows(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    ends = dt.date.today() + dt.timedelta(days=20)
    with app.app_context():
        agreement = db.session.execute(
            select(m.Agreement).filter_by(school_id=ids["school31"]).order_by(m.Agreement.id).limit(1)
        ).scalar_one()
        agreement.valid_to, agreement.state = ends, "active"
        db.session.commit()
        number = agreement.number
    client = client_as("coordinator")
    line = _item(_attention(client.get("/admin/").text), "agreements", ids["school31"])
    assert f"— 1 (первое — {ends.strftime('%d.%m.%Y')})" in line
    rows = client.get(_href(line)).text
    assert number in rows


def test_nothing_to_attend_to_is_said(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        db.session.execute(
            update(m.Remark).where(m.Remark.school_id == ids["school31"]).values(state="resolved")
        )
        db.session.commit()
    section = _attention(client_as("school31").get("/admin/").text)
    assert "Ничего не требует внимания" in section and "data-attention-item" not in section


def test_a_partner_has_no_attention_list(client_as: Any) -> None:
    assert "data-attention" not in client_as("kemsu").get("/admin/").text


@pytest.mark.parametrize("key", ["admin", "coordinator", "school31", "gymnasium17"])
def test_the_home_page_keeps_its_statement_budget_whatever_the_rows(
    app: Flask, client_as: Any, ids: dict[str, int], key: str, fresh_db: None
) -> None:
    client = client_as(key)
    client.get("/admin/")  # warm-up
    before = _statements(app, client, "/admin/")
    now = m.utcnow()
    with app.app_context():  # many more old remarks and waiting proposals in both schools
        for school in (ids["school31"], ids["gymnasium17"]):
            for day in range(20):
                db.session.add(
                    m.Remark(
                        school_id=school,
                        text=f"Замечание {day}",
                        state="open",
                        created_at=now - dt.timedelta(days=day + 8),
                    )
                )
            for event in db.session.execute(select(m.Event).filter_by(school_id=school).limit(15)).scalars():
                event.state, event.updated_at = "submitted", now - dt.timedelta(days=9)
        db.session.commit()
    # For a user who sees every school, the first page after a write counts the totals of
    # all schools again and keeps them (coop/figures.py: two statements more), and so the
    # attention list (coop/attention.py: the remarks, the counts per school, keeping it:
    # three more); the next reads both as before. A school's are its own, counted with its page.
    first = _statements(app, client, "/admin/")
    assert first == before + (5 if key in ("admin", "coordinator") else 0)
    after = _statements(app, client, "/admin/")
    assert after == before <= 8


def _plural_schools(count: int) -> str:
    if count % 10 == 1 and count % 100 != 11:
        return "школа"
    return "школы" if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14 else "школ"


def test_past_the_schools_named_the_rest_are_counted_in_one_line(
    app: Flask, client_as: Any, fresh_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A region's thousand schools do not make the home page a list of thousands: each item
    names the schools with the most rows first, up to attention.SCHOOLS_SHOWN."""
    soon = dt.date.today() + dt.timedelta(days=10)
    with app.app_context():
        db.session.execute(
            update(m.Agreement).where(m.Agreement.state.in_(("active", "signing"))).values(valid_to=soon)
        )
        db.session.commit()
        full, _ = attention.per_school(CURRENT, m.utcnow())
    ending = full["agreements"]
    assert len(ending) >= 2, "the demo has active agreements at two schools or more"
    most = max(ending, key=lambda row: (row.count, -ending.index(row)))
    monkeypatch.setattr(attention, "SCHOOLS_SHOWN", 1)
    section = _attention(client_as("coordinator").get("/admin/").text)
    named = re.findall(r'data-attention-item="agreements" data-school="(\d+)"', section)
    assert named == [str(most.school_id)]
    more = re.search(r'<li class="attention-more" data-attention-more="agreements">(.*?)</li>', section, re.S)
    assert more, "no line for the schools not named"
    left = len(ending) - 1
    assert f"и ещё {left} {_plural_schools(left)}" in more.group(1)
    assert _href(more.group(1)).startswith("/admin/agreement/")
    monkeypatch.setattr(attention, "SCHOOLS_SHOWN", len(ending))
    section = _attention(client_as("coordinator").get("/admin/").text)
    assert len(re.findall(r'data-attention-item="agreements"', section)) == len(ending)
    assert 'data-attention-more="agreements"' not in section
