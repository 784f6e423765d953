"""Cooperation programmes and agreements."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import models as m
from .. import search
from .base import SecuredModelView
from .loading import ajax_lookups, school_filter, used_filter
from .validators import REQUIRED_YEAR, LinksOfThisSchool, NotBefore

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
    column_searchable_list = search.fields_of(m.Programme)
    column_filters = ["first_year", "last_year", "state", school_filter(m.Programme.school_id)]
    column_sortable_list = ["title", "first_year", "state"]
    column_select_related_list = [m.Programme.school]
    form_ajax_refs = ajax_lookups("school")
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
    column_searchable_list = search.fields_of(m.Agreement)
    column_filters = [
        "agreement_type",
        "state",
        "signed_on",
        "valid_to",
        school_filter(m.Agreement.school_id),
        used_filter(m.Agreement.partner_id),
    ]
    column_sortable_list = ["number", "signed_on", "valid_to", "state"]
    column_select_related_list = [m.Agreement.school, m.Agreement.partner]
    form_ajax_refs = ajax_lookups("school", "partner", "programme")
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
