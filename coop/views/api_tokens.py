"""«API tokens»: the signed-in user's personal tokens of the read API /api/v1/
(coop/api_tokens.py keeps their rules): made here with a name and a lifetime, shown
once, listed with when they were made, last used and expire, and revoked by a button."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, make_response, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from .. import api_tokens, api_v1
from ..extensions import db
from ..lookup import parse_id
from ..models import ApiToken, utcnow
from .base import AdminForm, SecuredView

# How long a new token lives, in days (the longest is api_tokens.LONGEST_LIFETIME).
LIFETIMES = {
    "30": _l("30 days"),
    "90": _l("90 days"),
    "365": _l("1 year"),
    "730": _l("2 years"),
    "1095": _l("3 years"),
}
assert max(int(days) for days in LIFETIMES) == api_tokens.LONGEST_LIFETIME.days


class TokenForm(AdminForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Name the token: what will use it.")), Length(max=100)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description=_l("What will read with it, e.g. «Municipal reporting system»."),
    )
    lifetime = SelectField(_l("Valid for"), choices=list(LIFETIMES.items()), default="365")


class ApiTokensView(SecuredView):
    permission = "apitoken.view"

    def is_visible(self) -> bool:  # the user menu in the menu bar leads here
        return False

    def _page(self, form: TokenForm, secret: str | None = None, status: int = 200) -> Any:
        # The policy (coop/access.py: OWN_API_TOKENS) keeps them the user's own.
        stmt = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        rows = [(row, api_tokens.state(row)) for row in db.session.execute(stmt).scalars()]
        page = self.render(
            "coop/api_tokens.html",
            form=form,
            rows=rows,
            secret=secret,
            urls=api_v1.urls(current_user),
            openapi=url_for("api_v1.openapi", _external=True),
        )
        return page if status == 200 else (page, status)

    @expose("/")
    def index(self) -> Any:
        return self._page(TokenForm())

    @expose("/new/", methods=("POST",))
    def create(self) -> Any:
        form = TokenForm(formdata=request.form)
        if not form.validate_on_submit():
            return self._page(form, status=400)
        expires = utcnow() + dt.timedelta(days=int(form.lifetime.data))
        _, secret = api_tokens.issue(current_user, form.name.data, expires)
        db.session.commit()
        flash(gettext("The token is made. Copy it now: it is shown only once."), "success")
        # Shown in this answer only, never kept: not in the session, not in a redirect, not in a cache.
        page = make_response(self._page(TokenForm(formdata=None), secret=secret))
        page.headers["Cache-Control"] = "no-store"
        return page

    @expose("/revoke/", methods=("POST",))
    def revoke(self) -> Any:
        token_id = parse_id(request.form.get("id"))
        token = None
        if token_id is not None:
            token = db.session.execute(select(ApiToken).where(ApiToken.id == token_id)).scalar()
        if token is None:
            abort(404)
        api_tokens.revoke(token)
        db.session.commit()
        flash(
            gettext("The token «%(name)s» is revoked: it opens nothing from now on.", name=token.name),
            "success",
        )
        return redirect(url_for(".index"))
