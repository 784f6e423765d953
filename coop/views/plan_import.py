"""Importing a network plan from a file: upload → preview → confirm.

The uploaded file waits between the preview and the confirmation in the database
(models.StagedImport: any app server shows the preview and takes the confirmation),
found by a random token (never by the name the user gave it), only by the user who
uploaded it (the policy), and deleted once the plan is imported or the import
cancelled; leftovers go after a day.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.orm import undefer

from .. import models as m
from ..extensions import db
from ..formats import month_name
from ..models import utcnow
from ..plan_io import importer
from ..plan_io import template as plan_template
from ..plan_io.imported import PlanFileError
from ..tenancy import as_system
from ..timing import ACADEMIC_MONTHS, ACADEMIC_YEARS, academic_year_label, academic_year_of
from .base import SecuredView
from .pickers import school_for, visible_schools

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
KEEP_UPLOADS = dt.timedelta(days=1)


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
        asked = _int(request.form.get("school"))
        school = school_for(asked, visible_schools(asked))
        year = _int(request.form.get("year"))
        file = request.files.get("file")
        if school is None or year is None:
            return self._upload_form(gettext("Choose the school and the academic year.")), 400
        if file is None or not file.filename:
            return self._upload_form(gettext("Choose the plan's file: .docx, .xlsx or .csv.")), 400
        data = file.stream.read(importer.MAX_BYTES + 1)
        try:
            importer.read_plan(data, file.filename, school)  # a file that is no plan is answered here
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
        school_id, year = upload.school_id, upload.year
        _delete(upload)
        flash(str(result), "success")
        return redirect(url_for("calendar.index", school=school_id, year=year))

    @expose("/cancel/<token>/", methods=("POST",))
    def cancel(self, token: str) -> Any:
        _delete(_load(token))
        flash(gettext("The import was cancelled; nothing was written."), "info")
        return redirect(url_for(".index"))

    def _upload_form(self, error: str = "", school: m.School | None = None, year: int | None = None) -> str:
        schools = visible_schools(school.id if school else None)
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

    def _preview_page(self, upload: m.StagedImport, preview: importer.Preview, error: str = "") -> str:
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


def _prepare(upload: m.StagedImport, choices: Mapping[str, str]) -> importer.Preview:
    school = db.session.get(m.School, upload.school_id)  # the ORM applies the policy
    if school is None:
        abort(404)
    try:
        plan = importer.read_plan(bytes(upload.data), upload.filename, school)
        return importer.prepare(plan, school, upload.year, choices)
    except (PlanFileError, importer.ImportRefused):
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


def _store(data: bytes, school_id: int, year: int, filename: str) -> m.StagedImport:
    _sweep()
    upload = m.StagedImport(
        token=secrets.token_hex(16),
        user_id=current_user.id,
        school_id=school_id,
        year=year,
        filename=filename[-200:],
        data=data,
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def _load(token: str) -> m.StagedImport:
    """The upload behind a token, only for the user who made it (the policy), with its
    bytes; 404 otherwise, and once it is older than a day."""
    if not TOKEN_RE.match(token):
        abort(404)
    stmt = select(m.StagedImport).where(m.StagedImport.token == token).options(undefer(m.StagedImport.data))
    upload = db.session.execute(stmt).scalar_one_or_none()
    if upload is None or upload.user_id != current_user.id or upload.created_at < utcnow() - KEEP_UPLOADS:
        abort(404)
    return upload


def _delete(upload: m.StagedImport) -> None:
    db.session.delete(upload)
    db.session.commit()


def _sweep() -> None:
    """Remove uploads left over from imports never confirmed nor cancelled, whoever's."""
    with as_system():
        db.session.execute(delete(m.StagedImport).where(m.StagedImport.created_at < utcnow() - KEEP_UPLOADS))


VIEWS: list = []  # model views: none here
PAGES = [(ImportView, "plan_import", _l("Import a plan"))]
