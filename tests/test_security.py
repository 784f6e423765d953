"""Hardening: security headers and CSP nonces, session lifetime, login throttling,
the password policy, temporary passwords and the deployment check."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coop import config, passwords, security, sessions
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token
from .test_access_matrix import MARKERS, OTHER_SCHOOL
from .test_sessions import age_session, session_row

GOOD_PASSWORD = "шесть зелёных слонов"
NONCE_RE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'")


def _sign_in(client: FlaskClient, email: str, password: str, next_url: str = "") -> Any:
    token = csrf_token(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": next_url}
    )


def _user(email: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=email)).scalar_one()


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "url", "status"),
    [
        ("anonymous", "/login", 200),
        ("anonymous", "/static/coop.css", 200),
        ("anonymous", "/no/such/page", 404),
        ("anonymous", "/admin/", 302),
        ("anonymous", "/api/plan.json?school=1&year=2019", 401),
        ("school31", "/admin/", 200),
        ("school31", "/admin/event/", 200),
        ("school31", "/admin/calendar/?year=2019", 200),
    ],
)
def test_every_response_carries_the_security_headers(client_as: Any, key: str, url: str, status: int) -> None:
    response = client_as(key).get(url)
    response.close()
    assert response.status_code == status
    csp = response.headers["Content-Security-Policy"]
    assert NONCE_RE.search(csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # COOP_HTTPS is not set


@pytest.mark.parametrize(
    "url", ["/admin/event/", "/admin/event/new/", "/admin/calendar/?year=2019", "/admin/programme/"]
)
def test_every_script_carries_this_requests_nonce(client_as: Any, url: str) -> None:
    client = client_as("school31")
    first, second = client.get(url), client.get(url)
    nonce = NONCE_RE.search(first.headers["Content-Security-Policy"]).group(1)
    assert nonce != NONCE_RE.search(second.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", first.text)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
    assert "admin-csp.js" in first.text  # gives Flask-Admin's onclick="…" controls their behaviour


def test_our_templates_hold_no_inline_code() -> None:
    """Inline handlers and javascript: links would be refused by the CSP."""
    for template in (Path(__file__).parent.parent / "coop" / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert set(re.findall(r"javascript:[^\"']*", text)) <= {"javascript:void(0)"}, template
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag and "nonce" in tag, (template, tag)


def test_hsts_and_secure_cookie_behind_https(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "HTTPS", True)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    client = app.test_client()
    response = client.get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_flags_follow_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COOP_HTTPS", raising=False)
    plain = config.load(tmp_path)
    assert plain["SESSION_COOKIE_HTTPONLY"] and plain["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["HTTPS"]
    monkeypatch.setenv("COOP_HTTPS", "1")
    https = config.load(tmp_path)
    assert https["SESSION_COOKIE_SECURE"] and https["REMEMBER_COOKIE_SECURE"] and https["HTTPS"]


def test_session_cookie_is_httponly_and_samesite(client_as: Any) -> None:
    client = client_as("anonymous")
    response = _sign_in(client, "school31@coop.example", "school31")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- session lifetime -------------------------------------------------------------------


def _flashes(client: FlaskClient) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def test_a_page_asked_before_signing_in_is_where_the_sign_in_leads(app: Flask) -> None:
    """An admin page asked without a session sends to the sign-in with the page and its
    query as `next`, and signing in leads back there."""
    client = app.test_client()
    response = client.get("/admin/event/?page_size=5")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/login?next=/admin/event/?page_size%3D5",
    )
    page = client.get(response.headers["Location"])
    account = ACCOUNTS["school31"]
    signed_in = client.post(
        response.headers["Location"],
        data={"email": account.email, "password": account.password, "csrf_token": csrf_token(page.text)},
    )
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/admin/event/?page_size=5")


def test_session_ends_after_30_minutes_idle(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    age_session(app, client, signed_in_ago=31 * 60, seen_ago=31 * 60)
    response = client.get("/admin/event/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/event/")
    assert any("30" in message for message in _flashes(client))
    assert "/login" in client.get("/admin/").headers["Location"]  # signed out for good
    assert session_row(app, client) is None


def test_activity_keeps_the_session_alive(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    age_session(app, client, signed_in_ago=2 * 60 * 60, seen_ago=29 * 60)
    assert client.get("/admin/event/").status_code == 200
    row = session_row(app, client)
    assert row is not None and (m.utcnow() - row.last_seen_at).total_seconds() < 60


def test_session_ends_12_hours_after_sign_in_even_when_active(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    age_session(app, client, signed_in_ago=12 * 60 * 60 + 1, seen_ago=10)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert any("12" in message for message in _flashes(client))


def test_a_session_without_its_key_is_not_trusted(client_as: Any) -> None:
    client = client_as("school31")
    with client.session_transaction() as session:
        del session[sessions.KEY]
    assert "/login" in client.get("/admin/").headers["Location"]


def test_a_made_up_key_opens_nothing(client_as: Any) -> None:
    client = client_as("school31")
    with client.session_transaction() as session:
        session[sessions.KEY] = "made-up"
    assert "/login" in client.get("/admin/").headers["Location"]


@pytest.mark.usefixtures("fresh_db")
def test_an_account_disabled_anywhere_loses_its_session_at_the_next_request(
    app: Flask, client_as: Any
) -> None:
    client = client_as("kemsu")
    assert client.get("/admin/event/").status_code == 200
    with app.app_context():
        _user("kemsu@coop.example").active = False
        db.session.commit()
    assert "/login" in client.get("/admin/event/").headers["Location"]


# --- throttling -------------------------------------------------------------------------


THROTTLED_RU = "Слишком много неудачных попыток. Повторите через"


def _throttled_sign_ins(email: str) -> list[m.SignIn]:
    stmt = select(m.SignIn).where(m.SignIn.email == email, m.SignIn.reason == "throttled")
    return list(db.session.execute(stmt, execution_options={"skip_scope": True}).scalars())


class Clock:
    """time.time() that a test moves forward: the limiter's windows without waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_hostile_address_does_not_lock_the_owner_out(throttled: Any, app: Flask) -> None:
    with app.app_context():
        logged_before = len(_throttled_sign_ins("kemsu@coop.example"))  # signing in is not undone
    attacker = throttled("127.0.0.66")
    for _ in range(5):
        assert _sign_in(attacker, "kemsu@coop.example", "wrong").status_code == 200
    refused = _sign_in(attacker, "kemsu@coop.example", "kemsu")  # even the right password now
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 40
    assert f"{THROTTLED_RU} {refused.headers['Retry-After']} с." in refused.text  # Russian, with the wait
    assert 'name="email"' in refused.text  # the sign-in page again, with the message
    with app.app_context():
        # the log keeps throttled attempts
        assert len(_throttled_sign_ins("kemsu@coop.example")) == logged_before + 1
    # The owner, from their own address, is not held by the attacker's failures.
    assert _sign_in(throttled("127.0.0.3"), "kemsu@coop.example", "kemsu").status_code == 302
    # The attacker may still try other accounts: the address's own budget is larger.
    assert _sign_in(attacker, "museum@coop.example", "museum").status_code == 302


