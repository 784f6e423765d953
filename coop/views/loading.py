"""How the admin views read rows at regional scale, always under the access policy.

A list counts its rows only up to a cap; relations come with the rows that show
them (a JOIN for a to-one, one SELECT … IN for a collection); the plain selects of
a form are filled by one statement; relations to tables that grow with the region
are ajax look-ups, scoped and paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import (
    FilterEqual,
    FilterLike,
    FilterNotLike,
    IntEqualFilter,
)
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import exists, func, inspect, literal, select, union_all
from sqlalchemy.orm import RelationshipProperty, joinedload, selectinload

from .. import access, labels, search
from .. import models as m
from ..extensions import db
from ..lookup import parse_id
from ..request_cache import request_cache
from .display import FilterConverter

# A filter on partners or schools offers a list of them when there are at most this many
# (a school's own partners, its own school); beyond (a region's 3 000 partners or 1 000
# schools for the coordinator), a box to type a name in: a list that long weighs more than
# the page it filters, and is read for every list page. The catalogs are always listed.
OPTIONS_CAP = 200
# A list counts its rows up to this many (and past the page shown); beyond, it says
# «more than 10 000» instead of counting a million rows on every page.
COUNT_CAP = 10_000
# A search's hits are counted up to fewer: nobody pages through a thousand of them, and
# each one counted is a row whose index entry is checked.
SEARCH_COUNT_CAP = 1_000


class CappedCount(int):
    """A row count that stopped at its cap: a lower bound, shown as «more than 10 000»."""

    capped = True
    cap: int

    def __new__(cls, count: int, cap: int | None = None) -> CappedCount:
        counted = super().__new__(cls, count)
        counted.cap = COUNT_CAP if cap is None else cap
        return counted

    def __str__(self) -> str:
        return gettext("more than %(count)s", count=format_decimal(self.cap))

    def __html__(self) -> str:
        return str(self)


def capped_count(
    query: Any, model: type[Any], offset: int, searched: bool = False, from_page: Any = None
) -> int:
    """The rows of a list query, counted up to COUNT_CAP (a search's: SEARCH_COUNT_CAP)
    past the page shown: an exact number for any list a person reads to its end, a lower
    bound for the rest. from_page: a condition holding for the page's rows and those after
    it alone (a list in the order of its ids): the `offset` rows before the page are then
    known, not walked again."""
    cap = SEARCH_COUNT_CAP if searched else COUNT_CAP
    limit = offset + cap + 1
    before = 0 if from_page is None else offset
    if from_page is not None:
        query = query.filter(from_page)
    ids = query.with_entities(model.id).order_by(None).limit(limit - before).subquery()
    count = before + db.session.execute(select(func.count()).select_from(ids)).scalar_one()
    return CappedCount(count, cap) if count >= limit else count


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


# A school picker lists the schools while the user sees at most this many (a school its
# own, a partner those it has agreements with); past it (the coordinator's 1,000 or 10,000)
# it is a look-up. The form reads one row more than this to tell.
LIST_UP_TO = 50

# Relation fields whose tables grow with the region are look-ups (a search box asking
# /ajax/lookup/), not selects listing every row; schools are listed while few (LIST_UP_TO),
# the catalogs always. By field name, for form_ajax_refs.
_PARTNER_LOOKUP = {"fields": ["name", "short_name"], "page_size": 20}
AJAX_LOOKUPS: dict[str, dict[str, Any]] = {
    "school": {"fields": ["name", "short_name"], "page_size": 20, "list_up_to": LIST_UP_TO},
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


@dataclass(frozen=True, eq=False)
class RowOptions:
    """A list filter's options: (id, label) of the rows of model the user sees, read as
    two columns, not ORM rows. With named_by (a foreign key column, or a relation through
    an association table), only the rows that a row the user sees of its model names: a
    school's partner filter offers the partners of its own plan, not the whole directory.
    A view's filters read all theirs in one statement (preload_options)."""

    model: type[Any]
    named_by: Any = None
    # Past OPTIONS_CAP rows, a box to type a name in instead of a list (the rows of a table
    # that grows with the region: partners, the schools). Catalogs are always listed.
    capped: bool = False

    def statement(self, tag: int) -> Any:
        model = self.model
        short = getattr(model, "short_name", None)
        label = model.name if short is None else func.coalesce(func.nullif(short, ""), model.name)
        order = getattr(model, "sort_order", literal(0))
        stmt = select(
            literal(tag).label("tag"), model.id.label("id"), label.label("label"), order.label("sort")
        ).where(access.criteria(current_user, model))
        if self.named_by is not None:
            stmt = stmt.where(self._named(model))
        if not self.capped:
            return stmt
        # One more than the cap tells a long list (each part a subquery: SQLite allows no
        # LIMIT inside a UNION otherwise).
        capped = stmt.limit(OPTIONS_CAP + 1).subquery()
        return select(*capped.c)

    def name_columns(self) -> list[Any]:
        """The columns a typed name is looked for in (instead of a chosen row)."""
        return [getattr(self.model, name) for name in ("name", "short_name") if hasattr(self.model, name)]

    def _named(self, model: type[Any]) -> Any:
        naming = self.named_by.class_
        seen = access.criteria(current_user, naming)
        link = getattr(self.named_by.property, "secondary", None)
        if link is None:
            if access.scope_of(current_user, naming) is access.ALL:
                # All rows seen (the coordinator): a probe per row of model, stopping at the cap.
                return exists().where(self.named_by == model.id, seen)
            # A tenant's rows: the ids they name, read once from them (an index on the tenant),
            # not a probe per row of model through all the region's rows.
            return model.id.in_(select(self.named_by).where(seen))
        to_model, to_naming = (
            next(c for c in link.c if c.references(target.__table__.c.id)) for target in (model, naming)
        )
        return exists().where(to_model == model.id, to_naming == naming.id, seen)

    def __call__(self) -> list[tuple[int, str]] | None:
        """The options; None: too many to list (a name is typed instead)."""
        # Flask-Admin also asks at start-up, outside any request: no options then.
        if not has_request_context():
            return []
        _read_options([self])  # nothing to read when the view's filters were preloaded
        return request_cache("_coop_filter_options")[self]


def preload_options(filters: Any) -> None:
    """Read the options of these filters (those with RowOptions) for this request, in one
    statement: each source's rows tagged and unioned. Catalogs in their own order, the rest
    by name."""
    _read_options(
        [options for item in filters if isinstance(options := getattr(item, "options", None), RowOptions)]
    )


def _read_options(wanted: list[RowOptions]) -> None:
    cache = request_cache("_coop_filter_options")
    sources = [options for options in wanted if options not in cache]
    if not sources:
        return
    found: dict[int, list[tuple[int, str, int]]] = {tag: [] for tag in range(len(sources))}
    parts = [source.statement(tag) for tag, source in enumerate(sources)]
    for tag, row_id, label, sort in db.session.execute(union_all(*parts)):
        found[tag].append((row_id, label, sort))
    for tag, source in enumerate(sources):
        rows = sorted(found[tag], key=lambda row: (row[2], row[1].casefold(), row[0]))
        listed = [(row_id, label) for row_id, label, _sort in rows]
        cache[source] = None if source.capped and len(listed) > OPTIONS_CAP else listed


def _target(column: Any) -> type[Any]:
    """The model a foreign key column refers to (by the relation that uses it)."""
    for relation in inspect(column.class_).relationships:
        if not relation.uselist and set(relation.local_columns) == {column.property.columns[0]}:
            return relation.mapper.class_
    raise ValueError(f"{column} is the key of no relation")


class RowFilter(FilterEqual):
    """A list filter on a relation: the row chosen from the options (its id), or, where the
    related rows are too many to list, any whose name holds the words typed (folded as the
    search is, coop/search.py)."""

    options: RowOptions

    def clean(self, value: str) -> str:
        return value.strip()[:200]

    def validate(self, value: str) -> bool:
        return bool(self.clean(value))

    def related(self, value: str) -> Any:
        """A condition on the related model: the row with this id, or those named so."""
        target = self.options.model
        row_id = parse_id(value)
        if row_id is not None:
            return target.id == row_id
        columns = self.options.name_columns()
        return search.condition(target, value, columns, head_only=True)

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        column = self.get_column(alias)
        row_id = parse_id(value)
        if row_id is not None:
            return query.filter(column == row_id)
        target = self.options.model
        return query.filter(column.in_(select(target.id).where(self.related(value))))


def relation_filter(column: Any) -> IntEqualFilter:
    """A list filter on a foreign key to a small table (the schools, a catalog), picking one
    of its rows the user sees. Named as the model names the column (its relation's label);
    an IntEqualFilter, as the dashboard's drill-down links look it up."""
    options = RowOptions(_target(column))
    return IntEqualFilter(column, labels.lazy_label(column.class_, column.key), options=options)


class LinkedFilter(RowFilter):
    """A list filter on a relation through an association table (a seminar's partners):
    the rows linked to the chosen row, by an EXISTS (no join: the base view's
    handle_filter leaves it alone); options as used_filter's."""

    def __init__(self, relation: Any) -> None:
        options = RowOptions(relation.property.mapper.class_, named_by=relation, capped=True)
        super().__init__(relation, labels.lazy_label(relation.class_, relation.key), options=options)

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(self.column.any(self.related(value)))


class SchoolFilter(RowFilter):
    """A list filter "School": one of the schools the user sees (the drill-down links name
    it by id), or, past OPTIONS_CAP of them (the coordinator's region), those named so."""


def school_filter(column: Any) -> SchoolFilter:
    options = RowOptions(_target(column), capped=True)
    return SchoolFilter(column, labels.lazy_label(column.class_, column.key), options=options)


def used_filter(column: Any) -> RowFilter:
    """A list filter on a foreign key to a table that grows with the region (partners),
    offering only the related rows that rows of the list the user sees refer to (a school's
    partner filter: the partners of its own plan), or a box for a name past OPTIONS_CAP."""
    options = RowOptions(_target(column), named_by=column, capped=True)
    return RowFilter(column, labels.lazy_label(column.class_, column.key), options=options)


class FoldedLike(FilterLike):
    """«contains», folded as the search box is (coop/search.py)."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(search.matches(self.get_column(alias), value))


class FoldedNotLike(FilterNotLike):
    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(~search.matches(self.get_column(alias), value))


class FoldingFilterConverter(FilterConverter):
    """The site's filters: dates read as shown (display.py), text folded as the search box does."""

    strings = tuple(
        {FilterLike: FoldedLike, FilterNotLike: FoldedNotLike}.get(kind, kind)
        for kind in FilterConverter.strings
    )


def load_choices(
    models: list[type[Any]], up_to: dict[type[Any], int] | None = None
) -> dict[type[Any], list[tuple[int, str]]]:
    """(id, label) of every row the user may see of each model, for the plain selects of a
    form (row_fields.py), in one statement: each table's ids and labels (its sql_label)
    tagged and unioned. Catalogs in their own order, the rest by label. For a model in
    up_to, at most one row more than its number: more rows than that are a look-up's."""
    parts = []
    for tag, model in enumerate(models):
        stmt = select(
            literal(tag).label("tag"),
            model.id.label("id"),
            model.sql_label().label("label"),
            getattr(model, "sort_order", literal(0)).label("sort"),
        ).where(access.criteria(current_user, model))
        if up_to and model in up_to:
            # A subquery: SQLite allows no LIMIT inside a UNION otherwise.
            capped = stmt.limit(up_to[model] + 1).subquery()
            stmt = select(*capped.c)
        parts.append(stmt)
    found: dict[int, list[tuple[int, str, int]]] = {tag: [] for tag in range(len(models))}
    for tag, row_id, label, sort in db.session.execute(union_all(*parts)):
        found[tag].append((row_id, label, sort))
    return {
        model: [
            (row_id, label) for row_id, label, _sort in sorted(found[tag], key=lambda r: (r[2], r[1], r[0]))
        ]
        for tag, model in enumerate(models)
    }


class IdCheckingAjaxLoader(QueryAjaxModelLoader):
    """Flask-Admin's look-up of a relation field, through the policy: only rows the user
    may see (access.scope, and the ORM's tenancy under it), a non-numeric id answered
    with nothing (PostgreSQL would refuse to compare it with an integer column), at most
    a page of rows per request in a stable order, each with what its label needs."""

    def __init__(self, name: str, session: Any, model: type[Any], **options: Any) -> None:
        # A look-up narrowed to the row's school (ajax_lookups(narrow_by="school")).
        narrow_by = options.pop("narrow_by", None)
        # Listed in a select while the user sees at most this many rows (ListOrLookupField).
        self.list_up_to: int | None = options.pop("list_up_to", None)
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
        """A page of the rows whose names match term, as the lists' search matches
        (coop/search.py), best first; no term: the first rows."""
        limit = max(min(limit or self.page_size, self.page_size), 1)
        query, relevance = search.apply(
            self.get_query(), self.model, term or "", self._cached_fields, head_only=True
        )
        offset = max(offset or 0, 0)
        if relevance is None:
            return query.order_by(self.order_by).offset(offset).limit(limit).all()
        page = search.page_of(query, relevance, offset, limit)
        return search.in_page(self.get_query(), self.model.id, page).all()

    def _narrowed(self, query: Any) -> Any:
        """Only the chosen school's rows, when the look-up asks with ?school=ID (a
        search; a posted id is checked by the form's validators instead)."""
        if self.narrow_column is None or not has_request_context():
            return query
        if not (request.endpoint or "").endswith(".ajax_lookup") or self.narrow_by not in request.args:
            return query
        chosen = parse_id(request.args.get(self.narrow_by, ""))
        return query.filter(self.narrow_column == chosen) if chosen is not None else query
