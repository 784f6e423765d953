"""Invitations (coop/invitations.py, coop/views/invitations.py): a school invites a colleague
or a partner it has an agreement with, the admin anyone; the link makes the account."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from coop import access, invitations
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token

GOOD_PASSWORD = "шесть зелёных слонов"
LINK_RE = re.compile(r"http://[^\s]+(/invitation/[A-Za-z0-9_-]+)")

pytestmark = pytest.mark.usefixtures("fresh_db")


def _invite(client: FlaskClient, email: str, whom: str, name: str = "Мария Иванова") -> Any:
    page = client.get("/admin/invitations/new/")
    assert page.status_code == 200
    return client.post(
        "/admin/invitations/new/",
        data={"email": email, "name": name, "whom": whom, "csrf_token": csrf_token(page.text)},
    )


def _messages(app: Flask, email: str) -> list[m.Notification]:
    with app.app_context():
        stmt = select(m.Notification).where(
            m.Notification.email == email, m.Notification.kind == "invitation"
        )
        return list(db.session.execute(stmt.order_by(m.Notification.id)).scalars())


def _link(app: Flask, email: str) -> str:
    message = _messages(app, email)[-1]
    match = LINK_RE.search(message.body_text)
    assert match is not None and message.link in message.body_html
    return match.group(1)


def _accept(
    client: FlaskClient, path: str, name: str = "Мария Петровна", password: str = GOOD_PASSWORD
) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(
        path,
        data={
            "name": name,
            "new_password": password,
            "confirm": password,
            "csrf_token": csrf_token(page.text),
        },
    )


def _account(app: Flask, email: str) -> m.User | None:
    with app.app_context():
        stmt = select(m.User).where(func.lower(m.User.email) == email)
        user = db.session.execute(stmt, execution_options={"include_deleted": True}).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def _tokens(app: Flask) -> list[m.Token]:
    with app.app_context():
        return list(db.session.execute(select(m.Token).order_by(m.Token.id)).scalars())


def test_a_school_invites_a_colleague_who_accepts(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    school = client_as("school31")
    form = school.get("/admin/invitations/new/").text
    # What the school may choose: its own school and the partners it has an agreement with.
    assert f'value="school:{ids["school31"]}"' in form and f'value="school:{ids["gymnasium17"]}"' not in form
    assert f'value="partner:{ids["kemsu"]}"' in form and 'value="admin"' not in form
    sent = _invite(school, "New.Teacher@school31.example", f"school:{ids['school31']}")
    assert sent.status_code == 302
    listing = school.get("/admin/invitations/").text
    assert "new.teacher@school31.example" in listing and "Ждёт ответа" in listing and "Отозвать" in listing

    (message,) = _messages(app, "new.teacher@school31.example")
    assert message.subject == "Приглашение в Coop" and message.user_id is None
    assert "Здравствуйте, Мария Иванова!" in message.body_text
    assert "как сотрудника школы МБОУ «СОШ № 31»" in message.body_text and "7 дней" in message.body_text
    path = _link(app, "new.teacher@school31.example")

    anonymous = client_as("anonymous")
    page = anonymous.get(path)
    assert page.status_code == 200 and "как сотрудника школы МБОУ «СОШ № 31»" in page.text
    assert 'value="Мария Иванова"' in page.text  # the name as the inviter wrote it, to correct
    weak = _accept(anonymous, path, password="1234567890")
    assert weak.status_code == 200 and _account(app, "new.teacher@school31.example") is None
    done = _accept(anonymous, path)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"
    assert "Добро пожаловать" in anonymous.get("/admin/").text  # signed in
    user = _account(app, "new.teacher@school31.example")
    assert user is not None and user.name == "Мария Петровна"
    assert (user.role, user.school_id, user.partner_id) == ("school", ids["school31"], None)
    assert user.check_password(GOOD_PASSWORD) and user.is_active
    assert "Принято" in school.get("/admin/invitations/").text
    again = client_as("anonymous").get(path)
    assert again.status_code == 410 and "уже использована" in again.text


def test_a_school_invites_a_partner_it_has_an_agreement_with(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    assert _invite(client_as("school31"), "rep@kemsu.example", f"partner:{ids['kemsu']}").status_code == 302
    path = _link(app, "rep@kemsu.example")
    page = client_as("anonymous").get(path)
    assert "как представителя организации-партнёра КемГУ" in page.text
    assert _accept(client_as("anonymous"), path).status_code == 302
    user = _account(app, "rep@kemsu.example")
    assert user is not None and (user.role, user.school_id, user.partner_id) == (
        "partner",
        None,
        ids["kemsu"],
    )


def _partner_without_agreement(app: Flask, school_id: int) -> int:
    with app.app_context():
        agreed = select(m.Agreement.partner_id).where(m.Agreement.school_id == school_id)
        return db.session.execute(
            select(m.Partner.id).where(m.Partner.id.not_in(agreed)).limit(1)
        ).scalar_one()


@pytest.mark.parametrize(
    "whom", ["other school", "no agreement", "admin", "coordinator", "nonsense", "mixed"]
)
def test_a_school_cannot_invite_beyond_its_rights(
    app: Flask, client_as: Any, ids: dict[str, int], whom: str
) -> None:
    value = {
        "other school": f"school:{ids['gymnasium17']}",
        "no agreement": f"partner:{_partner_without_agreement(app, ids['school31'])}",
        "admin": "admin",
        "coordinator": "coordinator",
        "nonsense": "school:99999999999999999999",
        "mixed": f"partner:{ids['school31']}x",
    }[whom]
    answer = _invite(client_as("school31"), "intruder@example.org", value)  # a crafted POST
    assert (
        answer.status_code == 200
        and "Вы не можете пригласить на эту роль или в эту организацию" in answer.text
    )
    assert _messages(app, "intruder@example.org") == [] and _tokens(app) == []


@pytest.mark.parametrize(
    ("role", "school", "partner", "allowed"),
    [
        ("school", "own", None, True),
        ("school", "other", None, False),
        ("partner", None, "agreed", True),
        ("partner", None, "not agreed", False),
        ("partner", "own", "agreed", False),  # a partner's account names no school
        ("school", "own", "agreed", False),
        ("admin", None, None, False),
        ("coordinator", None, None, False),
    ],
)
def test_the_policy_on_whom_a_school_invites(
    app: Flask, ids: dict[str, int], role: str, school: str | None, partner: str | None, allowed: bool
) -> None:
    """The rule itself, as the form's choices and invite() ask it (coop/access.py)."""
    with app.app_context():
        user = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        school_id = {"own": ids["school31"], "other": ids["gymnasium17"], None: None}[school]
        partner_id = {
            "agreed": ids["kemsu"],
            "not agreed": _partner_without_agreement(app, ids["school31"]),
            None: None,
        }[partner]
        whom = invitations.Whom(role, school_id, partner_id)
        assert access.can(user, "invitation.create", whom) is allowed
        admin = db.session.execute(select(m.User).filter_by(email="admin@coop.example")).scalar_one()
        # The admin invites anyone, but an account names the tenant its role has, and only it.
        assert access.can(admin, "invitation.create", whom) is (school is None or partner is None)
        for key in ("coordinator", "kemsu"):
            other = db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()
            assert not access.can(other, "invitation.create", whom)


