"""Fields added in the site (issue 14): defined through the web, filled in forms, shown,
exported, checked at every write, scoped like every row."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from coop import added_fields, history
from coop import models as m
from coop.extensions import db
from coop.plan_io.docx_out import plan_to_docx
from coop.plan_io.plan import build_plan
from coop.plan_io.xlsx_out import plan_to_xlsx
from coop.report.data import build_report
from coop.report.docx_out import report_to_docx
from coop.seed.demo import MENTORING_FORMS

from .conftest import csrf_token, loaded_version

pytestmark = pytest.mark.usefixtures("fresh_db")

OVZ = "Обучающиеся с ОВЗ"


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    page = client.get(url)
    assert page.status_code == 200, url
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data})


def _define(client: Any, **fields: Any) -> Any:
    data = {
        "model": "execution",
        "label": OVZ,
        "key": "",
        "kind": "integer",
        "sort_order": "100",
        "filled_by": "school",
        "is_active": "y",
        **fields,
    }
    return _post(client, "/admin/fielddefinition/new/", data)


def _definition(app: Flask, label: str = OVZ) -> m.FieldDefinition | None:
    with app.app_context():
        stmt = select(m.FieldDefinition).where(m.FieldDefinition.label == label)
        return db.session.execute(stmt).scalar_one_or_none()


def _records(app: Flask, school_id: int, count: int = 3) -> list[int]:
    with app.app_context():
        stmt = (
            select(m.EventExecution.id)
            .where(m.EventExecution.school_id == school_id)
            .order_by(m.EventExecution.id)
            .limit(count)
        )
        return list(db.session.execute(stmt).scalars())


def _record_form(record: m.EventExecution) -> dict[str, Any]:
    return {
        "event": str(record.event_id),
        "year": str(record.year),
        "status": record.status,
        "held_on": record.held_on.strftime("%d.%m.%Y") if record.held_on else "",
        "students_count": str(record.students_count),
        "teachers_count": str(record.teachers_count),
        "parents_count": str(record.parents_count),
        "students_grades": record.students_grades,
        "results": record.results,
        "evidence_url": record.evidence_url,
    }


def _fill(app: Flask, client: Any, record_id: int, value: str) -> Any:
    with app.app_context():
        record = db.session.get(m.EventExecution, record_id)
        data = _record_form(record)
    url = f"/admin/eventexecution/edit/?id={record_id}"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(page.text),
            "loaded_version": loaded_version(page.text),
            **data,
            "extra__" + key(app): value,
        },
    )


def key(app: Flask) -> str:
    definition = _definition(app)
    assert definition is not None
    return definition.key


def _extra(app: Flask, record_id: int) -> dict[str, Any]:
    with app.app_context():
        return db.session.get(m.EventExecution, record_id).extra


def test_an_admin_adds_a_field_a_school_fills_it_and_it_shows_everywhere(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    admin = client_as("admin")
    response = _define(admin, in_list="y")
    assert response.status_code == 302, response.text
    definition = _definition(app)
    assert definition is not None and definition.key == "obuchaiushchiesia_s_ovz"
    assert definition.school_id is None and definition.is_active

    school = client_as("school31")
    records = _records(app, ids["school31"])
    for count, record_id in enumerate(records, start=2):
        response = _fill(app, school, record_id, str(count))
        assert response.status_code == 302, response.text
    assert [_extra(app, record_id) for record_id in records] == [
        {definition.key: 2},
        {definition.key: 3},
        {definition.key: 4},
    ]

    form = school.get(f"/admin/eventexecution/edit/?id={records[0]}").text
    assert OVZ in form and re.search(r'<input[^>]*name="extra__obuchaiushchiesia_s_ovz"[^>]*value="2"', form)
    details = school.get(f"/admin/eventexecution/details/?id={records[1]}").text
    assert f"<b>{OVZ}</b>" in details and "<td>3</td>" in details

    listed = school.get("/admin/eventexecution/?sort=0").text
    assert OVZ in listed

    exported = school.get("/admin/eventexecution/export/csv/")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert OVZ in rows[0]
    assert sorted(row[OVZ] for row in rows if row[OVZ]) == ["2", "3", "4"]


def test_a_value_that_does_not_fit_is_refused_with_its_reason_and_nothing_is_saved(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    _define(client_as("admin"))
    school = client_as("school31")
    record_id = _records(app, ids["school31"], 1)[0]
    before = _extra(app, record_id)
    response = _fill(app, school, record_id, "много")
    assert response.status_code == 200
    assert "Not a valid integer value" in response.text or "целое" in response.text.lower()
    assert _extra(app, record_id) == before


def test_a_required_field_must_be_filled(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    _define(client_as("admin"), required="y")
    school = client_as("school31")
    record_id = _records(app, ids["school31"], 1)[0]
    response = _fill(app, school, record_id, "")
    assert response.status_code == 200
    assert "Обязательное поле" in response.text or "This field is required" in response.text
    assert _extra(app, record_id) == {}


def test_every_write_is_checked_whoever_writes(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    _define(client_as("admin"))
    record_id = _records(app, ids["school31"], 1)[0]
    with app.app_context():
        record = db.session.get(m.EventExecution, record_id)
        record.extra = {"obuchaiushchiesia_s_ovz": "12"}  # a number as text: kept as a number
        db.session.commit()
        assert db.session.get(m.EventExecution, record_id).extra == {"obuchaiushchiesia_s_ovz": 12}
        record.extra = {"obuchaiushchiesia_s_ovz": "двенадцать"}
        with pytest.raises(added_fields.FieldValueError, match=OVZ):
            db.session.commit()
        db.session.rollback()
        record = db.session.get(m.EventExecution, record_id)
        record.extra = {"no_such_field": 1}
        with pytest.raises(added_fields.FieldValueError, match="no_such_field"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(m.EventExecution, record_id).extra == {"obuchaiushchiesia_s_ovz": 12}


@pytest.mark.parametrize(
    ("kind", "good", "kept", "bad"),
    [
        ("text", "  короткий текст ", "короткий текст", "x" * 501),
        ("integer", "7", 7, "7,5"),
        ("decimal", "7,5", 7.5, "семь"),
        ("date", "31.12.2024", "2024-12-31", "31.02.2024"),
        ("boolean", "да", True, "может быть"),
        ("url", "https://example.ru/a", "https://example.ru/a", "example.ru"),
        ("email", "Name@Example.ru", "Name@example.ru", "name@"),
        ("phone", "+7 (3452) 12-34-56", "+7 (3452) 12-34-56", "12"),
    ],
)
def test_each_kind_reads_what_fits_and_refuses_what_does_not(
    app: Flask, kind: str, good: str, kept: Any, bad: str
) -> None:
    definition = m.FieldDefinition(model="event", key="k", label="Поле", kind=kind)
    with app.app_context():
        assert added_fields.read(definition, good) == kept
        with pytest.raises(added_fields.FieldValueError, match="«Поле»"):
            added_fields.read(definition, bad)


def test_choices_come_from_the_field_list(app: Flask) -> None:
    choices = m.ChoiceList(name="Формы наставничества", items=["ученик — ученик", "учитель — ученик"])
    single = m.FieldDefinition(model="event", key="k", label="Форма", kind="choice", choice_list=choices)
    several = m.FieldDefinition(model="event", key="k", label="Формы", kind="choices", choice_list=choices)
    with app.app_context():
        assert added_fields.read(single, "учитель — ученик") == "учитель — ученик"
        assert added_fields.read(several, "ученик — ученик; учитель — ученик") == [
            "ученик — ученик",
            "учитель — ученик",
        ]
        with pytest.raises(added_fields.FieldValueError, match="«Формы наставничества»"):
            added_fields.read(single, "работодатель — студент")


def test_changing_the_kind_converts_the_values_or_names_the_records_that_do_not_fit(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    _define(client_as("admin"))
    first, second = _records(app, ids["school31"], 2)
    with app.app_context():
        db.session.get(m.EventExecution, first).extra = {"obuchaiushchiesia_s_ovz": 5}
        db.session.get(m.EventExecution, second).extra = {"obuchaiushchiesia_s_ovz": 6}
        db.session.commit()
        named = str(db.session.get(m.EventExecution, first))
        definition = db.session.execute(select(m.FieldDefinition).filter_by(label=OVZ)).scalar_one()
        definition.kind = "date"
        with pytest.raises(added_fields.FieldValueError, match="не подходят") as refused:
            db.session.commit()
        db.session.rollback()
        assert f"«{named}» (5)" in str(refused.value)
        assert (
            db.session.execute(select(m.FieldDefinition.kind).filter_by(label=OVZ)).scalar_one() == "integer"
        )
        definition = db.session.execute(select(m.FieldDefinition).filter_by(label=OVZ)).scalar_one()
        definition.kind = "text"
        db.session.commit()
        assert db.session.get(m.EventExecution, first).extra == {"obuchaiushchiesia_s_ovz": "5"}
        definition.kind = "decimal"
        db.session.commit()
        assert db.session.get(m.EventExecution, second).extra == {"obuchaiushchiesia_s_ovz": 6}


def test_a_schools_own_field_is_its_own(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    gymnasium = client_as("gymnasium17")
    response = _define(gymnasium, label="Наш показатель", school=str(ids["school31"]))
    assert response.status_code == 302, response.text
    own = _definition(app, "Наш показатель")
    assert own is not None and own.school_id == ids["gymnasium17"]  # its own, whatever it posted

    school31 = client_as("school31")
    assert "Наш показатель" not in school31.get("/admin/fielddefinition/").text
    assert school31.get(f"/admin/fielddefinition/details/?id={own.id}").status_code == 404
    record_id = _records(app, ids["school31"], 1)[0]
    assert "Наш показатель" not in school31.get(f"/admin/eventexecution/edit/?id={record_id}").text
    assert "Наш показатель" in client_as("coordinator").get("/admin/fielddefinition/").text
    gymnasium_record = _records(app, ids["gymnasium17"], 1)[0]
    assert "Наш показатель" in gymnasium.get(f"/admin/eventexecution/edit/?id={gymnasium_record}").text
    # The admin, of no school, fills in the school's own field on the school's record.
    admin_form = client_as("admin").get(f"/admin/eventexecution/edit/?id={gymnasium_record}").text
    assert f'name="extra__{own.key}"' in admin_form


def test_a_list_shows_the_fields_marked_for_it_and_its_export_shows_them_all(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    admin = client_as("admin")
    assert _define(admin, label="В списке", key="listed", in_list="y").status_code == 302
    assert _define(admin, label="Только в выгрузке", key="exported").status_code == 302
    school31 = client_as("school31")
    assert _define(school31, label="Своё школы", key="own", in_list="y").status_code == 302

    def columns(client: Any) -> tuple[set[str], set[str]]:
        listed = re.findall(
            r'class="column-header col-extra__(\w+)"', client.get("/admin/eventexecution/").text
        )
        exported = client.get("/admin/eventexecution/export/csv/").get_data(as_text=True)
        return set(listed), set(next(csv.reader(io.StringIO(exported))))

    listed, exported = columns(school31)
    assert {"listed", "own"} <= listed and "exported" not in listed
    with app.app_context():  # the school's own field filled in on its records: the list shows it
        db.session.execute(
            update(m.EventExecution)
            .where(m.EventExecution.school_id == ids["school31"])
            .values(extra={"own": 7})
        )
        db.session.commit()
    cells = re.findall(
        r'<td class="col-extra__own"[^>]*>\s*(.*?)\s*</td>', school31.get("/admin/eventexecution/").text
    )
    assert cells and set(cells) == {"7"}
    assert {"В списке", "Только в выгрузке", "Своё школы"} <= exported
    listed, exported = columns(client_as("gymnasium17"))  # another school: not school 31's own
    assert "listed" in listed and not {"exported", "own"} & listed
    assert {"В списке", "Только в выгрузке"} <= exported and "Своё школы" not in exported


def test_the_coordinator_proposes_and_the_admin_switches_on(app: Flask, client_as: Any) -> None:
    coordinator = client_as("coordinator")
    response = _define(coordinator, label="Предложенное поле")
    assert response.status_code == 302, response.text
    proposed = _definition(app, "Предложенное поле")
    assert proposed is not None and not proposed.is_active and proposed.school_id is None
    with app.app_context():
        assert proposed.id not in {d.id for d in added_fields.of_record(m.EventExecution, None)}


def test_a_key_is_checked_and_not_taken_twice(app: Flask, client_as: Any) -> None:
    admin = client_as("admin")
    assert _define(admin, key="ovz").status_code == 302
    again = _define(admin, label="Другое", key="ovz")
    assert again.status_code == 200 and "ovz" in again.text
    assert _definition(app, "Другое") is None
    malformed = _define(admin, label="Третье", key="Ключ с пробелом")
    assert malformed.status_code == 200 and _definition(app, "Третье") is None
    no_list = _define(admin, label="Четвёртое", kind="choice")
    assert no_list.status_code == 200 and _definition(app, "Четвёртое") is None


def test_the_history_names_an_added_field_by_its_label(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    _define(client_as("admin"))
    record_id = _records(app, ids["school31"], 1)[0]
    assert _fill(app, client_as("school31"), record_id, "7").status_code == 302
    with app.app_context():
        entry = (
            db.session.execute(
                select(m.History)
                .where(m.History.table_name == "event_executions", m.History.row_id == record_id)
                .order_by(m.History.id.desc())
            )
            .scalars()
            .first()
        )
        assert entry.changes == {"extra.obuchaiushchiesia_s_ovz": [None, 7]}
        assert history.shown_changes("event_executions", entry.changes) == [(OVZ, "—", "7")]


def test_the_plan_json_carries_each_events_added_values(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        event = (
            db.session.execute(
                select(m.Event)
                .where(m.Event.school_id == ids["gymnasium17"], m.Event.extra != {})
                .order_by(m.Event.id)
            )
            .scalars()
            .first()
        )
        expected = {key: event.extra[key] for key in ("mentoring_form", "profile")}
        year = event.first_year
    plan = client_as("gymnasium17").get(f"/api/plan.json?school={ids['gymnasium17']}&year={year}").get_json()
    extras = {line["id"]: line["extra"] for line in plan["events"]}
    assert extras[event.id] == expected
    assert all(isinstance(extra, dict) for extra in extras.values())
    # A switched-off field's values stay, but are not shown.
    with app.app_context():
        db.session.execute(
            update(m.FieldDefinition).where(m.FieldDefinition.key == "profile").values(is_active=False)
        )
        db.session.commit()
    plan = client_as("gymnasium17").get(f"/api/plan.json?school={ids['gymnasium17']}&year={year}").get_json()
    assert {line["id"]: line["extra"] for line in plan["events"]}[event.id] == {
        "mentoring_form": expected["mentoring_form"]
    }


def _filter_arg(page: str, label: str, operation: str) -> str:
    groups = json.loads(re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', page, re.S).group(1))
    return next(item["arg"] for item in groups[label] if item["operation"] == operation)


def _row_ids(page: str) -> set[int]:
    return {int(value) for value in re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', page)}


def test_lists_filter_by_added_fields_as_their_kind_wants(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("gymnasium17")
    with app.app_context():
        hours = dict(
            db.session.execute(
                select(m.EventExecution.id, m.EventExecution.extra).where(m.EventExecution.extra != {})
            ).all()
        )
    page = school.get("/admin/eventexecution/").text
    equal, greater = (
        _filter_arg(page, "Часы профминимума", "равно"),
        _filter_arg(page, "Часы профминимума", "больше чем"),
    )
    assert _row_ids(school.get(f"/admin/eventexecution/?flt0_{equal}=3").text) == {
        record_id for record_id, extra in hours.items() if extra["career_hours"] == 3
    }
    assert _row_ids(school.get(f"/admin/eventexecution/?flt0_{greater}=2").text) == {
        record_id for record_id, extra in hours.items() if extra["career_hours"] > 2
    }
    assert school.get(f"/admin/eventexecution/?flt0_{equal}=много").status_code == 200  # ignored, said

    events = school.get("/admin/event/").text
    profile = _filter_arg(events, "Профиль", "равно")
    with app.app_context():
        humanities = {
            event.id
            for event in db.session.execute(
                select(m.Event).where(m.Event.school_id == ids["gymnasium17"])
            ).scalars()
            if event.extra.get("profile") == "гуманитарный"
        }
    assert (
        humanities and _row_ids(school.get(f"/admin/event/?flt0_{profile}=гуманитарный").text) == humanities
    )
    # Another school has no such field, nor its filter.
    assert "Профиль" not in client_as("school31").get("/admin/event/").text


def test_several_of_a_list_is_filtered_by_one_of_its_choices(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    with app.app_context():
        definition = db.session.execute(
            select(m.FieldDefinition).filter_by(key="mentoring_form")
        ).scalar_one()
        definition.kind = "choices"  # the kept values become lists of one
        db.session.commit()
        first, second = db.session.execute(
            select(m.Event).where(m.Event.extra != {}).order_by(m.Event.id).limit(2)
        ).scalars()
        assert first.extra["mentoring_form"] in ([form] for form in MENTORING_FORMS)
        second.extra = {**second.extra, "mentoring_form": [MENTORING_FORMS[0], "работодатель — ученик"]}
        db.session.commit()
        wanted = {second.id}
    admin = client_as("admin")
    arg = _filter_arg(admin.get("/admin/event/").text, "Форма наставничества", "содержит")
    assert _row_ids(admin.get(f"/admin/event/?flt0_{arg}=работодатель — ученик").text) == wanted


def test_the_annual_report_sums_the_added_numbers_per_partner(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        school = db.session.get(m.School, ids["gymnasium17"])
        year = db.session.execute(
            select(func.max(m.EventExecution.year)).where(m.EventExecution.extra != {})
        ).scalar_one()
        by_hand: dict[str, int] = {}
        records = db.session.execute(
            select(m.EventExecution).where(m.EventExecution.year == year, m.EventExecution.extra != {})
        ).scalars()
        for record in records:
            partner = record.event.partner
            name = partner.short_name or partner.name
            by_hand[name] = by_hand.get(name, 0) + record.extra["career_hours"]
        (hours,) = build_report(school, year).added_totals()
        assert hours.definition.key == "career_hours"
        assert hours.by_partner == by_hand and hours.total == sum(by_hand.values()) > 0
        text = "\n".join(
            cell.text
            for table in Document(io.BytesIO(report_to_docx(build_report(school, year)))).tables
            for row in table.rows
            for cell in row.cells
        )
        assert "Часы профминимума" in text and str(hours.total) in text


def test_the_plans_documents_show_the_fields_marked_for_them(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        db.session.execute(
            update(m.FieldDefinition)
            .where(m.FieldDefinition.key == "mentoring_form")
            .values(in_plan_document=True)
        )
        db.session.commit()
        event = (
            db.session.execute(
                select(m.Event)
                .where(m.Event.school_id == ids["gymnasium17"], m.Event.extra != {})
                .order_by(m.Event.id)
            )
            .scalars()
            .first()
        )
        plan = build_plan(db.session.get(m.School, ids["gymnasium17"]), event.first_year)
        workbook = load_workbook(io.BytesIO(plan_to_xlsx(plan)))
        sheet = workbook.active
        header = [cell.value for cell in sheet[2]]
        assert header[-1] == "Форма наставничества" and "Профиль" not in header  # not marked for the plan
        titles = [row[2].value for row in sheet.iter_rows(min_row=3)]
        marked = [row[-1].value for row in sheet.iter_rows(min_row=3)]
        assert marked[titles.index(event.title)] == event.extra["mentoring_form"]
        document = Document(io.BytesIO(plan_to_docx(plan)))
        cells = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
        assert cells[0][-1] == "Форма наставничества"
        assert [event.title, event.extra["mentoring_form"]] in [[row[1], row[-1]] for row in cells]
