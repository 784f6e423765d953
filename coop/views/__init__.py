"""The admin site: one Admin per app, each area module contributing its views."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from ..security import csp_nonce
from . import (
    audit,
    calendar,
    catalogs,
    dashboard,
    directory,
    plan,
    plan_import,
    programmes,
    records,
    seminars,
    users,
)
from .home import HomeView

# In menu order.
AREAS = (
    programmes,
    plan,
    calendar,
    plan_import,
    seminars,
    audit,
    records,
    directory,
    catalogs,
    users,
    dashboard,
)


def init_app(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Coop",
        url="/admin",
        index_view=HomeView(name=_l("Home"), url="/admin", template="coop/home.html"),
        theme=Bootstrap4Theme(base_template="coop/master.html", swatch="default", fluid=True),
        translations_path=None,
        csp_nonce_generator=csp_nonce,
    )
    for area in AREAS:
        for view_class, model, name in area.VIEWS:
            admin.add_view(view_class(model, name=name, category=area.AREA, endpoint=model.__name__.lower()))
        for view_class, endpoint, name in getattr(area, "PAGES", ()):
            admin.add_view(view_class(name=name, category=area.AREA, endpoint=endpoint))
    return admin
