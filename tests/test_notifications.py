"""The notifications in the site: each user reads and marks only their own; the bell
in the menu bar counts the user's unread ones."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token
from .test_workflow import _fire, _propose

pytestmark = pytest.mark.usefixtures("fresh_db")

BELL = re.compile(r'class="badge badge-pill badge-warning coop-bell-count"[^>]*>(\d+)<')


def _bell(client: Any) -> int:
    found = BELL.search(client.get("/admin/").text)
    return int(found.group(1)) if found else 0


def _submit(app: Flask, client_as: Any, ids: dict[str, int], title: str) -> int:
    partner = client_as("kemsu")
    event = _propose(app, partner, ids, title)
    assert _fire(partner, "event", event, "submit").status_code == 302
    return event


def _ids_of(app: Flask, key: str) -> list[int]:
    with app.app_context():
        user = select(m.User.id).filter_by(email=ACCOUNTS[key].email).scalar_subquery()
        stmt = select(m.Notification.id).where(m.Notification.user_id == user)
        return list(db.session.execute(stmt).scalars())


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_each_role_reads_only_its_own_notifications(
    app: Flask, client_as: Any, ids: dict[str, int], key: str
) -> None:
    _submit(app, client_as, ids, "Секретная лекция для СОШ")
    client = client_as(key)
    page = client.get("/admin/notifications/")
    if key == "anonymous":
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        assert client.post("/admin/notifications/read-all/").status_code in (302, 400)
        return
    assert page.status_code == 200
    mine = key == "school31"
    assert ("Секретная лекция для СОШ" in page.text) is mine
    assert ("Уведомлений нет." in page.text) is (not _ids_of(app, key))
    # Another user's message cannot be marked read by id: it is not there.
    foreign = _ids_of(app, "school31")[0]
    token = csrf_token(page.text) if "csrf_token" in page.text else csrf_token(client.get("/admin/").text)
    response = client.post("/admin/notifications/read/", data={"csrf_token": token, "id": foreign})
    assert response.status_code == (302 if mine else 404)
    assert client.post("/admin/notifications/read/", data={"csrf_token": token, "id": "x"}).status_code == 404


def test_the_bell_counts_the_users_unread_notifications_only(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school, neighbour = client_as("school31"), client_as("gymnasium17")
    before = _bell(school)
    _submit(app, client_as, ids, "Лекция о кристаллах")
    _submit(app, client_as, ids, "Лекция о вулканах")
    assert _bell(school) == before + 2
    assert _bell(neighbour) == 0  # another school's user hears nothing of it
    page = school.get("/admin/notifications/")
    assert "Мероприятие на согласование: Лекция о вулканах" in page.text
    assert page.text.index("Лекция о вулканах") < page.text.index("Лекция о кристаллах")  # newest first
    newest = max(_ids_of(app, "school31"))
    school.post("/admin/notifications/read/", data={"csrf_token": csrf_token(page.text), "id": newest})
    assert _bell(school) == before + 1
    # Without the CSRF token nothing is marked.
    assert school.post("/admin/notifications/read-all/").status_code == 400
    assert _bell(school) == before + 1
    done = school.post("/admin/notifications/read-all/", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 302
    assert f"Отмечено прочитанными: {before + 1}." in school.get(done.headers["Location"]).text
    assert _bell(school) == 0
