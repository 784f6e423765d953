"""Attached files: checked by content, stored by random names, served through the policy."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db

from .conftest import csrf_token

pytestmark = pytest.mark.usefixtures("fresh_db")

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _agreement(app: Flask, school_id: int) -> int:
    with app.app_context():
        return db.session.execute(select(m.Agreement.id).filter_by(school_id=school_id)).scalars().first()


def _attach(client: Any, agreement: int, data: bytes, name: str) -> Any:
    page = client.get(f"/admin/agreement/details/?id={agreement}")
    return client.post(
        f"/admin/agreement/attach/?id={agreement}",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _files(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(m.StoredFile)).scalar_one()


def test_a_school_attaches_a_document_that_only_it_and_the_auditors_can_download(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("school31")
    agreement = _agreement(app, ids["school31"])
    response = _attach(school, agreement, PDF, "Договор № 1.pdf")
    assert response.status_code == 302
    details = school.get(f"/admin/agreement/details/?id={agreement}").get_data(as_text=True)
    file_id = int(re.search(r"/files/(\d+)", details).group(1))
    with app.app_context():
        stored = db.session.get(m.StoredFile, file_id)
        assert "Договор" not in stored.stored_name
        # The bytes are in the database, for every app server; nothing on this one's disk.
        table = m.stored_file_contents
        data = db.session.execute(select(table.c.data).where(table.c.stored_file_id == file_id)).scalar_one()
        assert bytes(data) == PDF
        assert not (Path(app.config["UPLOAD_FOLDER"]) / "files").exists()
    download = school.get(f"/files/{file_id}")
    body = download.data
    download.close()
    assert download.status_code == 200 and body == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(PDF))
    # Validators and ranges, as a file served from disk had them.
    assert download.headers["ETag"] == f'"{stored.sha256}"' and download.headers["Last-Modified"]
    assert download.headers["Accept-Ranges"] == "bytes"
    again = school.get(f"/files/{file_id}", headers={"If-None-Match": download.headers["ETag"]})
    assert again.status_code == 304
    part = school.get(f"/files/{file_id}", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.data == PDF[:4]
    by_coordinator = client_as("coordinator").get(f"/files/{file_id}")
    by_coordinator.close()
    assert by_coordinator.status_code == 200
    assert client_as("gymnasium17").get(f"/files/{file_id}").status_code == 404
    assert client_as("kemsu").get(f"/files/{file_id}").status_code == 404
    assert "/login" in client_as("anonymous").get(f"/files/{file_id}").headers["Location"]


def _docm() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/vbaProject.bin", b"\x00macro")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "evil.pdf", "PDF"),
        (b"", "empty.pdf", "пуст"),
        (_docm(), "plan.docx", "макрос"),
        (b"PK\x03\x04broken", "broken.docx", "поврежд"),
    ],
)
def test_bad_files_are_refused_with_a_message(
    app: Flask, client_as: Any, ids: dict[str, int], data: bytes, name: str, message: str
) -> None:
    client = client_as("school31")
    response = _attach(client, _agreement(app, ids["school31"]), data, name)
    assert response.status_code == 302
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _files(app) == 0


def test_no_attaching_to_another_schools_row_or_without_rights(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    foreign = _agreement(app, ids["gymnasium17"])
    client = client_as("school31")
    token = csrf_token(client.get("/admin/agreement/").text)
    response = client.post(
        f"/admin/agreement/attach/?id={foreign}",
        data={"csrf_token": token, "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    coordinator = client_as("coordinator")
    own = _agreement(app, ids["school31"])
    token = csrf_token(coordinator.get("/admin/agreement/").text)
    response = coordinator.post(
        f"/admin/agreement/attach/?id={own}",
        data={"csrf_token": token, "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert _files(app) == 0


@pytest.mark.parametrize(
    "key", ["anonymous", "admin", "coordinator", "school31", "gymnasium17", "kemsu", "museum"]
)
def test_unknown_file_id(client_as: Any, key: str) -> None:
    assert client_as(key).get("/files/999999").status_code == (302 if key == "anonymous" else 404)
