"""What became of a plan line in an academic year: «Отметить проведённым» and «Не проведено»
write that year's record in one step; the line's state for a year is what its records say,
and the events list, the calendar, the dashboard and the annual report agree on it."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from sqlalchemy import func, select

from coop import figures, uploads, workflow
from coop import models as m
from coop.extensions import db
from coop.report.data import build_report
from coop.views.loading import SchoolFilter
from coop.views.outcomes import AcademicYearFilter, StateInYearFilter

from .conftest import ACCOUNTS, csrf_token

YEAR = 2019
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _event(app: Flask, school_id: int, status: str, year: int = YEAR) -> int:
    """A line of the school whose record of `year` has `status`."""
    with app.app_context():
        return db.session.execute(
            select(m.EventExecution.event_id)
            .filter_by(school_id=school_id, year=year, status=status)
            .order_by(m.EventExecution.event_id)
            .limit(1)
        ).scalar_one()


def _record(app: Flask, event_id: int, year: int = YEAR) -> dict[str, Any] | None:
    with app.app_context():
        row = db.session.execute(
            select(m.EventExecution).filter_by(event_id=event_id, year=year)
        ).scalar_one_or_none()
        if row is None:
            return None
        return {c.key: getattr(row, c.key) for c in m.EventExecution.__table__.c}


def _stored(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(m.StoredFile)).scalar_one()


def _url(event_id: int, outcome: str = "held", year: int | None = YEAR) -> str:
    return f"/admin/event/outcome/?id={event_id}&outcome={outcome}" + (f"&year={year}" if year else "")


def _post(client: Any, event_id: int, outcome: str = "held", **fields: Any) -> Any:
    page = client.get(_url(event_id, outcome))
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "year": str(YEAR), **fields}
    return client.post(_url(event_id, outcome), data=data, content_type="multipart/form-data")


HELD = {
    "held_on": "2019-11-21",
    "held_until": "2019-11-22",
    "students_count": "27",
    "students_grades": "8–9",
    "teachers_count": "3",
    "parents_count": "5",
    "results": "Пять призёров олимпиады",
    "evidence_url": "https://school31.example/news/olimpiada",
}


@pytest.mark.usefixtures("fresh_db")
def test_marking_held_writes_the_years_record_and_its_evidence(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("school31")
    event_id = _event(app, ids["school31"], "not_held")
    files_before = _stored(app)
    form = school.get(_url(event_id)).get_data(as_text=True)
    # The year as «2019/2020», only the line's years (2019–2022 in the demo).
    assert re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)<', form) == [
        (str(year), f"{year}/{year + 1}") for year in range(2019, 2023)
    ]
    response = _post(school, event_id, evidence_file=(io.BytesIO(PNG), "фото.png"), **HELD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/event/details/?id={event_id}")
    record = _record(app, event_id)
    assert record is not None
    assert record["status"] == "held"
    assert (record["held_on"], record["held_until"]) == (dt.date(2019, 11, 21), dt.date(2019, 11, 22))
    assert (record["students_count"], record["teachers_count"], record["parents_count"]) == (27, 3, 5)
    assert record["students_grades"] == "8–9" and record["results"] == "Пять призёров олимпиады"
    assert record["evidence_url"] == "https://school31.example/news/olimpiada"
    with app.app_context():
        (stored,) = db.session.execute(
            select(m.StoredFile).filter_by(owner_table="event_executions", owner_id=record["id"])
        ).scalars()
        assert stored.original_name == "фото.png"
        assert uploads.content(stored) == PNG
        title = db.session.get(m.Event, event_id).title
        assert db.session.get(m.Event, event_id).state == "approved"  # the line keeps its approval
    assert _stored(app) == files_before + 1
    details = school.get(response.headers["Location"]).get_data(as_text=True)
    message = re.search(r'class="alert alert-success[^"]*"[^>]*>(.*?)</div>', details, re.DOTALL)
    assert message is not None
    assert title in message.group(1) and "проведено в 2019/2020 учебном году" in message.group(1)


@pytest.mark.usefixtures("fresh_db")
def test_a_year_without_a_record_gets_one(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _event(app, ids["school31"], "held")
    with app.app_context():
        db.session.execute(m.EventExecution.__table__.delete().where(m.EventExecution.event_id == event_id))
        db.session.commit()
    assert _post(client_as("school31"), event_id, **HELD).status_code == 302
    record = _record(app, event_id)
    assert record is not None and record["status"] == "held" and record["school_id"] == ids["school31"]


@pytest.mark.usefixtures("fresh_db")
def test_marking_not_held_keeps_the_reason(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    school = client_as("school31")
    event_id = _event(app, ids["school31"], "held")
    response = _post(school, event_id, "not_held", results="Карантин по гриппу")
    assert response.status_code == 302
    record = _record(app, event_id)
    assert record is not None and record["status"] == "not_held"
    assert record["results"] == "Карантин по гриппу"
    assert (record["held_on"], record["students_count"], record["teachers_count"]) == (None, 0, 0)


BAD_HELD = [
    ({"held_on": ""}, "held_on"),
    ({"held_on": "32.13.2019"}, "held_on"),
    ({"held_on": "2021-03-01"}, "held_on"),  # another academic year
    ({"held_on": "2019-11-21", "held_until": "2019-11-20"}, "held_until"),
    ({"students_count": "-3"}, "students_count"),
    ({"teachers_count": "много"}, "teachers_count"),
    ({"students_grades": "5" * 65}, "students_grades"),
    ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
    ({"year": "2031"}, "year"),  # not one of the line's years
    ({"year": "двадцатый"}, "year"),
]


@pytest.mark.usefixtures("fresh_db")
@pytest.mark.parametrize(("changes", "field"), BAD_HELD)
def test_bad_input_writes_nothing_and_says_why_in_russian(
    app: Flask, client_as: Any, ids: dict[str, int], changes: dict[str, str], field: str
) -> None:
    school = client_as("school31")
    event_id = _event(app, ids["school31"], "not_held")
    before, files_before = _record(app, event_id), _stored(app)
    response = _post(school, event_id, evidence_file=(io.BytesIO(PNG), "фото.png"), **{**HELD, **changes})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = re.search(rf'id="{field}"[^>]*>.*?<div class="invalid-feedback[^"]*">([^<]+)<', page, re.DOTALL)
    assert shown is not None, f"no message under {field}"
    message = shown.group(1).replace("http", "")  # a link's scheme is no English
    assert re.search("[а-яА-Я]", message) and not re.search("[a-zA-Z]{3,}", message), message
    assert _record(app, event_id) == before
    assert _stored(app) == files_before


@pytest.mark.usefixtures("fresh_db")
def test_a_refused_file_writes_nothing(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _event(app, ids["school31"], "not_held")
    before, files_before = _record(app, event_id), _stored(app)
    response = _post(
        client_as("school31"), event_id, evidence_file=(io.BytesIO(b"<script>1</script>"), "a.pdf"), **HELD
    )
    assert response.status_code == 200
    assert "PDF, Word" in response.get_data(as_text=True)
    assert _record(app, event_id) == before and _stored(app) == files_before


@pytest.mark.usefixtures("fresh_db")
def test_not_held_needs_a_reason(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _event(app, ids["school31"], "held")
    before = _record(app, event_id)
    response = _post(client_as("school31"), event_id, "not_held", results="  ")
    assert response.status_code == 200
    assert "Для действия «Не проведено» нужна причина." in response.text
    assert _record(app, event_id) == before


# Who may open the form of a line of school31 (and of gymnasium17, for its own users).
EXPECTED = {
    "anonymous": 302,
    "admin": 200,
    "coordinator": 403,  # reads the plan, records nothing
    "school31": 200,
    "gymnasium17": 404,  # another school's line is not found
    "kemsu": 403,  # its own event: the school records the outcome, not the partner
    "museum": 404,
}


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_who_may_record_an_outcome(app: Flask, client_as: Any, ids: dict[str, int], key: str) -> None:
    with app.app_context():
        event_id = db.session.execute(
            select(m.Event.id).filter_by(school_id=ids["school31"], partner_id=ids["kemsu"]).limit(1)
        ).scalar_one()
    client = client_as(key)
    for outcome in ("held", "not_held"):
        response = client.get(_url(event_id, outcome))
        assert response.status_code == EXPECTED[key], (key, outcome)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
        if key == "gymnasium17":
            assert "СОШ № 31" not in response.get_data(as_text=True)
    assert client.get(_url(event_id, "hold")).status_code in (302, 404)  # no such outcome


@pytest.mark.usefixtures("fresh_db")
def test_only_an_approved_line_is_recorded(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    event_id = _event(app, ids["school31"], "not_held")
    with app.app_context():
        db.session.get(m.Event, event_id).state = "submitted"
        db.session.commit()
    school = client_as("school31")
    assert school.get(_url(event_id)).status_code == 403
    assert "outcome-held" not in school.get(f"/admin/event/details/?id={event_id}").get_data(as_text=True)


def test_the_line_page_lists_its_years_with_their_outcomes(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    event_id = _event(app, ids["school31"], "held")
    page = client_as("school31").get(f"/admin/event/details/?id={event_id}").get_data(as_text=True)
    years = re.findall(r'<tr class="by-year-row" data-year="(\d+)">', page)
    assert years == ["2019", "2020", "2021", "2022"]
    assert _url(event_id, "held", 2019).replace("&", "&amp;") in page
    assert "Проведено" in page
    # The partner reads the year table of its own line, but records no outcome.
    with app.app_context():
        own = db.session.execute(
            select(m.EventExecution.event_id)
            .join(m.Event, m.Event.id == m.EventExecution.event_id)
            .where(m.Event.partner_id == ids["kemsu"], m.EventExecution.status == "held")
            .limit(1)
        ).scalar_one()
    partner_page = client_as("kemsu").get(f"/admin/event/details/?id={own}").get_data(as_text=True)
    assert re.findall(r'<tr class="by-year-row" data-year="(\d+)">', partner_page)
    assert "outcome-held" not in partner_page


def test_no_transition_marks_a_line_held_any_more() -> None:
    assert "held" not in m.EVENT_STATES
    assert all(t.target in m.EVENT_STATES for t in workflow.EVENT.transitions)
    assert {o.status for o in workflow.EVENT.outcomes} == {"held", "not_held"}


# --- the four views agree on what was held in a year ---------------------------------------


def _filter_arg(app: Flask, kind: type[BaseSQLAFilter], column: Any = None) -> str:
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == "event")
    return next(
        view.get_filter_arg(i, f)
        for i, f in enumerate(view._filters)
        if type(f) is kind and (column is None or f.column is column)
    )


def _listed(page: str) -> set[int]:
    """The events a list page shows (by their details links)."""
    return {int(i) for i in re.findall(r"/admin/event/details/\?id=(\d+)", page)}


def _held_everywhere(app: Flask, client: Any, school_id: int, year: int) -> dict[str, int]:
    """The school's lines held in `year` as each of the four views counts them."""
    year_arg, state_arg = _filter_arg(app, AcademicYearFilter), _filter_arg(app, StateInYearFilter)
    school_arg = _filter_arg(app, SchoolFilter, m.Event.school_id)
    listed = client.get(
        f"/admin/event/?flt0_{year_arg}={year}&flt1_{state_arg}=held&flt2_{school_arg}={school_id}&page_size=100"
    ).get_data(as_text=True)
    calendar_url = f"/admin/calendar/?school={school_id}&year={year}"
    calendar = client.get(calendar_url + "&state=held").get_data(as_text=True)
    everything = client.get(calendar_url).get_data(as_text=True)
    dashboard = client.get(f"/admin/dashboard/?year={year}").get_data(as_text=True)
    row = re.search(rf'<tr data-school="{school_id}"[^>]*>(.*?)</tr>', dashboard, re.DOTALL)
    held_figure = re.search(r'data-figure="held">(\d+)<', row.group(1) if row else dashboard)
    with app.app_context():  # the system reads as the school's own pages do
        school = db.session.get(m.School, school_id)
        report = build_report(school, year)
        (figure,) = figures.school_figures(year, [school_id])
    return {
        "events list": len(_listed(listed)),
        "calendar filtered": len(re.findall(r'<tr class="event-row', calendar)),
        "calendar marks": len(re.findall(r'<tr class="event-row state-held', everything)),
        "dashboard page": int(held_figure.group(1)) if held_figure else -1,
        "dashboard figures": figure.held,
        "annual report": sum(1 for line in report.lines + report.later_lines if line.status == "held"),
    }


