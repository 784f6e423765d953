"""List filters on the fields added in the site, by the kind of their values.

Each kind of coop/added_fields.py names its filter family (Kind.filters); here a family
becomes Flask-Admin filters over the value read out of the record's `extra` as SQL
(a JSON path, cast as the kind wants it). The base view adds them per request, after
the view's own (see SecuredModelView._filters).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_admin.contrib.sqla import filters as sqla
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, literal_column, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from .. import added_fields, formats
from .. import models as m
from ..extensions import db
from .loading import FoldedLike


class _ReadsDate:
    """A date typed as дд.мм.гггг, compared with the ISO text an added date keeps."""

    def clean(self, value: str) -> str:
        for pattern in (formats.DATE, "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(value.strip(), pattern).date().isoformat()
            except ValueError:
                continue
        raise ValueError(value)

    def validate(self, value: str) -> bool:
        try:
            self.clean(value)
        except ValueError:
            return False
        return True


class DateEqual(_ReadsDate, sqla.FilterEqual):
    pass


class DateAfter(_ReadsDate, sqla.FilterGreater):
    def operation(self) -> Any:
        return _l("after")


class DateBefore(_ReadsDate, sqla.FilterSmaller):
    def operation(self) -> Any:
        return _l("before")


class ChoicesContain(sqla.BaseSQLAFilter):
    """A several-of-a-list field holding this choice (among others)."""

    def __init__(self, model: type[Any], key: str, name: Any, options: Any) -> None:
        super().__init__(model.extra, name, options=options)
        self.model, self.key = model, key

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        if db.engine.dialect.name == "postgresql":
            return query.filter(type_coerce(self.model.extra, JSONB)[self.key].contains([value]))
        items = func.json_each(self.model.extra, f'$."{self.key}"').table_valued("value")
        return query.filter(
            exists(select(literal_column("1")).select_from(items).where(items.c.value == value))
        )

    def operation(self) -> Any:
        return _l("contains")


ARG_PREFIX = "x_"  # of an added field's filter in a list's URL: flt0_x_<key>_<n>


def filters_for(model: type[Any], definition: m.FieldDefinition) -> list[Any]:
    """The list filters of one added field of model's records, each with its name in a
    list's URL (url_arg): the field's key and its place among the field's filters, so a
    URL or a saved view keeps its filter when other fields are added or removed (Flask-
    Admin would name it by its place among all the list's filters)."""
    found = _filters_for(model, definition)
    for number, flt in enumerate(found):
        flt.url_arg = f"{ARG_PREFIX}{definition.key}_{number}"
    return found


def _filters_for(model: type[Any], definition: m.FieldDefinition) -> list[Any]:
    value = model.extra[definition.key]
    name = definition.label
    family = added_fields.KINDS[definition.kind].filters
    if family == "number":
        number = added_fields.number_value(model, definition)  # indexed on PostgreSQL
        equal, greater, smaller = (
            (sqla.IntEqualFilter, sqla.IntGreaterFilter, sqla.IntSmallerFilter)
            if definition.kind == "integer"
            else (sqla.FloatEqualFilter, sqla.FloatGreaterFilter, sqla.FloatSmallerFilter)
        )
        return [
            equal(number, name),
            greater(number, name),
            smaller(number, name),
            sqla.FilterEmpty(number, name),
        ]
    if family == "boolean":
        return [sqla.BooleanEqualFilter(value.as_boolean(), name)]
    if family == "date":
        text = value.as_string()
        return [
            DateEqual(text, name),
            DateAfter(text, name),
            DateBefore(text, name),
            sqla.FilterEmpty(text, name),
        ]
    options = [(item, item) for item in added_fields.choices_of(definition)]
    if family == "choice":
        text = value.as_string()
        return [sqla.FilterEqual(text, name, options=options), sqla.FilterEmpty(text, name)]
    if family == "choices":
        return [
            ChoicesContain(model, definition.key, name, options),
            sqla.FilterEmpty(value.as_string(), name),
        ]
    text = value.as_string()
    return [FoldedLike(text, name), sqla.FilterEmpty(text, name)]
