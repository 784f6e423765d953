"""The user's notifications (coop/notify.py writes them): newest first, marked read one
by one or all at once; the bell in the menu bar counts the unread ones. And how they
reach the user by mail, per kind (at once, a daily digest, or off)."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import notify, reminders
from ..extensions import db
from ..models import DELIVERIES, NOTIFICATION_KINDS, Notification, NotificationPreference, utcnow
from .base import SecuredView

PAGE_SIZE = 50


def unread_count() -> int:
    """The signed-in user's unread notifications: read with the user (models.User)."""
    if not current_user.is_authenticated:
        return 0
    return int(current_user.unread_notifications or 0)


def _own() -> Any:
    # The policy (coop/access.py: OWN_MESSAGES) scopes the rows too; stated for the reader.
    return (Notification.user_id == current_user.id) & Notification.in_site()


class NotificationsView(SecuredView):
    permission = "notification.view"

    def is_visible(self) -> bool:  # the bell in the menu bar leads here
        return False

    @expose("/")
    def index(self) -> str:
        stmt = select(Notification).where(_own()).order_by(Notification.id.desc()).limit(PAGE_SIZE)
        return self.render("coop/notifications.html", rows=db.session.execute(stmt).scalars().all())

    @expose("/read/", methods=("POST",))
    def read(self) -> Any:
        try:
            row_id = int(request.form.get("id", ""))
        except ValueError:
            abort(404)
        row = db.session.execute(select(Notification).where(_own(), Notification.id == row_id)).scalar()
        if row is None:
            abort(404)
        if row.read_at is None:
            row.read_at = utcnow()
            db.session.commit()
        flash(gettext("Marked as read."), "success")
        return redirect(url_for(".index"))

    @expose("/read-all/", methods=("POST",))
    def read_all(self) -> Any:
        stmt = update(Notification).where(_own(), Notification.read_at.is_(None)).values(read_at=utcnow())
        count = db.session.execute(stmt).rowcount  # type: ignore[attr-defined]
        db.session.commit()
        flash(gettext("Marked as read: %(count)d.", count=count), "success")
        return redirect(url_for(".index"))

    @expose("/settings/", methods=("GET", "POST"))
    def settings(self) -> Any:
        """Per kind the user's role can receive: at once, in the daily digest, or off."""
        kinds = reminders.kinds_for(current_user.role)
        stmt = select(NotificationPreference).where(NotificationPreference.user_id == current_user.id)
        saved = {row.kind: row for row in db.session.execute(stmt).scalars()}
        if request.method == "POST":
            chosen = {kind: request.form.get(kind, "") for kind in kinds}
            if any(value not in DELIVERIES for value in chosen.values()):
                flash(gettext("Choose how each kind of notification reaches you."), "error")
                return self._settings_page(kinds, chosen), 400
            for kind, value in chosen.items():
                if kind in saved:
                    saved[kind].delivery = value
                else:
                    db.session.add(NotificationPreference(user_id=current_user.id, kind=kind, delivery=value))
            try:
                db.session.commit()
            except IntegrityError:  # the same form sent twice at once: the other one saved it
                db.session.rollback()
            flash(gettext("Notification settings saved."), "success")
            return redirect(url_for(".settings"))
        return self._settings_page(
            kinds, {kind: saved[kind].delivery if kind in saved else notify.AT_ONCE for kind in kinds}
        )

    def _settings_page(self, kinds: list[str], chosen: dict[str, str]) -> str:
        rows = [(kind, NOTIFICATION_KINDS[kind], chosen[kind]) for kind in kinds]
        return self.render("coop/notification_settings.html", rows=rows, deliveries=DELIVERIES)


def init_app(app: Flask) -> None:
    app.add_template_global(unread_count, "unread_notifications")
