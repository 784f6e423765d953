"""What matches a query, on SQLite and on PostgreSQL: the one home of search.

**Full text** (the tables of ``INDEX``): a row matches when every word of the query begins
a word of the row or the Snowball stem of one, whatever the case, ё or е: «олимпиаду» finds
«Олимпиада» (both stem to «олимпиад»), «конференции» finds «конференция», «экскурс» (a
word being typed) finds «экскурсия», and several words narrow the result. Names (``head``)
weigh more than the other text (``body``) in the order by relevance; a look-up searches
names only.

* PostgreSQL: a stored generated column per table (``search_vector``) under a GIN index,
  ``to_tsvector('russian', …) || to_tsvector('simple', …)`` of the names (weight A) and the
  rest (B): the 'russian' configuration stems, the 'simple' one keeps every word as
  written, stop words («для», «и») too. The database keeps it in step by itself. (Stored,
  not an expression index: checking and ranking 1,857 hits recomputed their vectors, 0.2 s.)
* SQLite: an FTS5 table per searchable table (``<table>_fts``, its rowid the row's id)
  holding each word, folded, and its stem (PyStemmer: the same Snowball algorithm),
  written in the flush that writes the row (``_keep_in_step``): a rolled-back write leaves
  it as it was. ``flask coop rebuild-search`` rebuilds it after writes that bypass the ORM
  (the bench data's bulk insert, a test's restore of the demo rows).

Hits are joined back to the ORM query of the model, so the policy's scope and the trash
(coop/tenancy.py) apply to a search as to any other query.

**Folding LIKE** (``fold``, ``matches``, ``search_condition``) for what has no index: the
tables outside ``INDEX`` (users, history, catalogs), the «contains» filters, and the terms
of a query that hold no word («%») or ask for the start («^Скидка») or the whole text
(«=скидка»). Folding lower-cases the text and reads ё as е. SQLite's LIKE and lower() fold
ASCII only, and PostgreSQL's lower() follows the database's LC_CTYPE (under "C" it folds
ASCII only), so the fold is spelled out per database:

* SQLite: the deterministic function ``coop_fold`` (this module's ``fold_text``),
  registered on every connection (``register_sqlite``);
* PostgreSQL: ``replace(lower(column), 'ё', 'е')`` when the database's lower() folds
  Cyrillic (checked once per engine, ``check_postgresql``); otherwise the Russian
  capitals are translated first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

import Stemmer
from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Unicode,
    and_,
    bindparam,
    case,
    cast,
    column,
    event,
    false,
    func,
    inspect,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from . import access
from . import models as m
from .extensions import db

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


@event.listens_for(Engine, "connect")
def register_sqlite(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Make ``coop_fold`` known to a new SQLite connection (deterministic: usable in an index)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
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


# --- full text ------------------------------------------------------------------------

# A query longer than this, or with more words, is cut (a list's box) or refused with a
# message (the site-wide page).
MAX_QUERY_LENGTH = 200
MAX_WORDS = 10
_WORD = re.compile(r"[^\W_]+")
_RUSSIAN = Stemmer.Stemmer("russian")
_ENGLISH = Stemmer.Stemmer("english")
# The order by relevance: names count this many times the other text (SQLite's bm25;
# PostgreSQL's ts_rank reads the weights A and B).
_HEAD_WEIGHT = 10.0
# The order by relevance ranks the RANKED newest rows of the index that match (bm25 on
# SQLite, ts_rank on PostgreSQL), best first; the older ones come after them, newest first.
# Ranking every hit was most of the search's statement: 20,000 titles hold «экскурсия» at
# 1,000 schools (216,000 at 10,000). A result of up to RANKED rows is ranked whole.
RANKED = 1000
_UNRANKED = "1"  # after every rank: bm25 and -ts_rank are never above 0
# PostgreSQL: each searchable table's tsvector column (generated from the row, stored).
PG_COLUMN = "search_vector"
# The column of a row's values of the fields added in the site: its texts are indexed
# with the other text (body). The index holds every string value of it: the text kinds'
# (added_fields.Kind.text), and the choice kinds' and dates' as written, since
# PostgreSQL's generated column reads the row alone, not the definitions of its fields.
EXTRA = "extra"


@dataclass(frozen=True)
class Indexed:
    """A searchable table: its names (weighed first; a look-up searches these) and its other text."""

    model: type[Any]
    head: tuple[str, ...]
    body: tuple[str, ...]
    label: Any  # the kind's heading on the site-wide search page

    @property
    def fields(self) -> list[str]:
        return [*self.head, *self.body]

    @property
    def fts_table(self) -> str:
        return f"{self.model.__tablename__}_fts"

    @property
    def pg_index(self) -> str:
        return f"ix_{self.model.__tablename__}_search"

    @property
    def has_extra(self) -> bool:
        """Whether the rows have fields added in the site (coop/added_fields.py), whose
        text values the index holds with the other text."""
        return EXTRA in self.model.__table__.c

    @property
    def reads(self) -> list[str]:
        """The columns whose text the index holds: a user searches the whole of it only
        when reading each of them."""
        return [*self.fields, EXTRA] if self.has_extra else self.fields


INDEX = (
    Indexed(
        m.Event,
        ("title",),
        ("section", "description", "timing_text", "responsible_other"),
        _l("Plan lines"),
    ),
    Indexed(m.Partner, ("name", "short_name"), ("city", "description"), _l("Partners")),
    Indexed(m.Agreement, ("number", "subject"), ("responsibilities", "issued_documents"), _l("Agreements")),
    Indexed(m.Programme, ("title",), ("goal", "tasks", "innovation_status"), _l("Programmes")),
    Indexed(m.Seminar, ("topic",), ("decisions", "participants", "minutes", "documents"), _l("Seminars")),
    Indexed(m.Remark, ("text",), ("response",), _l("Remarks")),
    Indexed(m.School, ("name", "short_name"), ("city",), _l("Schools")),
    Indexed(m.PartnerResource, ("title",), ("description",), _l("Partners' resources")),
    Indexed(m.Limitation, ("title",), ("description",), _l("Limitations")),
)
BY_MODEL = {index.model: index for index in INDEX}
# What the site-wide search page lists, in this order.
SITE_WIDE = (m.Event, m.Partner, m.Agreement, m.Programme, m.Seminar, m.Remark)


def fields_of(model: type[Any]) -> list[str]:
    """The fields a search of model's rows reads (a list's column_searchable_list)."""
    return BY_MODEL[model].fields


def words(text: str) -> list[str]:
    """The words of text, folded: letters and digits («5_А» is two words, «5» and «а»)."""
    return _WORD.findall(fold_text(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A folded word's Snowball stem (Russian; English for a Latin word)."""
    return (_ENGLISH if word.isascii() else _RUSSIAN).stemWord(word)


