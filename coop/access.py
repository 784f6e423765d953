"""THE access policy: which rows a user sees and what a user may do.

Two questions, answered from one table of named rules, deny by default:

* ``scope(query, user, Model)`` — the rows of Model the user may see;
* ``can(user, "event.edit", obj)`` — whether the user may do an action, on a
  row or (obj=None) on the model in general.

Views, the CLI, exports and the JSON API ask these functions; they never filter
by tenant themselves. ``coop.tenancy`` applies ``criteria`` to every ORM query
once more, so a door forgotten in a view is still shut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Query

from . import models as m
from . import workflow
from .extensions import db
from .request_cache import request_cache

ADMIN, COORDINATOR, SCHOOL, PARTNER = "admin", "coordinator", "school", "partner"


# --- who is asking -----------------------------------------------------------------


class Principal(Protocol):
    """Whom the policy answers for: a signed-in user (coop.models.User) or an
    anonymous one (is_authenticated false, no role)."""

    id: Any
    role: str
    school_id: int | None
    partner_id: int | None

    @property
    def is_authenticated(self) -> bool: ...


class AccessDenied(PermissionError):
    """A write or page the policy refuses; str() names the rule that failed."""


def role_of(user: Principal | None) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.role


def _agreed(tenant: str, tenant_id: int | None) -> frozenset[int]:
    """The other side of a tenant's agreements (not in the trash): the schools a partner
    has an agreement with (tenant "partner"), or the partners a school has one with
    (tenant "school"); cached for the request."""
    cache = request_cache("_agreed")
    key = (tenant, tenant_id)
    if key not in cache:
        mine, theirs = (
            (m.Agreement.partner_id, m.Agreement.school_id)
            if tenant == PARTNER
            else (m.Agreement.school_id, m.Agreement.partner_id)
        )
        stmt = select(theirs).where(mine == tenant_id)
        cache[key] = frozenset(db.session.execute(stmt, execution_options={"skip_scope": True}).scalars())
    return cache[key]


def agreed_school_ids(user: Principal) -> frozenset[int]:
    """Schools a partner user has an agreement (not in the trash) with."""
    return _agreed(PARTNER, user.partner_id) if role_of(user) == PARTNER else frozenset()


def agreed_partner_ids(user: Principal) -> frozenset[int]:
    """Partners a school user's school has an agreement (not in the trash) with."""
    return _agreed(SCHOOL, user.school_id) if role_of(user) == SCHOOL else frozenset()


def school_of(obj: Any) -> int | None:
    return obj.id if isinstance(obj, m.School) else _ref_id(obj, "school")


def partner_of(obj: Any) -> int | None:
    return obj.id if isinstance(obj, m.Partner) else _ref_id(obj, "partner")


def _ref_id(obj: Any, name: str) -> int | None:
    # A form sets the relationship (event.school = …); its _id column follows only
    # at flush, so a relationship set on the object wins over the column.
    related = obj.__dict__.get(name)
    if related is not None:
        return related.id
    return getattr(obj, f"{name}_id", None)


# --- rows a user may see: one table of model × role → scope ----------------------------


@dataclass(frozen=True)
class Scope:
    """A named set of rows, in its SQL form and its per-row form side by side.

    ``fields``: the columns the scope reveals, when it reveals only some of them.
    """

    name: str
    sql: Callable[[Principal, Any], ColumnElement[bool]]
    row: Callable[[Principal, Any], bool]
    fields: tuple[str, ...] | None = None


def _own(tenant: str) -> Scope:
    """A tenant's own rows: its card (by id), or the rows whose tenant column names it."""
    card, ref = (m.School, school_of) if tenant == "school" else (m.Partner, partner_of)

    def tenant_id(user: Principal) -> int | None:
        return user.school_id if tenant == "school" else user.partner_id

    def column(model: Any) -> Any:
        return model.id if model is card else getattr(model, f"{tenant}_id")

    return Scope(
        f"own {tenant}'s rows",
        lambda u, model: column(model) == tenant_id(u),
        lambda u, obj: ref(obj) == tenant_id(u),
    )


