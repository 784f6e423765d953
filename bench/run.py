"""The benchmark: every page type, as every role, against its SQL floor.

Fill a database with the regional data, then run the benchmark against it::

    DATABASE_URL=URL .venv/bin/flask --app app coop bench-data     # minutes; smaller by options
    .venv/bin/python bench/run.py --database-url URL [--requests N]

It serves the app with gunicorn on 127.0.0.1 (``COOP_SQL_COUNT=1``: each response
says how many SQL statements it sent), signs in through the /login form as an
admin, a coordinator, the user of the school with the largest plan and the user
of the partner with the most plan lines, and requests as each of them every
page type it may open: every list view (first page, a deep page, a filter, a
search), a details page, an edit form, every custom page (calendar, dashboard,
coverage, review…), the home page, the JSON plan, the calendar exports and an
iCalendar feed (created through the calendar page's form). Each page is asked
once to warm up, then N times in a row: median and p95 wall time, and the
X-SQL-Count.

The SQL floor of a page is the same rows fetched by hand-written SQL (SQLAlchemy
Core) in this process, timed the same way: the page's rows with the names of
what they refer to, under the same row filter, page and order; no total count,
no option lists, no HTML. The ratio page/floor is what the app adds on top.

Results go to ``bench/results/<database>-<size>.md`` and ``.json``, with the
machine and the database named. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import http.client
import json
import os
import platform
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the app is imported for its views

from sqlalchemy import Connection, Select, func, or_, select  # noqa: E402
from sqlalchemy.orm import RelationshipProperty  # noqa: E402

from coop import access, api_tokens, api_v1, create_app  # noqa: E402
from coop import models as m  # noqa: E402
from coop.extensions import db  # noqa: E402
from coop.plan_io.plan import runs_in_year  # noqa: E402
from coop.seed import bench as bench_data  # noqa: E402
from coop.timing import academic_year_of  # noqa: E402
from coop.views.base import SecuredModelView  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LIST_BUDGET_MS, CALENDAR_BUDGET_MS, DASHBOARD_BUDGET_MS, SQL_BUDGET = 150, 150, 500, 8
TIMEOUT_S = 60  # a page slower than this is recorded as a timeout
LABELS = ("short_name", "name", "title", "number", "email", "text")  # what a relation shows as


# --- HTTP: a tiny client with cookies, one connection per request (as a browser's new tab) --


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    ms: float


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        raw = conn.getresponse()
        data = raw.read()
        ms = (time.perf_counter() - started) * 1000
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return Response(
            raw.status, {k.lower(): v for k, v in raw.getheaders()}, data.decode("utf-8", "replace"), ms
        )

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise SystemExit("В странице нет CSRF-токена.")
    return match.group(1) or match.group(2)


def sign_in(port: int, email: str) -> Client:
    for _attempt in range(3):  # a worker still starting may answer the first try with the form again
        client = Client(port)
        page = client.get("/login")
        answer = client.post(
            "/login", {"email": email, "password": bench_data.BENCH_PASSWORD, "csrf_token": csrf(page.body)}
        )
        if answer.status == 302:
            return client
        time.sleep(2)
    raise SystemExit(f"Не удалось войти как {email}: HTTP {answer.status}.")


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(url: str, port: int, workers: int, log: Path | None = None) -> Iterator[None]:
    """The app served on 127.0.0.1:port for the duration of the block; its log to `log` if given."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COOP_SQL_COUNT": "1",
        "COOP_AUTO_MIGRATE": "0",
        "COOP_SHOW_DEMO_ACCOUNTS": "0",
        "SECRET_KEY": secrets.token_hex(32),
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    output = log.open("w") if log else None
    with socket.socket() as probe:  # another site on the port would answer in our place
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"Порт {port} занят.")
    server = subprocess.Popen(
        [*command, "--timeout", "300", "app:app"], cwd=ROOT, env=env, stdout=output, stderr=output
    )
    try:
        for _ in range(120):
            try:
                if Client(port).get("/login").status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                raise SystemExit("gunicorn не запустился.")
            time.sleep(0.5)
        else:
            raise SystemExit("gunicorn не отвечает.")
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)
        if output:
            output.close()


# --- what to measure ----------------------------------------------------------------------


@dataclass
class Role:
    key: str  # admin, coordinator, school, partner
    email: str
    user: Any
    school_id: int  # the school whose plan the role's pages show


@dataclass
class Page:
    name: str  # e.g. "event: list, deep page"
    url: str
    kind: str  # list, calendar, dashboard, other: which time budget applies
    floor: Callable[[Connection], None] | None = None


@dataclass
class Result:
    page: str
    role: str
    url: str
    status: int
    median_ms: float
    p95_ms: float
    sql: int | None
    floor_ms: float | None
    ratio: float | None
    budget: str
    samples_ms: list[float] = field(default_factory=list)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]  # nearest rank


