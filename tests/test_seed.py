"""A new install comes with its catalogs: the migrations alone fill every empty
catalog with the defaults of coop/seed/catalogs.py, an upgrade adds nothing to a
catalog that has rows (what an admin changed or deleted stays so), and a plan
imported with no demo data finds its audiences and responsible positions.

Each test builds a database of its own, of the same kind as the suite's: a new
SQLite file, or on PostgreSQL a database made for the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from coop import attention, create_app
from coop import models as m
from coop.extensions import db
from coop.seed import catalogs
from coop.seed.demo import load_demo
from coop.timing import ACADEMIC_MONTHS

from .test_import_seed import expected_lines, seed_docx

SCHOOL = "МБОУ «СОШ № 99» г. Новокузнецка"
PASSWORD = "Пароль-для-проверки-каталогов-2024"


def _app(url: str, tmp_path: Path, auto_migrate: bool) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "AUTO_MIGRATE": auto_migrate,
            "RATELIMIT_ENABLED": False,
        }
    )


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on the new database, not migrated yet."""
    fresh = _app(empty_database_url, tmp_path, auto_migrate=False)
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def _upgrade(app: Flask) -> None:
    """`flask --app app db upgrade`."""
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def _catalog_rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    with app.app_context(), db.engine.connect() as connection:
        return {
            model.__tablename__: [
                dict(row)
                for row in connection.execute(model.__table__.select().order_by(model.id)).mappings()
            ]
            for model in m.CATALOGS
        }


def _defaults() -> dict[str, list[dict[str, Any]]]:
    """Each catalog's default rows, as the columns compare (the time stamps left out)."""
    return {
        model.__tablename__: [
            {k: v for k, v in row.items() if k not in ("created_at", "updated_at")}
            for row in catalogs.default_rows(model, m.utcnow())
        ]
        for model in m.CATALOGS
    }