def indexed_text(values: Iterable[Any]) -> str:
    """What SQLite's index holds for these values: each word, folded, and its stem."""
    found: list[str] = []
    for value in values:
        for word in words(str(value)) if value else ():
            found.append(word)
            stemmed = stem(word)
            if stemmed != word:
                found.append(stemmed)
    return " ".join(found)


@dataclass(frozen=True)
class Query:
    """A query as typed, read: words for the index; other terms for the folding LIKE."""

    words: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.terms)


def parse(text: str) -> Query:
    """The query in text, cut to MAX_QUERY_LENGTH characters and MAX_WORDS words. A term
    «^…» (the text starts so) or «=…» (the whole text), or one with no letter or digit,
    goes to the folding LIKE; the words of any other term to the index."""
    found: list[str] = []
    terms: list[str] = []
    for term in text[:MAX_QUERY_LENGTH].split():
        term_words = words(term)
        if (term[0] in "^=" and len(term) > 1) or not term_words:
            terms.append(term)
        else:
            found.extend(word for word in term_words if word not in found)
    return Query(tuple(found[:MAX_WORDS]), tuple(terms[:MAX_WORDS]))


def _dialect() -> str:
    return db.engine.dialect.name


def _pg_text(model: type[Any], names: Iterable[str]) -> Any:
    # Literals, not parameters: the expression is the one the index is built on.
    joined: Any = None
    for name in names:
        part = func.coalesce(getattr(model, name), literal_column("''"))
        joined = part if joined is None else joined.op("||")(literal_column("' '")).op("||")(part)
    return joined


