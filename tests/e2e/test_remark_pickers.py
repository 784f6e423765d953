"""The remark form's pickers in a browser: after choosing a school, the programme
look-up offers that school's programmes only (coop/static/narrow-lookups.js)."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import PageAs, Shot


def test_the_programme_picker_follows_the_school(app: Flask, page_as: PageAs, shot: Shot) -> None:
    with app.app_context():
        rows = db.session.execute(select(m.School.id, m.School.short_name)).all()
        titles: dict[int, list[str]] = {}
        for school_id, title in db.session.execute(select(m.Programme.school_id, m.Programme.title)):
            titles.setdefault(school_id, []).append(title)
    school = {short: school_id for school_id, short in rows}
    gymnasium = school["МБОУ «Гимназия № 17»"]
    page = page_as("coordinator")
    page.goto("/admin/remark/new/")
    page.click("#s2id_school")
    page.locator(".select2-drop-active .select2-result-label", has_text="Гимназия № 17").click()
    expect(page.locator("select#school")).to_have_value(str(gymnasium))
    page.click("#s2id_programme")
    results = page.locator(".select2-drop-active .select2-result-label")
    expect(results.first).to_be_visible()
    shot(page, "programmes-of-the-gymnasium")
    texts = results.all_inner_texts()
    assert texts and all(any(title in text for title in titles[gymnasium]) for text in texts)


def test_the_school_picker_past_the_few_is_a_look_up(
    app: Flask, page_as: PageAs, shot: Shot, monkeypatch: pytest.MonkeyPatch, fresh_db: None
) -> None:
    """With more schools than a select lists (one, here), the event form's school is a
    look-up: part of a name typed, a school picked among those found, and saved."""
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "event")
    monkeypatch.setattr(view._form_ajax_refs["school"], "list_up_to", 1)
    with app.app_context():
        event_id = db.session.execute(
            select(m.Event.id).join(m.School).where(m.School.short_name == "МБОУ «СОШ № 31»").limit(1)
        ).scalar_one()
        gymnasium = db.session.execute(
            select(m.School.id).where(m.School.short_name == "МБОУ «Гимназия № 17»")
        ).scalar_one()
    page = page_as("admin")
    page.goto(f"/admin/event/edit/?id={event_id}")
    expect(page.locator("select#school")).to_have_count(0)
    page.click("#s2id_school")
    page.keyboard.type("гимназ")
    found = page.locator(".select2-drop-active .select2-result-label")
    expect(found).to_have_text(["МБОУ «Гимназия № 17»"])
    shot(page, "school-look-up")
    found.first.click()
    expect(page.locator("input#school")).to_have_value(str(gymnasium))
    page.evaluate("window.jQuery('#programme').select2('val', '')")  # the programme is the other school's
    page.locator("input[type=submit][value='Сохранить']").first.click()
    expect(page.locator(".alert-success")).to_be_visible()
    with app.app_context():
        assert db.session.get(m.Event, event_id).school_id == gymnasium
