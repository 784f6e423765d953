"""The «API tokens» page (coop/views/api_tokens.py): every role makes, sees and revokes
its own tokens only; a new token is shown once; the token then reads the API until revoked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import api_tokens
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token

PAGE = "/admin/apitokens/"
SECRET_RE = re.compile(r"coop_[A-Za-z0-9_-]{43}")


def _make(client: Any, name: str = "Отчётность", lifetime: str = "365") -> Any:
    page = client.get(PAGE)
    return client.post(
        PAGE + "new/", data={"name": name, "lifetime": lifetime, "csrf_token": csrf_token(page.text)}
    )


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_every_role_makes_sees_and_revokes_its_own(
    app: Flask, client_as: Any, fresh_db: None, key: str
) -> None:
    client = client_as(key)
    if ACCOUNTS[key].role is None:
        assert "/login" in client.get(PAGE).headers["Location"]
        assert client.post(PAGE + "new/", data={"name": "x"}).status_code == 400  # no CSRF token
        return
    made = _make(client, name=f"Система {key}")
    assert made.status_code == 200
    secret = SECRET_RE.search(made.text).group(0)  # shown in this answer…
    assert "показывается только один раз" in made.text
    assert made.headers["Cache-Control"] == "no-store"
    listed = client.get(PAGE)
    assert listed.status_code == 200 and f"Система {key}" in listed.text
    assert secret not in listed.text  # …and never again
    assert "действует" in listed.text and "ни разу" in listed.text
    # The addresses its tokens read, and only those: a partner reads no remarks.
    assert ("/api/v1/remarks" in listed.text) is (ACCOUNTS[key].role != "partner")
    assert "/api/v1/events" in listed.text
    api = app.test_client()
    assert api.get("/api/v1/schools", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert "ни разу" not in client.get(PAGE).text  # last used: now
    with app.app_context():
        token = db.session.execute(select(m.ApiToken).filter_by(name=f"Система {key}")).scalar_one()
        assert (
            token.user_id
            == db.session.execute(select(m.User.id).filter_by(email=ACCOUNTS[key].email)).scalar_one()
        )
        days = (token.expires_at - token.created_at).days
        assert 364 <= days <= 365
    revoked = client.post(PAGE + "revoke/", data={"id": token.id, "csrf_token": csrf_token(listed.text)})
    assert revoked.status_code == 302
    after = client.get(PAGE)
    assert "отозван" in after.text
    assert api.get("/api/v1/schools", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_token_of_another_account_is_neither_listed_nor_revoked(
    app: Flask, client_as: Any, fresh_db: None
) -> None:
    with app.app_context():
        admin = db.session.execute(select(m.User).filter_by(email=ACCOUNTS["admin"].email)).scalar_one()
        token, _ = api_tokens.issue(admin, "Токен администратора")
        db.session.commit()
        token_id = token.id
    school = client_as("school31")
    page = school.get(PAGE)
    assert "Токен администратора" not in page.text
    answer = school.post(PAGE + "revoke/", data={"id": token_id, "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 404
    for bad in ("", "x", "0", "99999999999"):
        assert (
            school.post(PAGE + "revoke/", data={"id": bad, "csrf_token": csrf_token(page.text)}).status_code
            == 404
        )
    with app.app_context():
        assert db.session.get(m.ApiToken, token_id).revoked_at is None


@pytest.mark.parametrize(
    ("name", "lifetime", "message"),
    [
        ("", "365", "Назовите токен"),
        ("   ", "365", "Назовите токен"),
        ("x" * 101, "365", "100"),
        ("Годный", "36500", "Неверный вариант"),
    ],
)
def test_a_bad_form_is_a_400_in_russian_and_writes_nothing(
    app: Flask, client_as: Any, name: str, lifetime: str, message: str
) -> None:
    answer = _make(client_as("kemsu"), name=name, lifetime=lifetime)
    assert answer.status_code == 400 and message in answer.text
    assert not SECRET_RE.search(answer.text)
    with app.app_context():
        assert db.session.execute(select(m.ApiToken)).first() is None


@pytest.mark.parametrize("lifetime", ["30", "1095"])
def test_the_chosen_lifetime(app: Flask, client_as: Any, fresh_db: None, lifetime: str) -> None:
    assert _make(client_as("coordinator"), lifetime=lifetime).status_code == 200
    with app.app_context():
        token = db.session.execute(select(m.ApiToken)).scalar_one()
        assert abs((token.expires_at - token.created_at).days - int(lifetime)) <= 1