def _pg_vector(value: Any, weight: str) -> Any:
    russian = func.to_tsvector(literal_column("'russian'"), value)
    simple = func.to_tsvector(literal_column("'simple'"), value)
    return func.setweight(russian.op("||")(simple), literal_column(f"'{weight}'"))


def _pg_extra_vector(model: type[Any]) -> Any:
    """The string values of the row's added fields (EXTRA), stemmed and as written, weight B."""
    strings: Any = literal_column("""'["string"]'""")
    value = func.coalesce(getattr(model, EXTRA), literal_column("'{}'::jsonb"))
    russian = func.jsonb_to_tsvector(literal_column("'russian'"), value, strings)
    simple = func.jsonb_to_tsvector(literal_column("'simple'"), value, strings)
    return func.setweight(russian.op("||")(simple), literal_column("'B'"))


def _pg_document(index: Indexed, with_extra: bool = True) -> Any:
    vector = _pg_vector(_pg_text(index.model, index.head), "A")
    if index.body:
        vector = vector.op("||")(_pg_vector(_pg_text(index.model, index.body), "B"))
    if with_extra and index.has_extra:
        vector = vector.op("||")(_pg_extra_vector(index.model))
    return vector


def extra_texts(values: Any) -> list[str]:
    """The string values of a row's added fields (EXTRA), those in lists too: what the
    index holds of them."""
    found: list[str] = []
    for value in (values or {}).values() if isinstance(values, dict) else ():
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, str):
                found.append(item)
    return found


def document(index: Indexed) -> Any:
    """PostgreSQL: the row's tsvector, a stored generated column (PG_COLUMN) under a GIN
    index: read, not recomputed, when a hit is checked and ranked."""
    return literal_column(f"{index.model.__tablename__}.{PG_COLUMN}")


def _pg_query(found: Iterable[str], head_only: bool, any_word: bool = False) -> Any:
    # Each word stemmed by the 'russian' configuration or, a stop word, as written.
    weight = "A" if head_only else ""
    query: Any = None
    for word in found:
        lexeme = bindparam(None, f"'{word}':*{weight}", type_=String)
        either = func.to_tsquery(literal_column("'russian'"), lexeme).op("||")(
            func.to_tsquery(literal_column("'simple'"), lexeme)
        )
        joined = "||" if any_word else "&&"
        query = either.self_group() if query is None else query.op(joined)(either.self_group())
    return query


def _fts_match(found: Iterable[str], head_only: bool, any_word: bool = False) -> str:
    column_filter = "head : " if head_only else ""
    parts = []
    for word in found:
        stemmed = stem(word)
        either = f'"{stemmed}"* OR "{word}"*' if stemmed != word else f'"{word}"*'
        parts.append(f"{column_filter}({either})")
    return (" OR " if any_word else " AND ").join(parts)


@dataclass(frozen=True)
class Relevance:
    """The order of the rows that match a query, best first: the RANKED newest hits of the
    index by score, then the other hits, newest first."""

    score: Any  # bm25 or -ts_rank: the lower, the better
    ranked: ColumnElement[bool]  # the row is among the RANKED newest hits
    unranked: ColumnElement[bool]  # the row is among the others
    id: Any  # the id column of the rows searched

    @property
    def rank(self) -> Any:
        """The score of a ranked hit; the others all come after (_UNRANKED)."""
        return case((self.ranked, self.score), else_=literal_column(_UNRANKED))

    @property
    def order(self) -> tuple[Any, ...]:
        """The ORDER BY of every hit, for a statement that reads them all anyway (a small
        table, a few rows asked for); a list's page reads page_of instead."""
        return self.rank, self.id.desc()