def _as_defaults(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    keys = {name: list(default[0]) for name, default in _defaults().items()}
    return {name: [{k: row[k] for k in keys[name]} for row in table] for name, table in rows.items()}


@pytest.mark.parametrize("how", ["flask db upgrade", "upgrade at start"])
def test_the_migrations_alone_fill_every_catalog(empty_database_url: str, tmp_path: Path, how: str) -> None:
    if how == "flask db upgrade":
        installed = _app(empty_database_url, tmp_path, auto_migrate=False)
        _upgrade(installed)
    else:
        installed = _app(empty_database_url, tmp_path, auto_migrate=True)
    try:
        rows = _catalog_rows(installed)
        assert set(rows) == {model.__tablename__ for model in m.CATALOGS}
        assert all(rows.values()), {name: len(table) for name, table in rows.items()}
        assert _as_defaults(rows) == _defaults()
        assert all(
            row["version"] == 1 and row["created_at"] and row["updated_at"] and row["deleted_at"] is None
            for table in rows.values()
            for row in table
        )
        with installed.app_context():
            assert db.session.scalar(select(func.count()).select_from(m.User)) == 0  # no demo
            # The ORM edits a seeded row like any other: version 1 becomes 2.
            audience = db.session.execute(select(m.Audience).filter_by(code="parents")).scalar_one()
            audience.name = "Родители"
            db.session.commit()
            assert audience.version == 2
    finally:
        with installed.app_context():
            db.session.remove()
            db.engine.dispose()


def test_upgrading_again_adds_nothing(fresh: Flask, empty_database_url: str, tmp_path: Path) -> None:
    _upgrade(fresh)
    first = _catalog_rows(fresh)
    assert _as_defaults(first) == _defaults()
    _upgrade(fresh)
    again = _app(empty_database_url, tmp_path, auto_migrate=True)  # and the app starting on it
    try:
        assert _catalog_rows(fresh) == first
    finally:
        with again.app_context():
            db.engine.dispose()


def test_what_an_admin_changed_or_deleted_stays_so(fresh: Flask) -> None:
    _upgrade(fresh)
    with fresh.app_context(), db.engine.begin() as connection:
        positions, kinds, audiences = (model.__table__ for model in (m.Position, m.EventKind, m.Audience))
        connection.execute(positions.delete().where(positions.c.name == "Научный консультант"))
        connection.execute(
            update(kinds)
            .where(kinds.c.name == "Квест")
            .values(name="Квест-игра", version=kinds.c.version + 1)
        )
        connection.execute(update(audiences).values(deleted_at=m.utcnow(), deleted_batch="trash"))  # all
        connection.execute(m.EventLevel.__table__.delete())  # purged from the trash
        assert catalogs.untouched_defaults(connection) == {
            model.__tablename__: len(catalogs.DEFAULTS[model])
            for model in (m.PartnerKind, m.EducationLevel, m.FgosResult)
        }
    before = _catalog_rows(fresh)

    _upgrade(fresh)

    after = _catalog_rows(fresh)
    for name in set(after) - {"event_levels"}:
        assert after[name] == before[name], name
    names = [row["name"] for row in after["positions"]]
    assert "Научный консультант" not in names and len(names) == len(catalogs.POSITIONS) - 1
    assert "Квест-игра" in [row["name"] for row in after["event_kinds"]]
    assert "Квест" not in [row["name"] for row in after["event_kinds"]]
    assert all(row["deleted_at"] is not None for row in after["audiences"])
    # Only a catalog with no row at all, a trashed one included, gets its defaults again.
    assert _as_defaults(after)["event_levels"] == _defaults()["event_levels"]


def test_a_plan_imported_without_demo_finds_its_audiences_and_positions(fresh: Flask, tmp_path: Path) -> None:
    _upgrade(fresh)
    cli = fresh.test_cli_runner()
    result = cli.invoke(
        args=[
            "coop",
            "create-user",
            "--email",
            "school99@coop.example",
            "--password",
            PASSWORD,
            "--role",
            "school",
            "--school",
            SCHOOL,
        ]
    )
    assert result.exit_code == 0, result.output
    with fresh.app_context():  # import-plan wants the school's programme to exist
        school = db.session.execute(select(m.School).filter_by(name=SCHOOL)).scalar_one()
        db.session.add(m.Programme(school_id=school.id, title="Программа", first_year=2019, last_year=2023))
        db.session.commit()
    plan = tmp_path / "сетевой-план.docx"
    plan.write_bytes(seed_docx())

    result = cli.invoke(args=["coop", "import-plan", str(plan), "--school", "СОШ № 99", "--year", "2019"])

    assert result.exit_code == 0, result.output
    with fresh.app_context():
        names = set(db.session.scalars(select(m.Position.name)))
        assert names == set(catalogs.POSITIONS), names - set(catalogs.POSITIONS)
        events = list(
            db.session.execute(
                select(m.Event).execution_options(skip_scope=True).order_by(m.Event.id)
            ).scalars()
        )
        assert len(events) == 48
        assert [e.audience.code if e.audience else None for e in events] == [
            audience for *_line, audience in expected_lines()
        ]
        assert all(e.responsible for e in events)
        assert {p.name for e in events for p in e.responsible} <= set(catalogs.POSITIONS)


@pytest.mark.parametrize(
    ("today", "year"),
    [(dt.date(2026, 12, 5), 2026), (dt.date(2031, 3, 20), 2030)],
)
def test_the_demo_reaches_the_day_it_is_loaded_on_and_loads_once(
    fresh: Flask, today: dt.date, year: int
) -> None:
    """The gymnasium's second stage runs in the academic year of the day the demo is
    loaded: lines whose months are over are held but for the last of each partner; lines
    with a month ahead are planned. Loading it again that day changes nothing."""
    _upgrade(fresh)
    with fresh.app_context():
        load_demo(today)

        def rows() -> dict[str, Any]:
            return {
                model.__tablename__: sorted(
                    (row.id, row.version) for row in db.session.execute(select(model)).scalars()
                )
                for model in (m.Programme, m.Agreement, m.Event, m.EventExecution, m.Remark)
            }

        before = rows()
        load_demo(today)
        assert rows() == before
        past = attention.past_months_mask(year, today)
        running = (
            db.session.execute(select(m.Event).where(m.Event.first_year <= year, m.Event.last_year >= year))
            .scalars()
            .all()
        )
        recorded = {
            x.event_id: x for x in db.session.execute(select(m.EventExecution).filter_by(year=year)).scalars()
        }
        over = [e for e in running if e.state == "approved" and not e.months_mask & ~past]
        assert running and over
        for partner in {e.partner_id for e in over}:  # the line that ended last is not recorded yet
            lines = sorted(
                (e for e in over if e.partner_id == partner),
                key=lambda e: (ACADEMIC_MONTHS.index(max(e.months, key=ACADEMIC_MONTHS.index)), e.id),
            )
            assert [e.id in recorded for e in lines] == [True] * (len(lines) - 1) + [False]
            assert all(recorded[e.id].held_on <= today for e in lines[:-1])
        assert not any(e.id in recorded for e in running if e.months_mask & ~past)
        proposal = db.session.execute(select(m.Event).filter_by(state="submitted")).scalar_one()
        assert (proposal.first_year, proposal.last_year) == (year, year)
        assert (today - proposal.updated_at.date()).days > attention.REVIEW_WAIT_DAYS
        ending = db.session.execute(
            select(m.Agreement.valid_to).where(m.Agreement.valid_to > today)
        ).scalars()
        assert any((valid_to - today).days <= attention.ENDING_WITHIN_DAYS for valid_to in ending)
