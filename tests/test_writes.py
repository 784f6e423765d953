"""Writing through the site: owner fields forced, foreign rows unreachable, the ORM as last guard."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import func, select, update

from coop import models as m
from coop import tenancy
from coop.access import AccessDenied
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token, loaded_version
from .test_added_fields import _record_form
from .test_journeys_workflow import _flashes

pytestmark = pytest.mark.usefixtures("fresh_db")


def _post_form(client: Any, url: str, data: dict[str, Any]) -> Any:
    page = client.get(url)
    assert page.status_code == 200, url
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data})


def _count(app: Flask, model: type, **where: Any) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).filter_by(**where)).scalar_one()


def _first(app: Flask, model: type, **where: Any) -> int:
    with app.app_context():
        return db.session.execute(select(model.id).filter_by(**where).order_by(model.id)).scalars().first()


def test_school_creates_a_programme_in_its_own_school_whatever_it_posts(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    response = _post_form(
        client,
        "/admin/programme/new/",
        {"school": ids["gymnasium17"], "title": "Подложная программа", "first_year": 2024, "last_year": 2026},
    )
    assert response.status_code == 302
    with app.app_context():
        programme = db.session.execute(
            select(m.Programme).filter_by(title="Подложная программа")
        ).scalar_one()
        assert programme.school_id == ids["school31"]
        assert (
            programme.created_by_id
            == db.session.execute(select(m.User.id).filter_by(email=ACCOUNTS["school31"].email)).scalar_one()
        )


def test_school_cannot_edit_or_delete_another_schools_rows(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    foreign = _first(app, m.Programme, school_id=ids["gymnasium17"])
    token = csrf_token(client.get("/admin/programme/new/").text)
    edit = client.post(f"/admin/programme/edit/?id={foreign}", data={"csrf_token": token, "title": "взлом"})
    assert edit.status_code == 404
    delete = client.post("/admin/programme/delete/", data={"csrf_token": token, "id": foreign})
    assert delete.status_code == 404
    foreign_events = _count(app, m.Event, school_id=ids["gymnasium17"])
    event_ids = [str(_first(app, m.Event, school_id=ids["gymnasium17"]))]
    client.post(
        "/admin/event/action/",
        data={"csrf_token": token, "action": "delete", "rowid": event_ids, "url": "/admin/event/"},
    )
    assert _count(app, m.Event, school_id=ids["gymnasium17"]) == foreign_events
    with app.app_context():
        assert db.session.get(m.Programme, foreign).title != "взлом"


def test_coordinator_writes_nothing_of_the_schools_data(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("coordinator")
    assert client.get("/admin/programme/new/").status_code == 403
    event = _first(app, m.Event, school_id=ids["school31"])
    assert client.get(f"/admin/event/edit/?id={event}").status_code == 403
    token = csrf_token(client.get("/admin/remark/new/").text)
    response = client.post("/admin/event/delete/", data={"csrf_token": token, "id": event})
    assert response.status_code == 403
    assert _count(app, m.Event, id=event) == 1


def test_partner_creates_events_only_for_schools_it_has_an_agreement_with(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("kemsu")
    page = client.get("/admin/event/new/")
    options = re.findall(
        r'<option[^>]*value="(\d+)"', page.text.split('name="school"', 1)[1].split("</select>")[0]
    )
    assert options == [str(ids["school31"])]
    before = _count(app, m.Event)
    refused = _post_form(
        client,
        "/admin/event/new/",
        {"school": ids["gymnasium17"], "title": "Чужое мероприятие", "state": "draft"},
    )
    # The form's picker stops it first (the school is not among its choices)…
    assert refused.status_code == 200  # the form again, with the error
    picker = refused.text.split('name="school"', 1)[1].split("</select>")[1].split('name="', 1)[0]
    assert "text-danger" in picker
    assert "Not a valid choice" not in picker and "Недопустимое значение" in picker, picker
    assert _count(app, m.Event) == before
    # …and the rule itself, past the form, at the flush (coop.tenancy) as in the policy.
    with app.test_request_context():
        with tenancy.as_system():
            partner = db.session.execute(select(m.User).filter_by(email=ACCOUNTS["kemsu"].email)).scalar_one()
        g.principal = partner
        stray = m.Event(school_id=ids["gymnasium17"], partner_id=ids["kemsu"], title="Чужое мероприятие")
        db.session.add(stray)
        with pytest.raises(AccessDenied, match=r"^event\.create: .*for a school it has an agreement with"):
            db.session.flush()
        db.session.rollback()
    assert _count(app, m.Event) == before
    created = _post_form(
        client,
        "/admin/event/new/",
        {
            "school": ids["school31"],
            "partner": ids["museum"],
            "title": "Лекторий КемГУ",
            "timing_text": "ноябрь - апрель",
            "state": "draft",
        },
    )
    assert created.status_code == 302
    with app.app_context():
        event = db.session.execute(select(m.Event).filter_by(title="Лекторий КемГУ")).scalar_one()
        assert (event.school_id, event.partner_id) == (ids["school31"], ids["kemsu"])
        assert event.months == (11, 12, 1, 2, 3, 4)


def test_partner_cannot_edit_an_approved_event(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event = _first(app, m.Event, school_id=ids["school31"], partner_id=ids["kemsu"])
    assert client_as("kemsu").get(f"/admin/event/edit/?id={event}").status_code == 403


def test_export_escapes_spreadsheet_formulas(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    response = _post_form(
        client,
        "/admin/partner/new/",
        {"name": '=HYPERLINK("http://evil","x")', "short_name": "@SUM(1)", "sphere": "social"},
    )
    assert response.status_code == 302
    csv = client.get("/admin/partner/export/csv/?search=HYPERLINK").get_data(as_text=True)
    assert "'=HYPERLINK" in csv and "'@SUM(1)" in csv
    assert ",=HYPERLINK" not in csv and '"=HYPERLINK' not in csv


def _unscoped_user(user_id: int) -> m.User:
    return db.session.execute(
        select(m.User).filter_by(id=user_id), execution_options={"skip_scope": True}
    ).scalar_one()


def test_orm_scopes_every_query_of_a_request(app: Flask, ids: dict[str, int]) -> None:
    """A door forgotten in a view (session.get, bulk update) is still shut."""
    with app.app_context():
        foreign = _first(app, m.Event, school_id=ids["gymnasium17"])
        own_count = _count(app, m.Event, school_id=ids["school31"])
        user = db.session.execute(select(m.User).filter_by(email=ACCOUNTS["school31"].email)).scalar_one()
    with app.test_request_context():
        g.principal = _unscoped_user(user.id)
        assert db.session.get(m.Event, foreign) is None
        assert db.session.execute(select(func.count()).select_from(m.Event)).scalar_one() == own_count
        result = db.session.execute(update(m.Event).values(description="массово"))
        assert result.rowcount == own_count
        db.session.rollback()


def test_flush_refuses_a_write_the_policy_forbids(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        foreign = _first(app, m.Programme, school_id=ids["gymnasium17"])
        coordinator = db.session.execute(
            select(m.User).filter_by(email=ACCOUNTS["coordinator"].email)
        ).scalar_one()
    with app.test_request_context():
        g.principal = _unscoped_user(coordinator.id)
        programme = db.session.get(m.Programme, foreign)
        programme.title = "правка координатора"
        with pytest.raises(AccessDenied):
            db.session.flush()
        db.session.rollback()


def test_anonymous_request_reads_nothing(app: Flask) -> None:
    with app.test_request_context():
        g.principal = None
        assert db.session.execute(select(m.School)).all() == []


def test_a_school_account_without_a_school_gets_a_clear_message(app: Flask, client_as: Any) -> None:
    client = client_as("admin")
    response = _post_form(
        client,
        "/admin/user/new/",
        {"email": "new@coop.example", "role": "school", "new_password": "long-enough-pw"},
    )
    assert response.status_code == 200
    assert "Для пользователя с ролью «Школа» укажите школу." in response.text
    assert "Для пользователя с ролью «Школа» укажите школу." not in client.get("/admin/user/new/").text
    assert _count(app, m.User, email="new@coop.example") == 0


def test_a_duplicate_name_is_refused_without_sql_in_the_message(app: Flask, client_as: Any) -> None:
    client = client_as("admin")
    with app.app_context():
        taken = db.session.execute(select(m.School.name).limit(1)).scalar_one()
    response = _post_form(client, "/admin/school/new/", {"name": taken, "short_name": "Дубликат"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "INSERT" not in body and "IntegrityError" not in body
    assert _count(app, m.School, short_name="Дубликат") == 0


@pytest.mark.parametrize("rowid", ["1,2", "abc", "1 OR 1=1"])
def test_malformed_row_ids_in_an_action_get_a_message(app: Flask, client_as: Any, rowid: str) -> None:
    client = client_as("school31")
    before = _count(app, m.Event)
    token = csrf_token(client.get("/admin/event/").text)
    response = client.post(
        "/admin/event/action/", data={"csrf_token": token, "action": "delete", "rowid": [rowid]}
    )
    assert response.status_code == 302
    said = _flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert said == [("danger", "Выбор недействителен: обновите список и повторите.")]
    assert _count(app, m.Event) == before


@pytest.mark.parametrize("action", ["workflow_approve", "delete", "no_such_action"])
def test_an_action_its_user_may_not_fire_or_that_is_none_does_nothing(
    app: Flask, client_as: Any, ids: dict[str, int], action: str
) -> None:
    """The coordinator reads every plan and approves and deletes none: an action posted all
    the same (or one no list offers) changes nothing and lands back on the list it came from."""
    with app.app_context():
        submitted = db.session.execute(select(m.Event).filter_by(school_id=ids["school31"])).scalars().first()
        submitted.state = "submitted"
        db.session.commit()
        event_id = submitted.id
    client = client_as("coordinator")
    token = csrf_token(client.get("/admin/event/").text)
    back = "/admin/event/?page_size=100"
    data = {"csrf_token": token, "action": action, "rowid": [str(event_id)], "url": back}
    response = client.post("/admin/event/action/", data=data)
    assert response.status_code == 302 and response.headers["Location"] == back
    with app.app_context():
        row = db.session.get(m.Event, event_id)
        assert row.state == "submitted" and row.deleted_at is None


def test_an_unreadable_timing_is_kept_and_takes_months_set_by_hand(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    with app.app_context():
        partner = db.session.execute(select(m.Partner.id).filter_by(short_name="СибГИУ")).scalar_one()
    response = _post_form(
        client,
        "/admin/event/new/",
        {
            "partner": partner,
            "title": "Экскурсия по согласованию",
            "timing_text": "по согласованию с вузом",
            "manual_months": ["10", "3"],
            "state": "approved",
        },
    )
    assert response.status_code == 302
    flagged = _post_form(
        client,
        "/admin/event/new/",
        {"partner": partner, "title": "Без месяцев", "timing_text": "по плану вуза", "state": "approved"},
    )
    assert "не распознаны" in client.get(flagged.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        event = db.session.execute(select(m.Event).filter_by(title="Экскурсия по согласованию")).scalar_one()
        assert (event.timing_text, event.timing_recognized, event.months) == (
            "по согласованию с вузом",
            False,
            (10, 3),
        )
        bare = db.session.execute(select(m.Event).filter_by(title="Без месяцев")).scalar_one()
        assert (bare.timing_recognized, bare.months) == (False, ())


def test_a_timing_with_a_year_limits_the_line_to_that_year(app: Flask) -> None:
    event = m.Event(title="x")
    event.set_timing("октябрь 2020")
    assert (event.months, event.first_year, event.last_year) == ((10,), 2020, 2020)
    event.set_timing("2019-2023гг.")
    assert (event.all_year, event.first_year, event.last_year) == (True, 2019, 2022)


def test_a_save_over_a_newer_version_is_refused_naming_what_changed(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    """Two tabs open on one record: the second save says what the first changed and by whom,
    keeps its own input in the form, and saves on the next try."""
    record_id = _first(app, m.EventExecution, school_id=ids["school31"])
    with app.app_context():
        data = _record_form(db.session.get(m.EventExecution, record_id))
    school = client_as("school31")
    url = f"/admin/eventexecution/edit/?id={record_id}"
    first, second = school.get(url).text, school.get(url).text

    def save(page: str, results: str) -> Any:
        return school.post(
            url,
            data={
                **data,
                "csrf_token": csrf_token(page),
                "loaded_version": loaded_version(page),
                "results": results,
            },
        )

    assert save(first, "Проведена экскурсия").status_code == 302
    refused = save(second, "Проведена лекция")
    assert refused.status_code == 200
    assert (
        "Пока вы редактировали эту запись, её сохранил другой пользователь "
        "(Результаты: «Проведена экскурсия» (school31@coop.example)). Введённые вами данные остались"
    ) in html.unescape(refused.text)
    # …as an error: the alert it stands in is the red one.
    at = refused.text.index("Пока вы редактировали")
    alert = refused.text[refused.text.rindex('class="alert ', 0, at) :].split('"')[1]
    assert "alert-danger" in alert.split(), alert
    assert re.search(r'<textarea[^>]*name="results"[^>]*>\s*Проведена лекция</textarea>', refused.text)
    with app.app_context():
        assert db.session.get(m.EventExecution, record_id).results == "Проведена экскурсия"
    assert save(refused.text, "Проведена лекция").status_code == 302
    with app.app_context():
        assert db.session.get(m.EventExecution, record_id).results == "Проведена лекция"


@pytest.mark.parametrize(
    ("loaded", "named"),
    [
        # Not a number: every change the history holds is named, the demo's first among them.
        (
            "abc",
            [
                "Учебный год: «2019/2020» (system)",
                "Результаты: «Проведена экскурсия» (school31@coop.example)",
                "Родители: «4» (school31@coop.example)",
            ],
        ),
        # A version yet to come: nothing to name.
        ("999", ["без сведений о полях"]),
    ],
)
def test_a_tampered_version_is_refused_as_a_conflict(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None, loaded: str, named: list[str]
) -> None:
    """A loaded_version no edit page gave: the save is refused with the conflict's message
    (never a 500), and nothing is written."""
    record_id = _first(app, m.EventExecution, school_id=ids["school31"])
    with app.app_context():
        data = _record_form(db.session.get(m.EventExecution, record_id))
    school = client_as("school31")
    url = f"/admin/eventexecution/edit/?id={record_id}"

    def save(version: str, **fields: str) -> Any:
        page = school.get(url).text
        form = {
            **data,
            "csrf_token": csrf_token(page),
            "loaded_version": version or loaded_version(page),
            **fields,
        }
        return school.post(url, data=form)

    assert save("", results="Проведена экскурсия", parents_count="4").status_code == 302
    refused = save(loaded, results="Подмена")
    assert refused.status_code == 200
    message = re.search(r"её сохранил другой пользователь \((.*?)\)\. Введённые", html.unescape(refused.text))
    assert message is not None
    changes = message.group(1).split("; ")
    assert set(named) <= set(changes), changes
    if len(changes) > 1:  # each change whole: «name: «value» (who)»
        assert all(re.fullmatch(r"[^:;]+: «[^«»]*(«[^«»]*»[^«»]*)?» \([\w.@]+\)", c) for c in changes), (
            changes
        )
    with app.app_context():
        assert db.session.get(m.EventExecution, record_id).results == "Проведена экскурсия"
