"""A partner confirms a year's outcome by a link, without an account (coop/confirmations.py):
the school asks, the message carries the link, the partner's contact answers on an anonymous
page, the year waits as reported (counted nowhere) in the school's review queue until the
school confirms or rejects it, and then the link is dead. Bad links change nothing."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from coop import confirmations, figures, workflow
from coop import models as m
from coop.extensions import db
from coop.plan_io.plan import state_in_year

from .conftest import ACCOUNTS, csrf_token
from .test_outcomes import _held_everywhere

YEAR = 2019
CONTACT = "contact@kemsu.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HELD = {
    "held_on": "2019-11-21",
    "held_until": "2019-11-22",
    "students_count": "27",
    "students_grades": "8–9",
    "teachers_count": "3",
    "parents_count": "0",
    "results": "Пять призёров олимпиады",
    "evidence_url": "https://kemsu.example/news/olimpiada",
}


def _line(app: Flask, ids: dict[str, int], status: str = "held") -> int:
    """A line of СОШ № 31 whose 2019 record (of `status`) is removed: a year with nothing
    recorded. Its partner's card gets a contact e-mail."""
    with app.app_context():
        event = db.session.execute(
            select(m.Event)
            .join(m.EventExecution, m.Event.id == m.EventExecution.event_id)
            .where(
                m.Event.school_id == ids["school31"],
                m.EventExecution.year == YEAR,
                m.EventExecution.status == status,
            )
            .order_by(m.Event.partner_id != ids["kemsu"], m.Event.id)
            .limit(1)
        ).scalar_one()
        db.session.execute(delete(m.EventExecution).filter_by(event_id=event.id, year=YEAR))
        event.partner.email = CONTACT
        db.session.commit()
        return event.id


def _details(client: Any, event_id: int) -> str:
    response = client.get(f"/admin/event/details/?id={event_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _ask(client: Any, event_id: int, year: int = YEAR) -> Any:
    token = csrf_token(_details(client, event_id))
    return client.post(
        f"/admin/event/ask_partner/?id={event_id}",
        data={"csrf_token": token, "year": str(year)},
        follow_redirects=True,
    )


def _messages(app: Flask, kind: str = "event_confirmation") -> list[m.Notification]:
    with app.app_context():
        rows = (
            db.session.execute(select(m.Notification).filter_by(kind=kind).order_by(m.Notification.id))
            .scalars()
            .all()
        )
        db.session.expunge_all()
        return list(rows)


def _token(client: Any, key: str) -> str:
    """A CSRF token of the client's session: from the sign-in page, or the menu bar's sign-out form."""
    return csrf_token(client.get("/login" if key == "anonymous" else "/admin/").get_data(as_text=True))


def _link(app: Flask) -> str:
    """The path of the link in the last confirmation message queued."""
    message = _messages(app)[-1]
    assert message.link in message.body_text and message.link in message.body_html
    return urlsplit(message.link).path


def _record(app: Flask, event_id: int, year: int = YEAR) -> m.EventExecution | None:
    with app.app_context():
        row = db.session.execute(
            select(m.EventExecution).filter_by(event_id=event_id, year=year)
        ).scalar_one_or_none()
        if row is not None:
            db.session.expunge(row)
        return row


def _answer(anonymous: Any, path: str, outcome: str = "held", **fields: Any) -> Any:
    page = anonymous.get(f"{path}?outcome={outcome}")
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), **fields}
    return anonymous.post(f"{path}?outcome={outcome}", data=data, content_type="multipart/form-data")


def _report(client: Any, record_id: int, decision: str, comment: str = "") -> Any:
    token = csrf_token(client.get("/admin/review/").get_data(as_text=True))
    return client.post(
        f"/admin/review/report/?id={record_id}",
        data={"csrf_token": token, "decision": decision, "comment": comment},
        follow_redirects=True,
    )


def _counts(app: Flask, client: Any, ids: dict[str, int], event_id: int) -> dict[str, Any]:
    """What the four views count as held, the people reached, and the line's state in YEAR."""
    held = _held_everywhere(app, client, ids["school31"], YEAR)
    with app.app_context():
        (figure,) = figures.school_figures(YEAR, [ids["school31"]])
        states = {
            state
            for state in ("held", "not_held", "planned")
            if db.session.execute(
                select(func.count()).where(m.Event.id == event_id, state_in_year(state, YEAR))
            ).scalar_one()
        }
    return {**held, "students": figure.students, "state": states}


