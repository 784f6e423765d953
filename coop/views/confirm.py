"""The page a partner's contact opens from the school's message, without an account:
/confirm/<secret> (coop/confirmations.py holds the rule; this page only shows and asks).

Outside the admin: nobody signs in here, and the link alone says which line and which year
the page may show and write. The form is the school's own (coop/views/outcomes.py), its
year fixed to the link's whatever is posted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from .. import confirmations, tokens, uploads, workflow
from ..timing import academic_year_label
from .outcomes import FORMS

bp = Blueprint("confirm", __name__, url_prefix="/confirm")


def _form(outcome: str, year: int) -> Any:
    """The outcome's form for the link's year: the year is the link's, whatever is posted."""
    formdata = None
    if request.method == "POST":
        fixed: MultiDict[str, Any] = MultiDict({"year": str(year)})
        formdata = CombinedMultiDict([fixed, request.files, request.form])
    form = FORMS[outcome](formdata)
    form.year.choices = [(year, academic_year_label(year))]
    form.year.data = year
    return form


@bp.route("/<secret>", methods=("GET", "POST"))
def page(secret: str) -> Any:
    try:
        link = confirmations.open_link(secret)
    except tokens.TokenRefused as refused:
        status = 404 if refused.reason == "unknown" else 410
        return render_template("coop/confirm.html", refused=refused.message), status
    outcome = request.args.get("outcome", "")
    if link.state != "open" or outcome not in FORMS:
        # A second report by the same link, or one after the school's decision: nothing changes.
        status = 409 if request.method == "POST" else 200
        closed = confirmations.CLOSED.get(link.state)
        return render_template("coop/confirm.html", link=link, closed=closed), status
    form = _form(outcome, link.year)
    error = None
    if request.method == "POST" and form.validate():
        try:
            confirmations.submit(link, outcome, form)
        except uploads.UploadError as refused_file:
            form.evidence_file.errors = [*form.evidence_file.errors, str(refused_file)]
        except workflow.WorkflowError as refused:
            error = str(refused)
        else:  # the page now says the report awaits the school
            return redirect(url_for(".page", secret=secret))
    return render_template(
        "coop/confirm.html",
        link=link,
        form=form,
        outcome=confirmations.outcome_named(outcome),
        error=error,
        back=url_for(".page", secret=secret),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
