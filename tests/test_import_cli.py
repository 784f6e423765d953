"""`flask coop import-plan FILE --school NAME --year YYYY [--dry-run]`: the contract of DESIGN.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db

from .test_import_seed import empty_school, seed_csv, seed_docx  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("fresh_db")


def _events() -> int:
    return db.session.execute(select(func.count()).select_from(m.Event)).scalar_one()


def _run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["coop", "import-plan", *args])
    return result.exit_code, result.output


def test_import_prints_the_summary_and_a_second_run_changes_nothing(
    app: Flask,
    tmp_path: Path,
    empty_school: int,  # noqa: F811
) -> None:
    plan = tmp_path / "план.docx"
    plan.write_bytes(seed_docx())
    with app.app_context():
        before = _events()
    code, output = _run(app, str(plan), "--school", "СОШ № 99", "--year", "2019", "--dry-run")
    assert code == 0, output
    assert "48" in output and "2019/2020" in output
    with app.app_context():
        assert _events() == before  # a dry run writes nothing
    code, output = _run(app, str(plan), "--school", "СОШ № 99", "--year", "2019")
    assert code == 0, output
    with app.app_context():
        assert _events() == before + 48
    code, output = _run(app, str(plan), "--school", "сош №99", "--year", "2021")
    assert code == 0, output
    with app.app_context():
        assert _events() == before + 48


def test_similar_partners_become_new_ones_and_are_named(app: Flask, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text("Партнёр;№;Мероприятие;Сроки;Ответственные\nКемГУ;1;Олимпиада;ноябрь;Учитель\n", "utf-8")
    code, output = _run(app, str(plan), "--school", "Гимназия", "--year", "2021", "--dry-run")
    assert code == 0, output
    assert "КемГУ (НФИ КемГУ)" in output  # the similar one in the directory is shown


@pytest.mark.parametrize(
    ("content", "args"),
    [
        (None, ("--school", "СОШ № 31", "--year", "2019")),  # no such file
        (b"", ("--school", "СОШ № 31", "--year", "2019")),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), ("--school", "СОШ № 31", "--year", "2019")),
        ("ФИО;Должность\nИванов;директор\n".encode(), ("--school", "СОШ № 31", "--year", "2019")),
        ("№;Мероприятие;Сроки\n1;;октябрь\n".encode(), ("--school", "СОШ № 31", "--year", "2019")),
        (None, ("--school", "Лицей № 1", "--year", "2019")),
        (None, ("--school", "МБОУ", "--year", "2019")),
        (None, ("--school", "СОШ № 31", "--year", "19")),
    ],
    ids=[
        "missing",
        "empty",
        "png",
        "no-plan",
        "row-error",
        "unknown-school",
        "ambiguous",
        "bad-year",
    ],
)
def test_bad_input_exits_non_zero_and_writes_nothing(
    app: Flask, tmp_path: Path, content: bytes | None, args: tuple[str, ...]
) -> None:
    plan = tmp_path / "plan.csv"
    if content is not None:
        plan.write_bytes(content)
    elif args[1] != "СОШ № 31" or args[3] != "2019":
        plan.write_bytes(seed_csv())  # a good file: the arguments are what is wrong
    with app.app_context():
        before = _events()
    code, output = _run(app, str(plan), *args)
    assert code != 0
    assert "Traceback" not in output
    assert output.strip()
    with app.app_context():
        assert _events() == before


def _programmes(school: str) -> list[m.Programme]:
    stmt = select(m.Programme).join(m.School).where(m.School.name == school)
    return list(db.session.execute(stmt).scalars())


def test_a_school_just_created_gets_a_draft_programme_with_its_plan(app: Flask, tmp_path: Path) -> None:
    """DESIGN.md: import-plan works on a school that create-user has just made."""
    school = "МБОУ «СОШ № 77» г. Новокузнецка"
    made = app.test_cli_runner().invoke(
        args=[
            "coop",
            "create-user",
            *("--email", "deputy@school77.example", "--password", "s3cret-pass-77"),
            *("--role", "school", "--school", school),
        ]
    )
    assert made.exit_code == 0, made.output
    plan = tmp_path / "план.docx"
    plan.write_bytes(seed_docx())
    with app.app_context():
        before = _events()

    code, output = _run(app, str(plan), "--school", "СОШ № 77", "--year", "2019", "--dry-run")
    assert code == 0, output
    assert "будет создана программа-черновик" in output and "на 2019–2023" in output  # the plan's years
    with app.app_context():
        assert _programmes(school) == [] and _events() == before  # a dry run writes nothing

    code, output = _run(app, str(plan), "--school", "СОШ № 77", "--year", "2019")
    assert code == 0, output
    assert "будет создана программа-черновик" in output
    assert "Создана программа-черновик" in output
    with app.app_context():
        [programme] = _programmes(school)
        assert programme.state == "draft"
        assert (programme.first_year, programme.last_year) == (2019, 2023)
        assert programme.title == f"Программа сотрудничества {school}"  # the school has no short name
        assert _events() == before + 48
        assert {
            e.programme_id
            for e in db.session.execute(select(m.Event).filter_by(school_id=programme.school_id)).scalars()
        } == {programme.id}

    code, output = _run(app, str(plan), "--school", "СОШ № 77", "--year", "2019")  # again: the same programme
    assert code == 0, output
    assert "программа-черновик" not in output
    with app.app_context():
        assert len(_programmes(school)) == 1 and _events() == before + 48
