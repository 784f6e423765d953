"""The holes a hostile user found where a rule had two homes, each shut, and the
visibility and workflow tables read as tables (coop/access.py, coop/workflow.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from coop import access, tenancy, trash, workflow
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token

pytestmark = pytest.mark.usefixtures("fresh_db")


def _user(key: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


def _event_of(partner_id: int, school_id: int) -> m.Event:
    return (
        db.session.execute(
            select(m.Event).filter_by(partner_id=partner_id, school_id=school_id).order_by(m.Event.id)
        )
        .scalars()
        .first()
    )


# --- the coordinator writes none of the schools' data --------------------------------


def test_the_coordinator_makes_no_calendar_subscription(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("coordinator")
    page = client.get(f"/admin/calendar/?school={ids['school31']}&year=2019")
    assert page.status_code == 200
    assert "/admin/calendar/feed/" not in page.text
    response = client.post(
        f"/admin/calendar/feed/?school={ids['school31']}", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(m.CalendarFeed)).scalar_one() == 0


def test_a_school_still_makes_its_own_subscription(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("school31")
    page = client.get("/admin/calendar/?year=2019")
    response = client.post(
        f"/admin/calendar/feed/?school={ids['school31']}", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    with app.app_context():
        feed = db.session.execute(select(m.CalendarFeed)).scalar_one()
        assert feed.school_id == ids["school31"] and feed.created_by_id == _user("school31").id


# --- a partner reads the names of its agreed schools, nothing more ------------------------


def test_a_partner_reads_only_the_names_of_its_agreed_schools(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        school = db.session.get(m.School, ids["school31"])
        school.director, school.email, school.phone = (
            "Иванова Мария Петровна",
            "sosh31@example.ru",
            "+7 3843 11-22-33",
        )
        school.address = "ул. Тестовая, 31"
        db.session.commit()
        name = school.short_name
    client = client_as("kemsu")
    pages = [
        client.get("/admin/school/"),
        client.get(f"/admin/school/details/?id={ids['school31']}"),
        client.get("/admin/school/export/csv/"),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert name in body
        for secret in ("Иванова", "sosh31@example.ru", "11-22-33", "Тестовая"):
            assert secret not in body
    # Nor by searching or filtering on what it may not read.
    assert client.get("/admin/school/?search=Тестовая").status_code == 200
    by_city = client.get("/admin/school/?flt0_0=Новокузнецк").get_data(as_text=True)
    assert name in by_city  # the filter is not applied for a reader of names only
    # The school itself still reads its whole card.
    assert "Иванова" in client_as("school31").get(f"/admin/school/details/?id={ids['school31']}").text


# --- the history of a table: for those who read that table's rows ---------------------


def test_the_history_of_user_accounts_is_the_admins_alone(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        colleague = m.User(
            email="zavuch31@coop.example", name="Завуч Сидорова", role="school", school_id=ids["school31"]
        )
        db.session.add(colleague)
        db.session.commit()
        assert db.session.execute(
            select(func.count()).select_from(m.History).filter_by(table_name="users", row_id=colleague.id)
        ).scalar_one()
    for key in ("school31", "coordinator"):
        page = client_as(key).get("/admin/history/?search=Сидорова").get_data(as_text=True)
        assert "Завуч Сидорова" not in page, key
    assert "Завуч Сидорова" in client_as("admin").get("/admin/history/?search=Сидорова").text


def test_a_partner_reads_its_events_history_without_staff_addresses(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        event_id = _event_of(ids["kemsu"], ids["school31"]).id
    school = client_as("school31")
    form_page = school.get(f"/admin/event/edit/?id={event_id}").text
    assert "school31@coop.example" not in client_as("kemsu").get(f"/admin/event/details/?id={event_id}").text
    fired = school.post(
        f"/admin/event/transition/?id={event_id}",
        data={"csrf_token": csrf_token(form_page), "transition": "return", "comment": "Уточните сроки"},
    )
    assert fired.status_code == 302
    page = client_as("kemsu").get(f"/admin/event/details/?id={event_id}").text
    assert "Уточните сроки" in page  # what happened, and why
    assert "school31@coop.example" not in page and "127.0.0.1" not in page
    assert "Сотрудник" in page  # the school user who returned it, unnamed
    assert "Система" in page  # the demo loaded from the command line
    assert "school31@coop.example" in school.get(f"/admin/event/details/?id={event_id}").text


# --- a partner's events: its own, at schools it has an agreement with ----------------


def test_a_partner_sees_no_event_at_a_school_it_has_no_agreement_with(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        assert ids["gymnasium17"] not in access.agreed_school_ids(_user("kemsu"))
        stray = m.Event(school_id=ids["gymnasium17"], partner_id=ids["kemsu"], title="Лекция без соглашения")
        db.session.add(stray)
        db.session.commit()
        stray_id = stray.id
    client = client_as("kemsu")
    assert "Лекция без соглашения" not in client.get("/admin/event/").text
    assert client.get(f"/admin/event/details/?id={stray_id}").status_code == 404


def test_an_agreement_in_the_trash_grants_a_partner_nothing(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        event = _event_of(ids["kemsu"], ids["school31"])
        event_id, record_id = event.id, event.executions[0].id
        agreements = (
            db.session.execute(
                select(m.Agreement).filter_by(partner_id=ids["kemsu"], school_id=ids["school31"])
            )
            .scalars()
            .all()
        )
        for agreement in agreements:
            trash.discard(agreement)
        agreement_ids = [agreement.id for agreement in agreements]
        numbers = [agreement.number for agreement in agreements]
        db.session.commit()
    client = client_as("kemsu")
    assert client.get(f"/admin/event/details/?id={event_id}").status_code == 404
    assert client.get(f"/admin/eventexecution/details/?id={record_id}").status_code == 404
    assert client.get(f"/admin/school/details/?id={ids['school31']}").status_code == 404
    for agreement_id in agreement_ids:
        assert client.get(f"/admin/agreement/details/?id={agreement_id}").status_code == 404
    listing = client.get("/admin/agreement/").text
    assert numbers and not any(number in listing for number in numbers)


def test_the_orm_guard_gives_a_partner_its_side_to_read_and_nothing_to_write(
    app: Flask, ids: dict[str, int]
) -> None:
    """Under every view (coop/tenancy.py): a partner's agreements and its events' records
    are read-only, and every other row of a school stays shut."""
    with app.test_request_context():
        with tenancy.as_system():
            neighbours = (
                db.session.execute(select(m.Agreement.id).where(m.Agreement.partner_id != ids["kemsu"]))
                .scalars()
                .all()
            )
            partner = _user("kemsu")
        g.principal = partner
        agreements = db.session.execute(select(m.Agreement)).scalars().all()
        assert [a.partner_id for a in agreements] == [ids["kemsu"]]
        assert all(db.session.get(m.Agreement, other) is None for other in neighbours)
        records = db.session.execute(select(m.EventExecution)).scalars().all()
        assert records and {r.event.partner_id for r in records} == {ids["kemsu"]}
        for model in (m.Programme, m.Seminar, m.Limitation, m.Remark, m.StoredFile):
            assert db.session.execute(select(model)).first() is None, model.__name__
        writes = (
            lambda: setattr(agreements[0], "subject", "Подделка"),
            lambda: setattr(agreements[0], "state", "terminated"),
            lambda: setattr(records[0], "results", "Подделка"),
            lambda: db.session.add(
                m.EventExecution(event=records[0].event, school_id=ids["school31"], year=2030)
            ),
            lambda: db.session.delete(records[0]),
        )
        for write in writes:
            write()
            with pytest.raises(access.AccessDenied):
                db.session.flush()
            db.session.rollback()
            agreements = db.session.execute(select(m.Agreement)).scalars().all()
            records = db.session.execute(select(m.EventExecution)).scalars().all()


# --- the refusal names its rule -------------------------------------------------------


def test_access_denied_names_the_rule_that_refused(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        event = _event_of(ids["kemsu"], ids["school31"])
        event.state = "submitted"
        with pytest.raises(access.AccessDenied, match=r"event\.edit: .*state lets the proposer edit"):
            access.require(_user("kemsu"), "event.edit", event)
        event.state = "draft"
        access.require(_user("kemsu"), "event.edit", event)
        with pytest.raises(access.AccessDenied, match="no such permission"):
            access.require(_user("admin"), "event.fly")


# --- the workflow's table -------------------------------------------------------------


@pytest.mark.parametrize("model", list(workflow.WORKFLOWS))
def test_every_state_is_reachable_from_an_initial_state(model: type) -> None:
    flow = workflow.WORKFLOWS[model]
    reached, frontier = set(flow.initial.values()), list(flow.initial.values())
    while frontier:
        state = frontier.pop()
        for transition in flow.transitions:
            if state in transition.source and transition.target not in reached:
                reached.add(transition.target)
                frontier.append(transition.target)
    assert reached == set(flow.states)
    for transition in flow.transitions:
        assert transition.source <= set(flow.states) and transition.target in flow.states, transition.name
        assert _rule_exists(transition.permission), transition.permission
    assert set(flow.proposer_rights) <= set(flow.states)
    for worklist in flow.worklists.values():
        assert worklist.states and worklist.states <= set(flow.states)
        assert _rule_exists(worklist.permission)


def _rule_exists(permission: str) -> bool:
    area, _, action = permission.partition(".")
    return action in access.PERMISSIONS.get(area, {})


def test_the_review_queue_is_its_worklist(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    with app.app_context():
        events = (
            db.session.execute(
                select(m.Event).filter_by(school_id=ids["school31"]).order_by(m.Event.id).limit(3)
            )
            .scalars()
            .all()
        )
        for event, state in zip(events, ("submitted", "draft", "approved"), strict=True):
            event.state, event.title = state, f"Строка в состоянии {state}"
        db.session.commit()
    page = client_as("school31").get("/admin/review/").text
    assert "Строка в состоянии submitted" in page
    assert "Строка в состоянии draft" not in page and "Строка в состоянии approved" not in page
    assert "(1)" in client_as("school31").get("/admin/event/").text  # the menu's count


def test_the_initial_state_is_chosen_by_the_workflow_alone(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        event = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title="Без состояния")
        remark = m.Remark(school_id=ids["school31"], text="Замечание")
        programme = m.Programme(school_id=ids["school31"], title="П", first_year=2024, last_year=2025)
        db.session.add_all([event, remark, programme])
        db.session.commit()
        assert (event.state, remark.state, programme.state) == ("approved", "open", "draft")


def test_a_partners_new_event_starts_as_a_draft(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("kemsu")
    page = client.get("/admin/event/new/").text
    response = client.post(
        "/admin/event/new/",
        data={"csrf_token": csrf_token(page), "school": ids["school31"], "title": "Предложение партнёра"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.execute(select(m.Event.state).filter_by(title="Предложение партнёра")).scalar_one()
            == "draft"
        )


def test_the_answer_to_a_remark_is_written_by_its_transition(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        remark = m.Remark(school_id=ids["school31"], text="Нет протокола")
        db.session.add(remark)
        db.session.commit()
        workflow.fire(_user("admin"), remark, "answer", "  Протокол приложен  ")
        assert (remark.state, remark.response) == ("answered", "Протокол приложен")


# --- the rules' helpers on their own -----------------------------------------------------


def test_a_principal_without_a_sign_in_flag_has_no_role() -> None:
    """Only a signed-in principal has a role: one that does not say so has none."""
    assert access.role_of(SimpleNamespace(role="admin")) is None
    assert access.role_of(SimpleNamespace(role="admin", is_authenticated=False)) is None
    assert access.role_of(SimpleNamespace(role="admin", is_authenticated=True)) == "admin"


def _partners_agreed_with(school_id: int) -> frozenset[int]:
    stmt = select(m.Agreement.partner_id).where(m.Agreement.school_id == school_id)
    return frozenset(db.session.execute(stmt, execution_options={"skip_scope": True}).scalars())


def test_the_agreed_partners_are_read_once_a_request_and_per_school(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        school31, gymnasium17 = _user("school31"), _user("gymnasium17")
        want31, want17 = _partners_agreed_with(ids["school31"]), _partners_agreed_with(ids["gymnasium17"])
        assert want31 != want17  # the demo's schools work with different partners
        statements: list[str] = []

        def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        with app.test_request_context():
            sa_event.listen(db.engine, "before_cursor_execute", note)
            try:
                assert access.agreed_partner_ids(school31) == want31
                assert access.agreed_partner_ids(school31) == want31
                assert len(statements) == 1  # the second answer came from the request's cache
                assert access.agreed_partner_ids(gymnasium17) == want17  # another school: its own
            finally:
                sa_event.remove(db.engine, "before_cursor_execute", note)


def test_outside_a_request_the_agreed_partners_are_read_afresh(app: Flask, ids: dict[str, int]) -> None:
    """No request, no cache: a CLI command sees the agreement it has just written."""
    with app.app_context():
        school = _user("school31")
        before = access.agreed_partner_ids(school)
        other = db.session.execute(select(m.Partner.id).where(m.Partner.id.notin_(before))).scalars().first()
        assert other is not None
        agreement = (
            db.session.execute(select(m.Agreement).filter_by(school_id=ids["school31"])).scalars().first()
        )
        db.session.add(
            m.Agreement(
                school_id=ids["school31"], partner_id=other, programme_id=agreement.programme_id, number="T-1"
            )
        )
        db.session.flush()
        assert access.agreed_partner_ids(school) == before | {other}
        db.session.rollback()


def test_a_row_without_the_reference_has_none() -> None:
    assert access._ref_id(SimpleNamespace(), "school") is None
    assert access._ref_id(SimpleNamespace(school_id=7), "school") == 7


def test_whether_a_school_reads_the_history_of_something_that_is_no_table(app: Flask) -> None:
    with app.app_context():
        school = _user("school31")
        assert access.reads_history_of(school, m.Event)
        assert not access.reads_history_of(school, object)


def test_require_on_judges_the_row_not_only_the_model(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        school = _user("school31")
        foreign = (
            db.session.execute(select(m.Event).filter_by(school_id=ids["gymnasium17"])).scalars().first()
        )
        own = db.session.execute(select(m.Event).filter_by(school_id=ids["school31"])).scalars().first()
        access.require_on(school, "edit", m.Event)  # the model: a school edits plan lines
        access.require_on(school, "edit", m.Event, own)
        with pytest.raises(access.AccessDenied):
            access.require_on(school, "edit", m.Event, foreign)
