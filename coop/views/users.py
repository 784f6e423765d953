"""User accounts (admin only)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired, Email, Optional, ValidationError

from .. import models as m
from ..passwords import PasswordPolicy
from .base import SecuredModelView
from .loading import ajax_lookups


class UserView(SecuredModelView):
    list_template = "coop/users_list.html"  # with a link to invite a user
    column_list = ["email", "name", "role", "school", "partner", "active", "last_login_at"]
    column_searchable_list = ["email", "name"]
    column_filters = ["role", "active"]
    column_sortable_list = ["email", "role", "last_login_at"]
    column_select_related_list = [m.User.school, m.User.partner]
    form_ajax_refs = ajax_lookups("school", "partner")
    form_columns = [
        "email",
        "name",
        "role",
        "school",
        "partner",
        "active",
        "new_password",
        "must_change_password",
    ]
    form_extra_fields = {
        "new_password": PasswordField(
            _l("New password"),
            validators=[Optional(), PasswordPolicy("email", "name")],
            description=_l("Leave empty to keep the current password"),
        )
    }
    form_args = {
        "email": {"validators": [Email()]},
        "role": {"validators": [DataRequired(message=_l("Choose a role."))]},
        "must_change_password": {
            "description": _l("The user will have to replace it with their own at the next sign-in")
        },
    }
    column_details_exclude_list = ["password_hash", "unread_notifications", "saved_views_menu"]
    column_export_exclude_list = ["password_hash"]

    def create_form(self, obj: Any = None) -> Any:
        # A new account's role is a choice the admin makes: the select starts on a prompt,
        # not on the first role (which was «Администратор»).
        form = super().create_form(obj)
        form.role.allow_blank = True
        form.role.blank_text = gettext("Choose a role")
        return form

    def on_model_change(self, form: Any, user: m.User, is_created: bool) -> None:
        if user.role == "school" and user.school is None:
            raise ValidationError(gettext("A school user needs a school."))
        if user.role == "partner" and user.partner is None:
            raise ValidationError(gettext("A partner user needs a partner organisation."))
        if is_created and not form.new_password.data:
            raise ValidationError(gettext("Set a password for the new account."))
        # A new password, or the account disabled, ends its sessions (coop.sessions).
        if form.new_password.data:
            user.set_password(form.new_password.data)
        super().on_model_change(form, user, is_created)


class SignInView(SecuredModelView):
    """The sign-in log, read-only: the policy grants no create, edit or delete on it."""

    column_list = ["at", "email", "success", "reason", "ip", "user_agent"]
    column_filters = ["success", "reason", "email", "ip", "at"]
    column_searchable_list = ["email", "ip"]
    column_sortable_list = ["at", "email", "success", "reason"]
    column_default_sort = ("id", True)
    column_details_list = [*column_list, "user_id"]


VIEWS = [(UserView, m.User, _l("Users")), (SignInView, m.SignIn, _l("Sign-in log"))]
