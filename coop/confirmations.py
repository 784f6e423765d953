"""A partner confirms a year's outcome by a link, without an account (issue 12, item 6).

The school asks: a link for one plan line and one academic year goes to the partner's
contact e-mail (models.Partner.email), valid 30 days (coop/tokens.py). The contact opens
it without signing in and says that the event took place (when, who took part, results,
evidence) or that it did not (why): the year's record then waits as reported
(coop/workflow.py report), counted nowhere, in the school's review queue until the school
confirms it (the outcome is written as the school would record it) or rejects it; either
way the link is dead from then on.

The link's page reads and writes only the line and the year its token names, as the
system (an anonymous request sees nothing through the ORM, coop/tenancy.py), and shows
only that line's title and timing, its school's and partner's names and the year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import formats, notify, tokens, trash, uploads, workflow
from . import models as m
from .extensions import db
from .tenancy import as_system
from .timing import academic_year_label, academic_year_of

PURPOSE = "event_confirmation"
TEMPLATE = "event_confirmation"  # coop/templates/mail/event_confirmation.{txt,html}
LIFETIME = tokens.LIFETIMES[PURPOSE]


class ConfirmationError(ValueError):
    """A request the school cannot make or a decision it cannot take; str() says why."""


# --- the school asks --------------------------------------------------------------------


def contact_email(partner: m.Partner | None) -> str:
    """The partner's contact e-mail from its card, or ""."""
    email = (partner.email or "").strip() if partner is not None else ""
    return email if "@" in email else ""


def not_offered(event: m.Event) -> str | None:
    """Why the line's partner cannot be asked to confirm any of its years, or None."""
    if event.partner is None:
        return gettext("The event has no partner to ask.")
    if not contact_email(event.partner):
        return gettext(
            "«Ask the partner to confirm» is not offered: the card of %(partner)s has no contact "
            "e-mail. It can be added on the partner's card (by the partner or the administrator).",
            partner=event.partner,
        )
    return None


@dataclass(frozen=True)
class YearOffer:
    """What the line's page offers for one academic year: ask the partner ("ask"), ask
    again (a link was "sent" and is still valid), or the partner's report awaits the
    school ("reported")."""

    action: str
    email: str = ""
    sent_at: dt.datetime | None = None
    valid_until: dt.datetime | None = None


def year_offers(
    user: Any, event: m.Event, years: list[tuple[int, m.EventExecution | None]]
) -> dict[int, YearOffer]:
    """For each year of the line (with its record) that the partner may be asked about."""
    if not workflow.outcomes_available(user, event) or not_offered(event):
        return {}
    current = academic_year_of(dt.date.today())
    live = _live_links(event)
    offers = {}
    for year, record in years:
        if record is not None and record.status == workflow.REPORTED:
            offers[year] = YearOffer("reported")
        elif year <= current and year in workflow.line_years(event) and _open(record):
            token = live.get(year)
            offers[year] = (
                YearOffer("sent", token.email, token.created_at, token.expires_at)
                if token
                else YearOffer("ask")
            )
    return offers


def _in_plan(event: m.Event, year: int) -> bool:
    """The line runs in `year` and is in a state whose outcome is recorded (approved)."""
    return year in workflow.line_years(event) and any(
        event.state in outcome.source for outcome in workflow.EVENT.outcomes
    )


def _open(record: m.EventExecution | None) -> bool:
    """A year with nothing recorded: the partner may report it."""
    return record is None or (record.deleted_at is None and record.status == workflow.OPEN)


def _live_links(event: m.Event) -> dict[int, m.Token]:
    """The line's valid links by year (the latest of each): the school reads its own
    line's links, which the policy does not list (tokens are nobody's rows)."""
    with as_system():
        rows = db.session.execute(
            select(m.Token)
            .where(
                m.Token.purpose == PURPOSE,
                m.Token.event_id == event.id,
                m.Token.used_at.is_(None),
                m.Token.expires_at > m.utcnow(),
            )
            .order_by(m.Token.id)
        ).scalars()
        return {token.year: token for token in rows if token.year is not None}


