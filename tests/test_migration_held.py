"""Migration 0010_held: lines once marked held as a whole go back to approved, and the year
they were marked in says held on its record; no record is lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask_migrate import stamp, upgrade
from sqlalchemy import select, text

from coop import create_app
from coop import models as m
from coop.extensions import db


def test_lines_marked_held_become_approved_with_a_held_record(tmp_path: Path) -> None:
    # A database of its own (SQLite whatever the suite runs on): it is stamped back a revision.
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migration.sqlite3'}",
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "AUTO_MIGRATE": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        school, partner = (
            m.School(name="СОШ № 1", short_name="СОШ № 1"),
            m.Partner(name="Музей", short_name=""),
        )
        db.session.add_all([school, partner])
        lines = {
            name: m.Event(
                school=school, partner=partner, title=name, state="approved", first_year=first, last_year=last
            )
            for name, first, last in (
                ("no record", 2019, 2022),
                ("planned record", 2019, 2020),
                ("already held", 2019, 2022),
                ("approved", 2019, 2022),
            )
        }
        db.session.add_all(lines.values())
        db.session.flush()
        db.session.add_all(
            [
                m.EventExecution(event=lines["planned record"], school=school, year=2020, status="planned"),
                m.EventExecution(event=lines["already held"], school=school, year=2019, status="held"),
                m.EventExecution(event=lines["already held"], school=school, year=2020, status="not_held"),
            ]
        )
        db.session.commit()
        # As the old «Отметить проведённым» left them: in March 2021, and (clamped) long after.
        for name, marked in (
            ("no record", "2021-03-10"),
            ("planned record", "2026-01-01"),
            ("already held", "2022-10-01"),
        ):
            db.session.execute(
                text("UPDATE events SET state = 'held', updated_at = :at WHERE id = :id"),
                {"at": f"{marked} 10:00:00", "id": lines[name].id},
            )
        db.session.commit()
        ids = {name: line.id for name, line in lines.items()}
        stamp(directory=app.config["MIGRATIONS_DIR"], revision="0009")
        # Only 0010_held runs again: the later migrations' tables are there already.
        upgrade(directory=app.config["MIGRATIONS_DIR"], revision="0010_held")
        stamp(directory=app.config["MIGRATIONS_DIR"], revision="head")
        db.session.expire_all()

        def records(name: str) -> dict[int, str]:
            stmt = select(m.EventExecution.year, m.EventExecution.status).filter_by(event_id=ids[name])
            return dict(db.session.execute(stmt).all())

        states = dict(db.session.execute(select(m.Event.title, m.Event.state)).all())
        assert states == dict.fromkeys(ids, "approved")
        assert records("no record") == {2020: "held"}  # the academic year of March 2021
        assert records("planned record") == {2020: "held"}  # within the line's years
        assert records("already held") == {2019: "held", 2020: "not_held"}
        assert records("approved") == {}
        created = db.session.execute(
            select(m.EventExecution).filter_by(event_id=ids["no record"])
        ).scalar_one()
        assert created.school_id == school.id and created.created_at.date() <= dt.date.today()
        db.session.remove()
        db.engine.dispose()
