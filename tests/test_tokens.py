"""Links sent by mail (coop/tokens.py): one purpose, an expiry, used once, stored hashed;
and messages to an address that has no account (notify.send_direct)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from flask import Flask, g
from sqlalchemy import select

from coop import access, notify, outbox, tokens
from coop import models as m
from coop.extensions import db
from coop.tenancy import SYSTEM, as_system

from .conftest import ACCOUNTS


@pytest.fixture
def ctx(app: Flask):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        yield
        db.session.rollback()


def test_a_token_opens_once_for_its_purpose_and_only_its_hash_is_stored(ctx: None) -> None:
    token, secret = tokens.issue("password_reset", email="someone@example.org")
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.secret_hash, token.email}
    assert token.expires_at - token.created_at == dt.timedelta(hours=1)

    assert tokens.find("password_reset", secret).id == token.id
    tokens.use(token)
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.find("password_reset", secret)
    assert refused.value.reason == "used"


def test_another_purposes_a_tampered_and_a_malformed_secret_are_unknown(ctx: None) -> None:
    _token, secret = tokens.issue("invitation", email="new@example.org", role="school")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for purpose, candidate in [
        ("password_reset", secret),
        ("invitation", tampered),
        ("invitation", ""),
        ("invitation", None),
        ("invitation", "x" * 1000),
    ]:
        with pytest.raises(tokens.TokenRefused) as refused:
            tokens.find(purpose, candidate)
        assert refused.value.reason == "unknown"
        assert "ссылка" in refused.value.message.lower()


def test_an_expired_token_is_refused_and_the_lifetimes_are_the_issues(ctx: None) -> None:
    assert {
        "password_reset": dt.timedelta(hours=1),
        "invitation": dt.timedelta(days=7),
        "event_confirmation": dt.timedelta(days=30),
    } == tokens.LIFETIMES
    token, secret = tokens.issue("invitation", email="late@example.org", role="school")
    with as_system():
        token.expires_at = m.utcnow() - dt.timedelta(seconds=1)
        db.session.flush()
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.find("invitation", secret)
    assert refused.value.reason == "expired"


def test_a_token_cannot_be_used_twice_even_by_a_request_holding_a_stale_copy(ctx: None) -> None:
    token, secret = tokens.issue("password_reset", email="twice@example.org")
    found = tokens.find("password_reset", secret)
    tokens.use(found)
    # A second request found it before the first used it: its use must still fail.
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.use(token)
    assert refused.value.reason == "used"


def test_revoke_closes_only_the_live_tokens_that_match(ctx: None) -> None:
    _first, first_secret = tokens.issue("password_reset", email="a@example.org")
    _other, other_secret = tokens.issue("password_reset", email="b@example.org")
    assert tokens.revoke("password_reset", email="a@example.org") == 1
    with pytest.raises(tokens.TokenRefused):
        tokens.find("password_reset", first_secret)
    assert tokens.find("password_reset", other_secret).email == "b@example.org"


# Who reads which links through the ORM: reset links nobody; invitations the admin (all)
# and a school (those its users sent); never the secret's hash (access.INVITATION_FIELDS).
READS_INVITATION = {"admin": True, "school31": True, "gymnasium17": False, "coordinator": False}
READS_INVITATION |= {"kemsu": False, "museum": False}


@pytest.mark.parametrize("key", [key for key, account in ACCOUNTS.items() if account.role])
def test_only_invitations_are_read_through_the_orm_and_only_by_their_inviters(app: Flask, key: str) -> None:
    """Tokens are the system's: the policy shows no role a reset link, the admin included;
    an invitation only to the admin and to the school whose user sent it."""
    with app.test_request_context():
        with as_system():
            users = {
                k: db.session.execute(select(m.User).filter_by(email=a.email)).scalar_one()
                for k, a in ACCOUNTS.items()
                if a.role
            }
        inviter = users["school31"]
        _reset, _secret = tokens.issue("password_reset", email="hidden@example.org", user_id=inviter.id)
        invitation, _secret = tokens.issue(
            "invitation",
            email="new@example.org",
            role="school",
            school_id=inviter.school_id,
            created_by_id=inviter.id,
        )
        g.principal = users[key]
        seen = db.session.execute(select(m.Token)).scalars().all()
        assert [t.id for t in seen] == ([invitation.id] if READS_INVITATION[key] else [])
        fields = access.visible_fields(users[key], m.Token)  # None would mean every column
        assert fields is not None and "secret_hash" not in fields
        g.principal = SYSTEM
        assert len(db.session.execute(select(m.Token)).scalars().all()) == 2
        db.session.rollback()


def test_a_message_to_an_address_without_an_account_is_delivered(app: Flask, tmp_path: Path) -> None:
    with app.test_request_context():
        notify.send_direct(
            "invitation",
            "guest@example.org",
            "remark_created",
            {"school": "Школа", "text": "Текст"},
            link="http://coop.test/x",
        )
        db.session.commit()  # as an anonymous visitor: a reset is asked for before signing in
    with app.app_context():
        row = db.session.execute(select(m.Notification).filter_by(email="guest@example.org")).scalar_one()
        assert row.user_id is None and row.link == "http://coop.test/x" and row.subject
    saved = dict(app.config)
    app.config.update(MAIL_SERVER="", MAIL_FOLDER=str(tmp_path))
    try:
        with app.app_context():
            sent, failed = outbox.deliver_due()
            assert (sent, failed) == (1, 0)
            assert db.session.get(m.Notification, row.id).sent_at is not None  # type: ignore[union-attr]
    finally:
        app.config.update(saved)
    (eml,) = tmp_path.glob("*.eml")
    assert b"guest@example.org" in eml.read_bytes()