ALL = Scope("all", lambda u, model: true(), lambda u, obj: True)
OWN_SCHOOL = _own("school")
OWN_PARTNER = _own("partner")
AGREED_SCHOOL_NAMES = Scope(
    "names of the schools it has an agreement with",
    lambda u, model: model.id.in_(agreed_school_ids(u)),
    lambda u, obj: obj.id in agreed_school_ids(u),
    fields=("name", "short_name"),
)
OWN_EVENTS_AT_AGREED_SCHOOLS = Scope(
    "own organisation's events at schools it has an agreement with",
    lambda u, model: (model.partner_id == u.partner_id) & model.school_id.in_(agreed_school_ids(u)),
    lambda u, obj: partner_of(obj) == u.partner_id and school_of(obj) in agreed_school_ids(u),
)
OWN_MESSAGES = Scope(
    "messages addressed to it", lambda u, model: model.user_id == u.id, lambda u, obj: obj.user_id == u.id
)
OWN_SESSIONS = replace(OWN_MESSAGES, name="its own sessions")
OWN_SETTINGS = replace(OWN_MESSAGES, name="its own settings")
OWN_STAGED_IMPORTS = replace(OWN_MESSAGES, name="the files it uploaded for import")
OWN_API_TOKENS = replace(OWN_MESSAGES, name="its own API tokens")
SELF = Scope("own account", lambda u, model: model.id == u.id, lambda u, obj: obj.id == u.id)
# A partner reads its own agreements as signed: not which school programme they fall
# under (the school's), nor the files attached (StoredFile stays the school's).
OWN_AGREEMENTS = replace(
    OWN_PARTNER,
    name="own organisation's agreements, as signed",
    fields=(
        *("school", "agreement_type", "number", "signed_on", "valid_from", "valid_to"),
        *("subject", "state", "levels", "fgos_results"),
        # The network form (art. 15 of 273-ФЗ).
        *("programme_kind", "programme_level", "programme_focus", "student_status"),
        *("responsibilities", "issued_documents", "term"),
    ),
)


@cache
def _readable_tables(role: str) -> list[str]:
    """The tables whose rows the role reads whole, within its tenant: their history is
    the role's to read too (not the users', which a school or coordinator does not read)."""
    whole = (ALL, OWN_SCHOOL)
    return sorted(
        model.__tablename__
        for model, scopes in VISIBILITY.items()
        if model is not m.History and scopes.get(role) in whole
    )


def _partner_event_ids(user: Principal) -> Any:
    return select(m.Event.id).where(OWN_EVENTS_AT_AGREED_SCHOOLS.sql(user, m.Event))


def _history_tables(user: Principal) -> list[str]:
    """The tables whose history a coordinator, a school or a partner reads (within its tenant)."""
    role = role_of(user)
    if role == PARTNER:
        return [m.Event.__tablename__]
    return _readable_tables(role) if role else []


def _history_sql(user: Principal, model: Any) -> ColumnElement[bool]:
    tables = model.table_name.in_(_history_tables(user))
    if role_of(user) == PARTNER:
        return tables & model.row_id.in_(_partner_event_ids(user))
    return tables if role_of(user) == COORDINATOR else tables & (model.school_id == user.school_id)


def _history_row(user: Principal, obj: Any) -> bool:
    in_tables = obj.table_name in _history_tables(user)
    if role_of(user) == PARTNER:
        stmt = _partner_event_ids(user).where(m.Event.id == obj.row_id)
        return in_tables and db.session.execute(stmt).first() is not None
    return in_tables if role_of(user) == COORDINATOR else in_tables and obj.school_id == user.school_id


