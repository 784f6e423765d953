"""Text search: one folding rule, applied alike to the term in Python and to the column in SQL.

Folding lower-cases the Latin and Russian letters and reads ё as е, so «КОНКУРС»,
«Конкурс» and «конкурс» find the same rows, and «елка» finds «Ёлка». Neither
database folds Cyrillic by itself everywhere (SQLite's LIKE and lower() fold ASCII
only; PostgreSQL's follow the database's LC_CTYPE, which under "C" folds ASCII only),
so the fold is spelled out:

* SQLite: the deterministic function ``coop_fold`` (this module's ``fold_text``),
  registered on every connection (``register_sqlite``, from coop/extensions.py);
* PostgreSQL (and anything else): ``translate(column, 'AB…Яё', 'ab…яе')``, the same
  table as a plain, immutable expression, whatever the locale.

Every search writes ``fold(column).contains(fold_text(term), autoescape=True)``
through ``matches`` / ``search_condition``: a single expression per column, which
an expression or trigram index on ``fold(column)`` can serve.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, Unicode, and_, cast, false, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RUSSIAN = "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
# What folds, and into what: each character of _FROM becomes the one under it in _TO.
_FROM = _LATIN + _RUSSIAN + "Ёё"
_TO = _LATIN.lower() + _RUSSIAN.lower() + "ее"
_TABLE = str.maketrans(_FROM, _TO)

SQLITE_FUNCTION = "coop_fold"


def fold_text(text: str) -> str:
    """text folded: Latin and Russian letters in lower case, ё as е."""
    return text.translate(_TABLE)


def _fold_value(value: Any) -> Any:
    # SQLite hands over what the column holds: text, a number, NULL.
    return None if value is None else fold_text(str(value))


def register_sqlite(dbapi_connection: Any) -> None:
    """Make ``coop_fold`` known to a new SQLite connection (deterministic: usable in an index)."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, _fold_value, deterministic=True)


class fold(FunctionElement[str]):  # noqa: N801 (an SQL function, named as one)
    """fold(column): the column's text folded as fold_text folds a term, in SQL."""

    type = String()
    inherit_cache = True
    name = "fold"


@compiles(fold)
def _fold_by_translate(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    # Literals, not parameters: the expression stays the same text an index is built on.
    return f"translate({compiler.process(element.clauses, **kw)}, '{_FROM}', '{_TO}')"


@compiles(fold, "sqlite")
def _fold_by_function(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


def _text_of(column: Any) -> Any:
    return column if isinstance(getattr(column, "type", None), String) else cast(column, Unicode)


def matches(column: Any, term: str) -> ColumnElement[bool]:
    """The column holds term, folded: % and _ in the term are plain characters.

    As in Flask-Admin's search box, «^term» asks for the text to start with term and
    «=term» for the whole text to be term."""
    folded = fold(_text_of(column))
    if term.startswith("^") and len(term) > 1:
        return folded.startswith(fold_text(term[1:]), autoescape=True)
    if term.startswith("=") and len(term) > 1:
        return folded == fold_text(term[1:])
    return folded.contains(fold_text(term), autoescape=True)


def search_condition(columns: Iterable[Any], text: str) -> ColumnElement[bool] | None:
    """Rows where every word of text is in one of columns; None: nothing to search for."""
    columns = list(columns)
    terms = text.split()
    if not terms:
        return None
    if not columns:
        return false()
    return and_(*(or_(*(matches(column, term) for column in columns)) for term in terms))
