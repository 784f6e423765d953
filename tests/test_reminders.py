"""The time-driven rows of what notifies whom (coop/reminders.py's REMINDERS): each written
once per occasion by `coop remind`, to the users of its tenant only, with a link."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import formats, notify, reminders
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS
from .test_access_matrix import OTHER_SCHOOL
from .test_workflow import _fire, _propose

pytestmark = pytest.mark.usefixtures("fresh_db")

BASE = "http://localhost:5000"
NOW = dt.datetime(2026, 12, 5, 3, 0)  # 10:00 in Novokuznetsk, the demo's time zone


def _remind(app: Flask, now: dt.datetime) -> int:
    with app.app_context():
        return reminders.remind(now)


def _rows(app: Flask, kind: str, key: str = "") -> list[m.Notification]:
    with app.app_context():
        stmt = select(m.Notification).filter_by(kind=kind).where(m.Notification.dedupe_key.startswith(key))
        return list(db.session.execute(stmt.order_by(m.Notification.id)).scalars())


def _emails(app: Flask, **tenant: int) -> set[str]:
    with app.app_context():
        return set(db.session.execute(select(m.User.email).filter_by(active=True, **tenant)).scalars())


def _agreement(
    app: Flask, ids: dict[str, int], days_left: int, now: dt.datetime = NOW
) -> tuple[int, dt.date]:
    """The demo's agreement of СОШ № 31 with КемГУ, in force, ending `days_left` days after `now`."""
    with app.app_context():
        row = db.session.execute(
            select(m.Agreement).filter_by(school_id=ids["school31"], partner_id=ids["kemsu"])
        ).scalar_one()
        row.state, row.valid_to = "active", formats.local(now).date() + dt.timedelta(days=days_left)
        db.session.commit()
        return row.id, row.valid_to


def test_every_reminder_has_its_kind_templates_and_roles(app: Flask) -> None:
    for reminder in reminders.REMINDERS:
        assert reminder.kind in m.NOTIFICATION_KINDS and reminder.roles
        for suffix in ("txt", "html"):
            assert app.jinja_env.get_template(f"mail/{reminder.template}.{suffix}")
    assert reminders.kinds_for("school") == [
        "event_submitted",
        "remark_created",
        "outcome_reported",
        "data_request_returned",
        "agreement_ending_60",
        "agreement_ending_30",
        "review_waiting",
        "plan_unrecorded",
        "data_request_due_7",
        "data_request_due_1",
        "data_request_overdue",
    ]
    assert reminders.kinds_for("partner") == [
        "event_approved",
        "event_returned",
        "agreement_ending_60",
        "agreement_ending_30",
    ]
    assert reminders.kinds_for("coordinator") == ["remark_answered", "data_request_submitted"]
    assert reminders.kinds_for("admin") == []


def test_an_agreement_ending_reaches_the_school_and_the_partner_at_60_then_at_30_days(
    app: Flask, ids: dict[str, int]
) -> None:
    agreement, valid_to = _agreement(app, ids, 45)
    _remind(app, NOW)
    soon = _rows(app, "agreement_ending_60", f"agreement_ending_60:{agreement}:")
    assert {row.email for row in soon} == _emails(app, school_id=ids["school31"]) | _emails(
        app, partner_id=ids["kemsu"]
    )
    message = soon[0]
    assert (
        message.subject
        == f"Соглашение заканчивается {valid_to:%d.%m.%Y}: МБОУ «СОШ № 31» — КемГУ (НФИ КемГУ)"
    )
    assert "через 45 дн." in message.body_text
    assert message.link == f"{BASE}/admin/agreement/details/?id={agreement}"
    assert f'href="{message.link}"' in message.body_html
    assert not _rows(app, "agreement_ending_30", f"agreement_ending_30:{agreement}:")
    # Run again: nothing new.
    assert _remind(app, NOW) == 0
    # 20 days on, within 30 days: the nearer reminder, once.
    later = NOW + dt.timedelta(days=20)
    _remind(app, later)
    sooner = _rows(app, "agreement_ending_30", f"agreement_ending_30:{agreement}:")
    assert {row.email for row in sooner} == {row.email for row in soon}
    assert "через 25 дн." in sooner[0].body_text
    assert _remind(app, later) == 0
    assert len(_rows(app, "agreement_ending_60", f"agreement_ending_60:{agreement}:")) == len(soon)
    # Extended: a new end date is a new occasion.
    _agreement(app, ids, 50, later)
    _remind(app, later)
    assert len(_rows(app, "agreement_ending_60", f"agreement_ending_60:{agreement}:")) == 2 * len(soon)


def test_an_agreement_within_30_days_gets_only_the_nearer_reminder(app: Flask, ids: dict[str, int]) -> None:
    agreement, _ = _agreement(app, ids, 10)
    _remind(app, NOW)
    assert _rows(app, "agreement_ending_30", f"agreement_ending_30:{agreement}:")
    assert not _rows(app, "agreement_ending_60", f"agreement_ending_60:{agreement}:")


