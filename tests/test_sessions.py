"""Sessions the server can end (coop/sessions.py): a copied cookie opens nothing after
sign-out; a new password, disabling an account or moving it to the trash ends its
sessions; «My sessions» lists and ends a user's own, never another's."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from coop import formats, sessions, trash, users
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token, login

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
PAGE = "/admin/sessions/"


# --- helpers other test modules use too ---------------------------------------------------


def session_row(app: Flask, client: FlaskClient) -> m.UserSession | None:
    """The row of the client's session; None when it has ended (or never began)."""
    with client.session_transaction() as cookie:
        key = cookie.get(sessions.KEY)
    if key is None:
        return None
    with app.app_context():
        stmt = select(m.UserSession).filter_by(key_hash=sessions.hash_key(key))
        return db.session.execute(stmt).scalar_one_or_none()


def age_session(app: Flask, client: FlaskClient, *, signed_in_ago: float = 0, seen_ago: float = 0) -> None:
    """Move the client's session back in time: signed in, and last seen, so long ago (seconds)."""
    row = session_row(app, client)
    assert row is not None
    now = m.utcnow()
    with app.app_context():
        db.session.execute(
            update(m.UserSession)
            .where(m.UserSession.id == row.id)
            .values(
                created_at=now - dt.timedelta(seconds=signed_in_ago),
                last_seen_at=now - dt.timedelta(seconds=seen_ago),
            )
        )
        db.session.commit()


# --- local helpers -------------------------------------------------------------------------


def _signed_in(app: Flask, key: str, user_agent: str = "", address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    login(client, ACCOUNTS[key].email, ACCOUNTS[key].password)
    return client


def _opens(client: FlaskClient, url: str = "/admin/event/") -> bool:
    return client.get(url).status_code == 200


def _post(client: FlaskClient, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client.get("/admin/").text), **data})


def _user(email: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=email)).scalar_one()


def _rows_of(app: Flask, key: str) -> list[int]:
    with app.app_context():
        user = select(m.User.id).filter_by(email=ACCOUNTS[key].email).scalar_subquery()
        stmt = select(m.UserSession.id).where(m.UserSession.user_id == user).order_by(m.UserSession.id)
        return list(db.session.execute(stmt).scalars())


def _all_rows(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(m.UserSession)).scalar_one()


# --- sign-out --------------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app: Flask) -> None:
    owner = _signed_in(app, "school31")
    thief = app.test_client()  # same address and browser: what a stolen cookie comes with
    thief.set_cookie("session", owner.get_cookie("session").value)
    assert _opens(thief)  # the copy works while the session lives...
    assert _post(owner, "/logout").status_code == 302
    for url in ("/admin/", "/admin/event/", PAGE, "/admin/calendar/?year=2019"):
        response = thief.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert thief.get("/api/plan.json?school=1&year=2019").status_code == 401
    assert session_row(app, owner) is None


def test_signing_in_again_after_all_this_works(app: Flask) -> None:
    client = _signed_in(app, "kemsu")
    _post(client, "/logout")
    assert not _opens(client)
    login(client, ACCOUNTS["kemsu"].email, ACCOUNTS["kemsu"].password)
    assert _opens(client)
    assert session_row(app, client) is not None


def test_sign_in_starts_a_new_session_row_and_clears_the_over_ones(app: Flask) -> None:
    old = _signed_in(app, "coordinator")
    age_session(app, old, signed_in_ago=13 * 60 * 60, seen_ago=13 * 60 * 60)
    stale = session_row(app, old)
    fresh = _signed_in(app, "museum", user_agent=FIREFOX_WINDOWS, address="127.0.0.9")
    row = session_row(app, fresh)
    assert row is not None and row.ip == "127.0.0.9" and row.user_agent == FIREFOX_WINDOWS
    assert len(row.key_hash) == 64  # the hash; the key itself is only in the cookie
    with fresh.session_transaction() as cookie:
        assert sessions.hash_key(cookie[sessions.KEY]) == row.key_hash != cookie[sessions.KEY]
    with app.app_context():  # (SQLite may give the new row the old one's id)
        stmt = select(m.UserSession).filter_by(key_hash=stale.key_hash)
        assert db.session.execute(stmt).scalar_one_or_none() is None


# --- expiry ------------------------------------------------------------------------------------


def test_last_seen_is_written_at_most_once_a_minute(app: Flask) -> None:
    client = _signed_in(app, "school31")
    age_session(app, client, seen_ago=30)
    before = session_row(app, client).last_seen_at
    assert _opens(client)
    assert session_row(app, client).last_seen_at == before  # no write for this request
    age_session(app, client, seen_ago=61)
    assert _opens(client)
    assert (m.utcnow() - session_row(app, client).last_seen_at).total_seconds() < 5


