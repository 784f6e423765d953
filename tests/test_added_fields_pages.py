"""A record's page shows its added fields in their own table, by label: never the raw
`extra` column (its keys and JSON) among the core fields (found by the issue 14 journey)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

# The table of a record's own fields on its details page, up to the added fields' tables.
CORE_TABLE = re.compile(r'<table class="table[^"]*searchable">(.*?)</table>', re.DOTALL)


def test_a_records_page_does_not_show_extra_among_its_own_fields(app: Flask, client_as: Any) -> None:
    with app.app_context():
        stmt = select(m.EventExecution.id).where(m.EventExecution.extra["career_hours"].isnot(None))
        record_id = db.session.execute(stmt.limit(1)).scalar_one()
        partner_id = db.session.execute(select(m.Partner.id).limit(1)).scalar_one()
        school_id = db.session.execute(select(m.School.id).limit(1)).scalar_one()
    admin = client_as("admin")
    for url in (
        f"/admin/eventexecution/details/?id={record_id}",
        f"/admin/partner/details/?id={partner_id}",
        f"/admin/school/details/?id={school_id}",
    ):
        page = admin.get(url)
        assert page.status_code == 200, url
        core = CORE_TABLE.search(page.text)
        assert core is not None, url
        assert "Дополнительные поля" not in core.group(1), url
    details = admin.get(f"/admin/eventexecution/details/?id={record_id}").text
    assert "career_hours" not in details  # the key: only the label is shown
    assert "<b>Часы профминимума</b>" in details
