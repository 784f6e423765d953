"""The read API /api/v1/ (coop/api_v1.py) signed in by personal tokens (coop/api_tokens.py):
refusals, paging, incremental sync, the rows and columns of each role, added fields, and the
OpenAPI document kept true (tests/test_api_schemathesis.py runs it against the app)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from coop import access, api_tokens, api_v1
from coop import models as m
from coop.extensions import db
from coop.tokens import digest

from .conftest import ACCOUNTS

CYRILLIC = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


def _user(email: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=email)).scalar_one()


@pytest.fixture
def token_of(app: Flask, fresh_db: None) -> Iterator[Any]:
    """token_of("school31") → a new token (secret) of that demo account."""

    def make(key: str, **fields: Any) -> str:
        with app.app_context():
            token, secret = api_tokens.issue(_user(ACCOUNTS[key].email), "test")
            for name, value in fields.items():
                setattr(token, name, value)
            db.session.commit()
        return secret

    yield make


def _get(client: FlaskClient, url: str, secret: str | None) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.get(url, headers=headers)


def _all(client: FlaskClient, path: str, secret: str, limit: int = 500, **query: str) -> list[dict]:
    """Every row of a collection, page after page."""
    items: list[dict] = []
    cursor = None
    for _ in range(1000):
        params = {"limit": str(limit), **query, **({"cursor": cursor} if cursor else {})}
        response = client.get(
            f"/api/v1/{path}", query_string=params, headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 200, response.json
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never end")


# --- who is signed in -------------------------------------------------------------------------


def _refused(response: Any) -> str:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.is_json
    message = response.json["error"]
    assert CYRILLIC & set(message.lower()), message  # in Russian
    return message


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic YWRtaW46YWRtaW4=", "Bearer coop_short", "Bearer " + "x" * 48, "Token coop_x"],
)
def test_no_token_or_a_malformed_one_is_a_401(client_as: Any, header: str | None) -> None:
    client = client_as("anonymous")
    response = client.get("/api/v1/schools", headers={"Authorization": header} if header is not None else {})
    _refused(response)


def test_an_unknown_token_is_a_401(client_as: Any) -> None:
    assert "не действителен" in _refused(
        _get(client_as("anonymous"), "/api/v1/events", api_tokens.new_secret())
    )


def test_expired_revoked_and_disabled_tokens_are_401(app: Flask, client_as: Any, token_of: Any) -> None:
    client = client_as("anonymous")
    expired = token_of("school31", expires_at=m.utcnow() - dt.timedelta(seconds=1))
    assert "истёк" in _refused(_get(client, "/api/v1/events", expired))
    revoked = token_of("school31")
    assert _get(client, "/api/v1/events", revoked).status_code == 200
    with app.app_context():
        token = db.session.execute(select(m.ApiToken).filter_by(secret_hash=digest(revoked))).scalar_one()
        api_tokens.revoke(token)
        db.session.commit()
    assert "отозван" in _refused(_get(client, "/api/v1/events", revoked))
    # The account disabled, then back with a temporary password, then in the trash.
    live = token_of("gymnasium17")
    assert _get(client, "/api/v1/events", live).status_code == 200
    email = ACCOUNTS["gymnasium17"].email
    for change, word in (
        ({"active": False}, "отключена"),
        ({"active": True, "must_change_password": True}, "временный пароль"),
        ({"must_change_password": False, "deleted_at": m.utcnow()}, "не действителен"),
    ):
        with app.app_context():
            db.session.execute(
                update(m.User).where(m.User.email == email).values(**change),
                execution_options={"include_deleted": True},
            )
            db.session.commit()
        assert word in _refused(_get(client, "/api/v1/events", live)), change


def test_a_session_cookie_opens_nothing_and_the_token_reads_as_its_account(
    client_as: Any, token_of: Any, ids: dict[str, int]
) -> None:
    """A browser signed in as the admin, sending a school's token: the school's rows only."""
    client = client_as("admin")
    _refused(client.get("/api/v1/schools"))
    answer = _get(client, "/api/v1/schools", token_of("school31"))
    assert answer.headers["Cache-Control"] == "no-store" and "Authorization" in answer.headers["Vary"]
    schools = answer.json["items"]
    assert [school["id"] for school in schools] == [ids["school31"]]


def test_the_token_notes_when_it_was_last_used(app: Flask, client_as: Any, token_of: Any) -> None:
    secret = token_of("kemsu")
    with app.app_context():
        assert db.session.execute(select(m.ApiToken.last_used_at)).scalar_one() is None
    assert _get(client_as("anonymous"), "/api/v1/events", secret).status_code == 200
    with app.app_context():
        used = db.session.execute(select(m.ApiToken.last_used_at)).scalar_one()
    assert used is not None and m.utcnow() - used < dt.timedelta(minutes=1)


def test_the_secret_is_kept_only_as_its_digest(app: Flask, token_of: Any) -> None:
    secret = token_of("admin")
    assert api_tokens.SHAPE.match(secret)
    with app.app_context():
        kept = db.session.execute(select(m.ApiToken)).scalar_one()
        assert kept.secret_hash == digest(secret) and secret not in kept.secret_hash


def test_only_gets_and_every_error_in_json(client_as: Any, token_of: Any) -> None:
    secret = token_of("admin")
    client = client_as("anonymous")
    headers = {"Authorization": f"Bearer {secret}"}
    for method in (client.post, client.put, client.delete, client.patch):
        answer = method("/api/v1/schools", headers=headers)
        assert answer.status_code == 405 and CYRILLIC & set(answer.json["error"].lower())
    for url, status in (
        ("/api/v1/nothing", 404),
        ("/api/v1/schools/-1", 404),
        ("/api/v1/events?cursor=a%00", 400),
    ):
        answer = client.get(url, headers=headers)
        assert answer.status_code == status and CYRILLIC & set(answer.json["error"].lower()), url
    assert client.get("/admin/nothing/").mimetype == "text/html"  # the site's pages stay pages


# --- what each role reads ---------------------------------------------------------------------


@pytest.mark.parametrize("key", [k for k, a in ACCOUNTS.items() if a.role])
def test_each_role_reads_exactly_the_rows_the_policy_shows_it(
    app: Flask, client_as: Any, token_of: Any, key: str
) -> None:
    secret = token_of(key)
    client = client_as("anonymous")
    with app.app_context():
        user = _user(ACCOUNTS[key].email)
        for resource in api_v1.RESOURCES:
            if not access.can(user, resource.view_permission):
                assert _get(client, f"/api/v1/{resource.path}", secret).status_code == 403
                continue
            # Two rows a page: the cursor walks every page, each row once.
            got = [item["id"] for item in _all(client, resource.path, secret, limit=2)]
            assert len(got) == len(set(got)), resource.path
            rows = db.session.execute(select(resource.model)).scalars().all()  # as the system
            assert set(got) == {row.id for row in rows if access.visible(user, row)}, resource.path


def test_a_partner_reads_only_the_columns_its_scope_names(client_as: Any, token_of: Any) -> None:
    secret = token_of("kemsu")
    client = client_as("anonymous")
    schools = _get(client, "/api/v1/schools", secret).json["items"]
    assert schools and all(set(school) == {"id", "name", "short_name"} for school in schools)
    agreement = _get(client, "/api/v1/agreements", secret).json["items"][0]
    assert "programme_id" not in agreement and "extra" not in agreement and "created_at" not in agreement
    assert agreement["school_id"] and agreement["subject"]
    record = _get(client, "/api/v1/executions", secret).json["items"][0]
    assert "evidence_url" not in record and "extra" not in record
    assert {"event_id", "year", "status", "students_count"} <= set(record)


def test_added_fields_are_the_switched_on_ones_the_reader_sees(
    app: Flask, client_as: Any, token_of: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        switched_off = m.FieldDefinition(
            model="event", key="hidden_one", label="Выключенное", kind="text", is_active=False
        )
        gymnasiums = m.FieldDefinition(
            model="event", key="gym_only", label="Своё гимназии", kind="text", school_id=ids["gymnasium17"]
        )
        db.session.add_all([switched_off, gymnasiums])
        event = (
            db.session.execute(select(m.Event).filter_by(school_id=ids["school31"]).order_by(m.Event.id))
            .scalars()
            .first()
        )
        assert event is not None
        db.session.flush()
        db.session.execute(
            update(m.Event).where(m.Event.id == event.id).values(extra={**event.extra, "hidden_one": "нет"})
        )
        db.session.commit()
        event_id = event.id
        expected = {
            d.key
            for d in db.session.execute(select(m.FieldDefinition)).scalars()
            if d.model == "event" and d.is_active and d.school_id in (None, ids["school31"])
        }
    item = _get(client_as("anonymous"), f"/api/v1/events/{event_id}", token_of("school31")).json
    assert set(item["extra"]) == expected and "hidden_one" not in item["extra"] and "gym_only" not in expected


# --- paging and sync --------------------------------------------------------------------------


def test_pages_are_ordered_by_change_then_id(client_as: Any, token_of: Any) -> None:
    items = _all(client_as("anonymous"), "events", token_of("admin"), limit=7)
    keys = [(item["updated_at"], item["id"]) for item in items]
    assert keys == sorted(keys) and len(items) > 7


def test_updated_since_gives_the_rows_changed_since(app: Flask, client_as: Any, token_of: Any) -> None:
    secret = token_of("admin")
    client = client_as("anonymous")
    before = _all(client, "events", secret)
    since = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert _all(client, "events", secret, updated_since=since.isoformat()) == []
    with app.app_context():
        later = m.utcnow() + dt.timedelta(seconds=5)
        db.session.execute(update(m.Event).where(m.Event.id == before[0]["id"]).values(updated_at=later))
        db.session.commit()
    changed = _all(client, "events", secret, updated_since=since.isoformat().replace("+00:00", "Z"))
    assert [item["id"] for item in changed] == [before[0]["id"]]
    # The same moment in another zone, and without one (taken as UTC).
    local = since.astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat()
    assert _all(client, "events", secret, updated_since=local) == changed
    assert _all(client, "events", secret, updated_since=since.replace(tzinfo=None).isoformat()) == changed


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=x", "limit"),
        ("updated_since=вчера", "updated_since"),
        ("updated_since=2026-13-01", "updated_since"),
        ("cursor=!!!", "курсор"),
        ("cursor=WzEsMl0", "курсор"),  # base64 of [1,2]
        ("cursor=WyIyMDI2LTAxLTAxIiwgOTk5OTk5OTk5OTk5XQ", "курсор"),  # an id past the column
    ],
)
def test_bad_questions_get_a_400_in_russian(client_as: Any, token_of: Any, query: str, word: str) -> None:
    response = _get(client_as("anonymous"), f"/api/v1/events?{query}", token_of("admin"))
    assert response.status_code == 400
    assert word in response.json["error"].lower() and CYRILLIC & set(response.json["error"].lower())


def test_a_row_past_the_column_or_unseen_is_a_404(client_as: Any, token_of: Any, ids: dict[str, int]) -> None:
    client = client_as("anonymous")
    secret = token_of("school31")
    assert _get(client, f"/api/v1/schools/{ids['gymnasium17']}", secret).status_code == 404
    assert _get(client, "/api/v1/schools/99999999999999", secret).status_code == 404
    assert _get(client, f"/api/v1/schools/{ids['school31']}", secret).status_code == 200


# --- the OpenAPI document ---------------------------------------------------------------------


def test_the_document_names_every_resource_and_its_fields(client_as: Any, token_of: Any) -> None:
    """Each schema's properties are exactly what the admin (who reads every column) gets."""
    client = client_as("anonymous")
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"] == {"type": "http", "scheme": "bearer"}
    secret = token_of("admin")
    for resource in api_v1.RESOURCES:
        assert {f"/{resource.path}", f"/{resource.path}/{{id}}"} <= set(document["paths"])
        properties = document["components"]["schemas"][resource.name]["properties"]
        item = _get(client, f"/api/v1/{resource.path}?limit=1", secret).json["items"][0]
        assert set(item) == set(properties), resource.path


def test_the_api_answers_with_the_limiter_on(app: Flask, throttled: Any, fresh_db: None) -> None:
    """As served (RATELIMIT_ENABLED): the limiter names each view by its function."""
    with app.app_context():
        _, secret = api_tokens.issue(_user(ACCOUNTS["admin"].email), "limiter")
        db.session.commit()
    client = throttled()
    for resource in api_v1.RESOURCES:
        for url in (f"/api/v1/{resource.path}?limit=1", f"/api/v1/{resource.path}/1"):
            assert client.get(url, headers={"Authorization": f"Bearer {secret}"}).status_code in (200, 404), (
                url
            )
