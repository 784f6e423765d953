"""Text search: one folding rule, applied alike to the term in Python and to the column in SQL.

Folding lower-cases the text and reads ё as е, so «КОНКУРС», «Конкурс» and «конкурс»
find the same rows, and «елка» finds «Ёлка». SQLite's LIKE and lower() fold ASCII
only, and PostgreSQL's lower() follows the database's LC_CTYPE (under "C" it folds
ASCII only), so the fold is spelled out per database:

* SQLite: the deterministic function ``coop_fold`` (this module's ``fold_text``),
  registered on every connection (``register_sqlite``, from coop/extensions.py); a call
  into Python per row, so a search that reads a region's 300 000 lines whole takes
  about 0.7 s where LIKE took 0.05 s (an FTS index is the remedy at that size);
* PostgreSQL: ``replace(lower(column), 'ё', 'е')`` when the database's lower() folds
  Cyrillic (checked once per engine, ``check_postgresql``); otherwise the Russian
  capitals are translated first. (A translate() of the whole alphabet would need no
  check, but it is sixteen times slower than ILIKE over a region's 300 000 plan lines.)

Every search writes ``fold(column).contains(fold_text(term), autoescape=True)``
through ``matches`` / ``search_condition``: a single expression per column, which
an expression or trigram index on ``fold(column)`` can serve.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, Unicode, and_, cast, event, false, or_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "coop_fold"
_RUSSIAN_CAPITALS = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
# Set on an engine's dialect once its database has answered (check_postgresql).
_LOWER_FOLDS_CYRILLIC = "coop_lower_folds_cyrillic"


def fold_text(text: str) -> str:
    """text folded: in lower case, ё as е."""
    return text.lower().replace("ё", "е")


def _fold_value(value: Any) -> Any:
    # SQLite hands over what the column holds: text, a number, NULL.
    return None if value is None else fold_text(str(value))


def register_sqlite(dbapi_connection: Any) -> None:
    """Make ``coop_fold`` known to a new SQLite connection (deterministic: usable in an index)."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, _fold_value, deterministic=True)


@event.listens_for(Engine, "engine_connect")
def check_postgresql(connection: Connection) -> None:
    """Ask a PostgreSQL database once whether its lower() folds Cyrillic (its LC_CTYPE)."""
    dialect = connection.dialect
    if dialect.name == "postgresql" and not hasattr(dialect, _LOWER_FOLDS_CYRILLIC):
        # On the driver's connection, ended at once: the caller's transaction is yet to begin.
        raw = connection.connection
        cursor = raw.cursor()
        try:
            cursor.execute("SELECT lower('ЁЯ')")
            answer = cursor.fetchone()
        finally:
            cursor.close()
            raw.rollback()
        setattr(dialect, _LOWER_FOLDS_CYRILLIC, answer is not None and answer[0] == "ёя")


class fold(FunctionElement[str]):  # noqa: N801 (an SQL function, named as one)
    """fold(column): the column's text folded as fold_text folds a term, in SQL."""

    type = String()
    inherit_cache = True
    name = "fold"


@compiles(fold)
def _fold_by_lower(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    # Literals, not parameters: the expression stays the same text an index is built on.
    text = compiler.process(element.clauses, **kw)
    if not getattr(compiler.dialect, _LOWER_FOLDS_CYRILLIC, False):
        capitals = _RUSSIAN_CAPITALS
        text = f"translate({text}, '{capitals}', '{capitals.lower()}')"
    return f"replace(lower({text}), 'ё', 'е')"


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
