"""`coop config export`/`import` carry the shared saved views (issue 14): those shown to a
school or to everyone, never the personal ones; found again by list, name and owner's
e-mail (idempotent), checked like the rest, --dry-run writing nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select

from coop import models as m
from coop.extensions import db

from .test_site_config import _export, _import

pytestmark = pytest.mark.usefixtures("fresh_db")


@pytest.fixture
def views(app: Flask) -> None:
    with app.app_context():
        users = {u.email: u for u in db.session.execute(select(m.User)).scalars()}
        admin, school31 = users["admin@coop.example"], users["school31@coop.example"]
        db.session.add_all(
            [
                m.SavedView(
                    user_id=admin.id,
                    endpoint="event",
                    name="Экскурсии всех школ",
                    query="search=экскурсия&sort=title&desc=1",
                    columns=["title", "school"],
                    visibility="everyone",
                ),
                m.SavedView(
                    user_id=school31.id,
                    endpoint="event",
                    name="Наши олимпиады",
                    query="search=олимпиада",
                    visibility="school",
                    school_id=school31.school_id,
                ),
                m.SavedView(
                    user_id=school31.id,
                    endpoint="event",
                    name="Мой черновик",
                    query="search=черновик",
                    visibility="personal",
                    school_id=school31.school_id,
                ),
            ]
        )
        db.session.commit()


def _views(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        stmt = select(
            m.SavedView.endpoint,
            m.SavedView.name,
            m.SavedView.visibility,
            m.SavedView.query,
            m.SavedView.columns,
        ).order_by(m.SavedView.name)
        return [tuple(row) for row in db.session.execute(stmt)]


def test_shared_views_go_out_and_come_back(app: Flask, tmp_path: Path, views: None) -> None:
    path = tmp_path / "site.json"
    data = _export(app, path)
    exported = {view["name"]: view for view in data["saved_views"]}
    assert {"Экскурсии всех школ", "Наши олимпиады"} <= set(exported)
    assert "Мой черновик" not in exported  # a personal view stays its owner's
    assert exported["Экскурсии всех школ"] == {
        "endpoint": "event",
        "name": "Экскурсии всех школ",
        "visibility": "everyone",
        "owner": "admin@coop.example",
        "school": None,
        "query": "search=экскурсия&sort=title&desc=1",
        "columns": ["title", "school"],
    }
    assert exported["Наши олимпиады"]["school"] == "МБОУ «СОШ № 31»"
    before = _views(app)
    result = _import(app, path)  # the same file again: nothing changes
    assert result.exit_code == 0, result.output
    assert "Добавлено: 0, изменено: 0" in result.output
    assert _views(app) == before

    with app.app_context():  # gone from the site: the file brings them back
        db.session.execute(delete(m.SavedView).where(m.SavedView.visibility != "personal"))
        db.session.commit()
    exported["Наши олимпиады"]["query"] = "search=олимпиада&page_size=50"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = _import(app, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "+ вид «Наши олимпиады» списка event" in result.output
    assert [row[2] for row in _views(app)] == ["personal"]  # a dry run writes nothing
    result = _import(app, path)
    assert result.exit_code == 0, result.output
    assert [row[1] for row in _views(app)] == [row[1] for row in before]
    assert ("event", "Наши олимпиады", "school", "search=олимпиада&page_size=50", []) in _views(app)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"visibility": "personal"}, "личные виды не переносятся"),
        ({"query": "search=x&next=//evil.example"}, "неизвестный параметр «next»"),
        ({"endpoint": "nosuchlist"}, "списка «nosuchlist» нет"),
        ({"columns": "title"}, "columns: нужно список"),
        ({"owner": "school31@coop.example"}, "не может показать вид «everyone»"),
        ({"name": "   "}, "].name: Назовите вид"),
    ],
)
def test_a_view_that_does_not_fit_is_refused_and_nothing_is_written(
    app: Flask, tmp_path: Path, views: None, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "site.json"
    data = _export(app, path)
    target = next(view for view in data["saved_views"] if view["name"] == "Экскурсии всех школ")
    data["saved_views"].insert(0, {**target, "name": "Новый вид"})  # a good one before: not kept
    target.update(change)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before = _views(app)
    result = _import(app, path)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert _views(app) == before


def test_a_view_whose_owner_is_not_on_the_site_is_skipped(app: Flask, tmp_path: Path, views: None) -> None:
    path = tmp_path / "site.json"
    data = _export(app, path)
    data["saved_views"][0]["owner"] = "someone@elsewhere.example"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = _import(app, path)
    assert result.exit_code == 0, result.output
    assert "пользователя someone@elsewhere.example нет на сайте" in result.output
