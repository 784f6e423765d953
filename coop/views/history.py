"""The history of every change, read-only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import models as m
from .base import SecuredModelView


class HistoryView(SecuredModelView):
    """Read-only: the policy grants no create, edit or delete on history."""

    can_export = True
    column_list = ["at", "user_email", "ip", "action", "table_name", "row_id", "summary", "comment"]
    column_filters = ["action", "table_name", "user_email", "at"]
    column_searchable_list = ["summary", "user_email", "comment"]
    column_sortable_list = ["at", "action", "table_name"]
    column_default_sort = ("id", True)
    column_details_list = [*column_list, "changes", "row_version"]


VIEWS = [(HistoryView, m.History, _l("History of changes"))]
