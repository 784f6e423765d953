"""Invitations (coop/invitations.py): the list of those sent (the admin's: all; a school's:
its users'), a form to send one, and revoking one that still waits."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from .. import access, invitations, tokens
from ..auth import normalize_email
from ..extensions import db
from ..lookup import parse_id
from ..models import Token
from .base import SecuredView

PAGE_SIZE = 200


class InvitationForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(message=_l("Enter an e-mail address.")), Length(max=255)],
        filters=[normalize_email],
    )
    name = StringField(
        _l("Their name"), validators=[Length(max=255)], description=_l("Optional: they may correct it")
    )
    whom = SelectField(
        _l("Invite as"),
        validators=[DataRequired(message=_l("Choose whom to invite."))],
        # Checked by the policy (the view), which says why: not only "not one of the choices".
        validate_choice=False,
    )


class InvitationsView(SecuredView):
    permission = "invitation.view"

    @expose("/")
    def index(self) -> str:
        # The policy (coop/access.py: Token) lets through invitations only, and a school's only.
        stmt = select(Token).where(Token.purpose == "invitation").order_by(Token.id.desc()).limit(PAGE_SIZE)
        rows = db.session.execute(stmt).scalars().all()
        return self.render(
            "coop/invitations.html",
            rows=rows,
            about=invitations.describe_all(list(rows)),
            status={row.id: invitations.status(row) for row in rows},
            statuses=invitations.STATUSES,
            may_invite=access.can(current_user, "invitation.create"),
        )

    @expose("/new/", methods=("GET", "POST"))
    def new(self) -> Any:
        if not access.can(current_user, "invitation.create"):
            abort(403)
        form = InvitationForm()
        form.whom.choices = invitations.whom_choices(current_user)
        if form.validate_on_submit():
            whom = invitations.Whom.parse(form.whom.data)
            if whom is None or not access.can(current_user, "invitation.create", whom):
                form.whom.errors = [gettext("You cannot invite to this role or organisation.")]
                return self.render("coop/invitation_form.html", form=form)
            try:
                invitations.invite(current_user, form.email.data, form.name.data or "", whom)
            except invitations.InvitationRefused as refused:
                db.session.rollback()
                form.email.errors = [*form.email.errors, str(refused)]
            else:
                db.session.commit()
                flash(
                    gettext("The invitation has been sent to %(email)s.", email=form.email.data.strip()),
                    "success",
                )
                return redirect(url_for(".index"))
        return self.render("coop/invitation_form.html", form=form)

    @expose("/revoke/", methods=("POST",))
    def revoke(self) -> Any:
        row_id = parse_id(request.form.get("id"))
        row = db.session.execute(select(Token).where(Token.id == row_id)).scalar() if row_id else None
        if row is None:
            abort(404)
        access.require(current_user, "invitation.revoke", row)
        if invitations.status(row) == "pending":
            tokens.revoke("invitation", id=row.id)
            db.session.commit()
            flash(gettext("The invitation to %(email)s has been revoked.", email=row.email), "success")
        else:
            flash(gettext("This invitation no longer waits: nothing to revoke."), "info")
        return redirect(url_for(".index"))


PAGES = [(InvitationsView, "invitations", _l("Invitations"))]