# What became of a partner's events each year: held or not, when, who took part and
# with what results; not the school's evidence.
RECORDS_OF_OWN_EVENTS = Scope(
    "yearly records of its own events at schools it has an agreement with",
    lambda u, model: model.event_id.in_(_partner_event_ids(u)),
    lambda u, obj: obj.event is not None and OWN_EVENTS_AT_AGREED_SCHOOLS.row(u, obj.event),
    fields=(
        *("school", "event", "year", "status", "held_on", "held_until"),
        *("students_count", "students_grades", "teachers_count", "parents_count", "results"),
    ),
)

HISTORY_OF_READABLE_TABLES = Scope(
    "history of the tables it reads, within its tenant", _history_sql, _history_row
)
# A partner reads what happened to its events, not who among the staff did it nor from where.
HISTORY_OF_OWN_EVENTS = Scope(
    "history of its own events",
    _history_sql,
    _history_row,
    fields=("at", "action", "table_name", "row_id", "summary", "changes", "comment"),
)


def _own_school_user_ids(user: Principal) -> Any:
    return select(m.User.id).where(m.User.school_id == user.school_id)


def _invited_by_own_school(user: Principal, obj: Any) -> bool:
    if obj.created_by_id is None:
        return False
    stmt = _own_school_user_ids(user).where(m.User.id == obj.created_by_id)
    return db.session.execute(stmt, execution_options={"skip_scope": True}).first() is not None


# The links sent by mail (models.Token) are the system's; of them, only invitations are
# listed, to their inviters, and never the secret's hash. Reset links stay unseen.
INVITATION_FIELDS = (
    *("email", "name", "role", "school", "partner", "created_by_id"),
    *("created_at", "expires_at", "used_at", "user_id"),
)
ALL_INVITATIONS = Scope(
    "every invitation",
    lambda u, model: model.purpose == "invitation",
    lambda u, obj: obj.purpose == "invitation",
    fields=INVITATION_FIELDS,
)
OWN_SCHOOLS_INVITATIONS = Scope(
    "invitations sent by own school's users",
    lambda u, model: (model.purpose == "invitation") & model.created_by_id.in_(_own_school_user_ids(u)),
    lambda u, obj: obj.purpose == "invitation" and _invited_by_own_school(u, obj),
    fields=INVITATION_FIELDS,
)

# Fields and choice lists added in the site: the municipality's (no school) for everyone,
# a school's own for that school; a partner reads those of the schools it works with,
# whose plan lines and records it fills in.
MUNICIPAL_OR_OWN_SCHOOLS = Scope(
    "the municipality's and its own school's",
    lambda u, model: model.school_id.is_(None) | (model.school_id == u.school_id),
    lambda u, obj: obj.school_id is None or obj.school_id == u.school_id,
)
MUNICIPAL_OR_AGREED_SCHOOLS = Scope(
    "the municipality's and those of the schools it has an agreement with",
    lambda u, model: model.school_id.is_(None) | model.school_id.in_(agreed_school_ids(u)),
    lambda u, obj: obj.school_id is None or obj.school_id in agreed_school_ids(u),
)
_SITE_DEFINED = {
    ADMIN: ALL,
    COORDINATOR: ALL,
    SCHOOL: MUNICIPAL_OR_OWN_SCHOOLS,
    PARTNER: MUNICIPAL_OR_AGREED_SCHOOLS,
}


def _shared_views_sql(user: Principal, model: Any) -> ColumnElement[bool]:
    school = (
        (model.visibility == "school") & (model.school_id == user.school_id) if user.school_id else false()
    )
    return (model.user_id == user.id) | (model.visibility == "everyone") | school


def _shared_view_row(user: Principal, obj: Any) -> bool:
    if obj.user_id == user.id or obj.visibility == "everyone":
        return True
    return obj.visibility == "school" and user.school_id is not None and obj.school_id == user.school_id


# A saved view (models.SavedView): its owner's, or shared with the owner's school, or with
# everyone. A school never sees another school's; a personal one is its owner's alone.
SAVED_VIEWS_SHOWN = Scope(
    "its own saved views and those shared with its school or everyone", _shared_views_sql, _shared_view_row
)


