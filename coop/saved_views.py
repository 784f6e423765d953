"""Saved views: a list's state under a name (models.SavedView).

What a list shows is in its URL (Flask-Admin's arguments: ``flt<pos>_<filter>``,
``search``, ``sort``, ``desc``, ``page_size``) plus ``cols``, the columns shown
(the base view cuts its columns by it: views/base.py). A saved view keeps that
state, whitelisted and checked against the list it belongs to, with the sort by
column name (the list's own ``sort`` is a position among the columns shown, which
the shown columns change). Opening it is a redirect to the list's URL with that
state; its export is the list's export with it; a saved view of the events is an
iCalendar feed at a secret URL, read with its owner's rights.

Who sees and writes which saved view is coop/access.py's (``savedview``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from flask import current_app, has_request_context, request, url_for
from flask_admin.contrib.sqla import ModelView
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Select, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import column_property
from sqlalchemy.sql.functions import FunctionElement
from werkzeug.datastructures import MultiDict

from . import access, tokens
from . import models as m
from .extensions import db

COLUMNS_ARG = "cols"  # the list URL's argument: the columns shown, comma-separated
VIEW_ARG = "sv"  # the list URL's argument: the saved view it was opened from
NAME_MAX = 100
QUERY_MAX = 4000  # characters of a list's URL arguments a saved view keeps at most
VALUE_MAX = 500  # characters of one filter's or the search's value
FILTER_ARG = re.compile(r"flt(\d{1,3})_(\w{1,80})")
# The lists whose saved views may be read as an iCalendar feed, and for how long its URL works.
FEED_ENDPOINTS = ("event",)
FEED_LIFETIME = dt.timedelta(days=365)


MENU_LIMIT = 100  # saved views a menu lists at most


class SavedViewError(ValueError):
    """Input a saved view cannot be made of; str() is the message for the user."""


# --- the menu's saved views, read with the user --------------------------------------


class rows_as_json(FunctionElement):  # noqa: N801 (an SQL function)
    """The rows of a subquery's columns as one JSON array of arrays."""

    type = JSON()
    inherit_cache = True


@compiles(rows_as_json, "sqlite")
def _rows_as_json_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(rows_as_json, "postgresql")
def _rows_as_json_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


# The saved views the user's menu lists (access.SAVED_VIEWS_SHOWN, correlated to each
# account), read in the statement that loads the user on every request: the menu and the
# lists' controls cost no statement of their own (the budget is 8 a page).
_menu = (
    select(
        *(m.SavedView.id, m.SavedView.endpoint, m.SavedView.name),
        *(m.SavedView.query, m.SavedView.columns, m.SavedView.user_id),
    )
    .where(m.SavedView.deleted_at.is_(None), access.SAVED_VIEWS_SHOWN.sql(cast(Any, m.User), m.SavedView))
    .correlate_except(m.SavedView)
    .order_by(m.SavedView.endpoint, m.SavedView.name, m.SavedView.id)
    .limit(MENU_LIMIT)
    .subquery()
)
m.User.saved_views_menu = column_property(
    select(rows_as_json(*_menu.c)).scalar_subquery(),
    info={"label": _l("Saved views in the menu")},
)


@dataclass(frozen=True)
class MenuEntry:
    """A saved view as the menu and a list's control read it."""

    id: int
    endpoint: str
    name: str
    query: str
    columns: list[str]
    user_id: int


def menu_entries(user: Any) -> list[MenuEntry]:
    """The saved views the user's menu lists, as read with the user (no statement)."""
    rows = getattr(user, "saved_views_menu", None) or []
    if isinstance(rows, str):
        rows = json.loads(rows)
    return [
        MenuEntry(int(row[0]), str(row[1]), str(row[2]), str(row[3] or ""), _names(row[4]), int(row[5]))
        for row in rows
    ]


def _names(columns: Any) -> list[str]:
    # SQLite's json_array() keeps a JSON column as its text; PostgreSQL's as JSON.
    found = json.loads(columns) if isinstance(columns, str) else columns
    return [str(name) for name in found] if isinstance(found, list) else []


# --- the lists -----------------------------------------------------------------------


