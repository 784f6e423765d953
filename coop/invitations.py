"""Invitations: an account made by the person it is for, from a link sent by mail.

A school invites a colleague (role school, its own school) or a representative of a
partner it has an agreement with (role partner, that partner); the admin invites anyone
with any role. Who may invite whom is the policy's (coop/access.py, "invitation.create");
this module offers the choices the policy allows, sends the link (coop/tokens.py, 7 days,
used once) and, at /invitation/<secret>, makes the account with the name and the password
the person chooses, and signs them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import access, labels, notify, passwords, tokens
from .auth import normalize_email, sign_in
from .extensions import db
from .models import Partner, School, Token, User, utcnow
from .tenancy import as_system

bp = Blueprint("invitation", __name__)

STATUSES = {
    "pending": _l("Waiting"),
    "accepted": _l("Accepted"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}


# What an invitation invites to, as its message and page say it: "… invites you to Coop <phrase>".
ROLE_PHRASES = {
    access.ADMIN: _l("as an administrator of the site."),
    access.COORDINATOR: _l("as a municipal coordinator."),
    access.SCHOOL: _l("as a staff member of %(tenant)s."),
    access.PARTNER: _l("as a representative of the partner organisation %(tenant)s."),
}


class InvitationRefused(Exception):
    """An invitation that cannot be sent or accepted; str() says why, for the person."""


@dataclass(frozen=True)
class Whom:
    """The account an invitation makes: a role and its tenant (what the policy judges)."""

    role: str
    school_id: int | None = None
    partner_id: int | None = None

    @property
    def value(self) -> str:
        tenant = self.school_id or self.partner_id
        return f"{self.role}:{tenant}" if tenant else self.role

    @classmethod
    def parse(cls, value: object) -> Whom | None:
        """The form's value back: "admin", "coordinator", "school:12", "partner:5"."""
        if not isinstance(value, str):
            return None
        role, _, tenant = value.partition(":")
        if role in (access.ADMIN, access.COORDINATOR) and not tenant:
            return cls(role)
        if role in (access.SCHOOL, access.PARTNER) and tenant.isdigit() and len(tenant) < 10:
            return cls(role, int(tenant), None) if role == access.SCHOOL else cls(role, None, int(tenant))
        return None


def whom_choices(user: Any) -> dict[str, list[tuple[str, str]]]:
    """What the user may invite to, grouped for a select: the roles and tenants the policy
    allows them (the schools and partners are those the user sees)."""
    schools = db.session.execute(select(School).order_by(School.name)).scalars()
    partners = db.session.execute(select(Partner).order_by(Partner.name)).scalars()
    groups: dict[str, list[tuple[Whom, str]]] = {
        gettext("Site roles"): [
            (Whom(role), labels.choice_label(User, "role", role))
            for role in (access.ADMIN, access.COORDINATOR)
        ],
        gettext("School staff"): [
            (Whom(access.SCHOOL, school.id), school.short_name or school.name) for school in schools
        ],
        gettext("Partner representatives"): [
            (Whom(access.PARTNER, None, partner.id), partner.short_name or partner.name)
            for partner in partners
        ],
    }
    allowed = {
        group: [(whom.value, label) for whom, label in options if access.can(user, "invitation.create", whom)]
        for group, options in groups.items()
    }
    return {group: options for group, options in allowed.items() if options}


def account_exists(email: str) -> bool:
    """Whether an account (in the trash too) has this e-mail, whoever asks."""
    stmt = select(User.id).where(func.lower(User.email) == normalize_email(email))
    options = {"skip_scope": True, "include_deleted": True}
    return db.session.execute(stmt, execution_options=options).first() is not None


