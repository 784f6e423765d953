"""Cooperation programmes and agreements."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from .. import models as m
from .base import SecuredModelView
from .loading import ajax_lookups, school_filter

# Integer fields within what the columns hold and what makes sense: PostgreSQL
# refuses a value beyond 32 bits with an error instead of a message.
YEAR = NumberRange(min=2000, max=2100)
COUNT = NumberRange(min=0, max=100_000)
REQUIRED_YEAR = {"validators": [InputRequired(), YEAR]}
OPTIONAL_YEAR = {"validators": [Optional(), YEAR]}
REQUIRED_COUNT = {"validators": [InputRequired(), COUNT]}


class NotBefore:
    """The end of a span (a year, a date) is not before its start, when both are given."""

    def __init__(self, start: str) -> None:
        self.start = start

    def __call__(self, form: Any, field: Any) -> None:
        start = form[self.start].data if self.start in form else None
        if start is not None and field.data is not None and field.data < start:
            raise ValidationError(
                gettext("Must not be earlier than «%(start)s».", start=form[self.start].label.text)
            )


class LinksOfThisSchool:
    """On the school field: the programme, agreement, event or seminar the record links
    belongs to the school chosen. (A school user's form has no school field, and its
    pickers offer only its own rows.) On the school field because a link left out of
    the post keeps its old value, and the link's own Optional() would drop an error."""

    def __init__(self, *links: str) -> None:
        self.links = links

    def __call__(self, form: Any, field: Any) -> None:
        for name in self.links:
            linked = form[name].data if name in form else None
            if field.data is not None and linked is not None and linked.school_id != field.data.id:
                raise ValidationError(
                    gettext("«%(link)s» belongs to another school.", link=form[name].label.text)
                )


NETWORK_FIELDS = [
    "programme_kind",
    "programme_level",
    "programme_focus",
    "student_status",
    "responsibilities",
    "issued_documents",
    "term",
]


class ProgrammeView(SecuredModelView):
    column_list = ["school", "title", "first_year", "last_year", "state", "innovation_status"]
    column_searchable_list = ["title", "goal"]
    column_filters = ["first_year", "last_year", "state"]
    column_sortable_list = ["title", "first_year", "state"]
    column_select_related_list = [m.Programme.school]
    form_columns = [
        "school",
        "title",
        "first_year",
        "last_year",
        "innovation_status",
        "rationale",
        "goal",
        "tasks",
        "results_municipal",
        "results_students",
        "results_teachers",
        "results_parents",
    ]
    column_details_list = form_columns
    form_args = {
        "first_year": REQUIRED_YEAR,
        "last_year": {"validators": [*REQUIRED_YEAR["validators"], NotBefore("first_year")]},
    }


class AgreementView(SecuredModelView):
    attachments = True  # the signed document, evidence, minutes: see coop/uploads.py
    column_list = ["school", "partner", "agreement_type", "number", "signed_on", "valid_to", "state"]
    column_searchable_list = ["number", "subject"]
    column_filters = [
        "agreement_type",
        "state",
        "signed_on",
        "valid_to",
        school_filter(m.Agreement.school_id),
    ]
    column_sortable_list = ["number", "signed_on", "valid_to", "state"]
    column_select_related_list = [m.Agreement.school, m.Agreement.partner]
    form_ajax_refs = ajax_lookups("partner", "programme")
    form_columns = [
        "school",
        "partner",
        "programme",
        "agreement_type",
        "number",
        "signed_on",
        "valid_from",
        "valid_to",
        "subject",
        "levels",
        "fgos_results",
        *NETWORK_FIELDS,
    ]
    column_details_list = form_columns
    form_args = {
        "school": {"validators": [LinksOfThisSchool("programme")]},
        "valid_to": {"validators": [NotBefore("valid_from")]},
    }
    column_descriptions = {
        "programme_kind": _l("Network form only (art. 15 of 273-FZ)"),
    }


VIEWS = [
    (ProgrammeView, m.Programme, _l("Programmes")),
    (AgreementView, m.Agreement, _l("Agreements")),
]
