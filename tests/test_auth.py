"""Signing in and out: hashed passwords, inactive accounts, fresh sessions, safe redirects."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from lxml import html
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token, login


def _sign_in(client: Any, email: str, password: str, next_url: str = "") -> Any:
    token = csrf_token(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": next_url}
    )


def test_login_page_lists_a_demo_account_for_every_role(client_as: Any) -> None:
    page = client_as("anonymous").get("/login").get_data(as_text=True)
    assert "<title>Войти — Coop</title>" in page
    assert re.search(r'<button[^>]*type="submit"[^>]*>\s*Войти\s*</button>', page)
    for account in ACCOUNTS.values():
        if account.role:
            assert account.email in page


def test_wrong_password_is_refused_with_a_message(client_as: Any) -> None:
    client = client_as("anonymous")
    response = _sign_in(client, "admin@coop.example", "not-the-password")
    assert response.status_code == 200
    assert "Неверный" in response.get_data(as_text=True)
    assert "/login" in client.get("/admin/").headers["Location"]


def test_a_field_error_is_tied_to_its_field(client_as: Any) -> None:
    """A screen reader reads the error with the field: aria-invalid and aria-describedby."""
    page = html.fromstring(_sign_in(client_as("anonymous"), "", "x").get_data(as_text=True))
    email = page.get_element_by_id("email")
    assert email.get("aria-invalid") == "true"
    errors = page.get_element_by_id(email.get("aria-describedby"))
    assert "invalid-feedback" in errors.get("class") and errors.text_content().strip()
    assert page.get_element_by_id("password").get("aria-invalid") is None


def test_passwords_are_stored_as_scrypt_hashes(app: Flask) -> None:
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="admin@coop.example")).scalar_one()
        assert user.password_hash.startswith("scrypt:")
        assert "admin" not in user.password_hash.split("$")[-1]


def test_email_is_matched_case_insensitively(client_as: Any) -> None:
    assert _sign_in(client_as("anonymous"), "ADMIN@Coop.Example", "admin").status_code == 302


@pytest.mark.usefixtures("fresh_db")
def test_inactive_user_cannot_sign_in(app: Flask, client_as: Any) -> None:
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="kemsu@coop.example")).scalar_one()
        user.active = False
        db.session.commit()
    response = _sign_in(client_as("anonymous"), "kemsu@coop.example", "kemsu")
    assert response.status_code == 200
    assert "отключена" in response.get_data(as_text=True)


@pytest.mark.usefixtures("fresh_db")
def test_disabling_a_user_ends_their_session(app: Flask, client_as: Any) -> None:
    partner = client_as("kemsu")
    assert partner.get("/admin/event/").status_code == 200
    admin = client_as("admin")
    with app.app_context():
        user_id = db.session.execute(select(m.User.id).filter_by(email="kemsu@coop.example")).scalar_one()
    edit_url = f"/admin/user/edit/?id={user_id}"
    token = csrf_token(admin.get(edit_url).text)
    response = admin.post(
        edit_url,
        data={
            "csrf_token": token,
            "email": "kemsu@coop.example",
            "name": "КемГУ",
            "role": "partner",
            "partner": _partner_id(app, "kemsu@coop.example"),
        },  # "active" unchecked
    )
    assert response.status_code == 302
    assert "/login" in partner.get("/admin/event/").headers["Location"]


def _partner_id(app: Flask, email: str) -> int:
    with app.app_context():
        return db.session.execute(select(m.User.partner_id).filter_by(email=email)).scalar_one()


def test_session_is_renewed_at_sign_in(client_as: Any) -> None:
    client = client_as("anonymous")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert _sign_in(client, "school31@coop.example", "school31").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:alert(1)"])
def test_next_never_leaves_the_site(client_as: Any, target: str) -> None:
    response = _sign_in(client_as("anonymous"), "admin@coop.example", "admin", target)
    assert response.headers["Location"] == "/admin/"


def test_next_keeps_a_local_page(client_as: Any) -> None:
    response = _sign_in(client_as("anonymous"), "admin@coop.example", "admin", "/admin/event/?page=1")
    assert response.headers["Location"] == "/admin/event/?page=1"


def test_logout_ends_the_session(client_as: Any) -> None:
    client = client_as("school31")
    assert client.get("/admin/").status_code == 200
    token = csrf_token(client.get("/admin/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert "/login" in client.get("/admin/").headers["Location"]


def test_each_role_sees_its_own_menu(client_as: Any) -> None:
    menus = {
        key: client_as(key).get("/admin/").get_data(as_text=True) for key in ("admin", "school31", "kemsu")
    }
    assert "/admin/user/" in menus["admin"]
    assert "/admin/user/" not in menus["school31"]
    assert "/admin/programme/" in menus["school31"]
    assert "/admin/programme/" not in menus["kemsu"]
    assert "/admin/event/" in menus["kemsu"]


def test_login_helper_signs_in(client_as: Any) -> None:
    client = client_as("anonymous")
    login(client, "coordinator@coop.example", "coordinator")
    assert client.get("/admin/").status_code == 200
