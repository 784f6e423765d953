"""What notifies whom as time passes, as a table beside coop.notify's RULES: an occasion
that falls due (an agreement about to end, a review waiting too long, a past month's
plan lines with no record) → the users of the roles in its tenant → a message.

`flask --app app coop remind` (and the worker, hourly) writes what is due through
notify.write(), each occasion once: its key is the notification's dedupe_key, unique
per user, and an occasion already written is not looked at again. What is due is
read by the rules of the home page's attention list (coop/attention.py), so the
site and the mail say the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from . import attention, data_requests, formats, notify
from . import models as m
from .extensions import db
from .notify import PARTNER, SCHOOL
from .timing import academic_year_label, academic_year_of

SOON, SOONER = attention.ENDING_WITHIN_DAYS, 30  # an agreement's two reminders, in days


@dataclass(frozen=True)
class Occasion:
    """Something due now: `key` makes it one of a kind (written once), the tenant says
    who hears of it, the link and the context what the message says."""

    key: str
    school_id: int
    partner_id: int | None
    link: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reminder:
    """When `due(now)` finds an occasion, the active users of each of `roles` in its
    tenant get `template` (coop/templates/mail/<template>.{txt,html}) once."""

    kind: str  # models.NOTIFICATION_KINDS
    roles: tuple[str, ...]
    template: str
    due: Callable[[dt.datetime], list[Occasion]]
    once: str  # what makes an occasion one of a kind (for the reader; the key says it)


def _today(now: dt.datetime) -> dt.date:
    """The site's date (COOP_TIMEZONE) at the stored moment `now`."""
    return formats.local(now).date()


def _agreements_ending(days: int, nearer: int | None = None) -> Callable[[dt.datetime], list[Occasion]]:
    """Agreements that end within `days`, but not within `nearer` days: the nearer
    reminder speaks for an agreement within both."""

    def due(now: dt.datetime) -> list[Occasion]:
        today = _today(now)
        agreement = m.Agreement
        stmt = (
            select(
                agreement.id, agreement.school_id, agreement.partner_id, agreement.number, agreement.valid_to
            )
            .add_columns(m.School.short_name, m.Partner.short_name)
            .join(m.School, m.School.id == agreement.school_id)
            .join(m.Partner, m.Partner.id == agreement.partner_id)
            .where(attention.agreement_ending(today, days))
            .order_by(agreement.id)
        )
        if nearer is not None:
            stmt = stmt.where(~attention.agreement_ending(today, nearer))
        return [
            Occasion(
                f"agreement_ending_{days}:{row_id}:{valid_to.isoformat()}",
                school_id,
                partner_id,
                notify.link_to("agreement", row_id),
                {
                    "number": number,
                    "school": school,
                    "partner": partner,
                    "valid_to": formats.date(valid_to),
                    "days": (valid_to - today).days,
                },
            )
            for row_id, school_id, partner_id, number, valid_to, school, partner in db.session.execute(stmt)
        ]

    return due


def reviews_waiting(now: dt.datetime) -> list[Occasion]:
    """Events awaiting approval longer than attention.REVIEW_WAIT_DAYS: once per
    submission (the row's last change, from which the waiting is counted)."""
    event = m.Event
    stmt = (
        select(
            event.id, event.school_id, event.partner_id, event.title, event.updated_at, m.Partner.short_name
        )
        .join(m.Partner, m.Partner.id == event.partner_id)
        .where(attention.waiting_review(now))
        .order_by(event.id)
    )
    return [
        Occasion(
            # To the microsecond: a submission again within the same second is a new one.
            f"review_waiting:{row_id}:{since.isoformat()}",
            school_id,
            partner_id,
            notify.link_to("event", row_id),
            {"title": title, "partner": partner, "since": formats.date(since), "days": (now - since).days},
        )
        for row_id, school_id, partner_id, title, since, partner in db.session.execute(stmt)
    ]


def unrecorded_lines(now: dt.datetime) -> list[Occasion]:
    """Once a month, per school: the approved plan lines of the academic year of the month
    just over whose past months have no record of the year (attention.without_record)."""
    today = _today(now)
    year = academic_year_of(today.replace(day=1) - dt.timedelta(days=1))
    past = attention.past_months_mask(year, today)
    if not past:
        return []
    event = m.Event
    stmt = (
        select(event.school_id, event.id, event.title, m.Partner.short_name)
        .join(m.Partner, m.Partner.id == event.partner_id)
        .where(attention.without_record(year, past))
        .order_by(event.school_id, event.number, event.id)
    )
    occasions = []
    for school_id, rows in groupby(db.session.execute(stmt), key=lambda row: row[0]):
        lines = [
            {"title": title, "partner": partner, "link": notify.link_to("event", row_id)}
            for _, row_id, title, partner in rows
        ]
        occasions.append(
            Occasion(
                f"plan_unrecorded:{school_id}:{today:%Y-%m}",
                school_id,
                None,
                notify.absolute_url("calendar.index", school=school_id, year=year),
                {"lines": lines, "year": academic_year_label(year)},
            )
        )
    return occasions


