"""Sign-ins go to a sign-in log of their own (models.SignIn), read by the admin only;
the history of changes records none of them.

The log's endpoints are rows of tests/test_access_matrix.py too ("signin").
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db

from .conftest import csrf_token


def _sign_in(client: Any, email: str, password: str, user_agent: str = "TestBrowser/1.0") -> Any:
    token = csrf_token(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers={"User-Agent": user_agent},
    )


def _last_id(model: type) -> int:
    return db.session.execute(select(func.max(model.id))).scalar_one() or 0


def _sign_ins_after(last: int) -> list[m.SignIn]:
    stmt = select(m.SignIn).where(m.SignIn.id > last).order_by(m.SignIn.id)
    return list(db.session.execute(stmt).scalars())


def test_a_sign_in_is_logged_and_not_in_the_history(app: Flask, client_as: Any, fresh_db: None) -> None:
    with app.app_context():
        history, sign_ins = _last_id(m.History), _last_id(m.SignIn)
    client = client_as("anonymous")
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    browser = "Mozilla/5.0 " + "x" * 400
    assert _sign_in(client, "School31@coop.example", "school31", browser).status_code == 302
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        assert user.last_login_at is not None  # the users list still shows it
        new_history = db.session.execute(select(m.History).where(m.History.id > history)).scalars().all()
        assert [(h.table_name, h.action) for h in new_history] == []
        [entry] = _sign_ins_after(sign_ins)
        assert (entry.user_id, entry.email, entry.ip, entry.success, entry.reason) == (
            user.id,
            "School31@coop.example",  # as typed
            "10.1.2.3",
            True,
            "ok",
        )
        assert entry.user_agent.startswith("Mozilla/5.0 ") and len(entry.user_agent) == 255


def test_failed_sign_ins_are_logged(app: Flask, client_as: Any, fresh_db: None) -> None:
    with app.app_context():
        last = _last_id(m.SignIn)
        school31 = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        school31_id = school31.id
    client = client_as("anonymous")
    assert _sign_in(client, "school31@coop.example", "wrong").status_code == 200
    assert _sign_in(client, "nobody@coop.example", "wrong").status_code == 200
    with app.app_context():
        rows = [(s.user_id, s.email, s.success, s.reason, s.ip) for s in _sign_ins_after(last)]
    assert rows == [
        (school31_id, "school31@coop.example", False, "bad_password", "127.0.0.1"),
        (None, "nobody@coop.example", False, "unknown_account", "127.0.0.1"),
    ]


def test_a_disabled_account_is_logged(app: Flask, client_as: Any, fresh_db: None) -> None:
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="museum@coop.example")).scalar_one()
        user.active = False
        db.session.commit()
        last = _last_id(m.SignIn)
    assert _sign_in(client_as("anonymous"), "museum@coop.example", "museum").status_code == 200
    with app.app_context():
        assert [(s.success, s.reason) for s in _sign_ins_after(last)] == [(False, "inactive")]


def test_throttled_attempts_are_logged(throttled_app: Flask, throttled: Any) -> None:
    client = throttled("127.0.0.9")
    with throttled_app.app_context():
        last = _last_id(m.SignIn)
    for _ in range(5):
        assert _sign_in(client, "kemsu@coop.example", "wrong").status_code == 200
    assert _sign_in(client, "kemsu@coop.example", "kemsu").status_code == 429
    with throttled_app.app_context():
        rows = _sign_ins_after(last)
        assert [s.reason for s in rows] == ["bad_password"] * 5 + ["throttled"]
        assert rows[-1].user_id is not None and not rows[-1].success
        # The log is shared with the other tests' app: leave it as it was.
        for row in rows:
            db.session.delete(row)
        db.session.commit()


@pytest.mark.parametrize("key", ["coordinator", "school31", "kemsu"])
def test_only_the_admin_opens_the_log(client_as: Any, key: str) -> None:
    client = client_as(key)
    for url in ("/admin/signin/", "/admin/signin/export/csv/", "/admin/signin/details/?id=1"):
        assert client.get(url).status_code == 403, url
    assert "/admin/signin/" not in client.get("/admin/").get_data(as_text=True)


def test_the_admin_reads_the_log_in_russian(app: Flask, client_as: Any, fresh_db: None) -> None:
    _sign_in(client_as("anonymous"), "gymnasium17@coop.example", "wrong")
    client = client_as("admin")
    home = client.get("/admin/").get_data(as_text=True)
    assert "/admin/signin/" in home and "Журнал входов" in home
    page = client.get("/admin/signin/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Журнал входов" in body
    assert "gymnasium17@coop.example" in body and "Неверный пароль" in body and "Вход выполнен" in body
    # Read-only: no form to write a row, for the admin either.
    assert client.get("/admin/signin/new/").status_code == 403
    with app.app_context():
        row_id = _last_id(m.SignIn)
    assert client.get(f"/admin/signin/edit/?id={row_id}").status_code == 403