@pytest.mark.parametrize("role", ["admin", "coordinator", "school", "partner"])
def test_the_admin_invites_any_role(app: Flask, client_as: Any, ids: dict[str, int], role: str) -> None:
    whom = {"school": f"school:{ids['gymnasium17']}", "partner": f"partner:{ids['museum']}"}.get(role, role)
    email = f"new-{role}@example.org"
    assert _invite(client_as("admin"), email, whom).status_code == 302
    assert _accept(client_as("anonymous"), _link(app, email)).status_code == 302
    user = _account(app, email)
    assert user is not None and user.role == role
    assert user.school_id == (ids["gymnasium17"] if role == "school" else None)
    assert user.partner_id == (ids["museum"] if role == "partner" else None)


@pytest.mark.parametrize("email", ["gymnasium17@coop.example", "  Museum@Coop.Example", "trashed"])
def test_an_email_with_an_account_is_refused_and_nothing_sent(
    app: Flask, client_as: Any, ids: dict[str, int], email: str
) -> None:
    if email == "trashed":
        with app.app_context():
            db.session.execute(
                m.User.__table__.update()
                .where(m.User.email == "kemsu@coop.example")
                .values(deleted_at=m.utcnow())
            )
            db.session.commit()
        email = "kemsu@coop.example"
    answer = _invite(client_as("admin"), email, "coordinator")
    assert answer.status_code == 200 and "уже есть: приглашение не отправлено" in answer.text
    assert _tokens(app) == []
    with app.app_context():
        assert db.session.execute(select(func.count(m.Notification.id))).scalar_one() == 0


def test_an_account_made_meanwhile_stops_the_acceptance(app: Flask, client_as: Any) -> None:
    _invite(client_as("admin"), "twice@example.org", "coordinator")
    path = _link(app, "twice@example.org")
    with app.app_context():
        db.session.add(m.User(email="twice@example.org", role="coordinator", name="Раньше"))
        db.session.commit()
    anonymous = client_as("anonymous")
    answer = _accept(anonymous, path)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert "Учётная запись с адресом twice@example.org уже есть" in anonymous.get("/login").text
    user = _account(app, "twice@example.org")
    assert user is not None and user.name == "Раньше"
    assert client_as("anonymous").get(path).status_code == 200  # the link was not used up


