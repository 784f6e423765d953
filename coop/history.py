"""History of every change, written from SQLAlchemy session events so that no
view, command or import can forget it. Rows go into the same transaction as the
change they describe, so a rolled-back change leaves no history either."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

from flask import Flask, g, has_request_context, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Table, event, func, insert, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from . import added_fields, formats, labels, notify
from .extensions import db
from .models import LABEL_RELATIONS, History, Partner, School, Tracked, label_loads
from .request_cache import request_cache
from .tenancy import SYSTEM, current_principal, started_by
from .timing import months_from_mask

# Bookkeeping columns: they change on every write and tell nothing new.
QUIET_FIELDS = {"created_at", "updated_at", "created_by_id", "updated_by_id", "version", "deleted_batch"}
# Sign-ins go to their own log (models.SignIn), not to the history.
QUIET_FIELDS |= {"last_login_at"}
# Not a column: the count of the user's unread notifications (models.User).
QUIET_FIELDS |= {"unread_notifications", "saved_views_menu"}
SECRET_FIELDS = {"password_hash", "token", "feed_hash"}


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a column value."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _changes(obj: Any, created: bool) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in QUIET_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if created:
            before, after = None, getattr(obj, attr.key)
        elif history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
        else:
            continue
        if after is None and created:
            continue
        if attr.key in SECRET_FIELDS:
            before, after = ("***" if before else None), "***"
        if attr.key == ADDED_VALUES:
            changes.update(_added_changes(before or {}, after or {}))
            continue
        changes[attr.key] = [_plain(before), _plain(after)]
    for rel in state.mapper.relationships:
        if not rel.uselist or rel.viewonly:
            continue
        history = state.attrs[rel.key].history
        if history.has_changes():
            changes[rel.key] = [[str(o) for o in history.deleted], [str(o) for o in history.added]]
    return changes


ADDED_VALUES = "extra"  # the values of the fields added in the site: each recorded as its own field


def _added_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Each added field whose value changed, as "extra.KEY" (shown by its label, see shown_changes)."""
    return {
        f"{ADDED_VALUES}.{key}": [before.get(key), after.get(key)]
        for key in sorted({*before, *after})
        if before.get(key) != after.get(key)
    }


def _action(obj: Any, changes: dict[str, list[Any]], created: bool) -> str:
    if created:
        return "create"
    if getattr(obj, "_coop_transition", None):
        return "transition"
    if "deleted_at" in changes:
        return "delete" if changes["deleted_at"][1] else "restore"
    return "update"


def _school_id(obj: Any) -> int | None:
    if isinstance(obj, School):
        return obj.id
    return getattr(obj, "school_id", None)