# --- the whole journey ---------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_db")
def test_the_partner_confirms_by_the_link_and_nothing_counts_until_the_school_confirms(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event_id = _line(app, ids)
    school = client_as("school31")
    before = _counts(app, school, ids, event_id)
    assert before["state"] == {"planned"}

    page = _details(school, event_id)
    assert "Попросить партнёра подтвердить" in page
    answer = _ask(school, event_id)
    assert f"отправлена на адрес {CONTACT}" in answer.get_data(as_text=True)
    (message,) = _messages(app)
    assert message.email == CONTACT and message.user_id is None and message.school_id == ids["school31"]
    with app.app_context():
        event = db.session.get(m.Event, event_id)
        title, school_name = event.title, str(event.school)
    assert school_name in message.subject
    assert title in message.body_text and "2019/2020" in message.body_text
    assert "Гимназ" not in message.body_text + message.body_html
    # The message says the school, the event, the year and the link: not the partner's name
    # nor anything of the plan beyond that one line.
    assert "КемГУ" not in message.body_text
    path = _link(app)
    assert path.startswith("/confirm/")
    # The event page now says where the link went, and offers to send it again.
    assert f"Ссылка отправлена на {CONTACT}" in _details(school, event_id)

    anonymous = client_as("anonymous")
    landing = anonymous.get(path).get_data(as_text=True)
    for shown in (title, school_name, "КемГУ", "2019/2020"):
        assert shown in landing
    assert "Мероприятие состоялось" in landing and "Мероприятие не состоялось" in landing
    response = _answer(
        anonymous, path, evidence_file=(io.BytesIO(PNG), "фото.png"), **{**HELD, "year": "2021"}
    )
    assert response.status_code == 302
    record = _record(app, event_id)
    assert record is not None and record.status == workflow.REPORTED and record.year == YEAR
    assert record.held_on == dt.date(2019, 11, 21) and record.students_count == 27
    # Reported is counted nowhere: the events list, the calendar, the dashboard, the report.
    assert _counts(app, school, ids, event_id) == before
    # The link now says it was sent, and does not take a second answer.
    sent = anonymous.get(path).get_data(as_text=True)
    assert "ответ отправлен школе" in sent and "confirm-held" not in sent
    again = _answer_blind(anonymous, path, HELD)
    assert again.status_code == 409
    assert _record(app, event_id).students_count == 27

    # The school's queue lists the report with the contact and what was said.
    queue = school.get("/admin/review/").get_data(as_text=True)
    assert CONTACT in queue and title in queue and "Пять призёров олимпиады" in queue
    assert "фото.png" in queue
    assert "На согласовании (1)" in queue  # the menu's count includes the report
    # Every active account of the school heard of it, with a link to that queue.
    heard = _messages(app, "outcome_reported")
    with app.app_context():
        school_accounts = db.session.execute(
            select(m.User.id).filter_by(school_id=ids["school31"], active=True, deleted_at=None)
        ).scalars()
        assert sorted(n.user_id for n in heard) == sorted(school_accounts)
    assert heard and all(urlsplit(n.link).path == "/admin/review/" for n in heard)
    assert title[:40] in heard[0].subject and "КемГУ" in heard[0].body_text
    assert "проведено в 2019/2020 учебном году, 21.11.2019" in heard[0].body_text
    assert "Пять призёров олимпиады" in heard[0].body_html
    done = _report(school, record.id, "confirm").get_data(as_text=True)
    assert "Отчёт партнёра подтверждён" in done
    record = _record(app, event_id)
    assert record.status == "held" and record.students_count == 27
    after = _counts(app, school, ids, event_id)
    assert after["state"] == {"held"}
    assert after["annual report"] == before["annual report"] + 1
    assert after["students"] == before["students"] + 27
    # The link is dead; the history names the contact and the school.
    dead = anonymous.get(path)
    assert dead.status_code == 410 and "уже использована" in dead.get_data(as_text=True)
    with app.app_context():
        entries = (
            db.session.execute(
                select(m.History)
                .filter_by(table_name="event_executions", row_id=record.id)
                .order_by(m.History.id)
            )
            .scalars()
            .all()
        )
        assert entries[0].action == "create" and entries[0].user_email == CONTACT
        assert entries[0].user_id is None and CONTACT in entries[0].comment
        assert entries[0].changes["status"] == [None, "reported"]
        school_user = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        assert entries[-1].user_id == school_user.id
        assert entries[-1].changes["status"] == ["reported", "held"]
    history = school.get(f"/admin/eventexecution/details/?id={record.id}").get_data(as_text=True)
    assert f"{CONTACT} (по ссылке)" in history


def _answer_blind(anonymous: Any, path: str, fields: dict[str, str]) -> Any:
    """A POST to the link as a form would send it, without loading the form first."""
    token = _token(anonymous, "anonymous")  # a valid CSRF token of the session
    return anonymous.post(
        f"{path}?outcome=held", data={"csrf_token": token, **fields}, content_type="multipart/form-data"
    )


@pytest.mark.usefixtures("fresh_db")
def test_not_held_reported_then_rejected_leaves_the_year_open_and_the_link_dead(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event_id = _line(app, ids, status="not_held")
    school = client_as("school31")
    before = _counts(app, school, ids, event_id)
    _ask(school, event_id)
    path = _link(app)
    anonymous = client_as("anonymous")
    refused = _answer(anonymous, path, "not_held", results="")
    assert refused.status_code == 200 and "Обязательное поле" in refused.get_data(as_text=True)
    assert _record(app, event_id) is None
    assert _answer(anonymous, path, "not_held", results="Музей закрыт на ремонт").status_code == 302
    record = _record(app, event_id)
    assert record.status == workflow.REPORTED and record.held_on is None
    assert _counts(app, school, ids, event_id) == before
    queue = school.get("/admin/review/").get_data(as_text=True)
    assert "Не состоялось" in queue and "Музей закрыт на ремонт" in queue
    # The school hears of the report at once (coop/notify.py RULES), with the reason.
    (heard,) = _messages(app, "outcome_reported")
    assert "не проведено в 2019/2020" in heard.body_text and "Музей закрыт на ремонт" in heard.body_text

    # A rejection needs its reason.
    assert "Укажите, почему" in _report(school, record.id, "reject").get_data(as_text=True)
    assert _record(app, event_id).status == workflow.REPORTED
    done = _report(school, record.id, "reject", "Мероприятие было, уточним сами").get_data(as_text=True)
    assert "Отчёт партнёра отклонён" in done
    record = _record(app, event_id)
    assert record.status == "planned" and record.results == ""
    assert _counts(app, school, ids, event_id) == before
    assert anonymous.get(path).status_code == 410
    with app.app_context():
        last = db.session.execute(
            select(m.History)
            .filter_by(table_name="event_executions", row_id=record.id)
            .order_by(m.History.id.desc())
            .limit(1)
        ).scalar_one()
        assert "уточним сами" in last.comment
        assert last.changes["results"] == ["Музей закрыт на ремонт", ""]
    # The year is open again: the school may ask anew, and a new link works.
    assert "Попросить партнёра подтвердить" in _details(school, event_id)
    _ask(school, event_id)
    assert client_as("anonymous").get(_link(app)).status_code == 200


@pytest.mark.usefixtures("fresh_db")
def test_a_new_link_for_the_same_year_ends_the_earlier_one(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event_id = _line(app, ids)
    school = client_as("school31")
    _ask(school, event_id)
    first = _link(app)
    _ask(school, event_id)
    second = _link(app)
    anonymous = client_as("anonymous")
    assert anonymous.get(first).status_code == 410
    assert anonymous.get(second).status_code == 200
    assert len(_messages(app)) == 2


# --- what is offered, and when not -----------------------------------------------------------


@pytest.mark.usefixtures("fresh_db")
def test_the_button_says_why_it_is_not_offered(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _line(app, ids)
    with app.app_context():
        db.session.get(m.Event, event_id).partner.email = ""
        db.session.commit()
    school = client_as("school31")
    page = _details(school, event_id)
    assert "Попросить партнёра подтвердить" not in page.replace("«Попросить партнёра подтвердить»", "")
    assert "нет адреса электронной почты" in page
    answer = _ask(school, event_id).get_data(as_text=True)
    assert "нет адреса электронной почты" in answer
    assert _messages(app) == []


@pytest.mark.usefixtures("fresh_db")
def test_a_recorded_or_future_year_is_not_offered(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _line(app, ids)
    school = client_as("school31")
    page = _details(school, event_id)
    # Only the year without a record has the button (2020–2022 are recorded).
    rows = re.findall(r'<tr class="by-year-row" data-year="(\d+)">(.*?)</tr>', page, re.DOTALL)
    assert [year for year, row in rows if "ask-partner" in row] == [str(YEAR)]
    assert "уже записан" in _ask(school, event_id, 2020).get_data(as_text=True)
    assert "не запланировано" in _ask(school, event_id, 2030).get_data(as_text=True)
    assert _messages(app) == []


WHO_MAY_ASK = {
    "anonymous": 302,
    "admin": 200,
    "coordinator": 403,
    "school31": 200,
    "gymnasium17": 404,  # another school's line is not found
    "kemsu": 403,  # the partner itself answers by the link, it does not send it
    "museum": 404,
}


@pytest.mark.usefixtures("fresh_db")
@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_who_may_ask_the_partner(app: Flask, client_as: Any, ids: dict[str, int], key: str) -> None:
    event_id = _line(app, ids)
    client = client_as(key)
    response = client.post(
        f"/admin/event/ask_partner/?id={event_id}",
        data={"csrf_token": _token(client, key), "year": str(YEAR)},
    )
    want = WHO_MAY_ASK[key]
    assert response.status_code == (302 if want == 200 else want), key
    if key == "anonymous":
        assert "/login" in response.headers["Location"]
    assert len(_messages(app)) == (1 if want == 200 else 0), key
    if key in ("gymnasium17", "museum"):
        assert "СОШ № 31" not in response.get_data(as_text=True)


# --- the school's decision: only its own ------------------------------------------------------


@pytest.mark.usefixtures("fresh_db")
@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_only_the_lines_school_decides_on_a_report(
    app: Flask, client_as: Any, ids: dict[str, int], key: str
) -> None:
    event_id = _line(app, ids)
    _ask(client_as("school31"), event_id)
    assert _answer(client_as("anonymous"), _link(app), **HELD).status_code == 302
    record = _record(app, event_id)
    client = client_as(key)
    queue = client.get("/admin/review/")
    body = queue.get_data(as_text=True)
    want = {"anonymous": 302, "coordinator": 403, "kemsu": 403, "museum": 403}.get(key, 200)
    assert queue.status_code == want, key
    if want == 200:
        assert (CONTACT in body) == (key in ("admin", "school31")), key
        if key == "gymnasium17":
            assert "СОШ № 31" not in body
    response = client.post(
        f"/admin/review/report/?id={record.id}",
        data={"csrf_token": _token(client, key), "decision": "confirm"},
    )
    expected = {"anonymous": 302, "coordinator": 403, "kemsu": 403, "museum": 403, "gymnasium17": 404}
    assert response.status_code == expected.get(key, 302), key
    assert _record(app, event_id).status == ("held" if key in ("admin", "school31") else workflow.REPORTED), (
        key
    )


# --- links that open nothing ---------------------------------------------------------------


@pytest.mark.usefixtures("fresh_db")
def test_bad_links_answer_a_russian_page_and_change_nothing(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event_id = _line(app, ids)
    _ask(client_as("school31"), event_id)
    path = _link(app)
    secret = path.rsplit("/", 1)[1]
    anonymous = client_as("anonymous")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with app.app_context():
        from coop import tokens

        _reset, foreign = tokens.issue("password_reset", email=CONTACT)
        _invite, invitation = tokens.issue("invitation", email=CONTACT, role="partner")
        db.session.commit()
    for bad in (tampered, foreign, invitation, "x", "x" * 300, "%E2%80%AE" * 10):
        response = anonymous.get(f"/confirm/{bad}")
        assert response.status_code == 404, bad
        assert "Ссылка недействительна" in response.get_data(as_text=True)
        post = anonymous.post(f"/confirm/{bad}?outcome=held", data=HELD)
        assert post.status_code in (400, 404), bad  # no CSRF token: refused before anything
    # Expired: the same page, another reason.
    with app.app_context():
        db.session.execute(
            m.Token.__table__.update()
            .where(m.Token.purpose == "event_confirmation")
            .values(expires_at=dt.datetime(2020, 1, 1))
        )
        db.session.commit()
    expired = anonymous.get(path)
    assert expired.status_code == 410 and "истёк" in expired.get_data(as_text=True)
    assert _record(app, event_id) is None


@pytest.mark.usefixtures("fresh_db")
def test_the_page_writes_only_the_links_line_and_year(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """Ids, years and schools put into the POST are not read: the link alone says what."""
    event_id = _line(app, ids)
    with app.app_context():
        other = db.session.execute(
            select(m.Event.id).where(m.Event.school_id == ids["gymnasium17"]).limit(1)
        ).scalar_one()
        records_before = db.session.execute(select(func.count()).select_from(m.EventExecution)).scalar_one()
    _ask(client_as("school31"), event_id)
    path = _link(app)
    anonymous = client_as("anonymous")
    response = _answer(
        anonymous,
        path,
        **HELD,
        year="2020",
        id=str(other),
        event_id=str(other),
        event=str(other),
        school_id=str(ids["gymnasium17"]),
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(m.EventExecution)).scalar_one() == (
            records_before + 1
        )
        assert (
            db.session.execute(
                select(m.EventExecution).filter_by(event_id=other, status=workflow.REPORTED)
            ).first()
            is None
        )
    assert _record(app, event_id).status == workflow.REPORTED
    # The page shows that line only: no other title of the plan, nothing of another school.
    page = anonymous.get(path).get_data(as_text=True)
    with app.app_context():
        titles = db.session.execute(select(m.Event.title).where(m.Event.id != event_id)).scalars().all()
        own_title = db.session.get(m.Event, event_id).title
    assert not [t for t in titles if t != own_title and f"«{t}»" in page]
    assert "Гимназ" not in page


@pytest.mark.usefixtures("fresh_db")
def test_a_refused_file_or_date_writes_nothing(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _line(app, ids)
    _ask(client_as("school31"), event_id)
    path = _link(app)
    anonymous = client_as("anonymous")
    stored_before = _stored(app)
    for fields, message in (
        (
            {**HELD, "evidence_file": (io.BytesIO(b"MZ\x90\x00not a document"), "отчёт.pdf")},
            "Принимаются файлы",
        ),
        ({**HELD, "evidence_file": (io.BytesIO(b""), "пусто.pdf")}, ""),
        ({**HELD, "held_on": "2021-11-21"}, "2019/2020 учебный год"),
        ({**HELD, "held_until": "2019-11-01"}, ""),
        ({**HELD, "evidence_url": "javascript:alert(1)"}, "http://"),
        ({**HELD, "students_count": "-5"}, ""),
    ):
        response = _answer(anonymous, path, **fields)
        assert response.status_code == 200, fields
        assert message in response.get_data(as_text=True)
        assert _record(app, event_id) is None, fields
    assert _stored(app) == stored_before


def _stored(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(m.StoredFile)).scalar_one()


@pytest.mark.usefixtures("fresh_db")
def test_the_link_closes_when_the_school_records_the_year_or_cancels_the_line(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event_id = _line(app, ids)
    school = client_as("school31")
    _ask(school, event_id)
    path = _link(app)
    anonymous = client_as("anonymous")
    with app.app_context():
        db.session.get(m.Event, event_id).state = "cancelled"
        db.session.commit()
    closed = anonymous.get(path).get_data(as_text=True)
    assert "больше не ждёт подтверждения" in closed and "confirm-held" not in closed
    assert _answer_blind(anonymous, path, HELD).status_code == 409
    with app.app_context():
        db.session.get(m.Event, event_id).state = "approved"
        db.session.add(
            m.EventExecution(event_id=event_id, school_id=ids["school31"], year=YEAR, status="held")
        )
        db.session.commit()
    recorded = anonymous.get(path).get_data(as_text=True)
    assert "уже записала" in recorded
    assert _answer_blind(anonymous, path, HELD).status_code == 409
    assert _record(app, event_id).status == "held"


def test_a_report_is_no_outcome_anywhere() -> None:
    """The rule's tables: reported is a status of the record, not counted, not an outcome."""
    from coop.plan_io.plan import COUNTED

    assert workflow.REPORTED in m.EXECUTION_STATUSES
    assert workflow.REPORTED not in COUNTED and workflow.REPORTED not in figures.COUNTED_STATUSES
    assert workflow.REPORTED not in {o.status for o in workflow.EVENT.outcomes}
    assert dt.timedelta(days=30) == confirmations.LIFETIME


@pytest.mark.usefixtures("fresh_db")
@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_the_link_shows_the_same_one_line_to_whoever_opens_it(
    app: Flask, client_as: Any, ids: dict[str, int], key: str
) -> None:
    """Signed in or not, as any role: the link alone says what the page shows."""
    event_id = _line(app, ids)
    _ask(client_as("school31"), event_id)
    path = _link(app)
    response = client_as(key).get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, key
    with app.app_context():
        title = db.session.get(m.Event, event_id).title
    assert f"«{title}»" in body and "Гимназ" not in body
    assert '<a href="/admin' not in body  # no door into the site from this page
