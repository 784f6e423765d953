"""Password recovery (coop/recovery.py): «Забыли пароль?» → a message with a link valid for
an hour → a new password under the policy, every other session ended; the same answer for
any address; budgets of its own, apart from the sign-in door's."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from coop import models as m
from coop import recovery
from coop.extensions import db

from .conftest import csrf_token, login

GOOD_PASSWORD = "шесть зелёных слонов"
ANSWER_RU = "Проверьте почту"
LINK_RE = re.compile(r"http://[^\s]+/password/reset/([A-Za-z0-9_-]+)")

pytestmark = pytest.mark.usefixtures("fresh_db")


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forgot page's fixed answer time, off but where a test measures it."""
    monkeypatch.setattr(recovery, "ANSWER_SECONDS", 0.0)


def _ask(client: FlaskClient, email: str) -> Any:
    page = client.get("/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token(page.text)})


def _messages(app: Flask, email: str) -> list[m.Notification]:
    with app.app_context():
        stmt = select(m.Notification).where(
            func.lower(m.Notification.email) == email.lower(), m.Notification.kind == "password_reset"
        )
        return list(db.session.execute(stmt.order_by(m.Notification.id)).scalars())


def _link(app: Flask, email: str) -> str:
    """The path of the last reset link mailed to email."""
    message = _messages(app, email)[-1]
    assert message.link in message.body_text and message.link in message.body_html
    match = LINK_RE.search(message.body_text)
    assert match is not None
    return f"/password/reset/{match.group(1)}"


def _reset(client: FlaskClient, path: str, password: str = GOOD_PASSWORD, again: str | None = None) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(
        path,
        data={"new_password": password, "confirm": again or password, "csrf_token": csrf_token(page.text)},
    )


def _user(app: Flask, email: str) -> m.User:
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email=email)).scalar_one()
        db.session.expunge(user)
        return user


