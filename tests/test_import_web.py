"""Importing a plan in the site: upload → preview → confirm, for every role.

Its endpoints are in test_access_matrix.COVERED_ELSEWHERE: the role × status
table is here. Admin imports into any school, a school into its own only;
coordinator and partners may not import; the file waiting between preview and
confirmation is found only by the user who uploaded it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer

from .conftest import ACCOUNTS, csrf_token
from .test_import_seed import seed_docx

ROLE_KEYS = list(ACCOUNTS)
IMPORTERS = {"admin", "school31", "gymnasium17"}
# Text of the other school, never to be shown (as in test_access_matrix).
FOREIGN = {"school31": "Гимназ", "gymnasium17": "СОШ № 31", "museum": "СОШ № 31", "kemsu": "Гимназ"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def _uploads(app: Flask) -> list[tuple[str, int]]:
    """The files waiting for their import's confirmation (in the database): token, uploader."""
    with app.app_context():
        stmt = select(m.StagedImport.token, m.StagedImport.user_id).order_by(m.StagedImport.id)
        return [tuple(row) for row in db.session.execute(stmt)]


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (m.Event, m.Partner, m.Position)
    }


def upload(
    client: FlaskClient,
    data: bytes,
    filename: str = "сетевой план.docx",
    school: int | None = None,
    year: int = 2019,
) -> Any:
    page = client.get("/admin/plan_import/")
    form = {"csrf_token": csrf_token(page.text), "year": str(year), "file": (_stream(data), filename)}
    if school is not None:
        form["school"] = str(school)
    # Following redirects makes the client close its copy of a large upload.
    response = client.post(
        "/admin/plan_import/upload/", data=form, content_type="multipart/form-data", follow_redirects=True
    )
    response.get_data()
    response.close()
    return response


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def _token(response: Any) -> str:
    """The token of the preview an upload was sent on to."""
    body = response.get_data(as_text=True)
    assert [r.status_code for r in response.history] == [302], body[body.find("alert-danger") :][:500]
    assert response.status_code == 200
    path = response.request.path
    assert path.startswith("/admin/plan_import/preview/")
    return path.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture(autouse=True)
def _no_upload_left_behind(app: Flask) -> Iterator[None]:
    yield
    with app.app_context():
        db.session.execute(delete(m.StagedImport))
        db.session.commit()


@pytest.fixture
def school31_upload(app: Flask, client_as: Any, fresh_db: None) -> tuple[FlaskClient, str]:
    client = client_as("school31")
    return client, _token(upload(client, seed_docx()))


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_upload_page_by_role(client_as: Any, key: str) -> None:
    response = client_as(key).get("/admin/plan_import/")
    expected = 302 if key == "anonymous" else 200 if key in IMPORTERS else 403
    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response.headers["Location"]
    if key in FOREIGN:
        assert FOREIGN[key] not in response.get_data(as_text=True)


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_upload_by_role_writes_nothing_unless_allowed(app: Flask, client_as: Any, key: str) -> None:
    client = client_as(key)
    token = client.get("/login").text if key == "anonymous" else client.get("/admin/").text
    response = client.post(
        "/admin/plan_import/upload/",
        data={"csrf_token": csrf_token(token), "year": "2019", "file": (_stream(PNG), "x.png")},
        content_type="multipart/form-data",
    )
    # Allowed roles get the message about the file; the others never reach it.
    expected = 302 if key == "anonymous" else 400 if key in IMPORTERS else 403
    assert response.status_code == expected
    assert _uploads(app) == []


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_a_waiting_upload_is_only_its_uploaders(
    app: Flask, client_as: Any, school31_upload: tuple[FlaskClient, str], key: str
) -> None:
    """Preview, confirm and cancel of school31's upload, by every role (its owner's
    own confirm and cancel are in the flow tests below)."""
    _owner, token = school31_upload
    client = client_as(key)
    page = client.get("/login" if key == "anonymous" else "/admin/").text
    requests = [("get", f"/admin/plan_import/preview/{token}/")]
    if key != "school31":
        requests += [
            ("post", f"/admin/plan_import/confirm/{token}/"),
            ("post", f"/admin/plan_import/cancel/{token}/"),
        ]
    expected = 302 if key == "anonymous" else 200 if key == "school31" else 404 if key in IMPORTERS else 403
    for method, url in requests:
        kwargs = {"data": {"csrf_token": csrf_token(page)}} if method == "post" else {}
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == expected, url
        if key in FOREIGN:
            assert FOREIGN[key] not in response.get_data(as_text=True)
    assert len(_uploads(app)) == 1  # nobody else's request touched it


