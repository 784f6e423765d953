"""The secured base view's own checks and what it tells the person, tested with the ORM guard
(coop/tenancy.py's check at flush) detached where the guard would otherwise refuse first."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, get_flashed_messages
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.model.template import LinkRowAction
from flask_login import login_user
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from wtforms.validators import ValidationError

from coop import access, added_fields, labels, tenancy, trash, workflow
from coop import models as m
from coop.access import AccessDenied
from coop.extensions import db
from coop.views import loading

from .conftest import ACCOUNTS, csrf_token
from .test_labels import _view_of
from .test_uploads import PDF
from .test_workflow import _form_fields

pytestmark = pytest.mark.usefixtures("fresh_db")

DELETED = "Запись успешно удалена."
REFUSED = "У вас нет прав на это действие с данной записью."
CONFIRM = "Вы уверены что хотите удалить эту запись?"  # Flask-Admin's own Russian, asked by the page's script


@pytest.fixture
def guard_detached() -> Iterator[None]:
    """The session without the policy's check at flush: the view's checks stand alone."""
    sa_event.remove(Session, "before_flush", tenancy._check_flush)
    try:
        yield
    finally:
        sa_event.listen(Session, "before_flush", tenancy._check_flush)


def _partner_event(app: Flask, ids: dict[str, int], state: str) -> int:
    """A plan line kemsu proposed to school 31, in state."""
    with app.app_context(), tenancy.as_system():
        row = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title=f"Лекция КемГУ ({state})")
        row.state = state
        db.session.add(row)
        db.session.commit()
        return row.id


def _in_trash(app: Flask, event_id: int) -> bool:
    with app.app_context(), tenancy.as_system():
        row = db.session.get(m.Event, event_id, execution_options=trash.INCLUDE_DELETED)
        return row.deleted_at is not None


def _delete(client: Any, event_id: int) -> str:
    token = csrf_token(client.get("/admin/event/").text)
    response = client.post("/admin/event/delete/", data={"csrf_token": token, "id": event_id})
    assert response.status_code == 302, response.text
    return client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.usefixtures("guard_detached")
def test_the_view_alone_lets_a_partner_delete_its_draft_and_not_what_the_school_approved(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner = client_as("kemsu")
    draft, approved = _partner_event(app, ids, "draft"), _partner_event(app, ids, "approved")

    page = _delete(partner, approved)
    assert REFUSED in page and DELETED not in page
    assert not _in_trash(app, approved)

    page = _delete(partner, draft)
    assert DELETED in page and REFUSED not in page
    assert _in_trash(app, draft)


def test_a_refused_delete_says_so_and_never_that_it_deleted(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """With the guard in place too: one message, the refusal."""
    approved = _partner_event(app, ids, "approved")
    page = _delete(client_as("kemsu"), approved)
    assert REFUSED in page and DELETED not in page
    assert not _in_trash(app, approved)


@pytest.mark.parametrize(
    ("key", "model", "url"),
    [("school31", m.School, "/admin/school/edit/?id={}"), ("kemsu", m.Partner, "/admin/partner/edit/?id={}")],
)
def test_a_school_and_a_partner_save_their_own_cards(
    app: Flask, client_as: Any, ids: dict[str, int], key: str, model: type, url: str
) -> None:
    """Each may edit its own card and may create no school or partner: the save is judged as
    an edit."""
    client = client_as(key)
    url = url.format(ids[key])
    form = _form_fields(client.get(url).text)
    form["phone"] = "+7 (3842) 00-00-01"
    response = client.post(url, data=form)
    assert response.status_code == 302, response.text
    with app.app_context(), tenancy.as_system():
        assert db.session.execute(select(model.phone).filter_by(id=ids[key])).scalar_one() == form["phone"]


def test_a_partner_reads_no_added_field_of_a_record_it_reads_in_part(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """A partner reads its events' yearly records without the school's own columns (the
    policy's fields, coop/access.py): the added fields are not among them."""
    with app.app_context(), tenancy.as_system():
        record = (
            db.session.execute(
                select(m.EventExecution.id)
                .join(m.Event)
                .where(m.Event.partner_id == ids["kemsu"], m.Event.school_id == ids["school31"])
                .order_by(m.EventExecution.id)
            )
            .scalars()
            .first()
        )
        db.session.execute(update(m.EventExecution).filter_by(id=record).values(extra={"career_hours": 6}))
        db.session.commit()
    url = f"/admin/eventexecution/details/?id={record}"
    shown = client_as("school31").get(url).get_data(as_text=True)
    assert "Часы профминимума" in shown and "<td>6</td>" in shown
    partner = client_as("kemsu").get(url)
    assert partner.status_code == 200
    assert "Часы профминимума" not in partner.text and "<td>6</td>" not in partner.text


def test_a_views_edit_form_carries_the_version_it_was_loaded_at(app: Flask, ids: dict[str, int]) -> None:
    """On a view built here (the app's views were built before any test): the hidden field the
    edit conflict is judged by (SecuredModelView.update_model)."""
    view = type(_view_of(app, m.Programme))(m.Programme, endpoint="probe_programme")
    with app.test_request_context():
        with tenancy.as_system():
            admin = db.session.execute(select(m.User).filter_by(email=ACCOUNTS["admin"].email)).scalar_one()
            programme = (
                db.session.execute(select(m.Programme).filter_by(school_id=ids["school31"])).scalars().first()
            )
        login_user(admin)
        form = view.edit_form(programme)
        assert form.loaded_version.type == "HiddenField"
        assert form.loaded_version.data == str(programme.version)


def test_a_record_page_shows_its_workflow_state_and_a_record_without_one_shows_none(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("school31")
    approved = _partner_event(app, ids, "approved")
    page = school.get(f"/admin/event/details/?id={approved}").text
    assert re.search(r'<strong class="state-label">\s*Согласовано\s*</strong>', page)
    with app.app_context(), tenancy.as_system():
        # A state the workflow no longer names (a release renamed it) is shown as stored.
        db.session.execute(update(m.Event).filter_by(id=approved).values(state="archived"))
        db.session.commit()
    page = school.get(f"/admin/partner/details/?id={ids['kemsu']}").text  # a partner: no workflow
    assert "workflow-panel" not in page and "state-label" not in page
    page = school.get(f"/admin/event/details/?id={approved}").text
    assert re.search(r'<strong class="state-label">\s*archived\s*</strong>', page)


def _offered(client: Any) -> set[str]:
    """The bulk actions the events list offers its user (its «With selected» menu)."""
    return set(re.findall(r'data-model-action="([^"]+)"', client.get("/admin/event/").text))


def test_a_list_offers_the_bulk_transitions_its_user_may_fire(client_as: Any) -> None:
    """Those needing no comment, each for the role its permission names (coop/workflow.py)."""
    assert {"workflow_submit", "workflow_cancel"} & _offered(client_as("kemsu")) == {"workflow_submit"}
    school = _offered(client_as("school31"))
    assert {"workflow_approve", "workflow_cancel"} <= school and "workflow_submit" not in school
    assert "workflow_return" not in school  # a return needs its comment: one line at a time
    assert not {action for action in _offered(client_as("coordinator")) if action.startswith("workflow_")}


def test_a_views_bulk_transitions_come_from_its_workflow(app: Flask) -> None:
    """On views built here (the app's were built before any test): a plan line's view gets a
    bulk action for each transition needing no comment, firing that transition; a partner's
    view, whose rows have no workflow, none."""
    event = type(_view_of(app, m.Event))(m.Event, endpoint="probe_event_actions")
    partner = type(_view_of(app, m.Partner))(m.Partner, endpoint="probe_partner_actions")
    expected = [t for t in workflow.EVENT.transitions if not t.comment_required]
    assert [t.name for t in expected] == ["submit", "approve", "cancel", "reopen"]
    with app.test_request_context():
        actions = [(name, str(label)) for name, label in event._actions if name.startswith("workflow_")]
        assert actions == [(f"workflow_{t.name}", str(t.label)) for t in expected]
        for t in expected:
            fire, label, confirmation = event._actions_data[f"workflow_{t.name}"]
            assert (fire.func, fire.args, str(label), confirmation) == (
                event._fire_on_rows,
                (t.name,),
                str(t.label),
                None,
            )
        assert not [name for name, _label in partner._actions if name.startswith("workflow_")]


LINK = re.compile(
    r'<a class="icon" href="/admin/event/(\w+)/\?id=(\d+)&amp;url=[^"]*" title="([^"]*)" '
    r'aria-label="\3"><span class="([^"]+)" aria-hidden="true"></span></a>'
)
DELETE = re.compile(
    r'<button class="row-delete" form="([^"]+)" name="id" value="(\d+)" data-confirm="([^"]*)" '
    r'title="([^"]*)" aria-label="\4"><span class="fa fa-trash glyphicon glyphicon-trash" '
    r'aria-hidden="true"></span></button>'
)


def _row_buttons(page: str, row_id: int) -> list[tuple[str, str, str]]:
    """The buttons a list draws for one row, read whole: (what it does, its title, its icon
    or form); the cell holds them one space apart (as Flask-Admin's macros) and nothing else."""
    cells = re.findall(r'<td class="list-buttons-column">(.*?)</td>', page, re.S)
    (cell,) = [cell for cell in cells if f"?id={row_id}&amp;" in cell]
    buttons = re.findall(r"<a .*?</a>|<button .*?</button>", cell)
    assert " ".join(buttons) == cell
    found = []
    for button in buttons:
        if link := LINK.fullmatch(button):
            what, shown_id, title, icon = link.groups()
            found.append((what, title, icon))
        else:
            delete = DELETE.fullmatch(button)
            assert delete, button
            form, shown_id, confirm, title = delete.groups()
            assert confirm == CONFIRM
            found.append(("delete", title, form))
        assert shown_id == str(row_id)
    return found


def test_a_lists_row_buttons_are_those_its_user_may_press(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """A partner's draft: look, edit, delete; the line its school approved: look only."""
    draft, approved = _partner_event(app, ids, "draft"), _partner_event(app, ids, "approved")
    page = client_as("kemsu").get("/admin/event/?search=КемГУ&page_size=100").text
    look = ("details", "Просмотр записи", "fa fa-eye glyphicon glyphicon-eye-open")
    assert _row_buttons(page, draft) == [
        look,
        ("edit", "Редактировать запись", "fa fa-pencil glyphicon glyphicon-pencil"),
        ("delete", "Удалить запись", "row-delete-form"),
    ]
    assert _row_buttons(page, approved) == [look]


def list_column(app: Flask, model: type, name: str) -> int:
    """The index of a column in its list, as a list's `sort` argument names it."""
    return [column for column, _label in _view_of(app, model)._list_columns].index(name)


@contextmanager
def _signed_in(app: Flask, key: str) -> Iterator[m.User]:
    """A request of the account key, for calling a view's methods as that person."""
    with app.test_request_context():
        with tenancy.as_system():
            user = db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()
        login_user(user)
        tenancy._set_principal()  # as each request's start does
        yield user


def _agreements_of(school_id: int, partner_id: int | None = None) -> list[m.Agreement]:
    query = select(m.Agreement).filter_by(school_id=school_id).order_by(m.Agreement.id)
    if partner_id is not None:
        query = query.filter_by(partner_id=partner_id)
    return list(db.session.execute(query).scalars())


def test_the_attach_form_is_offered_by_both_rules_on_the_row_itself(
    app: Flask, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SecuredModelView.may_attach asks the table about the very row: may the user edit it,
    and may they file on it. The demo's table grants both alike on a school's rows, so each
    is narrowed here to refuse one agreement: that one alone loses the form."""
    view = _view_of(app, m.Agreement)
    with _signed_in(app, "school31"):
        first, second, *_ = _agreements_of(ids["school31"])
        assert view.may_attach(first) and view.may_attach(second)
        not_second = access.Rule("not the second", lambda u, o: o is None or o.id != second.id)
        for area, action in [("agreement", "edit"), ("storedfile", "create")]:
            with monkeypatch.context() as patch:
                patch.setitem(access.PERMISSIONS[area], action, access.PERMISSIONS[area][action] & not_second)
                assert view.may_attach(first), (area, action)
                assert not view.may_attach(second), (area, action)


def test_no_file_is_attached_through_a_view_that_keeps_none(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """The administrator may edit a partner's card and may file on any row; the partners'
    list keeps no files, so its attach door is shut."""
    admin = client_as("admin")
    token = csrf_token(admin.get("/admin/partner/").text)

    def attach(url: str) -> int:
        data = {"csrf_token": token, "file": (io.BytesIO(PDF), "Договор.pdf")}
        return admin.post(url, data=data, content_type="multipart/form-data").status_code

    assert attach(f"/admin/partner/attach/?id={ids['kemsu']}") == 403
    with app.app_context(), tenancy.as_system():
        assert db.session.execute(select(func.count()).select_from(m.StoredFile)).scalar_one() == 0
        agreement = _agreements_of(ids["school31"])[0].id
    assert attach(f"/admin/agreement/attach/?id={agreement}") == 302  # where files are kept
    with app.app_context(), tenancy.as_system():
        assert db.session.execute(select(func.count()).select_from(m.StoredFile)).scalar_one() == 1


def test_a_partner_is_given_no_file_of_an_agreement_it_reads(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """files_for answers for the page that asks it, the school's files to the school only."""
    with app.app_context(), tenancy.as_system():
        agreement = _agreements_of(ids["school31"], ids["kemsu"])[0].id
    school = client_as("school31")
    token = csrf_token(school.get(f"/admin/agreement/details/?id={agreement}").text)
    data = {"csrf_token": token, "file": (io.BytesIO(PDF), "Договор.pdf")}
    url = f"/admin/agreement/attach/?id={agreement}"
    assert school.post(url, data=data, content_type="multipart/form-data").status_code == 302
    view = _view_of(app, m.Agreement)
    with _signed_in(app, "school31"):
        row = db.session.get(m.Agreement, agreement)
        assert [file.original_name for file in view.files_for(row)] == ["Договор.pdf"]
    with _signed_in(app, "kemsu"):
        row = db.session.get(m.Agreement, agreement)
        assert row is not None  # the partner reads the agreement itself
        assert view.files_for(row) == []
        # Not only because the session would hide the school's files from the partner.
        sa_event.remove(Session, "do_orm_execute", tenancy._scope_statement)
        try:
            assert view.files_for(row) == []
        finally:
            sa_event.listen(Session, "do_orm_execute", tenancy._scope_statement)


def test_a_record_page_shows_the_newest_fifty_changes(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event = _partner_event(app, ids, "draft")
    with app.app_context(), tenancy.as_system():
        row = db.session.get(m.Event, event)
        for number in range(1, 56):
            row.title = f"Лекция КемГУ, правка {number}"
            db.session.commit()
    page = client_as("school31").get(f"/admin/event/details/?id={event}").get_data(as_text=True)
    history = page[page.index('class="table table-sm history-table"') :]
    history = history[: history.index("</table>")]
    titles = re.findall(r"правка (\d+)</div>", history)
    # Each edit's row shows its new title; the creation's row (the 56th entry) is not shown.
    assert titles == [str(number) for number in range(55, 5, -1)]
    assert history.count("<tr>") == 1 + 50  # the header's row and fifty entries


def test_a_list_offers_the_bulk_delete_to_whom_may_delete(client_as: Any) -> None:
    assert "delete" in _offered(client_as("school31"))
    assert "delete" not in _offered(client_as("coordinator"))  # reads every plan, deletes none


def test_a_views_look_ups_are_named_for_their_fields_and_read_through_the_policy(
    app: Flask, ids: dict[str, int]
) -> None:
    """On a view built here (the app's views were built before any test): each relation's
    look-up answers to its field's name, with the rows the user may see."""
    view = type(_view_of(app, m.Event))(m.Event, endpoint="probe_event_lookups")
    with _signed_in(app, "school31"):
        assert {name: loader.name for name, loader in view._form_ajax_refs.items()} == {
            "school": "school",
            "partner": "partner",
            "programme": "programme",
        }
        schools = view._form_ajax_refs["school"].get_list("")
        assert [row.id for row in schools] == [ids["school31"]]


def test_a_views_filter_on_a_related_table_joins_it(app: Flask, ids: dict[str, int]) -> None:
    """A filter on a column of another table (the school's town, on the plan) is joined as
    Flask-Admin joins it: only a LinkedFilter goes without (SecuredModelView.handle_filter)."""
    event_class = type(_view_of(app, m.Event))
    by_town = type(
        "ByTownView", (event_class,), {"column_filters": [sqla_filters.FilterEqual(m.School.city, "Город")]}
    )
    view = by_town(m.Event, endpoint="probe_event_by_town")
    with app.app_context(), tenancy.as_system():
        db.session.execute(update(m.School).filter_by(id=ids["gymnasium17"]).values(city="Кемерово"))
        db.session.commit()
        town = db.session.get(m.School, ids["school31"]).city
        expected = set(
            db.session.execute(select(m.Event.id).join(m.School).where(m.School.city == town)).scalars()
        )
        assert town != "Кемерово" and 0 < len(expected) < db.session.query(m.Event).count()
    with _signed_in(app, "admin"):
        count, rows = view.get_list(0, None, False, None, [(0, "city", town)], page_size=1000)
        assert {row.id for row in rows} == expected and count == len(expected)
        # Searched too: the search's joins and the filter's are one set.
        with tenancy.as_system():
            one = db.session.get(m.Event, min(expected))
        count, rows = view.get_list(0, None, False, one.title, [(0, "city", town)], page_size=1000)
        assert one.id in {row.id for row in rows} and {row.id for row in rows} <= expected


def test_a_row_action_the_list_cannot_draw_is_refused_by_name(app: Flask) -> None:
    """coop/list.html draws the row buttons row_buttons makes: look, edit, delete. Another
    kind declared on a view is refused when its list is drawn, by its name, not left out."""
    view = _view_of(app, m.Event)
    with _signed_in(app, "admin"), pytest.raises(TypeError) as refused:
        view.row_buttons([LinkRowAction("fa fa-link", "/somewhere/")], "/admin/event/")
    assert str(refused.value) == "LinkRowAction: a row action coop/list.html does not draw"


def test_the_authors_are_named_to_whom_the_table_gives_their_column(
    app: Flask, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partner reads its events' history without who among the staff did it (the history's
    user_email column is not among its fields): «Сотрудник»; given the column, their names."""
    event_id = _partner_event(app, ids, "draft")
    view = _view_of(app, m.Event)
    with app.app_context(), tenancy.as_system():
        staff = db.session.execute(select(m.User).filter_by(email=ACCOUNTS["school31"].email)).scalar_one()
        db.session.execute(update(m.Event).filter_by(id=event_id).values(updated_by_id=staff.id))
        db.session.commit()
        name = staff.name
    assert name

    def changed_by() -> str:
        with _signed_in(app, "kemsu"):
            (changed,) = [
                who
                for what, who, _when in view.stamp(db.session.get(m.Event, event_id))
                if what == "Изменено"
            ]
            return changed

    assert changed_by() == "Сотрудник"
    partners = access.VISIBILITY[m.History][access.PARTNER]
    assert partners.fields is not None and "user_email" not in partners.fields
    given = dataclasses.replace(partners, fields=(*partners.fields, "user_email"))
    monkeypatch.setitem(access.VISIBILITY[m.History], access.PARTNER, given)
    assert changed_by() == name


@pytest.mark.parametrize(
    ("key", "author", "expected"),
    [
        ("admin", "system", ("Система", "10.0.0.7")),
        ("kemsu", "system", ("Система", "")),
        ("admin", "", ("Система", "10.0.0.7")),  # before the system was named in the history
        ("admin", "guest@example.org", ("guest@example.org (по ссылке)", "10.0.0.7")),
        ("kemsu", "guest@example.org", ("По ссылке", "")),
        ("admin", "school31", ("school31@coop.example", "10.0.0.7")),
        ("kemsu", "school31", ("Сотрудник", "")),
        ("kemsu", "kemsu", ("kemsu@coop.example", "")),
    ],
)
def test_a_history_entrys_author_as_each_reader_may_read_it(
    app: Flask, key: str, author: str, expected: tuple[str, str]
) -> None:
    """The system, someone without an account acting by a link, a staff member, oneself: named
    with the address they came from to whom the history's columns are given (the admin), and
    no further than the policy lets a partner read."""
    view = _view_of(app, m.Event)
    with _signed_in(app, key):
        user_id, email = None, author
        if author in ACCOUNTS:
            with tenancy.as_system():
                account = db.session.execute(
                    select(m.User).filter_by(email=ACCOUNTS[author].email)
                ).scalar_one()
            user_id, email = account.id, account.email
        entry = m.History(user_id=user_id, user_email=email, ip="10.0.0.7", table_name="events", row_id=1)
        assert view.history_author(entry) == expected


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (AccessDenied("event.edit: row of own school"), "У вас нет прав на это действие с данной записью."),
        (added_fields.FieldValueError("Поле «Часы профминимума»: введите целое число."), None),
        (
            IntegrityError("INSERT INTO schools …", {}, Exception("UNIQUE constraint failed: schools.name")),
            "Запись не сохранена: такое значение уже есть или не заполнено обязательное поле.",
        ),
        (
            StaleDataError("UPDATE statement on table 'events' expected to update 1 row(s); 0 were matched."),
            "Запись тем временем изменил другой пользователь. Обновите страницу и повторите попытку.",
        ),
        (ValidationError("Укажите дату."), None),  # Flask-Admin's own
    ],
    ids=["refused", "added-field", "integrity", "stale", "validation"],
)
def test_a_save_that_fails_says_why_as_an_error_and_never_in_sql(
    app: Flask, error: Exception, message: str | None
) -> None:
    """What create, edit and delete raise (SecuredModelView.handle_view_exception): each said
    in Russian as an error, the database's own words never; None: the error's own text."""
    view = _view_of(app, m.Event)
    with _signed_in(app, "school31"):
        assert view.handle_view_exception(error) is True
        assert get_flashed_messages(with_categories=True) == [("error", message or str(error))]


def test_any_other_failure_of_a_save_is_left_to_flask_admin(app: Flask) -> None:
    """Not handled: Flask-Admin then says its own «Не удалось…» and logs the error."""
    view = _view_of(app, m.Event)
    with _signed_in(app, "school31"):
        assert view.handle_view_exception(ValueError("что-то иное")) is False
        assert get_flashed_messages() == []


def test_a_lists_csv_export_is_its_rows_whole(app: Flask, client_as: Any) -> None:
    """The export is read inside the request (SecuredModelView._export_csv) and sent whole: a
    header of the list's labels, then one line a school, nothing between them."""
    response = client_as("admin").get("/admin/school/export/csv/")
    assert response.status_code == 200
    header, *lines = csv.reader(io.StringIO(response.get_data(as_text=True)))
    view = _view_of(app, m.School)
    with app.test_request_context():
        assert header == [str(label) for _name, label in view._export_columns]
    with app.app_context(), tenancy.as_system():
        schools = db.session.execute(select(m.School.short_name, m.School.name).order_by(m.School.id)).all()
    short, name = header.index("Краткое наименование"), header.index("Полное наименование")
    assert sorted((line[short], line[name]) for line in lines) == sorted(tuple(row) for row in schools)


@pytest.mark.parametrize("desc", [0, 1])
def test_a_list_sorted_by_a_column_pages_in_that_order(app: Flask, client_as: Any, desc: int) -> None:
    """Each page holds the next rows in the column's order (the page's ids are chosen by it,
    SecuredModelView.get_list's deferred join), not the next by id sorted afterwards."""
    by_title = list_column(app, m.Event, "title")
    with app.app_context(), tenancy.as_system():
        title = m.Event.title.desc() if desc else m.Event.title
        every = list(db.session.execute(select(m.Event.title).order_by(title, m.Event.id)).scalars())
    client = client_as("admin")
    for page in (0, 1):
        shown = client.get(f"/admin/event/?sort={by_title}&desc={desc}&page_size=20&page={page}").text
        titles = re.findall(r'<td class="col-title[^"]*"[^>]*>\s*(.*?)\s*</td>', shown, re.S)
        assert [html.unescape(t) for t in titles] == every[page * 20 : page * 20 + 20]


def _school_names(client: Any, query: str = "") -> list[str]:
    page = client.get(f"/admin/school/?{query}").text
    return re.findall(r'<td class="col-short_name[^"]*"[^>]*>\s*(.*?)\s*</td>', page, re.S)


def test_a_list_is_not_filtered_by_a_column_its_reader_may_not_read(client_as: Any) -> None:
    """A partner reads the schools' names only (coop/access.py): a filter on their town, put
    in the address by hand, would tell it the town row by row; the list ignores it."""
    admin, partner = client_as("admin"), client_as("kemsu")
    assert _school_names(admin) and _school_names(admin, "flt0_0=Нигдеград") == []
    own = _school_names(partner)
    assert own and _school_names(partner, "flt0_0=Нигдеград") == own


def test_a_views_list_asked_for_no_page_size_reads_a_page_of_its_own(app: Flask) -> None:
    """get_list's page_size, as Flask-Admin's: none given, the view's page size."""
    view = _view_of(app, m.Event)
    with app.app_context(), tenancy.as_system():
        every = db.session.execute(select(func.count()).select_from(m.Event)).scalar_one()
    assert every > view.page_size  # the demo's plan is longer than a page
    with _signed_in(app, "admin"):
        count, rows = view.get_list(0, None, False, None, [])
        assert len(rows) == view.page_size and count == every


def test_a_deep_page_of_a_list_in_another_order_than_its_ids_counts_every_row(app: Flask) -> None:
    """The partners' list is in the order of their short names: its second page's count walks
    the whole list, not the ids from the page's first on (SecuredModelView._from_page)."""
    with app.app_context(), tenancy.as_system():
        for number in range(40):  # ids after the demo's, names before them («А…» sorts first)
            db.session.add(m.Partner(name=f"Партнёр {number:02d}", short_name=f"А-партнёр {number:02d}"))
        db.session.commit()
        every = db.session.execute(select(func.count()).select_from(m.Partner)).scalar_one()
    view = _view_of(app, m.Partner)
    with _signed_in(app, "admin"):
        count, rows = view.get_list(1, None, False, None, [], page_size=20)
        assert every > 40 and len(rows) == 20 and count == every  # a full page, not the last


def test_a_views_details_leave_out_the_bookkeeping_columns(app: Flask) -> None:
    """On a view built here (its details columns are worked out as it is built): a school's
    card, whose view lists no details of its own, shows its fields, not its version, trash or
    who-and-when (the page's one line says those)."""
    view = type(_view_of(app, m.School))(m.School, endpoint="probe_school_details")
    shown = [name for name, _label in view._details_columns]
    bookkeeping = [c.key for c in m.School.__mapper__.column_attrs if labels.is_bookkeeping(m.School, c.key)]
    assert {"version", "deleted_at", "created_at", "updated_by_id"} <= set(bookkeeping)
    assert {"name", "short_name", "city"} <= set(shown)
    assert not set(shown) & set(bookkeeping)


def test_a_view_may_name_its_eager_loads_by_attribute_or_by_name(app: Flask, statements: list[str]) -> None:
    """Flask-Admin's column_select_related_list takes either; a list loads both with its rows."""
    by_name = type(
        "ByNameView",
        (type(_view_of(app, m.Event)),),
        {"column_select_related_list": ["school", m.Event.partner]},
    )
    view = by_name(m.Event, endpoint="probe_event_by_name")
    with _signed_in(app, "admin"):
        _count, rows = view.get_list(0, None, False, None, [], page_size=20)
        assert rows
        before = len(statements)
        names = [(row.school.short_name, row.partner and row.partner.short_name) for row in rows]
        assert statements[before:] == [] and all(school for school, _partner in names)


def test_a_rows_page_loads_the_relations_it_shows_with_the_row(
    app: Flask, ids: dict[str, int], statements: list[str]
) -> None:
    """get_one loads each relation the form and details show in the row's own statements
    (SecuredModelView._row_loads): reading them asks the database nothing more."""
    view = _view_of(app, m.Event)
    shown = {*(view.form_columns or ()), *(name for name, _label in view._details_columns)}
    relations = sorted(name for name in shown if loading.relationship_of(m.Event, name) is not None)
    assert {"school", "partner", "programme"} <= set(relations)
    with app.app_context(), tenancy.as_system():
        event_id = (
            db.session.execute(select(m.Event.id).filter_by(school_id=ids["school31"])).scalars().first()
        )
    with _signed_in(app, "admin"):
        row = view.get_one(str(event_id))
        before = len(statements)
        for name in relations:
            getattr(row, name)
        assert statements[before:] == []


@pytest.mark.parametrize("desc", [0, 1])
def test_a_lists_export_is_in_the_lists_order(app: Flask, client_as: Any, desc: int) -> None:
    """An export reads every row (no page): in the order the list is sorted by."""
    by_title = list_column(app, m.Event, "title")
    with app.app_context(), tenancy.as_system():
        title = m.Event.title.desc() if desc else m.Event.title
        every = list(db.session.execute(select(m.Event.title).order_by(title, m.Event.id)).scalars())
    response = client_as("admin").get(f"/admin/event/export/csv/?sort={by_title}&desc={desc}")
    header, *lines = csv.reader(io.StringIO(response.get_data(as_text=True)))
    with app.test_request_context():
        column = header.index(str(labels.labels_of(m.Event)["title"]))
    assert [line[column] for line in lines] == every


def test_a_page_past_the_end_counts_the_rows_there_are(app: Flask) -> None:
    view = _view_of(app, m.School)
    with _signed_in(app, "admin"):
        count, rows = view.get_list(10, None, False, None, [], page_size=20)
        assert rows == [] and count == 2  # the demo's two schools, not the 200 before the page


def test_a_views_list_asked_not_to_run_gives_its_count_and_query(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_list(execute=False), as Flask-Admin's: the count and the page's query, not run;
    the count capped as a list's is (the search's lower cap only for a search)."""
    monkeypatch.setattr(loading, "SEARCH_COUNT_CAP", 5)
    view = _view_of(app, m.Event)
    with app.app_context(), tenancy.as_system():
        every = db.session.execute(select(func.count()).select_from(m.Event)).scalar_one()
    with _signed_in(app, "admin"):
        count, query = view.get_list(1, None, False, None, [], execute=False, page_size=20)
        assert every > 40 and count == every
        assert [row.id for row in query.all()] == [
            row.id for row in view.get_list(1, None, False, None, [], page_size=20)[1]
        ]


@pytest.mark.parametrize("execute", [True, False])
def test_a_searched_lists_count_stops_at_the_searchs_cap(
    app: Flask, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch, execute: bool
) -> None:
    """A search's hits are counted up to SEARCH_COUNT_CAP past the page (a lower bound, said
    «more than»), a list's rows up to COUNT_CAP: ranking every hit would cost more."""
    with app.app_context(), tenancy.as_system():
        for number in range(10):
            event = m.Event(school_id=ids["school31"], partner_id=ids["kemsu"], title=f"Звездочёт {number}")
            db.session.add(event)
        db.session.commit()
    monkeypatch.setattr(loading, "SEARCH_COUNT_CAP", 5)
    view = _view_of(app, m.Event)
    with _signed_in(app, "admin"):
        count, _rows = view.get_list(0, None, False, "звездочёт", [], execute=execute, page_size=2)
        assert isinstance(count, loading.CappedCount) and count == 6  # «more than 5»
        count, _rows = view.get_list(0, None, False, None, [], execute=execute, page_size=2)
        assert not isinstance(count, loading.CappedCount)
