"""Saved views on the screen (coop/saved_views.py holds their rules): the control under
every list that saves its state, the links that open one, export it or read it as a
calendar, the page that renames and deletes them, and their links in the menu, under
the list they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, flash, g, has_request_context, redirect, request, url_for
from flask_admin import Admin, expose
from flask_admin.menu import BaseMenu, MenuCategory, MenuLink, MenuView
from flask_babel import gettext
from flask_login import current_user

from .. import access, saved_views, trash
from .. import models as m
from ..access import AccessDenied
from ..extensions import db
from ..lookup import parse_id
from ..saved_views import SavedViewError
from .base import SecuredView


@dataclass(frozen=True)
class Shown:
    """A saved view as a list page, the menu or the page of saved views show it."""

    row: Any  # saved_views.MenuEntry, or models.SavedView on the page of saved views
    url: str  # opens the list with its state
    mine: bool


def shown_views() -> list[Shown]:
    """The saved views the user's menu lists, of lists they may open: read with the user
    (saved_views.menu_entries), no statement of their own."""
    if not has_request_context() or not current_user.is_authenticated:
        return []
    if "_coop_saved_views" not in g:
        g._coop_saved_views = _shown(saved_views.menu_entries(current_user))
    return list(g._coop_saved_views)


def _shown(rows: Any) -> list[Shown]:
    found: list[Shown] = []
    views: dict[str, Any] = {}
    for row in rows:
        if row.endpoint not in views:
            views[row.endpoint] = saved_views.list_view(row.endpoint, current_user)
        if views[row.endpoint] is not None:
            url = saved_views.list_url(views[row.endpoint], row)
            found.append(Shown(row, url, row.user_id == current_user.id))
    return found


@dataclass(frozen=True)
class ListControl:
    """What a list page shows of saved views (coop/_saved_views.html)."""

    endpoint: str
    views: list[Shown]
    active: Shown | None
    shares: list[tuple[str, str]]
    columns: list[tuple[str, str, bool]]  # name, label, shown now
    query: str
    exports: list[tuple[str, str]]  # type, URL: the active view's export


def list_control(view: Any) -> ListControl:
    """The saved views of this list and the form that saves its state (a template global)."""
    here = [shown for shown in shown_views() if shown.row.endpoint == view.endpoint]
    active_id = parse_id(request.args.get(saved_views.VIEW_ARG, ""))
    active = next((shown for shown in here if shown.row.id == active_id), None)
    shown_now = {name for name, _label in view._list_columns}
    shares = access.SHARES.get(access.role_of(current_user) or "", ())
    exports = []
    if active is not None and view.can_export:
        exports = [
            (kind, url_for("savedviews.export", export_type=kind, id=active.row.id))
            for kind in view.export_types
        ]
    return ListControl(
        endpoint=view.endpoint,
        views=here,
        active=active,
        shares=[(code, str(m.SAVED_VIEW_VISIBILITY[code])) for code in shares],
        columns=[(name, label, name in shown_now) for name, label in saved_views.columns_of(view)],
        query=request.query_string.decode("utf-8", "replace"),
        exports=exports,
    )


class SavedViewsView(SecuredView):
    """Saving, opening, exporting, renaming and deleting saved views, and their feeds."""

    permission = "savedview.view"

    def is_visible(self) -> bool:  # each list's control leads here
        return False

    def _get(self) -> m.SavedView:
        """The saved view named by ?id= if the user sees it; 404 for any other id."""
        pk = parse_id(request.args.get("id", ""))
        if pk is None:
            abort(404)
        query = access.scope(db.session.query(m.SavedView), current_user, m.SavedView)
        row = query.filter(m.SavedView.id == pk).one_or_none()
        if row is None:
            abort(404)
        return row

    def _mine(self, action: str) -> m.SavedView:
        row = self._get()
        if not access.can(current_user, f"savedview.{action}", row):
            abort(403)
        return row

    @expose("/")
    def index(self) -> str:
        query = access.scope(db.session.query(m.SavedView), current_user, m.SavedView)
        shown = _shown(query.order_by(m.SavedView.endpoint, m.SavedView.name, m.SavedView.id))
        lists = {
            shown.row.endpoint: saved_views.list_view(shown.row.endpoint, current_user) for shown in shown
        }
        return self.render(
            "coop/saved_views.html",
            shown=shown,
            lists={endpoint: view.name for endpoint, view in lists.items() if view is not None},
            feeds=saved_views.FEED_ENDPOINTS,
            visibility=m.SAVED_VIEW_VISIBILITY,
            name_max=saved_views.NAME_MAX,
        )

    @expose("/save/", methods=("POST",))
    def save(self) -> Any:
        endpoint = request.form.get("endpoint", "")
        view = saved_views.list_view(endpoint, current_user)
        back = url_for(f"{endpoint}.index_view") if view is not None else url_for("admin.index")
        query = request.form.get("query", "")
        try:
            saved = saved_views.make(
                current_user,
                endpoint,
                request.form.get("name"),
                request.form.get("visibility"),
                query,
                request.form.getlist("columns"),
            )
            db.session.add(saved)
            db.session.commit()
        except (SavedViewError, AccessDenied) as error:
            db.session.rollback()
            message = (
                str(error) if isinstance(error, SavedViewError) else gettext("You may not save this view.")
            )
            flash(gettext("The view is not saved: %(reason)s", reason=message), "error")
            return redirect(back + ("?" + query if query and view is not None else ""))
        flash(gettext("The view «%(name)s» is saved.", name=saved.name), "success")
        return redirect(saved_views.list_url(view, saved))

    @expose("/open/")
    def open(self) -> Any:
        row = self._get()
        view = saved_views.list_view(row.endpoint, current_user)
        if view is None:
            abort(404)
        return redirect(saved_views.list_url(view, row))

    @expose("/export/<export_type>/")
    def export(self, export_type: str) -> Any:
        row = self._get()
        view = saved_views.list_view(row.endpoint, current_user)
        if view is None or not view.can_export or export_type not in view.export_types:
            abort(404)
        return redirect(saved_views.export_url(view, row, export_type))

    @expose("/rename/", methods=("POST",))
    def rename(self) -> Any:
        row = self._mine("edit")
        try:
            saved_views.rename(current_user, row, request.form.get("name"))
            db.session.commit()
        except SavedViewError as error:
            db.session.rollback()
            flash(gettext("The view is not renamed: %(reason)s", reason=str(error)), "error")
        else:
            flash(gettext("The view is renamed: «%(name)s».", name=row.name), "success")
        return redirect(url_for(".index"))

    @expose("/delete/", methods=("POST",))
    def delete(self) -> Any:
        row = self._mine("delete")
        name = row.name
        trash.discard(row)
        db.session.commit()
        flash(gettext("The view «%(name)s» is moved to the trash.", name=name), "success")
        return redirect(url_for(".index"))

    @expose("/feed/", methods=("POST",))
    def feed(self) -> Any:
        """A new calendar link for a saved view of the events; the old one stops working.
        The link is shown once: only its hash is kept."""
        row = self._mine("feed")
        if row.endpoint not in saved_views.FEED_ENDPOINTS:
            abort(404)
        secret = saved_views.issue_feed(row)
        db.session.commit()
        url = url_for("feeds.saved_view", secret=secret, _external=True)
        flash(
            gettext(
                "The calendar link of «%(name)s» (copy it now: it is shown only once; "
                "the previous link no longer works): %(url)s",
                name=row.name,
                url=url,
            ),
            "success",
        )
        return redirect(url_for(".index"))

    @expose("/feed/revoke/", methods=("POST",))
    def revoke_feed(self) -> Any:
        row = self._mine("feed")
        saved_views.revoke_feed(row)
        db.session.commit()
        flash(gettext("The calendar link of «%(name)s» no longer works.", name=row.name), "success")
        return redirect(url_for(".index"))


# --- the menu --------------------------------------------------------------------------


class SavedViewLink(MenuLink):
    """A saved view in the menu, right under its list."""

    def __init__(self, shown: Shown) -> None:
        super().__init__(shown.row.name, url=shown.url, class_name="coop-saved-view")


class MenuWithSavedViews(Admin):
    """The admin whose menu lists, under each list, the saved views the user sees (built
    per request, only for a user who has some)."""

    def menu(self) -> list[Any]:
        items = super().menu()
        shown = shown_views()
        if not shown:
            return items
        by_endpoint: dict[str, list[Shown]] = {}
        for one in shown:
            by_endpoint.setdefault(one.row.endpoint, []).append(one)
        return [_with_saved(item, by_endpoint) if item.is_category() else item for item in items]


def _with_saved(category: BaseMenu, by_endpoint: dict[str, list[Shown]]) -> BaseMenu:
    copy = MenuCategory(category.name, category.class_name, category.icon_type, category.icon_value)
    for child in category._children:
        copy._children.append(child)
        endpoint = getattr(getattr(child, "_view", None), "endpoint", None)
        if isinstance(child, MenuView) and endpoint in by_endpoint:
            copy._children.extend(SavedViewLink(one) for one in by_endpoint[endpoint])
    return copy


def init_app(app: Flask) -> None:
    app.add_template_global(list_control, "saved_views_of")
