"""The trash: what was deleted, restored by its owner, emptied only by an admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, trash
from ..extensions import db
from .base import SecuredView


class TrashView(SecuredView):
    permission = "trash.view"

    @expose("/")
    def index(self) -> str:
        return self.render(
            "coop/trash.html",
            batches=trash.batches(),
            may_purge=access.can(current_user, "trash.purge"),
        )

    @expose("/restore/", methods=("POST",))
    def restore(self) -> Any:
        return self._on_batch("restore", trash.restore, gettext("Restored: %(count)d."))

    @expose("/purge/", methods=("POST",))
    def purge(self) -> Any:
        return self._on_batch("purge", trash.purge, gettext("Deleted for good: %(count)d."))

    def _on_batch(self, action: str, apply: Callable[[str], int], done: str) -> Any:
        """Restore or purge the posted batch, if the policy lets the user (trash.<action>)."""
        if not access.can(current_user, f"trash.{action}"):
            abort(403)
        count = apply(_batch_arg())
        if not count:
            abort(404)
        db.session.commit()
        flash(done % {"count": count}, "success")
        return redirect(url_for(".index"))


def _batch_arg() -> str:
    batch = request.form.get("batch", "")
    if not batch.isalnum() or len(batch) > 32:
        abort(404)
    return batch


PAGES = [(TrashView, "trash", _l("Trash"))]
