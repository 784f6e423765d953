"""SQL statements per request, in the response header ``X-SQL-Count``.

Opt-in (``COOP_SQL_COUNT=1``): the benchmark reads the header to check the
query budget of every page. Every statement sent to the database during the
request counts, the sign-in bookkeeping and lazy loads included; an
executemany counts once.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event

from .extensions import db

HEADER = "X-SQL-Count"


def _count(*_args: Any) -> None:
    if has_request_context():
        g.sql_count = g.get("sql_count", 0) + 1


def _header(response: Response) -> Response:
    response.headers[HEADER] = str(g.get("sql_count", 0))
    return response


def init_app(app: Flask) -> None:
    if not app.config.get("SQL_COUNT"):
        return
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count)
    app.after_request(_header)