def _addressed_to_school(user: Principal, request_id: int | None) -> bool:
    """Whether the data request request_id goes to the user's school (models.DataRequest.addressed)."""
    if request_id is None or user.school_id is None:
        return False
    stmt = select(m.DataRequest.id).where(
        m.DataRequest.id == request_id, m.DataRequest.addressed(m.DataRequest, user.school_id)
    )
    return db.session.execute(stmt, execution_options={"skip_scope": True}).first() is not None


def _addressed_request_ids(user: Principal) -> Any:
    return select(m.DataRequest.id).where(m.DataRequest.addressed(m.DataRequest, user.school_id))


# A data request (models.DataRequest) and its questions: a school reads those that go to it.
REQUESTS_TO_OWN_SCHOOL = Scope(
    "data requests that go to its school",
    lambda u, model: m.DataRequest.addressed(model, u.school_id),
    lambda u, obj: _addressed_to_school(u, obj.id),
)
QUESTIONS_OF_REQUESTS_TO_OWN_SCHOOL = Scope(
    "questions of the data requests that go to its school",
    lambda u, model: model.request_id.in_(_addressed_request_ids(u)),
    lambda u, obj: _addressed_to_school(u, obj.request_id),
)

_SCHOOL_ROWS = {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: OWN_SCHOOL}
_DIRECTORY = {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: ALL, PARTNER: OWN_PARTNER}
_EVERYONE = {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: ALL, PARTNER: ALL}

# Which rows of each table each role sees. A missing model or role is a deny.
VISIBILITY: dict[type[Any], dict[str, Scope]] = {
    m.School: {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: OWN_SCHOOL, PARTNER: AGREED_SCHOOL_NAMES},
    m.Partner: _DIRECTORY,
    m.PartnerResource: _DIRECTORY,
    **{model: _SCHOOL_ROWS for model in m.SCHOOL_OWNED},
    # What a partner reads of a school's rows: its own side of the work.
    m.Event: {**_SCHOOL_ROWS, PARTNER: OWN_EVENTS_AT_AGREED_SCHOOLS},
    m.Agreement: {**_SCHOOL_ROWS, PARTNER: OWN_AGREEMENTS},
    m.EventExecution: {**_SCHOOL_ROWS, PARTNER: RECORDS_OF_OWN_EVENTS},
    m.CalendarFeed: {**_SCHOOL_ROWS, PARTNER: OWN_PARTNER},
    m.User: {ADMIN: ALL, COORDINATOR: SELF, SCHOOL: SELF, PARTNER: SELF},
    m.SignIn: {ADMIN: ALL},
    m.Token: {ADMIN: ALL_INVITATIONS, SCHOOL: OWN_SCHOOLS_INVITATIONS},
    # Everyone, the admin too, reads only the messages addressed to them.
    m.Notification: dict.fromkeys((ADMIN, COORDINATOR, SCHOOL, PARTNER), OWN_MESSAGES),
    # Everyone, the admin too, sees and ends only their own sessions.
    m.UserSession: dict.fromkeys((ADMIN, COORDINATOR, SCHOOL, PARTNER), OWN_SESSIONS),
    m.NotificationPreference: dict.fromkeys((ADMIN, COORDINATOR, SCHOOL, PARTNER), OWN_SETTINGS),
    # A plan's file waiting for its import's confirmation: its uploader's alone.
    m.StagedImport: dict.fromkeys((ADMIN, COORDINATOR, SCHOOL, PARTNER), OWN_STAGED_IMPORTS),
    # Personal tokens of the read API (coop/api_tokens.py): everyone, the admin too, sees only their own.
    m.ApiToken: dict.fromkeys((ADMIN, COORDINATOR, SCHOOL, PARTNER), OWN_API_TOKENS),
    m.History: {
        ADMIN: ALL,
        COORDINATOR: HISTORY_OF_READABLE_TABLES,
        SCHOOL: HISTORY_OF_READABLE_TABLES,
        PARTNER: HISTORY_OF_OWN_EVENTS,
    },
    **{catalog: _EVERYONE for catalog in m.CATALOGS},
    m.FieldDefinition: _SITE_DEFINED,
    m.ChoiceList: _SITE_DEFINED,
    # The figures kept (coop.summary): read by the dashboard and the home page, written by no one.
    m.SchoolYearFigure: _SCHOOL_ROWS,
    m.SavedView: dict.fromkeys((ADMIN, COORDINATOR, SCHOOL, PARTNER), SAVED_VIEWS_SHOWN),
    m.FigureYear: {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: ALL},
    # The municipality's data requests (coop/data_requests.py): the coordinator reads every
    # answer; a school the requests that go to it and its own answer only, never another
    # school's (nor whether it has answered); a partner nothing.
    m.DataRequest: {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: REQUESTS_TO_OWN_SCHOOL},
    m.DataRequestQuestion: {ADMIN: ALL, COORDINATOR: ALL, SCHOOL: QUESTIONS_OF_REQUESTS_TO_OWN_SCHOOL},
    m.DataRequestAnswer: _SCHOOL_ROWS,
}


