"""Fixtures that build on each other: database → app (migrated, demo data) → clients per role.

The database is SQLite in a temporary folder, or PostgreSQL when DATABASE_URL
names one (CI runs the suite on both). Its schema is made by the migrations.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, make_url, select, text

from coop import create_app, search, summary
from coop import models as m
from coop.extensions import db, limiter
from coop.seed.demo import load_demo

from .mailbox import Mailbox, Server


@dataclass(frozen=True)
class DemoAccount:
    key: str
    email: str
    password: str
    role: str | None


# One account per role, and a second school and a second partner: the hostile
# neighbours whose job is to get where they must not.
ACCOUNTS = {
    "anonymous": DemoAccount("anonymous", "", "", None),
    "admin": DemoAccount("admin", "admin@coop.example", "admin", "admin"),
    "coordinator": DemoAccount("coordinator", "coordinator@coop.example", "coordinator", "coordinator"),
    "school31": DemoAccount("school31", "school31@coop.example", "school31", "school"),
    "gymnasium17": DemoAccount("gymnasium17", "gymnasium17@coop.example", "gymnasium17", "school"),
    "kemsu": DemoAccount("kemsu", "kemsu@coop.example", "kemsu", "partner"),
    "museum": DemoAccount("museum", "museum@coop.example", "museum", "partner"),
}


def _reset_postgres(url: str) -> str:
    """An empty database for this test process: DATABASE_URL's own, or under pytest-xdist
    one per worker beside it (<name>_gw0, …), made on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        named = make_url(url)
        server = create_engine(named, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{named.database}_{worker}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{named.database}_{worker}"'))
        server.dispose()
        url = named.set(database=f"{named.database}_{worker}").render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        return _reset_postgres("postgresql+psycopg://" + url.split("://", 1)[1])
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'coop.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a database built by the migrations, holding the demo data."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            "AUTO_MIGRATE": True,
            # Tests sign in hundreds of times; tests/test_security.py turns throttling on.
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        load_demo()
        _figures_agree()
        app.config["DEMO_SNAPSHOT"] = _snapshot()
    yield app
    with app.app_context():
        db.session.rollback()
        _figures_agree()  # after every write of the whole session
        db.session.remove()
        db.engine.dispose()


def _figures_agree() -> None:
    """The figures kept (coop.summary) are those counted from the rows: `coop check-figures`."""
    differences = summary.check(db.session)
    totals = summary.check_totals(db.session)
    db.session.rollback()
    assert not differences, "\n".join(map(str, differences[:20]))
    assert not totals, f"the totals of all schools kept for {totals} are not those counted"


# What the statements since the last restore wrote, through any engine (a test's second app
# included): a table's name, or for an UPDATE the table and its columns
# ("users(last_login_at)"); None for a write whose table was not read off it. fresh_db
# checks the figures and puts the demo back only when more than signing in was written.
_WRITE_RE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM|TRUNCATE|(UPDATE))\s+"?(\w+)"?(?:\s+SET\s+(.*?)\s+WHERE\b)?',
    re.IGNORECASE | re.DOTALL,
)
_written: set[str | None] = set()
# Signing in and out: the demo's own sessions survive a restore anyway.
# Signing in, and a page keeping the totals of all schools it counted (coop/figures.py).
_HARMLESS = {"user_sessions", "sign_ins", "users(last_login_at,updated_at,version)", "figure_years(totals)"}