def list_view(endpoint: object, user: Any) -> Any:
    """The registered model list at endpoint that the user may open, else None."""
    if not isinstance(endpoint, str):
        return None
    for admin in current_app.extensions.get("admin", ()):
        for view in admin._views:
            if isinstance(view, ModelView) and view.endpoint == endpoint:
                return view if access.can(user, access.permission_name(view.model, "view")) else None
    return None


def columns_of(view: Any) -> list[tuple[str, str]]:
    """The columns the list can show the user (the cut of the request's cols left out):
    (name, label)."""
    return [
        (str(name), str(label))
        for name, label in view.__dict__.get("_all_list_columns", [])
        if _readable(view, name)
    ]


def _readable(view: Any, name: Any) -> bool:
    fields = view.readable_fields()
    return fields is None or name in fields


def chosen(columns: list[Any]) -> list[Any]:
    """Columns (name, label) cut to those the request's cols names, in the list's order;
    all of them when it names none the list has (views/base.py asks this per request)."""
    wanted = request.args.get(COLUMNS_ARG, "") if has_request_context() else ""
    if not wanted:
        return columns
    names = set(wanted.split(","))
    return [column for column in columns if column[0] in names] or columns


# --- the state a saved view keeps ----------------------------------------------------


def normalise_query(view: Any, query: str) -> str:
    """The arguments of a list's URL that a saved view keeps, checked against the list: its
    filters, search, sort (by column name), order and page size; nothing else."""
    if len(query) > QUERY_MAX:
        raise SavedViewError(gettext("The list's state is too long to be saved: remove some filters."))
    args = MultiDict(parse_qsl(query.lstrip("?")))
    wanted = args.get(COLUMNS_ARG, "")
    shown = [name for name, _label in columns_of(view) if not wanted or name in wanted.split(",")]
    shown = shown or [name for name, _label in columns_of(view)]
    filters = getattr(view, "_filter_args", None) or {} if view._filters else {}
    kept = [(key, _kept(view, shown, filters, key, value)) for key, value in args.items(multi=True)]
    return urlencode([(key, value) for key, value in kept if value is not None])


def _kept(view: Any, shown: list[str], filters: dict[str, Any], key: str, value: str) -> str | None:
    """What a saved view keeps of one argument of a list's URL; None: nothing."""
    found = FILTER_ARG.fullmatch(key)
    if found:
        return value[:VALUE_MAX] if found.group(2) in filters else None
    if key == "search":
        return value.strip()[:VALUE_MAX] if value.strip() and view._search_supported else None
    if key == "sort":
        column = shown[int(value)] if value.isdigit() and int(value) < len(shown) else None
        return column if column is not None and _sortable(view, column) else None
    if key == "desc":
        return value if value == "1" else None
    if key == "page_size":
        return value if value.isdigit() and int(value) in (view.page_size_options or ()) else None
    return None


def _sortable(view: Any, name: str) -> bool:
    return name in (getattr(view, "_sortable_columns", None) or {})


def check_columns(view: Any, names: Sequence[str]) -> list[str]:
    """The shown columns asked for, in the list's order; an unknown one is an error.
    None asked for: all of them (an empty list)."""
    known = [name for name, _label in columns_of(view)]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SavedViewError(gettext("The list has no such column: %(name)s.", name=unknown[0][:60]))
    chosen_names = [name for name in known if name in names]
    return [] if len(chosen_names) == len(known) else chosen_names


def check_name(name: object) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise SavedViewError(gettext("Name the view."))
    if len(text) > NAME_MAX:
        raise SavedViewError(gettext("The name is too long: at most %(count)d characters.", count=NAME_MAX))
    return text