def _sign_in(client: FlaskClient, email: str, password: str) -> Any:
    page = client.get("/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    )


def test_the_login_page_links_to_recovery(client_as: Any) -> None:
    page = client_as("anonymous").get("/login").text
    assert 'href="/password/forgot"' in page and "Забыли пароль?" in page


def test_the_whole_recovery(app: Flask, client_as: Any) -> None:
    elsewhere = client_as("kemsu")  # a session on another device
    assert elsewhere.get("/admin/").status_code == 200
    with app.app_context():
        db.session.execute(
            m.User.__table__.update()
            .where(m.User.email == "kemsu@coop.example")
            .values(must_change_password=True)
        )
        db.session.commit()
    anonymous = client_as("anonymous")
    answer = _ask(anonymous, "  KemSU@coop.example ")  # any spelling of the address
    assert answer.status_code == 200 and ANSWER_RU in answer.text
    (message,) = _messages(app, "kemsu@coop.example")
    assert message.subject == "Восстановление пароля в Coop"
    assert "1 час" in message.body_text and message.user_id is None  # mailed, never listed in the site
    path = _link(app, "kemsu@coop.example")

    weak = _reset(anonymous, path, "1234567890")
    assert weak.status_code == 200 and "пароль" in weak.text.lower()
    mismatch = _reset(anonymous, path, GOOD_PASSWORD, GOOD_PASSWORD + "!")
    assert "Пароли не совпадают" in mismatch.text
    user = _user(app, "kemsu@coop.example")
    assert _session_count(app, user.id) >= 1  # the other device's

    done = _reset(anonymous, path)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"
    home = anonymous.get("/admin/")
    assert home.status_code == 200 and "Пароль изменён" in home.text  # signed in, no forced change
    user = _user(app, "kemsu@coop.example")
    assert user.check_password(GOOD_PASSWORD) and not user.must_change_password
    assert _session_count(app, user.id) == 1  # only the one the reset signed in
    # The other device's session has ended; the old password opens nothing.
    assert "/login" in elsewhere.get("/admin/").headers["Location"]
    assert _sign_in(client_as("anonymous"), "kemsu@coop.example", "kemsu").status_code == 200
    assert _sign_in(client_as("anonymous"), "kemsu@coop.example", GOOD_PASSWORD).status_code == 302
    # Used: the link opens nothing any more, and says so in Russian.
    again = client_as("anonymous").get(path)
    assert again.status_code == 410 and "уже использована" in again.text


def _session_count(app: Flask, user_id: int) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(m.UserSession).filter_by(user_id=user_id)
        return db.session.execute(stmt).scalar_one()


def test_a_reset_closes_the_accounts_earlier_links(app: Flask, client_as: Any) -> None:
    anonymous = client_as("anonymous")
    _ask(anonymous, "museum@coop.example")
    first = _link(app, "museum@coop.example")
    _ask(anonymous, "museum@coop.example")
    second = _link(app, "museum@coop.example")
    assert first != second
    assert _reset(anonymous, second).status_code == 302
    refused = client_as("anonymous").get(first)
    assert refused.status_code == 410


@pytest.mark.parametrize(
    "email", ["nobody@coop.example", "disabled", "trashed"], ids=["unknown", "disabled", "trashed"]
)
def test_the_same_answer_and_no_message_without_a_live_account(
    app: Flask, client_as: Any, email: str
) -> None:
    if email in ("disabled", "trashed"):
        with app.app_context():
            values = {"active": False} if email == "disabled" else {"deleted_at": m.utcnow()}
            db.session.execute(
                m.User.__table__.update().where(m.User.email == "museum@coop.example").values(**values)
            )
            db.session.commit()
        email = "museum@coop.example"
    known = _ask(client_as("anonymous"), "school31@coop.example")
    answer = _ask(client_as("anonymous"), email)
    assert answer.status_code == known.status_code == 200
    assert _page_text(answer.text) == _page_text(known.text)
    assert _messages(app, email) == []


def _page_text(html: str) -> str:
    return re.sub(r'nonce="[^"]*"', "", html)


def test_both_answers_take_the_same_fixed_time(
    app: Flask, client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery, "ANSWER_SECONDS", 0.3)
    for email in ("school31@coop.example", "nobody@coop.example"):
        client = client_as("anonymous")
        token = csrf_token(client.get("/password/forgot").text)
        started = time.monotonic()
        client.post("/password/forgot", data={"email": email, "csrf_token": token})
        assert 0.3 <= time.monotonic() - started < 1.5


def test_a_bad_address_is_told_plainly(client_as: Any) -> None:
    answer = _ask(client_as("anonymous"), "not an address")
    assert answer.status_code == 200 and "Введите адрес электронной почты" in answer.text
    assert client_as("anonymous").post("/password/forgot", data={"email": "a@b.c"}).status_code == 400


@pytest.mark.parametrize("how", ["tampered", "unknown", "foreign", "expired", "disabled"])
def test_a_bad_link_answers_a_russian_page_and_changes_nothing(app: Flask, client_as: Any, how: str) -> None:
    anonymous = client_as("anonymous")
    _ask(anonymous, "museum@coop.example")
    path = _link(app, "museum@coop.example")
    secret = path.rsplit("/", 1)[1]
    if how == "tampered":
        path = path[:-1] + ("A" if path[-1] != "A" else "B")
    elif how == "unknown":
        path = "/password/reset/" + "x" * 43
    elif how == "foreign":  # an invitation's link at the reset's address
        path = f"/invitation/{secret}"
    with app.app_context():
        if how == "expired":
            db.session.execute(
                m.Token.__table__.update().values(expires_at=m.utcnow() - dt.timedelta(seconds=1))
            )
        if how == "disabled":
            db.session.execute(
                m.User.__table__.update().where(m.User.email == "museum@coop.example").values(active=False)
            )
        db.session.commit()
    before = _user(app, "museum@coop.example").password_hash
    token = csrf_token(anonymous.get("/password/forgot").text)
    fields = {"new_password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD, "name": "Х", "csrf_token": token}
    for method in ("get", "post"):
        answer = getattr(anonymous, method)(path, data=fields)
        assert answer.status_code in (404, 410) and "Ссылка не открывается" in answer.text
        assert "истёк" in answer.text if how == "expired" else "недействительна" in answer.text
    assert _user(app, "museum@coop.example").password_hash == before
    assert anonymous.get("/admin/").status_code == 302  # nobody signed in


def test_a_reset_link_cannot_open_an_invitation(app: Flask, client_as: Any) -> None:
    _ask(client_as("anonymous"), "museum@coop.example")
    secret = _link(app, "museum@coop.example").rsplit("/", 1)[1]
    assert client_as("anonymous").get(f"/invitation/{secret}").status_code == 404


# --- throttling: budgets of its own ----------------------------------------------------


def test_at_most_three_messages_an_hour_to_one_account(app: Flask, throttled: Any) -> None:
    for i in range(5):  # from five addresses: the account's budget is the account's
        answer = _ask(throttled(f"127.0.6.{i}"), "school31@coop.example")
        assert answer.status_code == 200 and ANSWER_RU in answer.text  # the same page when spent
    assert len(_messages(app, "school31@coop.example")) == 3
    _ask(throttled("127.0.6.9"), "gymnasium17@coop.example")
    assert len(_messages(app, "gymnasium17@coop.example")) == 1  # another account's budget is its own


def test_at_most_ten_requests_an_hour_from_one_address(app: Flask, throttled: Any) -> None:
    client = throttled("127.0.7.1")
    for i in range(10):
        _ask(client, f"nobody{i}@coop.example")
    answer = _ask(client, "school31@coop.example")
    assert answer.status_code == 200 and ANSWER_RU in answer.text
    assert _messages(app, "school31@coop.example") == []
    _ask(throttled("127.0.7.2"), "school31@coop.example")
    assert len(_messages(app, "school31@coop.example")) == 1


def test_a_throttled_sign_in_does_not_block_recovery(app: Flask, throttled: Any) -> None:
    client = throttled("127.0.8.1")
    for _ in range(5):
        _sign_in(client, "museum@coop.example", "wrong")
    assert _sign_in(client, "museum@coop.example", "museum").status_code == 429
    answer = _ask(client, "museum@coop.example")  # the same address, the same account
    assert answer.status_code == 200 and ANSWER_RU in answer.text
    assert len(_messages(app, "museum@coop.example")) == 1
    done = _reset(client, _link(app, "museum@coop.example"))
    assert done.status_code == 302  # and the link signs the owner in past the sign-in door
    assert client.get("/admin/").status_code == 200


def test_a_signed_in_user_can_still_log_in_elsewhere_after_someone_asks(app: Flask, client_as: Any) -> None:
    """Asking for a link changes nothing by itself: the password stays, sessions go on."""
    session = client_as("school31")
    _ask(client_as("anonymous"), "school31@coop.example")
    assert session.get("/admin/").status_code == 200
    login(client_as("anonymous"), "school31@coop.example", "school31")
