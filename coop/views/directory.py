"""Schools and the shared partner directory."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import models as m
from .. import search
from .base import SecuredModelView
from .loading import ajax_lookups, relation_filter


class SchoolView(SecuredModelView):
    column_list = ["short_name", "name", "city", "director", "email", "phone"]
    column_searchable_list = search.fields_of(m.School)
    column_filters = ["city"]
    column_sortable_list = ["short_name", "city"]
    column_default_sort = "short_name"
    form_columns = ["name", "short_name", "city", "address", "director", "email", "phone"]


class PartnerView(SecuredModelView):
    column_list = ["short_name", "name", "kind", "sphere", "city", "contact_person", "phone"]
    column_searchable_list = search.fields_of(m.Partner)
    column_filters = ["sphere", relation_filter(m.Partner.kind_id), "city"]
    column_sortable_list = ["short_name", "sphere", "city"]
    column_default_sort = "short_name"
    form_columns = [
        "name",
        "short_name",
        "kind",
        "sphere",
        "city",
        "address",
        "contact_person",
        "phone",
        "email",
        "website",
        "description",
    ]
    column_details_list = [*form_columns, "resources"]


class PartnerResourceView(SecuredModelView):
    column_list = ["partner", "title", "description"]
    column_searchable_list = search.fields_of(m.PartnerResource)
    column_sortable_list = ["title"]
    column_select_related_list = [m.PartnerResource.partner]
    form_ajax_refs = ajax_lookups("partner")
    form_columns = ["partner", "title", "description"]


VIEWS = [
    (SchoolView, m.School, _l("Schools")),
    (PartnerView, m.Partner, _l("Partners")),
    (PartnerResourceView, m.PartnerResource, _l("Partners' resources")),
]