def test_an_upload_left_over_a_day_is_gone_and_swept_by_the_next(
    app: Flask, client_as: Any, school31_upload: tuple[FlaskClient, str]
) -> None:
    client, token = school31_upload
    with app.app_context():
        db.session.execute(
            update(m.StagedImport).values(created_at=m.utcnow() - dt.timedelta(days=1, minutes=1))
        )
        db.session.commit()
    assert client.get(f"/admin/plan_import/preview/{token}/").status_code == 404
    other = client_as("gymnasium17")
    fresh = _token(upload(other, seed_docx()))
    assert [row[0] for row in _uploads(app)] == [fresh]  # whoever's upload sweeps the old ones


def test_malformed_and_unknown_tokens_are_404(client_as: Any) -> None:
    client = client_as("admin")
    for token in ("..%2F..%2Fsecret_key", "x" * 32, "0" * 31, "abc"):
        assert client.get(f"/admin/plan_import/preview/{token}/").status_code == 404


def test_a_school_cannot_import_into_another_school(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("gymnasium17")
    response = upload(client, seed_docx(), school=ids["school31"])
    assert response.status_code == 400
    assert _uploads(app) == []


# --- the flow -----------------------------------------------------------------------------


def test_preview_then_confirm_imports_the_plan(
    app: Flask, ids: dict[str, int], school31_upload: tuple[FlaskClient, str]
) -> None:
    client, token = school31_upload
    with app.app_context():
        school31 = db.session.execute(select(m.User.id).filter_by(email="school31@coop.example")).scalar_one()
    assert _uploads(app) == [(token, school31)]  # in the database, for any app server
    assert not (Path(app.config["UPLOAD_FOLDER"]) / "imports").exists()
    with app.app_context():
        before = _counts()

    page = client.get(f"/admin/plan_import/preview/{token}/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "«Меридиан»" in body and "учителя-предметники" in body
    assert body.count('class="event-row') == 48
    with app.app_context():
        assert _counts() == before  # a preview writes nothing

    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 302
    assert f"school={ids['school31']}" in response.headers["Location"]
    assert _uploads(app) == []
    with app.app_context():
        after = _counts()
        # The demo plan is the seed: only the техникум's survey, written there on
        # several lines, is a new line (the demo joined them into one).
        assert after["Event"] == before["Event"] + 1
        assert after["Partner"] == before["Partner"]
    again = client.get(f"/admin/plan_import/preview/{token}/")
    assert again.status_code == 404


def test_unreadable_timings_and_row_errors_are_shown(app: Flask, client_as: Any, fresh_db: None) -> None:
    doc = Document()
    doc.add_paragraph("Муниципальное бюджетное учреждение «Музей»")
    table = doc.add_table(rows=3, cols=4)
    rows = (
        ("№ п/п", "Наименование мероприятия", "Сроки", "Ответственные"),
        ("1.", "Экскурсия", "по согласованию", "Учитель истории"),
        ("2.", "", "октябрь", "Учитель истории"),
    )
    for row, values in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    out = io.BytesIO()
    doc.save(out)
    client = client_as("school31")
    token = _token(upload(client, out.getvalue()))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    assert "table-warning" in body  # the timing it could not read
    assert "import-errors" in body
    with app.app_context():
        before = _counts()
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 400
    with app.app_context():
        assert _counts() == before


def test_a_similar_partner_must_be_chosen(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    data = (
        "Партнёр;№;Мероприятие;Сроки;Ответственные\n"
        "КемГУ;1;Олимпиада по журналистике;ноябрь;Учитель литературы\n"
    )
    client = client_as("admin")
    token = _token(upload(client, data.encode(), "план.csv", school=ids["gymnasium17"], year=2021))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    assert 'name="partner-0"' in body
    with app.app_context():
        before = _counts()
    refused = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert refused.status_code == 400
    with app.app_context():
        assert _counts() == before
    chosen = client.post(
        f"/admin/plan_import/confirm/{token}/",
        data={"csrf_token": csrf_token(body), "partner-0": str(ids["kemsu"])},
    )
    assert chosen.status_code == 302
    with app.app_context():
        event = db.session.execute(select(m.Event).filter_by(title="Олимпиада по журналистике")).scalar_one()
        assert (event.partner_id, event.school_id, event.state) == (
            ids["kemsu"],
            ids["gymnasium17"],
            "approved",
        )
        assert [p.name for p in event.responsible] == ["Учитель литературы"]
        assert _counts()["Partner"] == before["Partner"]


def test_a_partner_cannot_be_linked_to_one_not_offered(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    data = "Партнёр;№;Мероприятие;Сроки;Ответственные\nКемГУ;1;Олимпиада;ноябрь;Учитель литературы\n"
    client = client_as("admin")
    token = _token(upload(client, data.encode(), "план.csv", school=ids["gymnasium17"], year=2021))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    response = client.post(
        f"/admin/plan_import/confirm/{token}/",
        data={"csrf_token": csrf_token(body), "partner-0": str(ids["museum"])},
    )
    assert response.status_code == 400


def test_cancel_deletes_the_upload(app: Flask, school31_upload: tuple[FlaskClient, str]) -> None:
    client, token = school31_upload
    page = client.get(f"/admin/plan_import/preview/{token}/").text
    response = client.post(f"/admin/plan_import/cancel/{token}/", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert _uploads(app) == []


@pytest.mark.parametrize(
    ("data", "filename"),
    [(b"", "plan.docx"), (PNG, "plan.docx"), (b"x" * (5 * 1024 * 1024 + 1), "plan.csv")],
    ids=["empty", "png", "too-large"],
)
def test_bad_files_are_answered_on_the_form(app: Flask, client_as: Any, data: bytes, filename: str) -> None:
    client = client_as("school31")
    reply = upload(client, data, filename)
    assert reply.status_code == 400
    assert 'class="alert alert-danger"' in reply.get_data(as_text=True)
    assert _uploads(app) == []


def _programmes(school_id: int) -> list[tuple[int, int, str]]:
    stmt = select(m.Programme.first_year, m.Programme.last_year, m.Programme.state).where(
        m.Programme.school_id == school_id
    )
    return sorted(tuple(row) for row in db.session.execute(stmt))


def test_a_school_without_a_programme_for_the_year_gets_a_draft_one(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    """The preview says so; the import writes the draft programme with the plan."""
    client = client_as("school31")
    with app.app_context():
        before = _programmes(ids["school31"])
        events = _counts()["Event"]
    response = upload(client, seed_docx(), year=2030)
    token = _token(response)
    body = response.get_data(as_text=True)
    assert "будет создана программа-черновик" in body and "на 2019–2031" in body
    with app.app_context():
        assert _programmes(ids["school31"]) == before  # the preview writes nothing
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert _programmes(ids["school31"]) == sorted([*before, (2019, 2031, "draft")])
        assert _counts()["Event"] == events + 48


def test_a_failed_write_leaves_no_draft_programme(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_as("school31")
    with app.app_context():
        before = _programmes(ids["school31"])
        counts = _counts()
    response = upload(client, seed_docx(), year=2030)
    token = _token(response)
    body = response.get_data(as_text=True)

    def refused(*args: Any) -> Any:  # the database refuses a line after the programme was written
        raise IntegrityError("INSERT", {}, Exception("refused"))

    monkeypatch.setattr(importer, "_responsible", refused)
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 400
    assert "Ничего не импортировано" in response.get_data(as_text=True)
    with app.app_context():
        assert _programmes(ids["school31"]) == before
        assert _counts() == counts