def invite(inviter: Any, email: str, name: str, whom: Whom) -> Token:
    """Queue an invitation from inviter, in the caller's transaction: InvitationRefused for
    an e-mail that has an account, AccessDenied for whom the inviter may not invite. An
    earlier invitation to the same address that still waits is revoked: one live link."""
    access.require(inviter, "invitation.create", whom)
    email = normalize_email(email)
    if account_exists(email):
        raise InvitationRefused(
            gettext("An account with the e-mail %(email)s already exists: nothing was sent.", email=email)
        )
    tokens.revoke("invitation", email=email)
    token, secret = tokens.issue(
        "invitation",
        email=email,
        name=name.strip(),
        role=whom.role,
        school_id=whom.school_id,
        partner_id=whom.partner_id,
        created_by_id=inviter.id,
    )
    notify.send_direct(
        "invitation",
        email,
        "invitation",
        {**describe(token), "name": token.name},
        link=notify.absolute_url("invitation.accept", secret=secret),
        school_id=whom.school_id,
    )
    return token


def status(token: Token) -> str:
    """A key of STATUSES: a used invitation with an account made is accepted, without one revoked."""
    if token.used_at is not None:
        return "accepted" if token.user_id is not None else "revoked"
    return "expired" if token.expires_at <= utcnow() else "pending"


def _names(model: Any, ids: set[int | None]) -> dict[int, str]:
    """Names of the rows an invitation points at, read as the system: the invitation was
    let through by the policy, and its people and organisations are named with it."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    with as_system():
        rows = db.session.execute(select(model).where(model.id.in_(wanted))).scalars()
        if model is User:
            return {row.id: str(row) for row in rows}
        return {row.id: row.short_name or row.name for row in rows}


def describe_all(rows: list[Token]) -> dict[int, dict[str, str]]:
    """For each invitation: whom it invites to what, and who sent it."""
    schools = _names(School, {row.school_id for row in rows})
    partners = _names(Partner, {row.partner_id for row in rows})
    users = _names(User, {row.created_by_id for row in rows})
    described = {}
    for row in rows:
        tenant = schools.get(row.school_id or 0) or partners.get(row.partner_id or 0) or ""
        described[row.id] = {
            "role": labels.choice_label(User, "role", row.role),
            "tenant": tenant,
            "what": str(ROLE_PHRASES[row.role or access.ADMIN]) % {"tenant": tenant},
            "inviter": users.get(row.created_by_id or 0, ""),
        }
    return described


def describe(token: Token) -> dict[str, str]:
    return describe_all([token])[token.id]


class AcceptForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=255)])
    new_password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)],
        description=_l("At least %(n)d characters; not a common password", n=passwords.MIN_LENGTH),
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


def accept_invitation(token: Token, name: str, password: str) -> User:
    """Make the invited account, in the caller's transaction, and use the link."""
    if account_exists(token.email):
        raise InvitationRefused(
            gettext(
                "An account with the e-mail %(email)s already exists. Sign in or recover its password.",
                email=token.email,
            )
        )
    with as_system():
        tokens.use(token)  # TokenRefused("used") if another request was first
        user = User(
            email=token.email,
            name=name.strip(),
            role=token.role,
            school_id=token.school_id,
            partner_id=token.partner_id,
            active=True,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        token.user_id = user.id  # the invitation reads "accepted" (status)
        db.session.flush()
    return user


@bp.route("/invitation/<secret>", methods=["GET", "POST"])
def accept(secret: str) -> Any:
    token = tokens.find("invitation", secret)
    form = AcceptForm(data={"name": token.name} if request.method == "GET" else None)
    if form.validate_on_submit():
        reasons = passwords.problems(form.new_password.data, [token.email, form.name.data])
        if reasons:
            form.new_password.errors = [*form.new_password.errors, *reasons]
        else:
            try:
                user = accept_invitation(token, form.name.data, form.new_password.data)
            except InvitationRefused as refused:
                db.session.rollback()
                flash(str(refused), "error")
                return redirect(url_for("auth.login"))
            with as_system():
                db.session.commit()
                sign_in(user, user.email)
            flash(gettext("Welcome to Coop! Your account has been created."), "info")
            return redirect(url_for("admin.index"))
    elif request.method == "POST" and form.csrf_token.errors:
        flash(gettext("The form has expired. Please try again."), "error")
    return render_template("coop/invitation_accept.html", form=form, token=token, about=describe(token))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
