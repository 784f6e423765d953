"""Workflow as a table: partners propose, schools decide; every step is in the history;
two people editing one record never overwrite each other silently."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask_babel import gettext
from sqlalchemy import func, select

from coop import models as m
from coop import workflow
from coop.extensions import db
from coop.views import plan as plan_views

from .conftest import ACCOUNTS, csrf_token

pytestmark = pytest.mark.usefixtures("fresh_db")


def _event_id(app: Flask, title: str) -> int:
    with app.app_context():
        return db.session.execute(select(m.Event.id).filter_by(title=title)).scalar_one()


def _state(app: Flask, model: type, row_id: int) -> str:
    with app.app_context():
        return db.session.execute(select(model.state).filter_by(id=row_id)).scalar_one()


def _fire(client: Any, area: str, row_id: int, transition: str, comment: str = "") -> Any:
    page = client.get(f"/admin/{area}/details/?id={row_id}")
    return client.post(
        f"/admin/{area}/transition/?id={row_id}",
        data={"csrf_token": csrf_token(page.text), "transition": transition, "comment": comment},
    )


def _propose(app: Flask, client: Any, ids: dict[str, int], title: str) -> int:
    page = client.get("/admin/event/new/")
    response = client.post(
        "/admin/event/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "school": ids["school31"],
            "title": title,
            "timing_text": "май",
        },
    )
    assert response.status_code == 302
    return _event_id(app, title)


def test_partner_proposes_school_approves(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    event = _propose(app, partner, ids, "Летняя профильная школа КемГУ")
    assert _state(app, m.Event, event) == "draft"
    assert _fire(partner, "event", event, "submit").status_code == 302
    assert _state(app, m.Event, event) == "submitted"
    # Submitted: the partner can no longer edit it; the school sees it in its queue.
    assert partner.get(f"/admin/event/edit/?id={event}").status_code == 403
    queue = school.get("/admin/review/").get_data(as_text=True)
    assert "Летняя профильная школа КемГУ" in queue
    assert "(1)" in school.get("/admin/").get_data(as_text=True)  # the count in the menu
    # The partner may not approve its own proposal.
    _fire(partner, "event", event, "approve")
    assert _state(app, m.Event, event) == "submitted"
    approved = _fire(school, "event", event, "approve")
    assert _state(app, m.Event, event) == "approved"
    assert "Согласовано" in school.get(approved.headers["Location"]).text  # where it lands says so
    assert "Летняя профильная школа КемГУ" not in school.get("/admin/review/").get_data(as_text=True)
    assert "Летняя профильная школа КемГУ" in school.get("/admin/calendar/?year=2026").get_data(as_text=True)


def test_return_for_revision_needs_a_comment_and_records_it(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    event = _propose(app, partner, ids, "Мастер-класс по журналистике")
    _fire(partner, "event", event, "submit")
    refused = _fire(school, "event", event, "return")
    assert "комментарий" in school.get(refused.headers["Location"]).get_data(as_text=True)
    assert _state(app, m.Event, event) == "submitted"
    _fire(school, "event", event, "return", "Уточните сроки и классы")
    assert _state(app, m.Event, event) == "returned"
    with app.app_context():
        entry = (
            db.session.execute(
                select(m.History)
                .filter_by(table_name="events", row_id=event, action="transition")
                .order_by(m.History.id.desc())
            )
            .scalars()
            .first()
        )
        assert entry.comment == "Уточните сроки и классы"
        assert entry.user_email == ACCOUNTS["school31"].email
        assert entry.changes["state"] == ["submitted", "returned"]
    details = partner.get(f"/admin/event/details/?id={event}").get_data(as_text=True)
    assert "Уточните сроки и классы" in details  # the history tab


def test_school_creates_approved_events_directly(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    with app.app_context():
        partner = db.session.execute(select(m.Partner.id).filter_by(short_name="СибГИУ")).scalar_one()
    page = client.get("/admin/event/new/")
    client.post(
        "/admin/event/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "partner": partner,
            "title": "Экскурсия на производство",
            "timing_text": "март",
        },
    )
    assert _state(app, m.Event, _event_id(app, "Экскурсия на производство")) == "approved"


def test_bulk_transition_from_the_list(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    school = client_as("school31")
    with app.app_context():
        rows = (
            db.session.execute(
                select(m.Event.id).filter_by(school_id=ids["school31"], partner_id=ids["kemsu"]).limit(3)
            )
            .scalars()
            .all()
        )
    token = csrf_token(school.get("/admin/event/").text)
    # Held is said per academic year on the year's record, never of the line as a whole.
    school.post(
        "/admin/event/action/",
        data={"csrf_token": token, "action": "workflow_hold", "rowid": [str(r) for r in rows]},
    )
    assert {_state(app, m.Event, r) for r in rows} == {"approved"}
    school.post(
        "/admin/event/action/",
        data={"csrf_token": token, "action": "workflow_cancel", "rowid": [str(r) for r in rows]},
    )
    assert {_state(app, m.Event, r) for r in rows} == {"cancelled"}


def test_remark_answered_by_the_school_and_closed_by_the_coordinator(app: Flask, client_as: Any) -> None:
    with app.app_context():
        remark = db.session.execute(select(m.Remark.id)).scalars().first()
    school, coordinator = client_as("school31"), client_as("coordinator")
    _fire(school, "remark", remark, "answer", "Добавили анкету для родителей")
    assert _state(app, m.Remark, remark) == "answered"
    _fire(school, "remark", remark, "close")  # not the school's to close
    assert _state(app, m.Remark, remark) == "answered"
    _fire(coordinator, "remark", remark, "close")
    assert _state(app, m.Remark, remark) == "closed"
    with app.app_context():
        assert db.session.get(m.Remark, remark).response == "Добавили анкету для родителей"


def test_every_change_is_in_the_history(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    with app.app_context():
        programme = db.session.execute(select(m.Programme).filter_by(school_id=1)).scalars().first()
        programme_id, version = programme.id, programme.version
    page = client.get(f"/admin/programme/edit/?id={programme_id}")
    form = _form_fields(page.text)
    form.update({"goal": "Новая цель программы"})
    assert client.post(f"/admin/programme/edit/?id={programme_id}", data=form).status_code == 302
    with app.app_context():
        entry = (
            db.session.execute(
                select(m.History).filter_by(table_name="programmes", row_id=programme_id, action="update")
            )
            .scalars()
            .one()
        )
        assert entry.changes["goal"][1] == "Новая цель программы"
        assert entry.row_version == version + 1
        assert entry.ip == "127.0.0.1"


def _form_fields(html: str) -> dict[str, Any]:
    """The values a browser would post back from the edit form as loaded."""
    form = html.split('<form action="" method="POST"', 1)[-1].split("</form>", 1)[0]
    fields: dict[str, Any] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form):
        fields[name] = value
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = body.removeprefix("\r\n").removeprefix("\n")  # as a browser reads it
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        fields[name] = re.findall(
            r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', body
        )
        fields[name] = [a or b for a, b in fields[name]]
    return fields


def test_two_people_editing_one_event_never_overwrite_silently(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    first, second = client_as("school31"), client_as("admin")
    with app.app_context():
        event = (
            db.session.execute(select(m.Event.id).filter_by(school_id=ids["school31"]).order_by(m.Event.id))
            .scalars()
            .first()
        )
    url = f"/admin/event/edit/?id={event}"
    form_one, form_two = _form_fields(first.get(url).text), _form_fields(second.get(url).text)
    form_one["title"] = "Правка первого"
    form_one["timing_text"] = "октябрь, март"
    assert first.post(url, data=form_one).status_code == 302
    form_two["title"] = "Правка второго"
    conflict = second.post(url, data=form_two)
    body = conflict.get_data(as_text=True)
    assert conflict.status_code == 200
    assert "Правка первого" in body  # what the other person changed
    assert "Месяцы: «октябрь, март»" in body  # the months by name, not as a bit mask
    assert "Правка второго" in body  # the second person's input is kept in the form
    with app.app_context():
        assert db.session.get(m.Event, event).title == "Правка первого"
    # Saving again, knowingly, writes the second person's value.
    form_again = _form_fields(body)
    assert second.post(url, data=form_again).status_code == 302
    with app.app_context():
        assert db.session.get(m.Event, event).title == "Правка второго"


def test_history_cannot_be_edited_or_deleted_through_the_site(app: Flask, client_as: Any) -> None:
    admin = client_as("admin")
    with app.app_context():
        entry = db.session.execute(select(m.History.id)).scalars().first()
    assert admin.get(f"/admin/history/edit/?id={entry}").status_code == 403
    token = csrf_token(admin.get("/admin/history/").text)
    assert admin.post("/admin/history/delete/", data={"csrf_token": token, "id": entry}).status_code == 403
    assert admin.get("/admin/history/new/").status_code == 403


def test_workflow_table_is_consistent() -> None:
    """Every state of every workflow is reached from an initial state, and every state
    but a final one has a way out; each transition's cells: tests/test_workflow_table.py."""
    finals = {m.Event: set(), m.Agreement: {"completed", "terminated"}, m.Programme: {"completed"}}
    finals[m.Remark] = set()
    finals[m.DataRequestAnswer] = set()  # an accepted answer may still be returned
    for model, flow in workflow.WORKFLOWS.items():
        reached = set(flow.initial.values())
        while True:
            more = {t.target for t in flow.transitions if t.source & reached} - reached
            if not more:
                break
            reached |= more
        assert reached == set(flow.states), model
        stuck = {s for s in flow.states if not any(s in t.source for t in flow.transitions)}
        assert stuck == finals[model], model


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("anonymous", 302),
        ("admin", 200),
        ("coordinator", 403),
        ("school31", 200),
        ("gymnasium17", 200),
        ("kemsu", 403),
        ("museum", 403),
    ],
)
def test_review_queue_access(client_as: Any, key: str, status: int) -> None:
    response = client_as(key).get("/admin/review/")
    assert response.status_code == status
    if key == "gymnasium17":
        assert "СОШ № 31" not in response.get_data(as_text=True)


