"""How notifications reach each user by mail, per kind: at once, in one daily digest, or
off (still listed in the site); the settings page lists the kinds of the user's role."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import formats, notify, outbox
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token
from .mailbox import Mailbox, Server
from .test_notifications import _bell
from .test_workflow import _fire, _propose

pytestmark = pytest.mark.usefixtures("fresh_db")

SETTINGS = "/admin/notifications/settings/"
# Tomorrow at 06:00 and 08:00 in the site's time zone, around the default COOP_DIGEST_HOUR of 7.
TOMORROW = formats.local(m.utcnow()).date() + dt.timedelta(days=1)
EARLY = formats.to_utc(dt.datetime.combine(TOMORROW, dt.time(6)))
MORNING = formats.to_utc(dt.datetime.combine(TOMORROW, dt.time(8)))


# The kinds each role's page offers (DESIGN: what notifies whom), and a label of each in Russian.
OFFERED = {
    "admin": [],
    "coordinator": ["remark_answered", "data_request_submitted"],
    "school": [
        "event_submitted",
        "remark_created",
        "data_request_returned",
        "agreement_ending_60",
        "agreement_ending_30",
        "review_waiting",
        "plan_unrecorded",
        "outcome_reported",
        "data_request_due_7",
        "data_request_due_1",
        "data_request_overdue",
    ],
    "partner": ["event_approved", "event_returned", "agreement_ending_60", "agreement_ending_30"],
}
LABELS = {
    "remark_answered": "Ответ на замечание",
    "event_submitted": "Мероприятие отправлено на согласование",
    "agreement_ending_30": "Соглашение заканчивается в течение 30 дней",
    "plan_unrecorded": "Мероприятия прошедших месяцев без отметки о проведении (раз в месяц)",
    "review_waiting": "Мероприятие ждёт согласования дольше 7 дней",
    "event_approved": "Мероприятие согласовано",
    "data_request_overdue": "Срок ответа на запрос данных истёк",
}


def _choose(client: Any, **choices: str) -> Any:
    page = client.get(SETTINGS)
    fields = dict.fromkeys(_kinds(page.text), "now") | choices
    return client.post(SETTINGS, data={"csrf_token": csrf_token(page.text), **fields})


def _kinds(html: str) -> list[str]:
    return [kind for kind in m.NOTIFICATION_KINDS if f'data-kind="{kind}"' in html]


def _user_id(app: Flask, key: str) -> int:
    with app.app_context():
        return db.session.execute(select(m.User.id).filter_by(email=ACCOUNTS[key].email)).scalar_one()


def _of(app: Flask, key: str, **where: Any) -> list[m.Notification]:
    with app.app_context():
        stmt = select(m.Notification).filter_by(user_id=_user_id(app, key), **where)
        return list(db.session.execute(stmt.order_by(m.Notification.id)).scalars())


def _submit(app: Flask, client_as: Any, ids: dict[str, int], title: str) -> int:
    partner = client_as("kemsu")
    event = _propose(app, partner, ids, title)
    assert _fire(partner, "event", event, "submit").status_code == 302
    return event


def _send(app: Flask, now: dt.datetime) -> tuple[int, int]:
    with app.app_context():
        return outbox.send_mail(now=lambda: now)


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_the_settings_page_lists_the_kinds_of_the_users_role(client_as: Any, key: str) -> None:
    client = client_as(key)
    page = client.get(SETTINGS)
    role = ACCOUNTS[key].role
    if role is None:
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        assert client.post(SETTINGS, data={"event_submitted": "off"}).status_code in (302, 400)
        return
    assert page.status_code == 200
    assert "Настройки уведомлений" in page.text
    assert _kinds(page.text) == sorted(OFFERED[role], key=list(m.NOTIFICATION_KINDS).index)
    for kind in OFFERED[role]:
        if kind in LABELS:
            assert f'<legend class="h6 mb-2">{LABELS[kind]}</legend>' in page.text
    for kind in notify.ALWAYS_AT_ONCE:  # never a choice (the menu may still link "invitations")
        assert f'name="{kind}"' not in page.text
    if role == "admin":
        assert "Для вашей роли уведомлений нет." in page.text
    else:
        assert "При «Не присылать» письма нет, но уведомление по-прежнему видно" in page.text
        assert {"Сразу", "В ежедневной сводке", "Не присылать"} <= set(_radio_labels(page.text))
    # Reachable from the notifications page.
    assert f'href="{SETTINGS}"' in client.get("/admin/notifications/").text


def _radio_labels(html: str) -> list[str]:
    return re.findall(r'class="custom-control-label"[^>]*>([^<]+)<', html)


def test_choices_are_saved_per_user_and_bad_ones_refused(app: Flask, client_as: Any) -> None:
    school = client_as("school31")
    assert _choose(school, event_submitted="digest", review_waiting="off").status_code == 302
    page = school.get(SETTINGS)
    assert "Настройки уведомлений сохранены." in page.text
    assert 'id="event_submitted-digest" name="event_submitted" value="digest" checked' in page.text
    assert 'id="review_waiting-off" name="review_waiting" value="off" checked' in page.text
    # Another school's user keeps the default.
    other = client_as("gymnasium17").get(SETTINGS).text
    assert 'id="event_submitted-now" name="event_submitted" value="now" checked' in other
    # A value not offered, or a kind missing: a Russian message, nothing saved.
    refused = _choose(school, event_submitted="sometimes")
    assert refused.status_code == 400 and "Выберите, как приходит каждый вид уведомлений." in refused.text
    page = school.get(SETTINGS)
    assert 'name="event_submitted" value="digest" checked' in page.text
    missing = school.post(SETTINGS, data={"csrf_token": csrf_token(page.text)})
    assert missing.status_code == 400
    # Without the CSRF token nothing is saved.
    assert school.post(SETTINGS, data={"event_submitted": "off"}).status_code == 400
    with app.app_context():
        rows = db.session.execute(select(m.NotificationPreference)).scalars().all()
        assert {(row.user_id, row.kind, row.delivery) for row in rows if row.delivery != "now"} == {
            (_user_id(app, "school31"), "event_submitted", "digest"),
            (_user_id(app, "school31"), "review_waiting", "off"),
        }
    # A kind not of the role is never saved (a partner's page has no event_submitted).
    assert _choose(client_as("kemsu"), event_submitted="off").status_code == 302
    with app.app_context():
        kemsu = _user_id(app, "kemsu")
        kinds = set(
            db.session.execute(select(m.NotificationPreference.kind).filter_by(user_id=kemsu)).scalars()
        )
        assert "event_submitted" not in kinds


def test_off_sends_no_mail_but_the_site_lists_it(
    app: Flask,
    client_as: Any,
    ids: dict[str, int],
    smtp: tuple[Server, Mailbox],
) -> None:
    _, mailbox = smtp
    school = client_as("school31")
    _choose(school, event_submitted="off")
    before = _bell(school)
    _submit(app, client_as, ids, "Лекция о ледниках")
    (row,) = _of(app, "school31", kind="event_submitted")
    assert row.delivery == "off"
    _send(app, MORNING)
    assert not mailbox.to(ACCOUNTS["school31"].email)
    assert "Лекция о ледниках" in school.get("/admin/notifications/").text
    assert _bell(school) == before + 1
    # The partner's choice is its own: a return reaches it at once.
    _fire(school, "event", row.link.rsplit("=", 1)[1], "return", "Уточните аудиторию")
    _send(app, MORNING)
    assert len(mailbox.to(ACCOUNTS["kemsu"].email)) == 1


def test_digest_kinds_come_in_one_message_a_day_from_the_configured_hour(
    app: Flask,
    client_as: Any,
    ids: dict[str, int],
    smtp: tuple[Server, Mailbox],
) -> None:
    _, mailbox = smtp
    school = client_as("school31")
    _choose(school, event_submitted="digest")
    first = _submit(app, client_as, ids, "Лекция о кометах")
    second = _submit(app, client_as, ids, "Лекция о туманностях")
    address = ACCOUNTS["school31"].email
    assert _send(app, EARLY) == (0, 0)  # before COOP_DIGEST_HOUR: nothing, not one by one either
    assert not mailbox.to(address)
    _send(app, MORNING)
    (digest,) = mailbox.to(address)
    assert digest["Subject"] == f"Сводка уведомлений Coop за {TOMORROW:%d.%m.%Y}: 2"
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = digest.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for event, title in ((first, "Лекция о кометах"), (second, "Лекция о туманностях")):
        link = f"http://localhost:5000/admin/event/details/?id={event}"
        assert f"Мероприятие на согласование: {title}" in text and link in text and f'href="{link}"' in html
    assert "http://localhost:5000/admin/notifications/settings/" in text
    items = _of(app, "school31", kind="event_submitted")
    (row,) = _of(app, "school31", kind=m.DIGEST)
    assert {item.digest_id for item in items} == {row.id} and row.sent_at is not None
    # Not in the site: the notifications it gathers are, one by one.
    page = school.get("/admin/notifications/").text
    assert "Сводка уведомлений" not in page and "Лекция о кометах" in page
    assert _bell(school) == len(_of(app, "school31", read_at=None)) - 1
    # Once a day: what comes later that day waits for the next day's digest.
    _submit(app, client_as, ids, "Лекция о пульсарах")
    _send(app, MORNING + dt.timedelta(hours=5))
    assert len(mailbox.to(address)) == 1
    _send(app, MORNING + dt.timedelta(days=1))
    later = mailbox.to(address)[1]
    assert later["Subject"] == f"Сводка уведомлений Coop за {TOMORROW + dt.timedelta(days=1):%d.%m.%Y}: 1"
    assert "Лекция о пульсарах" in later.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert _send(app, MORNING + dt.timedelta(days=1, hours=1)) == (0, 0)


def test_password_invitation_and_addressless_messages_are_always_at_once(app: Flask) -> None:
    with app.app_context():
        user = _user_id(app, "school31")
        for kind in ("password_reset", "invitation", "event_confirmation", "event_submitted"):
            db.session.add(m.NotificationPreference(user_id=user, kind=kind, delivery="off"))
        db.session.commit()
        connection = db.session.connection()
        for kind in notify.ALWAYS_AT_ONCE:
            assert notify.deliveries(connection, [user], kind) == {}
        assert notify.deliveries(connection, [user], "event_submitted") == {user: "off"}
        assert notify.deliveries(connection, [], "event_submitted") == {}


def test_two_workers_on_postgresql_write_one_digest_per_user_and_day(
    app: Flask,
    client_as: Any,
    ids: dict[str, int],
    smtp: tuple[Server, Mailbox],
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent workers: PostgreSQL's; SQLite has one writer")
    _, mailbox = smtp
    mailbox.delay = 0.05
    _choose(client_as("school31"), event_submitted="digest")
    _choose(client_as("kemsu"), event_returned="digest", event_approved="digest")
    school = client_as("school31")
    for number in range(4):
        event = _submit(app, client_as, ids, f"Лекция № {number}")
        _fire(school, "event", event, "approve" if number % 2 else "return", "Уточните")
    results: list[tuple[int, int]] = []

    def worker() -> None:
        results.append(_send(app, MORNING))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for key, items in (("school31", 4), ("kemsu", 4)):
        (digest,) = mailbox.to(ACCOUNTS[key].email)
        assert digest["Subject"].endswith(f": {items}")
        (row,) = _of(app, key, kind=m.DIGEST)
        assert all(item.digest_id == row.id for item in _of(app, key) if item.kind != m.DIGEST)
    received = [message["Message-ID"] for message in mailbox.messages]
    assert len(received) == len(set(received)) == sum(sent for sent, _ in results)