def _check_unique(user: Any, endpoint: str, name: str, saved_id: int | None = None) -> None:
    stmt = select(m.SavedView.id).where(
        m.SavedView.user_id == user.id, m.SavedView.endpoint == endpoint, m.SavedView.name == name
    )
    if saved_id is not None:
        stmt = stmt.where(m.SavedView.id != saved_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise SavedViewError(gettext("You already have a view named «%(name)s» in this list.", name=name))


def make(
    user: Any, endpoint: object, name: object, visibility: object, query: object, columns: Sequence[str]
) -> m.SavedView:
    """A new saved view of the user's, checked whole (SavedViewError before anything is
    added to the session)."""
    view = list_view(endpoint, user)
    if view is None:
        raise SavedViewError(gettext("There is no such list."))
    assert isinstance(endpoint, str)
    text = check_name(name)
    if visibility not in access.SHARES.get(access.role_of(user) or "", ()):
        raise SavedViewError(gettext("You cannot show a view to them: choose whom to show it to."))
    _check_unique(user, endpoint, text)
    saved = m.SavedView(
        user_id=user.id,
        endpoint=endpoint,
        name=text,
        query=normalise_query(view, str(query or "")),
        columns=check_columns(view, columns),
        visibility=visibility,
        school_id=user.school_id,
    )
    access.require(user, "savedview.create", saved)
    return saved


def rename(user: Any, saved: m.SavedView, name: object) -> None:
    text = check_name(name)
    _check_unique(user, saved.endpoint, text, saved.id)
    saved.name = text


# --- opening a saved view ------------------------------------------------------------


def list_args(view: Any, saved: m.SavedView | MenuEntry) -> list[tuple[str, str]]:
    """The list URL's arguments that show the saved view: its sort back to the position of
    its column among those it shows (dropped if the column is gone), its columns, its id."""
    shown = [name for name, _label in columns_of(view) if not saved.columns or name in saved.columns]
    args: list[tuple[str, str]] = []
    for key, value in parse_qsl(saved.query):
        if key == "sort":
            if value not in shown:
                continue
            value = str(shown.index(value))
        args.append((key, value))
    if not any(key == "sort" for key, _value in args):
        args = [(key, value) for key, value in args if key != "desc"]
    if saved.columns:
        args.append((COLUMNS_ARG, ",".join(name for name in shown)))
    args.append((VIEW_ARG, str(saved.id)))
    return args


def list_url(view: Any, saved: m.SavedView | MenuEntry) -> str:
    return url_for(f"{view.endpoint}.index_view") + "?" + urlencode(list_args(view, saved))


def export_url(view: Any, saved: m.SavedView, export_type: str) -> str:
    args = [(key, value) for key, value in list_args(view, saved) if key != "page_size"]
    return url_for(f"{view.endpoint}.export", export_type=export_type) + "?" + urlencode(args)


# --- the calendar feed ---------------------------------------------------------------


def issue_feed(saved: m.SavedView) -> str:
    """A new secret for the saved view's feed (the old one stops working); only its hash
    is kept. The caller commits."""
    secret, digest = tokens.new_secret()
    saved.feed_hash, saved.feed_expires_at = digest, m.utcnow() + FEED_LIFETIME
    return secret


def revoke_feed(saved: m.SavedView) -> None:
    saved.feed_hash = saved.feed_expires_at = None


def feed_of(secret: object) -> m.SavedView | None:
    """The saved view of events whose live feed the secret opens (any role, no one signed in)."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        return None
    stmt = select(m.SavedView).where(
        m.SavedView.feed_hash == tokens.digest(secret),
        m.SavedView.feed_expires_at > m.utcnow(),
        m.SavedView.endpoint.in_(FEED_ENDPOINTS),
    )
    return db.session.execute(stmt, execution_options={"skip_scope": True}).scalar_one_or_none()


def matching_ids(view: Any, saved: m.SavedView, reader: Any) -> Select:
    """The ids of the rows of view's model that the saved view's filters and search let
    through, among those the reader sees (as the list would show them to the reader)."""
    query = access.scope(db.session.query(view.model), reader, view.model)
    joins: dict[Any, Any] = {}
    args = MultiDict(parse_qsl(saved.query))
    search = args.get("search")
    if search and view.__dict__.get("_all_search_supported"):
        query, joins, _rank = view._searched(query, joins, search)
    filters = []
    for key, value in args.items(multi=True):
        found = FILTER_ARG.fullmatch(key)
        if found and found.group(2) in (view._filter_args or {}):
            index, flt = view._filter_args[found.group(2)]
            if flt.validate(value):
                filters.append((int(found.group(1)), (index, str(flt.name), value)))
    if filters and view.__dict__.get("_all_filters"):
        ordered = [item for _pos, item in sorted(filters, key=lambda pair: pair[0])]
        query, _count, joins, _joins = view._apply_filters(query, None, joins, {}, ordered)
    ids = query.with_entities(view.model.id).subquery()
    return select(ids.c.id)