@event.listens_for(Engine, "before_cursor_execute")
def _note_written(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    match = _WRITE_RE.match(statement)
    if match:
        update, table, assignments = match.groups()
        columns = sorted(re.findall(r"(\w+)\s*=", assignments or ""))
        _written.add(f"{table.lower()}({','.join(columns)})" if update and columns else table.lower())
    elif re.match(r"\s*WITH\b", statement, re.IGNORECASE) and re.search(
        r"\b(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE
    ):
        _written.add(None)


def _snapshot() -> dict[str, list[dict]]:
    """Every row of every table, to put the demo data back quickly after a test that writes."""
    return {
        table.name: [dict(row) for row in db.session.execute(table.select()).mappings()]
        for table in db.metadata.sorted_tables
    }


def _restore(snapshot: dict[str, list[dict]]) -> None:
    tables = db.metadata.sorted_tables
    # Clients signed in for a whole module stay signed in: the sessions of the demo's
    # accounts are kept as they are now.
    users = {row["id"] for row in snapshot["users"]}
    sessions = m.UserSession.__table__
    kept = [dict(row) for row in db.session.execute(sessions.select()).mappings() if row["user_id"] in users]
    snapshot = {**snapshot, sessions.name: kept}
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    for table in tables:
        if snapshot[table.name]:
            db.session.execute(table.insert(), snapshot[table.name])
    if db.engine.dialect.name == "postgresql":
        for table in tables:
            if "id" in table.c and snapshot[table.name]:
                last = max(row["id"] for row in snapshot[table.name])
                db.session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {last})")
                )
    if db.engine.dialect.name == "sqlite":  # the rows went back by Core, past the ORM's flush
        search.rebuild(db.session.connection())
    db.session.commit()


@pytest.fixture
def fresh_db(app: Flask) -> Iterator[None]:
    """For tests that write: afterwards, the demo data as it was, for the next test."""
    yield
    with app.app_context():
        db.session.rollback()
        if _written <= _HARMLESS:
            return
        try:
            _figures_agree()  # whatever the test wrote kept the figures exact
        finally:
            _restore(app.config["DEMO_SNAPSHOT"])
            _written.clear()


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the suite's kind with nothing in it, not even tables: a file in the
    test's folder, or on PostgreSQL one beside the worker's own (dropped afterwards)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"{url.database}_empty"  # url.database names the pytest-xdist worker: one each
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL the test sends from here on (a test reads the part it is about)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


VERSION_RE = re.compile(r'name="loaded_version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="loaded_version"')


def loaded_version(html: str) -> str:
    """The version an edit page was loaded at (its hidden field, sent back with the save)."""
    match = VERSION_RE.search(html)
    assert match, "no loaded_version in the page"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str) -> None:
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302, f"could not sign in as {email}"


@pytest.fixture
def client_as(app: Flask):
    """client_as("school31") → a test client signed in as that demo account."""

    def make(key: str) -> FlaskClient:
        client = app.test_client()
        account = ACCOUNTS[key]
        if account.role:
            login(client, account.email, account.password)
        return client

    return make


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    """Ids of the demo rows that tests point at, by a readable name."""
    with app.app_context():
        school31 = db.session.execute(select(m.School).filter_by(short_name="МБОУ «СОШ № 31»")).scalar_one()
        gymnasium = db.session.execute(
            select(m.School).filter_by(short_name="МБОУ «Гимназия № 17»")
        ).scalar_one()
        kemsu = db.session.execute(select(m.Partner).filter_by(short_name="КемГУ (НФИ КемГУ)")).scalar_one()
        museum = db.session.execute(
            select(m.Partner).filter_by(short_name="Краеведческий музей")
        ).scalar_one()
        return {"school31": school31.id, "gymnasium17": gymnasium.id, "kemsu": kemsu.id, "museum": museum.id}


@pytest.fixture
def smtp(app: Flask) -> Iterator[tuple[Server, Mailbox]]:
    """A real SMTP server on a free loopback port (tests/mailbox.py), and the app's mail
    settings pointing at it."""
    mailbox = Mailbox()
    server = Server(mailbox)
    server.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server, mailbox
    app.config.update(saved)
    server.stop()


@pytest.fixture(scope="module")
def throttled_app(app: Flask) -> Iterator[Flask]:
    """The app once more on the same database, with throttling on."""
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            "AUTO_MIGRATE": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "DEMO_SNAPSHOT": app.config["DEMO_SNAPSHOT"],
        }
    )
    yield other
    limiter.enabled = False  # the extension is one object: leave it off for the other tests
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def throttled(throttled_app: Flask) -> Iterator[Any]:
    """throttled("127.0.0.7") → a client of the throttled app from that address."""
    limiter.enabled = True
    limiter.reset()

    def make(address: str = "127.0.0.2") -> FlaskClient:
        client = throttled_app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    yield make
    limiter.reset()
    limiter.enabled = False