def scope_of(user: Principal | None, model: type) -> Scope | None:
    """The scope of model's rows the user sees; None: none at all."""
    role = role_of(user)
    return VISIBILITY.get(model, {}).get(role) if role else None


def criteria(user: Principal | None, model: type) -> ColumnElement[bool]:
    """SQL condition for the rows of model the user may see; false for unknown models."""
    found = scope_of(user, model)
    return false() if found is None or user is None else found.sql(user, model)


def scope(query: Query, user: Principal | None, model: type) -> Query:
    return query.filter(criteria(user, model))


def visible(user: Principal | None, obj: Any) -> bool:
    """Whether a loaded row is one the user may see: the per-row form of criteria."""
    found = scope_of(user, type(obj))
    return found is not None and user is not None and found.row(user, obj)


def visible_fields(user: Principal | None, model: type) -> tuple[str, ...] | None:
    """The columns of model's rows the user may read; None: all of them."""
    found = scope_of(user, model)
    return () if found is None else found.fields


def reads_history_of(user: Principal | None, model: type) -> bool:
    """Whether the user reads the history of model's rows at all (a row's page shows it)."""
    found = scope_of(user, m.History)
    if found is None or user is None:
        return False
    return found is ALL or getattr(model, "__tablename__", None) in _history_tables(user)


# --- actions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A named predicate over (user, obj-or-None); combine with | and &."""

    name: str
    test: Callable[[Any, Any], bool]

    def __call__(self, user: Any, obj: Any) -> bool:
        return bool(self.test(user, obj))

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} | {other.name}", lambda u, o: self(u, o) or other(u, o))

    def __and__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} & {other.name}", lambda u, o: self(u, o) and other(u, o))


def _has_role(*roles: str) -> Rule:
    return Rule("role in " + "/".join(roles), lambda u, o: role_of(u) in roles)


is_admin = _has_role(ADMIN)
is_coordinator = _has_role(COORDINATOR)
is_school = _has_role(SCHOOL)
is_partner = _has_role(PARTNER)
is_signed_in = _has_role(ADMIN, COORDINATOR, SCHOOL, PARTNER)
# obj=None asks about the model in general ("may this role ever…"): true here,
# and the row itself is checked when there is one.
sees_row = Rule("sees row", lambda u, o: o is None or visible(u, o))
own_school_row = is_school & Rule("row of own school", lambda u, o: o is None or o.school_id == u.school_id)
own_school_card = is_school & Rule("own school card", lambda u, o: o is None or o.id == u.school_id)
own_partner_card = is_partner & Rule("own organisation", lambda u, o: o is None or o.id == u.partner_id)
own_partner_row = is_partner & Rule(
    "row of own organisation", lambda u, o: o is None or partner_of(o) == u.partner_id
)
own_partner_event = own_partner_row & Rule(
    "for a school it has an agreement with",
    lambda u, o: o is None or school_of(o) in agreed_school_ids(u),
)


