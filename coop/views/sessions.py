"""«My sessions»: the signed-in user's own open sessions (coop/sessions.py keeps them),
each ended by a button, or all but this one at once."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from .. import sessions
from ..extensions import db
from ..models import UserSession
from .base import SecuredView


def _own() -> Any:
    # The policy (coop/access.py: OWN_SESSIONS) scopes the rows too; stated for the reader.
    return (UserSession.user_id == current_user.id) & sessions.live()


class SessionsView(SecuredView):
    permission = "usersession.view"

    def is_visible(self) -> bool:  # the user menu in the menu bar leads here
        return False

    @expose("/")
    def index(self) -> str:
        current = sessions.current_key_hash()
        stmt = select(UserSession).where(_own()).order_by(UserSession.last_seen_at.desc())
        # This session first, then the others by their last request.
        rows = sorted(db.session.execute(stmt).scalars(), key=lambda row: row.key_hash != current)
        return self.render("coop/sessions.html", rows=rows, current=current)

    @expose("/end/", methods=("POST",))
    def end(self) -> Any:
        try:
            row_id = int(request.form.get("id", ""))
        except ValueError:
            abort(404)
        row = db.session.execute(select(UserSession).where(_own(), UserSession.id == row_id)).scalar()
        if row is None:
            abort(404)
        db.session.delete(row)
        db.session.commit()
        flash(gettext("The session has ended."), "success")
        return redirect(url_for(".index"))

    @expose("/end-others/", methods=("POST",))
    def end_others(self) -> Any:
        count = sessions.end_all(current_user, keep_current=True)
        db.session.commit()
        flash(gettext("Other sessions ended: %(count)d.", count=count), "success")
        return redirect(url_for(".index"))
