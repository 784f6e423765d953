"""The event form's selects (options as (id, label) rows, coop/views/row_fields.py) and a
list's delete buttons (one delete form per page, coop/list.html) in a browser."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from coop import models as m
from coop.extensions import db
from coop.trash import INCLUDE_DELETED

from .conftest import PageAs, Shot


@pytest.mark.usefixtures("fresh_db")
def test_the_event_form_picks_searches_and_saves(app: Flask, page_as: PageAs, shot: Shot) -> None:
    with app.app_context():
        event_id = db.session.execute(select(m.Event.id).order_by(m.Event.id).limit(1)).scalar_one()
        level = (
            db.session.execute(select(m.EventLevel).order_by(m.EventLevel.sort_order.desc()))
            .scalars()
            .first()
        )
        position = (
            db.session.execute(select(m.Position).order_by(m.Position.sort_order.desc())).scalars().first()
        )
        assert level is not None and position is not None
        level_id, level_name, position_id, position_name = level.id, level.name, position.id, position.name
    page = page_as("admin")
    page.goto(f"/admin/event/edit/?id={event_id}")
    page.click("#s2id_level")  # a single select: typed into, then chosen
    page.keyboard.type(level_name[:5])
    page.locator(".select2-drop-active .select2-result-label", has_text=level_name).first.click()
    expect(page.locator("select#level")).to_have_value(str(level_id))
    page.click("#s2id_responsible input")  # a multiple one
    page.keyboard.type(position_name[:6])
    page.locator(".select2-drop-active .select2-result-label", has_text=position_name).first.click()
    shot(page, "event-form-chosen")
    page.click("form.admin-form input[type=submit]:not([name])")
    expect(page.locator(".alert-success")).to_be_visible()
    shot(page, "event-form-saved")
    with app.app_context():
        saved = select(m.Event.level_id).where(m.Event.id == event_id)
        assert db.session.execute(saved).scalar_one() == level_id
        chosen = db.session.execute(
            select(m.event_positions.c.position_id).where(m.event_positions.c.event_id == event_id)
        ).scalars()
        assert position_id in set(chosen)


@pytest.mark.usefixtures("fresh_db")
def test_a_rows_delete_button_moves_that_row_to_the_trash(app: Flask, page_as: PageAs, shot: Shot) -> None:
    page = page_as("school31")
    page.goto("/admin/event/")
    rows = page.locator("table.model-list tbody tr")
    expect(page.locator("form[id='row-delete-form']")).to_have_count(1)
    expect(page.locator("table.model-list form")).to_have_count(0)  # no form per row
    second = rows.nth(1)
    link = second.locator("a[href*='/admin/event/details/']").first.get_attribute("href") or ""
    row_id = int(link.split("id=")[1].split("&")[0])
    page.once("dialog", lambda dialog: dialog.accept())
    second.locator("button.row-delete").click()
    expect(page.locator(".alert-success")).to_be_visible()
    shot(page, "row-deleted")
    expect(page.locator(f"table.model-list a[href*='details/?id={row_id}&']")).to_have_count(0)
    with app.app_context():
        trashed = select(m.Event.deleted_at).where(m.Event.id == row_id)
        assert db.session.execute(trashed, execution_options=INCLUDE_DELETED).scalar_one() is not None