def test_the_wait_grows_with_failures_from_one_address(
    throttled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    client = throttled()
    for _ in range(5):
        assert _sign_in(client, "kemsu@coop.example", "wrong").status_code == 200
    first = _sign_in(client, "kemsu@coop.example", "wrong")
    assert first.status_code == 429 and int(first.headers["Retry-After"]) <= 40
    clock.now += 41
    for _ in range(5):
        assert _sign_in(client, "kemsu@coop.example", "wrong").status_code == 200
    second = _sign_in(client, "kemsu@coop.example", "wrong")
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 8 * 60  # 10 per 10 minutes
    assert f"{THROTTLED_RU} {second.headers['Retry-After']} с." in second.text


def test_successful_sign_ins_do_not_count(throttled: Any) -> None:
    client = throttled()
    for _ in range(8):
        assert _sign_in(client, "school31@coop.example", "school31").status_code == 302
        client.get("/logout")


def test_one_address_trying_many_accounts_is_stopped(throttled: Any) -> None:
    client = throttled("127.0.0.77")
    for i in range(30):
        assert _sign_in(client, f"nobody{i}@coop.example", "wrong").status_code == 200
    assert _sign_in(client, "school31@coop.example", "school31").status_code == 429
    assert _sign_in(throttled("127.0.0.78"), "school31@coop.example", "school31").status_code == 302


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_the_account_ceiling_stops_a_distributed_guesser(throttled: Any, encoding: str) -> None:
    for i in range(50):
        client = throttled(f"127.0.1.{i}")
        token = csrf_token(client.get("/login").text)
        assert ENCODINGS[encoding](client, token, SPELLINGS[i % len(SPELLINGS)], "wrong").status_code == 200
    refused = _sign_in(throttled("127.0.2.1"), "kemsu@coop.example", "kemsu")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 3600
    assert _sign_in(throttled("127.0.2.2"), "museum@coop.example", "museum").status_code == 302


def test_the_owner_signs_in_from_a_known_address_past_the_ceiling(throttled: Any) -> None:
    home = throttled("127.0.3.1")
    assert _sign_in(home, "kemsu@coop.example", "kemsu").status_code == 302  # the owner's usual address
    for i in range(50):
        assert _sign_in(throttled(f"127.0.4.{i}"), "kemsu@coop.example", "wrong").status_code == 200
    assert _sign_in(throttled("127.0.5.1"), "kemsu@coop.example", "kemsu").status_code == 429  # a new address
    assert _sign_in(throttled("127.0.3.1"), "kemsu@coop.example", "kemsu").status_code == 302


def test_the_password_page_counts_the_signed_in_account(throttled: Any) -> None:
    client = throttled("127.0.0.5")
    assert _sign_in(client, "school31@coop.example", "school31").status_code == 302
    for i in range(5):
        token = csrf_token(client.get("/password").text)
        answer = client.post(
            "/password",
            data={
                "csrf_token": token,
                "email": f"rotating{i}@coop.example",  # a field the client sends changes nothing
                "current_password": f"guess{i}",
                "new_password": GOOD_PASSWORD,
                "confirm": GOOD_PASSWORD,
            },
        )
        assert answer.status_code == 200
    token = csrf_token(client.get("/password").text)
    refused = client.post(
        "/password",
        data={
            "csrf_token": token,
            "email": "yet-another@coop.example",
            "current_password": "school31",
            "new_password": GOOD_PASSWORD,
            "confirm": GOOD_PASSWORD,
        },
    )
    assert refused.status_code == 429
    assert f"{THROTTLED_RU} {refused.headers['Retry-After']} с." in refused.text
    assert 'name="current_password"' in refused.text
    # The same account's budget holds at the sign-in form too, from that address.
    assert _sign_in(throttled("127.0.0.5"), "school31@coop.example", "school31").status_code == 429


def _json_sign_in(client: FlaskClient, email: str, password: str) -> Any:
    token = csrf_token(client.get("/login").text)
    return client.post("/login", json={"email": email, "password": password}, headers={"X-CSRFToken": token})


ENCODINGS = {
    "form": lambda client, token, email, password: client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    ),
    "multipart": lambda client, token, email, password: client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        content_type="multipart/form-data",
    ),
    "json": lambda client, token, email, password: client.post(
        "/login", json={"email": email, "password": password}, headers={"X-CSRFToken": token}
    ),
    "form with a charset": lambda client, token, email, password: client.post(
        "/login",
        data=f"email={email}&password={password}&csrf_token={token}".encode(),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    ),
    "query string": lambda client, token, email, password: client.post(
        f"/login?email={email}&password={password}", headers={"X-CSRFToken": token}
    ),
    "plain text": lambda client, token, email, password: client.post(
        "/login",
        data=f"email={email}&password={password}&csrf_token={token}",
        content_type="text/plain",
        headers={"X-CSRFToken": token},
    ),
    "json list": lambda client, token, email, password: client.post(
        "/login", json=[email, password], headers={"X-CSRFToken": token}
    ),
}
READABLE = ["form", "multipart", "json", "form with a charset"]  # what the sign-in form reads
# The same account, spelt as a person or a script might.
SPELLINGS = ["kemsu@coop.example", "  KEMSU@coop.example ", "Kemsu@Coop.Example", "ｋｅｍｓｕ@coop.example"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_body_encoding_is_counted(throttled: Any, encoding: str) -> None:
    """What the form reads counts against the account however the e-mail is spelt;
    what it cannot read checks no password and still counts."""
    send = ENCODINGS[encoding]
    client = throttled("127.0.0.9")
    for i in range(5):
        token = csrf_token(client.get("/login").text)
        answer = send(client, token, SPELLINGS[i % len(SPELLINGS)], "wrong")
        assert answer.status_code == 200, answer.text[:300]
    token = csrf_token(client.get("/login").text)
    assert send(client, token, "kemsu@coop.example", "kemsu").status_code == 429


@pytest.mark.parametrize("encoding", READABLE)
def test_each_readable_encoding_is_a_real_sign_in(throttled: Any, encoding: str) -> None:
    """What the form reads signs in with the right password: so it must be counted."""
    client = throttled()
    token = csrf_token(client.get("/login").text)
    assert ENCODINGS[encoding](client, token, "ｋｅｍｓｕ@coop.example", "kemsu").status_code == 302


@pytest.mark.parametrize("encoding", READABLE)
def test_spellings_and_encodings_share_one_account_budget(throttled: Any, encoding: str) -> None:
    client = throttled("127.0.0.10")
    for name, spelling in zip(READABLE, SPELLINGS, strict=True):  # four failures, each sent differently
        token = csrf_token(client.get("/login").text)
        assert ENCODINGS[name](client, token, spelling, "wrong").status_code == 200
    token = csrf_token(client.get("/login").text)
    assert ENCODINGS[encoding](client, token, "kemsu@coop.example", "wrong").status_code == 200  # the 5th
    token = csrf_token(client.get("/login").text)
    assert ENCODINGS[encoding](client, token, "kemsu@coop.example", "kemsu").status_code == 429


def test_a_file_in_place_of_the_email_is_refused_plainly(throttled: Any) -> None:
    client = throttled()
    token = csrf_token(client.get("/login").text)
    answer = client.post(
        "/login",
        data={
            "email": (io.BytesIO(b"kemsu@coop.example"), "email.txt"),
            "password": "kemsu",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200


def test_redis_stores_the_counters_when_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.load(tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    assert config.load(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


# --- password policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short", False),
        ("password1234", False),
        ("qwertyuiop", False),
        ("1234567890", False),
        ("P@ssw0rd2024", False),
        ("aaaaaaaaaaaa", False),
        ("x" * 129, False),
        (GOOD_PASSWORD, True),
        ("correct horse battery staple", True),
        ("Tr0ub4dor&3-kuznetsk", True),
    ],
)
def test_password_policy(app: Flask, password: str, ok: bool) -> None:
    with app.test_request_context():
        assert (passwords.problems(password) == []) is ok


def test_password_must_not_lean_on_the_persons_own_words(app: Flask) -> None:
    with app.test_request_context():
        assert passwords.problems("ivanovpetr2024") == []
        assert passwords.problems("ivanovpetr2024", ["ivanovpetr@school31.example"])


def test_create_user_refuses_a_common_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "coop",
            "create-user",
            "--email",
            "new@coop.example",
            "--password",
            "password1234",
            "--role",
            "admin",
        ]
    )
    assert result.exit_code != 0 and "«password1234»" in result.output and "Traceback" not in result.output
    with app.app_context():
        assert (
            db.session.execute(select(m.User).filter_by(email="new@coop.example")).scalar_one_or_none()
            is None
        )


# --- temporary passwords and the password page -------------------------------------------


def _user_form(app: Flask, email: str, **changes: Any) -> dict[str, Any]:
    with app.app_context():
        user = _user(email)
        form = {
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "partner": user.partner_id or "",
            "school": user.school_id or "",
            "active": "y",
        }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def _set_by_admin(app: Flask, client_as: Any, email: str, **changes: Any) -> Any:
    admin = client_as("admin")
    with app.app_context():
        url = f"/admin/user/edit/?id={_user(email).id}"
    data = _user_form(app, email, **changes)
    data["csrf_token"] = csrf_token(admin.get(url).text)
    return admin.post(url, data=data)


@pytest.mark.usefixtures("fresh_db")
def test_admin_cannot_set_a_common_password(app: Flask, client_as: Any) -> None:
    response = _set_by_admin(app, client_as, "kemsu@coop.example", new_password="password1234")
    assert response.status_code == 200  # the form again, with the reason
    assert "«password1234»" in response.text
    with app.app_context():
        assert _user("kemsu@coop.example").check_password("kemsu")


@pytest.mark.usefixtures("fresh_db")
def test_temporary_password_must_be_changed_before_anything_else(app: Flask, client_as: Any) -> None:
    response = _set_by_admin(
        app, client_as, "kemsu@coop.example", new_password="temporary-kemsu-2026", must_change_password="y"
    )
    assert response.status_code == 302
    with app.app_context():
        assert _user("kemsu@coop.example").must_change_password

    client = client_as("anonymous")
    response = _sign_in(client, "kemsu@coop.example", "temporary-kemsu-2026", next_url="/admin/event/")
    assert response.headers["Location"].startswith("/password?next=")
    for url in ("/admin/", "/admin/event/", "/api/plan.json?school=1&year=2019"):
        assert client.get(url).headers["Location"].startswith("/password"), url
    page = client.get("/password")
    assert page.status_code == 200 and "Coop" in page.text

    def change(current: str, new: str, confirm: str | None = None) -> Any:
        data = {"current_password": current, "new_password": new, "confirm": confirm or new}
        return client.post("/password?next=/admin/event/", data={**data, "csrf_token": csrf_token(page.text)})

    assert change("not-the-password", GOOD_PASSWORD).status_code == 200
    assert change("temporary-kemsu-2026", "password1234").status_code == 200
    assert change("temporary-kemsu-2026", GOOD_PASSWORD, "something else").status_code == 200
    assert change("temporary-kemsu-2026", "temporary-kemsu-2026").status_code == 200
    with app.app_context():
        assert _user("kemsu@coop.example").must_change_password
    done = change("temporary-kemsu-2026", GOOD_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/event/"
    assert client.get("/admin/event/").status_code == 200
    with app.app_context():
        user = _user("kemsu@coop.example")
        assert not user.must_change_password and user.check_password(GOOD_PASSWORD)


@pytest.mark.usefixtures("fresh_db")
def test_changing_the_password_ends_the_other_sessions(app: Flask, client_as: Any) -> None:
    elsewhere, here = client_as("museum"), client_as("museum")
    page = here.get("/password")
    response = here.post(
        "/password",
        data={
            "current_password": "museum",
            "new_password": GOOD_PASSWORD,
            "confirm": GOOD_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert "/login" in elsewhere.get("/admin/").headers["Location"]
    assert _sign_in(client_as("anonymous"), "museum@coop.example", "museum").status_code == 200


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_password_page_for_every_role(client_as: Any, key: str) -> None:
    response = client_as(key).get("/password")
    if ACCOUNTS[key].role is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        return
    assert response.status_code == 200
    assert ACCOUNTS[key].email in response.text
    for marker in MARKERS.get(OTHER_SCHOOL.get(key, ""), ()):
        assert marker not in response.text


# --- the deployment check ---------------------------------------------------------------

SAFE_CONFIG = {
    "DEBUG": False,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://coop@db/coop",
    "HTTPS": True,
    "SHOW_DEMO_ACCOUNTS": False,
    "AUTO_MIGRATE": False,
    "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
}
SAFE_ENV = {"SECRET_KEY": "k" * 64, "WEB_CONCURRENCY": "4"}


def test_check_deploy_passes_a_production_configuration() -> None:
    assert security.check_deploy(SAFE_CONFIG, SAFE_ENV) == []


@pytest.mark.parametrize(
    ("config_changes", "env_changes", "code"),
    [
        ({"DEBUG": True}, {}, "coop.W001"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/coop.sqlite3"}, {}, "coop.W002"),
        (
            {"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/coop.sqlite3"},
            {"WEB_CONCURRENCY": "", "GUNICORN_CMD_ARGS": "--bind 0.0.0.0 --workers=3"},
            "coop.W002",
        ),
        ({}, {"SECRET_KEY": ""}, "coop.W003"),
        ({}, {"SECRET_KEY": "secret"}, "coop.W004"),
        ({"HTTPS": False}, {}, "coop.W005"),
        ({"SHOW_DEMO_ACCOUNTS": True}, {}, "coop.W006"),
        ({"AUTO_MIGRATE": True}, {}, "coop.W007"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, {}, "coop.W008"),
    ],
)
def test_check_deploy_names_each_unsafe_setting(
    config_changes: dict[str, Any], env_changes: dict[str, str], code: str
) -> None:
    findings = security.check_deploy({**SAFE_CONFIG, **config_changes}, {**SAFE_ENV, **env_changes})
    assert [finding.code for finding in findings] == [code]


def test_sqlite_with_one_worker_is_fine() -> None:
    config_ = {**SAFE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/coop.sqlite3"}
    assert security.check_deploy(config_, {**SAFE_ENV, "WEB_CONCURRENCY": "1"}) == []


def test_check_deploy_command_fails_on_the_development_defaults(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["coop", "check-deploy"])
    assert result.exit_code != 0
    for code in ("coop.W005", "coop.W006", "coop.W007", "coop.W009"):  # no HTTPS, demo accounts, migrations
        assert code in result.output
    assert "admin@coop.example" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("fresh_db")
def test_demo_accounts_pass_once_their_passwords_are_changed(app: Flask) -> None:
    with app.app_context():
        assert [finding.code for finding in security.check_demo_accounts()] == ["coop.W009"]
        for user in db.session.execute(select(m.User)).scalars():
            user.active = False  # or a new password: either way they no longer open
        db.session.commit()
        assert security.check_demo_accounts() == []


def _closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_check_deploy_names_a_counters_store_that_does_not_answer() -> None:
    assert security.check_limiter_storage("memory://") == []
    (finding,) = security.check_limiter_storage(f"redis://coop:secret@127.0.0.1:{_closed_port()}/0")
    assert finding.code == "coop.W010" and "не отвечает" in finding.message
    assert "secret" not in finding.message


def test_a_reachable_redis_passes_the_check() -> None:
    try:
        redis.Redis(host="127.0.0.1", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    assert security.check_limiter_storage("redis://127.0.0.1:6379/13") == []


FALLBACK_SCRIPT = """
import sys
from coop import create_app
folder = sys.argv[1]
app = create_app({
    "TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/down.sqlite3", "SECRET_KEY": "k",
    "UPLOAD_FOLDER": folder, "AUTO_MIGRATE": True, "WTF_CSRF_ENABLED": False,
    "RATELIMIT_STORAGE_URI": sys.argv[2],
})
client = app.test_client()
print("forgot", client.post("/password/forgot", data={"email": "a@coop.example"}).status_code)
print("sign-in", *[client.post("/login", data={"email": "a@coop.example", "password": "x"}).status_code
      for _ in range(6)])
"""


def test_sign_in_and_recovery_keep_working_while_the_counters_store_is_down(tmp_path: Path) -> None:
    """Redis gone: each process counts by itself meanwhile (and says so in the log), rather
    than answering 500 to every sign-in. In a process of its own: the limiter is one object."""
    result = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT, str(tmp_path), f"redis://127.0.0.1:{_closed_port()}/0"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "COOP_SKIP_E2E": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "forgot 200" in result.stdout
    assert "sign-in 200 200 200 200 200 429" in result.stdout  # 5 per 40 s, counted in the process
    assert "storage unreachable" in result.stderr
