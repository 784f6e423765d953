"""Every URL rule × every role × own and foreign rows: the status the policy promises,
and never another tenant's text in the body.

The expectations are written here as a table, apart from coop/access.py, so that
the test checks the policy against DESIGN.md rather than against itself. A URL
rule this file does not know fails the test: a new view needs its row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import api_tokens
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, login

ROLE_KEYS = list(ACCOUNTS)
ROLES = ("admin", "coordinator", "school", "partner")

# Which rows of a table each role sees: "all"; "own" (own school's rows, own
# organisation's card); "agreed" (a partner: the schools it has an agreement
# with, its own events there); None: the table is closed to the role.
VISIBILITY: dict[str, tuple[str | None, ...]] = {
    #                   admin  coordinator school  partner
    "school": ("all", "all", "own", "agreed"),
    "partner": ("all", "all", "all", "own"),
    "partnerresource": ("all", "all", "all", "own"),
    "programme": ("all", "all", "own", None),
    "agreement": ("all", "all", "own", "agreed"),  # a partner: its own, read-only
    "event": ("all", "all", "own", "agreed"),
    "eventexecution": ("all", "all", "own", "agreed"),  # a partner: its events' records, read-only
    "seminar": ("all", "all", "own", None),
    "limitation": ("all", "all", "own", None),
    "remark": ("all", "all", "own", None),
    "user": ("all", None, None, None),
    "history": ("all", "all", "own", None),
    "signin": ("all", None, None, None),  # the sign-in log: the admin's only
    # Added in the site: the municipality's and a school's own ("municipal+own").
    "fielddefinition": ("all", "all", "municipal+own", None),
    # The municipality's data requests: a school reads those that go to it ("addressed"; the
    # demo's goes to every school: the cells of the rule, tests/test_policy_table.py).
    "datarequest": ("all", "all", "addressed", None),
    "datarequestquestion": ("all", "all", "addressed", None),
    # The answers: a school's own only (never another's, nor its state).
    "datarequestanswer": ("all", "all", "own", None),
    "choicelist": ("all", "all", "municipal+own", None),
    **{
        catalog: ("all", "all", "all", "all")
        for catalog in (
            "partnerkind",
            "eventkind",
            "eventlevel",
            "audience",
            "position",
            "educationlevel",
            "fgosresult",
        )
    },
}

# Who may create / edit / delete (on rows they see). "partner-draft": a partner,
# on its own events while they are drafts (the demo's events are approved).
WRITERS: dict[str, dict[str, set[str]]] = {
    "school": {"create": {"admin"}, "edit": {"admin", "school"}, "delete": {"admin"}},
    "partner": {"create": {"admin", "school"}, "edit": {"admin", "partner"}, "delete": {"admin"}},
    "partnerresource": {action: {"admin", "partner"} for action in ("create", "edit", "delete")},
    "event": {
        "create": {"admin", "school", "partner"},
        "edit": {"admin", "school", "partner-draft"},
        "delete": {"admin", "school", "partner-draft"},
    },
    "remark": {  # the school answers through the workflow, not the edit form
        "create": {"admin", "coordinator"},
        "edit": {"admin", "coordinator"},
        "delete": {"admin"},
    },
    "history": {"create": set(), "edit": set(), "delete": set()},  # append-only, written by coop.history
    **{
        area: {action: {"admin", "coordinator"} for action in ("create", "edit", "delete")}
        for area in ("datarequest", "datarequestquestion")
    },
    "signin": {"create": set(), "edit": set(), "delete": set()},  # append-only, written by coop.auth
    # A school its own; the coordinator the municipality's lists and its own proposals
    # (a field switched off: the demo's «Использованные ресурсы партнёра»).
    "fielddefinition": {
        "create": {"admin", "school", "coordinator"},
        **{key: {"admin", "school-own", "coordinator-proposal"} for key in ("edit", "delete")},
    },
    "choicelist": {
        "create": {"admin", "school", "coordinator"},
        **{key: {"admin", "school-own", "coordinator-municipal"} for key in ("edit", "delete")},
    },
    **{
        area: {action: {"admin", "school"} for action in ("create", "edit", "delete")}
        for area in ("programme", "agreement", "eventexecution", "seminar", "limitation")
    },
}

# Text only the named school's users (and admin, coordinator, its partners) may see.
MARKERS = {"school31": ("СОШ № 31",), "gymnasium17": ("Гимназ",)}
OTHER_SCHOOL = {
    "school31": "gymnasium17",
    "gymnasium17": "school31",
    "kemsu": "gymnasium17",
    "museum": "school31",
}


@dataclass
class Principal:
    key: str
    role: str | None
    user_id: int | None = None
    school_id: int | None = None
    partner_id: int | None = None
    agreed: frozenset[int] = frozenset()


@dataclass
class Probe:
    """A row the matrix points at, with the columns that decide who sees it."""

    id: int
    school_id: int | None
    partner_id: int | None
    state: str | None = None


@pytest.fixture(scope="module")
def world(app: Flask) -> dict[str, Any]:
    """Principals and, for every model endpoint, rows of both schools and both partners."""
    # A sign-in of each role, so that the sign-in log has rows to point at.
    for account in ACCOUNTS.values():
        if account.role:
            login(app.test_client(), account.email, account.password)
    with app.app_context():
        principals = {}
        for key, account in ACCOUNTS.items():
            user = db.session.execute(select(m.User).filter_by(email=account.email)).scalar_one_or_none()
            agreed = frozenset()
            if user is not None and user.partner_id:
                agreed = frozenset(
                    db.session.execute(
                        select(m.Agreement.school_id).filter_by(partner_id=user.partner_id)
                    ).scalars()
                )
            principals[key] = Principal(
                key,
                account.role,
                user.id if user else None,
                user.school_id if user else None,
                user.partner_id if user else None,
                agreed,
            )
        probes: dict[str, list[Probe]] = {}
        for model in (
            m.School,
            m.Partner,
            m.PartnerResource,
            m.Programme,
            m.Agreement,
            m.Event,
            m.EventExecution,
            m.Seminar,
            m.Limitation,
            m.Remark,
            m.User,
            m.History,
            m.SignIn,
            m.FieldDefinition,
            m.ChoiceList,
            m.DataRequest,
            m.DataRequestQuestion,
            m.DataRequestAnswer,
            *m.CATALOGS,
        ):
            probes[model.__name__.lower()] = _probes(model)
        return {"principals": principals, "probes": probes}


def _probe(row: Any) -> Probe:
    school_id = row.id if isinstance(row, m.School) else getattr(row, "school_id", None)
    partner_id = row.id if isinstance(row, m.Partner) else getattr(row, "partner_id", None)
    if isinstance(row, m.EventExecution):  # a yearly record is its event's partner's to read
        partner_id = row.event.partner_id
    state = getattr(row, "state", None)
    if isinstance(row, m.FieldDefinition):
        state = "on" if row.is_active else "proposal"
    return Probe(row.id, school_id, partner_id, state)


def _probes(model: type) -> list[Probe]:
    """One row per distinct (school, partner, state) triple, so both tenants are probed."""
    seen: dict[tuple, Probe] = {}
    for row in db.session.execute(select(model).order_by(model.id)).scalars():
        probe = _probe(row)
        states = probe.state if model is m.FieldDefinition else None
        seen.setdefault((probe.school_id, probe.partner_id, states), probe)
    return list(seen.values())


def visible(p: Principal, area: str, row: Probe | None) -> bool:
    scope = VISIBILITY[area][ROLES.index(p.role)]
    if scope is None:
        return False
    if scope == "all" or row is None:
        return True
    if scope == "addressed":
        return True
    if scope == "municipal+own":
        return row.school_id is None or row.school_id == p.school_id
    if area in ("partner", "partnerresource"):
        return row.partner_id == p.partner_id
    if scope == "agreed":
        if area == "school":
            return row.school_id in p.agreed
        return row.partner_id == p.partner_id and row.school_id in p.agreed
    return row.school_id == p.school_id


def may(p: Principal, area: str, action: str, row: Probe | None) -> bool:
    writers = WRITERS.get(area, {action: {"admin"}})[action]
    if p.role in writers:
        return True
    if p.role == "school" and "school-own" in writers:
        return row is None or row.school_id == p.school_id
    if p.role == "coordinator" and "coordinator-municipal" in writers:
        return row is None or row.school_id is None
    if p.role == "coordinator" and "coordinator-proposal" in writers:
        return row is None or (row.school_id is None and row.state == "proposal")
    return "partner-draft" in writers and p.role == "partner" and (row is None or row.state == "draft")


def expected_status(p: Principal, area: str, view: str, row: Probe | None) -> int:
    if p.role is None:
        return 302  # to the sign-in page
    if VISIBILITY[area][ROLES.index(p.role)] is None:
        return 403
    if view in ("index_view", "export", "ajax_lookup"):
        return 200
    if view == "create_view":
        return 200 if may(p, area, "create", None) else 403
    if view == "edit_view" and not may(p, area, "edit", None):
        return 403
    if not visible(p, area, row):
        return 404
    if view == "edit_view":
        return 200 if may(p, area, "edit", row) else 403
    return 200


MODEL_GET_VIEWS = ("index_view", "create_view", "details_view", "edit_view", "export", "ajax_lookup")
MODEL_POST_VIEWS = (
    "create_view",
    "edit_view",
    "delete_view",
    "action_view",
    "ajax_update",
    "transition_view",
    "attach_view",
)
OTHER_ENDPOINTS = {"static", "admin.static", "auth.login", "auth.logout", "root", "admin.index"}

# Pages that are not model views: URL per school, and who may open them. A
# school opens its own plan, a partner the plans of schools it has an agreement
# with, admin and coordinator every school's; anyone else gets 404.
PLAN_PAGES = {
    "calendar.index": "/admin/calendar/?school={school}&year=2019",
    "calendar.export": "/admin/calendar/export/json/?school={school}&year=2019",
    "api.plan_json": "/api/plan.json?school={school}&year=2019",
}
POST_ONLY = {
    "calendar.feed": "/admin/calendar/feed/?school={school}",
    "invitations.revoke": "/admin/invitations/revoke/",
    # Each account's own API tokens: made and revoked (tests/test_api_tokens.py, every role).
    "apitokens.create": "/admin/apitokens/new/",
    "apitokens.revoke": "/admin/apitokens/revoke/",
}
# Anonymous by design, guarded by a secret token: tests/test_calendar.py, tests/test_password_reset.py,
# tests/test_invitations.py; here, every role gets the same Russian refusal for a link that opens nothing.
TOKEN_PAGES = {"feeds.feed", "feeds.saved_view", "recovery.reset", "invitation.accept"}
BAD_LINKS = {"recovery.reset": "/password/reset/{secret}", "invitation.accept": "/invitation/{secret}"}
# Open to everyone, signed in or not: asking for a recovery link.
OPEN_PAGES = {"recovery.forgot": "/password/forgot", "api_v1.openapi": "/api/v1/openapi.json"}
# Every signed-in role's own page; anonymous sent to sign in.
SIGNED_IN_PAGES = {"apitokens.index": "/admin/apitokens/"}
# The read API /api/v1/ (coop/api_v1.py): each collection and its rows, by the area whose
# VISIBILITY row above says who reads what. Only a token signs in there, never a cookie.
API_AREAS = {
    "schools": "school",
    "partners": "partner",
    "programmes": "programme",
    "agreements": "agreement",
    "events": "event",
    "executions": "eventexecution",
    "seminars": "seminar",
    "remarks": "remark",
    "answers": "datarequestanswer",
}
API_PAGES = {f"api_v1.{kind}_{path}" for path in API_AREAS for kind in ("list", "get")}
# Pages of one area, by role: the invitations are the admin's and the schools' (a school sees
# its own users' only: tests/test_invitations.py); the others are refused, anonymous sent to sign in.
ROLE_PAGES = {"invitations.index": "/admin/invitations/", "invitations.new": "/admin/invitations/new/"}
ROLE_PAGE_STATUS = {None: 302, "admin": 200, "coordinator": 403, "school": 200, "partner": 403}
# Endpoints whose role × status table lives in the named test module (each such
# module parametrizes every role, anonymous included, and checks other tenants'
# markers). Add a row here only together with that test.
COVERED_ELSEWHERE: dict[str, str] = {
    "review.index": "tests/test_workflow.py",
    "trash.index": "tests/test_trash.py",
    "trash.restore": "tests/test_trash.py",
    "trash.purge": "tests/test_trash.py",
    "files.download": "tests/test_uploads.py",
    "auth.change_password": "tests/test_security.py",
    "event.outcome_view": "tests/test_outcomes.py",
    "dashboard.index": "tests/test_dashboard.py",
    "dashboard.export": "tests/test_dashboard.py",
    "dashboard.report": "tests/test_report.py",
    "coverage.index": "tests/test_dashboard.py",
    "search.index": "tests/test_site_search.py",
    # The data requests' pages: every role, a request that goes to a school and one that does not.
    **dict.fromkeys(
        (
            f"datarequests.{view}"
            for view in ("index", "board", "answer", "decide", "export", "copy", "compare")
        ),
        "tests/test_data_request_pages.py",
    ),
    **dict.fromkeys(
        (f"plan_import.{view}" for view in ("index", "upload", "preview", "confirm", "cancel")),
        "tests/test_import_web.py",
    ),
    "plan_import.template": "tests/test_import_template.py",
    **dict.fromkeys(
        (f"notifications.{view}" for view in ("index", "read", "read_all")), "tests/test_notifications.py"
    ),
    **dict.fromkeys(
        (f"sessions.{view}" for view in ("index", "end", "end_others")), "tests/test_sessions.py"
    ),
    "notifications.settings": "tests/test_preferences.py",
    # Saved views: own, shared with one's school or everyone, a foreign one (404).
    **dict.fromkeys(
        (
            f"savedviews.{view}"
            for view in ("index", "save", "open", "export", "rename", "delete", "feed", "revoke_feed")
        ),
        "tests/test_saved_views.py",
    ),
    **dict.fromkeys(
        (f"mailfiles.{view}" for view in ("index", "message", "download")), "tests/test_mail_files.py"
    ),
    # A partner's confirmation by a link: the school asks, the contact answers without an
    # account (guarded by the link's secret), the school decides in its review queue.
    **dict.fromkeys(
        ("event.ask_partner_view", "confirm.page", "review.report"), "tests/test_partner_confirmation.py"
    ),
}


def _model_rules(app: Flask) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if (
            rule.endpoint
            in OTHER_ENDPOINTS
            | set(PLAN_PAGES)
            | set(POST_ONLY)
            | TOKEN_PAGES
            | set(COVERED_ELSEWHERE)
            | set(OPEN_PAGES)
            | set(ROLE_PAGES)
            | set(SIGNED_IN_PAGES)
            | API_PAGES
        ):
            continue
        area, _, view = rule.endpoint.partition(".")
        rules.append((area, view))
    return sorted(set(rules))


def test_every_endpoint_has_a_row_in_the_matrix(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PLAN_PAGES) | set(POST_ONLY) | TOKEN_PAGES | set(COVERED_ELSEWHERE) <= endpoints
    assert set(OPEN_PAGES) | set(ROLE_PAGES) | set(SIGNED_IN_PAGES) | API_PAGES <= endpoints
    assert {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")} == (
        API_PAGES | {"api_v1.openapi"}
    ), "a URL of the read API without its row here"
    unknown = [
        f"{area}.{view}"
        for area, view in _model_rules(app)
        if area not in VISIBILITY or view not in set(MODEL_GET_VIEWS) | set(MODEL_POST_VIEWS)
    ]
    assert unknown == [], "endpoints without a row in the access matrix"


def _url(area: str, view: str, row: Probe | None, ajax_field: str | None = None) -> str:
    base = f"/admin/{area}/"
    return {
        "index_view": base,
        "create_view": base + "new/",
        "details_view": f"{base}details/?id={row.id if row else 0}",
        "edit_view": f"{base}edit/?id={row.id if row else 0}",
        "export": base + "export/csv/",
        "ajax_lookup": f"{base}ajax/lookup/?name={ajax_field}&query=",
    }[view]


def _cases(app_rules: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    return [(key, area, view) for area, view in app_rules if view in MODEL_GET_VIEWS for key in ROLE_KEYS]


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_get_matrix(app: Flask, world: dict[str, Any], client_as: Any, key: str) -> None:
    """GET every model endpoint as one role, on every probed row; one client per role."""
    client = client_as(key)
    principal = world["principals"][key]
    failures = []
    for area, view in _model_rules(app):
        if view not in MODEL_GET_VIEWS:
            continue
        admin_view = next(
            v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == area
        )
        rows: list[Probe | None] = world["probes"][area] if view in ("details_view", "edit_view") else [None]
        for row in rows:
            if view == "ajax_lookup":
                fields = list(admin_view._form_ajax_refs or {})
                if not fields:
                    continue
                url = _url(area, view, row, fields[0])
            else:
                url = _url(area, view, row)
            response = client.get(url)
            body = response.get_data(as_text=True)  # also ends a streamed export's request
            response.close()
            want = expected_status(principal, area, view, row)
            if response.status_code != want:
                failures.append(f"{url}: {response.status_code}, expected {want}")
                continue
            if want == 302:
                assert "/login" in response.headers["Location"]
            if want == 200 and key in OTHER_SCHOOL:
                for marker in MARKERS[OTHER_SCHOOL[key]]:
                    if marker in body:
                        failures.append(f"{url}: shows «{marker}» of another school")
    assert failures == []


def plan_page_status(p: Principal, endpoint: str, school_id: int) -> int:
    if p.role is None:
        return 401 if endpoint.startswith("api.") else 302
    if p.role in ("admin", "coordinator"):
        return 200
    if p.role == "school":
        return 200 if school_id == p.school_id else 404
    return 200 if school_id in p.agreed else 404


@pytest.mark.parametrize("key", ROLE_KEYS)
@pytest.mark.parametrize("endpoint", sorted(PLAN_PAGES))
def test_plan_pages(
    world: dict[str, Any], ids: dict[str, int], client_as: Any, key: str, endpoint: str
) -> None:
    client = client_as(key)
    principal = world["principals"][key]
    for school in ("school31", "gymnasium17"):
        response = client.get(PLAN_PAGES[endpoint].format(school=ids[school]))
        body = response.get_data(as_text=True)
        assert response.status_code == plan_page_status(principal, endpoint, ids[school]), (endpoint, school)
        if response.status_code == 200 and key in OTHER_SCHOOL:
            for marker in MARKERS[OTHER_SCHOOL[key]]:
                assert marker not in body, (endpoint, school, marker)


def test_other_pages(client_as: Any) -> None:
    anonymous = client_as("anonymous")
    assert anonymous.get("/").status_code == 302
    assert "/login" in anonymous.get("/admin/").headers["Location"]
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/logout").status_code == 302
    for key in ROLE_KEYS[1:]:
        response = client_as(key).get("/admin/")
        assert response.status_code == 200
        if key in OTHER_SCHOOL:
            for marker in MARKERS[OTHER_SCHOOL[key]]:
                assert marker not in response.get_data(as_text=True)


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_role_open_and_token_pages(world: dict[str, Any], client_as: Any, key: str) -> None:
    client = client_as(key)
    role = world["principals"][key].role
    for endpoint, url in ROLE_PAGES.items():
        response = client.get(url)
        assert response.status_code == ROLE_PAGE_STATUS[role], endpoint
        if response.status_code == 200 and key in OTHER_SCHOOL:
            for marker in MARKERS[OTHER_SCHOOL[key]]:
                assert marker not in response.get_data(as_text=True), (endpoint, marker)
    for endpoint, url in OPEN_PAGES.items():
        assert client.get(url).status_code == 200, endpoint
    for endpoint, url in SIGNED_IN_PAGES.items():
        response = client.get(url)
        assert response.status_code == (200 if role else 302), endpoint
        if response.status_code == 200 and key in OTHER_SCHOOL:
            for marker in MARKERS[OTHER_SCHOOL[key]]:
                assert marker not in response.get_data(as_text=True), (endpoint, marker)
    for endpoint, url in BAD_LINKS.items():
        response = client.get(url.format(secret="x" * 43))
        assert response.status_code == 404 and "Ссылка не открывается" in response.text, endpoint


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_writes_without_csrf_token_are_refused(
    app: Flask, world: dict[str, Any], client_as: Any, key: str
) -> None:
    client = client_as(key)
    with app.app_context():
        before = {area: len(_probes_all(area)) for area in VISIBILITY}
    for area, view in _model_rules(app):
        if view in MODEL_POST_VIEWS:
            row = world["probes"][area][0]
            url = (
                f"/admin/{area}/"
                + {
                    "create_view": "new/",
                    "edit_view": f"edit/?id={row.id}",
                    "delete_view": "delete/",
                    "action_view": "action/",
                    "ajax_update": "ajax/update/",
                    "transition_view": f"transition/?id={row.id}",
                    "attach_view": f"attach/?id={row.id}",
                }[view]
            )
            response = client.post(url, data={"id": row.id, "rowid": row.id, "action": "delete"})
            assert response.status_code == 400, url
    assert client.post("/login", data={"email": "admin@coop.example", "password": "admin"}).status_code == 400
    assert client.post("/password/forgot", data={"email": "admin@coop.example"}).status_code == 400
    invitation = {"email": "x@example.org", "whom": "admin"}
    assert client.post("/admin/invitations/new/", data=invitation).status_code == 400
    for url in POST_ONLY.values():
        assert client.post(url.format(school=world["probes"]["school"][0].id)).status_code == 400
    with app.app_context():
        assert {area: len(_probes_all(area)) for area in VISIBILITY} == before


def _probes_all(area: str) -> list[int]:
    model = next(
        mapper.class_ for mapper in db.Model.registry.mappers if mapper.class_.__name__.lower() == area
    )
    return list(db.session.execute(select(model.id)).scalars())


def _api_status(p: Principal, area: str, row: Probe | None) -> int:
    if p.role is None:
        return 401
    if VISIBILITY[area][ROLES.index(p.role)] is None:
        return 403
    return 200 if row is None or visible(p, area, row) else 404


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_api_matrix(app: Flask, world: dict[str, Any], client_as: Any, fresh_db: None, key: str) -> None:
    """Every URL of the read API as one role, by a token of its account: each collection
    and each probed row answer as the policy promises, and never with another tenant's text;
    the same account's session cookie alone opens nothing there."""
    principal = world["principals"][key]
    client = client_as(key)
    headers = {}
    if principal.user_id is not None:
        with app.app_context():
            _, secret = api_tokens.issue(db.session.get(m.User, principal.user_id), "matrix")
            db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
    failures = []
    for path, area in API_AREAS.items():
        if principal.role is not None:  # the cookie of a signed-in client, without a token
            assert client.get(f"/api/v1/{path}").status_code == 401, path
        response = client.get(f"/api/v1/{path}?limit=500", headers=headers)
        want = _api_status(principal, area, None)
        if response.status_code != want:
            failures.append(f"/api/v1/{path}: {response.status_code}, expected {want}")
            continue
        if want == 200:
            assert response.json["next_cursor"] is None  # the demo fits in a page
            listed = {item["id"] for item in response.json["items"]}
            for row in world["probes"][area]:
                if (row.id in listed) != visible(principal, area, row):
                    failures.append(f"/api/v1/{path}: row {row.id} listed: {row.id in listed}")
        pages = [response]
        for row in world["probes"][area]:
            pages.append(client.get(f"/api/v1/{path}/{row.id}", headers=headers))
            if pages[-1].status_code != _api_status(principal, area, row):
                failures.append(f"/api/v1/{path}/{row.id}: {pages[-1].status_code}")
        for page in pages:
            if page.status_code == 200 and key in OTHER_SCHOOL:
                for marker in MARKERS[OTHER_SCHOOL[key]]:
                    if marker in page.get_data(as_text=True):
                        failures.append(f"{page.request.path}: shows «{marker}» of another school")
    assert failures == []
