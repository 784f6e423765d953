"""The coordinator's remark form: pickers narrowed to the chosen school, a link to
another school's row refused; the school's answer in a multi-line box (issue 11, item 10)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db
from tests.conftest import csrf_token


def _programmes(app: Flask) -> dict[int, list[int]]:
    """The programme ids of each demo school, by school id."""
    found: dict[int, list[int]] = {}
    with app.app_context():
        for school, programme in db.session.execute(
            select(m.Programme.school_id, m.Programme.id).order_by(m.Programme.id)
        ):
            found.setdefault(school, []).append(programme)
    return found


def _lookup(client: Any, name: str, **args: str) -> list[int]:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = client.get(f"/admin/remark/ajax/lookup/?name={name}&query=&{query}")
    assert response.status_code == 200
    return [row[0] for row in json.loads(response.text)]


def test_the_lookups_keep_to_the_school_chosen(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    programmes = _programmes(app)
    client = client_as("coordinator")
    both = set(_lookup(client, "programme"))
    assert {*programmes[ids["school31"]], *programmes[ids["gymnasium17"]]} <= both
    assert (
        sorted(_lookup(client, "programme", school=str(ids["gymnasium17"]))) == programmes[ids["gymnasium17"]]
    )
    with app.app_context():
        school_of = dict(db.session.execute(select(m.Event.id, m.Event.school_id)).all())
    events = _lookup(client, "event", school=str(ids["school31"]))
    assert events and {school_of[e] for e in events} == {ids["school31"]}
    assert _lookup(client, "event", school="abc")  # not an id: not narrowed, not an error


def test_the_form_marks_its_pickers_and_loads_the_script(client_as: Any) -> None:
    page = client_as("coordinator").get("/admin/remark/new/").text
    for name in ("programme", "agreement", "event"):
        tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', page)
        assert tag and 'data-narrow-by="school"' in tag.group(0), name
    assert "narrow-lookups.js" in page


def test_a_programme_of_another_school_is_refused(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    programmes = _programmes(app)
    client = client_as("coordinator")
    page = client.get("/admin/remark/new/")
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(m.Remark)).scalar_one()
    response = client.post(
        "/admin/remark/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "school": str(ids["gymnasium17"]),
            "programme": str(programmes[ids["school31"]][0]),
            "text": "Замечание не той школе",
        },
    )
    assert response.status_code == 200
    assert "относится к другой школе" in response.text
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(m.Remark)).scalar_one() == before


def test_the_school_answers_in_a_multi_line_box(app: Flask, client_as: Any, fresh_db: None) -> None:
    with app.app_context():
        remark = db.session.execute(select(m.Remark.id).filter_by(state="open")).scalars().first()
    client = client_as("school31")
    page = client.get(f"/admin/remark/details/?id={remark}").text
    box = re.search(r'<textarea[^>]*name="comment"[^>]*>', page)
    assert box and "required" in box.group(0)
    assert not re.search(r'<input[^>]*type="text"[^>]*name="comment"', page)
    response = client.post(
        f"/admin/remark/transition/?id={remark}",
        data={
            "csrf_token": csrf_token(page),
            "transition": "answer",
            "comment": "Первая строка\nВторая строка",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(m.Remark, remark).response == "Первая строка\nВторая строка"
