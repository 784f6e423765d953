"""The access policy enforced once more at the ORM level, under every view.

Every SELECT, UPDATE and DELETE that the ORM runs during a request gets the
policy's row criteria for each table (``with_loader_criteria``), so relation
pickers, ajax look-ups, ``session.get`` and lazy loads are tenant-scoped even if
a view forgets. Every flush is checked against ``access.can`` and stamped with
who changed what. Outside a request (CLI, migrations) the code runs as the system.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g, has_request_context
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from . import access
from .extensions import db
from .models import Tracked

SYSTEM = object()  # code acting for nobody in particular: CLI, migrations, login bookkeeping


class AccessDenied(PermissionError):
    """A write the policy refuses; views turn it into a message, the app into 403."""


def current_principal() -> Any:
    """The user the ORM acts for: the request's user, None (anonymous), or SYSTEM."""
    if not has_request_context():
        return SYSTEM
    return g.get("principal")  # unset means anonymous: deny by default


@contextmanager
def as_system() -> Iterator[None]:
    """Run a block unscoped inside a request (e.g. recording a login)."""
    previous, outer = g.get("principal"), g.get("system_started_by")
    g.principal = SYSTEM
    if previous is not SYSTEM:  # the outermost block: the user who started it
        g.system_started_by = previous
    try:
        yield
    finally:
        g.principal, g.system_started_by = previous, outer


def started_by() -> Any:
    """The signed-in user on whose behalf the system acts inside as_system (the
    history records them); None outside a request or for an anonymous one."""
    return g.get("system_started_by") if has_request_context() else None


def _scope_statement(state: ORMExecuteState) -> None:
    if state.execution_options.get("skip_scope") or state.is_column_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    principal = current_principal()
    if principal is SYSTEM:
        return
    # Every mapped table, not only those the policy names: a table the policy
    # does not know yet gets criteria false (deny by default). Rows in the trash
    # are hidden too, except from the trash itself (include_deleted).
    show_deleted = state.execution_options.get("include_deleted", False)
    state.statement = state.statement.options(
        *(
            with_loader_criteria(
                mapper.class_, _visible_rows(principal, mapper.class_, show_deleted), include_aliases=True
            )
            for mapper in db.Model.registry.mappers
        )
    )


def _visible_rows(principal: Any, model: type, show_deleted: bool) -> Any:
    rows = access.criteria(principal, model)
    if issubclass(model, Tracked) and not show_deleted:
        rows = rows & model.deleted_at.is_(None)
    return rows


def _check_flush(session: Session, flush_context: Any, instances: Any) -> None:
    principal = current_principal()
    if principal is SYSTEM:
        return
    user_id = getattr(principal, "id", None)
    for obj in session.new:
        _require(principal, "create", obj)
        if isinstance(obj, Tracked):
            obj.created_by_id = obj.updated_by_id = user_id
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=True):
            # A workflow transition is judged by its own permission, not by "edit":
            # a partner may submit a draft it then can no longer edit.
            transition = getattr(obj, "_coop_transition", None)
            if transition:
                if not access.can(principal, transition["permission"], obj):
                    raise AccessDenied(transition["permission"])
            else:
                _require(principal, "edit", obj)
            if isinstance(obj, Tracked):
                obj.updated_by_id = user_id
    for obj in session.deleted:
        _require(principal, "delete", obj)


def _require(principal: Any, action: str, obj: Any) -> None:
    if not access.can_on(principal, action, type(obj), obj):
        raise AccessDenied(f"{type(obj).__name__}.{action}")


def _set_principal() -> None:
    g.principal = current_user._get_current_object() if current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    if not event.contains(Session, "do_orm_execute", _scope_statement):
        event.listen(Session, "do_orm_execute", _scope_statement)
        event.listen(Session, "before_flush", _check_flush)
    app.before_request(_set_principal)
