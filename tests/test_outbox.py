"""The outbox: a change writes its notifications in its own transaction (coop/notify.py's
table says who gets what), and the worker delivers them to a real SMTP server on
loopback (aiosmtpd) exactly once, retrying while the server is down."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from coop import models as m
from coop import notify, outbox
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token
from .mailbox import Mailbox, Server
from .test_workflow import _fire, _propose

pytestmark = pytest.mark.usefixtures("fresh_db")


def _deliver(app: Flask, **options: Any) -> tuple[int, int]:
    with app.app_context():
        return outbox.deliver_due(**options)


def _queued(app: Flask, **where: Any) -> list[m.Notification]:
    with app.app_context():
        rows = db.session.execute(select(m.Notification).filter_by(**where).order_by(m.Notification.id))
        return list(rows.scalars())


def _school_users(app: Flask, school_id: int) -> set[str]:
    with app.app_context():
        stmt = select(m.User.email).filter_by(school_id=school_id, role="school", active=True)
        return set(db.session.execute(stmt).scalars())


def test_a_submitted_event_reaches_the_schools_users_by_mail_with_a_working_link(
    app: Flask, client_as: Any, ids: dict[str, int], smtp: tuple[Server, Mailbox]
) -> None:
    _, mailbox = smtp
    partner = client_as("kemsu")
    before = len(_queued(app))
    event = _propose(app, partner, ids, "Экскурсия в лабораторию химии")
    assert len(_queued(app)) == before  # a draft notifies nobody
    assert _fire(partner, "event", event, "submit").status_code == 302
    queued = _queued(app, kind="event_submitted")
    recipients = _school_users(app, ids["school31"])
    assert recipients and {row.email for row in queued} == recipients
    assert all(row.school_id == ids["school31"] for row in queued)

    assert _deliver(app) == (len(queued), 0)
    message = mailbox.to(ACCOUNTS["school31"].email)[0]
    assert message["Subject"] == "Мероприятие на согласование: Экскурсия в лабораторию химии"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Экскурсия в лабораторию химии" in text and "КемГУ" in text
    link = f"http://localhost:5000/admin/event/details/?id={event}"
    assert f"Открыть в Coop: {link}" in text and f'href="{link}"' in html
    # The link opens the row for the school.
    school = client_as("school31")
    assert school.get(link.removeprefix("http://localhost:5000")).status_code == 200
    # Nothing is sent twice.
    assert _deliver(app) == (0, 0)
    assert len(mailbox.messages) == len(queued)


def test_the_schools_decision_reaches_the_partner_with_its_comment(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    event = _propose(app, partner, ids, "Мастер-класс по робототехнике")
    _fire(partner, "event", event, "submit")
    _fire(school, "event", event, "return", "Уточните сроки и аудиторию")
    returned = _queued(app, kind="event_returned")
    assert {row.email for row in returned} == {ACCOUNTS["kemsu"].email}
    assert "Уточните сроки и аудиторию" in returned[0].body_text
    assert returned[0].subject == "Мероприятие возвращено на доработку: Мастер-класс по робототехнике"
    _fire(partner, "event", event, "submit")
    _fire(school, "event", event, "approve")
    assert {row.email for row in _queued(app, kind="event_approved")} == {ACCOUNTS["kemsu"].email}
    # Nobody of another school or partner heard of it.
    everyone = {row.email for row in _queued(app)}
    assert ACCOUNTS["gymnasium17"].email not in everyone and ACCOUNTS["museum"].email not in everyone


def test_a_remark_reaches_the_school_and_its_answer_the_coordinators(app: Flask, client_as: Any) -> None:
    coordinator, school = client_as("coordinator"), client_as("school31")
    with app.app_context():
        school_id = db.session.execute(select(m.User.school_id).filter_by(email=ACCOUNTS["school31"].email))
        school_id = school_id.scalar_one()
        programme = (
            db.session.execute(select(m.Programme.id).filter_by(school_id=school_id)).scalars().first()
        )
    page = coordinator.get("/admin/remark/new/")
    response = coordinator.post(
        "/admin/remark/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "school": school_id,
            "programme": programme,
            "text": "Нет приказа о сетевой форме",
        },
    )
    assert response.status_code == 302
    created = _queued(app, kind="remark_created")
    assert {row.email for row in created} == _school_users(app, school_id)
    assert "Нет приказа о сетевой форме" in created[0].body_text
    with app.app_context():
        remark = db.session.execute(
            select(m.Remark.id).filter_by(text="Нет приказа о сетевой форме")
        ).scalar_one()
    _fire(school, "remark", remark, "answer", "Приказ издан 01.09")
    answered = _queued(app, kind="remark_answered")
    with app.app_context():
        coordinators = set(
            db.session.execute(select(m.User.email).filter_by(role="coordinator", active=True)).scalars()
        )
    assert {row.email for row in answered} == coordinators
    assert "Приказ издан 01.09" in answered[0].body_text
    assert answered[0].link.endswith(f"/admin/remark/details/?id={remark}")


def test_a_change_rolled_back_notifies_nobody(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        event = (
            db.session.execute(select(m.Event).filter_by(school_id=ids["school31"], state="approved"))
            .scalars()
            .first()
        )
        assert event is not None
        before = db.session.execute(select(func.count()).select_from(m.Notification)).scalar_one()
        event.state = "returned"
        event._coop_transition = {
            "name": "return",
            "permission": "event.review",
            "from": "approved",
            "to": "returned",
            "comment": "нет",
        }
        db.session.flush()
        assert db.session.execute(select(func.count()).select_from(m.Notification)).scalar_one() > before
        db.session.rollback()
        assert db.session.execute(select(func.count()).select_from(m.Notification)).scalar_one() == before


def test_smtp_down_then_up_delivers_every_message_exactly_once(
    app: Flask, client_as: Any, ids: dict[str, int], smtp: tuple[Server, Mailbox]
) -> None:
    server, mailbox = smtp
    partner = client_as("kemsu")
    for title in ("Лекция о почвах", "Лекция о реках", "Лекция о лесах"):
        _fire(partner, "event", _propose(app, partner, ids, title), "submit")
    queued = _queued(app, sent_at=None)
    assert len(queued) >= 3
    server.stop()  # the server is down: the run fails, counts the attempt and backs off
    sent, failed = _deliver(app)
    assert (sent, failed) == (0, 1)
    retried = [row for row in _queued(app) if row.attempts]
    assert len(retried) == 1 and "ConnectionRefusedError" in retried[0].last_error
    assert retried[0].next_attempt_at > dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert _deliver(app) == (0, 1)  # still down: the next one fails, the first waits its turn
    server.start()
    # Up again: the ones not tried go now, the backed-off ones when their time comes.
    assert _deliver(app) == (len(queued) - 2, 0)
    later = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=2)  # noqa: E731
    assert _deliver(app, now=later) == (2, 0)
    assert _deliver(app, now=later) == (0, 0)
    received = [message["Message-ID"] for message in mailbox.messages]
    assert len(received) == len(set(received)) == len(queued)
    assert all(row.sent_at is not None for row in _queued(app))


def test_without_a_mail_server_messages_are_written_as_eml_files(
    app: Flask, client_as: Any, ids: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path / "mail"))
    partner = client_as("kemsu")
    _fire(partner, "event", _propose(app, partner, ids, "Открытый урок физики"), "submit")
    queued = _queued(app, sent_at=None)
    assert _deliver(app) == (len(queued), 0)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == len(queued)
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Мероприятие на согласование: Открытый урок физики"


def test_the_backoff_doubles_up_to_a_day() -> None:
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.backoff(30) == dt.timedelta(days=1)


def test_every_rule_has_its_templates_and_kind(app: Flask) -> None:
    for rule in notify.RULES:
        assert rule.kind in m.NOTIFICATION_KINDS
        for suffix in ("txt", "html"):
            assert app.jinja_env.get_template(f"mail/{rule.template}.{suffix}")


def test_two_workers_on_postgresql_never_send_one_message_twice(
    app: Flask, client_as: Any, ids: dict[str, int], smtp: tuple[Server, Mailbox]
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer")
    _, mailbox = smtp
    mailbox.delay = 0.05
    partner = client_as("kemsu")
    for number in range(8):
        _fire(partner, "event", _propose(app, partner, ids, f"Лекция № {number}"), "submit")
    queued = _queued(app, sent_at=None)
    results: list[tuple[int, int]] = []

    def worker() -> None:
        results.append(_deliver(app))  # each thread: its own app context, session, connection

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent for sent, _ in results) == len(queued)
    received = [message["Message-ID"] for message in mailbox.messages]
    assert len(received) == len(set(received)) == len(queued)


def test_send_mail_and_worker_once_deliver_what_is_due(
    app: Flask, client_as: Any, ids: dict[str, int], smtp: tuple[Server, Mailbox]
) -> None:
    _, mailbox = smtp
    partner = client_as("kemsu")
    _fire(partner, "event", _propose(app, partner, ids, "Лекция о звёздах"), "submit")
    queued = len(_queued(app, sent_at=None))
    result = app.test_cli_runner().invoke(args=["coop", "send-mail"])
    assert result.exit_code == 0 and f"Отправлено писем: {queued}, не удалось: 0." in result.output
    _fire(partner, "event", _propose(app, partner, ids, "Лекция о планетах"), "submit")
    assert app.test_cli_runner().invoke(args=["coop", "worker", "--once"]).exit_code == 0
    # The worker also wrote the reminders due on the demo data (tests/test_reminders.py), and sent them.
    sent = [row for row in _queued(app) if row.sent_at]
    assert len(mailbox.messages) == len(sent) >= 2 * queued and not _queued(app, sent_at=None)


def test_the_worker_ends_between_rounds_on_sigterm(
    app: Flask, client_as: Any, ids: dict[str, int], smtp: tuple[Server, Mailbox]
) -> None:
    """A service manager's stop ends the worker after its round, not in the middle of a
    message; the process's own handlers are as before afterwards."""
    _, mailbox = smtp
    partner = client_as("kemsu")
    _fire(partner, "event", _propose(app, partner, ids, "Лекция о кометах"), "submit")
    waiting = len(_queued(app, sent_at=None))
    assert waiting > 0
    handler_before = signal.getsignal(signal.SIGTERM)
    stop = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    stop.start()
    with app.app_context():
        outbox.run_worker(interval=600)  # without the handler, the signal would end pytest itself
    assert time.monotonic() - started < 60  # it did not sleep out its interval
    assert _queued(app, sent_at=None) == []
    assert len(mailbox.messages) >= waiting  # and the reminders it wrote on the demo data
    assert signal.getsignal(signal.SIGTERM) is handler_before