def _fts_hits(
    index: Indexed, found: Sequence[str], head_only: bool, any_word: bool = False
) -> tuple[Any, Relevance]:
    """SQLite: the (id, score) of the rows whose index matches, and their order (see RANKED)."""
    name: Any = literal_column(index.fts_table)
    fts = table(index.fts_table, column("rowid"))
    match = name.op("MATCH")(bindparam(None, _fts_match(found, head_only, any_word), type_=String))
    newest = select(fts.c.rowid).where(match).order_by(fts.c.rowid.desc()).limit(RANKED).subquery()
    oldest_ranked = select(func.min(newest.c.rowid)).scalar_subquery()
    bm25 = func.bm25(name, literal_column(str(_HEAD_WEIGHT)), literal_column("1.0"))
    # bm25 of the ranked hits only: the others need none.
    score = case((fts.c.rowid >= oldest_ranked, bm25), else_=literal_column(_UNRANKED))
    hits = select(fts.c.rowid.label("id"), score.label("score")).where(match).subquery()
    # A range of rowids: FTS5 reads it in the one pass over the index that matches (an IN
    # would run the MATCH again for each id).
    ranked, unranked = hits.c.id >= oldest_ranked, hits.c.id < oldest_ranked
    return hits, Relevance(hits.c.score, ranked, unranked, hits.c.id)


def _pg_relevance(index: Indexed, tsquery: Any) -> Relevance:
    """PostgreSQL: the order of the rows that match tsquery (see RANKED)."""
    table_, document_ = index.model.__table__, document(index)
    # The table, not the model: the newest in the index, whoever may see them (as on SQLite).
    # A common table expression: a page reads it twice (page_of), PostgreSQL walks it once.
    newest = (
        select(table_.c.id).where(document_.op("@@")(tsquery)).order_by(table_.c.id.desc()).limit(RANKED)
    ).cte()
    # Among the newest, by id: the planner then expects RANKED rows at most (with `id >= the
    # oldest of them` it expects a third of the table and starts parallel workers). The
    # others: the older hits, and a name found as typed only (a look-up, see apply).
    ranked = index.model.id.in_(select(newest.c.id))
    return Relevance(-func.ts_rank(document_, tsquery), ranked, ~ranked, index.model.id)


def page_of(query: Any, relevance: Relevance, offset: int, limit: int) -> Any:
    """The ids of one page of query's hits in the order of relevance, as a subquery (id,
    bucket, place) to join the rows to and order them by (bucket, place).

    Two short reads instead of one sort of every hit: the ranked newest hits by score (at
    most RANKED rows, found by walking the ids down), and, past them, the older hits by id
    (an index walk that stops at the page's end). A search of 216,000 hits reads about as
    much as one of 1,000."""
    end = offset + limit
    best = (
        _ids(query.filter(relevance.ranked), relevance.id, literal_column("0"), relevance.score)
        .order_by(relevance.score, relevance.id.desc())
        .limit(end)
        .subquery()
    )
    older = (
        _ids(query.filter(relevance.unranked), relevance.id, literal_column("1"), -relevance.id)
        .order_by(relevance.id.desc())
        .limit(end)
        .subquery()
    )
    both = union_all(select(best), select(older)).subquery()
    return (
        select(both.c.id, both.c.bucket, both.c.place)
        .order_by(both.c.bucket, both.c.place)
        .offset(offset)
        .limit(limit)
        .subquery()
    )


