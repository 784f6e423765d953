"""The secrets of links sent by mail: a password reset, an invitation, a partner's
confirmation of an event (models.Token).

Each is made for one purpose, expires after that purpose's lifetime, and is used
once. The link carries a random secret; the database keeps only its SHA-256, so
a copy of the database opens no link. A secret of another purpose, a tampered
one and an unknown one are refused alike, as "unknown".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .extensions import db
from .models import TOKEN_PURPOSES, Token, utcnow
from .tenancy import as_system

# How long a link of each purpose opens its page.
LIFETIMES = {
    "password_reset": dt.timedelta(hours=1),
    "invitation": dt.timedelta(days=7),
    "event_confirmation": dt.timedelta(days=30),
}
assert LIFETIMES.keys() == TOKEN_PURPOSES.keys()

# Why a link opens nothing, in words for the person who followed it.
REFUSALS = {
    "unknown": _l("This link is not valid. Check that it was copied whole, or ask for a new one."),
    "expired": _l("This link has expired. Ask for a new one."),
    "used": _l("This link has already been used. Ask for a new one if you still need it."),
}


class TokenRefused(Exception):
    """A link that opens nothing; reason is a key of `refusals` (coop/api_tokens.py has its own)."""

    refusals: dict[str, Any] = REFUSALS

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self.refusals[self.reason])


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def digest(secret: str) -> str:
    """What is kept of a secret: its SHA-256 (also of the secrets kept outside this table:
    a saved view's calendar feed, coop/saved_views.py)."""
    return _hash(secret)


def new_secret() -> tuple[str, str]:
    """A random secret for a link, and the digest that is kept of it."""
    secret = secrets.token_urlsafe(32)
    return secret, _hash(secret)


def issue(purpose: str, **fields: Any) -> tuple[Token, str]:
    """A new token in the session (the caller commits it with the change it belongs
    to) and its secret, which only the link carries."""
    secret, secret_hash = new_secret()
    now = utcnow()
    expires = now + LIFETIMES[purpose]
    token = Token(purpose=purpose, secret_hash=secret_hash, created_at=now, expires_at=expires, **fields)
    with as_system():
        db.session.add(token)
        db.session.flush()
    return token, secret


def find(purpose: str, secret: object) -> Token:
    """The live token of this purpose the secret opens, or TokenRefused."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        raise TokenRefused("unknown")
    with as_system():
        token = db.session.execute(
            select(Token).where(Token.secret_hash == _hash(secret), Token.purpose == purpose)
        ).scalar_one_or_none()
    if token is None:
        raise TokenRefused("unknown")
    if token.used_at is not None:
        raise TokenRefused("used")
    if token.expires_at <= utcnow():
        raise TokenRefused("expired")
    return token


def use(token: Token) -> None:
    """Mark the token used, in the caller's transaction; TokenRefused("used") if
    another request used it first (one conditional UPDATE: two cannot both win)."""
    with as_system():
        done = db.session.execute(
            update(Token).where(Token.id == token.id, Token.used_at.is_(None)).values(used_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenRefused("used")
    db.session.expire(token, ["used_at"])


def revoke(purpose: str, **where: Any) -> int:
    """Close the live tokens of a purpose that match (e.g. earlier resets of an
    account when a new one is asked for); how many."""
    with as_system():
        done = db.session.execute(
            update(Token)
            .where(Token.purpose == purpose, Token.used_at.is_(None), Token.expires_at > utcnow())
            .filter_by(**where)
            .values(used_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
    return int(done.rowcount)  # type: ignore[attr-defined]
