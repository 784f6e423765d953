"""The trash: deleting moves a row and its dependants aside; restoring brings
them back whole; only an admin empties it."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, desc, literal, select, true, union_all

from . import models as m
from .extensions import Model, db

# Rows that go to the trash with their parent, by relationship name.
DEPENDANTS: dict[type[Any], tuple[str, ...]] = {
    m.Event: ("executions",),
    m.Partner: ("resources",),
    m.Seminar: ("limitations",),
    # Its answers stay as the schools wrote them (the coordinator writes none of them):
    # reached only through the request, they are back with it when it is restored.
    m.DataRequest: ("questions",),
}
TRASHABLE: tuple[type[Any], ...] = tuple(
    mapper.class_ for mapper in Model.registry.mappers if issubclass(mapper.class_, m.Tracked)
)
INCLUDE_DELETED = {"include_deleted": True}
BY_TABLE: dict[str, type[Any]] = {model.__tablename__: model for model in TRASHABLE}
ROW_LIMIT = 1000  # rows the trash page shows at most, newest first


@dataclass(frozen=True)
class TrashBatch:
    batch: str
    deleted_at: dt.datetime
    rows: tuple[Any, ...]  # the first is the row the user deleted

    @property
    def school_id(self) -> int | None:
        return getattr(self.rows[0], "school_id", None)


def _with_dependants(obj: Any) -> Iterator[Any]:
    yield obj
    for name in DEPENDANTS.get(type(obj), ()):
        for child in getattr(obj, name):
            yield from _with_dependants(child)


def discard(obj: Any) -> str:
    """Move obj and its dependants to the trash as one batch; returns the batch id."""
    batch = secrets.token_hex(8)
    now = m.utcnow()
    for row in _with_dependants(obj):
        if row.deleted_at is None:
            row.deleted_at, row.deleted_batch = now, batch
    return batch


def _locate(
    where: Callable[[type[Any]], ColumnElement[bool]], limit: int | None = None
) -> dict[type[Any], list[int]]:
    """Ids of the rows in the trash that match, by model, newest first: one statement
    over every trashable table (the ORM applies the policy to each)."""
    stmt = union_all(
        *(
            select(literal(model.__tablename__).label("table_name"), model.id, model.deleted_at).where(
                model.deleted_at.is_not(None), where(model)
            )
            for model in TRASHABLE
        )
    ).order_by(desc("deleted_at"))
    if limit is not None:
        stmt = stmt.limit(limit)
    found: dict[type[Any], list[int]] = {}
    for table_name, row_id, _deleted_at in db.session.execute(stmt.execution_options(**INCLUDE_DELETED)):
        found.setdefault(BY_TABLE[table_name], []).append(row_id)
    return found


def _load(found: dict[type[Any], list[int]]) -> list[Any]:
    """The rows located, one statement for each model among them."""
    rows: list[Any] = []
    for model, row_ids in found.items():
        stmt: Select[Any] = select(model).where(model.id.in_(row_ids)).options(*m.label_loads(model))
        rows += db.session.execute(stmt.execution_options(**INCLUDE_DELETED)).scalars().unique().all()
    return rows


def _batch_rows(batch: str) -> list[Any]:
    return _load(_locate(lambda model: model.deleted_batch == batch))


def restore(batch: str) -> int:
    """Put a batch back; the ORM guard checks the user may edit every row."""
    rows = _batch_rows(batch)
    for row in rows:
        row.deleted_at, row.deleted_batch = None, None
    return len(rows)


def purge(batch: str) -> int:
    """Delete a batch for good (children first)."""
    rows = _batch_rows(batch)
    for row in sorted(rows, key=lambda r: type(r) in DEPENDANTS):
        db.session.delete(row)
    return len(rows)


def batches(limit: int = 200) -> list[TrashBatch]:
    """Batches in the trash that the user may see (the ORM applies the policy).

    One statement finds the newest rows of every table, then one per model among
    them loads the rows: not one per table, nor one per row.
    """
    found: dict[str, list[Any]] = {}
    for row in _load(_locate(lambda model: true(), ROW_LIMIT)):
        found.setdefault(row.deleted_batch or f"row-{type(row).__name__}-{row.id}", []).append(row)
    result = [
        TrashBatch(batch, min(r.deleted_at for r in rows), tuple(sorted(rows, key=_parent_first)))
        for batch, rows in found.items()
    ]
    return sorted(result, key=lambda b: b.deleted_at, reverse=True)[:limit]


def _parent_first(row: Any) -> int:
    return 0 if type(row) in DEPENDANTS else 1