def measure(client: Client, page: Page, role: str, requests: int, conn: Connection) -> Result:
    first = client.get(page.url)  # warm-up: caches, the first statement plans
    samples, counts = [], []
    answer = first
    for _ in range(requests if first.status == 200 else 0):
        answer = client.get(page.url)
        samples.append(answer.ms)
        counts.append(int(answer.headers.get("x-sql-count", "-1")))
    floor_ms = None
    if page.floor is not None and first.status == 200:
        floor_samples = []
        for _ in range(requests):
            started = time.perf_counter()
            page.floor(conn)
            floor_samples.append((time.perf_counter() - started) * 1000)
        floor_ms = statistics.median(floor_samples)
    median = statistics.median(samples) if samples else first.ms
    high = p95(samples) if samples else first.ms
    sql = max(counts) if counts else int(first.headers.get("x-sql-count", "-1"))
    return Result(
        page=page.name,
        role=role,
        url=page.url,
        status=answer.status,
        median_ms=round(median, 1),
        p95_ms=round(high, 1),
        sql=sql,
        floor_ms=round(floor_ms, 2) if floor_ms is not None else None,
        ratio=round(median / floor_ms, 1) if floor_ms else None,
        budget=verdict(page.kind, high, sql) if answer.status == 200 else "",
        samples_ms=[round(s, 1) for s in samples],
    )


def verdict(kind: str, p95_ms: float, sql: int) -> str:
    limit = {"list": LIST_BUDGET_MS, "calendar": CALENDAR_BUDGET_MS, "dashboard": DASHBOARD_BUDGET_MS}.get(
        kind
    )
    misses = []
    if limit is not None and p95_ms > limit:
        misses.append(f"p95 > {limit} ms")
    if sql > SQL_BUDGET:
        misses.append(f"SQL > {SQL_BUDGET}")
    return "✗ " + ", ".join(misses) if misses else "✓"


# --- floors: the same rows by hand-written SQL --------------------------------------------


def run_all(*statements: Select) -> Callable[[Connection], None]:
    def floor(conn: Connection) -> None:
        for statement in statements:
            conn.execute(statement).all()

    return floor


def alive(table: Any) -> list[Any]:
    return [table.c.deleted_at.is_(None)] if "deleted_at" in table.c else []


def list_floor(view: SecuredModelView, role: Role, where: Sequence[Any] = (), page: int = 0) -> Callable:
    """The rows of one list page with the labels of the relations it shows."""
    model = view.model
    table = model.__table__
    stmt = select(table)
    collections = []
    for name in view.column_list or ():
        attr = getattr(model, name, None) if isinstance(name, str) else None
        prop = getattr(attr, "property", None)
        if not isinstance(prop, RelationshipProperty):
            continue
        target = prop.mapper.local_table.alias(name)
        label = next((target.c[c] for c in LABELS if c in target.c), target.c.id)
        if prop.direction.name == "MANYTOONE":
            (local,) = prop.local_columns
            stmt = stmt.add_columns(label.label(f"{name}_label")).outerjoin(
                target, table.c[local.name] == target.c.id
            )
        elif prop.secondary is not None:
            collections.append((prop, target, label))
    stmt = stmt.where(access.criteria(role.user, model), *alive(table), *where)
    sort = view.column_default_sort
    column, desc = (sort, False) if isinstance(sort, str) else sort or ("id", False)
    order = table.c.get(column, table.c.id)
    page_stmt = (
        stmt.order_by(order.desc() if desc else order).limit(view.page_size).offset(page * view.page_size)
    )
    statements = [page_stmt]
    for prop, target, label in collections:
        secondary = prop.secondary
        parent = next(c for c in secondary.c if c.references(table.c.id))
        child = next(c for c in secondary.c if c is not parent)
        ids = select(page_stmt.subquery().c.id)
        statements.append(select(parent, label).join(target, child == target.c.id).where(parent.in_(ids)))
    return run_all(*statements)


def row_floor(model: type, row_id: int) -> Callable:
    table = model.__table__
    return run_all(select(table).where(table.c.id == row_id))


def plan_floor(school_id: int, year: int | None) -> Callable:
    """A school's plan lines for a year (all years for a feed) with their partners, and executions."""
    events, partners = m.Event.__table__, m.Partner.__table__
    when = [runs_in_year(year)] if year is not None else []
    lines = (
        select(events, partners.c.name, partners.c.short_name)
        .join(partners, partners.c.id == events.c.partner_id)
        .where(events.c.school_id == school_id, events.c.deleted_at.is_(None), *when)
        .order_by(events.c.id)
    )
    executions = m.EventExecution.__table__
    done = select(executions.c.event_id, executions.c.status).where(executions.c.school_id == school_id)
    if year is not None:
        done = done.where(executions.c.year == year)
    return run_all(lines, done)


def dashboard_floor(role: Role, year: int) -> Callable:
    """Per school: plan lines of the year and executions by status (a page of schools)."""
    events, executions = m.Event.__table__, m.EventExecution.__table__
    scope = access.criteria(role.user, m.Event)
    lines = (
        select(events.c.school_id, func.count())
        .where(runs_in_year(year), events.c.deleted_at.is_(None), scope)
        .group_by(events.c.school_id)
    )
    held = (
        select(executions.c.school_id, executions.c.status, func.count())
        .where(executions.c.year == year, access.criteria(role.user, m.EventExecution))
        .group_by(executions.c.school_id, executions.c.status)
    )
    return run_all(lines, held)


def coverage_floor(school_id: int, year: int) -> Callable:
    """ФГОС results of a school's plan lines in a year: lines per result."""
    events, links = m.Event.__table__, m.event_fgos_results
    return run_all(
        select(links.c.fgos_result_id, func.count())
        .join(events, events.c.id == links.c.event_id)
        .where(events.c.school_id == school_id, runs_in_year(year), events.c.deleted_at.is_(None))
        .group_by(links.c.fgos_result_id)
    )


