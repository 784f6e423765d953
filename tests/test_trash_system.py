"""The trash holds outside requests too: the CLI, the report and the import run as
the system, which sees every row but those in the trash (coop/tenancy.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop import trash
from coop.extensions import db
from coop.lookup import UnknownName, find_school

from .test_report import _read

pytestmark = pytest.mark.usefixtures("fresh_db")
SCHOOL = "СОШ № 31"


def _discard(app: Flask, model: type, **where: Any) -> None:
    with app.app_context():
        row = db.session.execute(select(model).filter_by(**where)).scalars().first()
        assert row is not None
        trash.discard(row)
        db.session.commit()


def _report_text(app: Flask, tmp_path: Path) -> str:
    out = tmp_path / "report.docx"
    result = app.test_cli_runner().invoke(
        args=["coop", "report", "--school", SCHOOL, "--year", "2019", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    paragraphs, tables = _read(out.read_bytes())
    return "\n".join(paragraphs + [cell for table in tables for row in table for cell in row])


def test_a_programme_in_the_trash_is_not_in_the_cli_report(
    app: Flask, tmp_path: Path, ids: dict[str, int]
) -> None:
    with app.app_context():
        title = db.session.execute(
            select(m.Programme.title).filter_by(school_id=ids["school31"])
        ).scalar_one()
    assert title in _report_text(app, tmp_path)
    _discard(app, m.Programme, school_id=ids["school31"])
    assert title not in _report_text(app, tmp_path)


def test_the_system_counts_no_row_in_the_trash(app: Flask, ids: dict[str, int]) -> None:
    def events() -> int:
        return db.session.execute(
            select(func.count()).select_from(m.Event).filter_by(school_id=ids["school31"])
        ).scalar_one()

    with app.app_context():
        before = events()
    _discard(app, m.Event, school_id=ids["school31"])
    with app.app_context():
        assert events() == before - 1
        everything = select(func.count()).select_from(m.Event).filter_by(school_id=ids["school31"])
        assert db.session.execute(everything.execution_options(include_deleted=True)).scalar_one() == before


@pytest.mark.parametrize(
    "args",
    [
        ["export-plan", "--school", SCHOOL, "--year", "2019", "--format", "json"],
        ["report", "--school", SCHOOL, "--year", "2019", "-o", "{tmp}/r.docx"],
        ["import-plan", "{tmp}/plan.csv", "--school", SCHOOL, "--year", "2019", "--dry-run"],
    ],
)
def test_a_school_in_the_trash_is_an_unknown_name_to_every_command(
    app: Flask, tmp_path: Path, ids: dict[str, int], args: list[str]
) -> None:
    (tmp_path / "plan.csv").write_text("№;Мероприятие;Сроки;Ответственные\n1;Экскурсия;октябрь;Директор\n")
    _discard(app, m.School, id=ids["school31"])
    result = app.test_cli_runner().invoke(args=["coop", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code != 0
    assert f"Не найдена общеобразовательная организация «{SCHOOL}»" in result.output, result.output
    assert "Traceback" not in result.output
    with app.app_context(), pytest.raises(UnknownName):
        find_school(SCHOOL)


def test_create_user_for_a_school_in_the_trash_says_so(app: Flask, ids: dict[str, int]) -> None:
    _discard(app, m.School, id=ids["school31"])
    with app.app_context():
        name = db.session.get(m.School, ids["school31"], execution_options={"include_deleted": True}).name
        users_before = db.session.execute(select(func.count()).select_from(m.User)).scalar_one()
    result = app.test_cli_runner().invoke(
        args=["coop", "create-user", "--email", "new@coop.example", "--password", "Vhod-v-Coop-2026!",
              "--role", "school", "--school", name]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "в корзине" in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(m.User)).scalar_one() == users_before


def test_the_demo_loads_again_with_a_demo_row_in_the_trash(app: Flask, ids: dict[str, int]) -> None:
    _discard(app, m.Partner, id=ids["museum"])
    result = app.test_cli_runner().invoke(args=["coop", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        museum = db.session.get(m.Partner, ids["museum"], execution_options={"include_deleted": True})
        assert museum.deleted_at is not None  # left where its admin put it, and not copied
        same_name = select(func.count()).select_from(m.Partner).filter_by(name=museum.name)
        assert db.session.execute(same_name.execution_options(include_deleted=True)).scalar_one() == 1
