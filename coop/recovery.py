"""Password recovery: «Забыли пароль?» → /password/forgot → a message with a link valid
for an hour (coop/tokens.py) → /password/reset/<secret> → a new password under the
policy, every other session of the account ended, and the person signed in.

The forgot page answers the same, after the same delay, whether or not the address
has an account, and whether or not a message left: a disabled or trashed account, a
throttled address or account get the same page and no message. Its budgets are its
own (not the sign-in door's), so a throttled sign-in never blocks recovery; they
count messages, so recovery cannot flood a mailbox.

After the reset the person is signed in: the single-use link from their mailbox and
the new password they just chose prove at least what a sign-in does, and the sign-in
door's budgets (which a stranger's guesses may have spent) must not stop the owner
who has just recovered the account.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from . import notify, passwords, sessions, tokens
from .auth import find_user, normalize_email, sign_in
from .extensions import db, limiter
from .models import User
from .tenancy import as_system

bp = Blueprint("recovery", __name__)

# Messages asked for: from one address (any e-mails typed), and to one account.
ADDRESS_LIMIT = "10 per hour"
ACCOUNT_LIMIT = "3 per hour"
# The forgot page answers no sooner than this after the request came: sending a
# message (a token, a rendered message, a commit) and sending none take as long.
ANSWER_SECONDS = 0.3


class ForgotForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(message=_l("Enter an e-mail address.")), Length(max=255)],
        filters=[normalize_email],
    )


class ResetForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)],
        description=_l("At least %(n)d characters; not a common password", n=passwords.MIN_LENGTH),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


# While the shared storage (RATELIMIT_STORAGE_URI, e.g. Redis) does not answer, this
# process counts by itself, as Flask-Limiter does for the sign-in (its in-memory fallback).
_fallback = MovingWindowRateLimiter(MemoryStorage())


def _within(limit: str, scope: str, key: str) -> bool:
    """Count one against a budget of this module's own; False once it is spent."""
    if not (limiter.enabled and limiter.initialized):
        return True
    items = parse_many(limit)
    try:
        return all([limiter.limiter.hit(item, scope, key) for item in items])
    except Exception:  # the storage's own errors (redis, memcached …) have no common base
        current_app.logger.warning("Rate limit storage unreachable: counting in this process meanwhile")
        return all([_fallback.hit(item, scope, key) for item in items])


def _may_receive(user: User | None) -> bool:
    return user is not None and user.is_active and bool(user.email)


def send_reset_link(user: User) -> None:
    """Queue the message with a new reset link to the account, in the caller's transaction."""
    _token, secret = tokens.issue("password_reset", user_id=user.id, email=user.email)
    link = notify.absolute_url("recovery.reset", secret=secret)
    # No user_id: the link is mailed, never listed in the site, where a signed-in session
    # (someone else's at an unlocked computer) would read it and replace the password
    # without knowing the current one.
    notify.send_direct("password_reset", user.email, "password_reset", {"name": user.name}, link=link)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> Any:
    started = time.monotonic()
    form = ForgotForm()
    if not form.validate_on_submit():
        if request.method == "POST" and form.csrf_token.errors:
            flash(gettext("The form has expired. Please try again."), "error")
        return render_template("coop/password_forgot.html", form=form)
    if _within(ADDRESS_LIMIT, "password-reset-address", get_remote_address()):
        user = find_user(normalize_email(form.email.data))
        if (
            user is not None
            and _may_receive(user)
            and _within(ACCOUNT_LIMIT, "password-reset-account", f"user:{user.id}")
        ):
            with as_system():
                send_reset_link(user)
                db.session.commit()
    time.sleep(max(0.0, ANSWER_SECONDS - (time.monotonic() - started)))
    return render_template("coop/password_forgot_sent.html")


def _account(token: Any) -> User:
    """The live account a reset link was sent to; a link to a disabled or trashed one opens nothing."""
    stmt = select(User).where(User.id == token.user_id)
    user = db.session.execute(stmt, execution_options={"skip_scope": True}).scalar_one_or_none()
    if not _may_receive(user):
        raise tokens.TokenRefused("unknown")
    assert user is not None
    return user


@bp.route("/password/reset/<secret>", methods=["GET", "POST"])
def reset(secret: str) -> Any:
    token = tokens.find("password_reset", secret)
    user = _account(token)
    form = ResetForm()
    if form.validate_on_submit():
        reasons = passwords.problems(form.new_password.data, [user.email, user.name])
        if reasons:
            form.new_password.errors = [*form.new_password.errors, *reasons]
        else:
            with as_system():
                tokens.use(token)  # TokenRefused("used") if another request was first
                tokens.revoke("password_reset", user_id=user.id)
                user.set_password(form.new_password.data)
                user.must_change_password = False
                sessions.end_all(user)  # every one: the person asking is not signed in
                db.session.commit()
                sign_in(user, user.email)
            flash(
                gettext("Your password has been changed. Every other session of your account has ended."),
                "info",
            )
            return redirect(url_for("admin.index"))
    elif request.method == "POST" and form.csrf_token.errors:
        flash(gettext("The form has expired. Please try again."), "error")
    return render_template("coop/password_reset.html", form=form, email=user.email)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