def ask(user: Any, event: m.Event, year: int) -> str:
    """Send the partner's contact a link to confirm the line's outcome in `year` (an earlier
    link for that year stops working); the address it went to. The caller commits."""
    if not workflow.outcomes_available(user, event):
        raise ConfirmationError(gettext("You are not allowed to do this with this record."))
    reason = not_offered(event)
    if reason:
        raise ConfirmationError(reason)
    if year not in workflow.line_years(event) or year > academic_year_of(dt.date.today()):
        raise ConfirmationError(
            gettext("The event is not planned for %(year)s.", year=academic_year_label(year))
        )
    record = workflow.year_record(event, year)
    if not _open(record):
        if record is not None and record.status == workflow.REPORTED:
            raise ConfirmationError(
                gettext("The partner has already reported this year: see the review queue.")
            )
        raise ConfirmationError(gettext("The outcome of this year is already recorded."))
    email = contact_email(event.partner)
    tokens.revoke(PURPOSE, event_id=event.id, year=year)
    token, secret = tokens.issue(
        PURPOSE,
        event_id=event.id,
        year=year,
        email=email,
        partner_id=event.partner_id,
        school_id=event.school_id,
        created_by_id=user.id,
    )
    notify.send_direct(
        kind=PURPOSE,
        email=email,
        template=TEMPLATE,
        context={
            "school": str(event.school),
            "title": event.title,
            "year": academic_year_label(year),
            "valid_until": formats.date(token.expires_at),
        },
        link=notify.absolute_url("confirm.page", secret=secret),
        school_id=event.school_id,
    )
    return email


# --- the school decides -----------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A partner's report in the school's review queue."""

    record: m.EventExecution
    outcome: workflow.Outcome
    contact: str  # the address the link was sent to
    files: list[m.StoredFile]


def waiting(limit: int = 200) -> list[Report]:
    """The reports waiting for the user's decision, oldest first (the ORM applies the
    policy: a school finds its own lines' reports)."""
    records = list(
        db.session.execute(
            select(m.EventExecution)
            .where(m.EventExecution.status == workflow.REPORTED)
            .order_by(m.EventExecution.updated_at, m.EventExecution.id)
            .limit(limit)
        ).scalars()
    )
    if not records:
        return []
    contacts = _contacts(records)
    files: dict[int, list[m.StoredFile]] = {}
    for stored in db.session.execute(
        select(m.StoredFile)
        .where(
            m.StoredFile.owner_table == m.EventExecution.__tablename__,
            m.StoredFile.owner_id.in_([record.id for record in records]),
        )
        .order_by(m.StoredFile.id)
    ).scalars():
        files.setdefault(stored.owner_id, []).append(stored)
    return [
        Report(
            record,
            workflow.reported_outcome(record),
            contacts.get((record.event_id, record.year), ""),
            files.get(record.id, []),
        )
        for record in records
    ]


def _contacts(records: list[m.EventExecution]) -> dict[tuple[int | None, int | None], str]:
    """The address each record's link was sent to (the latest link of its line and year)."""
    with as_system():
        rows = db.session.execute(
            select(m.Token.event_id, m.Token.year, m.Token.email)
            .where(m.Token.purpose == PURPOSE, m.Token.event_id.in_(sorted({r.event_id for r in records})))
            .order_by(m.Token.id)
        ).all()
    return {(event_id, year): email for event_id, year, email in rows}


