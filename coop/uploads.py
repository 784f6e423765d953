"""Files attached to a school's rows: checked by content, their bytes kept in the
database (models.stored_file_contents: every app server serves them, and a backup of
the database holds them), served only through the access policy and only as
downloads, never rendered inline: under the extension of the type the content was
checked as (whatever name it came with), with a sandboxing Content-Security-Policy
of its own."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import zipfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, redirect, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import insert, select
from werkzeug.datastructures import FileStorage
from wtforms.validators import ValidationError

from . import models as m
from .extensions import db
from .security import DOWNLOAD_CSP

bp = Blueprint("files", __name__, url_prefix="/files")

MAX_FILE_BYTES = 20 * 1024 * 1024
# Kinds accepted, by what the bytes are (never by the name the user gave).
PDF, DOCX, XLSX, PNG, JPEG = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/png",
    "image/jpeg",
)
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", XLSX: ".xlsx", PNG: ".png", JPEG: ".jpg"}
# Other spellings of the same type, kept as the user wrote them.
ALSO = {JPEG: (".jpeg", ".jpe")}


class UploadError(ValueError):
    """A refused file; str() is the message for the user."""


def detect_type(data: bytes) -> str:
    """The content type the bytes really are, or UploadError."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile as error:
            raise UploadError(gettext("The file is damaged: its archive cannot be opened.")) from error
        if any(name.endswith("vbaProject.bin") for name in names):
            raise UploadError(gettext("Files with macros are not accepted: save it as .docx or .xlsx."))
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    raise UploadError(gettext("Accepted files: PDF, Word (.docx), Excel (.xlsx), PNG and JPEG images."))


def download_name(name: str, content_type: str) -> str:
    """The name a file is offered under: its extension is the one of the type its
    content was checked as. A name given another extension (or none) gets it in
    place of its own: «Отчёт.hta» holding a PDF is offered as «Отчёт.pdf»."""
    extension = EXTENSIONS[content_type]
    path = Path(name)
    if path.suffix.lower() in (extension, *ALSO.get(content_type, ())):
        return name
    stem = path.stem if path.suffix else name
    return f"{stem or 'file'}{extension}"


def _checked(upload: FileStorage) -> tuple[bytes, str]:
    """The upload's bytes and the type they are, or UploadError."""
    data = upload.read(MAX_FILE_BYTES + 1)
    if not data:
        raise UploadError(gettext("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise UploadError(gettext("The file is larger than %(mb)d MB.", mb=MAX_FILE_BYTES // 2**20))
    return data, detect_type(data)


class CheckedFile:
    """A form's file field: a chosen file is one store() accepts (checked, not yet kept),
    so that a refused file is said under its field before anything is written."""

    def __call__(self, form: Any, field: Any) -> None:
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            return
        try:
            _checked(upload)
        except UploadError as error:
            raise ValidationError(str(error)) from error
        finally:
            upload.stream.seek(0)


def chosen(upload: Any) -> FileStorage | None:
    """The file a form's file field was given, if one was chosen."""
    return upload if isinstance(upload, FileStorage) and upload.filename else None


def store(upload: FileStorage, owner: Any) -> m.StoredFile:
    """Check and keep an uploaded file for a row; the caller commits."""
    data, content_type = _checked(upload)
    stored_name = secrets.token_hex(16) + EXTENSIONS[content_type]
    # The name is only shown and offered on download; control characters and
    # path separators go.
    name = "".join(c for c in Path(upload.filename or "").name if c.isprintable())[:200] or "file"
    name = download_name(name, content_type)
    row = m.StoredFile(
        school_id=owner.school_id,
        owner_table=owner.__tablename__,
        owner_id=owner.id,
        original_name=name,
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.session.add(row)
    db.session.flush()  # the row's id names its bytes; the policy checked the row here
    db.session.execute(insert(m.stored_file_contents).values(stored_file_id=row.id, data=data))
    return row


def content(row: m.StoredFile) -> bytes | None:
    """The bytes of a stored file the caller has loaded (through the policy); None if
    they are missing (a file lost on disk before migration 0019_files_in_db)."""
    table = m.stored_file_contents
    stmt = select(table.c.data).where(table.c.stored_file_id == row.id)
    data = db.session.execute(stmt).scalar_one_or_none()
    return bytes(data) if data is not None else None  # PostgreSQL's bytea comes as memoryview


def attached_to(owner: Any) -> list[m.StoredFile]:
    stmt = (
        select(m.StoredFile)
        .where(m.StoredFile.owner_table == owner.__tablename__, m.StoredFile.owner_id == owner.id)
        .order_by(m.StoredFile.id)
    )
    return list(db.session.execute(stmt).scalars())


@bp.get("/<int:file_id>")
def download(file_id: int) -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    # The ORM applies the policy: another school's file simply is not found.
    row = db.session.execute(select(m.StoredFile).where(m.StoredFile.id == file_id)).scalar_one_or_none()
    if row is None:
        abort(404)
    data = content(row)
    if data is None:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=row.content_type,
        as_attachment=True,  # images and PDF too: nothing of a user's opens inside the site
        download_name=download_name(row.original_name, row.content_type),  # rows stored before too
        # As a file on disk was served: validators for the browser's cache, ranges answered.
        etag=row.sha256,
        last_modified=row.created_at.replace(tzinfo=dt.UTC),
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
