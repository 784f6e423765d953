"""The import's templates (issue 11, item 8): a Word and an Excel plan in the form the
readers expect, linked from the upload page; read back by the importer's own readers
they give a valid preview of their one example line."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer, template

from .conftest import csrf_token
from .test_import_web import FOREIGN, IMPORTERS, ROLE_KEYS, _counts, _token, upload

MIMETYPES = {"docx": template.FORMATS["docx"], "xlsx": template.FORMATS["xlsx"]}


@pytest.mark.parametrize("key", ROLE_KEYS)
@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_template_by_role(client_as: Any, key: str, fmt: str) -> None:
    response = client_as(key).get(f"/admin/plan_import/template.{fmt}")
    expected = 302 if key == "anonymous" else 200 if key in IMPORTERS else 403
    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response.headers["Location"]
    if expected == 200:
        assert response.mimetype == MIMETYPES[fmt]
        assert f"filename=network-plan-template.{fmt}" in response.headers["Content-Disposition"]
    if key in FOREIGN:
        assert FOREIGN[key].encode() not in response.data


def test_an_unknown_template_format_is_not_found(client_as: Any) -> None:
    assert client_as("school31").get("/admin/plan_import/template.pdf").status_code == 404


def test_the_upload_page_links_both_templates(client_as: Any) -> None:
    page = client_as("school31").get("/admin/plan_import/").get_data(as_text=True)
    assert 'href="/admin/plan_import/template.docx"' in page
    assert 'href="/admin/plan_import/template.xlsx"' in page


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_template_reads_back_as_its_example_line(fmt: str) -> None:
    plan = importer.read_plan(template.template(fmt), f"шаблон.{fmt}")
    assert [partner.name for partner in plan.partners] == [template.PARTNER]
    (event,) = plan.partners[0].events
    assert (event.number, event.title, event.timing) == (1, template.TITLE, template.TIMING)
    assert event.responsible == template.RESPONSIBLE
    if fmt == "xlsx":  # the Word form gives the audience by a section row, the example has none
        assert (event.audience, event.grades) == ("students", template.GRADES)
    assert plan.issues == []


def test_the_templates_carry_the_readers_columns_and_a_note() -> None:
    doc = Document(io.BytesIO(template.template("docx")))
    assert [cell.text for cell in doc.tables[0].rows[0].cells] == [
        "№ п/п",
        "Наименование мероприятия",
        "сроки",
        "ответственные",
    ]
    assert any(p.text.startswith("Образец сетевого плана для импорта") for p in doc.paragraphs)
    sheet = load_workbook(io.BytesIO(template.template("xlsx"))).active
    rows = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    assert list(template.XLSX_HEADER) in rows
    assert rows[1][0].startswith("Образец сетевого плана для импорта")


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_template_gives_a_valid_preview_and_imports(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None, fmt: str
) -> None:
    client = client_as("school31")
    data = client.get(f"/admin/plan_import/template.{fmt}").data
    token = _token(upload(client, data, f"шаблон.{fmt}", year=2021))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    assert "import-errors" not in body
    assert "История родного края" in body
    with app.app_context():
        before = _counts()
    response = client.post(
        f"/admin/plan_import/confirm/{token}/",
        data={"csrf_token": csrf_token(body), "partner-0": str(ids["museum"])},
    )
    assert response.status_code == 302
    with app.app_context():
        assert _counts()["Event"] == before["Event"] + 1
        event = db.session.execute(select(m.Event).filter_by(title=template.TITLE)).scalar_one()
        assert (event.partner_id, event.school_id, event.months_mask != 0) == (
            ids["museum"],
            ids["school31"],
            True,
        )