def test_a_review_waiting_over_7_days_reminds_the_school_once_per_submission(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    event = _propose(app, partner, ids, "Лекция о метеоритах")
    _fire(partner, "event", event, "submit")
    now = m.utcnow()
    _remind(app, now + dt.timedelta(days=6))
    assert not _rows(app, "review_waiting", f"review_waiting:{event}:")
    _remind(app, now + dt.timedelta(days=8))
    waiting = _rows(app, "review_waiting", f"review_waiting:{event}:")
    assert {row.email for row in waiting} == _emails(app, school_id=ids["school31"], role="school")
    assert waiting[0].subject == "Ждёт согласования 8 дн.: Лекция о метеоритах"
    assert "КемГУ (НФИ КемГУ): мероприятие отправлено на согласование" in waiting[0].body_text
    assert waiting[0].link == f"{BASE}/admin/event/details/?id={event}"
    _remind(app, now + dt.timedelta(days=9))
    assert len(_rows(app, "review_waiting", f"review_waiting:{event}:")) == len(waiting)
    # Returned and submitted again: a new submission, reminded again when it waits too long.
    _fire(school, "event", event, "return", "Уточните дату")
    _fire(partner, "event", event, "submit")
    again = m.utcnow()
    _remind(app, again + dt.timedelta(days=6))
    assert len(_rows(app, "review_waiting", f"review_waiting:{event}:")) == len(waiting)
    _remind(app, again + dt.timedelta(days=8))
    assert len(_rows(app, "review_waiting", f"review_waiting:{event}:")) == 2 * len(waiting)


def _line(app: Flask, ids: dict[str, int], title: str, timing: str, year: int) -> int:
    """An approved line of СОШ № 31's plan with КемГУ in academic year `year` only."""
    with app.app_context():
        event = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title=title, state="approved")
        event.set_timing(timing)
        event.first_year = event.last_year = year
        db.session.add(event)
        db.session.commit()
        return event.id


def test_past_months_lines_with_no_record_come_in_one_monthly_message_per_school(
    app: Flask, ids: dict[str, int]
) -> None:
    september = _line(app, ids, "Сентябрьская экскурсия на шахту", "сентябрь", 2024)
    april = _line(app, ids, "Апрельская ярмарка профессий", "апрель", 2024)
    october = dt.datetime(2024, 10, 15, 3, 0)
    _remind(app, october)
    rows = _rows(app, "plan_unrecorded", f"plan_unrecorded:{ids['school31']}:2024-10")
    assert {row.email for row in rows} == _emails(app, school_id=ids["school31"], role="school")
    message = rows[0]
    assert message.subject.startswith("Мероприятия прошедших месяцев без отметки о проведении за 2024/2025: ")
    assert "«Сентябрьская экскурсия на шахту» (КемГУ (НФИ КемГУ))" in message.body_text
    assert f"{BASE}/admin/event/details/?id={september}" in message.body_text
    assert f'href="{BASE}/admin/event/details/?id={september}"' in message.body_html
    assert "Апрельская ярмарка профессий" not in message.body_text  # its month is still to come
    assert message.link == f"{BASE}/admin/calendar/?school={ids['school31']}&year=2024"
    # Once a month.
    assert _remind(app, october + dt.timedelta(days=10)) == 0
    # Recorded as held: no longer listed; in September the year just over is checked whole.
    with app.app_context():
        db.session.add(
            m.EventExecution(event_id=september, school_id=ids["school31"], year=2024, status="held")
        )
        db.session.commit()
    _remind(app, dt.datetime(2025, 9, 2, 3, 0))
    (next_year,) = {
        row.body_text for row in _rows(app, "plan_unrecorded", f"plan_unrecorded:{ids['school31']}:2025-09")
    }
    assert "Апрельская ярмарка профессий" in next_year and "Сентябрьская экскурсия" not in next_year
    assert f"{BASE}/admin/event/details/?id={april}" in next_year


def test_no_reminder_reveals_another_tenants_rows(app: Flask, ids: dict[str, int]) -> None:
    _agreement(app, ids, 20)
    _line(app, ids, "Сентябрьская экскурсия на шахту", "сентябрь", 2024)
    for now in (NOW, NOW + dt.timedelta(days=40), dt.datetime(2024, 10, 15, 3, 0)):
        _remind(app, now)
    with app.app_context():
        rows = db.session.execute(
            select(m.Notification, m.User).join(m.User, m.User.id == m.Notification.user_id)
        ).all()
        markers = {"school31": "СОШ № 31", "gymnasium17": "Гимназ"}
        seen = 0
        for notification, user in rows:
            key = next((k for k, a in ACCOUNTS.items() if a.email == user.email), None)
            if key in OTHER_SCHOOL:
                foreign = markers[OTHER_SCHOOL[key]]
                text = notification.subject + notification.body_text + notification.body_html
                assert foreign not in text, (key, notification.subject)
                seen += 1
            if user.role == "school":
                assert notification.school_id == user.school_id
        assert seen


def test_remind_twice_writes_nothing_new_and_the_command_says_so(app: Flask, ids: dict[str, int]) -> None:
    _agreement(app, ids, 20)
    first = app.test_cli_runner().invoke(args=["coop", "remind"])
    assert first.exit_code == 0 and "Напоминаний записано: " in first.output
    assert "Напоминаний записано: 0." not in first.output
    second = app.test_cli_runner().invoke(args=["coop", "remind"])
    assert second.exit_code == 0 and "Напоминаний записано: 0." in second.output


def test_three_concurrent_remind_runs_write_each_reminder_once(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent writers: PostgreSQL's; SQLite has one writer")
    _agreement(app, ids, 20)
    threads = [threading.Thread(target=_remind, args=(app, NOW)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        key, user = m.Notification.dedupe_key, m.Notification.user_id
        stmt = select(key, user, func.count()).where(key.is_not(None)).group_by(key, user)
        counts = db.session.execute(stmt).all()
    assert counts and all(count == 1 for *_, count in counts)
    assert _remind(app, NOW) == 0


def test_the_links_open_the_row_for_its_recipients(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    _agreement(app, ids, 20)
    _remind(app, NOW)
    for row in _rows(app, "agreement_ending_30"):
        key = next((k for k, a in ACCOUNTS.items() if a.email == row.email), None)
        if key:
            assert client_as(key).get(row.link.removeprefix(BASE)).status_code == 200
    with app.app_context():
        assert notify.link_to("agreement", 1) == f"{BASE}/admin/agreement/details/?id=1"
