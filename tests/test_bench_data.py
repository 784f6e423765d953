"""The benchmark data generator at a tiny size: same seed, same rows; every table
filled; tenant columns consistent across tables; the CLI command and its errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from coop import models as m
from coop import search
from coop.extensions import db
from coop.seed import bench as bench_data
from coop.timing import parse_timing

TODAY = dt.date(2026, 11, 22)  # academic year 2026/27; 2024 and 2025 are over
TINY = {"schools": 4, "partners": 12, "agreements": 10, "events": 150, "years": 3, "users": 30, "seed": 7}
# Tables the generator leaves empty on purpose: subscriptions and uploaded files
# are made by people.
# sign_ins: by signing in only; notifications: by the changes that cause them (coop/notify.py)
NOT_GENERATED = {"calendar_feeds", "stored_files", "stored_file_contents", "sign_ins", "notifications"}
# What people make by using the site: links sent by mail, sessions, mail preferences, saved views,
# API tokens.
NOT_GENERATED |= {"tokens", "user_sessions", "notification_preferences", "staged_imports", "saved_views"}
NOT_GENERATED |= {"api_tokens"}
# What a municipality adds to the site (coop/added_fields.py): none in a generated region.
NOT_GENERATED |= {"field_definitions", "choice_lists"}
# The municipality's data requests and the schools' answers (bench/data_requests.py writes
# its own request and answers over a generated region, and deletes them).
NOT_GENERATED |= {"data_requests", "data_request_questions", "data_request_schools", "data_request_answers"}


# Catalogs are seeded through the ORM, stamped with the time and written to the
# history as they are, and a password hash is salted: these differ from run to run.
UNREPEATABLE = {"created_at", "updated_at", "at", "password_hash"}


def _dump() -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in UNREPEATABLE]
        order = list(table.primary_key.columns) or columns
        tables[table.name] = [tuple(row) for row in db.session.execute(select(*columns).order_by(*order))]
    return tables


def _empty_all_tables() -> None:
    """Every table empty and, on PostgreSQL, its ids counting from 1 again."""
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def region(app: Flask, fresh_db: None) -> dict[str, list[tuple[Any, ...]]]:
    """An empty database generated into at the tiny size; its rows."""
    with app.app_context():
        _empty_all_tables()
        bench_data.generate(**TINY, today=TODAY)
        return _dump()


def test_same_seed_same_rows(app: Flask, region: dict[str, list[tuple[Any, ...]]]) -> None:
    with app.app_context():
        _empty_all_tables()
        bench_data.generate(**TINY, today=TODAY)
        assert _dump() == region
        _empty_all_tables()
        bench_data.generate(**{**TINY, "seed": 8}, today=TODAY)
        assert _dump()["events"] != region["events"]


def test_every_table_filled(region: dict[str, list[tuple[Any, ...]]]) -> None:
    empty = {name for name, rows in region.items() if not rows} - NOT_GENERATED
    assert not empty, f"bench_data.generate() leaves these tables empty: {sorted(empty)}"
    assert len(region["schools"]) == TINY["schools"]
    assert len(region["partners"]) == TINY["partners"]
    assert len(region["agreements"]) == TINY["agreements"]
    assert len(region["events"]) == TINY["events"]
    assert len(region["users"]) == TINY["users"]


# Each query returns the rows that break a rule; none may.
INCONSISTENT = {
    "event without an agreement of its school with its partner": """
        SELECT e.id FROM events e WHERE NOT EXISTS (
            SELECT 1 FROM agreements a WHERE a.school_id = e.school_id AND a.partner_id = e.partner_id)""",
    "event of another school's programme": """
        SELECT e.id FROM events e JOIN programmes p ON p.id = e.programme_id
        WHERE p.school_id != e.school_id""",
    "agreement of another school's programme": """
        SELECT a.id FROM agreements a JOIN programmes p ON p.id = a.programme_id
        WHERE p.school_id != a.school_id""",
    "execution of another school's event": """
        SELECT x.id FROM event_executions x JOIN events e ON e.id = x.event_id
        WHERE x.school_id != e.school_id""",
    "execution outside its event's years": """
        SELECT x.id FROM event_executions x JOIN events e ON e.id = x.event_id
        WHERE x.year < e.first_year OR x.year > e.last_year""",
    "seminar partner without an agreement with the school": """
        SELECT sp.seminar_id FROM seminar_partners sp JOIN seminars s ON s.id = sp.seminar_id
        WHERE NOT EXISTS (SELECT 1 FROM agreements a
                          WHERE a.school_id = s.school_id AND a.partner_id = sp.partner_id)""",
    "limitation found at another school's seminar": """
        SELECT l.id FROM limitations l JOIN seminars s ON s.id = l.seminar_id
        WHERE s.school_id != l.school_id""",
    "limitation addressed by a partner the school has no agreement with": """
        SELECT l.id FROM limitations l JOIN partner_resources r ON r.id = l.resource_id
        WHERE NOT EXISTS (SELECT 1 FROM agreements a
                          WHERE a.school_id = l.school_id AND a.partner_id = r.partner_id)""",
    "remark on another school's agreement": """
        SELECT r.id FROM remarks r JOIN agreements a ON a.id = r.agreement_id
        WHERE a.school_id != r.school_id""",
    "remark on another school's programme": """
        SELECT r.id FROM remarks r JOIN programmes p ON p.id = r.programme_id
        WHERE p.school_id != r.school_id""",
    "user without the tenant of its role": """
        SELECT id FROM users WHERE (role = 'school') != (school_id IS NOT NULL)
                                OR (role = 'partner') != (partner_id IS NOT NULL)""",
    "history of an event naming another school": """
        SELECT h.id FROM history h JOIN events e ON e.id = h.row_id
        WHERE h.table_name = 'events' AND h.school_id != e.school_id""",
}


def test_tenant_columns_consistent(app: Flask, region: Any) -> None:
    with app.app_context():
        broken = {rule: db.session.execute(text(sql)).all() for rule, sql in INCONSISTENT.items()}
    assert {rule: rows for rule, rows in broken.items() if rows} == {}


def test_every_role_and_tenant_has_users(app: Flask, region: Any) -> None:
    with app.app_context():
        roles = set(db.session.execute(select(m.User.role)).scalars())
        schools_without = db.session.execute(
            select(m.School.id).where(~select(m.User.id).where(m.User.school_id == m.School.id).exists())
        ).all()
        passwords = set(db.session.execute(select(m.User.password_hash)).scalars())
        user = db.session.execute(select(m.User).limit(1)).scalar_one()
    assert roles == set(m.ROLES)
    assert schools_without == []
    assert len(passwords) == 1  # hashed once
    assert user.check_password(bench_data.BENCH_PASSWORD)


def test_timings_are_read_as_the_app_reads_them(app: Flask, region: Any) -> None:
    with app.app_context():
        events = db.session.execute(select(m.Event)).scalars().all()
        years = {year for (year,) in db.session.execute(select(m.EventExecution.year).distinct())}
    for event in events:
        timing = parse_timing(event.timing_text)
        assert event.timing_recognized == timing.recognized
        assert event.months_mask == (timing.as_mask() if timing.recognized else 0)
    assert {event.timing_recognized for event in events} == {True, False}  # «по согласованию» too
    assert years == {2024, 2025}  # the academic years already over, not the current one


def test_cli_command(app: Flask, fresh_db: None) -> None:
    with app.app_context():
        _empty_all_tables()
    runner = app.test_cli_runner()
    sizes = ["--schools", "2", "--partners", "3", "--agreements", "3", "--events", "20", "--users", "8"]
    result = runner.invoke(args=["coop", "bench-data", *sizes])
    assert result.exit_code == 0, result.output
    assert "строк/с" in result.output
    again = runner.invoke(args=["coop", "bench-data", *sizes])
    assert again.exit_code != 0
    assert "уже загружены" in again.output


def _indexes() -> set[tuple[str, str]]:
    """Every index of the database and its definition."""
    if db.engine.dialect.name == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
    return {(name, definition or "") for name, definition in db.session.execute(text(query))}


def test_indexes_and_foreign_keys_back_after_the_load(app: Flask, fresh_db: None) -> None:
    """PostgreSQL's bulk load drops the secondary indexes and skips the foreign keys' checks:
    both are back afterwards, and the search finds the rows it loaded."""
    with app.app_context():
        _empty_all_tables()
        before = _indexes()
        bench_data.generate(**TINY, today=TODAY)
        assert _indexes() == before
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:  # a connection of the pool, maybe the writer's
                assert conn.exec_driver_sql("SHOW session_replication_role").scalar() == "origin"
        found = search.condition(m.Event, "экскурсия")
        assert db.session.execute(select(db.func.count()).where(found)).scalar_one() > 0


def test_sizes_not_given_grow_with_the_schools() -> None:
    sizes = bench_data.scaled_sizes({"schools": 10000, "partners": None, "agreements": 5, "events": None})
    assert sizes["events"] == 3_000_000  # «national scale»: 10,000 schools, 3 million plan lines
    assert sizes["partners"] == 30_000
    assert sizes["agreements"] == 5  # given: kept
    assert bench_data.scaled_sizes({"schools": 1000, "users": None})["users"] == bench_data.DEFAULTS["users"]


def test_cli_sizes_follow_schools(app: Flask, fresh_db: None) -> None:
    with app.app_context():
        _empty_all_tables()
    result = app.test_cli_runner().invoke(args=["coop", "bench-data", "--schools", "10", "--users", "5"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        count = db.session.execute(select(db.func.count()).select_from(m.Event)).scalar_one()
        partners = db.session.execute(select(db.func.count()).select_from(m.Partner)).scalar_one()
    assert (count, partners) == (3000, 30)  # 300 plan lines and 3 partners per school, as at 1,000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schools", "5", "--agreements", "2"], "Соглашений должно быть"),
        (["--schools", "0"], "--schools"),
        (["--years", "11"], "--years"),
        (["--events", "много"], "--events"),
    ],
)
def test_cli_bad_sizes_write_nothing(app: Flask, args: list[str], message: str) -> None:
    with app.app_context():
        before = db.session.execute(select(db.func.count()).select_from(m.School)).scalar_one()
    result = app.test_cli_runner().invoke(args=["coop", "bench-data", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.execute(select(db.func.count()).select_from(m.School)).scalar_one() == before
