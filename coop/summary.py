"""The figures kept: per school and academic year, the rows that the dashboard, the home
page and the charts would otherwise count from a year of plan lines on every request.

models.SchoolYearFigure holds, for each kept year (models.FigureYear), the rows of
coop.figures.school_branches and school_chart and of coop.attention.unrecorded_by_timing:
the very statements a page would run, grouped by school. They are kept exact by
recounting, not by arithmetic: after every flush that touches a row they count from
(plan lines, yearly records, agreements, seminars, limitations, remarks, a partner's
kind or its trash), the schools concerned are noted, and before the transaction commits
their rows are counted again from the tables, on its connection: once per transaction
however many flushes it made. A year that is not kept is counted
from the tables when asked for (coop.figures); the years of the plans and the current
one are kept from the first write on.

Writes that bypass the ORM (bench-data's bulk inserts) end with rebuild(); check()
counts every kept year again and lists what differs (`flask --app app coop check-figures`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask
from sqlalchemy import (
    CompoundSelect,
    Connection,
    Table,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from . import attention, figures
from . import models as m
from .plan_io.plan import year_bounds, years_between
from .timing import academic_year_of

# The rows a school's figures are counted from, by the column naming the school.
COUNTED_FROM = (m.Event, m.EventExecution, m.Agreement, m.Seminar, m.Limitation, m.Remark)
# What of a partner the figures read: its kind (the charts), whether it is in the trash.
PARTNER_FIELDS = ("kind_id", "deleted_at")
# Rows that change the totals of all schools without changing a school's kept rows: which
# schools are counted (the trash), the charts' names and order.
TOTALS_FROM = (m.School, m.PartnerKind, m.EventLevel)
COLUMNS = (
    "school_id",
    "year",
    "figure",
    *(f"text{index}" for index in range(figures.TEXTS)),
    *(f"number{index}" for index in range(figures.NUMBERS)),
)
_TABLE = cast(Table, m.SchoolYearFigure.__table__)
_YEARS = cast(Table, m.FigureYear.__table__)


# --- counting -------------------------------------------------------------------------------


def _counting(year: int, school_ids: Sequence[int] | None) -> CompoundSelect:
    """The statement counting a year's rows: (figure, school_id, texts…, numbers…)."""
    line = figures._line_statuses(year, school_ids)
    unrecorded = figures._only(attention.unrecorded_by_timing(year), m.Event.school_id, school_ids)
    branches = [
        *figures.school_branches(year, school_ids, line),
        figures.school_chart(line),
        figures._tagged("unrecorded", unrecorded),
    ]
    return union_all(*branches)


def counted(
    session: Session, years: Iterable[int], school_ids: Sequence[int] | None
) -> list[tuple[Any, ...]]:
    """The rows to keep for `years` and the schools (None: every school), counted from the tables,
    as (school_id, year, figure, texts…, numbers…). Run as the system: every row but those in
    the trash, as coop.figures counts them for a user who sees every school."""
    rows: list[tuple[Any, ...]] = []
    for year in sorted(years):
        result = session.execute(_counting(year, school_ids), execution_options={"skip_scope": True})
        rows += [(school_id, year, figure, *values) for figure, school_id, *values in result]
    return rows


def _count_in_place(session: Any, years: Iterable[int]) -> None:
    """Every school's rows of `years` counted again by the database itself, one INSERT … SELECT
    a year (rebuild(): after a bulk load, millions of rows need not pass through Python)."""
    connection = session.connection()
    connection.execute(delete(_TABLE).where(_TABLE.c.year.in_(list(years))))
    for year in sorted(years):
        found = _counting(year, None).subquery()
        values = [found.c.key, literal(year), found.c.figure]
        values += [found.c[name] for name in COLUMNS[3:]]
        session.execute(
            insert(_TABLE).from_select(list(COLUMNS), select(*values)),
            execution_options={"skip_scope": True},
        )


def _stored(session: Any, years: Iterable[int]) -> list[tuple[Any, ...]]:
    kept = m.SchoolYearFigure
    stmt = select(*(getattr(kept, name) for name in COLUMNS)).where(kept.year.in_(list(years)))
    return [tuple(row) for row in session.execute(stmt, execution_options={"skip_scope": True})]