def _menu_label(app: Flask, text: str, count: int) -> str:
    with app.test_request_context():
        app.preprocess_request()  # the site's locale
        return gettext(text, count=count)


def test_the_menu_counts_what_awaits_the_user_and_caps_a_large_queue(
    app: Flask, client_as: Any, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():  # three lines of СОШ № 31 and two of Гимназия № 17 submitted
        already = db.session.execute(
            select(func.count()).select_from(m.Event).where(m.Event.state == "submitted")
        ).scalar_one()
        for school, count in ((ids["school31"], 3), (ids["gymnasium17"], 2)):
            lines = select(m.Event).filter_by(school_id=school).order_by(m.Event.id).limit(count)
            for event in db.session.execute(lines).scalars():
                event.state = "submitted"
        db.session.commit()
        submitted = db.session.execute(
            select(func.count()).select_from(m.Event).where(m.Event.state == "submitted")
        ).scalar_one()
    assert submitted == already + 5  # the demo's own proposals waiting too
    home = client_as("school31").get("/admin/").text
    assert _menu_label(app, "Awaiting approval (%(count)d)", 3) in home  # its own school's only
    home = client_as("admin").get("/admin/").text
    assert _menu_label(app, "Awaiting approval (%(count)d)", submitted) in home
    # Over the cap the menu says «N+» and counts no further.
    monkeypatch.setattr(plan_views, "REVIEW_COUNT_CAP", submitted - 1)
    home = client_as("admin").get("/admin/").text
    assert _menu_label(app, "Awaiting approval (%(count)d+)", submitted - 1) in home
    monkeypatch.setattr(plan_views, "REVIEW_COUNT_CAP", submitted)
    home = client_as("admin").get("/admin/").text
    assert _menu_label(app, "Awaiting approval (%(count)d)", submitted) in home
