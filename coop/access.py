"""THE access policy: which rows a user sees and what a user may do.

Two questions, answered from one table of named rules, deny by default:

* ``scope(query, user, Model)`` — the rows of Model the user may see;
* ``can(user, "event.edit", obj)`` — whether the user may do an action, on a
  row or (obj=None) on the model in general.

Views, the CLI, exports and the JSON API ask these functions; they never filter
by tenant themselves. ``coop.tenancy`` applies ``criteria`` to every ORM query
once more, so a door forgotten in a view is still shut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Query

from . import models as m
from .extensions import db

ADMIN, COORDINATOR, SCHOOL, PARTNER = "admin", "coordinator", "school", "partner"


# --- who is asking -----------------------------------------------------------------


def role_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.role


def agreed_school_ids(user: Any) -> frozenset[int]:
    """Schools a partner user has an agreement with (cached for the request)."""
    if role_of(user) != PARTNER:
        return frozenset()
    cache = g.setdefault("_agreed_schools", {}) if has_request_context() else {}
    key = (user.id, user.partner_id)
    if key not in cache:
        stmt = select(m.Agreement.school_id).where(
            m.Agreement.partner_id == user.partner_id, m.Agreement.deleted_at.is_(None)
        )
        rows = db.session.execute(stmt, execution_options={"skip_scope": True}).scalars()
        cache[key] = frozenset(rows)
    return cache[key]


def school_of(obj: Any) -> int | None:
    return _ref_id(obj, "school")


def partner_of(obj: Any) -> int | None:
    return _ref_id(obj, "partner")


def _ref_id(obj: Any, name: str) -> int | None:
    # A form sets the relationship (event.school = …); its _id column follows only
    # at flush, so a relationship set on the object wins over the column.
    related = obj.__dict__.get(name)
    if related is not None:
        return related.id
    return getattr(obj, f"{name}_id", None)


# --- rows a user may see -------------------------------------------------------------


def _school_owned(user: Any, model: type) -> ColumnElement[bool]:
    role = role_of(user)
    if role in (ADMIN, COORDINATOR):
        return true()
    if role == SCHOOL:
        return model.school_id == user.school_id
    return false()


def _events(user: Any, model: type) -> ColumnElement[bool]:
    if role_of(user) == PARTNER:
        return (model.partner_id == user.partner_id) & model.school_id.in_(agreed_school_ids(user))
    return _school_owned(user, model)


def _schools(user: Any, model: type) -> ColumnElement[bool]:
    role = role_of(user)
    if role in (ADMIN, COORDINATOR):
        return true()
    if role == SCHOOL:
        return model.id == user.school_id
    if role == PARTNER:  # names of the schools it works with
        return model.id.in_(agreed_school_ids(user))
    return false()


def _partner_directory(user: Any, model: type) -> ColumnElement[bool]:
    role = role_of(user)
    if role in (ADMIN, COORDINATOR, SCHOOL):  # the directory is shared
        return true()
    if role == PARTNER:
        column = model.id if model is m.Partner else model.partner_id
        return column == user.partner_id
    return false()


def _catalog(user: Any, model: type) -> ColumnElement[bool]:
    return true() if role_of(user) else false()


def _users(user: Any, model: type) -> ColumnElement[bool]:
    role = role_of(user)
    if role == ADMIN:
        return true()
    if role:
        return model.id == user.id
    return false()


def _feeds(user: Any, model: type) -> ColumnElement[bool]:
    role = role_of(user)
    if role in (ADMIN, COORDINATOR):
        return true()
    if role == SCHOOL:
        return model.school_id == user.school_id
    if role == PARTNER:
        return model.partner_id == user.partner_id
    return false()


def _history(user: Any, model: type) -> ColumnElement[bool]:
    if role_of(user) == PARTNER:  # the history of its own events: a returned proposal's comment
        return (model.table_name == m.Event.__tablename__) & model.row_id.in_(_partner_event_ids(user))
    return _school_owned(user, model)


def _admin_only(user: Any, model: type) -> ColumnElement[bool]:
    return true() if role_of(user) == ADMIN else false()


def _partner_event_ids(user: Any) -> Any:
    return select(m.Event.id).where(
        m.Event.partner_id == user.partner_id, m.Event.school_id.in_(agreed_school_ids(user))
    )


ROW_FILTERS: dict[type, Callable[[Any, type], ColumnElement[bool]]] = {
    m.School: _schools,
    m.Partner: _partner_directory,
    m.PartnerResource: _partner_directory,
    m.Programme: _school_owned,
    m.Agreement: _school_owned,
    m.Event: _events,
    m.EventExecution: _school_owned,
    m.Seminar: _school_owned,
    m.Limitation: _school_owned,
    m.Remark: _school_owned,
    m.User: _users,
    m.CalendarFeed: _feeds,
    m.History: _history,
    m.SignIn: _admin_only,
    m.StoredFile: _school_owned,
    **{catalog: _catalog for catalog in m.CATALOGS},
}


def criteria(user: Any, model: type) -> ColumnElement[bool]:
    """SQL condition for the rows of model the user may see; false for unknown models."""
    row_filter = ROW_FILTERS.get(model)
    if row_filter is None:
        return false()
    return row_filter(user, model)


def scope(query: Query, user: Any, model: type) -> Query:
    return query.filter(criteria(user, model))


def visible(user: Any, obj: Any) -> bool:
    """Whether a loaded row is one the user may see (the Python twin of criteria)."""
    role = role_of(user)
    model = type(obj)
    if role is None or model not in ROW_FILTERS:
        return False
    if role == ADMIN or (role == COORDINATOR and model not in (m.User, m.SignIn)):
        return True
    if model is m.SignIn:
        return False
    if model is m.User:
        return obj.id == user.id
    if model in m.CATALOGS:
        return True
    if model is m.School:
        return obj.id == user.school_id if role == SCHOOL else obj.id in agreed_school_ids(user)
    if model is m.History and role == PARTNER:
        stmt = _partner_event_ids(user).where(m.Event.id == obj.row_id)
        return obj.table_name == m.Event.__tablename__ and db.session.execute(stmt).first() is not None
    if model is m.CalendarFeed:
        return school_of(obj) == user.school_id if role == SCHOOL else partner_of(obj) == user.partner_id
    if model in (m.Partner, m.PartnerResource):
        if role == SCHOOL:
            return True
        partner_id = obj.id if model is m.Partner else partner_of(obj)
        return partner_id == user.partner_id
    if role == SCHOOL:
        return school_of(obj) == user.school_id
    if role == PARTNER and model is m.Event:
        return partner_of(obj) == user.partner_id and school_of(obj) in agreed_school_ids(user)
    return False


# --- actions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A named predicate over (user, obj-or-None); combine with | and &."""

    name: str
    test: Callable[[Any, Any], bool]

    def __call__(self, user: Any, obj: Any) -> bool:
        return bool(self.test(user, obj))

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} | {other.name}", lambda u, o: self(u, o) or other(u, o))

    def __and__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} & {other.name}", lambda u, o: self(u, o) and other(u, o))


