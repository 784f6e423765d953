"""Importing a network plan from a file: upload → preview → confirm.

The uploaded file waits between the preview and the confirmation under
instance/uploads/imports/, named by a random token (never by the name the user
gave it), readable only by the user who uploaded it, and deleted once the plan
is imported or the import cancelled; leftovers go after a day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import models as m
from ..extensions import db
from ..formats import month_name
from ..plan_io import importer
from ..plan_io import template as plan_template
from ..plan_io.imported import PlanFileError
from ..timing import ACADEMIC_MONTHS, ACADEMIC_YEARS, academic_year_label, academic_year_of
from .base import SecuredView
from .pickers import school_for, visible_schools

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
KEEP_UPLOADS = dt.timedelta(days=1)


@dataclass(frozen=True)
class Upload:
    token: str
    user_id: int
    school_id: int
    year: int
    filename: str  # as the user named it: shown, never used as a path

    @property
    def data_path(self) -> Path:
        return _folder() / f"{self.token}.upload"

    @property
    def meta_path(self) -> Path:
        return _folder() / f"{self.token}.json"


class ImportView(SecuredView):
    permission = "plan.import"

    @expose("/")
    def index(self) -> Any:
        return self._upload_form()

    @expose("/template.<fmt>")
    def template(self, fmt: str) -> Response:
        """A plan to fill in, in the form the import reads: Word or Excel."""
        if fmt not in plan_template.FORMATS:
            abort(404)
        return Response(
            plan_template.template(fmt),
            mimetype=plan_template.FORMATS[fmt],
            headers={"Content-Disposition": f"attachment; filename=network-plan-template.{fmt}"},
        )

    @expose("/upload/", methods=("POST",))
    def upload(self) -> Any:
        # A school user sees only its own school: schools import into their own plan.
        school = school_for(_int(request.form.get("school")), visible_schools())
        year = _int(request.form.get("year"))
        file = request.files.get("file")
        if school is None or year is None:
            return self._upload_form(gettext("Choose the school and the academic year.")), 400
        if file is None or not file.filename:
            return self._upload_form(gettext("Choose the plan's file: .docx, .xlsx or .csv.")), 400
        data = file.stream.read(importer.MAX_BYTES + 1)
        try:
            importer.read_plan(data, file.filename)  # a file that is no plan is answered here
        except (PlanFileError, importer.ImportRefused) as error:
            return self._upload_form(str(error), school=school, year=year), 400
        upload = _store(data, school.id, year, file.filename)
        return redirect(url_for(".preview", token=upload.token))

    @expose("/preview/<token>/")
    def preview(self, token: str) -> Any:
        upload = _load(token)
        return self._preview_page(upload, _prepare(upload, request.args))

    @expose("/confirm/<token>/", methods=("POST",))
    def confirm(self, token: str) -> Any:
        upload = _load(token)
        preview = _prepare(upload, request.form)
        try:
            result = importer.apply(preview)
        except importer.ImportRefused as error:
            return self._preview_page(upload, preview, str(error)), 400
        _delete(upload)
        flash(str(result), "success")
        return redirect(url_for("calendar.index", school=upload.school_id, year=upload.year))

    @expose("/cancel/<token>/", methods=("POST",))
    def cancel(self, token: str) -> Any:
        _delete(_load(token))
        flash(gettext("The import was cancelled; nothing was written."), "info")
        return redirect(url_for(".index"))

    def _upload_form(self, error: str = "", school: m.School | None = None, year: int | None = None) -> str:
        schools = visible_schools()
        years = _programme_years()
        today = academic_year_of(dt.date.today())
        return self.render(
            "coop/import_upload.html",
            error=error,
            schools=schools,
            school=school,
            years=years,
            year=year or (today if today in years else (years[0] if years else None)),
            year_label=academic_year_label,
            max_mb=importer.MAX_BYTES // 2**20,
        )

    def _preview_page(self, upload: Upload, preview: importer.Preview, error: str = "") -> str:
        audiences = {a.code: a.name for a in db.session.execute(select(m.Audience)).scalars()}
        return self.render(
            "coop/import_preview.html",
            upload=upload,
            preview=preview,
            summary=importer.summary(preview),
            error=error,
            audiences=audiences,
            months=[(month, month_name(month)) for month in ACADEMIC_MONTHS],
            new_choice=importer.NEW,
        )


def _prepare(upload: Upload, choices: Mapping[str, str]) -> importer.Preview:
    school = db.session.get(m.School, upload.school_id)  # the ORM applies the policy
    if school is None:
        abort(404)
    try:
        plan = importer.read_plan(upload.data_path.read_bytes(), upload.filename)
        return importer.prepare(plan, school, upload.year, choices)
    except (OSError, PlanFileError, importer.ImportRefused):
        abort(404)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _programme_years() -> list[int]:
    """Academic years of the programmes the user sees, and the years around this one:
    a school with no programme for the year gets a draft one with its plan."""
    spans = db.session.execute(select(m.Programme.first_year, m.Programme.last_year)).all()
    today = academic_year_of(dt.date.today())
    years = {year for first, last in spans for year in range(first, last + 1)}
    years.update(range(today - 5, today + 2))
    return sorted(year for year in years if year in ACADEMIC_YEARS)


# --- the uploaded file between preview and confirmation ----------------------------------


def _folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "imports"


def _store(data: bytes, school_id: int, year: int, filename: str) -> Upload:
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    upload = Upload(secrets.token_hex(16), current_user.id, school_id, year, filename[-200:])
    upload.data_path.write_bytes(data)
    upload.meta_path.write_text(
        json.dumps(
            {"user": upload.user_id, "school": school_id, "year": year, "filename": upload.filename},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return upload


def _load(token: str) -> Upload:
    """The upload behind a token, only for the user who made it; 404 otherwise."""
    if not TOKEN_RE.match(token):
        abort(404)
    path = _folder() / f"{token}.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        upload = Upload(
            token, int(meta["user"]), int(meta["school"]), int(meta["year"]), str(meta["filename"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        abort(404)
    if upload.user_id != current_user.id or not upload.data_path.exists():
        abort(404)
    return upload


def _delete(upload: Upload) -> None:
    for path in (upload.data_path, upload.meta_path):
        path.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Remove uploads left over from imports never confirmed nor cancelled."""
    limit = dt.datetime.now().timestamp() - KEEP_UPLOADS.total_seconds()
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue


VIEWS: list = []  # model views: none here
PAGES = [(ImportView, "plan_import", _l("Import a plan"))]
