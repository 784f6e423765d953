"""The remark form's pickers in a browser: after choosing a school, the programme
look-up offers that school's programmes only (coop/static/narrow-lookups.js)."""

from __future__ import annotations

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
