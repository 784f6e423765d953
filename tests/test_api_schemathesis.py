"""Schemathesis against the read API's own OpenAPI document (/api/v1/openapi.json), in
process (the Flask app as a WSGI app), with a token of every role: no 500, every answer as
the document says (status, content type, schema), and no row outside the token's scope
(each row's id checked against access.visible, as the system reads it).

Bounded: a few examples per operation and role (the whole module well under a minute)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from coop import access, api_tokens, api_v1
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, _restore

ROLE_KEYS = ("admin", "coordinator", "school31", "kemsu")
EXAMPLES = 6  # per operation, each sent with a token of every role
BY_PATH = {f"/api/v1/{r.path}": r for r in api_v1.RESOURCES}


@pytest.fixture(scope="module")
def tokens(app: Flask) -> Iterator[dict[str, str]]:
    """A live token of each role's demo account (gone with the module)."""
    with app.app_context():
        found = {}
        for key in ROLE_KEYS:
            user = db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()
            _, found[key] = api_tokens.issue(user, "schemathesis")
        db.session.commit()
    yield found
    with app.app_context():
        _restore(app.config["DEMO_SNAPSHOT"])


def _outside_scope(app: Flask, key: str, path: str, body: Any) -> list[int]:
    """The ids of the answer's rows the token's account may not see."""
    resource = BY_PATH["/api/v1" + path.split("/{")[0]]
    items = body["items"] if isinstance(body, dict) and "items" in body else [body]
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()
        rows = {
            row.id: row
            for row in db.session.execute(
                select(resource.model).where(resource.model.id.in_([item["id"] for item in items]))
            ).scalars()
        }
        return [
            item["id"]
            for item in items
            if item["id"] not in rows or not access.visible(user, rows[item["id"]])
        ]


def _check(app: Flask, tokens: dict[str, str], operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    def answers(case: Any) -> None:
        # A cursor is opaque: any string fits its schema, only one the API gave reads (else a 400).
        excluded = [positive_data_acceptance] if "cursor" in (case.query or {}) else []
        for key in ROLE_KEYS:
            headers = {"Authorization": f"Bearer {tokens[key]}"}
            response = case.call_and_validate(headers=headers, excluded_checks=excluded)
            if response.status_code == 200:
                assert _outside_scope(app, key, operation.path, response.json()) == [], key

    answers()


def test_the_api_answers_as_its_document_says(app: Flask, tokens: dict[str, str]) -> None:
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 2 * len(api_v1.RESOURCES)  # each collection and each row
    for operation in operations:
        _check(app, tokens, operation)


def test_the_scope_check_sees_a_foreign_row(app: Flask, ids: dict[str, int]) -> None:
    """The check above would catch a leak: another school's row in a school's answer."""
    foreign = {"items": [{"id": ids["school31"]}, {"id": ids["gymnasium17"]}]}
    assert _outside_scope(app, "school31", "/schools", foreign) == [ids["gymnasium17"]]
    assert _outside_scope(app, "school31", "/schools/{id}", {"id": ids["gymnasium17"]}) == [
        ids["gymnasium17"]
    ]
    assert _outside_scope(app, "admin", "/schools", foreign) == []
