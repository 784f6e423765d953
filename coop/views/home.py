"""The home page: the dashboard for those who audit (admin, coordinator, a school),
links to the sections for everyone else."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from .. import access
from .base import SecuredMixin, SecuredModelView
from .dashboard import dashboard_context


class HomeView(SecuredMixin, AdminIndexView):
    permission = "home.view"

    @expose("/")
    def index(self) -> str:
        if access.can(current_user, "dashboard.view"):
            return self.render("coop/dashboard.html", home_links=self._links(), **dashboard_context())
        return self.render(self._template, home_links=self._links())

    def _links(self) -> list[dict[str, Any]]:
        """The list views the user may open, in menu order."""
        return [
            {"name": view.name, "category": view.category, "url": url_for(f"{view.endpoint}.index_view")}
            for view in self.admin._views
            if isinstance(view, SecuredModelView) and view.is_accessible()
        ]