def in_page(rows: Any, id_: Any, page: Any) -> Any:
    """rows (an ORM query or a select) narrowed to a page of page_of, in its order."""
    return rows.join(page, page.c.id == id_).order_by(page.c.bucket, page.c.place)


def _ids(query: Any, id_: Any, bucket: Any, place: Any) -> Any:
    """query's rows as (id, bucket, place), an ORM query or a select."""
    columns = (id_.label("id"), bucket.label("bucket"), place.label("place"))
    if isinstance(query, Select):
        return query.with_only_columns(*columns).order_by(None)
    return query.with_entities(*columns).order_by(None)


def apply(
    query: Any,
    model: type[Any],
    text: str,
    columns: Iterable[Any] = (),
    *,
    head_only: bool = False,
    any_word: bool = False,
) -> tuple[Any, Relevance | None]:
    """query (an ORM query or a select of model's rows) narrowed to the rows that match
    text, and their order by relevance, best first (None: no words for the index).
    columns: what the folding LIKE reads for a table outside INDEX, and for the terms of
    no word (by default the index's fields). any_word: a row matches when it holds any
    word of text, not every one (those holding more come first; the import's partner
    matching, coop/plan_io/importer.py, then scores them)."""
    parsed = parse(text)
    index = BY_MODEL.get(model)
    relevance = None
    if index is None:
        condition = search_condition(columns, text)
        return (query if condition is None else query.filter(condition)), None
    if parsed.words:
        if _dialect() == "sqlite":
            hits, relevance = _fts_hits(index, parsed.words, head_only, any_word)
            query = query.join(hits, hits.c.id == model.id)
        else:
            document_, tsquery = document(index), _pg_query(parsed.words, head_only, any_word)
            matched = document_.op("@@")(tsquery)
            # A name as typed («2019/1»): PostgreSQL's parser keeps it one word.
            if head_only and not any_word:
                as_typed = search_condition([getattr(model, name) for name in index.head], text)
                matched = matched if as_typed is None else matched | as_typed
            query = query.filter(matched)
            relevance = _pg_relevance(index, tsquery)
    if parsed.terms:
        names = index.head if head_only else index.fields
        like_columns = list(columns) or [getattr(model, name) for name in names]
        query = query.filter(search_condition(like_columns, " ".join(parsed.terms)))
    return query, relevance


def condition(
    model: type[Any], text: str, columns: Iterable[Any] = (), *, head_only: bool = False
) -> ColumnElement[bool] | None:
    """The rows of model that match text, as a condition (no order); None: nothing to search for."""
    if not parse(text):
        return None
    matching, _relevance = apply(select(model.id), model, text, columns, head_only=head_only)
    return model.id.in_(matching)


def highlight(value: Any, query: Query) -> Markup:
    """value's text, escaped, with each word that a word of the query matches in <mark>."""
    text_ = "" if value is None else str(value)
    wanted = [(word, stem(word)) for word in query.words]
    parts: list[Any] = []
    last = 0
    for found in _WORD.finditer(text_):
        word = fold_text(found.group())
        word_stem = stem(word)
        if any(word.startswith(s) or word_stem.startswith(s) or word_stem.startswith(w) for w, s in wanted):
            parts += [escape(text_[last : found.start()]), Markup("<mark>"), escape(found.group())]
            parts.append(Markup("</mark>"))
            last = found.end()
    parts.append(escape(text_[last:]))
    return Markup("").join(parts)


# --- keeping the index: SQLite in the flush, PostgreSQL by itself --------------------------


