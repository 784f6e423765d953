"""Seminars of the four cycles and the limitations they found."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import models as m
from .. import search
from .base import SecuredModelView
from .loading import LinkedFilter, ajax_lookups, school_filter
from .validators import REQUIRED_COUNT, LinksOfThisSchool


class SeminarView(SecuredModelView):
    attachments = True  # the signed document, evidence, minutes: see coop/uploads.py
    column_list = ["school", "cycle", "held_on", "topic", "participants_count"]
    column_searchable_list = search.fields_of(m.Seminar)
    column_filters = [
        "cycle",
        "held_on",
        school_filter(m.Seminar.school_id),
        LinkedFilter(m.Seminar.partners),
    ]
    column_sortable_list = ["cycle", "held_on", "topic"]
    column_default_sort = ("held_on", True)
    column_select_related_list = [m.Seminar.school]
    form_ajax_refs = ajax_lookups("school", "programme", "partners")
    form_columns = [
        "school",
        "programme",
        "cycle",
        "held_on",
        "topic",
        "partners",
        "participants",
        "participants_count",
        "minutes",
        "decisions",
        "documents",
    ]
    column_details_list = [*form_columns, "limitations"]
    form_args = {
        "school": {"validators": [LinksOfThisSchool("programme")]},
        "participants_count": REQUIRED_COUNT,
    }


class LimitationView(SecuredModelView):
    column_list = ["school", "title", "seminar", "resource"]
    column_searchable_list = search.fields_of(m.Limitation)
    column_filters = [school_filter(m.Limitation.school_id)]
    column_select_related_list = [m.Limitation.school, m.Limitation.seminar, m.Limitation.resource]
    # The resource's own title: its full name would load its partner row by row.
    column_formatters = {"resource": lambda v, c, row, n: row.resource.title if row.resource else ""}
    form_columns = ["school", "title", "description", "seminar", "resource"]
    form_ajax_refs = ajax_lookups("school", "seminar", "resource")
    form_args = {"school": {"validators": [LinksOfThisSchool("seminar")]}}


VIEWS = [
    (SeminarView, m.Seminar, _l("Seminars")),
    (LimitationView, m.Limitation, _l("School's limitations")),
]
