"""`flask coop demo` and `flask coop create-user`, and finding schools and partners by name."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db
from coop.lookup import AmbiguousName, UnknownName, find_partner, find_school

pytestmark = pytest.mark.usefixtures("fresh_db")


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (
            m.School,
            m.Partner,
            m.Programme,
            m.Agreement,
            m.Event,
            m.EventExecution,
            m.User,
            m.Seminar,
        )
    }


def test_demo_holds_the_seed_programme_and_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()
    with app.app_context():
        before = _counts()
        school = find_school("СОШ № 31")
        events = db.session.execute(select(m.Event).filter_by(school_id=school.id)).scalars().all()
        assert len(events) == 48
        assert len({e.partner_id for e in events}) == 5
        programme = db.session.execute(select(m.Programme).filter_by(school_id=school.id)).scalar_one()
        assert (programme.first_year, programme.last_year) == (2019, 2023)
        fair = next(e for e in events if e.timing_text == "ноябрь - апрель")
        assert fair.months == (11, 12, 1, 2, 3, 4)
        roles = set(db.session.execute(select(m.User.role)).scalars())
        assert roles == {"admin", "coordinator", "school", "partner"}
    result = runner.invoke(args=["coop", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _counts() == before


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("СОШ № 31", "МБОУ «СОШ № 31»"),
        ("сош №31", "МБОУ «СОШ № 31»"),
        ("гимназия", "МБОУ «Гимназия № 17»"),
        ('МБОУ "СОШ № 31"', "МБОУ «СОШ № 31»"),
    ],
)
def test_school_is_found_by_a_unique_part_of_its_name(app: Flask, typed: str, expected: str) -> None:
    with app.app_context():
        assert find_school(typed).short_name == expected


def test_ambiguous_and_unknown_names_are_clear_errors(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(AmbiguousName, match="несколько"):
            find_school("МБОУ")
        with pytest.raises(UnknownName, match="Лицей № 1"):
            find_school("Лицей № 1")
        assert find_partner("сибгиу").short_name == "СибГИУ"


def test_create_user_links_an_existing_school(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "coop",
            "create-user",
            "--email",
            "deputy@school31.example",
            "--password",
            "s3cret-pass",
            "--role",
            "school",
            "--school",
            "сош № 31",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="deputy@school31.example")).scalar_one()
        assert user.school.short_name == "МБОУ «СОШ № 31»"
        assert user.check_password("s3cret-pass")


def test_create_user_creates_a_new_partner(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "coop",
            "create-user",
            "--email",
            "rep@zoo.example",
            "--password",
            "s3cret-pass",
            "--role",
            "partner",
            "--partner",
            "Новокузнецкий зоопарк",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert find_partner("зоопарк").name == "Новокузнецкий зоопарк"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "school", "--school", "МБОУ"], "несколько"),
        (["--role", "school"], "--school"),
        (["--role", "partner"], "--partner"),
        (["--role", "admin", "--password", "short"], "не менее"),
        (["--role", "admin", "--email", "not-an-email"], "адрес"),
        (["--role", "root"], "root"),
    ],
)
def test_create_user_refuses_bad_input_and_writes_nothing(app: Flask, args: list[str], message: str) -> None:
    base = {"--email": "x@school.example", "--password": "long-enough-pw"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    with app.app_context():
        before = _counts()
    result = app.test_cli_runner().invoke(
        args=["coop", "create-user", *[t for kv in base.items() for t in kv]]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert _counts() == before