def _has_role(*roles: str) -> Rule:
    return Rule("role in " + "/".join(roles), lambda u, o: role_of(u) in roles)


is_admin = _has_role(ADMIN)
is_coordinator = _has_role(COORDINATOR)
is_school = _has_role(SCHOOL)
is_partner = _has_role(PARTNER)
is_signed_in = _has_role(ADMIN, COORDINATOR, SCHOOL, PARTNER)
# obj=None asks about the model in general ("may this role ever…"): true here,
# and the row itself is checked when there is one.
sees_row = Rule("sees row", lambda u, o: o is None or visible(u, o))
own_school_row = is_school & Rule("row of own school", lambda u, o: o is None or o.school_id == u.school_id)
own_school_card = is_school & Rule("own school card", lambda u, o: o is None or o.id == u.school_id)
own_partner_card = is_partner & Rule("own organisation", lambda u, o: o is None or o.id == u.partner_id)
own_partner_row = is_partner & Rule(
    "row of own organisation", lambda u, o: o is None or partner_of(o) == u.partner_id
)
own_partner_event = own_partner_row & Rule(
    "for a school it has an agreement with",
    lambda u, o: o is None or school_of(o) in agreed_school_ids(u),
)
event_in_draft = Rule("event is a draft", lambda u, o: o is None or o.state == "draft")
own_account = Rule("own account", lambda u, o: o is not None and o.id == u.id)

