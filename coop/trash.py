"""The trash: deleting moves a row and its dependants aside; restoring brings
them back whole; only an admin empties it."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from . import models as m
from .extensions import db

# Rows that go to the trash with their parent, by relationship name.
DEPENDANTS: dict[type, tuple[str, ...]] = {
    m.Event: ("executions",),
    m.Partner: ("resources",),
    m.Seminar: ("limitations",),
}
TRASHABLE: tuple[type, ...] = tuple(
    mapper.class_ for mapper in db.Model.registry.mappers if issubclass(mapper.class_, m.Tracked)
)
INCLUDE_DELETED = {"include_deleted": True}


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


def _batch_rows(batch: str) -> list[Any]:
    rows: list[Any] = []
    for model in TRASHABLE:
        stmt = select(model).where(model.deleted_batch == batch).execution_options(**INCLUDE_DELETED)
        rows += db.session.execute(stmt).scalars().all()
    return rows


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
    """Batches in the trash that the user may see (the ORM applies the policy)."""
    found: dict[str, list[Any]] = {}
    for model in TRASHABLE:
        stmt = (
            select(model)
            .where(model.deleted_at.is_not(None))
            .order_by(model.deleted_at.desc())
            .limit(limit)
            .execution_options(**INCLUDE_DELETED)
        )
        for row in db.session.execute(stmt).scalars():
            found.setdefault(row.deleted_batch or f"row-{model.__name__}-{row.id}", []).append(row)
    result = [
        TrashBatch(batch, min(r.deleted_at for r in rows), tuple(sorted(rows, key=_parent_first)))
        for batch, rows in found.items()
    ]
    return sorted(result, key=lambda b: b.deleted_at, reverse=True)[:limit]


def _parent_first(row: Any) -> int:
    return 0 if type(row) in DEPENDANTS else 1