def decide(user: Any, record: m.EventExecution, decision: str, comment: str = "") -> str:
    """Confirm ("confirm") or reject ("reject", saying why) a partner's report; the link is
    dead afterwards. The message for the school; the caller commits."""
    comment = comment.strip()
    if decision == "confirm":
        workflow.confirm_report(user, record, gettext("The partner's report is confirmed."))
        done = gettext(
            "The partner's report is confirmed: «%(event)s», %(year)s.",
            event=record.event.title,
            year=academic_year_label(record.year),
        )
    elif decision == "reject":
        if not comment:
            raise ConfirmationError(gettext("Say why the report is rejected."))
        files = uploads.attached_to(record)
        why = gettext("The partner's report is rejected: %(why)s", why=comment)
        workflow.reject_report(user, record, why)
        db.session.flush()  # as the school: the policy judges the record's change
        if files:
            # What the partner sent goes to the trash with it, restorable. A file is never
            # edited by a school (its policy has no such right), so the system moves it.
            with as_system():
                for stored in files:
                    trash.discard(stored)
                db.session.flush()
        done = gettext(
            "The partner's report is rejected: «%(event)s», %(year)s.",
            event=record.event.title,
            year=academic_year_label(record.year),
        )
    else:
        raise ConfirmationError(gettext("There is no such action."))
    tokens.revoke(PURPOSE, event_id=record.event_id, year=record.year)
    return done


# --- the partner's page -----------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """The partner's contact on whose word the page writes: the history names them."""

    email: str
    id: None = None


@dataclass(frozen=True)
class Link:
    """What the page may show of the line its link names, read once, as the system."""

    email: str  # the address the link was sent to
    event_id: int
    year: int
    title: str
    school: str
    partner: str
    timing: str
    state: str  # "open", "reported", "recorded" (by the school), "closed" (no longer in the plan)

    @property
    def year_label(self) -> str:
        return academic_year_label(self.year)


CLOSED = {
    "recorded": _l(
        "The school has already recorded the outcome of this event for this year. Nothing more is needed."
    ),
    "closed": _l(
        "The school has changed the plan: this event no longer awaits confirmation. "
        "Contact the school if needed."
    ),
}


def open_link(secret: str) -> Link:
    """The line and year the link names, or tokens.TokenRefused."""
    token = tokens.find(PURPOSE, secret)
    with as_system():
        event = db.session.get(m.Event, token.event_id) if token.event_id is not None else None
        if event is None or token.year is None or event.school_id != token.school_id:
            raise tokens.TokenRefused("unknown")
        record = workflow.year_record(event, token.year)
        if record is not None and record.deleted_at is None and record.status == workflow.REPORTED:
            state = "reported"
        elif not _open(record):
            state = "recorded"
        elif not _in_plan(event, token.year):
            state = "closed"
        else:
            state = "open"
        timing = event.timing_text or (gettext("all year") if event.all_year else "")
        return Link(
            email=token.email,
            event_id=event.id,
            year=token.year,
            title=event.title,
            school=str(event.school),
            partner=str(event.partner) if event.partner else "",
            timing=timing,
            state=state,
        )


def outcome_named(name: str) -> workflow.Outcome:
    found = workflow.find_outcome(m.Event, name)
    if found is None:
        raise workflow.WorkflowError(gettext("There is no such action."))
    return found


def submit(link: Link, outcome: str, form: Any) -> None:
    """Write what the partner's contact reported (and its file) in one transaction, on their
    word; workflow.WorkflowError or uploads.UploadError, and nothing written, if refused."""
    values = {name: form[name].data for name in workflow.RECORD_FIELDS if name in form}
    upload = uploads.chosen(form.evidence_file.data) if "evidence_file" in form else None
    comment = gettext(
        "Reported by the partner's contact by a link (%(email)s): %(outcome)s.",
        email=link.email,
        outcome=str(m.EXECUTION_STATUSES[outcome_named(outcome).status]).lower(),
    )
    with as_system(acting_for=Contact(link.email)):
        try:
            event = db.session.get(m.Event, link.event_id)
            if event is None:
                raise workflow.WorkflowError(str(tokens.REFUSALS["unknown"]))
            record = workflow.report(event, outcome, link.year, values, comment)
            db.session.flush()
            if upload is not None:
                uploads.store(upload, record)
            db.session.commit()
        except (IntegrityError, StaleDataError) as error:  # the same year reported meanwhile
            db.session.rollback()
            raise workflow.WorkflowError(
                gettext("The outcome of this year has already been sent to the school.")
            ) from error
        except Exception:
            db.session.rollback()
            raise