def _write(
    connection: Connection, years: Iterable[int], school_ids: Sequence[int] | None, rows: list
) -> None:
    gone = delete(_TABLE).where(_TABLE.c.year.in_(list(years)))
    if school_ids is not None:
        gone = gone.where(_TABLE.c.school_id.in_(school_ids))
    connection.execute(gone)
    if rows:
        connection.execute(insert(_TABLE), [dict(zip(COLUMNS, row, strict=True)) for row in rows])


def kept_years(connection: Connection) -> set[int]:
    return set(connection.execute(select(_YEARS.c.year)).scalars())


def wanted_years(session: Any, today: dt.date | None = None) -> set[int]:
    """The years of the plans (of the lines not in the trash) and the current one."""
    first, last = session.execute(select(*year_bounds()), execution_options={"skip_scope": True}).one()
    current = academic_year_of(today or dt.date.today())
    return set(years_between(first, last)) | {current}


def recount(session: Any, school_ids: Sequence[int] | None, years: Iterable[int] | None = None) -> None:
    """Count again the kept rows of the schools (None: all) for `years` (None: the kept ones),
    and keep the years of the plans that are not kept yet, for every school."""
    connection = session.connection()
    kept = kept_years(connection)
    years = kept if years is None else set(years)
    if school_ids is None or school_ids:
        _write(connection, years & kept, school_ids, counted(session, years & kept, school_ids))
    new = (years - kept) | (wanted_years(session) - kept)
    if new:
        _write(connection, new, None, counted(session, new, None))
        connection.execute(insert(_YEARS), [{"year": year} for year in sorted(new)])


def rebuild(session: Any) -> int:
    """Count every kept year (and the years of the plans) again for every school; the rows kept."""
    connection = session.connection()
    kept = kept_years(connection)
    years = kept | wanted_years(session)
    _count_in_place(session, years)
    if years - kept:
        connection.execute(insert(_YEARS), [{"year": year} for year in sorted(years - kept)])
    totals_changed(connection)
    return cast(int, session.execute(select(func.count()).select_from(_TABLE)).scalar_one())


def totals_changed(connection: Connection) -> None:
    """What is kept of all schools with each year (coop.figures' totals, coop.attention's
    list) is out of date."""
    connection.execute(update(_YEARS).values(version=_YEARS.c.version + 1, totals=None, attention=None))


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    school_id: int
    year: int
    figure: str
    kept: tuple[Any, ...] | None  # the texts and numbers kept; None: no such row kept
    counted: tuple[Any, ...] | None  # as counted from the tables; None: there should be none

    def __str__(self) -> str:
        return (
            f"школа {self.school_id}, {self.year}/{self.year + 1} учебный год, показатель «{self.figure}»: "
            f"хранится {_shown(self.kept)}, по записям {_shown(self.counted)}"
        )


def _shown(values: tuple[Any, ...] | None) -> str:
    if values is None:
        return "ничего"
    return "(" + ", ".join("—" if value is None else str(value) for value in values) + ")"


def check(session: Any) -> list[Difference]:
    """Every kept row against the same rows counted from the tables, for every kept year."""
    years = kept_years(session.connection())
    want, have = Counter(counted(session, years, None)), Counter(_stored(session, years))
    missing, extra = want - have, have - want
    differences = [Difference(row[0], row[1], row[2], None, row[3:]) for row in missing.elements()] + [
        Difference(row[0], row[1], row[2], row[3:], None) for row in extra.elements()
    ]
    return sorted(differences, key=lambda d: (d.school_id, d.year, d.figure, str(d.kept), str(d.counted)))


def check_totals(session: Any) -> list[int]:
    """The kept years whose totals of all schools (coop.figures) or attention list of all
    schools (coop.attention), kept at the year's version, differ from the same counted again
    (the list only when kept today: it is counted afresh each day)."""
    kept = m.FigureYear
    stmt = select(kept.year, kept.version, kept.totals, kept.attention).where(
        kept.totals.isnot(None) | kept.attention.isnot(None)
    )
    now = m.utcnow()
    differ = []
    for year, version, totals, listed in session.execute(stmt):
        # What is out of date (another version, another day) is never read: not compared.
        totals_differ = bool(totals) and totals.get("version") == version and _totals_differ(year, totals)
        if totals_differ or (
            attention.is_current(listed, version, now) and _attention_differs(year, listed, now)
        ):
            differ.append(year)
    return differ


def _totals_differ(year: int, totals: dict[str, Any]) -> bool:
    return _comparable(totals["rows"]) != _comparable(figures.count_totals(year))


def _attention_differs(year: int, listed: dict[str, Any], now: dt.datetime) -> bool:
    counted = attention.count_attention(year, now, kept=True)
    return {key: value for key, value in listed.items() if key != "version"} != counted


