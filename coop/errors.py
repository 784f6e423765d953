"""Error pages in Russian (JSON under the read API /api/v1/); an access refusal from the
ORM becomes a 403, and a number from the request that no column, offset or limit can hold
becomes a 400."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from . import api_v1
from .access import AccessDenied
from .extensions import db
from .tokens import TokenRefused


def _page(code: int, title: str, message: str) -> Any:
    if api_v1.asked():  # a program reads the answer: JSON, as the API's own refusals
        return jsonify({"error": message}), code
    return render_template("coop/error.html", code=code, title=title, message=message), code


def _http_error(error: HTTPException) -> Any:
    messages = {
        400: (gettext("Bad request"), gettext("The request could not be understood.")),
        403: (gettext("Access denied"), gettext("You have no rights to open this page.")),
        404: (
            gettext("Not found"),
            gettext("There is no such page or record, or it is not available to you."),
        ),
        405: (gettext("Method not allowed"), gettext("This address does not accept this kind of request.")),
        413: (gettext("File too large"), gettext("The uploaded file exceeds the size limit.")),
    }
    if error.code not in messages:
        return error
    return _page(error.code, *messages[error.code])


def _csrf_error(error: CSRFError) -> Any:
    return _page(400, gettext("The form has expired"), gettext("Reload the page and submit the form again."))


def _access_denied(error: AccessDenied) -> Any:
    db.session.rollback()
    return _page(403, gettext("Access denied"), gettext("You are not allowed to do this with this record."))


def _token_refused(error: TokenRefused) -> Any:
    """A link from a message that opens nothing (unknown, tampered, another purpose's,
    expired or used): why, in words, and nothing changed."""
    db.session.rollback()
    code = 404 if error.reason == "unknown" else 410
    return _page(code, gettext("The link does not open"), error.message)


def _out_of_range(error: Exception) -> Any:
    """A value the database cannot take: a number past any integer column, offset or
    limit (SQLite: OverflowError from its driver; PostgreSQL: a data exception, class 22).

    This is the one place where numbers out of range in a request end, whichever door
    (a list's page or filter, a look-up's offset, an id in a path, a custom page) passed
    them on: Python's int has no bound, so only the database finds them too large."""
    db.session.rollback()
    current_app.logger.warning(
        "Refused a value out of range: %s %s: %s",
        request.method,
        request.full_path[:200],
        str(error).splitlines()[0][:200],
    )
    return _page(
        400,
        gettext("Bad request"),
        gettext("A value in the request is out of range: check the address or the form."),
    )


def _refuse_nul() -> None:
    """A NUL character is never real input, and PostgreSQL refuses it in text."""
    values = [*request.args.values(), *request.form.values(), request.path]
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(AccessDenied, _access_denied)
    app.register_error_handler(TokenRefused, _token_refused)
    app.register_error_handler(OverflowError, _out_of_range)
    app.register_error_handler(DataError, _out_of_range)