def _data_requests_due(first: int, last: int, kind: str) -> Callable[[dt.datetime], list[Occasion]]:
    """The schools a data request goes to that have not submitted their answer, when its
    deadline is `first` to `last` days from today (negative: days past): once per request,
    school and deadline (a deadline moved is a new occasion)."""

    def due(now: dt.datetime) -> list[Occasion]:
        today = _today(now)
        request, answer, school = m.DataRequest, m.DataRequestAnswer, m.School
        delivered = answer.state.in_(sorted(data_requests.DELIVERED))
        stmt = (
            select(request.id, request.title, request.deadline, school.id, school.short_name)
            .select_from(request)
            .join(school, request.addressed(request, school.id))
            .outerjoin(
                answer, and_(answer.request_id == request.id, answer.school_id == school.id, delivered)
            )
            .where(
                answer.id.is_(None),
                request.deadline.between(today + dt.timedelta(days=first), today + dt.timedelta(days=last)),
            )
            .order_by(request.id, school.id)
        )
        return [
            Occasion(
                f"{kind}:{request_id}:{school_id}:{deadline.isoformat()}",
                school_id,
                None,
                notify.absolute_url("datarequests.answer", id=request_id),
                {
                    "title": title,
                    "school": school_name,
                    "deadline": formats.date(deadline),
                    "days": abs((deadline - today).days),
                },
            )
            for request_id, title, deadline, school_id, school_name in db.session.execute(stmt)
        ]

    return due


# A data request's reminders, in days from its deadline: a week before, the day before, the
# day after (each from its day on: a worker that missed the day still sends it, once).
DATA_REQUEST_WEEK, DATA_REQUEST_DAY, DATA_REQUEST_LATE = 7, 1, 7

REMINDERS: tuple[Reminder, ...] = (
    Reminder(
        "agreement_ending_60",
        (SCHOOL, PARTNER),
        "agreement_ending",
        _agreements_ending(SOON, SOONER),
        "an agreement and its end date",
    ),
    Reminder(
        "agreement_ending_30",
        (SCHOOL, PARTNER),
        "agreement_ending",
        _agreements_ending(SOONER),
        "an agreement and its end date",
    ),
    Reminder("review_waiting", (SCHOOL,), "review_waiting", reviews_waiting, "a submission"),
    Reminder("plan_unrecorded", (SCHOOL,), "plan_unrecorded", unrecorded_lines, "a school and a month"),
    Reminder(
        "data_request_due_7",
        (SCHOOL,),
        "data_request_due",
        _data_requests_due(DATA_REQUEST_DAY + 1, DATA_REQUEST_WEEK, "data_request_due_7"),
        "a request, a school and its deadline",
    ),
    Reminder(
        "data_request_due_1",
        (SCHOOL,),
        "data_request_due",
        _data_requests_due(0, DATA_REQUEST_DAY, "data_request_due_1"),
        "a request, a school and its deadline",
    ),
    Reminder(
        "data_request_overdue",
        (SCHOOL,),
        "data_request_overdue",
        _data_requests_due(-DATA_REQUEST_LATE, -1, "data_request_overdue"),
        "a request, a school and its deadline",
    ),
)


def _written(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    stmt = select(m.Notification.dedupe_key).where(m.Notification.dedupe_key.in_(keys)).distinct()
    return {key for key in db.session.execute(stmt).scalars() if key}


def remind(now: dt.datetime | None = None) -> int:
    """Write the reminders that are due and not yet written; how many notifications.
    Each occasion in a transaction of its own: a run beside this one that wrote it
    first (the unique key) costs only that occasion."""
    now = now or m.utcnow()
    written = 0
    for reminder in REMINDERS:
        occasions = reminder.due(now)
        done = _written([occasion.key for occasion in occasions])
        for occasion in occasions:
            if occasion.key in done:
                continue
            connection = db.session.connection()
            users = [
                user
                for role in reminder.roles
                for user in notify.recipients(connection, role, occasion.school_id, occasion.partner_id)
            ]
            try:
                count = notify.write(
                    connection,
                    reminder.kind,
                    reminder.template,
                    users,
                    occasion.context,
                    occasion.link,
                    occasion.school_id,
                    key=occasion.key,
                )
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                continue
            written += count
    db.session.commit()
    return written


def kinds_for(role: str | None) -> list[str]:
    """The kinds of notification a role can receive (notify.RULES and REMINDERS), in
    the tables' order, but those always mailed at once: the choices a user of it has."""
    kinds = [rule.kind for rule in notify.RULES if rule.role == role]
    kinds += [reminder.kind for reminder in REMINDERS if role in reminder.roles]
    return [kind for kind in dict.fromkeys(kinds) if kind not in notify.ALWAYS_AT_ONCE]