def _changed(obj: Any, names: Iterable[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _body(index: Indexed, values: Any, with_extra: bool = True) -> str:
    """SQLite: the index's other text of a row (values: the row, or its mapping of columns)."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    texts = [get(name) for name in index.body]
    if with_extra and index.has_extra:
        texts.extend(extra_texts(get(EXTRA)))
    return indexed_text(texts)


def _rows(index: Indexed, obj: Any) -> dict[str, Any]:
    return {
        "id": obj.id,
        "head": indexed_text(getattr(obj, name) for name in index.head),
        "body": _body(index, obj),
    }


def _keep_in_step(session: Session, flush_context: Any) -> None:
    """SQLite: the index rows of what this flush wrote, in the flush's transaction."""
    if session.get_bind().dialect.name != "sqlite":
        return
    written: dict[Indexed, list[dict[str, Any]]] = {}
    removed: dict[Indexed, list[dict[str, Any]]] = {}
    for obj in chain(session.new, session.dirty, session.deleted):
        index = BY_MODEL.get(type(obj))
        if index is None:
            continue
        if obj in session.deleted:
            removed.setdefault(index, []).append({"id": obj.id})
        elif obj in session.new or _changed(obj, index.reads):
            written.setdefault(index, []).append(_rows(index, obj))
    if not (written or removed):
        return
    connection = session.connection()
    for index, rows in chain(removed.items(), written.items()):
        connection.execute(text(f"DELETE FROM {index.fts_table} WHERE rowid = :id"), rows)
    for index, rows in written.items():
        connection.execute(
            text(f"INSERT INTO {index.fts_table} (rowid, head, body) VALUES (:id, :head, :body)"), rows
        )


def create(connection: Connection, with_extra: bool = True) -> None:
    """The index's tables (SQLite) or GIN indexes (PostgreSQL), if missing (the migration).
    with_extra: the added fields' texts in it (a migration before their column says False)."""
    for index in INDEX:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {index.fts_table} "
                "USING fts5(head, body, tokenize='unicode61 remove_diacritics 0')"
            )
        else:
            # The expression of the row's own columns, unqualified (a generated column's).
            table_name = index.model.__tablename__
            expression = str(_pg_document(index, with_extra).compile(dialect=postgresql.dialect()))
            expression = expression.replace(f"{table_name}.", "")
            connection.exec_driver_sql(
                f"ALTER TABLE {table_name} ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector "
                f"GENERATED ALWAYS AS ({expression}) STORED"
            )
            connection.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {index.pg_index} ON {table_name} USING gin ({PG_COLUMN})"
            )


def drop(connection: Connection, only_extra: bool = False) -> None:
    """The index gone; only_extra: of the tables with added fields only (migration 0025)."""
    for index in INDEX:
        if only_extra and not index.has_extra:
            continue
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {index.fts_table}")
        else:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index.pg_index}")
            connection.exec_driver_sql(
                f"ALTER TABLE {index.model.__tablename__} DROP COLUMN IF EXISTS {PG_COLUMN}"
            )


