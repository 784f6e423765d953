"""What one request reads again and again, read once: a dict kept in `flask.g` for the
request (outside a request, such as in the CLI, a fresh one each call: nothing is kept)."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context


def request_cache(name: str) -> dict[Any, Any]:
    """The request's dict of that name, made empty at its first use."""
    return g.setdefault(name, {}) if has_request_context() else {}
