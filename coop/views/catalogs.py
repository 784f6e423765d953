"""Choice lists an admin edits: kinds, levels, audiences, positions, ФГОС results."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired, NumberRange

from .. import models as m
from .base import SecuredModelView


class CatalogView(SecuredModelView):
    column_list = ["name", "sort_order", "is_active"]
    column_searchable_list = ["name"]
    column_sortable_list = ["name", "sort_order"]
    column_default_sort = "sort_order"
    form_columns = ["name", "sort_order", "is_active"]
    form_args = {"sort_order": {"validators": [InputRequired(), NumberRange(min=0, max=100_000)]}}


class CodedCatalogView(CatalogView):
    column_list = ["code", "name", "sort_order", "is_active"]
    form_columns = ["code", "name", "sort_order", "is_active"]


class EducationLevelView(CatalogView):
    column_list = ["code", "name", "grades", "sort_order"]
    form_columns = ["code", "name", "grades", "sort_order", "is_active"]


class FgosResultView(CatalogView):
    column_list = ["code", "group", "subgroup", "title", "is_active"]
    column_searchable_list = ["title", "group", "subgroup"]
    column_filters = ["group", "subgroup"]
    column_sortable_list = ["code", "group", "sort_order"]
    form_columns = ["code", "group", "subgroup", "title", "sort_order", "is_active"]


VIEWS = [
    (CatalogView, m.PartnerKind, _l("Kinds of partners")),
    (CatalogView, m.EventKind, _l("Kinds of events")),
    (CatalogView, m.EventLevel, _l("Levels of events")),
    (CodedCatalogView, m.Audience, _l("Audiences")),
    (CatalogView, m.Position, _l("Responsible positions")),
    (EducationLevelView, m.EducationLevel, _l("Education levels")),
    (FgosResultView, m.FgosResult, _l("FGOS results")),
]
