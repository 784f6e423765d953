"""The open read API /api/v1/: JSON for the systems a municipality already runs.

Each resource is one entry of RESOURCES (its path, model, schema and the permission
that opens it): the views, the paging and the OpenAPI document at
/api/v1/openapi.json are made from that table, so a new resource is one entry.

* Read only (GET), signed in only by a personal token (coop/api_tokens.py).
* Rows and columns as the policy lets the token's account see them (coop/access.py:
  criteria, visible_fields; coop/tenancy.py applies the criteria once more).
* Each row's `extra`: its added fields (coop/added_fields.py), the switched-on ones
  the reader may see, as kept.
* Ordered by (updated_at, id), paged by an opaque cursor (`next_cursor`), `limit` up to
  MAX_LIMIT, and `updated_since` (ISO 8601) for an incremental sync.

/api/plan.json (coop/api.py) is another contract and stays as it is.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, has_request_context, jsonify, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text, and_, or_, select
from sqlalchemy import inspect as sa_inspect

from . import access, added_fields, labels
from . import models as m
from .extensions import csrf, db

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ID = 2**31 - 1  # an integer column's largest value (PostgreSQL's integer)
# Columns kept for the site's own sake that the API leaves out (who changed a row is the history's).
LEFT_OUT = ("version", "deleted_at", "deleted_batch", "created_by_id", "updated_by_id", "extra")


class UtcDateTime(fields.DateTime):
    """A moment as ISO 8601 in UTC with its offset: the database keeps them naive, in UTC."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


FIELD_OF_TYPE: dict[type, type[fields.Field]] = {
    Integer: fields.Integer,
    String: fields.String,
    Text: fields.String,
    Boolean: fields.Boolean,
    Date: fields.Date,
    DateTime: UtcDateTime,
    JSON: fields.Dict,  # an answer's values: each question's key and what was answered
}


def schema_of(
    model: type, *, leave_out: tuple[str, ...] = (), add: dict[str, fields.Field] | None = None
) -> type[Schema]:
    """A marshmallow schema of a model's columns (all but LEFT_OUT and leave_out), each
    described by its label and its codes, plus `extra` (the added fields) and add."""
    declared: dict[str, fields.Field] = {}
    mapper: Any = sa_inspect(model)
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in LEFT_OUT + leave_out or not hasattr(column, "nullable"):
            continue
        kind = next((f for t, f in FIELD_OF_TYPE.items() if isinstance(column.type, t)), fields.String)
        metadata: dict[str, Any] = {"description": labels.lazy_label(model, prop.key)}
        coded = labels.known_choices(model, prop.key)
        if coded:
            metadata["enum"] = list(coded)
        key = prop.key == "id"
        declared[prop.key] = kind(
            required=key, allow_none=bool(column.nullable) and not key, metadata=metadata
        )
    if added_fields.model_key(model) is not None:
        declared["extra"] = fields.Dict(
            keys=fields.String(),
            metadata={"description": _l("The added fields: each field's key and its value")},
        )
    declared.update(add or {})
    return Schema.from_dict(declared, name=model.__name__)


@dataclass(frozen=True)
class Resource:
    """A collection of the API: /api/v1/<path> (a page of rows) and /api/v1/<path>/<id> (one)."""

    path: str
    model: type
    schema: type[Schema]
    summary: Any
    permission: str = ""  # "<area>.view" of coop/access.py's PERMISSIONS; the model's by default
    # Values a row gives beyond its columns: the field's name → how it is read from the row.
    computed: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    @property
    def view_permission(self) -> str:
        return self.permission or access.permission_name(self.model, "view")

    @property
    def name(self) -> str:
        return self.model.__name__


MONTHS = fields.List(
    fields.Integer(), metadata={"description": _l("Months of the timing, September first (9, 10, …, 8)")}
)

RESOURCES: tuple[Resource, ...] = (
    Resource("schools", m.School, schema_of(m.School), _l("Schools")),
    Resource("partners", m.Partner, schema_of(m.Partner), _l("Partner organisations")),
    Resource("programmes", m.Programme, schema_of(m.Programme), _l("Cooperation programmes")),
    Resource("agreements", m.Agreement, schema_of(m.Agreement), _l("Agreements")),
    Resource(
        "events",
        m.Event,
        schema_of(m.Event, leave_out=("months_mask",), add={"months": MONTHS}),
        _l("Lines of the network plan"),
        computed={"months": lambda row: list(row.months)},
    ),
    Resource("executions", m.EventExecution, schema_of(m.EventExecution), _l("Yearly records of plan lines")),
    Resource("seminars", m.Seminar, schema_of(m.Seminar), _l("Seminars")),
    Resource("remarks", m.Remark, schema_of(m.Remark), _l("Audit remarks")),
    Resource(
        "answers",
        m.DataRequestAnswer,
        schema_of(m.DataRequestAnswer),
        _l("Schools' answers to the municipality's data requests"),
    ),
)
BY_PATH = {resource.path: resource for resource in RESOURCES}


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": _l("What went wrong, in words")})