def _state_lets_proposer(action: str) -> Rule:
    """The row's state still lets the role that proposed it do action (coop/workflow.py)."""
    return Rule(
        f"state lets the proposer {action}",
        lambda u, o: o is None or _proposer_may(action, o),
    )


def _proposer_may(action: str, obj: Any) -> bool:
    flow = workflow.workflow_of(obj)
    return flow is not None and flow.proposer_may(action, obj.state)


municipal_row = Rule("the municipality's, no school's", lambda u, o: o is None or o.school_id is None)
# The coordinator proposes a municipality-wide field: switched off until the admin switches it on.
proposal = municipal_row & Rule(
    "a proposal, switched off", lambda u, o: o is None or not (o.is_active or (o.id and _was_active(o)))
)


def _was_active(definition: Any) -> bool:
    """Whether a field definition was switched on before this write (a proposal stays one)."""
    stmt = select(m.FieldDefinition.is_active).where(m.FieldDefinition.id == definition.id)
    return bool(db.session.execute(stmt, execution_options={"skip_scope": True}).scalar())


# Signed in first: an anonymous user has no id to compare (a refusal, not an error).
own_account = is_signed_in & Rule("own account", lambda u, o: o is not None and o.id == u.id)


def _school_may_invite(user: Any, invitation: Any) -> bool:
    """A colleague to its own school, or a representative of a partner it has an agreement with."""
    if invitation.role == SCHOOL:
        return invitation.school_id == user.school_id and invitation.partner_id is None
    if invitation.role == PARTNER:
        return invitation.partner_id in agreed_partner_ids(user) and invitation.school_id is None
    return False


def _tenant_fits_role(invitation: Any) -> bool:
    """A school account names a school, a partner's a partner, and the others neither."""
    school, partner = invitation.school_id is not None, invitation.partner_id is not None
    return (school, partner) == (invitation.role == SCHOOL, invitation.role == PARTNER)


invites_whom_it_may = Rule(
    "the invited role and tenant", lambda u, o: o is None or (_tenant_fits_role(o) and _may_invite(u, o))
)


def _may_invite(user: Any, invitation: Any) -> bool:
    return role_of(user) == ADMIN or (role_of(user) == SCHOOL and _school_may_invite(user, invitation))


# Whom each role may show a saved view to: itself; a school's user its school; the admin
# and the coordinator everyone.
SHARES: dict[str, tuple[str, ...]] = {
    ADMIN: ("personal", "everyone"),
    COORDINATOR: ("personal", "everyone"),
    SCHOOL: ("personal", "school"),
    PARTNER: ("personal",),
}


def _shares_as_it_may(user: Any, view: Any) -> bool:
    """A view names its owner's school (none for an account without one) and is shown to
    whom the owner's role may show it."""
    return view.visibility in SHARES.get(role_of(user) or "", ()) and view.school_id == user.school_id


own_saved_view = Rule("own saved view", lambda u, o: o is None or o.user_id == u.id)
shares_as_it_may = Rule(
    "shown to whom its role may show it", lambda u, o: o is None or _shares_as_it_may(u, o)
)

addressed_to_own_school = Rule(
    "a data request that goes to its school",
    lambda u, o: o is None or _addressed_to_school(u, _ref_id(o, "request")),
)
_data_request_area = {
    "view": (is_admin | is_coordinator | is_school) & sees_row,
    **dict.fromkeys(("create", "edit", "delete"), is_admin | is_coordinator),
}

_school_area = {
    "view": (is_admin | is_coordinator | is_school) & sees_row,
    "create": is_admin | own_school_row,
    "edit": is_admin | own_school_row,
    "delete": is_admin | own_school_row,
}
_catalog_area = {
    "view": is_signed_in,
    "create": is_admin,
    "edit": is_admin,
    "delete": is_admin,
}

