"""Signed-in sessions the server can end.

Each sign-in makes a row (models.UserSession). The session cookie (Flask's, signed)
carries a random key, the row only the key's SHA-256 hash: a copy of the table opens
nothing. A request is signed in only while its key names a live row of its account
(``load_user``: one statement with the account). A session ends, and its row is
deleted:

* at sign-out, and from the «Мои сеансы» page (coop/views/sessions.py);
* SESSION_IDLE_TIMEOUT seconds after its last request, SESSION_MAX_AGE after sign-in
  (the last request is written at most once a minute: no write per request);
* all of an account's, when the account is disabled or moved to the trash, and all
  but the one that made the change when it gets a new password: wherever that
  happens (the admin's form, the trash, the CLI, a password reset), at flush.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import Flask, current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import ColumnElement, delete, event, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from ua_parser import parse as parse_user_agent

from .extensions import db
from .models import User, UserSession, utcnow
from .tenancy import as_system

KEY = "session_key"  # in the session cookie: the raw key
TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale last_seen_at may grow before it is written


def hash_key(key: str) -> str:
    """What the table keeps of a session key."""
    return hashlib.sha256(key.encode()).hexdigest()


def current_key_hash() -> str | None:
    """The hash of this request's session key; None without one."""
    key = session.get(KEY) if has_request_context() else None
    return hash_key(key) if isinstance(key, str) else None


# --- open or over: the rule's SQL form and its per-row form side by side ------------------


def _limits() -> tuple[dt.datetime, dt.datetime]:
    """(started after, last seen after): what a live session must be."""
    now, config = utcnow(), current_app.config
    return (
        now - dt.timedelta(seconds=config["SESSION_MAX_AGE"]),
        now - dt.timedelta(seconds=config["SESSION_IDLE_TIMEOUT"]),
    )


def live() -> ColumnElement[bool]:
    """The rows of sessions still open."""
    started_after, seen_after = _limits()
    return (UserSession.created_at > started_after) & (UserSession.last_seen_at > seen_after)


def ended_because(row: UserSession) -> str | None:
    """Why the session of this row is over, or None while it is open."""
    started_after, seen_after = _limits()
    config = current_app.config
    if row.created_at <= started_after:
        return gettext(
            "You were signed out: a session lasts at most %(hours)d hours. Please sign in again.",
            hours=config["SESSION_MAX_AGE"] // 3600,
        )
    if row.last_seen_at <= seen_after:
        return gettext(
            "You were signed out after %(minutes)d minutes of inactivity. Please sign in again.",
            minutes=config["SESSION_IDLE_TIMEOUT"] // 60,
        )
    return None


# --- a session's life ----------------------------------------------------------------------


def start(user: User) -> None:
    """At sign-in, in a cleared session: a new key in the cookie, its row in the table.
    The rows of sessions over by now, any account's, go at the same time."""
    key = secrets.token_urlsafe(32)
    session[KEY] = key
    with as_system():
        db.session.execute(delete(UserSession).where(~live()))
        db.session.add(
            UserSession(
                user_id=user.id,
                key_hash=hash_key(key),
                ip=(request.remote_addr or "")[:64],
                user_agent=request.user_agent.string.replace("\x00", "")[:255],
            )
        )
        db.session.commit()


def load_user(user_id: str) -> User | None:
    """The request's user: the account whose live session row this cookie's key names.
    One statement reads the account, its school or partner (the page header names them),
    the unread count and the session's row."""
    key_hash = current_key_hash()
    if key_hash is None or not user_id.isdigit():
        return None
    stmt = (
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == int(user_id), UserSession.key_hash == key_hash)
        .options(joinedload(User.school), joinedload(User.partner))
    )
    found = db.session.execute(stmt, execution_options={"skip_scope": True}).unique().one_or_none()
    if found is None:  # ended: signed out, from the page, or by a change of its account
        return None
    user, row = found
    message = ended_because(row)
    if message is not None:
        g.session_ended = message  # _end_expired tells the user why
        _write(delete(UserSession).where(UserSession.id == row.id))
        return None
    if not user.is_active:
        return None
    if utcnow() - row.last_seen_at >= TOUCH_EVERY:
        _write(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=utcnow()))
    return user


def _write(stmt: Any) -> None:
    """A session's bookkeeping, committed at once on a connection of its own: the
    request's transaction and the rows it loaded stay as they are."""
    with db.engine.begin() as connection:
        connection.execute(stmt)


def end_current() -> None:
    """Sign-out: this request's session row goes at once."""
    key_hash = current_key_hash()
    if key_hash is not None:
        _write(delete(UserSession).where(UserSession.key_hash == key_hash))


def end_all(user: User, keep_current: bool = False) -> int:
    """End the account's sessions at once, in the current transaction; with keep_current,
    all but this request's own. Returns how many ended.

    A new password, disabling the account and moving it to the trash end them by
    themselves (at flush, _on_account_change): a caller that has just set a password
    finds them ended already."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    current = current_key_hash() if keep_current else None
    if current is not None:
        stmt = stmt.where(UserSession.key_hash != current)
    options = {"skip_scope": True, "synchronize_session": False}
    return int(db.session.execute(stmt, execution_options=options).rowcount)  # type: ignore[attr-defined]


def _changed(user: User, *fields: str) -> bool:
    state: Any = inspect(user)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _on_account_change(db_session: Session, flush_context: Any, instances: Any) -> None:
    """A disabled or trashed account keeps no session; one with a new password keeps
    only the session that set it (that of its own user, signed in)."""
    for user in db_session.dirty:
        if not isinstance(user, User):
            continue
        if not user.is_active and _changed(user, "active", "deleted_at"):
            end_all(user)
        elif _changed(user, "password_hash"):
            end_all(user, keep_current=True)


def _end_expired() -> Any:
    """A session found over (load_user): signed out, told why, sent to sign in again."""
    if request.endpoint in ("static", "admin.static") or current_user.is_authenticated:
        return None
    message = g.pop("session_ended", None)
    if message is None:
        return None
    session.clear()
    flash(message, "info")
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


# --- what the page shows --------------------------------------------------------------------


def browser(user_agent: str) -> str:
    """«Chrome 156 · Linux» from a User-Agent header (ua-parser's rules); the header
    itself, shortened, when the rules know nothing of it."""
    found = parse_user_agent(user_agent)
    agent, system = found.user_agent, found.os
    if agent is None:
        text = user_agent.strip()
        return text if len(text) <= 60 else text[:59] + "…"
    name = f"{agent.family} {agent.major}" if agent.major else agent.family
    return f"{name} · {system.family}" if system is not None else name


def init_app(app: Flask) -> None:
    if not event.contains(Session, "before_flush", _on_account_change):
        event.listen(Session, "before_flush", _on_account_change)
    app.before_request(_end_expired)
    app.add_template_filter(browser, "browser")
