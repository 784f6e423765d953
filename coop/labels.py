"""What a field is called and what its codes mean, read from the model.

Each column and relation carries its label (and a coded column its choices) in
``info``, where it is declared in coop/models.py:
``mapped_column(..., info={"label": _l("State"), "choices": EVENT_STATES})``.
The admin views (lists, filters, forms, export), the history and the documents
all read them here, so a field is named once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, has_app_context
from flask_babel import Babel
from sqlalchemy import Column, inspect
from sqlalchemy.orm import ColumnProperty, Mapper, RelationshipProperty

from .extensions import Model

# Documents written outside any app (tests, scripts) are Russian, as the site is by default.
DOCUMENT_LOCALE = "ru"


def info(model: type, field: str) -> dict[str, Any]:
    """The info of a column or relation; a foreign key without its own reads its relation's."""
    mapper: Mapper = inspect(model)
    prop = mapper.attrs.get(field)
    if isinstance(prop, ColumnProperty):
        column = prop.columns[0]
        if not isinstance(column, Column):  # an SQL expression (models.User.unread_notifications)
            return prop.info
        if column.info:
            return column.info
        relation = _relation_of_column(mapper, column)
        return relation.info if relation is not None else {}
    if isinstance(prop, RelationshipProperty):
        return prop.info
    return {}


def _relation_of_column(mapper: Mapper, column: Any) -> RelationshipProperty | None:
    for relation in mapper.relationships:
        if not relation.uselist and set(relation.local_columns) == {column}:
            return relation
    return None


def referenced_model(model: type, field: str) -> type | None:
    """The model a foreign-key column (school_id) refers to through its relation; None for another field."""
    mapper: Mapper = inspect(model)
    prop = mapper.attrs.get(field)
    if not isinstance(prop, ColumnProperty):
        return None
    relation = _relation_of_column(mapper, prop.columns[0])
    return relation.mapper.class_ if relation is not None else None


def column_type(model: type, field: str) -> type | None:
    """The SQLAlchemy type class of a column (Date, DateTime, …); None for another field."""
    mapper: Mapper = inspect(model)
    prop = mapper.attrs.get(field)
    return type(prop.columns[0].type) if isinstance(prop, ColumnProperty) else None


def has_label(model: type, field: str) -> bool:
    return "label" in info(model, field)


def label(model: type, field: str) -> str:
    """The field's label in the current language; its name when it has none."""
    return text(lazy_label(model, field))


def lazy_label(model: type, field: str) -> Any:
    """The field's label as declared (lazy: translated when shown); its name when it has none."""
    return info(model, field).get("label", field)


def choices(model: type, field: str) -> dict[str, Any]:
    """The coded column's codes and their (lazy) labels, in order; {} for a free field."""
    return info(model, field).get("choices") or {}


def choice_names(model: type, field: str) -> dict[str, str]:
    """choices with each label translated now, once: for a page that writes them on every
    row (a lazy label asks Flask-Babel again at each use)."""
    return {code: str(label) for code, label in choices(model, field).items()}


def known_choices(model: type, field: str) -> dict[str, Any]:
    """choices, and the codes no longer offered that recorded values (the history) still hold."""
    return {**(info(model, field).get("former_choices") or {}), **choices(model, field)}


def choice_label(model: type, field: str, value: Any) -> str:
    """A code by its label in the current language, a former code's too; any other value as it is."""
    coded = known_choices(model, field)
    if isinstance(value, str) and value in coded:
        return text(coded[value])
    return "" if value is None else str(value)


def labels_of(model: type) -> dict[str, Any]:
    """Every labelled column and relation of the model: field -> lazy label."""
    mapper: Mapper = inspect(model)
    return {prop.key: found for prop in mapper.attrs if (found := info(model, prop.key).get("label"))}


def is_bookkeeping(model: type, field: str) -> bool:
    """A column kept for the site's own sake (version, trash, who and when): no details page shows it."""
    return bool(info(model, field).get("bookkeeping"))


def is_academic_year(model: type, field: str) -> bool:
    """An integer column holding an academic year by its first calendar year: shown «2019/2020»."""
    return bool(info(model, field).get("academic_year"))


def academic_year_fields(model: type) -> list[str]:
    mapper: Mapper = inspect(model)
    return [prop.key for prop in mapper.column_attrs if is_academic_year(model, prop.key)]


def choices_of(model: type) -> dict[str, dict[str, Any]]:
    """Every coded column of the model: field -> its choices."""
    mapper: Mapper = inspect(model)
    return {prop.key: coded for prop in mapper.column_attrs if (coded := choices(model, prop.key))}


def model_of(table: str) -> type | None:
    """The model of a table name (as the history records it)."""
    for mapper in Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def text(value: Any) -> str:
    """A (lazy) label as text: in the request's language, or Russian outside any app."""
    if has_app_context():
        return str(value)
    with _document_app().app_context():
        return str(value)


@cache
def _document_app() -> Flask:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).resolve().parent / "translations")
    Babel(app, default_locale=DOCUMENT_LOCALE)
    return app