PERMISSIONS: dict[str, dict[str, Rule]] = {
    "home": {"view": is_signed_in},
    "calendar": {"view": is_signed_in},
    "plan": {"view": is_signed_in, "export": is_signed_in, "import": is_admin | is_school},
    "dashboard": {"view": is_admin | is_coordinator | is_school},
    "coverage": {"view": is_admin | is_coordinator | is_school},
    "calendarfeed": {
        "view": is_signed_in & sees_row,
        # A subscription is a school's or a partner's own: the coordinator writes none.
        **dict.fromkeys(("create", "edit", "delete"), is_admin | own_school_row | own_partner_row),
    },
    "school": {
        "view": is_signed_in & sees_row,
        "create": is_admin,
        "edit": is_admin | own_school_card,
        "delete": is_admin,
    },
    "partner": {
        "view": is_signed_in & sees_row,
        "create": is_admin | is_school,
        "edit": is_admin | own_partner_card,
        "delete": is_admin,
    },
    "partnerresource": {
        "view": is_signed_in & sees_row,
        "create": is_admin | own_partner_row,
        "edit": is_admin | own_partner_row,
        "delete": is_admin | own_partner_row,
    },
    "programme": _school_area,
    # A partner reads its agreements and its events' yearly records; the school writes them.
    "agreement": {**_school_area, "view": is_signed_in & sees_row},
    "seminar": _school_area,
    "limitation": _school_area,
    "eventexecution": {**_school_area, "view": is_signed_in & sees_row},
    "event": {
        "view": is_signed_in & sees_row,
        "create": is_admin | own_school_row | own_partner_event,
        "edit": is_admin | own_school_row | (own_partner_event & _state_lets_proposer("edit")),
        "delete": is_admin | own_school_row | (own_partner_event & _state_lets_proposer("delete")),
        # Workflow (coop/workflow.py): the partner proposes, the school decides.
        "submit": is_admin | own_partner_event,
        "review": is_admin | own_school_row,
    },
    "remark": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        "create": is_admin | is_coordinator,
        "edit": is_admin | is_coordinator,
        "delete": is_admin,
        "answer": is_admin | own_school_row,  # the school answers and marks resolved
        "close": is_admin | is_coordinator,
    },
    "history": {"view": (is_admin | is_coordinator | is_school) & sees_row},
    "storedfile": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        "create": is_admin | own_school_row,
        "delete": is_admin | own_school_row,
    },
    "trash": {"view": is_admin | is_school, "restore": is_admin | is_school, "purge": is_admin},
    "signin": {"view": is_admin},  # the sign-in log: written by coop.auth only
    "mailfiles": {"view": is_admin},  # the messages written as .eml files (no MAIL_SERVER)
    # Written by coop.notify at flush; a user only marks their own messages read.
    "notification": {"view": is_signed_in, "edit": is_signed_in & sees_row},
    # Started by coop.sessions at sign-in; a user ends only their own.
    "usersession": {"view": is_signed_in, "delete": is_signed_in & sees_row},
    # A plan's file waiting between the import's preview and its confirmation (views/plan_import.py).
    "stagedimport": {
        "view": is_signed_in & sees_row,
        "create": (is_admin | is_school) & sees_row,
        "delete": is_signed_in & sees_row,
    },
    # Personal tokens of the read API /api/v1/ (coop/api_tokens.py): each user makes and
    # revokes their own; a token reads what its account reads, through this same policy.
    "apitoken": {"view": is_signed_in, **dict.fromkeys(("create", "edit"), is_signed_in & sees_row)},
    # How each user receives notifications by mail: their own choice only.
    "notificationpreference": dict.fromkeys(("view", "create", "edit"), is_signed_in & sees_row),
    # Invitations (coop/invitations.py): the admin invites anyone with any role; a school
    # a colleague, or a representative of a partner it has an agreement with.
    "invitation": {
        "view": is_admin | is_school,
        "create": (is_admin | is_school) & invites_whom_it_may,
        "revoke": (is_admin | is_school) & sees_row,
    },
    # Added in the site (coop/added_fields.py): the admin any, a school its own, the
    # coordinator municipality-wide lists and proposed fields.
    "fielddefinition": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        **dict.fromkeys(
            ("create", "edit", "delete"), is_admin | own_school_row | (is_coordinator & proposal)
        ),
    },
    "choicelist": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        **dict.fromkeys(
            ("create", "edit", "delete"), is_admin | own_school_row | (is_coordinator & municipal_row)
        ),
    },
    # A list's state under a name (coop/saved_views.py): the owner writes it, shown no wider
    # than its role may show it; its events' calendar feed is the owner's too.
    "savedview": {
        "view": is_signed_in & sees_row,
        **dict.fromkeys(
            ("create", "edit", "delete", "feed"), is_signed_in & own_saved_view & shares_as_it_may
        ),
    },
    # The municipality's data requests (coop/data_requests.py): the coordinator and the admin
    # write them and decide on the answers; a school answers those that go to it, and edits
    # its answer while its state lets it (coop/workflow.py DATA_REQUEST_ANSWER).
    "datarequest": _data_request_area,
    "datarequestquestion": _data_request_area,
    "datarequestanswer": {
        "view": (is_admin | is_coordinator | is_school) & sees_row,
        "create": is_admin | (own_school_row & addressed_to_own_school),
        "edit": is_admin | (own_school_row & _state_lets_proposer("edit")),
        "delete": is_admin,
        "answer": is_admin | (own_school_row & addressed_to_own_school),
        "review": is_admin | is_coordinator,
    },
    # The site-wide search: each kind's rows as the policy lets the user see them (coop/search.py).
    "search": {"view": is_signed_in},
    "user": {
        "view": is_admin | own_account,
        "create": is_admin,
        "edit": is_admin,
        "delete": is_admin,
    },
    **{c.__name__.lower(): _catalog_area for c in m.CATALOGS},
}


