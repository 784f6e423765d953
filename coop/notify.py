"""What notifies whom, as a table: a change (a workflow transition, a new row) →
the users of a role in the row's tenant → a message from a template.

coop.history calls queue() from its after_flush listener with what each flush did,
so a notification is written in the same transaction as the change it tells of
(a rolled-back change notifies nobody) whichever view, command or import made it.
Each recipient gets one row of models.Notification: the mail worker (coop.outbox)
delivers it, at once or in the recipient's daily digest as they chose per kind
(models.NotificationPreference), the site lists it (coop/views/notifications.py).

What notifies as time passes (an agreement about to end, a review waiting, a past
month's lines with no record) is the other table, coop.reminders.REMINDERS; both
write through write() here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from sqlalchemy import Connection, Table, insert, select

from . import formats
from . import models as m
from .extensions import db
from .timing import academic_year_label

SCHOOL, PARTNER, COORDINATOR = "school", "partner", "coordinator"
AT_ONCE = "now"  # models.DELIVERIES: what a user who chose nothing gets
# Messages a person asked for or must act on: always mailed at once, never listed among
# the choices (nor are they for a message with no user, sent to an address).
ALWAYS_AT_ONCE = frozenset({"password_reset", "invitation", "event_confirmation"})


@dataclass(frozen=True)
class Rule:
    """When `action` ("create", or a transition's name) happens to a row of `model`,
    the active users of `role` get `template` (coop/templates/mail/<template>.{txt,html},
    its first line the subject). Their tenant: the row's school (SCHOOL), the row's
    partner (PARTNER), or none (COORDINATOR: the coordinators see every school)."""

    model: type
    action: str
    role: str
    kind: str  # models.NOTIFICATION_KINDS
    template: str
    endpoint: str  # the view whose details page the link opens
    # Or the page the link opens, for a row without a details page: (row) → address.
    link: Callable[[Any], str] | None = None

    def link_for(self, obj: Any) -> str:
        return self.link(obj) if self.link is not None else link_to(self.endpoint, obj.id)


def _answer_page(answer: Any) -> str:
    """A school's answer to a data request, as the coordinator and the school open it."""
    return absolute_url("datarequests.answer", id=answer.request_id, school=answer.school_id)


def _review_queue(_row: Any) -> str:
    """The school's review queue, where a partner's report waits for its decision."""
    return absolute_url("review.index")


RULES: tuple[Rule, ...] = (
    Rule(m.Event, "submit", SCHOOL, "event_submitted", "event_submitted", "event"),
    Rule(m.Event, "approve", PARTNER, "event_approved", "event_approved", "event"),
    Rule(m.Event, "return", PARTNER, "event_returned", "event_returned", "event"),
    Rule(m.Remark, "create", SCHOOL, "remark_created", "remark_created", "remark"),
    Rule(m.Remark, "answer", COORDINATOR, "remark_answered", "remark_answered", "remark"),
    # A partner's report by a link (coop/confirmations.py) waits in the school's review queue.
    Rule(m.EventExecution, "report", SCHOOL, "outcome_reported", "outcome_reported", "", _review_queue),
    # A school's answer to a data request (coop/data_requests.py): submitted, returned.
    Rule(
        m.DataRequestAnswer,
        "submit",
        COORDINATOR,
        "data_request_submitted",
        "data_request_submitted",
        "",
        _answer_page,
    ),
    Rule(
        m.DataRequestAnswer,
        "return",
        SCHOOL,
        "data_request_returned",
        "data_request_returned",
        "",
        _answer_page,
    ),
)


@dataclass(frozen=True)
class Happened:
    """One thing a flush did to a row: created it, or fired a transition (with its comment)."""

    obj: Any
    action: str
    comment: str = ""


def rules_for(obj: Any, action: str) -> list[Rule]:
    return [rule for rule in RULES if isinstance(obj, rule.model) and rule.action == action]


def queue(connection: Connection, happened: list[Happened], actor_id: int | None) -> int:
    """Write the notifications of what a flush did, on its connection; how many."""
    written = 0
    for item in happened:
        obj = item.obj
        for rule in rules_for(obj, item.action):
            partner_id = getattr(obj, "partner_id", None)
            users = recipients(connection, rule.role, obj.school_id, partner_id, but=actor_id)
            if users:
                context, link = _context(connection, item), rule.link_for(obj)
                written += write(connection, rule.kind, rule.template, users, context, link, obj.school_id)
    return written


def recipients(
    connection: Connection, role: str, school_id: int | None, partner_id: int | None, but: int | None = None
) -> list[tuple[int, str]]:
    """The active users of `role` in the tenant (SCHOOL: the school's, PARTNER: the
    partner's, COORDINATOR: all), but the one who acted. A Core statement on the flush's
    connection: the tenant policy of the user who acted (a partner does not see the
    school's accounts) must not hide the recipients."""
    user = m.User
    stmt = select(user.id, user.email).where(
        user.role == role, user.active.is_(True), user.deleted_at.is_(None), user.email != ""
    )
    if role == SCHOOL:
        stmt = stmt.where(user.school_id == school_id)
    elif role == PARTNER:
        stmt = stmt.where(user.partner_id == partner_id)
    if but is not None:
        stmt = stmt.where(user.id != but)
    return [(uid, email) for uid, email in connection.execute(stmt.order_by(user.id))]


def deliveries(connection: Connection, user_ids: list[int], kind: str) -> dict[int, str]:
    """How each of the users chose to receive `kind` by mail (models.DELIVERIES); a user
    missing from the answer gets it AT_ONCE, as does every ALWAYS_AT_ONCE kind."""
    if kind in ALWAYS_AT_ONCE or not user_ids:
        return {}
    preference = m.NotificationPreference
    stmt = select(preference.user_id, preference.delivery).where(
        preference.user_id.in_(user_ids), preference.kind == kind
    )
    return {uid: delivery for uid, delivery in connection.execute(stmt)}


def write(
    connection: Connection,
    kind: str,
    template: str,
    users: list[tuple[int, str]],
    context: dict[str, Any],
    link: str,
    school_id: int | None,
    key: str | None = None,
) -> int:
    """One notification per user (id, e-mail) from `template`, mailed as each chose; `key`:
    the occasion of a reminder (unique per user). How many were written."""
    if not users:
        return 0
    message = render_message(template, {**context, "link": link})
    chosen = deliveries(connection, [uid for uid, _ in users], kind)
    rows = [
        {
            **message,
            "kind": kind,
            "school_id": school_id,
            "link": link,
            "user_id": uid,
            "email": email,
            "delivery": chosen.get(uid, AT_ONCE),
            "dedupe_key": key,
        }
        for uid, email in users
    ]
    connection.execute(insert(cast(Table, m.Notification.__table__)), rows)
    return len(rows)


def _name(connection: Connection, model: Any, row_id: int | None) -> str:
    if row_id is None:
        return ""
    columns = (model.short_name, model.name) if hasattr(model, "short_name") else (model.name, model.name)
    found = connection.execute(select(*columns).where(model.id == row_id)).first()
    return (found[0] or found[1]) if found else ""


def _context(connection: Connection, item: Happened) -> dict[str, Any]:
    """What a message may say: only the row itself and its own school and partner."""
    obj = item.obj
    context: dict[str, Any] = {
        "comment": item.comment,
        "school": _name(connection, m.School, getattr(obj, "school_id", None)),
    }
    if isinstance(obj, m.Event):
        context |= {"title": obj.title, "partner": _name(connection, m.Partner, obj.partner_id)}
    if isinstance(obj, m.Remark):
        context |= {"text": obj.text, "response": obj.response}
    if isinstance(obj, m.EventExecution):
        event = connection.execute(
            select(m.Event.title, m.Event.partner_id).where(m.Event.id == obj.event_id)
        ).one()
        context |= {
            "title": event.title,
            "partner": _name(connection, m.Partner, event.partner_id),
            "year": academic_year_label(obj.year),
            "held_on": formats.date(obj.held_on) if obj.held_on else "",
            "results": obj.results,  # what was achieved, or why it was not held
        }
    if isinstance(obj, m.DataRequestAnswer):
        found = connection.execute(
            select(m.DataRequest.title).where(m.DataRequest.id == obj.request_id)
        ).first()
        context |= {"title": found[0] if found else ""}
    return context


def link_to(endpoint: str, row_id: int) -> str:
    """The absolute address of a row's details page."""
    return absolute_url(f"{endpoint}.details_view", id=row_id)


def absolute_url(view: str, **values: Any) -> str:
    """A page's address for a message: COOP_BASE_URL + the view's path."""
    if has_request_context():
        path = url_for(view, **values)
    else:  # the CLI, the worker: url_for needs a request to build a path
        with current_app.test_request_context():
            path = url_for(view, **values)
    return current_app.config["COOP_BASE_URL"].rstrip("/") + path


def render_message(template: str, context: dict[str, Any]) -> dict[str, Any]:
    """A message from coop/templates/mail/<template>.{txt,html} (the text's first line is
    its subject), as the columns of a notification due now."""
    env = current_app.jinja_env
    # Messages are in the site's language whoever's request wrote them.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject, _, text = env.get_template(f"mail/{template}.txt").render(context).partition("\n")
        html = env.get_template(f"mail/{template}.html").render({**context, "subject": subject})
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return {
        "subject": subject.strip()[:255],
        "body_text": text.strip() + "\n",
        "body_html": html,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "last_error": "",
    }


def send_direct(
    kind: str,
    email: str,
    template: str,
    context: dict[str, Any],
    *,
    link: str,
    user_id: int | None = None,
    school_id: int | None = None,
) -> None:
    """Queue one message to one address, outside the table of rules: a password reset,
    an invitation, a partner's confirmation link (kinds in ALWAYS_AT_ONCE). Written
    in the caller's transaction, like every notification, whoever is signed in."""
    message = render_message(template, {**context, "link": link})
    row = {**message, "kind": kind, "email": email, "user_id": user_id, "school_id": school_id, "link": link}
    row |= {"delivery": AT_ONCE, "dedupe_key": None}
    db.session.execute(insert(cast(Table, m.Notification.__table__)), [row])
