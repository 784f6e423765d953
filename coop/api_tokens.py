"""Personal tokens of the read API /api/v1/ (models.ApiToken).

A user makes one on the «API tokens» page (coop/views/api_tokens.py): it is shown
once, and only its SHA-256 is kept (coop/tokens.py's digest), so a copy of the
database opens nothing. A request to /api/v1/ sends it as ``Authorization: Bearer
<token>`` and reads as the token's account reads, through the same policy
(coop/access.py). The session cookie signs no one in there: a read API open to
cookies would be open to any page the browser visits (a GET carries no CSRF
token), and a script's access should be named, revocable and expiring on its own.

A token stops working when it expires, when it is revoked, and when its account is
disabled or moved to the trash. Every refusal is a 401 with a Russian message.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from flask import Flask, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from . import tokens
from .extensions import db
from .models import ApiToken, User, utcnow
from .tokens import digest

PREFIX = "coop_"
# What a token looks like: the prefix and 43 characters of token_urlsafe(32).
SHAPE = re.compile(r"^coop_[A-Za-z0-9_-]{43}$")
DEFAULT_LIFETIME = dt.timedelta(days=365)
LONGEST_LIFETIME = dt.timedelta(days=3 * 365)
TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale last_used_at may grow before it is written
BLUEPRINTS = ("api_v1",)  # the blueprints a token, and only a token, signs in to
OPEN_ENDPOINTS = ("api_v1.openapi",)  # what the API answers is no secret, the rows are

# Why a request is not signed in, in words for whoever wrote the script.
REFUSALS = {
    "missing": _l(
        "Send a personal API token in the header «Authorization: Bearer <token>». "
        "Tokens are made on the «API tokens» page of the site."
    ),
    "malformed": _l("The API token is malformed. Copy it whole from the page where it was made."),
    "unknown": _l("The API token is not valid."),
    "revoked": _l("This API token has been revoked. Make a new one on the «API tokens» page."),
    "expired": _l("This API token has expired. Make a new one on the «API tokens» page."),
    "inactive": _l("The account of this API token is disabled."),
    "password": _l(
        "The account of this API token has a temporary password: sign in to the site and replace it first."
    ),
}


class TokenRefused(tokens.TokenRefused):
    """A request no token signs in; reason is a key of REFUSALS."""

    refusals = REFUSALS


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def issue(user: User, name: str, expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of user in the session (the caller commits) and its secret, shown once."""
    secret = new_secret()
    token = ApiToken(
        user_id=user.id,
        name=name,
        secret_hash=digest(secret),
        created_at=utcnow(),
        expires_at=expires_at or utcnow() + DEFAULT_LIFETIME,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke(token: ApiToken) -> None:
    """Stop the token from now on (in the caller's transaction); a revoked one stays listed."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def state(token: ApiToken) -> str:
    """ "active", "expired" or "revoked": how the page lists a token."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= utcnow() else "active"


def bearer(header: str | None) -> str:
    """The token an Authorization header sends; TokenRefused when it sends none or a malformed one."""
    if not header:
        raise TokenRefused("missing")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenRefused("missing")
    value = value.strip()
    if not SHAPE.match(value):
        raise TokenRefused("malformed")
    return value


def authenticate(header: str | None) -> User:
    """The account whose live token the header sends, or TokenRefused. One statement reads
    the token with its account (not in the trash) and the account's school or partner."""
    secret = bearer(header)
    stmt = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.secret_hash == digest(secret))
        .options(joinedload(User.school), joinedload(User.partner))
    )
    found = db.session.execute(stmt, execution_options={"skip_scope": True}).unique().one_or_none()
    if found is None:  # unknown, or its account in the trash
        raise TokenRefused("unknown")
    token, user = found
    if token.revoked_at is not None:
        raise TokenRefused("revoked")
    if token.expires_at <= utcnow():
        raise TokenRefused("expired")
    if not user.is_active:
        raise TokenRefused("inactive")
    if user.must_change_password:
        raise TokenRefused("password")
    if token.last_used_at is None or utcnow() - token.last_used_at >= TOUCH_EVERY:
        # On a connection of its own, committed at once: the request only reads.
        with db.engine.begin() as connection:
            connection.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow()))
    return user


def refusal(error: TokenRefused) -> Any:
    response = jsonify({"error": error.message})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="coop"'
    return response


def _sign_in_by_token() -> Any:
    """Before anything else of a request to the API: its user is its token's, whatever
    cookie it sends (Flask-Login's user of the request, which the policy then reads)."""
    if request.blueprint not in BLUEPRINTS or request.endpoint in OPEN_ENDPOINTS:
        return None
    g._login_user = AnonymousUserMixin()
    try:
        g._login_user = authenticate(request.headers.get("Authorization"))
    except TokenRefused as error:
        return refusal(error)
    return None


def init_app(app: Flask) -> None:
    """Called before the policy's own hook (coop/tenancy.py), which reads the request's user."""
    app.before_request(_sign_in_by_token)
