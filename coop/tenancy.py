"""The access policy enforced once more at the ORM level, under every view.

Every SELECT, UPDATE and DELETE that the ORM runs during a request gets the
policy's row criteria for each table (``with_loader_criteria``), so relation
pickers, ajax look-ups, ``session.get`` and lazy loads are tenant-scoped even if
a view forgets. Every flush is checked against ``access.can`` and stamped with
who changed what. Outside a request (CLI, migrations) the code runs as the system, which sees
every row but those in the trash: no query restates the trash by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g, has_request_context
from flask_login import current_user
from sqlalchemy import event, true
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from . import access, workflow
from .extensions import Model
from .models import Tracked
from .request_cache import request_cache

SYSTEM = object()  # code acting for nobody in particular: CLI, migrations, login bookkeeping


def current_principal() -> Any:
    """The user the ORM acts for: the request's user, None (anonymous), or SYSTEM."""
    if not has_request_context():
        return SYSTEM
    return g.get("principal")  # unset means anonymous: deny by default


@contextmanager
def as_system(acting_for: Any = None) -> Iterator[None]:
    """Run a block unscoped inside a request (e.g. recording a login). `acting_for`: the
    person without an account on whose word the block writes (a partner's contact who
    followed a link, coop/confirmations.py; it has an `email` and no `id`): the history
    names them as the author."""
    previous, outer = g.get("principal"), g.get("system_started_by")
    g.principal = SYSTEM
    if acting_for is not None:
        g.system_started_by = acting_for
    elif previous is not SYSTEM:  # the outermost block: the user who started it
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
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    principal = current_principal()
    # skip_scope lifts the policy (sign-in looks up the account), never the trash;
    # include_deleted lifts the trash (restore, purge, finding a name already taken).
    skip_policy = principal is SYSTEM or state.execution_options.get("skip_scope", False)
    show_deleted = state.execution_options.get("include_deleted", False)
    if skip_policy and show_deleted:
        return
    state.statement = state.statement.options(*_criteria_options(principal, skip_policy, show_deleted))


def _criteria_options(principal: Any, skip_policy: bool, show_deleted: bool) -> tuple[Any, ...]:
    """The loader criteria of every mapped table, built once a request for each principal
    (what the policy's SQL reads of the user is in the key): a page runs several
    statements, and building them is most of the cost of scoping one."""
    if principal is SYSTEM or principal is None:
        key: tuple[Any, ...] = (skip_policy, show_deleted, principal)
    else:
        role = access.role_of(principal)
        key = (skip_policy, show_deleted, getattr(principal, "id", None), role)
        key += (principal.school_id, principal.partner_id)
    built = request_cache("_criteria_options")
    if key not in built:
        built[key] = tuple(_build_criteria_options(principal, skip_policy, show_deleted))
    return built[key]


def _build_criteria_options(principal: Any, skip_policy: bool, show_deleted: bool) -> Iterator[Any]:
    # Every mapped table, not only those the policy names: a table the policy does
    # not know yet gets criteria false (deny by default).
    for mapper in Model.registry.mappers:
        model = mapper.class_
        in_trash_hidden = issubclass(model, Tracked) and not show_deleted
        if skip_policy and not in_trash_hidden:
            continue
        rows = true() if skip_policy else access.criteria(principal, model)
        if in_trash_hidden:
            rows = rows & model.deleted_at.is_(None)
        yield with_loader_criteria(model, rows, include_aliases=True)


def _check_flush(session: Session, flush_context: Any, instances: Any) -> None:
    principal = current_principal()
    for obj in session.new:
        workflow.start(None if principal is SYSTEM else principal, obj)
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
                access.require(principal, transition["permission"], obj)
            else:
                _require(principal, "edit", obj)
            if isinstance(obj, Tracked):
                obj.updated_by_id = user_id
    for obj in session.deleted:
        _require(principal, "delete", obj)


def _require(principal: Any, action: str, obj: Any) -> None:
    access.require_on(principal, action, type(obj), obj)


def _set_principal() -> None:
    g.principal = current_user._get_current_object() if current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    if not event.contains(Session, "do_orm_execute", _scope_statement):
        # Not mutated: a listener mutated to None is left half-registered on the Session class
        # (SQLAlchemy appends it before failing), and every later statement of the mutation
        # run's one process calls it (docs/mutation.md).
        event.listen(Session, "do_orm_execute", _scope_statement)  # pragma: no mutate
        event.listen(Session, "before_flush", _check_flush)  # pragma: no mutate
    app.before_request(_set_principal)