def _batches(
    connection: Connection, index: Indexed, with_extra: bool = True, size: int = 5000
) -> Iterator[list[dict[str, Any]]]:
    source = index.model.__table__  # every row, the trash's too: a restored row is found at once
    names = index.reads if with_extra else index.fields
    stmt = select(source.c.id, *(source.c[name] for name in names)).order_by(source.c.id)
    batch: list[dict[str, Any]] = []
    for row in connection.execute(stmt):
        values = row._mapping
        batch.append(
            {
                "id": values["id"],
                "head": indexed_text(values[name] for name in index.head),
                "body": _body(index, dict(values), with_extra),
            }
        )
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def rebuild(connection: Connection, with_extra: bool = True) -> dict[str, int]:
    """The index built again from the rows: SQLite's tables refilled, PostgreSQL's indexes
    reindexed. The rows indexed, by table. with_extra: as create's."""
    create(connection, with_extra)
    counts: dict[str, int] = {}
    for index in INDEX:
        name = index.model.__tablename__
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql(f"REINDEX INDEX {index.pg_index}")
            counts[name] = connection.execute(
                select(func.count()).select_from(index.model.__table__)
            ).scalar_one()
            continue
        connection.exec_driver_sql(f"DELETE FROM {index.fts_table}")
        counts[name] = 0
        for batch in _batches(connection, index, with_extra):
            connection.execute(
                text(f"INSERT INTO {index.fts_table} (rowid, head, body) VALUES (:id, :head, :body)"), batch
            )
            counts[name] += len(batch)
    return counts


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_flush", _keep_in_step):
        event.listen(Session, "after_flush", _keep_in_step)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For Alembic's comparison of models and database: the index is no model's (its FTS5
    tables and their shadow tables, PostgreSQL's tsvector columns and their GIN indexes); nor
    are the indexes of the added number fields' values (made and dropped with their
    definitions: coop/added_fields.py, sync_index)."""
    from .added_fields import is_field_index  # imported here: a cycle at import time otherwise

    if type_ == "index" and is_field_index(name):
        return False
    if type_ == "column" and name == PG_COLUMN:
        return False
    if type_ == "table" and name and any(name.startswith(index.fts_table) for index in INDEX):
        return False
    return not (type_ == "index" and name in {index.pg_index for index in INDEX})


# --- the site-wide search ---------------------------------------------------------------

SITE_WIDE_ROWS = 10  # per kind; the kind's list shows them all
SITE_WIDE_COUNT_CAP = 100
SNIPPET = 160  # characters of other text shown around its first match


@dataclass(frozen=True)
class Found:
    """One row found: its label and a piece of its other text, matching words marked."""

    id: int
    label: Markup
    snippet: Markup


@dataclass(frozen=True)
class Group:
    """The rows of one kind found, the first SITE_WIDE_ROWS of them; count capped."""

    index: Indexed
    rows: list[Found]
    count: int

    @property
    def endpoint(self) -> str:
        return self.index.model.__name__.lower()

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)


def _snippet(obj: Any, names: Iterable[str], query: Query) -> Markup:
    for name in names:
        value = getattr(obj, name) or ""
        marked = highlight(value, query)
        if "<mark>" not in str(marked):
            continue
        found = next(
            (w for w in _WORD.finditer(value) if "<mark>" in str(highlight(w.group(), query))),
            None,
        )
        start = 0 if found is None else max(0, found.start() - SNIPPET // 3)
        piece = value[start : start + SNIPPET]
        prefix = "…" if start else ""
        suffix = "…" if start + SNIPPET < len(value) else ""
        return Markup(prefix) + highlight(piece, query) + Markup(suffix)
    return Markup("")


def site_wide(user: Any, text: str) -> list[Group]:
    """Each kind of SITE_WIDE whose rows match text, as the policy lets user see them: a
    kind the user may not read is left out; one whose other text the user may not read is
    searched by its names only (a partner reads schools' names)."""
    query = parse(text)
    groups = []
    for model in SITE_WIDE:
        index = BY_MODEL[model]
        if not access.can(user, access.permission_name(model, "view")):
            continue
        fields = access.visible_fields(user, model)
        readable = set(index.reads) if fields is None else set(fields)
        if not set(index.head) <= readable:
            continue
        head_only = not set(index.reads) <= readable
        rows_query = access.scope(db.session.query(model), user, model).options(*m.label_loads(model))
        matching, relevance = apply(rows_query, model, text, head_only=head_only)
        if relevance is None:
            rows = matching.order_by(model.id).limit(SITE_WIDE_ROWS).all()
        else:
            page = page_of(matching, relevance, 0, SITE_WIDE_ROWS)
            rows = in_page(rows_query, model.id, page).all()
        if not rows:
            continue
        count = len(rows)
        if count == SITE_WIDE_ROWS:
            ids = matching.with_entities(model.id).order_by(None).limit(SITE_WIDE_COUNT_CAP + 1).subquery()
            count = db.session.execute(select(func.count()).select_from(ids)).scalar_one()
        body = () if head_only else index.body
        found = [Found(row.id, highlight(row, query), _snippet(row, body, query)) for row in rows]
        groups.append(Group(index, found, count))
    return groups
