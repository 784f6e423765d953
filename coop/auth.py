"""Sign-in and sign-out (Flask-Login), and loading the user of each request."""

from __future__ import annotations

import datetime as dt
import math
import time
import unicodedata
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from . import passwords, sessions
from .extensions import db, limiter, login_manager
from .models import SignIn, User, utcnow
from .seed import demo_data
from .tenancy import as_system

bp = Blueprint("auth", __name__)


# Failed attempts allowed before the doors (sign-in and the password page) answer
# 429; moving windows. One hostile address runs out of its own budget for an
# account long before the account's ceiling, so it cannot lock the owner out.
ACCOUNT_ADDRESS_LIMITS = "5 per 40 seconds; 10 per 10 minutes; 20 per hour"  # one account from one address
ADDRESS_LIMIT = "30 per 10 minutes"  # one address, any accounts (a school's staff share one address)
ACCOUNT_LIMIT = "50 per hour"  # one account from all addresses together: a distributed guesser
# ...except from an address the account signed in from lately: its owner's, most likely.
KNOWN_ADDRESS_DAYS = 30


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=_l("At least %(n)d characters; not a common password", n=passwords.MIN_LENGTH),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


def normalize_email(value: object) -> str:
    """The one spelling of a typed e-mail that accounts are found and counted by:
    Unicode-normalised (NFKC), without surrounding spaces, lower case."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip().lower()


def find_user(email: object) -> User | None:
    """The account with this e-mail, looked up as the system (before anyone signs in)."""
    stmt = select(User).where(func.lower(User.email) == normalize_email(email))
    return db.session.execute(stmt, execution_options={"skip_scope": True}).scalar_one_or_none()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # Only with a live session row: signing out or ending a session works at once.
    return sessions.load_user(user_id)


# --- throttling: only failed attempts count --------------------------------------


def _submitted_data() -> MultiDict[str, Any] | None:
    """The fields of a sign-in, whatever the body's encoding: form-encoded or
    multipart fields, or a JSON object's text values. Files and anything else
    carry no fields (no password is checked, the attempt still counts)."""
    if request.method != "POST":
        return None
    if request.form:
        return request.form
    data = request.get_json(silent=True) if request.is_json else None
    if isinstance(data, dict):
        return MultiDict({key: value for key, value in data.items() if isinstance(value, str)})
    return MultiDict()


def _login_form() -> LoginForm:
    """The sign-in form of this request, read once: the throttle's keys and the
    password check see the very same e-mail."""
    if "login_form" not in g:
        g.login_form = LoginForm(formdata=_submitted_data())
    return g.login_form


def _account_key() -> str:
    """The account an attempt is aimed at: the signed-in one on the password page
    (never a field the client sends), else the account the typed e-mail finds,
    else that e-mail normalised (so unknown e-mails are counted alike)."""
    if "throttle_account" not in g:
        if request.endpoint == "auth.change_password":
            g.throttle_account = f"user:{current_user.id}"
        else:
            email = normalize_email(_login_form().email.data)
            user = find_user(email)
            g.throttle_account = f"user:{user.id}" if user is not None else f"email:{email}"
    return str(g.throttle_account)


def _from_a_known_address() -> bool:
    """The account signed in successfully from this address within KNOWN_ADDRESS_DAYS:
    a guesser spread over many addresses must not lock its owner out there (that
    address's own budget for the account still holds)."""
    if "throttle_known_address" not in g:
        account = _account_key()
        g.throttle_known_address = False
        if account.startswith("user:"):
            stmt = select(SignIn.id).where(
                SignIn.user_id == int(account.removeprefix("user:")),
                SignIn.success.is_(True),
                SignIn.ip == (request.remote_addr or "")[:64],
                SignIn.at >= utcnow() - dt.timedelta(days=KNOWN_ADDRESS_DAYS),
            )
            found = db.session.execute(stmt.limit(1), execution_options={"skip_scope": True}).first()
            g.throttle_known_address = found is not None
    return bool(g.throttle_known_address)


def _account_address_key() -> str:
    return f"{_account_key()}|{get_remote_address()}"


def _attempt_failed(response: Response) -> bool:
    return bool(g.get("auth_failed"))


def _note_breach(limit: RequestLimit) -> None:
    """Remember the longest wait among the limits this attempt breached; the page
    is answered once, by _too_many_attempts."""
    # reset_at is whole seconds, rounded up: never tell more than the window.
    wait = min(limit.limit.get_expiry(), max(1, math.ceil(limit.reset_at - time.time())))
    g.throttle_wait = max(wait, g.get("throttle_wait", 0))


@bp.errorhandler(RateLimitExceeded)
def _too_many_attempts(error: RateLimitExceeded) -> Response:
    """The same page again, with how long to wait, as 429 Too Many Requests."""
    wait = int(g.get("throttle_wait") or error.limit.limit.get_expiry())
    flash(gettext("Too many failed attempts. Try again in %(seconds)d s.", seconds=wait), "error")
    if request.endpoint == "auth.change_password":
        page = _change_password_page(ChangePasswordForm(formdata=None))
    else:
        email = _login_form().email.data
        email = email if isinstance(email, str) else ""
        log_sign_in(email, find_user(email), "throttled")
        page = _login_page(LoginForm(formdata=None, data={"email": email}))
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(wait)
    return response


# Three budgets, shared by the sign-in form and the password page; every limit an
# attempt breaches is noted (the limiter runs with fail_on_first_breach=False).
account_address_limit = limiter.shared_limit(
    ACCOUNT_ADDRESS_LIMITS,
    scope="sign-in-account-address",
    key_func=_account_address_key,
    methods=["POST"],
    deduct_when=_attempt_failed,
    on_breach=_note_breach,
)
address_limit = limiter.shared_limit(
    ADDRESS_LIMIT,
    scope="sign-in-address",
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_attempt_failed,
    on_breach=_note_breach,
)
account_limit = limiter.shared_limit(
    ACCOUNT_LIMIT,
    scope="sign-in-account",
    key_func=_account_key,
    exempt_when=_from_a_known_address,
    methods=["POST"],
    deduct_when=_attempt_failed,
    on_breach=_note_breach,
)


def throttled(view: Any) -> Any:
    """A sign-in door: the three budgets above."""
    return address_limit(account_limit(account_address_limit(view)))


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such account", method="scrypt")


def _check_password(user: User | None, password: str) -> bool:
    """An unknown e-mail costs the same hashing time as a wrong password: the
    answer's delay does not tell which e-mails have accounts."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)


def log_sign_in(email: str, user: User | None, reason: str) -> None:
    """A row of the sign-in log (models.SignIn), committed at once; reason is a
    code of models.SIGN_IN_REASONS. Sign-ins never go to the history of changes."""
    with as_system():
        db.session.add(
            SignIn(
                user_id=user.id if user is not None else None,
                email=_clean(email)[:255],
                ip=(request.remote_addr or "")[:64],
                user_agent=_clean(request.user_agent.string)[:255],
                success=reason == "ok",
                reason=reason,
            )
        )
        if reason == "ok" and user is not None:
            user.last_login_at = utcnow()  # a quiet field: no history row (coop.history)
        db.session.commit()


def sign_in(user: User, typed_email: str) -> None:
    """Sign the person in on a fresh session, nothing carried over from before (the
    sign-in form, a password reset, an accepted invitation)."""
    session.clear()
    login_user(user)
    sessions.start(user)
    log_sign_in(typed_email, user, "ok")


def _clean(text: str | None) -> str:
    """Text as sent, without the NUL characters PostgreSQL refuses."""
    return (text or "").replace("\x00", "").strip()


def _safe_next(target: str | None) -> str:
    """Only a local path may be a redirect target after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.index")


def _demo_accounts() -> list[dict[str, str]]:
    if not current_app.config["SHOW_DEMO_ACCOUNTS"]:
        return []
    return [
        {"email": email, "password": password, "label": name}
        for email, password, _role, _school, _partner, name in demo_data.DEMO_USERS
        if find_user(email) is not None
    ]


def _login_page(form: LoginForm) -> str:
    next_url = request.values.get("next", "")
    return render_template("coop/login.html", form=form, next_url=next_url, demo_accounts=_demo_accounts())


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login() -> Any:
    form = _login_form()
    next_url = request.values.get("next", "")
    # Every attempt counts but a successful one, whatever it sent.
    g.auth_failed = request.method == "POST"
    if form.validate_on_submit():
        user = find_user(form.email.data)
        if not _check_password(user, form.password.data) or user is None:
            log_sign_in(form.email.data, user, "bad_password" if user is not None else "unknown_account")
            flash(gettext("Wrong e-mail or password."), "error")
        elif not user.is_active:
            log_sign_in(form.email.data, user, "inactive")
            flash(gettext("This account is disabled. Ask the site administrator."), "error")
        else:
            g.auth_failed = False
            sign_in(user, form.email.data)
            if user.must_change_password:
                return redirect(url_for("auth.change_password", next=_safe_next(next_url)))
            return redirect(_safe_next(next_url))
    elif request.method == "POST" and form.csrf_token.errors:
        flash(gettext("The form has expired. Please try again."), "error")
    return _login_page(form)


def _change_password_page(form: ChangePasswordForm) -> str:
    return render_template(
        "coop/change_password.html",
        form=form,
        next_url=request.values.get("next", ""),
        forced=current_user.must_change_password,
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
@throttled
def change_password() -> Any:
    """Any signed-in user's own password; the only page open while a temporary
    password waits to be changed."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        new = form.new_password.data
        reasons = passwords.problems(new, [user.email, user.name])
        if not user.check_password(form.current_password.data):
            g.auth_failed = True
            form.current_password.errors.append(gettext("Wrong password."))
        elif new == form.current_password.data:
            form.new_password.errors.append(gettext("The new password must differ from the current one."))
        elif reasons:
            form.new_password.errors.extend(reasons)
        else:
            with as_system():
                user.set_password(new)  # ends every other session of the account (coop.sessions)
                user.must_change_password = False
                db.session.commit()
            flash(gettext("Your password has been changed."), "info")
            return redirect(_safe_next(request.values.get("next")))
    return _change_password_page(form)


def _require_password_change() -> Any:
    """A temporary password opens nothing but the page that replaces it."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in ("auth.change_password", "auth.logout", "static", "admin.static")
    ):
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.change_password", next=target))
    return None


# GET too: signing out by a link or by typing the address must work; a forged
# sign-out harms nobody.
@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    sessions.end_current()  # a copy of the cookie opens nothing from now on
    logout_user()
    session.clear()
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "strong"
    app.before_request(_require_password_change)
    app.register_blueprint(bp)
