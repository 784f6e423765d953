"""Creating accounts outside the web (CLI, set-up scripts)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext
from sqlalchemy import func, select

from . import passwords
from .extensions import db
from .lookup import T, UnknownName, find, in_trash
from .models import ROLES, Partner, School, User


class UserError(ValueError):
    """Bad input for an account; str() is the message for the user."""


def _found_or_new(model: type[T], name: str) -> T:
    """The school or partner the name means, or a new one of that name."""
    try:
        return find(model, name)
    except UnknownName:
        # A name taken by a row in the trash: a new row of that name would clash with it.
        if in_trash(model, name):
            message = gettext("«%(name)s» is in the trash: restore it first.", name=name.strip())
            raise UserError(message) from None
        row = model(name=name.strip(), short_name=name.strip())
        db.session.add(row)
        return row


def create_user(
    *,
    email: str,
    password: str,
    role: str,
    school_name: str | None = None,
    partner_name: str | None = None,
    name: str = "",
) -> tuple[User, bool]:
    """Create (or update) an account; a school or partner that does not exist is created."""
    if role not in ROLES:
        raise UserError(gettext("Unknown role «%(role)s».", role=role))
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise UserError(gettext("Invalid e-mail: %(error)s", error=str(error))) from error
    reasons = passwords.problems(password, [email, name])
    if reasons:
        raise UserError(reasons[0])
    if role == "school" and not (school_name or "").strip():
        raise UserError(gettext("A school user needs --school."))
    if role == "partner" and not (partner_name or "").strip():
        raise UserError(gettext("A partner user needs --partner."))

    school = _found_or_new(School, school_name or "") if role == "school" else None
    partner = _found_or_new(Partner, partner_name or "") if role == "partner" else None
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one_or_none()
    created = user is None
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.role, user.school, user.partner = role, school, partner
    user.name = name or user.name or email
    user.set_password(password)  # a new password ends the old sessions (coop.sessions)
    db.session.commit()
    return user, created
