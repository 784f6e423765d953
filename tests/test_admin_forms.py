"""The admin's user form and the messages a rejected form shows (issue 11, item 11 and 5)."""

from __future__ import annotations

import re

import pytest
from flask import Flask, request
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from coop import models as m
from coop.extensions import db
from coop.views.base import AdminForm
from tests.conftest import csrf_token


def _user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(m.User)).scalar_one()


def _role_select(html: str) -> str:
    match = re.search(r'<select[^>]*id="role"[^>]*>(.*?)</select>', html, re.S)
    assert match, "no role select"
    return match.group(0)


def test_a_new_users_role_starts_empty_with_a_prompt(client_as) -> None:
    page = client_as("admin").get("/admin/user/new/")
    select_html = _role_select(page.text)
    assert "required" in select_html.split(">", 1)[0]
    assert '<option selected value="__None">Выберите роль</option>' in select_html
    assert select_html.count("selected") == 1


def test_a_user_without_a_role_is_refused_in_russian(app: Flask, client_as, fresh_db: None) -> None:
    client = client_as("admin")
    page = client.get("/admin/user/new/")
    before = _user_count(app)
    response = client.post(
        "/admin/user/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "email": "norole@coop.example",
            "name": "Без роли",
            "role": "__None",
            "new_password": "Kd8-wq!pZr3x",
            "active": "y",
        },
    )
    assert response.status_code == 200
    assert "Выберите роль" in response.text
    assert "Failed" not in response.text
    assert _user_count(app) == before


@pytest.mark.parametrize("url", ["/admin/user/new/", "/admin/user/edit/?id={id}"])
def test_a_rejected_form_says_so_in_russian(app: Flask, client_as, fresh_db: None, url: str) -> None:
    """Flask-Admin's «Failed to create record.» / «Failed to save record.» are missing
    from its shipped Russian catalog: coop/translations/ru/LC_MESSAGES/admin.po has them."""
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="kemsu@coop.example")).scalar_one()
        user_id, partner_id = user.id, user.partner_id
    client = client_as("admin")
    url = url.format(id=user_id)
    page = client.get(url)
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(page.text),
            "email": "not an address",
            "name": "Имя",
            "role": "partner",
            "partner": str(partner_id),
            "new_password": "Kd8-wq!pZr3x",
            "active": "y",
        },
    )
    assert response.status_code == 200
    assert "Failed to" not in response.text
    assert "исправьте отмеченные поля" in response.text


class _NameForm(AdminForm):
    name = StringField()


def test_a_form_given_no_formdata_stays_empty_in_a_post(app: Flask) -> None:
    """The token page shows a fresh form after a token is made (its POST): what was posted
    must not fill a form built with formdata=None, as Flask-WTF's own default would."""
    with app.test_request_context("/", method="POST", data={"name": "Ключ для отчёта"}):
        assert _NameForm(formdata=None).name.data is None
        assert _NameForm(formdata=request.form).name.data == "Ключ для отчёта"


def test_a_forms_prefix_and_initial_values_reach_its_fields(app: Flask) -> None:
    """A data request's answer form is filled with the saved answers as keyword arguments."""
    with app.test_request_context("/"):
        form = _NameForm(prefix="answer", name="Иван")
        assert form.name.name == "answer-name"
        assert form.name.data == "Иван"
        assert _NameForm().name.name == "name"


def test_no_field_keeps_a_nul_character(app: Flask) -> None:
    """PostgreSQL refuses NUL in text: every form's fields drop it as they read the post."""
    with app.test_request_context("/"):
        form = _NameForm(formdata=MultiDict({"name": "Ив\x00ан"}))
        assert form.name.data == "Иван"