def test_an_idle_session_is_over_and_no_longer_listed(app: Flask) -> None:
    idle, active = _signed_in(app, "gymnasium17"), _signed_in(app, "gymnasium17")
    idle_id = session_row(app, idle).id
    age_session(app, idle, signed_in_ago=31 * 60, seen_ago=31 * 60)
    assert f'name="id" value="{idle_id}"' not in active.get(PAGE).text
    assert "/login" in idle.get("/admin/").headers["Location"]
    assert session_row(app, idle) is None


# --- changes of the account ----------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_db")
def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app: Flask) -> None:
    this, other = _signed_in(app, "school31"), _signed_in(app, "school31")
    neighbour = _signed_in(app, "gymnasium17")
    page = this.get("/password")
    response = this.post(
        "/password",
        data={
            "csrf_token": csrf_token(page.text),
            "current_password": "school31",
            "new_password": "шесть зелёных слонов",
            "confirm": "шесть зелёных слонов",
        },
    )
    assert response.status_code == 302
    assert _opens(this) and not _opens(other) and _opens(neighbour)
    assert _rows_of(app, "school31") == [session_row(app, this).id]
    login(other, ACCOUNTS["school31"].email, "шесть зелёных слонов")  # the new password signs in
    assert _opens(other)


@pytest.mark.usefixtures("fresh_db")
def test_disabling_an_account_in_the_admin_ends_all_its_sessions(app: Flask) -> None:
    partner, partner_too = _signed_in(app, "kemsu"), _signed_in(app, "kemsu")
    admin = _signed_in(app, "admin")
    with app.app_context():
        user = _user("kemsu@coop.example")
        user_id, partner_id = user.id, user.partner_id
    url = f"/admin/user/edit/?id={user_id}"
    response = admin.post(
        url,
        data={
            "csrf_token": csrf_token(admin.get(url).text),
            "email": "kemsu@coop.example",
            "name": "КемГУ",
            "role": "partner",
            "partner": partner_id,
        },  # "active" unchecked
    )
    assert response.status_code == 302
    assert _rows_of(app, "kemsu") == []
    assert not _opens(partner) and not _opens(partner_too) and _opens(admin)


@pytest.mark.usefixtures("fresh_db")
def test_an_admin_setting_a_new_password_ends_all_its_sessions(app: Flask) -> None:
    partner = _signed_in(app, "museum")
    with app.app_context():
        users.create_user(
            email="museum@coop.example", password="шесть зелёных слонов", role="partner", partner_name="музей"
        )
    assert _rows_of(app, "museum") == [] and not _opens(partner)


@pytest.mark.usefixtures("fresh_db")
def test_moving_an_account_to_the_trash_ends_its_sessions_and_restoring_it_does_not_revive_them(
    app: Flask,
) -> None:
    partner = _signed_in(app, "kemsu")
    admin = _signed_in(app, "admin")
    with app.app_context():
        user_id = _user("kemsu@coop.example").id
    assert _post(admin, "/admin/user/delete/", id=user_id).status_code == 302
    assert _rows_of(app, "kemsu") == [] and not _opens(partner)
    with app.app_context():
        batch = db.session.execute(
            select(m.User.deleted_batch).where(m.User.id == user_id), execution_options=trash.INCLUDE_DELETED
        ).scalar_one()
        trash.restore(batch)
        db.session.commit()
    assert not _opens(partner)  # the old cookie stays dead
    login(partner, ACCOUNTS["kemsu"].email, ACCOUNTS["kemsu"].password)
    assert _opens(partner)


@pytest.mark.usefixtures("fresh_db")
def test_an_account_disabled_anywhere_keeps_no_session_rows(app: Flask) -> None:
    partner = _signed_in(app, "kemsu")
    with app.app_context():
        _user("kemsu@coop.example").active = False
        db.session.commit()
        _user("kemsu@coop.example").active = True
        db.session.commit()
    assert _rows_of(app, "kemsu") == [] and not _opens(partner)  # re-enabled, still signed out


def test_end_all_returns_how_many_ended(app: Flask) -> None:
    for _ in range(2):
        _signed_in(app, "museum")
    with app.app_context():
        ended = sessions.end_all(_user("museum@coop.example"))
        db.session.commit()
    assert ended >= 2 and _rows_of(app, "museum") == []


