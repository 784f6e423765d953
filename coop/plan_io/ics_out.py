"""Network plans as an iCalendar feed (RFC 5545) of all-day events.

Plans name months, not days, so an event becomes one all-day VEVENT per run
of consecutive months («ноябрь - апрель» is 1 November to 1 May), or its exact
dates when it has them; once the year's record says on which day (or days) it
was held, that day or span is the event. UIDs are stable so a calendar that imports the feed
again updates its events instead of doubling them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from icalendar import Calendar, Event

from ..text import clean_text
from ..timing import ACADEMIC_MONTHS, academic_year_bounds, month_date_in_year
from .plan import Plan, PlanEvent, PlanPartner

PRODID = "-//Coop//Сетевой план//RU"
DESCRIPTION = "Партнёр: {partner}\nСроки: {timing}\nОтветственные: {responsible}"

# An occurrence: first day and the day after the last (DTEND is exclusive).
Span = tuple[dt.date, dt.date]


def plan_to_ics(
    plans: Iterable[Plan],
    calendar_name: str,
    uid_domain: str = "coop",
    *,
    stamp: dt.datetime | None = None,
) -> bytes:
    """The events of `plans` as an .ics calendar.

    `stamp` fixes DTSTAMP (UTC now by default; a naive one is taken as UTC).
    """
    stamp = stamp or dt.datetime.now(dt.UTC)
    stamp = stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", clean_text(calendar_name))
    seen: set[str] = set()
    for plan in plans:
        for partner in plan.partners:
            for event in partner.events:
                for index, (start, end) in enumerate(occurrences(event, plan.year)):
                    uid = f"event-{event.id}-{plan.year}-{index}@{uid_domain}"
                    if uid in seen:  # the same plan given twice
                        continue
                    seen.add(uid)
                    cal.add_component(_vevent(plan, partner, event, uid, start, end, stamp))
    return cal.to_ical()


def occurrences(event: PlanEvent, year: int) -> list[Span]:
    """When `event` takes place in academic year `year`; empty when its months are unknown."""
    if event.held_on:  # what the year's record says beats what the plan expected
        last = event.held_until if event.held_until and event.held_until >= event.held_on else event.held_on
        return [(event.held_on, last + dt.timedelta(days=1))]
    first_day, last_day = academic_year_bounds(year)
    start, end = event.start, event.end or event.start
    if start and end and first_day <= start <= end <= last_day:
        return [(start, end + dt.timedelta(days=1))]
    if event.all_year:
        return [(first_day, last_day + dt.timedelta(days=1))]
    return [
        (month_date_in_year(run[0], year), _next_month(month_date_in_year(run[-1], year)))
        for run in _runs(event.months)
    ]


def _runs(months: Iterable[int]) -> Iterator[list[int]]:
    """Runs of months consecutive in academic order: (10, 3) gives [10], [3]."""
    positions = sorted({ACADEMIC_MONTHS.index(m) for m in months})
    run: list[int] = []
    for pos in positions:
        if run and ACADEMIC_MONTHS.index(run[-1]) != pos - 1:
            yield run
            run = []
        run.append(ACADEMIC_MONTHS[pos])
    if run:
        yield run


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


def _status(event: PlanEvent) -> str:
    if event.state == "cancelled" or event.execution == "cancelled":
        return "CANCELLED"
    if event.state in ("draft", "returned", "submitted"):
        return "TENTATIVE"
    return "CONFIRMED"


def _vevent(
    plan: Plan,
    partner: PlanPartner,
    event: PlanEvent,
    uid: str,
    start: dt.date,
    end: dt.date,
    stamp: dt.datetime,
) -> Event:
    vevent = Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", stamp)
    vevent.add("sequence", 0)
    vevent.add("dtstart", start)  # a date, so VALUE=DATE: an all-day event
    vevent.add("dtend", end)
    vevent.add("summary", clean_text(event.title))
    description = DESCRIPTION.format(
        partner=" ".join(partner.name.split()),
        timing=" ".join(event.timing_text.split()),
        responsible=", ".join(event.responsible),
    )
    vevent.add("description", clean_text(description))
    if plan.school_short_name:
        vevent.add("location", clean_text(plan.school_short_name))
    if event.audience:
        vevent.add("categories", [clean_text(event.audience)])
    vevent.add("status", _status(event))
    # Month-long spans say «some time that month»: don't show the reader as busy.
    vevent.add("transp", "TRANSPARENT")
    return vevent