@pytest.mark.usefixtures("fresh_db")
def test_the_events_list_calendar_dashboard_and_report_agree_on_what_was_held(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("school31")
    counts = _held_everywhere(app, school, ids["school31"], YEAR)
    assert len(set(counts.values())) == 1 and counts["annual report"] > 0, counts
    held = counts["annual report"]
    # One more line held through the form, one held record in the trash: all follow.
    assert _post(school, _event(app, ids["school31"], "not_held"), **HELD).status_code == 302
    with app.app_context():
        trashed = db.session.execute(
            select(m.EventExecution).filter_by(school_id=ids["school31"], year=YEAR, status="held").limit(1)
        ).scalar_one()
        trashed.deleted_at = dt.datetime(2026, 1, 1)
        db.session.commit()
    counts = _held_everywhere(app, school, ids["school31"], YEAR)
    assert set(counts.values()) == {held}, counts
    for year in (2020, 2021):
        counts = _held_everywhere(app, school, ids["school31"], year)
        assert len(set(counts.values())) == 1, (year, counts)
    # The coordinator, who reads every school, counts a school's lines as that school does.
    coordinator = client_as("coordinator")
    for school_key, year in (("school31", YEAR), ("gymnasium17", 2022)):
        counts = _held_everywhere(app, coordinator, ids[school_key], year)
        assert len(set(counts.values())) == 1 and counts["annual report"] > 0, (school_key, counts)


def test_the_state_in_a_year_filter_without_a_year_means_any_of_its_years(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    state_arg = _filter_arg(app, StateInYearFilter)
    school = client_as("school31")
    with app.app_context():
        held_ever = set(
            db.session.execute(
                select(m.EventExecution.event_id).filter_by(school_id=ids["school31"], status="held")
            ).scalars()
        )
        never = (
            set(db.session.execute(select(m.Event.id).filter_by(school_id=ids["school31"])).scalars())
            - held_ever
        )
    listed = school.get(f"/admin/event/?flt0_{state_arg}=held&page_size=100").get_data(as_text=True)
    assert _listed(listed) == held_ever
    listed = school.get(f"/admin/event/?flt0_{state_arg}=submitted&page_size=100").get_data(as_text=True)
    assert not _listed(listed) & (held_ever | never)


# --- evidence on the yearly record's own create and edit forms -----------------------------


def _record_form(client: Any, url: str, event_id: int, year: int, **fields: Any) -> Any:
    page = client.get(url)
    assert page.status_code == 200 and 'name="evidence_file"' in page.text
    data = {
        "csrf_token": csrf_token(page.text),
        "event": str(event_id),
        "year": str(year),
        "status": "held",
        "students_count": "12",
        "teachers_count": "2",
        "parents_count": "0",
        **fields,
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def _files_of(app: Flask, record_id: int) -> list[str]:
    with app.app_context():
        stmt = select(m.StoredFile.original_name).filter_by(
            owner_table="event_executions", owner_id=record_id
        )
        return list(db.session.execute(stmt).scalars())


@pytest.mark.usefixtures("fresh_db")
def test_evidence_is_attached_on_the_records_create_and_edit_forms(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("school31")
    event_id = _event(app, ids["school31"], "held")
    with app.app_context():
        db.session.execute(
            m.EventExecution.__table__.delete().where(
                m.EventExecution.event_id == event_id, m.EventExecution.year == YEAR
            )
        )
        db.session.commit()
    response = _record_form(
        school,
        "/admin/eventexecution/new/",
        event_id,
        YEAR,
        evidence_file=(io.BytesIO(PNG), "грамота.png"),
    )
    assert response.status_code == 302
    record = _record(app, event_id)
    assert record is not None and _files_of(app, record["id"]) == ["грамота.png"]
    edit = f"/admin/eventexecution/edit/?id={record['id']}"
    page = school.get(edit)
    response = school.post(
        edit,
        data={
            "csrf_token": csrf_token(page.text),
            "loaded_version": str(record["version"]),
            "event": str(event_id),
            "year": str(YEAR),
            "status": "held",
            "students_count": "12",
            "teachers_count": "2",
            "parents_count": "0",
            "evidence_file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "протокол.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _files_of(app, record["id"]) == ["грамота.png", "протокол.pdf"]


@pytest.mark.usefixtures("fresh_db")
def test_a_refused_file_on_the_records_form_saves_nothing(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    school = client_as("school31")
    event_id = _event(app, ids["school31"], "held")
    record = _record(app, event_id)
    assert record is not None
    files_before = _stored(app)
    response = school.post(
        f"/admin/eventexecution/edit/?id={record['id']}",
        data={
            "csrf_token": csrf_token(school.get(f"/admin/eventexecution/edit/?id={record['id']}").text),
            "loaded_version": str(record["version"]),
            "event": str(event_id),
            "year": str(YEAR),
            "status": "held",
            "students_count": "99",
            "teachers_count": "2",
            "parents_count": "0",
            "evidence_file": (io.BytesIO(b"MZ\x90\x00 not a document"), "отчёт.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "PDF, Word" in response.get_data(as_text=True)
    assert _record(app, event_id) == record and _stored(app) == files_before


def test_a_list_filtered_by_year_shows_each_lines_state_in_that_year(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    year_arg = _filter_arg(app, AcademicYearFilter)
    page = (
        client_as("school31")
        .get(f"/admin/event/?flt0_{year_arg}={YEAR}&page_size=100")
        .get_data(as_text=True)
    )
    shown = re.findall(r'<div class="year-state year-state-(\w+) small">2019/2020: ([^<]+)</div>', page)
    with app.app_context():
        statuses = db.session.execute(
            select(m.EventExecution.status).filter_by(school_id=ids["school31"], year=YEAR)
        ).scalars()
        want = sorted(statuses)
    assert sorted(code for code, _label in shown) == want and len(want) == 48
    assert {label for code, label in shown if code == "held"} == {"Проведено"}
    unfiltered = client_as("school31").get("/admin/event/?page_size=100").get_data(as_text=True)
    assert "year-state" not in unfiltered


def test_a_partner_filters_its_lines_by_the_state_in_a_year_as_the_records_say(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """A partner reads its events' yearly records: the list's year state is the records'
    (held lines are «held», not «planned»), for its own lines only."""
    year_arg, state_arg = _filter_arg(app, AcademicYearFilter), _filter_arg(app, StateInYearFilter)
    with app.app_context():
        expected = set(
            db.session.execute(
                select(m.EventExecution.event_id)
                .join(m.Event, m.Event.id == m.EventExecution.event_id)
                .where(
                    m.EventExecution.year == YEAR,
                    m.EventExecution.status == "held",
                    m.Event.partner_id == ids["kemsu"],
                    m.EventExecution.deleted_at.is_(None),
                    m.Event.deleted_at.is_(None),
                )
            ).scalars()
        )
    assert expected
    partner = client_as("kemsu")
    page = partner.get(f"/admin/event/?flt0_{year_arg}={YEAR}&flt1_{state_arg}=held").get_data(as_text=True)
    assert _listed(page) == expected
    assert "year-state-held" in page


@pytest.mark.parametrize("line_state", list(m.EVENT_STATES))
@pytest.mark.parametrize("recorded", [None, *m.EXECUTION_STATUSES])
def test_the_python_and_the_sql_state_of_a_line_in_a_year_agree(
    app: Flask, ids: dict[str, int], line_state: str, recorded: str | None
) -> None:
    """outcomes.year_state (the list's label) and plan.state_in_year (the filters, the
    calendar): for every line state and every record status, the SQL lets the line
    through exactly one state of the year, the one the Python names."""
    from coop.plan_io.plan import YEAR_STATES, state_in_year
    from coop.views.outcomes import year_state

    with app.app_context():
        event = db.session.execute(
            select(m.Event).filter_by(school_id=ids["school31"]).order_by(m.Event.id).limit(1)
        ).scalar_one()
        event.state, event.first_year, event.last_year = line_state, YEAR, YEAR
        db.session.execute(m.EventExecution.__table__.delete().where(m.EventExecution.event_id == event.id))
        if recorded is not None:
            record = m.EventExecution(event=event, school_id=event.school_id, year=YEAR, status=recorded)
            db.session.add(record)
        db.session.flush()
        matched = [
            code
            for code in YEAR_STATES
            if db.session.execute(
                select(m.Event.id).where(m.Event.id == event.id, state_in_year(code, YEAR))
            ).first()
        ]
        expected = year_state(event, recorded)
        db.session.rollback()
    assert matched == [expected]