_school_area = {
    "view": (is_admin | is_coordinator | is_school) & sees_row,
    "create": is_admin | own_school_row,
    "edit": is_admin | own_school_row,
    "delete": is_admin | own_school_row,
}
_catalog_area = {
    "view": is_signed_in,
    "create": is_admin,
    "edit": is_admin,
    "delete": is_admin,
}

PERMISSIONS: dict[str, dict[str, Rule]] = {
    "home": {"view": is_signed_in},
    "calendar": {"view": is_signed_in},
    "plan": {"view": is_signed_in, "export": is_signed_in, "import": is_admin | is_school},
    "dashboard": {"view": is_admin | is_coordinator | is_school},
    "coverage": {"view": is_admin | is_coordinator | is_school},
    "calendarfeed": {
        "view": is_signed_in & sees_row,
        **dict.fromkeys(
            ("create", "edit", "delete"), is_admin | is_coordinator | own_school_row | own_partner_row
        ),
    },
    "school": {
        "view": is_signed_in & sees_row,
        "create": is_admin,
        "edit": is_admin | own_school_card,
        "delete": is_admin,
    },
    "partner": {
        "view": is_signed_in & sees_row,
        "create": is_admin | is_school,
        "edit": is_admin | own_partner_card,
        "delete": is_admin,
    },
    "partnerresource": {
        "view": is_signed_in & sees_row,
        "create": is_admin | own_partner_row,
        "edit": is_admin | own_partner_row,
        "delete": is_admin | own_partner_row,
    },
    "programme": _school_area,
    "agreement": _school_area,
    "seminar": _school_area,
    "limitation": _school_area,
    "eventexecution": _school_area,
    "event": {
        "view": is_signed_in & sees_row,
        "create": is_admin | own_school_row | own_partner_event,
        "edit": is_admin | own_school_row | (own_partner_event & event_in_draft),
        "delete": is_admin | own_school_row | (own_partner_event & event_in_draft),
        # Workflow (coop/workflow.py): the partner proposes, the school decides.
        "submit": is_admin | own_partner_event,
        "review": is_admin | own_school_row,
    },
    "remark": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        "create": is_admin | is_coordinator,
        "edit": is_admin | is_coordinator,
        "delete": is_admin,
        "answer": is_admin | own_school_row,  # the school answers and marks resolved
        "close": is_admin | is_coordinator,
    },
    "history": {"view": (is_admin | is_coordinator | is_school) & sees_row},
    "signin": {"view": is_admin},  # the sign-in log: written by coop.auth only
    "storedfile": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        "create": is_admin | own_school_row,
        "delete": is_admin | own_school_row,
    },
    "trash": {"view": is_admin | is_school, "restore": is_admin | is_school, "purge": is_admin},
    "review": {"view": is_admin | is_school},
    "user": {
        "view": is_admin | own_account,
        "create": is_admin,
        "edit": is_admin,
        "delete": is_admin,
    },
    **{c.__name__.lower(): _catalog_area for c in m.CATALOGS},
}


def permission_name(model: type, action: str) -> str:
    return f"{model.__name__.lower()}.{action}"


def can(user: Any, permission: str, obj: Any = None) -> bool:
    """May user do permission ("event.edit") on obj, or on the model when obj is None?"""
    area, _, action = permission.partition(".")
    rule = PERMISSIONS.get(area, {}).get(action)
    return rule is not None and rule(user, obj)


def can_on(user: Any, action: str, model: type, obj: Any = None) -> bool:
    return can(user, permission_name(model, action), obj)


# --- owner fields on create and edit ---------------------------------------------------


def assign_owner(user: Any, obj: Any) -> None:
    """Force the tenant columns from the user, never from what a form posted."""
    role = role_of(user)
    if role == SCHOOL and hasattr(obj, "school_id") and not isinstance(obj, m.User):
        obj.school, obj.school_id = user.school, user.school_id
    if role == PARTNER and isinstance(obj, m.Event | m.PartnerResource):
        obj.partner, obj.partner_id = user.partner, user.partner_id
    if isinstance(obj, m.EventExecution) and obj.event is not None:
        obj.school_id = obj.event.school_id
