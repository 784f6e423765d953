"""How the admin views read rows at regional scale, always under the access policy.

A list counts its rows only up to a cap; relations come with the rows that show
them (a JOIN for a to-one, one SELECT … IN for a collection); the plain selects of
a form are filled by one statement; relations to tables that grow with the region
are ajax look-ups, scoped and paged.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import RelationshipProperty, joinedload, selectinload

from .. import access, labels
from .. import models as m
from ..extensions import db
from ..lookup import parse_id

# A list counts its rows up to this many (and past the page shown); beyond, it says
# «more than 10 000» instead of counting a million rows on every page.
COUNT_CAP = 10_000


class CappedCount(int):
    """A row count that stopped at its cap: a lower bound, shown as «more than 10 000»."""

    capped = True

    def __str__(self) -> str:
        return gettext("more than %(count)s", count=format_decimal(COUNT_CAP))

    def __html__(self) -> str:
        return str(self)


def capped_count(query: Any, model: type[Any], offset: int) -> int:
    """The rows of a list query, counted up to COUNT_CAP past the page shown: an exact
    number for any list a person reads to its end, a lower bound for the rest."""
    limit = offset + COUNT_CAP + 1
    ids = query.with_entities(model.id).order_by(None).limit(limit).subquery()
    count = db.session.execute(select(func.count()).select_from(ids)).scalar_one()
    return CappedCount(count) if count >= limit else count


def relationship_of(model: type[Any], name: str) -> RelationshipProperty | None:
    prop = getattr(getattr(model, name, None), "property", None)
    return prop if isinstance(prop, RelationshipProperty) else None


def eager_load(attr: Any) -> Any:
    """How to load a relation with its rows, with what the related rows' labels need:
    a JOIN for a to-one, a second SELECT … IN for a collection. (A JOIN to a collection
    would multiply a page of rows, and SQLite builds the whole association table for it.)"""
    prop = attr.property
    load = selectinload(attr) if prop.uselist else joinedload(attr)
    labels = m.label_loads(prop.mapper.class_)
    return load.options(*labels) if labels else load


# Relation fields whose tables grow with the region are look-ups (a search box asking
# /ajax/lookup/), not selects listing every row; schools (the fixed set of tenants)
# and the catalogs stay plain selects. By field name, for form_ajax_refs.
_PARTNER_LOOKUP = {"fields": ["name", "short_name"], "page_size": 20}
AJAX_LOOKUPS: dict[str, dict[str, Any]] = {
    "partner": _PARTNER_LOOKUP,
    "partners": _PARTNER_LOOKUP,
    # A school's own programmes and seminars are few: the list opens without typing.
    "programme": {"fields": ["title"], "page_size": 20, "minimum_input_length": 0},
    "seminar": {"fields": ["topic"], "page_size": 20, "minimum_input_length": 0},
    "agreement": {"fields": ["number", "subject"], "page_size": 20},
    "event": {"fields": ["title"], "page_size": 20},
    "resource": {"fields": ["title"], "page_size": 20},
}


# Flask-Admin's own placeholder reads «choose a model».
LOOKUP_PLACEHOLDER = _l("Choose, or type to search")


def ajax_lookups(*names: str, narrow_by: str | None = None) -> dict[str, dict[str, Any]]:
    """form_ajax_refs for these relation fields. narrow_by names the form's field
    ("school") whose choice the look-ups keep to: coop/static/narrow-lookups.js sends
    it along (?school=ID), and the loader offers only that school's rows."""
    extra = {"narrow_by": narrow_by} if narrow_by else {}
    return {name: {"placeholder": LOOKUP_PLACEHOLDER, **AJAX_LOOKUPS[name], **extra} for name in names}


def narrowing_widget_args(*names: str, by: str) -> dict[str, dict[str, str]]:
    """form_widget_args marking these look-ups for coop/static/narrow-lookups.js."""
    return {name: {"data-narrow-by": by} for name in names}


