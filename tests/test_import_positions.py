"""A plan's responsible positions that are not in the catalog: the positions catalog
is the admin's, so a school's import keeps them as text on the line
(Event.responsible_other); an admin's import, and the CLI's, add them to the catalog.
The history of a web import names the person who imported."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer
from coop.plan_io.plan import build_plan

from .conftest import ACCOUNTS, csrf_token
from .test_import_seed import editable_plan, seed_docx
from .test_import_web import _token, upload

UNKNOWN = "Руководитель школьного музея"
TITLE = "Летняя школа юного журналиста"


def _plan_with_an_unknown_position(responsible: str = f"Заместитель директора по УВР, {UNKNOWN}") -> bytes:
    """The seed plan and one more line, responsible a known position and an unknown one."""
    plan = editable_plan()
    plan[0][1].append(("12.", TITLE, "июнь", responsible))
    return seed_docx(plan)


def _positions() -> set[str]:
    return set(db.session.execute(select(m.Position.name)).scalars())


def _last_history_id() -> int:
    return db.session.execute(select(func.max(m.History.id))).scalar_one() or 0


def _import_on_the_web(client: Any, school: int | None = None, data: bytes | None = None) -> str:
    """Upload, preview and confirm; the preview page's text."""
    token = _token(upload(client, data or _plan_with_an_unknown_position(), school=school))
    page = client.get(f"/admin/plan_import/preview/{token}/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return body


def _the_new_line(school_id: int) -> m.Event:
    return db.session.execute(select(m.Event).filter_by(school_id=school_id, title=TITLE)).scalar_one()


def test_a_schools_import_keeps_an_unknown_position_as_text(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        before, last = _positions(), _last_history_id()
    body = _import_on_the_web(client_as("school31"))
    assert UNKNOWN in body
    assert "будет сохранено текстом; добавить в справочник может администратор" in body
    with app.app_context():
        assert _positions() == before  # the shared catalog is unchanged
        event = _the_new_line(ids["school31"])
        assert [p.name for p in event.responsible] == ["Заместитель директора по УВР"]
        assert event.responsible_other == UNKNOWN
        history = db.session.execute(select(m.History).where(m.History.id > last)).scalars().all()
        assert history and {h.user_email for h in history} == {ACCOUNTS["school31"].email}
        assert "positions" not in {h.table_name for h in history}
        # The plan and its exports show it with the catalog's positions.
        school = db.session.get(m.School, ids["school31"])
        line = next(e for e in build_plan(school, 2019).events if e.title == TITLE)
        assert line.responsible == ("Заместитель директора по УВР", UNKNOWN)
    client = client_as("school31")
    details = client.get(f"/admin/event/details/?id={event.id}").get_data(as_text=True)
    assert UNKNOWN in details and "Другие ответственные (нет в справочнике)" in details


def test_a_corrected_line_keeps_its_new_unknown_positions_as_text(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    client = client_as("school31")
    _import_on_the_web(client)
    corrected = _plan_with_an_unknown_position(
        f"Заместитель директора по УВР, Руководитель кружка, {UNKNOWN}"
    )
    body = _import_on_the_web(client, data=corrected)
    assert (
        f"Ответственные, которых нет в справочнике, — 2: Руководитель кружка, {UNKNOWN}. Они будут "
        "сохранены текстом в своих строках; добавить их в справочник может администратор."
    ) in body
    with app.app_context():
        event = _the_new_line(ids["school31"])
        assert [p.name for p in event.responsible] == ["Заместитель директора по УВР"]
        assert event.responsible_other == f"Руководитель кружка, {UNKNOWN}"


def test_the_same_file_again_changes_nothing(app: Flask, client_as: Any, fresh_db: None) -> None:
    client = client_as("school31")
    _import_on_the_web(client)
    token = _token(upload(client, _plan_with_an_unknown_position()))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    assert body.count("status-same") == body.count('class="event-row') == 49
    client.post(f"/admin/plan_import/cancel/{token}/", data={"csrf_token": csrf_token(body)})


def test_an_admins_import_adds_the_position_and_the_history_names_the_admin(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        before, last = _positions(), _last_history_id()
    body = _import_on_the_web(client_as("admin"), school=ids["school31"])
    assert "будет сохранено текстом" not in body
    with app.app_context():
        assert UNKNOWN in _positions() - before
        event = _the_new_line(ids["school31"])
        assert {p.name for p in event.responsible} == {"Заместитель директора по УВР", UNKNOWN}
        assert event.responsible_other == ""
        history = db.session.execute(select(m.History).where(m.History.id > last)).scalars().all()
        assert {h.table_name for h in history} >= {"positions", "events"}
        admin = db.session.execute(select(m.User).filter_by(email=ACCOUNTS["admin"].email)).scalar_one()
        assert {(h.user_id, h.user_email) for h in history} == {(admin.id, admin.email)}


def test_the_cli_adds_the_position(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    with app.app_context():
        before = _positions()
        school = db.session.get(m.School, ids["school31"])
        preview = importer.prepare(importer.read_plan(_plan_with_an_unknown_position()), school, 2019)
        assert UNKNOWN in preview.new_positions and preview.unlisted_positions == []
        result = importer.apply(preview)
        assert result.positions_created == len(preview.new_positions)
        assert UNKNOWN in _positions() - before


def test_each_unknown_position_is_offered_once(app: Flask, fresh_db: None, ids: dict[str, int]) -> None:
    """However often and however spelled (case, spacing), a position the catalog lacks is
    added once; two different ones are both added."""
    other = "Куратор волонтёрского отряда"
    plan = editable_plan()
    plan[0][1].append(("12.", TITLE, "июнь", UNKNOWN))
    plan[0][1].append(("13.", "Фестиваль школьных музеев", "май", f"{UNKNOWN.upper()}, {other}"))
    plan[1][1].append(("8.", "Музейный урок", "март", "  ".join(UNKNOWN.split())))
    data = seed_docx(plan)
    with app.app_context():  # as the system, as the CLI: the positions are added
        school = db.session.get(m.School, ids["school31"])
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        assert sorted(preview.new_positions) == sorted([UNKNOWN, other])


# A responsible cell split on its commas, the positions the catalog knows, and the
# positions read: the longest known name first; a lone lower-case word («физики») goes on
# the position before it; anything else unknown stands alone.
RESPONSIBLE = [
    (("Учитель истории",), ["Учитель истории"], ("Учитель истории",)),
    (
        ("Педагог-организатор", "руководитель школьного музея", "Учитель истории"),
        ["Педагог-организатор, руководитель школьного музея", "Учитель истории"],
        ("Педагог-организатор, руководитель школьного музея", "Учитель истории"),
    ),
    (
        ("Педагог-организатор", "руководитель школьного музея", "Учитель истории"),
        ["Учитель истории"],
        ("Педагог-организатор", "руководитель школьного музея", "Учитель истории"),
    ),
    (
        ("Руководитель ШМО учителей математики", "физики", "информатики", "Учитель истории"),
        ["Учитель истории"],
        ("Руководитель ШМО учителей математики, физики, информатики", "Учитель истории"),
    ),
    (
        ("Заместитель директора по УВР", "Педагог-психолог", "Социальный педагог"),
        ["Заместитель директора по УВР", "Педагог-психолог, Социальный педагог"],
        ("Заместитель директора по УВР", "Педагог-психолог, Социальный педагог"),
    ),
]


@pytest.mark.parametrize(("parts", "known", "read"), RESPONSIBLE)
def test_the_positions_of_a_responsible_cell(parts: tuple[str, ...], known: list[str], read: tuple) -> None:
    catalog = {importer._position_key(name): name for name in known}
    assert importer._resolve_positions(parts, catalog) == read