def _record(session: Session, flush_context: Any) -> None:
    principal = current_principal()
    if principal is SYSTEM:  # the system acting for a signed-in user is recorded as that user
        principal = started_by() or SYSTEM
    actor = {
        "user_id": None if principal is SYSTEM else getattr(principal, "id", None),
        "user_email": "system" if principal is SYSTEM else getattr(principal, "email", "") or "",
        "ip": (request.remote_addr or "") if has_request_context() else "",
        "at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    rows = []
    happened: list[notify.Happened] = []  # what the notification table is asked about
    changed = [(obj, True) for obj in session.new] + [(obj, False) for obj in session.dirty]
    for obj, created in changed:
        if not isinstance(obj, Tracked) or (not created and not session.is_modified(obj)):
            continue
        changes = _changes(obj, created)
        transition = obj.__dict__.pop("_coop_transition", None)
        # The comment of a change no transition made (coop/workflow.py: a partner's report).
        comment = obj.__dict__.pop("_coop_comment", "")
        # What such a change is, for the notification table (coop/notify.py RULES): "report".
        happening = obj.__dict__.pop("_coop_happened", None)
        if changes or created:
            action = "transition" if transition else _action(obj, changes, created)
            rows.append(_row(actor, obj, action, changes, transition["comment"] if transition else comment))
            if created or transition or happening:
                name = transition["name"] if transition else happening or "create"
                happened.append(notify.Happened(obj, name, transition["comment"] if transition else comment))
    rows += [_row(actor, obj, "purge", {}, "") for obj in session.deleted if isinstance(obj, Tracked)]
    if rows:
        session.connection().execute(insert(cast(Table, History.__table__)), rows)
    if happened:
        notify.queue(session.connection(), happened, cast(int | None, actor["user_id"]))


def _row(actor: dict[str, Any], obj: Any, action: str, changes: dict, comment: str) -> dict[str, Any]:
    _load_label_relations(obj)
    label = (obj.short_name or obj.name) if isinstance(obj, Partner) else str(obj)
    return {
        **actor,
        "action": action,
        "table_name": obj.__tablename__,
        "row_id": obj.id,
        "row_version": obj.version,
        "school_id": _school_id(obj),
        "summary": label[:500],
        "changes": changes,
        "comment": comment,
    }


def _load_label_relations(obj: Any) -> None:
    """A row created by its ids (a yearly record by event_id) has not loaded the rows its
    label names, and a new row does not load them by itself: read them (from the session's
    rows, else one SELECT) so that the history says «1. Лекция — 2024/2025», not «None — …»."""
    state = inspect(obj)
    session = state.session
    for name in LABEL_RELATIONS.get(type(obj), ()):
        relation = state.mapper.relationships[name]
        if name in state.dict or session is None:
            continue
        key = [getattr(obj, column.key) for column in relation.local_columns]
        if None not in key:
            set_committed_value(obj, name, session.get(relation.mapper.class_, key[0]))


def reasons(rows: list[Any], states: frozenset[str]) -> dict[int, History]:
    """For each row in one of states, the transition that led it there (who, when, and
    its comment: why a school returned an event), by row id. One statement for all the
    rows, none when no row is in those states."""
    wanted = [row for row in rows if row.state in states]
    if not wanted:
        return {}
    table = wanted[0].__tablename__
    latest = (
        select(func.max(History.id))
        .where(
            History.table_name == table,
            History.action == "transition",
            History.row_id.in_(sorted({row.id for row in wanted})),
        )
        .group_by(History.row_id)
    )
    entries = db.session.execute(select(History).where(History.id.in_(latest))).scalars()
    found = {entry.row_id: entry for entry in entries}
    # The row's last transition led to its present state (not, say, a state set by an import).
    return {
        row.id: found[row.id]
        for row in wanted
        if row.id in found and (found[row.id].changes or {}).get("state", [None, None])[1] == row.state
    }


HIDDEN_FIELDS = {"id"}  # the row's own id: the history is already the row's
# Columns a migration has dropped: the history written before still names them.
FORMER_FIELDS: dict[tuple[str, str], Any] = {
    ("event_executions", "evidence_file"): _l("Evidence (file)"),
    ("agreements", "document"): _l("Document"),
    ("users", "session_epoch"): _l("Session resets"),
}
_NAMES = "_coop_history_names"  # the request's cache: (model, id) -> the row's name, None if unseen


def shown_changes(table: str, changes: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, before, after) of a history entry, as a person reads them: each field by
    the label its model gives it (a reference such as school_id by its relation's), each
    value as the page shows it (coop/labels.py, coop/formats.py): a referenced row by its
    name, a code by its choice's label. A field whose value reads the same before and
    after (an empty one on creation) says nothing and is left out."""
    model = labels.model_of(table)
    shown = []
    for field, (before, after) in changes.items():
        if field in HIDDEN_FIELDS:
            continue
        if field.startswith(f"{ADDED_VALUES}.") and model is not None:
            label, old, new = _added_change(model, field.removeprefix(f"{ADDED_VALUES}."), before, after)
            if old != new:
                shown.append((label, old, new))
            continue
        old, new = shown_value(model, field, before), shown_value(model, field, after)
        if old != new:
            shown.append((field_label(model, table, field), old, new))
    return shown


def _added_change(model: type, key: str, before: Any, after: Any) -> tuple[str, str, str]:
    """An added field's change by its label and its values as shown (its key, and the values
    as recorded, once the field is gone or the reader does not see it)."""
    definition = added_fields.definition_of(model, key)
    if definition is None:
        return key, shown_value(None, key, before), shown_value(None, key, after)
    return (
        definition.label,
        added_fields.shown(definition, before) or "—",
        added_fields.shown(definition, after) or "—",
    )


def field_label(model: type | None, table: str, field: str) -> str:
    if model is not None and labels.has_label(model, field):
        return labels.label(model, field)
    former = FORMER_FIELDS.get((table, field))
    return str(former) if former is not None else field


def shown_value(model: type | None, field: str, value: Any) -> str:
    """A recorded value as a page shows it; «—» for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if model is not None and isinstance(value, str) and value in labels.known_choices(model, field):
        return labels.choice_label(model, field, value)
    if isinstance(value, list):  # a collection: the names of its members
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return formats.yes_no(value)
    if model is None:
        return str(value)
    referenced = labels.referenced_model(model, field)
    if referenced is not None and isinstance(value, int):
        return _name(referenced, value)
    if field == "months_mask" and isinstance(value, int):
        return ", ".join(formats.month_name(month) for month in months_from_mask(value)) or "—"
    if labels.is_academic_year(model, field) and isinstance(value, int):
        return formats.academic_year(value)
    kind = labels.column_type(model, field)
    if isinstance(value, str) and kind in (Date, DateTime):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return formats.date(moment.date()) if kind is Date else formats.moment(moment)
    return str(value)


def name_references(entries: list[History]) -> None:
    """Read the names of the rows that entries refer to (a school, an event), one
    statement per table, for shown_value; only the rows the user may see (the policy
    applies to this read as to any), the others read «№ 56»."""
    wanted: dict[type, set[int]] = {}
    for entry in entries:
        model = labels.model_of(entry.table_name)
        for field, values in (entry.changes or {}).items():
            referenced = labels.referenced_model(model, field) if model else None
            if referenced is not None:
                ids = {value for value in values if isinstance(value, int) and not isinstance(value, bool)}
                wanted.setdefault(referenced, set()).update(ids)
    for referenced, ids in wanted.items():
        _read_names(referenced, ids)


def _read_names(model: type, ids: set[int]) -> None:
    cache = request_cache(_NAMES)
    # The page has most of them already (its row's school, partner, the catalogs of its form).
    for row_id in ids:
        loaded = db.session.identity_map.get(identity_key(model, row_id))
        if loaded is not None and (model, row_id) not in cache and not inspect(loaded).expired:
            cache[(model, row_id)] = _label(loaded)
    missing = sorted(i for i in ids if (model, i) not in cache)
    if not missing:
        return
    stmt: Any = select(model).where(model.id.in_(missing))  # type: ignore[attr-defined]
    stmt = stmt.options(*label_loads(model))
    for row in db.session.execute(stmt).unique().scalars():
        cache[(model, row.id)] = _label(row)
    cache.update({(model, i): None for i in missing if (model, i) not in cache})


def _label(row: Any) -> str:
    return (row.short_name or row.name) if isinstance(row, Partner) else str(row)


def _name(model: type, row_id: int) -> str:
    _read_names(model, {row_id})
    return g.get(_NAMES, {}).get((model, row_id)) or gettext("No. %(id)s", id=row_id)


def action_label(action: str) -> str:
    return labels.choice_label(History, "action", action)


def init_app(app: Flask) -> None:
    app.add_template_global(action_label, "history_action")
    app.add_template_global(shown_changes, "history_changes")
    if not event.contains(Session, "after_flush", _record):
        event.listen(Session, "after_flush", _record)
