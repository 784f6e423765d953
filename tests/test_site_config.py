"""The site's configuration as a file: `coop config export` and `coop config import`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import create_app
from coop import models as m
from coop.extensions import db

pytestmark = pytest.mark.usefixtures("fresh_db")


@pytest.fixture
def empty_site(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another site: a fresh database, migrated (its catalogs filled), no demo."""
    site = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "test-secret-key",
            "AUTO_MIGRATE": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield site
    with site.app_context():
        db.session.remove()
        db.engine.dispose()


def _export(app: Flask, path: Path) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["coop", "config", "export", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text(encoding="utf-8"))


def _import(app: Flask, path: Path, *flags: str) -> Any:
    return app.test_cli_runner().invoke(args=["coop", "config", "import", str(path), *flags])


def _definitions(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        stmt = select(
            m.FieldDefinition.model, m.FieldDefinition.key, m.FieldDefinition.label, m.FieldDefinition.kind
        ).order_by(m.FieldDefinition.key)
        return [tuple(row) for row in db.session.execute(stmt)]


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_export_then_import_into_a_fresh_site_reproduces_the_municipalitys_fields(
    app: Flask, empty_site: Flask, tmp_path: Path
) -> None:
    exported = _export(app, tmp_path / "site.json")
    assert exported["format"] == "coop-site-config" and exported["version"] == 1
    assert {f["key"] for f in exported["fields"]} == {
        "mentoring_form",
        "career_hours",
        "partner_resources",
        "profile",
        "school_contact",
    }

    dry = _import(empty_site, tmp_path / "site.json", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+ поле execution.career_hours" in dry.output and "ничего не записано" in dry.output
    assert _count(empty_site, m.FieldDefinition) == 0

    done = _import(empty_site, tmp_path / "site.json")
    assert done.exit_code == 0, done.output
    # The gymnasium's own list and field: that school is not on the new site.
    assert "- поле event.profile: школы «МБОУ «Гимназия № 17»» нет на сайте" in done.output
    municipal = [row for row in _definitions(app) if row[1] not in ("profile", "school_contact")]
    assert _definitions(empty_site) == municipal
    with empty_site.app_context():
        mentoring = db.session.execute(select(m.FieldDefinition).filter_by(key="mentoring_form")).scalar_one()
        assert mentoring.choice_list.items == exported["choice_lists"][0]["items"]

    again = _import(empty_site, tmp_path / "site.json")
    assert again.exit_code == 0 and "Добавлено: 0, изменено: 0" in again.output


def test_the_minimal_form_of_a_field(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "minimal.json"
    field = {"model": "execution", "key": "ovz_students", "label": "Обучающиеся с ОВЗ", "kind": "integer"}
    path.write_text(json.dumps({"fields": [{**field, "required": False}]}), encoding="utf-8")
    result = _import(app, path)
    assert result.exit_code == 0, result.output
    assert ("execution", "ovz_students", "Обучающиеся с ОВЗ", "integer") in _definitions(app)


def test_an_import_applies_a_change(app: Flask, tmp_path: Path) -> None:
    exported = _export(app, tmp_path / "site.json")
    for entry in exported["fields"]:
        if entry["key"] == "career_hours":
            entry["label"] = "Часы профориентационного минимума"
    (tmp_path / "site.json").write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    result = _import(app, tmp_path / "site.json")
    assert result.exit_code == 0, result.output
    assert "~ поле execution.career_hours: label" in result.output
    assert ("execution", "career_hours", "Часы профориентационного минимума", "integer") in _definitions(app)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "не читается как JSON"),
        (b"\xff\xfe\x00", "не читается как JSON"),
        (b"[]", "Это не файл настроек Coop"),
        (json.dumps({"format": "coop-site-config", "version": 2}).encode(), "более новой версией Coop"),
        (json.dumps({"fields": {"key": "x"}}).encode(), "fields: нужен список объектов"),
        (
            json.dumps(
                {"fields": [{"model": "execution", "key": "x", "label": "Икс", "kind": "money"}]}
            ).encode(),
            "fields[0].kind: одно из",
        ),
        (
            json.dumps(
                {"fields": [{"model": "execution", "key": "Не ключ", "label": "Икс", "kind": "integer"}]}
            ).encode(),
            "fields[0]: Ключ",
        ),
        (
            json.dumps(
                {"fields": [{"model": "execution", "key": "x", "label": "Икс", "kind": "choice"}]}
            ).encode(),
            "нужен список значений",
        ),
        (
            json.dumps(
                {"fields": [{"model": "event", "key": "x", "label": "Икс", "kind": "text", "required": "да"}]}
            ).encode(),
            "fields[0].required: нужно true или false",
        ),
    ],
)
def test_a_file_that_does_not_fit_is_refused_and_nothing_is_written(
    app: Flask, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    good = {"name": "Новый список", "items": ["а"]}
    try:  # a good row before the bad one: it must not be kept either
        data = json.loads(content)
        if isinstance(data, dict) and "version" not in data:
            data["choice_lists"] = [good]
            content = json.dumps(data).encode()
    except (ValueError, UnicodeDecodeError):
        pass
    path.write_bytes(content)
    before = (_count(app, m.ChoiceList), _count(app, m.FieldDefinition))
    result = _import(app, path)
    assert result.exit_code != 0
    assert message in result.output and "Ничего не записано" in result.output
    assert "Traceback" not in result.output
    assert (_count(app, m.ChoiceList), _count(app, m.FieldDefinition)) == before