def review_floor(role: Role) -> Callable:
    events = m.Event.__table__
    return run_all(
        select(events)
        .where(events.c.state == "submitted", access.criteria(role.user, m.Event), *alive(events))
        .order_by(events.c.updated_at)
        .limit(200)
    )


# --- the pages of each role ---------------------------------------------------------------


def list_pages(view: SecuredModelView, role: Role, first: Response, conn: Connection) -> list[Page]:
    base = f"/admin/{view.endpoint}/"
    name = view.endpoint
    pages = [Page(f"{name}: list", base, "list", list_floor(view, role))]
    # The middle page of the role's rows (the pager may not name the last one: counts are capped).
    table = view.model.__table__
    rows = conn.execute(
        select(func.count()).select_from(table).where(access.criteria(role.user, view.model), *alive(table))
    ).scalar_one()
    last = -(-rows // view.page_size)
    if last > 1:
        deep = last // 2
        pages.append(
            Page(
                f"{name}: list, page {deep}", f"{base}?page={deep}", "list", list_floor(view, role, page=deep)
            )
        )
    chosen = pick_filter(view, conn)
    if chosen:
        arg, column, value, condition = chosen
        query = urllib.parse.urlencode({f"flt0_{arg}": value})
        pages.append(
            Page(
                f"{name}: list, filter {column}={value}",
                f"{base}?{query}",
                "list",
                list_floor(view, role, [condition]),
            )
        )
    term = search_term(view, conn)
    if term:
        table = view.model.__table__
        like = or_(*(table.c[c].ilike(f"%{term}%") for c in view.column_searchable_list if c in table.c))
        query = urllib.parse.urlencode({"search": term})
        pages.append(
            Page(f"{name}: list, search «{term}»", f"{base}?{query}", "list", list_floor(view, role, [like]))
        )
    row = re.search(rf"/admin/{re.escape(view.endpoint)}/details/\?id=(\d+)", first.body)
    if row:
        row_id = int(row.group(1))
        pages.append(
            Page(f"{name}: details", f"{base}details/?id={row_id}", "other", row_floor(view.model, row_id))
        )
        if f"/admin/{view.endpoint}/edit/?id={row_id}" in first.body.replace("&amp;", "&"):
            pages.append(
                Page(f"{name}: edit form", f"{base}edit/?id={row_id}", "other", row_floor(view.model, row_id))
            )
    return pages


def pick_filter(view: SecuredModelView, conn: Connection) -> tuple[str, str, str, Any] | None:
    """An equality filter and a value for it (a choice, a year, a yes): URL key, column, value, SQL."""
    table = view.model.__table__
    for arg, (_index, flt) in (view._filter_args or {}).items():
        column = getattr(flt, "column", None)
        if (
            type(flt).__name__ not in ("FilterEqual", "IntEqualFilter", "BooleanEqualFilter")
            or column is None
        ):
            continue
        if column.name not in table.c:
            continue
        options = flt.options() if callable(flt.options) else flt.options
        if options:
            value = str(next(iter(options))[0])
        elif type(flt).__name__ == "BooleanEqualFilter":
            value = "1"
        else:
            value = conn.execute(
                select(table.c[column.name]).where(table.c[column.name].is_not(None)).limit(1)
            ).scalar()
            if value is None:
                continue
        typed = value == "1" if type(flt).__name__ == "BooleanEqualFilter" else value
        if type(flt).__name__ == "IntEqualFilter":
            typed = int(value)
        return arg, column.name, str(value), table.c[column.name] == typed
    return None


def search_term(view: SecuredModelView, conn: Connection) -> str | None:
    """A word that occurs in the first searchable column."""
    table = view.model.__table__
    columns = [c for c in view.column_searchable_list or () if isinstance(c, str) and c in table.c]
    if not columns:
        return None
    value = conn.execute(select(table.c[columns[0]]).where(table.c[columns[0]] != "").limit(1)).scalar() or ""
    words = [w.strip('«»"(),.:') for w in str(value).split()]
    return next((w.lower() for w in words if len(w) >= 5), None)


def custom_pages(app: Any, role: Role, year: int) -> list[Page]:
    admin = app.extensions["admin"][0]
    school = role.school_id
    known: dict[str, tuple[str, str, Callable | None]] = {
        "calendar": (f"?school={school}&year={year}", "calendar", plan_floor(school, year)),
        "dashboard": (f"?year={year}", "dashboard", dashboard_floor(role, year)),
        "coverage": (f"?school={school}&year={year}", "other", coverage_floor(school, year)),
        "review": ("", "other", review_floor(role)),
    }
    if access.can(role.user, "dashboard.view"):  # the home page is the dashboard of the current year
        home = Page("home", "/admin/", "dashboard", dashboard_floor(role, academic_year_of(dt.date.today())))
    else:
        own_row = select(m.User.__table__).where(m.User.id == role.user.id)
        home = Page("home", "/admin/", "other", run_all(own_row))
    pages = [home]
    for view in admin._views:
        if isinstance(view, SecuredModelView) or view.endpoint == "admin":
            continue
        query, kind, floor = known.get(view.endpoint, ("", "other", None))
        pages.append(Page(view.endpoint, f"/admin/{view.endpoint}/{query}", kind, floor))
    pages += [
        Page(
            "api: plan.json", f"/api/plan.json?school={school}&year={year}", "other", plan_floor(school, year)
        ),
        Page(
            "calendar: export xlsx",
            f"/admin/calendar/export/xlsx/?school={school}&year={year}",
            "other",
            plan_floor(school, year),
        ),
        Page(
            "dashboard: export xlsx",
            f"/admin/dashboard/export.xlsx?year={year}",
            "other",
            dashboard_floor(role, year),
        ),
    ]
    return pages


FEED_RE = re.compile(r"/feeds/[A-Za-z0-9_-]+\.ics")


def feed_page(client: Client, role: Role, year: int) -> Page | None:
    """Create the role's subscription link through the calendar page's form."""
    calendar = f"/admin/calendar/?school={role.school_id}&year={year}"
    page = client.get(calendar)
    if page.status != 200 or "/admin/calendar/feed/" not in page.body:
        return None
    action = re.search(r'action="(/admin/calendar/feed/[^"]*)"', page.body)
    client.post(
        (action.group(1) if action else "/admin/calendar/feed/").replace("&amp;", "&"),
        {"csrf_token": csrf(page.body)},
    )
    link = FEED_RE.search(client.get(calendar).body)
    if link is None:
        return None
    return Page(f"iCalendar feed ({role.key})", link.group(0), "other", plan_floor(role.school_id, None))


# --- the budgets of issue 13, page by page, beside the Django admin's figures ---------------

# The Django 5.2 admin over the same data shape (1,000 schools), in-process, median / p95 ms,
# from the issue's table; None where the peer has no such page.
DJANGO_MS: dict[str, dict[str, tuple[float, float] | None]] = {
    "events list, first page of 100": {"sqlite": (71, 83), "postgresql": (79, 96)},
    "events list, page 1,500 of 100": {"sqlite": (141, 163), "postgresql": (170, 210)},
    "search «экскурсия», 100 a page": {"sqlite": (270, 286), "postgresql": (419, 512)},
    "a school's events list, as the school": {"sqlite": (23, 40), "postgresql": (35, 42)},
    "an event's edit form": {"sqlite": (15, 22), "postgresql": (17, 21)},
    "a school's edit form, as the school": {"sqlite": (14, 18), "postgresql": (19, 22)},
    "agreements list": {"sqlite": (33, 44), "postgresql": (36, 49)},
    "dashboard, all schools": {"sqlite": None, "postgresql": None},
    "home page, all schools": {"sqlite": None, "postgresql": None},
    "calendar of the busiest school": {"sqlite": None, "postgresql": None},
    "API: 100 plan lines, all schools": {"sqlite": None, "postgresql": None},
    "API: 100 plan lines, page 500 by cursor": {"sqlite": None, "postgresql": None},
    "API: 100 plan lines, as the school": {"sqlite": None, "postgresql": None},
    "API: 100 yearly records, all schools": {"sqlite": None, "postgresql": None},
}
PEER_SHARE = 0.5  # every page at most half the peer's time
SEARCH_P95_MS, DASHBOARD_P95_MS, CALENDAR_P95_MS, DEEP_RATIO = 50, 150, 100, 1.5
API_P95_MS = 100  # a page of 100 rows of the read API (issue 15)
DEEP_PAGE = 1500  # «page 1,500 of 100», counted from 1
# A list's row: its checkbox (where there are actions) or its details link.
ROW_ID_RE = re.compile(r'(?:name="rowid"[^>]*value="|/admin/event/details/\?id=)(\d+)')


@dataclass
class BudgetPage:
    name: str
    role: str  # admin, coordinator, school
    url: str
    rows: int | None = None  # rows the page must show (a full first page), checked in its HTML
    own_p95_ms: float | None = None  # a budget of its own besides the peer's


@dataclass
class BudgetResult:
    page: str
    role: str
    url: str
    status: int
    median_ms: float
    p95_ms: float
    sql: int
    kb: float
    rows: int | None
    cpu_ms: float  # this process's CPU time, median: steadier than wall time on a shared machine
    checks: list[tuple[str, bool]]  # (what was checked, held)
    samples_ms: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "PASS" if self.status == 200 and all(held for _what, held in self.checks) else "MISS"


def budget_pages(conn: Connection, roles: dict[str, Role], year: int) -> list[BudgetPage]:
    school = roles["school"].school_id
    event_id = conn.execute(
        select(func.max(m.Event.__table__.c.id)).where(m.Event.__table__.c.school_id == school)
    ).scalar_one()
    return [
        BudgetPage("events list, first page of 100", "coordinator", "/admin/event/?page_size=100", rows=100),
        BudgetPage(
            "events list, page 1,500 of 100",
            "coordinator",
            f"/admin/event/?page_size=100&page={DEEP_PAGE - 1}",  # Flask-Admin counts pages from 0
            rows=100,
        ),
        BudgetPage(
            "search «экскурсия», 100 a page",
            "coordinator",
            "/admin/event/?page_size=100&search=" + urllib.parse.quote("экскурсия"),
            rows=100,
            own_p95_ms=SEARCH_P95_MS,
        ),
        BudgetPage("a school's events list, as the school", "school", "/admin/event/?page_size=100"),
        BudgetPage("an event's edit form", "admin", f"/admin/event/edit/?id={event_id}"),
        BudgetPage("a school's edit form, as the school", "school", f"/admin/school/edit/?id={school}"),
        BudgetPage("agreements list", "coordinator", "/admin/agreement/"),
        BudgetPage(
            "dashboard, all schools",
            "coordinator",
            f"/admin/dashboard/?year={year}",
            own_p95_ms=DASHBOARD_P95_MS,
        ),
        BudgetPage("home page, all schools", "coordinator", "/admin/", own_p95_ms=DASHBOARD_P95_MS),
        BudgetPage(
            "calendar of the busiest school",
            "school",
            f"/admin/calendar/?school={school}&year={year}",
            own_p95_ms=CALENDAR_P95_MS,
        ),
        # The read API (coop/api_v1.py), by a token of the role's account.
        BudgetPage(
            "API: 100 plan lines, all schools",
            "coordinator",
            "/api/v1/events?limit=100",
            own_p95_ms=API_P95_MS,
        ),
        BudgetPage(
            "API: 100 plan lines, page 500 by cursor",
            "coordinator",
            f"/api/v1/events?limit=100&cursor={api_cursor(conn, m.Event, 499 * 100)}",
            own_p95_ms=API_P95_MS,
        ),
        BudgetPage(
            "API: 100 plan lines, as the school", "school", "/api/v1/events?limit=100", own_p95_ms=API_P95_MS
        ),
        BudgetPage(
            "API: 100 yearly records, all schools",
            "coordinator",
            "/api/v1/executions?limit=100",
            own_p95_ms=API_P95_MS,
        ),
    ]


def api_cursor(conn: Connection, model: type, skip: int) -> str:
    """The read API's cursor after `skip` rows of the model, in its order (updated_at, id)."""
    table = model.__table__  # type: ignore[attr-defined]
    row = conn.execute(
        select(table.c.updated_at, table.c.id)
        .where(table.c.deleted_at.is_(None))
        .order_by(table.c.updated_at, table.c.id)
        .offset(max(skip - 1, 0))
        .limit(1)
    ).one()
    return api_v1.encode_cursor(row)


def api_client(app: Any, email: str) -> Any:
    """A client of the read API: a token of the account in its Authorization header."""
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email=email)).scalar_one()
        _token, secret = api_tokens.issue(user, "bench")
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def in_process_client(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    answer = client.post(
        "/login", data={"email": email, "password": bench_data.BENCH_PASSWORD, "csrf_token": csrf(page)}
    )
    if answer.status_code != 302:
        raise SystemExit(f"Не удалось войти как {email}: HTTP {answer.status_code}.")
    return client


def measure_budget(client: Any, page: BudgetPage, requests: int, dialect: str) -> BudgetResult:
    for _ in range(3):  # warm-up: caches, the statements' plans
        answer = client.get(page.url)
    samples, counts, cpu = [], [], []
    for _ in range(requests if answer.status_code == 200 else 0):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = client.get(page.url)
        body = answer.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        counts.append(int(answer.headers.get("X-SQL-Count", "-1")))
    html = answer.get_data(as_text=True)
    median = statistics.median(samples) if samples else 0.0
    high = p95(samples) if samples else 0.0
    sql = max(counts) if counts else -1
    rows = len(set(ROW_ID_RE.findall(html))) if page.rows is not None else None
    checks: list[tuple[str, bool]] = []
    peer = DJANGO_MS[page.name][dialect]
    if peer is not None:
        checks.append(
            (
                f"≤ {PEER_SHARE}× Django ({peer[0] * PEER_SHARE:g} / {peer[1] * PEER_SHARE:g} ms)",
                median <= peer[0] * PEER_SHARE and high <= peer[1] * PEER_SHARE,
            )
        )
    if page.own_p95_ms is not None:
        checks.append((f"p95 ≤ {page.own_p95_ms} ms", high <= page.own_p95_ms))
    if page.rows is not None:
        checks.append((f"{page.rows} rows shown", rows == page.rows))
    checks.append((f"≤ {SQL_BUDGET} statements", 0 <= sql <= SQL_BUDGET))
    return BudgetResult(
        page.name,
        page.role,
        page.url,
        answer.status_code,
        round(median, 1),
        round(high, 1),
        sql,
        round(len(body) / 1024, 1) if samples else 0.0,
        rows,
        round(statistics.median(cpu), 1) if cpu else 0.0,
        checks,
        [round(sample, 1) for sample in samples],
    )


def profile_page(client: Any, page: BudgetPage, name: str) -> Path:
    """pyinstrument's profile of 5 requests of the page, as text beside the results."""
    from pyinstrument import Profiler  # a bench dependency (requirements-dev.txt)

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(5):
        client.get(page.url).get_data()
    profiler.stop()
    slug = re.sub(r"[^a-z0-9]+", "-", page.name.encode("ascii", "ignore").decode().lower()).strip("-")
    path = RESULTS / "profiles" / f"{name}-{slug}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profiler.output_text(unicode=True, show_all=False, short_mode=False))
    return path


def run_budgets(
    app: Any, pages: list[BudgetPage], roles: list[Role], dialect: str, requests: int, profile: str = ""
) -> list:
    """The pages measured, outside any app context (each request has its own, as when served);
    with `profile` (a file name's start), each page that misses is profiled too."""
    by_key = {role.key: role for role in roles}
    clients = {key: in_process_client(app, by_key[key].email) for key in ("admin", "coordinator", "school")}
    api_clients = {key: api_client(app, by_key[key].email) for key in ("coordinator", "school")}
    gc.collect()
    gc.freeze()  # as every gunicorn worker does after start-up (gunicorn.conf.py)
    results = []
    for page in pages:
        client = (api_clients if page.url.startswith("/api/v1/") else clients)[page.role]
        result = measure_budget(client, page, requests, dialect)
        results.append(result)
        print(budget_line(result), flush=True)
        if profile and result.verdict == "MISS" and result.status == 200:
            print(f"   профиль → {profile_page(client, page, profile)}", flush=True)
    first, deep = results[0], results[1]
    if first.median_ms and deep.status == 200:
        deep.checks.append(
            (
                f"≤ {DEEP_RATIO}× the first page ({first.median_ms * DEEP_RATIO:.0f} / "
                f"{first.p95_ms * DEEP_RATIO:.0f} ms)",
                deep.median_ms <= first.median_ms * DEEP_RATIO and deep.p95_ms <= first.p95_ms * DEEP_RATIO,
            )
        )
    return results


def budget_line(r: BudgetResult) -> str:
    missed = "; ".join(what for what, held in r.checks if not held)
    return (
        f"{r.page:<42} {r.status} {r.median_ms:>7} ms, p95 {r.p95_ms:>7}, CPU {r.cpu_ms:>6}  SQL {r.sql}  "
        f"{r.verdict}{' — ' + missed if missed else ''}"
    )


def write_budgets(about: dict[str, Any], results: list[BudgetResult], notes: str) -> Path:
    """bench/results/<date>-<database>-<schools>schools-budgets.md and .json."""
    about["machine"]["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    base = about["database"]
    rows = base["rows"]
    name = f"{about['date']}-{base['dialect']}-{rows.get('schools', 0)}schools-budgets"
    RESULTS.mkdir(parents=True, exist_ok=True)
    records = [{**asdict(r), "verdict": r.verdict} for r in results]
    (RESULTS / f"{name}.json").write_text(
        json.dumps({**about, "results": records}, ensure_ascii=False, indent=1)
    )
    mach = about["machine"]
    lines = [
        f"# Budgets of issue 13: {base['dialect']} {base['version']}, {rows.get('schools')} schools",
        "",
        f"- Date: {about['date']}; machine: {mach['cpus']} CPUs ({mach['cpu']}), {mach['memory_gb']} GB RAM, "
        f"Python {mach['python']}; load average (1, 5, 15 min) {mach['load_before']} before, "
        f"{mach['load_after']} after (the machine is shared: other work shows here)",
        f"- Data: {rows.get('schools')} schools, {rows.get('partners')} partners, {rows.get('agreements')} "
        f"agreements, {rows.get('events')} plan lines, {rows.get('event_executions')} execution records",
        f"- In-process (Flask's test client, gc.freeze() as in the gunicorn workers), as the Django admin's "
        f"figures were taken: 3 warm-ups, then {about['requests']} requests a page; academic year "
        f"{about['year']}. Django's figures are at 1,000 schools.",
        f"- Budgets: every page ≤ {PEER_SHARE}× the Django admin (median and p95); search p95 ≤ "
        f"{SEARCH_P95_MS} ms with the first page full; dashboard and home p95 ≤ {DASHBOARD_P95_MS} ms; deep "
        f"page ≤ {DEEP_RATIO}× the first; calendar p95 ≤ {CALENDAR_P95_MS} ms; a page of the read API "
        f"p95 ≤ {API_P95_MS} ms; ≤ {SQL_BUDGET} statements",
        "",
        "| page | as | median ms | p95 ms | app CPU ms | statements | KB | Django median / p95 | budget "
        "| verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        peer = DJANGO_MS[r.page][base["dialect"]]
        shown_peer = f"{peer[0]:g} / {peer[1]:g}" if peer else "—"
        checks = "; ".join(f"{what} {'✓' if held else '✗'}" for what, held in r.checks)
        if r.status != 200:
            lines.append(f"| {r.page} | {r.role} | HTTP {r.status} | | | | | {shown_peer} | | MISS |")
            continue
        lines.append(
            f"| {r.page} | {r.role} | {r.median_ms:.1f} | {r.p95_ms:.1f} | {r.cpu_ms:.1f} | {r.sql} | "
            f"{r.kb:.0f} | "
            f"{shown_peer} | {checks} | **{r.verdict}** |"
        )
    if notes:
        lines += ["", notes.strip()]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    return RESULTS / f"{name}.md"


# --- the run --------------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def choose_roles(conn: Connection) -> list[Role]:
    """Admin, coordinator, the school with the largest plan, the partner with the most lines."""
    events, users = m.Event.__table__, m.User.__table__
    busiest_school = conn.execute(
        select(events.c.school_id).group_by(events.c.school_id).order_by(func.count().desc()).limit(1)
    ).scalar()
    busiest_partner, partner_school = conn.execute(
        select(events.c.partner_id, events.c.school_id)
        .group_by(events.c.partner_id, events.c.school_id)
        .order_by(func.count().desc())
        .limit(1)
    ).one()

    def user(*where: Any) -> Any:
        stmt = (
            select(m.User)
            .where(m.User.email.like(f"%@{bench_data.BENCH_DOMAIN}"), *where)
            .order_by(m.User.id)
        )
        found = db.session.execute(stmt.limit(1)).scalar_one_or_none()
        if found is None:
            raise SystemExit(
                "В базе нет данных для нагрузочного теста: запустите flask --app app coop bench-data."
            )
        return found

    del users
    admin = user(m.User.role == "admin")
    coordinator = user(m.User.role == "coordinator")
    school = user(m.User.role == "school", m.User.school_id == busiest_school)
    partner = user(m.User.role == "partner", m.User.partner_id == busiest_partner)
    return [
        Role("admin", admin.email, admin, busiest_school),
        Role("coordinator", coordinator.email, coordinator, busiest_school),
        Role("school", school.email, school, busiest_school),
        Role("partner", partner.email, partner, partner_school),
    ]


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpus": len(os.sched_getaffinity(0)),  # what nproc says
        "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
    }


def database(conn: Connection) -> dict[str, Any]:
    if conn.dialect.name == "postgresql":
        version = conn.exec_driver_sql("SHOW server_version").scalar()
    else:
        version = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
    counts = {
        table.name: conn.execute(select(func.count()).select_from(table)).scalar()
        for table in db.metadata.sorted_tables
    }
    return {"dialect": conn.dialect.name, "version": version, "rows": counts}


def size_label(rows: dict[str, int]) -> str:
    defaults = bench_data.DEFAULTS
    if rows.get("events", 0) >= defaults["events"] and rows.get("schools", 0) >= defaults["schools"]:
        return "default"
    return f"{rows.get('schools', 0)}schools-{rows.get('events', 0)}events"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--requests", type=int, default=10, help="timed requests per page (after one warm-up)"
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--only",
        default="",
        help="measure only pages whose name contains this; merged into the report there is",
    )
    parser.add_argument(
        "--budgets",
        action="store_true",
        help="only the pages of issue 13's budgets, in-process, each beside its budget (PASS/MISS)",
    )
    parser.add_argument("--notes", default="", help="--budgets: a file whose text ends the report")
    parser.add_argument(
        "--profile", action="store_true", help="--budgets: profile each page that misses (pyinstrument)"
    )
    parser.add_argument(
        "--added",
        action="store_true",
        help="only issue 14's pages: the events list showing 5 added fields, a filter on an added number "
        "(bench/added_fields.py; adds the fields and their values to the database)",
    )
    parser.add_argument(
        "--data-requests",
        action="store_true",
        help="only issue 15's: prefilling a request for every school, its board and its XLSX "
        "(bench/data_requests.py; the API's pages are among the --budgets)",
    )
    args = parser.parse_args(argv)
    url = sqlalchemy_url(args.database_url)
    if args.data_requests:
        from bench import data_requests

        runs = args.requests if args.requests != 10 else 5
        data_requests.main(["--database-url", url, "--requests", str(runs)])
        return
    if args.added:
        added_main(url, args.requests if args.requests != 10 else 40)
        return
    if args.budgets:
        budgets_main(url, args.requests if args.requests != 10 else 40, args.notes, args.profile)
        return
    args.port = args.port or free_port()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": True})  # the schema of this code
    with app.app_context(), db.engine.connect() as conn:
        roles = choose_roles(conn)
        today = dt.date.today()
        year = academic_year_of(today) - 1  # the last year that is over: plan lines and executions
        about = {"date": today.isoformat(), "machine": machine(), "database": database(conn)}
        about.update(requests=args.requests, workers=args.workers, year=year)
        print(
            f"База: {about['database']['dialect']} {about['database']['version']}, учебный год {year}",
            flush=True,
        )
        results: list[Result] = []
        admin_views = [v for v in app.extensions["admin"][0]._views if isinstance(v, SecuredModelView)]
        with gunicorn(args.database_url, args.port, args.workers):
            for role in roles:
                client = sign_in(args.port, role.email)
                pages = custom_pages(app, role, year)
                for view in admin_views:
                    first = client.get(f"/admin/{view.endpoint}/")
                    if first.status == 200:
                        pages += list_pages(view, role, first, conn)
                    else:
                        results.append(
                            Result(
                                f"{view.endpoint}: list",
                                role.key,
                                f"/admin/{view.endpoint}/",
                                first.status,
                                0,
                                0,
                                None,
                                None,
                                None,
                                "",
                            )
                        )
                feed = feed_page(client, role, year)
                if feed:
                    pages.append(feed)
                for page in pages:
                    if args.only and args.only not in page.name:
                        continue
                    reader = Client(args.port) if page.name.startswith("iCalendar") else client
                    try:
                        result = measure(reader, page, role.key, args.requests, conn)
                    except TimeoutError:  # the page is recorded as over the limit, and the run goes on
                        result = Result(
                            page.name,
                            role.key,
                            page.url,
                            0,
                            *(TIMEOUT_S * 1000,) * 2,
                            None,
                            None,
                            None,
                            f"✗ > {TIMEOUT_S} s",
                        )
                    results.append(result)
                    print(progress_line(result), flush=True)
                # After each role: a long run interrupted keeps what it measured.
                write(about, results, merge=bool(args.only))


def budgets_main(url: str, requests: int, notes: str, profile: bool = False) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "AUTO_MIGRATE": False,
            "SQL_COUNT": True,
            "SHOW_DEMO_ACCOUNTS": False,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context(), db.engine.connect() as conn:
        roles = choose_roles(conn)
        today = dt.date.today()
        year = academic_year_of(today) - 1  # the last year that is over: plan lines and executions
        about: dict[str, Any] = {"date": today.isoformat(), "machine": machine(), "database": database(conn)}
        about.update(requests=requests, year=year)
        print(f"База: {about['database']['dialect']} {about['database']['version']}, учебный год {year}")
        pages = budget_pages(conn, {role.key: role for role in roles}, year)
        dialect = conn.dialect.name
    name = f"{about['date']}-{dialect}-{about['database']['rows'].get('schools', 0)}schools"
    results = run_budgets(app, pages, roles, dialect, requests, name if profile else "")
    text = Path(notes).read_text() if notes else ""
    print(f"→ {write_budgets(about, results, text)}")


def added_main(url: str, requests: int) -> None:
    """Issue 14's Speed (bench/added_fields.py), in-process as the budgets are measured."""
    from bench import added_fields as added

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "AUTO_MIGRATE": True,  # this code's schema: migration 0025's indexes
            "SQL_COUNT": True,
            "SHOW_DEMO_ACCOUNTS": False,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        prepared = added.prepare()
        with db.engine.connect() as conn:
            roles = {role.key: role for role in choose_roles(conn)}
            about: dict[str, Any] = {"machine": machine(), "database": database(conn), "requests": requests}
            plans = added.explain(conn)
        pages = added.pages()
    print(f"База: {about['database']['dialect']}; строк плана: {prepared['lines']}", flush=True)
    client = in_process_client(app, roles["coordinator"].email)
    gc.collect()
    gc.freeze()
    results = []
    for shown, (name, page_url, rows) in [(False, (added.BASELINE, pages[0][1], 100))] + [
        (True, page) for page in pages
    ]:
        with app.app_context():
            added.show_in_list(shown)
        result = added.measure(client, name, page_url, rows, requests, ROW_ID_RE)
        results.append(result)
        print(
            f"{name:<50} {result.status} {result.median_ms:>7} ms, p95 {result.p95_ms:>7}  SQL {result.sql}  "
            f"rows {result.rows}  {result.verdict}",
            flush=True,
        )
    print(f"→ {added.report(about, prepared, results, plans)}")


def progress_line(r: Result) -> str:
    times = f"{r.median_ms:>8} ms, p95 {r.p95_ms:>8}"
    return f"{r.role:<12} {r.page:<50} {r.status} {times}  SQL {r.sql}  floor {r.floor_ms}  {r.budget}"


def write(about: dict[str, Any], results: list[Result], merge: bool = False) -> None:
    """The report; with `merge`, the pages measured now replace theirs in the report there is."""
    about["machine"]["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"{about['database']['dialect']}-{size_label(about['database']['rows'])}"
    if merge and (RESULTS / f"{name}.json").exists():
        new = {(r.page, r.role): r for r in results}
        old = [Result(**r) for r in json.loads((RESULTS / f"{name}.json").read_text())["results"]]
        results = [new.pop((r.page, r.role), r) for r in old] + list(new.values())
    (RESULTS / f"{name}.json").write_text(
        json.dumps({**about, "results": [asdict(r) for r in results]}, ensure_ascii=False, indent=1)
    )
    (RESULTS / f"{name}.md").write_text(markdown(about, results))
    print(f"→ {RESULTS / name}.md, .json")


def markdown(about: dict[str, Any], results: list[Result]) -> str:
    mach, base = about["machine"], about["database"]
    rows = base["rows"]
    measured = [r for r in results if r.status in (0, 200)]  # 0: timed out
    misses = [r for r in measured if r.budget.startswith("✗")]
    lines = [
        f"# Benchmark: {base['dialect']} {base['version']}, {size_label(rows)} size",
        "",
        f"- Date: {about['date']}; machine: {mach['cpus']} CPUs ({mach['cpu']}), "
        f"{mach['memory_gb']} GB RAM, Python {mach['python']}; load average (1, 5, 15 min) "
        f"{mach['load_before']} before, {mach['load_after']} after: other work on the machine shows here",
        f"- Database: {base['dialect']} {base['version']}, on the same machine; "
        f"gunicorn with {about['workers']} sync workers",
        f"- Data: {rows.get('schools')} schools, {rows.get('partners')} partners, "
        f"{rows.get('agreements')} agreements, {rows.get('events')} plan lines, "
        f"{rows.get('event_executions')} execution records, {rows.get('history')} history rows, "
        f"{rows.get('users')} users",
        f"- Each page: one warm-up, then {about['requests']} requests in a row; "
        f"academic year {about['year']}",
        f"- Budgets: list pages and calendar p95 ≤ {LIST_BUDGET_MS} ms, "
        f"dashboard ≤ {DASHBOARD_BUDGET_MS} ms, ≤ {SQL_BUDGET} SQL statements on every page",
        f"- Pages measured: {len(measured)}; over budget: {len(misses)}",
        "",
        "| page | role | median ms | p95 ms | SQL statements | floor ms | ratio | budget |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.status == 0:
            lines.append(f"| {r.page} | {r.role} | > {TIMEOUT_S} s | | | | | {r.budget} |")
            continue
        if r.status != 200:
            lines.append(f"| {r.page} | {r.role} | HTTP {r.status} | | | | | |")
            continue
        floor = f"{r.floor_ms:.2f}" if r.floor_ms is not None else "—"
        ratio = f"{r.ratio:.0f}×" if r.ratio is not None else "—"
        times = f"{r.median_ms:.0f} | {r.p95_ms:.0f}"
        lines.append(f"| {r.page} | {r.role} | {times} | {r.sql} | {floor} | {ratio} | {r.budget} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
