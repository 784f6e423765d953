"""Fields and choice lists added in the site (coop/added_fields.py)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from .. import access
from .. import models as m
from .base import SecuredModelView
from .loading import ajax_lookups, school_filter

ITEMS_LIMIT = 500
ITEM_LENGTH = 255


class LinesField(TextAreaField):
    """A list of texts edited one per line: blank lines and repeats dropped."""

    def _value(self) -> str:
        return "\n".join(self.data or ())

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            lines = (line.strip() for line in str(valuelist[0]).splitlines())
            self.data = list(dict.fromkeys(line for line in lines if line))


def _items_fit(form: Any, field: Any) -> None:
    if not field.data:
        raise ValidationError(gettext("Write at least one choice, one per line."))
    if len(field.data) > ITEMS_LIMIT:
        raise ValidationError(gettext("At most %(count)d choices.", count=ITEMS_LIMIT))
    if any(len(item) > ITEM_LENGTH for item in field.data):
        raise ValidationError(gettext("A choice is at most %(count)d characters.", count=ITEM_LENGTH))


class ChoiceListView(SecuredModelView):
    column_list = ["name", "school", "items"]
    column_searchable_list = ["name"]
    column_sortable_list = ["name"]
    column_default_sort = "name"
    column_filters = [school_filter(m.ChoiceList.school_id)]
    column_formatters = {"items": lambda v, c, row, n: "; ".join(row.items or ())}
    column_formatters_detail = column_formatters
    form_columns = ["name", "items", "school"]
    form_ajax_refs = ajax_lookups("school")
    form_overrides = {"items": LinesField}
    form_args = {
        "name": {"validators": [InputRequired()]},
        "items": {
            "validators": [_items_fit],
            "description": _l("One choice per line. The text of a choice is what a record keeps."),
        },
        "school": {"description": _l("Empty: the municipality's list, offered to every school.")},
    }
    form_widget_args = {"items": {"rows": 8}}

    def _remove_owner_fields(self, form: Any) -> Any:
        # The coordinator's lists are the municipality's.
        if access.role_of(current_user) == access.COORDINATOR and hasattr(form, "school"):
            delattr(form, "school")
        return super()._remove_owner_fields(form)


class FieldDefinitionView(SecuredModelView):
    column_list = ["label", "model", "kind", "school", "group", "required", "in_list", "is_active"]
    column_searchable_list = ["label", "key"]
    column_sortable_list = ["label", "model", "kind", "group"]
    column_default_sort = "sort_order"
    column_filters = ["model", "kind", "is_active", school_filter(m.FieldDefinition.school_id)]
    form_columns = [
        *("model", "label", "label_en", "key", "kind", "choice_list", "required", "help_text"),
        *("group", "sort_order", "filled_by", "in_list", "in_plan_document", "is_active", "school"),
    ]
    column_details_list = form_columns
    form_ajax_refs = ajax_lookups("school")
    form_args = {
        "label": {"validators": [InputRequired()]},
        "model": {"validators": [InputRequired()], "description": _l("The records the field is added to.")},
        "kind": {"validators": [InputRequired()]},
        "key": {
            "description": _l(
                "The field's name in exports and the API: Latin lowercase letters, digits and «_». "
                "Empty: made from the label."
            ),
        },
        "choice_list": {"description": _l("For the kinds «One of a list» and «Several of a list».")},
        "group": {"description": _l("The heading the field appears under in the form.")},
        "sort_order": {
            "validators": [InputRequired(), NumberRange(min=0, max=100_000)],
            "description": _l("Fields with a smaller number come first, in the form, the page and the list."),
        },
        "filled_by": {"description": _l("The administrator can fill in every field.")},
        "in_list": {"description": _l("A column of its own in the list of records.")},
        "school": {"description": _l("Empty: a field of every school's records (the municipality's).")},
        "is_active": {"description": _l("A switched-off field is hidden; its values stay.")},
    }

    def _remove_owner_fields(self, form: Any) -> Any:
        # The coordinator proposes municipality-wide fields; the admin switches them on.
        if access.role_of(current_user) == access.COORDINATOR:
            for name in ("school", "is_active"):
                if hasattr(form, name):
                    delattr(form, name)
        return super()._remove_owner_fields(form)


VIEWS = [
    (FieldDefinitionView, m.FieldDefinition, _l("Added fields")),
    (ChoiceListView, m.ChoiceList, _l("Choice lists")),
]
