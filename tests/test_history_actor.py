"""The history names a person for what the system does on their behalf (tenancy.as_system
inside a request): «system» only for what nobody signed in started (CLI, sign-in bookkeeping)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db

from .conftest import csrf_token

GOOD_PASSWORD = "шесть зелёных слонов"


def test_the_system_acting_for_a_user_is_recorded_as_that_user(
    app: Flask, client_as: Any, fresh_db: None
) -> None:
    """Changing one's password runs as the system (a school may not edit accounts):
    the history names the person, not «system»."""
    client = client_as("school31")
    with app.app_context():
        last = db.session.execute(select(func.max(m.History.id))).scalar_one() or 0
    page = client.get("/password")
    response = client.post(
        "/password",
        data={
            "current_password": "school31",
            "new_password": GOOD_PASSWORD,
            "confirm": GOOD_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.execute(select(m.History).where(m.History.id > last)).scalars().all()
        user = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        assert [(h.table_name, h.action, h.user_id, h.user_email) for h in rows] == [
            ("users", "update", user.id, "school31@coop.example")
        ]
