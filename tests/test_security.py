"""Hardening: security headers and CSP nonces, session lifetime, login throttling,
the password policy, temporary passwords and the deployment check."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coop import config, create_app, passwords, security
from coop import models as m
from coop.extensions import db, limiter

from .conftest import ACCOUNTS, csrf_token
from .test_access_matrix import MARKERS, OTHER_SCHOOL

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


def _age_session(client: FlaskClient, *, signed_in_ago: float = 0, seen_ago: float = 0) -> None:
    now = int(time.time())
    with client.session_transaction() as session:
        session[security.SIGNED_IN_AT] = now - int(signed_in_ago)
        session[security.SEEN_AT] = now - int(seen_ago)


def _flashes(client: FlaskClient) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def test_session_ends_after_30_minutes_idle(client_as: Any) -> None:
    client = client_as("school31")
    _age_session(client, signed_in_ago=31 * 60, seen_ago=31 * 60)
    response = client.get("/admin/event/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/event/")
    assert any("30" in message for message in _flashes(client))
    assert "/login" in client.get("/admin/").headers["Location"]  # signed out for good


def test_activity_keeps_the_session_alive(client_as: Any) -> None:
    client = client_as("school31")
    _age_session(client, signed_in_ago=2 * 60 * 60, seen_ago=29 * 60)
    assert client.get("/admin/event/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[security.SEEN_AT] < 60


def test_session_ends_12_hours_after_sign_in_even_when_active(client_as: Any) -> None:
    client = client_as("school31")
    _age_session(client, signed_in_ago=12 * 60 * 60 + 1, seen_ago=10)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert any("12" in message for message in _flashes(client))


def test_a_session_without_its_clocks_is_not_trusted(client_as: Any) -> None:
    client = client_as("school31")
    with client.session_transaction() as session:
        del session[security.SIGNED_IN_AT]
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


@pytest.fixture(scope="module")
def throttled_app(app: Flask) -> Iterator[Flask]:
    """The app once more on the same database, with throttling on."""
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            "AUTO_MIGRATE": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    yield other
    limiter.enabled = False  # the extension is one object: leave it off for the other tests
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def throttled(throttled_app: Flask) -> Iterator[Any]:
    """throttled("127.0.0.7") → a client of the throttled app from that address."""
    limiter.enabled = True
    limiter.reset()

    def make(address: str = "127.0.0.2") -> FlaskClient:
        client = throttled_app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    yield make
    limiter.reset()
    limiter.enabled = False


def test_five_failures_from_one_address_then_429(throttled: Any) -> None:
    client = throttled()
    for i in range(5):
        assert _sign_in(client, f"nobody{i}@coop.example", "wrong-password").status_code == 200
    refused = _sign_in(client, "school31@coop.example", "school31")  # even the right password now
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 40
    assert f" {refused.headers['Retry-After']} " in refused.text  # how long to wait, in the message
    assert 'name="email"' in refused.text  # the sign-in page again, with the message
    assert _sign_in(throttled("127.0.0.3"), "school31@coop.example", "school31").status_code == 302


def test_successful_sign_ins_do_not_count(throttled: Any) -> None:
    client = throttled()
    for _ in range(8):
        assert _sign_in(client, "school31@coop.example", "school31").status_code == 302
        client.get("/logout")


def test_ten_failures_per_account_from_any_addresses_then_429(throttled: Any) -> None:
    for i in range(10):
        assert _sign_in(throttled(f"127.0.1.{i}"), "KEMSU@coop.example", "wrong").status_code == 200
    assert _sign_in(throttled("127.0.2.1"), "kemsu@coop.example", "kemsu").status_code == 429
    assert _sign_in(throttled("127.0.2.2"), "museum@coop.example", "museum").status_code == 302


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
