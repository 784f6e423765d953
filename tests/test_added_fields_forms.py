"""Issue 14: a number an added field refuses is said with the field's name, in Russian; an
added field's filter is named by the field's key in a list's URL, so a saved view keeps
its filter when other fields are added or removed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from coop import models as m
from coop.extensions import db

from .conftest import csrf_token
from .test_added_fields import OVZ, _define, _extra, _fill, _filter_arg, _records, _row_ids

pytestmark = pytest.mark.usefixtures("fresh_db")


@pytest.mark.parametrize(
    ("kind", "value", "reason", "kept"),
    [
        ("integer", "много", "нужно целое число", None),
        ("integer", "7,5", "нужно целое число", None),
        ("decimal", "семь", "нужно число", None),
        ("decimal", "1 234,5", None, 1234.5),
    ],
)
def test_a_refused_number_names_its_field(
    app: Flask, client_as: Any, ids: dict[str, int], kind: str, value: str, reason: str | None, kept: Any
) -> None:
    _define(client_as("admin"), kind=kind)
    school = client_as("school31")
    record_id = _records(app, ids["school31"], 1)[0]
    response = _fill(app, school, record_id, value)
    if reason is None:
        assert response.status_code == 302, response.text
        assert list(_extra(app, record_id).values()) == [kept]
        return
    assert response.status_code == 200
    assert f"«{OVZ}»: {reason}" in response.text
    assert "Not a valid" not in response.text and "Недопустимое" not in response.text
    assert _extra(app, record_id) == {}


def test_a_filter_of_an_added_field_keeps_its_name_when_fields_come_and_go(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("gymnasium17")
    page = school.get("/admin/eventexecution/").text
    greater = _filter_arg(page, "Часы профминимума", "больше чем")
    assert greater == "x_career_hours_1"
    url = f"/admin/eventexecution/?flt0_{greater}=2"
    before = _row_ids(school.get(url).text)
    assert before
    with app.app_context():  # a field before it in the list's filters, then one taken away
        db.session.add(
            m.FieldDefinition(model="execution", key="aaa", label="Ааа", kind="integer", sort_order=1)
        )
        db.session.commit()
    page = school.get("/admin/eventexecution/").text
    assert _filter_arg(page, "Часы профминимума", "больше чем") == greater
    assert _row_ids(school.get(url).text) == before
    with app.app_context():
        definition = db.session.execute(select(m.FieldDefinition).filter_by(key="aaa")).scalar_one()
        definition.is_active = False
        db.session.commit()
    assert _row_ids(school.get(url).text) == before


def test_a_saved_view_with_an_added_fields_filter_keeps_it(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("gymnasium17")
    page = school.get("/admin/eventexecution/?flt0_x_career_hours_1=2")
    listed = _row_ids(page.text)
    assert listed
    response = school.post(
        "/admin/savedviews/save/",
        data={
            "csrf_token": csrf_token(page.text),
            "endpoint": "eventexecution",
            "name": "Больше двух часов",
            "visibility": "personal",
            "query": "flt0_x_career_hours_1=2",
        },
    )
    assert response.status_code == 302, response.text[:500]
    with app.app_context():
        saved = db.session.execute(select(m.SavedView).filter_by(name="Больше двух часов")).scalar_one()
        assert saved.query == "flt0_x_career_hours_1=2"
        db.session.add(
            m.FieldDefinition(model="execution", key="aaa", label="Ааа", kind="integer", sort_order=1)
        )
        db.session.commit()
        saved_id = saved.id
    opened = school.get(f"/admin/savedviews/open/?id={saved_id}", follow_redirects=True)
    assert _row_ids(opened.text) == listed


def _indexes(app: Flask) -> set[str]:
    with app.app_context():
        stmt = text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_event_executions_x_%'")
        return set(db.session.execute(stmt).scalars())


def test_a_municipalitys_number_field_is_indexed_on_postgresql(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    if db_dialect(app) != "postgresql":
        pytest.skip("an expression index of PostgreSQL's")
    assert "ix_event_executions_x_career_hours" in _indexes(app)  # the demo's, made by the flush
    _define(client_as("admin"))  # «Обучающиеся с ОВЗ», whole number
    assert "ix_event_executions_x_obuchaiushchiesia_s_ovz" in _indexes(app)
    with app.app_context():
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            db.session.execute(
                text(
                    "EXPLAIN SELECT id FROM event_executions "
                    "WHERE CASE WHEN jsonb_typeof(extra -> 'career_hours') = 'number' "
                    "THEN CAST((extra ->> 'career_hours') AS NUMERIC) END > 2"
                )
            ).scalars()
        )
        db.session.rollback()
    assert "ix_event_executions_x_career_hours" in plan
    school = client_as("gymnasium17")
    url = "/admin/eventexecution/?flt0_x_career_hours_1=2"
    assert _row_ids(school.get(url).text)  # the filter reads it
    with app.app_context():  # the kind changed to text: the index goes (a text would not cast)
        definition = db.session.execute(select(m.FieldDefinition).filter_by(key="career_hours")).scalar_one()
        definition.kind = "text"
        db.session.commit()
        record = db.session.execute(
            select(m.EventExecution).where(m.EventExecution.extra["career_hours"].isnot(None)).limit(1)
        ).scalar_one()
        record.extra = {**record.extra, "career_hours": "много"}
        db.session.commit()
    assert "ix_event_executions_x_career_hours" not in _indexes(app)
    with app.app_context():  # a school's own number field: no index
        db.session.add(
            m.FieldDefinition(
                model="execution",
                key="own_hours",
                label="Свои часы",
                kind="integer",
                school_id=ids["gymnasium17"],
            )
        )
        db.session.commit()
    assert "ix_event_executions_x_own_hours" not in _indexes(app)


def db_dialect(app: Flask) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _form_outline(page: str) -> list[str]:
    """The record form's headings («# …») and fields (their names), in the page's order."""
    form = page[page.index("admin-form") :]
    form = form[: form.index("</form>")]
    return [
        f"# {heading}" if heading else name
        for heading, name in re.findall(r"<h3>(.*?)</h3>|<label for=\"([^\"]+)\"", form)
    ]


def test_added_fields_stand_under_their_groups_headings_in_both_forms(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    admin = client_as("admin")
    for label, key, kind, group, order in (
        ("Часы с детьми с ОВЗ", "ovz_hours", "integer", "Инклюзия", "1"),
        ("Примечание координатора", "coord_note", "text", "", "2"),
        ("Доля родителей", "parents_share", "integer", "Инклюзия", "3"),
    ):
        assert (
            _define(admin, label=label, key=key, kind=kind, group=group, sort_order=order).status_code == 302
        )
    school = client_as("school31")
    record = _records(app, ids["school31"], 1)[0]
    # The groups in the order of their first field; a field of no group under no heading;
    # the demo's own field (the career guidance minimum) under its group last.
    added = [
        "# Инклюзия",
        "extra__ovz_hours",
        "extra__parents_share",
        "extra__coord_note",
        "# Профориентационный минимум",
        "extra__career_hours",
    ]
    for url in ("/admin/eventexecution/new/", f"/admin/eventexecution/edit/?id={record}"):
        page = school.get(url).text
        outline = _form_outline(page)
        assert outline[-len(added) :] == added, url
        assert len(outline) == len(set(outline)), outline  # each field once, not among the core too
        form = page[page.index("admin-form") : page.index("</form>", page.index("admin-form"))]
        assert form.count('name="loaded_version"') == form.count('name="csrf_token"') == 1, url
        assert outline[0] == "event" and not any(item.startswith("#") for item in outline[: -len(added)])


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("url", "example.ru", "нужна ссылка, например https://example.ru/"),
        ("email", "name@", "нужен адрес электронной почты, например name@example.ru"),
        ("phone", "12", "нужен номер телефона, например +7 (3452) 12-34-56"),
    ],
)
def test_a_value_its_form_field_takes_but_its_kind_refuses_is_refused_under_the_field(
    app: Flask, client_as: Any, ids: dict[str, int], kind: str, value: str, reason: str
) -> None:
    """A link, an address or a phone is text to its form field: the field's kind refuses it
    (the form's validator), under the field, before anything is written."""
    _define(client_as("admin"), kind=kind)
    record_id = _records(app, ids["school31"], 1)[0]
    response = _fill(app, client_as("school31"), record_id, value)
    assert response.status_code == 200
    feedback = re.search(
        r'name="extra__[^"]+" type="[a-z]+" value="[^"]*">\s*<div class="invalid-feedback">(.*?)</div>',
        response.text,
        re.S,
    )
    assert feedback is not None
    assert re.findall(r"<li>(.*?)</li>", feedback.group(1)) == [f"«{OVZ}»: {reason}"]
    assert _extra(app, record_id) == {}
