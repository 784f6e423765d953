"""Deleting moves rows to the trash with their dependants; restore brings them back whole."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop import trash
from coop.extensions import db

from .conftest import csrf_token

pytestmark = pytest.mark.usefixtures("fresh_db")


def _event_with_executions(app: Flask, school_id: int) -> tuple[int, int]:
    with app.app_context():
        row = db.session.execute(
            select(m.EventExecution.event_id, func.count())
            .where(m.EventExecution.school_id == school_id)
            .group_by(m.EventExecution.event_id)
            .order_by(m.EventExecution.event_id)
        ).first()
        return row[0], row[1]


def _trash_rows(app: Flask, model: type, **where: Any) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count())
            .select_from(model)
            .filter_by(**where)
            .where(model.deleted_at.is_not(None))
            .execution_options(**trash.INCLUDE_DELETED)
        ).scalar_one()


def _delete_event(client: Any, event: int) -> None:
    token = csrf_token(client.get("/admin/event/").text)
    assert client.post("/admin/event/delete/", data={"csrf_token": token, "id": event}).status_code == 302


def test_delete_moves_the_row_and_its_dependants_and_restore_puts_them_back(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    event, executions = _event_with_executions(app, ids["school31"])
    _delete_event(client, event)
    assert client.get(f"/admin/event/details/?id={event}").status_code == 404
    assert _trash_rows(app, m.Event, id=event) == 1
    assert _trash_rows(app, m.EventExecution, event_id=event) == executions
    page = client.get("/admin/trash/").get_data(as_text=True)
    with app.app_context():
        batch = db.session.get(m.Event, event, execution_options=trash.INCLUDE_DELETED).deleted_batch
    assert batch in page
    response = client.post("/admin/trash/restore/", data={"csrf_token": csrf_token(page), "batch": batch})
    assert response.status_code == 302
    assert client.get(f"/admin/event/details/?id={event}").status_code == 200
    assert _trash_rows(app, m.EventExecution, event_id=event) == 0
    with app.app_context():
        actions = (
            db.session.execute(
                select(m.History.action).filter_by(table_name="events", row_id=event).order_by(m.History.id)
            )
            .scalars()
            .all()
        )
    assert actions[-2:] == ["delete", "restore"]


def test_only_an_admin_empties_the_trash(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    school, admin = client_as("school31"), client_as("admin")
    event, _ = _event_with_executions(app, ids["school31"])
    _delete_event(school, event)
    with app.app_context():
        batch = db.session.get(m.Event, event, execution_options=trash.INCLUDE_DELETED).deleted_batch
    token = csrf_token(school.get("/admin/trash/").text)
    assert school.post("/admin/trash/purge/", data={"csrf_token": token, "batch": batch}).status_code == 403
    token = csrf_token(admin.get("/admin/trash/").text)
    assert admin.post("/admin/trash/purge/", data={"csrf_token": token, "batch": batch}).status_code == 302
    with app.app_context():
        assert db.session.get(m.Event, event, execution_options=trash.INCLUDE_DELETED) is None
        assert (
            db.session.execute(
                select(func.count())
                .select_from(m.EventExecution)
                .filter_by(event_id=event)
                .execution_options(**trash.INCLUDE_DELETED)
            ).scalar_one()
            == 0
        )


def test_another_school_cannot_see_or_restore_the_trash(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event, _ = _event_with_executions(app, ids["school31"])
    _delete_event(client_as("school31"), event)
    with app.app_context():
        batch = db.session.get(m.Event, event, execution_options=trash.INCLUDE_DELETED).deleted_batch
    other = client_as("gymnasium17")
    page = other.get("/admin/trash/").get_data(as_text=True)
    assert batch not in page and "СОШ № 31" not in page
    response = other.post("/admin/trash/restore/", data={"csrf_token": csrf_token(page), "batch": batch})
    assert response.status_code == 404
    assert _trash_rows(app, m.Event, id=event) == 1


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("anonymous", 302),
        ("admin", 200),
        ("coordinator", 403),
        ("school31", 200),
        ("gymnasium17", 200),
        ("kemsu", 403),
        ("museum", 403),
    ],
)
def test_trash_access(client_as: Any, key: str, status: int) -> None:
    assert client_as(key).get("/admin/trash/").status_code == status


@pytest.mark.parametrize("batch", ["", "../../etc", "x" * 40, "nosuchbatch"])
def test_malformed_or_unknown_batch_is_404(client_as: Any, batch: str) -> None:
    client = client_as("admin")
    token = csrf_token(client.get("/admin/trash/").text)
    assert client.post("/admin/trash/restore/", data={"csrf_token": token, "batch": batch}).status_code == 404


def test_the_trash_names_each_row_with_its_parent(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    """An execution is named by its event, although the event is in the trash with it
    (the trash loads a label's relations with the rows, trash included)."""
    client = client_as("school31")
    event, executions = _event_with_executions(app, ids["school31"])
    with app.app_context():
        title = str(db.session.get(m.Event, event))
    _delete_event(client, event)
    page = client.get("/admin/trash/").text
    labels = re.findall(r"<div>([^<]*)</div>", page)
    assert sum(label.startswith(f"{title} — ") for label in labels) == executions
    assert not any(label.startswith("None") for label in labels)