# --- the request's questions ----------------------------------------------------------------


class BadRequest(Exception):
    """A question the API cannot answer: 400 with the message."""


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        raise BadRequest(gettext("«limit» is a whole number from 1 to %(most)d.", most=MAX_LIMIT))
    return int(raw)


def _moment(text: str) -> dt.datetime:
    """An ISO 8601 moment as naive UTC; ValueError for anything else (a moment without an
    offset is taken as UTC)."""
    found = dt.datetime.fromisoformat(text)
    return found.astimezone(dt.UTC).replace(tzinfo=None) if found.tzinfo is not None else found


def _updated_since() -> dt.datetime | None:
    raw = request.args.get("updated_since")
    if raw is None:
        return None
    try:
        return _moment(raw.strip())
    except (ValueError, OverflowError):
        raise BadRequest(
            gettext("«updated_since» is a moment in ISO 8601, for example 2026-12-01T00:00:00Z.")
        ) from None


def encode_cursor(row: Any) -> str:
    """Where the next page starts: after this row, by (updated_at, id). Opaque to clients."""
    raw = json.dumps([row.updated_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor() -> tuple[dt.datetime, int] | None:
    raw = request.args.get("cursor")
    if raw is None:
        return None
    try:
        moment, row_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not (isinstance(row_id, int) and 0 <= row_id <= MAX_ID and isinstance(moment, str)):
            raise ValueError
        return dt.datetime.fromisoformat(moment).replace(tzinfo=None), row_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise BadRequest(
            gettext("The cursor is not valid: pass on the «next_cursor» of the previous page as it is.")
        ) from None


def _error(status: int, message: str) -> Any:
    return jsonify({"error": message}), status


# --- rows as the reader may read them ------------------------------------------------------


def _readable(resource: Resource, user: Any) -> tuple[list[str], bool]:
    """The schema's fields the user reads of the resource's rows, and whether `extra` is one."""
    names = list(resource.schema._declared_fields)
    fields_seen = access.visible_fields(user, resource.model)
    if fields_seen is None:
        return names, "extra" in names
    readable = [
        name
        for name in names
        if name == "id" or name in fields_seen or name.removesuffix("_id") in fields_seen
    ]
    return readable, "extra" in readable


def _extra(row: Any) -> dict[str, Any]:
    """A row's added fields the reader sees, switched on, as kept (None: empty)."""
    values = row.extra or {}
    definitions = added_fields.of_record(type(row), added_fields.record_school(row))
    return {d.key: values.get(d.key) for d in definitions}


def _dump(resource: Resource, rows: list[Any], user: Any) -> list[dict[str, Any]]:
    readable, with_extra = _readable(resource, user)
    plain = [name for name in readable if name not in resource.computed and name != "extra"]
    schema = resource.schema(only=plain)
    out = []
    for row in rows:
        item = schema.dump(row)
        for name, read in resource.computed.items():
            if name in readable:
                item[name] = read(row)
        if with_extra:
            item["extra"] = _extra(row)
        out.append(item)
    return out


def _user() -> Any:
    """The token's account (coop/api_tokens.py made it the request's user)."""
    return current_user._get_current_object()


def _allowed(resource: Resource) -> Any:
    if not access.can(_user(), resource.view_permission):
        return _error(403, gettext("Your account may not read these rows."))
    return None


def list_rows(resource: Resource) -> Any:
    refused = _allowed(resource)
    if refused is not None:
        return refused
    model: Any = resource.model
    user = _user()
    try:
        limit, since, after = _limit(), _updated_since(), _cursor()
    except BadRequest as error:
        return _error(400, str(error))
    stmt = select(model).where(access.criteria(user, model))
    if since is not None:
        stmt = stmt.where(model.updated_at >= since)
    if after is not None:
        moment, row_id = after
        # The first condition alone bounds an index's range (events, executions: updated_at, id).
        stmt = stmt.where(
            model.updated_at >= moment,
            or_(model.updated_at > moment, and_(model.updated_at == moment, model.id > row_id)),
        )
    rows = list(db.session.execute(stmt.order_by(model.updated_at, model.id).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(
        {"items": _dump(resource, rows, user), "next_cursor": encode_cursor(rows[-1]) if more else None}
    )


def one_row(resource: Resource, row_id: int) -> Any:
    refused = _allowed(resource)
    if refused is not None:
        return refused
    model: Any = resource.model
    user = _user()
    row = None
    if row_id <= MAX_ID:
        stmt = select(model).where(access.criteria(user, model), model.id == row_id)
        row = db.session.execute(stmt).scalar_one_or_none()
    if row is None:
        return _error(404, gettext("There is no such record, or it is not available to you."))
    return jsonify(_dump(resource, [row], user)[0])


# --- the OpenAPI document -------------------------------------------------------------------

_documents: dict[str, dict[str, Any]] = {}


def _responses(ok: dict[str, Any], *statuses: int) -> dict[str, Any]:
    said = {
        400: _l("The question is malformed"),
        401: _l("No valid token: missing, malformed, unknown, expired or revoked"),
        403: _l("The token's account may not read these rows"),
        404: _l("No such record, or not available to the token's account"),
    }
    error = {"application/json": {"schema": "Error"}}
    return {"200": ok, **{str(s): {"description": str(said[s]), "content": error} for s in statuses}}


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of RESOURCES (apispec from the marshmallow schemas)."""
    spec = APISpec(
        title="Coop API",
        version="1",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": gettext("Read-only. Send a personal token: Authorization: Bearer <token>.")},
        servers=[{"url": "/api/v1"}],
        security=[{"token": []}],
    )
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    page_params = [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "description": gettext("Rows in a page"),
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string"},
            "description": gettext("Where the page starts: «next_cursor» of the previous page"),
        },
        {
            "name": "updated_since",
            "in": "query",
            "schema": {"type": "string", "format": "date-time"},
            "description": gettext("Only rows changed at or after this moment (ISO 8601)"),
        },
    ]
    for resource in RESOURCES:
        name = resource.name
        spec.components.schema(name, schema=resource.schema)
        page = {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "next_cursor": {"type": ["string", "null"]},
            },
        }
        summary = str(resource.summary)
        spec.path(
            path=f"/{resource.path}",
            operations={
                "get": {
                    "operationId": f"list_{resource.path}",
                    "summary": summary,
                    "parameters": page_params,
                    "responses": _responses(
                        {"description": summary, "content": {"application/json": {"schema": page}}},
                        400,
                        401,
                        403,
                    ),
                }
            },
        )
        spec.path(
            path=f"/{resource.path}/{{id}}",
            operations={
                "get": {
                    "operationId": f"get_{resource.path}",
                    "summary": summary,
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        }
                    ],
                    "responses": _responses(
                        {"description": summary, "content": {"application/json": {"schema": name}}},
                        401,
                        403,
                        404,
                    ),
                }
            },
        )
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi() -> Any:
    """Open to everyone: what the API answers is no secret, the rows are."""
    locale = str(get_locale())
    if locale not in _documents:
        _documents[locale] = build_document()
    return jsonify(_documents[locale])


@bp.after_request
def _not_kept(response: Any) -> Any:
    """Rows are the token's account's: no cache keeps them (the document excepted)."""
    if request.endpoint != "api_v1.openapi":
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Authorization")
    return response


def asked() -> bool:
    """Whether the request is to the read API (its errors, even an unknown address's, are JSON)."""
    return has_request_context() and request.path.startswith(f"{bp.url_prefix}/")


def urls(user: Any) -> dict[str, str]:
    """The address of each resource the user's tokens read, for the page that makes them."""
    return {
        resource.path: url_for(f"api_v1.list_{resource.path}", _external=True)
        for resource in RESOURCES
        if access.can(user, resource.view_permission)
    }


def _views(resource: Resource) -> tuple[Callable[[], Any], Callable[[int], Any]]:
    """The resource's two views, as named functions (Flask-Limiter names a view by its function)."""

    def list_view() -> Any:
        return list_rows(resource)

    def one_view(row_id: int) -> Any:
        return one_row(resource, row_id)

    for view, kind in ((list_view, "list"), (one_view, "get")):
        view.__name__ = view.__qualname__ = f"{kind}_{resource.path}"
    return list_view, one_view


for _resource in RESOURCES:
    _list, _one = _views(_resource)
    bp.add_url_rule(f"/{_resource.path}", _list.__name__, _list)
    bp.add_url_rule(f"/{_resource.path}/<int:row_id>", _one.__name__, _one)


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # GETs only, and signed in by a token, never by a cookie
    app.register_blueprint(bp)