# --- the page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_each_role_sees_only_its_own_sessions(app: Flask, key: str) -> None:
    if key == "anonymous":
        client = app.test_client()
        response = client.get(PAGE)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        for url in (PAGE + "end/", PAGE + "end-others/"):
            assert client.post(url, data={"id": 1}).status_code in (302, 400)
        return
    client, elsewhere = _signed_in(app, key), _signed_in(app, key)
    foreign = _signed_in(app, "museum" if key != "museum" else "kemsu")
    page = client.get(PAGE)
    assert page.status_code == 200 and "этот сеанс" in page.text
    listed = {int(found) for found in re.findall(r'name="id" value="(\d+)"', page.text)}
    assert session_row(app, elsewhere).id in listed and listed <= set(_rows_of(app, key))
    assert session_row(app, foreign).id not in listed


def test_the_page_shows_when_where_and_which_browser(app: Flask) -> None:
    this = _signed_in(app, "school31", user_agent=CHROME_LINUX, address="127.0.0.5")
    _signed_in(app, "school31", user_agent=FIREFOX_WINDOWS, address="127.0.0.6")
    age_session(app, this, signed_in_ago=90, seen_ago=61)
    page = this.get(PAGE)
    text = page.text
    assert page.status_code == 200
    assert "Мои сеансы" in text and "этот сеанс" in text
    assert "Chrome 156 · Linux" in text and "Firefox 128 · Windows" in text
    assert "127.0.0.5" in text and "127.0.0.6" in text
    row = session_row(app, this)
    with app.app_context():
        assert formats.moment(row.created_at) in text  # дд.мм.гггг чч:мм, in the site's zone
    assert "Завершить все другие сеансы" in text
    assert text.index("этот сеанс") < text.index("Firefox 128")  # this session first


def test_the_menu_bar_links_the_page_next_to_the_password(app: Flask) -> None:
    text = _signed_in(app, "school31").get("/admin/").text
    assert text.index('href="/password"') < text.index(f'href="{PAGE}"')


def test_ending_one_session_from_the_page_ends_exactly_that_one(app: Flask) -> None:
    this, other, third = (_signed_in(app, "gymnasium17") for _ in range(3))
    neighbour = _signed_in(app, "school31")
    before = _all_rows(app)
    response = _post(this, PAGE + "end/", id=session_row(app, other).id)
    assert response.status_code == 302
    assert "Сеанс завершён." in this.get(response.headers["Location"]).text
    assert _opens(this) and not _opens(other) and _opens(third) and _opens(neighbour)
    assert _all_rows(app) == before - 1


def test_another_users_session_answers_404_and_stays(app: Flask) -> None:
    attacker, victim = _signed_in(app, "kemsu"), _signed_in(app, "school31")
    before = _all_rows(app)
    for value in (session_row(app, victim).id, "x", "", "-1"):
        assert _post(attacker, PAGE + "end/", id=value).status_code == 404
    assert _opens(victim) and _all_rows(app) == before


def test_ending_all_others_keeps_this_one_and_other_users_sessions(app: Flask) -> None:
    this, other = _signed_in(app, "coordinator"), _signed_in(app, "coordinator")
    neighbour = _signed_in(app, "admin")
    response = _post(this, PAGE + "end-others/")
    assert response.status_code == 302
    assert "Завершено других сеансов:" in this.get(PAGE).text
    assert _opens(this, "/admin/") and not _opens(other, "/admin/") and _opens(neighbour, "/admin/")
    assert _rows_of(app, "coordinator") == [session_row(app, this).id]


def test_writes_without_a_csrf_token_are_refused(app: Flask) -> None:
    client, other = _signed_in(app, "museum"), _signed_in(app, "museum")
    assert client.post(PAGE + "end/", data={"id": session_row(app, other).id}).status_code == 400
    assert client.post(PAGE + "end-others/").status_code == 400
    assert _opens(other)


@pytest.mark.usefixtures("fresh_db")
def test_a_temporary_password_opens_the_password_page_first(app: Flask) -> None:
    with app.app_context():
        _user("kemsu@coop.example").must_change_password = True
        db.session.commit()
    client = app.test_client()
    login(client, ACCOUNTS["kemsu"].email, ACCOUNTS["kemsu"].password)
    response = client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/password")


@pytest.mark.parametrize(
    ("header", "label"),
    [
        (CHROME_LINUX, "Chrome 156 · Linux"),
        (FIREFOX_WINDOWS, "Firefox 128 · Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17 · iOS",
        ),
        ("Werkzeug/3.1.9", "Werkzeug/3.1.9"),
        ("", ""),
    ],
)
def test_browser_labels(header: str, label: str) -> None:
    assert sessions.browser(header) == label