def _comparable(rows: dict[str, list[Any]]) -> dict[str, list[str]]:
    return {figure: sorted(map(str, found)) for figure, found in rows.items() if found}


# --- at every flush -------------------------------------------------------------------------


def _old_and_new(session: Session, obj: Any, key: str) -> set[Any]:
    """The attribute's value now and, if the flush changed it, before; empty when not known."""
    history = inspect(obj).attrs[key].history  # loads nothing
    values = {*history.added, *history.deleted, *history.unchanged}
    if not values and obj not in session.deleted:
        values.add(getattr(obj, key))
    return values


def _touched(session: Session) -> tuple[set[int], bool]:
    """The schools whose figures this flush may change, and whether every school's may."""
    schools: set[Any] = set()
    partners: set[int] = set()
    everyone = False
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, COUNTED_FROM):
            if obj in session.dirty and not session.is_modified(obj, include_collections=True):
                continue
            found = _old_and_new(session, obj, "school_id")
            schools |= found
            everyone |= not found or None in found  # not known: count everything again
        elif isinstance(obj, m.Partner) and obj not in session.new:
            state = inspect(obj)
            if obj in session.deleted or any(
                state.attrs[key].history.has_changes() for key in PARTNER_FIELDS
            ):
                partners.add(obj.id)
        elif isinstance(obj, m.FgosResult) and obj in session.deleted:
            everyone = True  # its agreements' and lines' links go with it (ON DELETE CASCADE)
    if partners and not everyone:
        schools |= set(
            session.connection()
            .execute(select(m.Event.school_id).where(m.Event.partner_id.in_(partners)).distinct())
            .scalars()
        )
    return {school for school in schools if school is not None}, everyone


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Note the schools that rows about to change or go belonged to when the flush cannot
    tell (a row expired by a commit, then given another school or deleted): from the table."""
    unknown: dict[Any, list[int]] = {}
    for obj in [*session.dirty, *session.deleted]:
        if isinstance(obj, COUNTED_FROM) and obj.id is not None:
            history = inspect(cast(Any, obj)).attrs["school_id"].history
            if not (history.deleted or history.unchanged):
                unknown.setdefault(type(obj), []).append(obj.id)
    schools = session.info.setdefault(_TOUCHED, set())
    for model, ids in unknown.items():
        stmt = select(model.school_id).where(model.id.in_(ids))
        schools.update(session.connection().execute(stmt).scalars())


def _bulk_write(state: Any) -> None:
    """An UPDATE or DELETE of many rows at once (session.execute(update(Model)…)) says not
    which schools it touches: every school's figures are counted again before the commit."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    if issubclass(state.bind_mapper.class_, (*COUNTED_FROM, m.Partner, m.FgosResult)):
        state.session.info[_EVERYONE] = True
    elif issubclass(state.bind_mapper.class_, TOTALS_FROM):
        state.session.info[_TOTALS] = True


_TOUCHED = "figures_touched"  # session.info: the schools whose figures this transaction changed
_EVERYONE = "figures_everyone"
_TOTALS = "figures_totals"  # session.info: the totals of all schools may have changed


def _after_flush(session: Session, flush_context: Any) -> None:
    """Note the schools the flush touched; they are counted again once, before the commit."""
    schools, everyone = _touched(session)
    session.info.setdefault(_TOUCHED, set()).update(schools)
    if everyone:
        session.info[_EVERYONE] = True
    if any(isinstance(obj, TOTALS_FROM) for obj in [*session.new, *session.dirty, *session.deleted]):
        session.info[_TOTALS] = True


def _before_commit(session: Session) -> None:
    """Count the touched schools' figures again, in the transaction about to be committed."""
    session.flush()  # what is still pending: its schools are noted too
    schools, everyone = session.info.pop(_TOUCHED, set()), session.info.pop(_EVERYONE, False)
    totals = session.info.pop(_TOTALS, False)
    if schools or everyone:
        with Session(bind=session.connection()) as counting:
            recount(counting, None if everyone else sorted(schools))
    if schools or everyone or totals:
        totals_changed(session.connection())


def _forget(session: Session, *args: Any) -> None:
    for key in (_TOUCHED, _EVERYONE, _TOTALS):
        session.info.pop(key, None)


def init_app(app: Flask) -> None:
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_rollback", _forget),
        ("do_orm_execute", _bulk_write),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