def school_options() -> list[tuple[int, str]]:
    """The schools the user sees as (id, name), for a filter: two columns of each, not ORM rows."""
    # Flask-Admin also asks at start-up, outside any request: no options then.
    if not has_request_context():
        return []
    stmt = (
        select(m.School.id, m.School.short_name, m.School.name)
        .where(access.criteria(current_user, m.School))
        .order_by(m.School.short_name)
    )
    return [(school_id, short or name) for school_id, short, name in db.session.execute(stmt)]


def school_filter(column: Any) -> IntEqualFilter:
    """A list filter "School" picking one of the schools the user sees: the drill-down links use it.
    Named as the model names the column (its relation's label)."""
    return IntEqualFilter(column, labels.lazy_label(column.class_, column.key), options=school_options)


def load_choices(models: list[type[Any]]) -> dict[type[Any], list[Any]]:
    """Every row the user may see of each model, for the plain selects of a form, in one
    statement: the ids of all the tables tagged and unioned, each table joined back."""
    parts = [
        select(literal(tag).label("tag"), model.id.label("id")).where(access.criteria(current_user, model))
        for tag, model in enumerate(models)
    ]
    tagged = union_all(*parts).subquery()
    stmt: Any = select(*models).select_from(tagged)
    for tag, model in enumerate(models):
        stmt = stmt.outerjoin(model, (tagged.c.tag == tag) & (model.id == tagged.c.id))
    found: dict[type[Any], list[Any]] = {model: [] for model in models}
    for row in db.session.execute(stmt):
        for model, obj in zip(models, row, strict=True):
            if obj is not None:
                found[model].append(obj)
    for rows in found.values():  # catalogs in their own order, the rest by name
        rows.sort(key=lambda obj: (getattr(obj, "sort_order", 0), str(obj), obj.id))
    return found


class IdCheckingAjaxLoader(QueryAjaxModelLoader):
    """Flask-Admin's look-up of a relation field, through the policy: only rows the user
    may see (access.scope, and the ORM's tenancy under it), a non-numeric id answered
    with nothing (PostgreSQL would refuse to compare it with an integer column), at most
    a page of rows per request in a stable order, each with what its label needs."""

    def __init__(self, name: str, session: Any, model: type[Any], **options: Any) -> None:
        # A look-up narrowed to the row's school (ajax_lookups(narrow_by="school")).
        narrow_by = options.pop("narrow_by", None)
        self.narrow_column = getattr(model, f"{narrow_by}_id", None) if narrow_by else None
        self.narrow_by = narrow_by
        super().__init__(name, session, model, **options)
        # By id: the scan stops at the first matches, where an order by name sorts them all.
        order_by = options.get("order_by")
        self.order_by = order_by if order_by is not None else model.id
        self.page_size = max(int(options.get("page_size", DEFAULT_PAGE_SIZE)), DEFAULT_PAGE_SIZE)

    def get_query(self) -> Any:
        query = access.scope(db.session.query(self.model), current_user, self.model)
        return self._narrowed(query).options(*m.label_loads(self.model))

    def get_one(self, pk: Any) -> Any:
        row_id = parse_id(pk)
        if row_id is None:
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(self.model.id == row_id).one_or_none()

    def get_list(self, term: str | None, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE) -> Any:
        limit = min(limit or self.page_size, self.page_size)
        return super().get_list(term or "", max(offset or 0, 0), max(limit, 1))

    def _narrowed(self, query: Any) -> Any:
        """Only the chosen school's rows, when the look-up asks with ?school=ID (a
        search; a posted id is checked by the form's validators instead)."""
        if self.narrow_column is None or not has_request_context():
            return query
        if not (request.endpoint or "").endswith(".ajax_lookup") or self.narrow_by not in request.args:
            return query
        chosen = parse_id(request.args.get(self.narrow_by, ""))
        return query.filter(self.narrow_column == chosen) if chosen is not None else query
