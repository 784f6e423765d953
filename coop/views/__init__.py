"""The admin site: one Admin per app, each area module contributing its views."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from ..security import csp_nonce
from . import (
    calendar,
    catalogs,
    confirm,
    dashboard,
    data_requests,
    directory,
    fields,
    history,
    invitations,
    mail_files,
    notifications,
    plan,
    plan_import,
    programmes,
    remarks,
    saved_views,
    seminars,
    trash,
    users,
)
from .api_tokens import ApiTokensView
from .home import HomeView
from .notifications import NotificationsView
from .saved_views import MenuWithSavedViews, SavedViewsView
from .sessions import SessionsView
from .site_search import SiteSearchView

# The menu: each area and the modules whose views (VIEWS, PAGES) it holds, in order.
MENU = (
    (_l("Programme"), (programmes,)),
    (_l("Network plan"), (plan, calendar, plan_import)),
    (_l("Seminars"), (seminars,)),
    # The data requests' generated forms (reached from their page, not from the menu).
    (_l("Audit"), (remarks, history, trash, dashboard, data_requests)),
    (_l("Directory"), (directory,)),
    (_l("Catalogs"), (catalogs, fields)),
    (_l("Administration"), (users, invitations, mail_files)),
)


def init_app(app: Flask) -> MenuWithSavedViews:
    admin = MenuWithSavedViews(
        app,
        name="Coop",
        url="/admin",
        index_view=HomeView(name=_l("Home"), url="/admin", template="coop/home.html"),
        theme=Bootstrap4Theme(base_template="coop/master.html", swatch="default", fluid=True),
        # Flask-Admin's messages its own Russian catalog lacks (ru/LC_MESSAGES/admin.po).
        translations_path=str(Path(__file__).resolve().parent.parent / "translations"),
        csp_nonce_generator=csp_nonce,
    )
    for area, modules in MENU:
        for module in modules:
            for view_class, model, name in getattr(module, "VIEWS", ()):
                admin.add_view(view_class(model, name=name, category=area, endpoint=model.__name__.lower()))
            for view_class, endpoint, name in getattr(module, "PAGES", ()):
                admin.add_view(view_class(name=name, category=area, endpoint=endpoint))
    # Not in a menu: the bell in the menu bar (coop/master.html) leads there.
    admin.add_view(NotificationsView(name=_l("Notifications"), endpoint="notifications"))
    # Not in a menu either: the user menu in the menu bar leads there.
    admin.add_view(SessionsView(name=_l("My sessions"), endpoint="sessions"))
    admin.add_view(ApiTokensView(name=_l("API tokens"), endpoint="apitokens"))
    # Not in a menu either: the search box in the menu bar leads there.
    admin.add_view(SiteSearchView(name=_l("Search"), endpoint="search", url="/search"))
    # Not in a menu either: each list's saved views control leads there.
    admin.add_view(SavedViewsView(name=_l("Saved views"), endpoint="savedviews"))
    notifications.init_app(app)
    saved_views.init_app(app)
    confirm.init_app(app)  # outside the admin: a partner's contact opens it without an account
    return admin
