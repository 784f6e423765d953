"""The coordinator's audit remarks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import models as m
from .. import search
from .base import SecuredModelView
from .loading import ajax_lookups, narrowing_widget_args, school_filter
from .validators import LinksOfThisSchool


class RemarkView(SecuredModelView):
    column_list = ["school", "text", "programme", "agreement", "event", "state", "created_at"]
    column_searchable_list = search.fields_of(m.Remark)
    column_filters = ["state", "created_at", school_filter(m.Remark.school_id)]
    column_sortable_list = ["state", "created_at"]
    column_default_sort = ("created_at", True)
    column_select_related_list = [m.Remark.school, m.Remark.programme, m.Remark.agreement, m.Remark.event]
    # The agreement's number: its full name would load its school and partner row by row.
    column_formatters = {"agreement": lambda v, c, row, n: row.agreement.number if row.agreement else ""}
    # The pickers offer the chosen school's rows (coop/static/narrow-lookups.js sends the
    # school); a link to another school's row is refused on the school field.
    form_ajax_refs = ajax_lookups("school") | ajax_lookups(
        "programme", "agreement", "event", narrow_by="school"
    )
    form_widget_args = narrowing_widget_args("programme", "agreement", "event", by="school")
    # State and the school's answer change only through the workflow (coop/workflow.py).
    form_columns = ["school", "programme", "agreement", "event", "text"]
    form_args = {"school": {"validators": [LinksOfThisSchool("programme", "agreement", "event")]}}
    column_details_list = [*form_columns, "response", "state", "created_at"]
    # The school answers on the details page, in a multi-line box.
    details_template = "coop/remark_details.html"


VIEWS = [(RemarkView, m.Remark, _l("Remarks"))]
