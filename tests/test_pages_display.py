"""What a details page, a list, a form and a filter show: no bookkeeping columns but who created
and changed the row and when (to the minute, in the site's time zone); dates дд.мм.гггг;
academic years «2019/2020", offered as such in forms and filters."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from coop import formats
from coop import models as m
from coop.added_fields import PREFIX
from coop.extensions import db
from coop.saved_views import COLUMNS_ARG
from coop.timing import academic_year_of
from coop.views.base import _FormRules, _ReadableColumns, _state_with_reason
from coop.views.display import read_date, read_moment

ISO_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")


def _text(html: str) -> str:
    html = re.sub(r"(?s)<script.*?</script>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _first_record(app: Flask) -> m.EventExecution:
    with app.app_context():
        return db.session.execute(select(m.EventExecution).order_by(m.EventExecution.id)).scalars().first()


def test_a_details_page_shows_no_bookkeeping_columns(app: Flask, client_as: Any) -> None:
    record = _first_record(app)
    text = _text(client_as("school31").get(f"/admin/eventexecution/details/?id={record.id}").text)
    for technical in ("Версия", "В корзине с", "Пакет", "ID пользователя", "Дата создания", "Дата изменения"):
        assert technical not in text
    assert not re.search(r"\d\d:\d\d:\d\d", text)  # no seconds, no microseconds
    with app.app_context():
        created = formats.moment(record.created_at)
    assert f"Создано: Система, {created}" in text
    assert "Учебный год 2019/2020" in text


def test_created_and_changed_name_the_people_as_the_history_does(
    app: Flask, client_as: Any, fresh_db: None
) -> None:
    """A school reads who of its staff changed its row; a partner reads «Сотрудник» for
    someone else and its own name for itself, as in the history."""
    with app.app_context():
        staff = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        partner = db.session.execute(select(m.User).filter_by(email="kemsu@coop.example")).scalar_one()
        event = (
            db.session.execute(
                select(m.Event)
                .filter_by(partner_id=partner.partner_id, school_id=staff.school_id)
                .order_by(m.Event.id)
            )
            .scalars()
            .first()
        )
        event.created_by_id, event.updated_by_id = partner.id, staff.id
        event.created_at, event.updated_at = (
            dt.datetime(2019, 11, 21, 3, 5),
            dt.datetime(2019, 11, 22, 10, 0, 59),
        )
        event_id, names = event.id, (staff.name, partner.name)
        db.session.commit()
    school_page = _text(client_as("school31").get(f"/admin/event/details/?id={event_id}").text)
    assert f"Создано: {names[1]}, 21.11.2019 10:05" in school_page  # UTC+7
    assert f"Изменено: {names[0]}, 22.11.2019 17:00" in school_page
    partner_page = _text(client_as("kemsu").get(f"/admin/event/details/?id={event_id}").text)
    assert f"Создано: {names[1]}, 21.11.2019 10:05" in partner_page
    assert "Изменено: Сотрудник, 22.11.2019 17:00" in partner_page
    assert names[0] not in partner_page


CREATED = dt.datetime(2019, 11, 21, 3, 5, 1)  # 10:05 in the site's time zone (UTC+7)


@pytest.mark.parametrize(
    ("updated_at", "by_another", "changed"),
    [
        (dt.datetime(2019, 11, 22, 10, 0), False, "Изменено: {staff}, 22.11.2019 17:00"),
        (dt.datetime(2019, 11, 21, 3, 5, 59), False, None),  # saved again within the minute
        (dt.datetime(2019, 11, 21, 3, 5, 30), True, "Изменено: {other}, 21.11.2019 10:05"),
    ],
    ids=["later", "same-minute", "same-minute-by-another"],
)
def test_changed_is_said_once_the_row_changed_in_another_minute_or_by_another_person(
    app: Flask,
    client_as: Any,
    fresh_db: None,
    updated_at: dt.datetime | None,
    by_another: bool,
    changed: str | None,
) -> None:
    """«Изменено» after «Создано» when the row was saved again later than the minute it was
    made in, or by someone else; a person without a name is named by their address."""
    with app.app_context():
        staff = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        other = m.User(email="deputy31@coop.example", name="", role="school", school_id=staff.school_id)
        other.set_password("deputy31-password")
        db.session.add(other)
        db.session.flush()
        event = (
            db.session.execute(select(m.Event).filter_by(school_id=staff.school_id).order_by(m.Event.id))
            .scalars()
            .first()
        )
        event.created_by_id = staff.id
        event.updated_by_id = other.id if by_another else staff.id
        event.created_at, event.updated_at = CREATED, updated_at
        event_id, names = event.id, {"staff": staff.name, "other": other.email}
        db.session.commit()
    page = _text(client_as("school31").get(f"/admin/event/details/?id={event_id}").text)
    assert f"Создано: {names['staff']}, 21.11.2019 10:05" in page
    if changed is None:
        assert "Изменено:" not in page  # the history's own «Изменено» says what, not when
    else:
        assert changed.format(**names) in page
        assert page.count("Изменено:") == 1


def test_dates_read_dd_mm_yyyy_in_lists_details_and_exports(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    with app.app_context():
        agreement = (
            db.session.execute(select(m.Agreement).where(m.Agreement.signed_on.is_not(None)))
            .scalars()
            .first()
        )
        signed = agreement.signed_on.strftime("%d.%m.%Y")
    listing = client.get("/admin/agreement/").text
    table = _text(listing.split("</thead>", 1)[1].split("</table>", 1)[0])
    assert signed in table and not ISO_DATE.search(table)
    details = _text(client.get(f"/admin/agreement/details/?id={agreement.id}").text)
    assert f"Дата подписания {signed}" in details
    export = client.get("/admin/agreement/export/csv/").get_data(as_text=True)
    assert signed in export and not ISO_DATE.search(export)


def test_an_xlsx_export_keeps_numbers_as_numbers(app: Flask, client_as: Any) -> None:
    """A workbook of the yearly records sums its participants: counts are numbers, not text."""
    response = client_as("school31").get("/admin/eventexecution/export/xlsx/")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    students = header.index("Обучающиеся")
    counts = [row[students] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert counts and all(isinstance(count, int) for count in counts)
    with app.app_context():
        total = db.session.execute(
            select(func.sum(m.EventExecution.students_count)).filter_by(
                school_id=_first_record(app).school_id
            )
        ).scalar_one()
    assert sum(counts) == total > 0
    # Text stays text, and a formula typed into a field never runs.
    assert any(isinstance(value, str) for value in next(sheet.iter_rows(min_row=2, values_only=True)))


def test_the_academic_year_is_picked_and_shown_as_2019_2020(app: Flask, client_as: Any) -> None:
    client = client_as("school31")
    form = client.get("/admin/event/new/").text
    first_year = form.split('id="first_year"', 1)[1].split("</select>", 1)[0]
    assert '<option value="2019">2019/2020</option>' in first_year
    record = _first_record(app)
    edit = client.get(f"/admin/eventexecution/edit/?id={record.id}").text
    year = edit.split('id="year"', 1)[1].split("</select>", 1)[0]
    assert f'<option selected value="{record.year}">{record.year}/{record.year + 1}</option>' in year
    new = client.get("/admin/eventexecution/new/").text.split('id="year"', 1)[1].split("</select>", 1)[0]
    present = academic_year_of(dt.date.today())
    assert f'<option selected value="{present}">{present}/{present + 1}</option>' in new
    listing = _text(client.get("/admin/eventexecution/").text.split("</thead>", 1)[1])
    assert f"{record.year}/{record.year + 1}" in listing
    # The list's filters offer the years by their labels.
    assert '[2019, "2019/2020"]' in client_as("admin").get("/admin/event/").text


def test_a_new_yearly_record_keeps_the_year_picked(app: Flask, client_as: Any, fresh_db: None) -> None:
    with app.app_context():
        record = db.session.execute(select(m.EventExecution).order_by(m.EventExecution.id)).scalars().first()
        event_id = record.event_id
        taken = set(db.session.execute(select(m.EventExecution.year).filter_by(event_id=event_id)).scalars())
    year = next(y for y in range(2030, 2040) if y not in taken)
    client = client_as("school31")
    page = client.get("/admin/eventexecution/new/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    data = {
        "csrf_token": token,
        "event": str(event_id),
        "year": str(year),
        "status": "planned",
        "held_on": "21.11.2030",
        "students_count": "1",
        "teachers_count": "0",
        "parents_count": "0",
    }
    response = client.post("/admin/eventexecution/new/", data=data)
    assert response.status_code == 302, _text(response.text)[:2000]
    with app.app_context():
        saved = db.session.execute(
            select(m.EventExecution).filter_by(event_id=event_id, year=year)
        ).scalar_one()
        assert saved.held_on == dt.date(2030, 11, 21)


def _filter_arg(app: Flask, endpoint: str, column: str, kind: str) -> str:
    with app.test_request_context():
        admin = app.extensions["admin"][0]
        view = next(v for v in admin._views if getattr(v, "endpoint", None) == endpoint)
        for index, flt in enumerate(view._filters):
            if (
                getattr(flt, "column", None) is not None
                and flt.column.key == column
                and type(flt).__name__ == kind
            ):
                return f"flt0_{view.get_filter_arg(index, flt)}"
    raise AssertionError(f"no {kind} on {endpoint}.{column}")


def test_a_date_filter_reads_dates_as_they_are_shown(app: Flask, client_as: Any) -> None:
    arg = _filter_arg(app, "agreement", "signed_on", "DateBetweenFilter")
    with app.app_context():
        agreement = (
            db.session.execute(select(m.Agreement).where(m.Agreement.signed_on.is_not(None)))
            .scalars()
            .first()
        )
        day = agreement.signed_on
        expected = db.session.execute(select(func.count()).where(m.Agreement.signed_on == day)).scalar_one()
    value = f"{day:%d.%m.%Y} — {day:%d.%m.%Y}"
    page = client_as("admin").get("/admin/agreement/", query_string={arg: value}).text
    assert f"Список ({expected})" in _text(page)
    assert f'value="{value}"' in page or value in page


def test_filters_read_what_the_pages_show(app: Flask) -> None:
    """A date as shown (or as Flask-Admin's older links have it); a moment as shown, in the
    site's time zone, compared with the stored UTC."""
    with app.app_context():
        assert read_date("21.11.2019") == read_date("2019-11-21") == dt.date(2019, 11, 21)
        assert read_moment("06.12.2026 00:29") == dt.datetime(2026, 12, 5, 17, 29)
        for bad in ("31.02.2019", "21/11/2019", ""):
            try:
                read_date(bad)
            except ValueError:
                continue
            raise AssertionError(f"{bad!r} was read as a date")


def test_an_event_is_saved_with_its_years_left_blank(app: Flask, client_as: Any, fresh_db: None) -> None:
    """«—» in an optional year is no year (the line then runs as its timing or programme says)."""
    client = client_as("school31")
    with app.app_context():
        school = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one()
        partner_id = db.session.execute(
            select(m.Event.partner_id).filter_by(school_id=school.school_id).limit(1)
        ).scalar_one()
    page = client.get("/admin/event/new/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    data = {
        "csrf_token": token,
        "partner": str(partner_id),
        "title": "Лекция без лет",
        "timing_text": "ноябрь",
        "first_year": "__None",
        "last_year": "__None",
    }
    response = client.post("/admin/event/new/", data=data)
    assert response.status_code == 302, _text(response.text)[:3000]
    with app.app_context():
        saved = db.session.execute(select(m.Event).filter_by(title="Лекция без лет")).scalar_one()
        assert (saved.first_year, saved.last_year) == (None, None)
    details = _text(client.get(f"/admin/event/details/?id={saved.id}").text)
    assert "С учебного года —" not in details and "None" not in details
    assert "С учебного года По учебный год" in details  # both empty
    data["first_year"] = "2019"
    data["last_year"] = "abc"
    refused = client.post("/admin/event/new/", data=data)
    assert refused.status_code == 200 and "Запись не создана" in refused.text


def test_each_page_of_a_record_names_itself_in_its_title(app: Flask, client_as: Any) -> None:
    """A screen reader's user (and a browser tab) tells a new record's form from its list by the title."""
    record = _first_record(app)
    client = client_as("admin")
    titles = {
        "/admin/eventexecution/": "Сетевой план - Выполнение по годам - Coop",
        "/admin/eventexecution/new/": "Создать новую запись — Выполнение по годам — Coop",
        f"/admin/eventexecution/edit/?id={record.id}": "Редактировать запись — Выполнение по годам — Coop",
        f"/admin/eventexecution/details/?id={record.id}": "Подробнее — Выполнение по годам — Coop",
    }
    for url, title in titles.items():
        page = client.get(url).get_data(as_text=True)
        found = re.search(r"<title>\s*(.*?)\s*</title>", page, re.S)
        assert found and " ".join(found.group(1).split()) == title, (url, found and found.group(1))


def _state_cell(comment: str | None, label: str = "Возвращено на доработку") -> str:
    """The state column of a list (the base view's formatter) for a row returned with
    `comment` (None: not returned)."""
    view = SimpleNamespace(
        state_label=lambda row: label,
        reason_for=lambda row: None if comment is None else SimpleNamespace(comment=comment),
    )
    return str(_state_with_reason(view, None, object(), "state"))


def test_a_listed_state_shows_its_reason_whole_up_to_160_characters() -> None:
    comment = "д" * 160
    assert _state_cell(comment) == (
        'Возвращено на доработку<div class="state-reason small text-muted" '
        f'title="{comment}">«{comment}»</div>'
    )


def test_a_longer_reason_is_cut_to_160_characters_and_whole_in_its_title() -> None:
    comment = "д" * 161
    assert _state_cell(comment) == (
        'Возвращено на доработку<div class="state-reason small text-muted" '
        f'title="{comment}">«{"д" * 159}…»</div>'
    )


def test_a_state_without_a_reason_is_its_label_and_a_reasons_markup_is_escaped() -> None:
    assert _state_cell(None) == "Возвращено на доработку"
    assert _state_cell("") == "Возвращено на доработку"
    assert _state_cell('<b>"да"</b>', label="<i>") == (
        '&lt;i&gt;<div class="state-reason small text-muted" '
        'title="&lt;b&gt;&#34;да&#34;&lt;/b&gt;">«&lt;b&gt;&#34;да&#34;&lt;/b&gt;»</div>'
    )


def _columns_view(added: str | None, chosen: bool, fields: tuple[str, ...] | None) -> Any:
    """An object holding a column list as the base view holds its own (a `_ReadableColumns`),
    the user reading `fields` (None: all), two added fields: one a list shows, one only an
    export. Built in the test, not at import, so the descriptor's own code runs inside it."""

    def added_columns(self: Any, listed_only: bool) -> list[tuple[str, str]]:
        return [(PREFIX + "grade", "Класс")] + ([] if listed_only else [(PREFIX + "note", "Примечание")])

    holder = type(
        "Columns",
        (),
        {
            "columns": _ReadableColumns(added=added, chosen=chosen),
            "readable_fields": lambda self: fields,
            "added_columns": added_columns,
        },
    )
    return holder()


TITLE, EXTRA, SCHOOL = ("title", "Название"), ("extra", "Дополнительно"), ("school", "Школа")


def test_a_column_list_never_set_is_empty_and_extra_is_never_one_of_its_columns(app: Flask) -> None:
    with app.test_request_context("/"):
        view = _columns_view(None, False, None)
        assert view.columns == []
        view.columns = [TITLE, EXTRA, SCHOOL]
        assert view.columns == [TITLE, SCHOOL]


def test_a_column_list_adds_the_added_fields_it_is_made_for_when_they_are_readable(app: Flask) -> None:
    grade, note = (PREFIX + "grade", "Класс"), (PREFIX + "note", "Примечание")
    expected = {
        (None, None): [TITLE, SCHOOL],
        ("listed", None): [TITLE, SCHOOL, grade],
        ("all", None): [TITLE, SCHOOL, grade, note],
        ("listed", ("title",)): [TITLE],  # `extra` not readable: no added field either
        ("listed", ("school", "extra")): [SCHOOL, grade],
    }
    with app.test_request_context("/"):
        for (added, fields), columns in expected.items():
            view = _columns_view(added, False, fields)
            view.columns = [TITLE, EXTRA, (SCHOOL[0], lazy_gettext(SCHOOL[1]))]
            assert view.columns == columns, (added, fields)
            assert all(type(label) is str for _name, label in view.columns)  # translated once, here


def test_a_column_list_made_to_be_chosen_shows_the_columns_the_url_names(app: Flask) -> None:
    with app.test_request_context(f"/?{COLUMNS_ARG}=school"):
        chosen, fixed = _columns_view(None, True, None), _columns_view(None, False, None)
        chosen.columns = fixed.columns = [TITLE, SCHOOL]
        assert chosen.columns == [SCHOOL]
        assert fixed.columns == [TITLE, SCHOOL]


def test_each_column_list_and_form_rules_of_a_view_keep_their_own_value(app: Flask) -> None:
    """A view holds three column lists and two form rules side by side (the base view's list,
    details and export; create and edit): each is kept under a name of its own."""
    holder = type(
        "Columns",
        (),
        {
            "listed": _ReadableColumns(),
            "details": _ReadableColumns(),
            "create_rules": _FormRules(),
            "edit_rules": _FormRules(),
            "readable_fields": lambda self: None,
            "endpoint": "columns",
        },
    )
    view = holder()
    view.listed, view.details = [TITLE, SCHOOL], [SCHOOL]
    view.create_rules, view.edit_rules = "create", "edit"
    with app.test_request_context(f"/?{COLUMNS_ARG}=school"):  # not made to be chosen: the URL is not read
        assert (view.listed, view.details) == ([TITLE, SCHOOL], [SCHOOL])
        assert (view.create_rules, view.edit_rules) == ("create", "edit")