@pytest.mark.parametrize("how", ["revoked", "expired", "used", "tampered", "foreign", "malformed"])
def test_a_bad_invitation_link_answers_a_russian_page_and_changes_nothing(
    app: Flask, client_as: Any, how: str
) -> None:
    admin = client_as("admin")
    _invite(admin, "late@example.org", "coordinator")
    path = _link(app, "late@example.org")
    if how == "revoked":
        (token,) = _tokens(app)
        page = admin.get("/admin/invitations/")
        revoked = admin.post(
            "/admin/invitations/revoke/", data={"id": token.id, "csrf_token": csrf_token(page.text)}
        )
        assert revoked.status_code == 302 and "Отозвано" in admin.get("/admin/invitations/").text
    elif how == "expired":
        with app.app_context():
            db.session.execute(
                m.Token.__table__.update().values(expires_at=m.utcnow() - dt.timedelta(seconds=1))
            )
            db.session.commit()
        assert "Истекло" in admin.get("/admin/invitations/").text
    elif how == "used":
        assert _accept(client_as("anonymous"), path).status_code == 302
    elif how == "tampered":
        path = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    elif how == "foreign":  # a reset link at the invitation's address
        anonymous = client_as("anonymous")
        page = anonymous.get("/password/forgot")
        anonymous.post(
            "/password/forgot", data={"email": "school31@coop.example", "csrf_token": csrf_token(page.text)}
        )
        with app.app_context():
            (reset,) = db.session.execute(select(m.Notification).filter_by(kind="password_reset")).scalars()
        path = "/invitation/" + reset.link.rsplit("/", 1)[1]
    elif how == "malformed":
        path = "/invitation/%00"
    users = len(_users(app))
    anonymous = client_as("anonymous")
    token = csrf_token(anonymous.get("/login").text)
    for method in ("get", "post"):
        fields = {"name": "Х", "new_password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD, "csrf_token": token}
        answer = getattr(anonymous, method)(path, data=fields)
        if how == "malformed":
            assert answer.status_code in (400, 404)
            continue
        assert answer.status_code in (404, 410) and "Ссылка не открывается" in answer.text
        wording = {"expired": "истёк", "used": "уже использована", "revoked": "уже использована"}
        assert wording.get(how, "недействительна") in answer.text
    assert len(_users(app)) == users
    if how != "used":
        assert anonymous.get("/admin/").status_code == 302


def _users(app: Flask) -> list[int]:
    with app.app_context():
        return list(db.session.execute(select(m.User.id)).scalars())


def test_invitations_are_listed_to_their_school_and_the_admin_only(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    _invite(client_as("school31"), "colleague31@example.org", f"school:{ids['school31']}")
    _invite(client_as("gymnasium17"), "colleague17@example.org", f"school:{ids['gymnasium17']}")
    own = client_as("school31").get("/admin/invitations/").text
    assert "colleague31@example.org" in own and "colleague17@example.org" not in own
    assert "Гимназ" not in own
    everything = client_as("admin").get("/admin/invitations/").text
    assert "colleague31@example.org" in everything and "colleague17@example.org" in everything
    for key, status in (("coordinator", 403), ("kemsu", 403), ("anonymous", 302)):
        assert client_as(key).get("/admin/invitations/").status_code == status
    # Another school cannot revoke it, even by a crafted POST with its id.
    token = next(t for t in _tokens(app) if t.email == "colleague31@example.org")
    other = client_as("gymnasium17")
    page = other.get("/admin/invitations/")
    assert (
        other.post(
            "/admin/invitations/revoke/", data={"id": token.id, "csrf_token": csrf_token(page.text)}
        ).status_code
        == 404
    )
    assert next(t for t in _tokens(app) if t.id == token.id).used_at is None


def test_reset_tokens_stay_invisible_to_every_role(app: Flask, client_as: Any) -> None:
    anonymous = client_as("anonymous")
    page = anonymous.get("/password/forgot")
    anonymous.post(
        "/password/forgot", data={"email": "school31@coop.example", "csrf_token": csrf_token(page.text)}
    )
    assert any(t.purpose == "password_reset" for t in _tokens(app))
    listing = client_as("admin").get("/admin/invitations/").text
    assert "school31@coop.example" not in listing and "Приглашений пока нет" in listing


def test_the_menus_lead_to_invitations(client_as: Any) -> None:
    for key in ("admin", "school31"):
        assert 'href="/admin/invitations/"' in client_as(key).get("/admin/").text
    for key in ("coordinator", "kemsu"):
        assert 'href="/admin/invitations/"' not in client_as(key).get("/admin/").text
    assert (
        'href="/admin/invitations/new/"' in client_as("admin").get("/admin/user/").text
    )  # the users section