def permission_name(model: type, action: str) -> str:
    return f"{model.__name__.lower()}.{action}"


def _rule(permission: str) -> Rule | None:
    area, _, action = permission.partition(".")
    return PERMISSIONS.get(area, {}).get(action)


def can(user: Principal | None, permission: str, obj: Any = None) -> bool:
    """May user do permission ("event.edit") on obj, or on the model when obj is None?"""
    rule = _rule(permission)
    return rule is not None and rule(user, obj)


def require(user: Principal | None, permission: str, obj: Any = None) -> None:
    """can(), or AccessDenied naming the permission and the rule that refused it."""
    if not can(user, permission, obj):
        rule = _rule(permission)
        raise AccessDenied(f"{permission}: {rule.name if rule else 'no such permission'}")


def can_on(user: Principal | None, action: str, model: type, obj: Any = None) -> bool:
    return can(user, permission_name(model, action), obj)


def require_on(user: Principal | None, action: str, model: type, obj: Any = None) -> None:
    require(user, permission_name(model, action), obj)


# --- owner fields on create and edit ---------------------------------------------------


def assign_owner(user: Any, obj: Any) -> None:
    """Force the tenant columns from the user, never from what a form posted."""
    role = role_of(user)
    if role == SCHOOL and hasattr(obj, "school_id") and not isinstance(obj, m.User):
        obj.school, obj.school_id = user.school, user.school_id
    if role == PARTNER and isinstance(obj, m.Event | m.PartnerResource):
        obj.partner, obj.partner_id = user.partner, user.partner_id
    if role == COORDINATOR and isinstance(obj, m.FieldDefinition):
        obj.school, obj.school_id, obj.is_active = None, None, False  # a proposal (see `proposal`)
    if isinstance(obj, m.EventExecution) and obj.event is not None:
        obj.school_id = obj.event.school_id
