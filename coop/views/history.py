"""The history of every change, read-only."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from .. import history
from .. import models as m
from .base import SecuredModelView


def _who(view: Any, context: Any, entry: m.History, name: str) -> str:
    return view.history_author(entry)[0]


def _changes(view: Any, context: Any, entry: m.History, name: str) -> Markup:
    """The entry's changes as its row's page lists them: «Школа: — → МБОУ «СОШ № 31»»."""
    history.name_references([entry])
    return Markup("").join(
        Markup('<div><span class="text-muted">{}:</span> {} → {}</div>').format(label, before, after)
        for label, before, after in history.shown_changes(entry.table_name, entry.changes or {})
    ) or escape("—")


def table_names() -> list[tuple[str, Any]]:
    """Each table by the name of its section in the menu («Мероприятия», not «events»)."""
    from . import MENU  # here, not above: the menu's module imports this one

    return [
        (model.__tablename__, name)
        for _area, modules in MENU
        for module in modules
        for _view, model, name in getattr(module, "VIEWS", ())
    ]


class HistoryView(SecuredModelView):
    """Read-only: the policy grants no create, edit or delete on history."""

    can_export = True
    column_list = ["at", "user_email", "ip", "action", "table_name", "row_id", "summary", "comment"]
    column_filters = ["action", "table_name", "user_email", "at"]
    column_searchable_list = ["summary", "user_email", "comment"]
    column_sortable_list = ["at", "action", "table_name"]
    column_default_sort = ("id", True)
    column_details_list = [*column_list, "changes"]
    column_formatters = {"user_email": _who, "changes": _changes}
    column_formatters_export = {"user_email": _who}

    def __init__(self, model: type, **kwargs: Any) -> None:
        self.column_choices = {"table_name": table_names()}
        super().__init__(model, **kwargs)


VIEWS = [(HistoryView, m.History, _l("History of changes"))]
