"""Coop: educational cooperation of schools and their partners."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for

from . import (
    added_fields,
    api,
    api_tokens,
    api_v1,
    auth,
    cli,
    config,
    errors,
    extensions,
    feeds,
    formats,
    history,
    invitations,
    labels,
    recovery,
    search,
    security,
    sessions,
    sqlcount,
    summary,
    tenancy,
    uploads,
    views,
)
from .models import User

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(config.load(Path(app.instance_path)))
    app.config["MIGRATIONS_DIR"] = MIGRATIONS_DIR
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(app.root_path) / "translations")
    if test_config:
        app.config.update(test_config)

    extensions.init_app(app)
    sqlcount.init_app(app)
    api_tokens.init_app(app)  # before the policy's hook: an API request's user is its token's
    tenancy.init_app(app)
    added_fields.init_app(app)  # after the policy's check: both at every flush
    search.init_app(app)
    history.init_app(app)
    summary.init_app(app)  # after the history: both at every flush
    security.init_app(app)
    sessions.init_app(app)  # before auth: an expired session ends before anything else
    auth.init_app(app)
    recovery.init_app(app)
    invitations.init_app(app)
    api.init_app(app)
    api_v1.init_app(app)
    feeds.init_app(app)
    uploads.init_app(app)
    errors.init_app(app)
    formats.init_app(app)
    cli.init_app(app)
    views.init_app(app)

    app.add_template_global(lambda role: labels.choice_label(User, "role", role), "role_label")
    app.add_url_rule("/", "root", lambda: redirect(url_for("admin.index")))

    if app.config["AUTO_MIGRATE"]:
        cli.upgrade_database(app)
    return app
