"""The annual report of an innovation site (issue 4, item 9): what it says, the reporting
period ending on 31 May, the web download and the CLI, and who may have it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .test_dashboard import _expected

YEAR = 2019
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _read(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """The paragraphs and the tables (rows of cell texts) of a .docx."""
    doc = Document(io.BytesIO(data))
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]
    return [para.text for para in doc.paragraphs], tables


def _section(paragraphs: list[str], number: int) -> list[str]:
    """The paragraphs under heading «N. …», up to the next heading."""
    start = next(i for i, text in enumerate(paragraphs) if text.startswith(f"{number}. "))
    end = next(
        (i for i, text in enumerate(paragraphs) if text.startswith(f"{number + 1}. ")), len(paragraphs)
    )
    return [text for text in paragraphs[start + 1 : end] if text]


def _plan_rows(tables: list[list[list[str]]]) -> list[list[str]]:
    return [row for table in tables if table[0][1] == "Мероприятие" for row in table[1:]]


def _report(client: Any, school_id: int, year: int = YEAR) -> bytes:
    response = client.get(f"/admin/dashboard/report.docx?school={school_id}&year={year}")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    return response.data


def test_the_report_of_school31_holds_the_demo_year(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    with app.app_context():
        want = _expected(ids["school31"], YEAR)
    paragraphs, tables = _read(_report(client_as("coordinator"), ids["school31"]))
    assert paragraphs[0] == "Отчёт инновационной площадки"
    assert "отчётный период: 01.09.2019 – 31.05.2020" in paragraphs
    headings = [
        text for text in paragraphs if text[:3] in {f"{n}. " for n in range(1, 10)} or text.startswith("10. ")
    ]
    assert len(headings) == 10
    assert any(
        "Программа сотрудничества с образовательными учреждениями" in text for text in _section(paragraphs, 1)
    )
    assert f"Организаций-партнёров: {want['partners']};" in _section(paragraphs, 2)[0]
    summary = _section(paragraphs, 3)[0]
    assert f"Пунктов сетевого плана в отчётном периоде: {want['lines']};" in summary
    assert f"проведено: {want['held']} (" in summary and f"не проведено: {want['not_held']};" in summary
    assert len(_plan_rows(tables)) == want["lines"]  # no demo line is planned for summer only
    assert _section(paragraphs, 4) == [
        f"Охвачено проведёнными мероприятиями: обучающихся — {want['students']}, "
        f"педагогов — {want['teachers']}, родителей — {want['parents']}."
    ]
    seminars = next(table for table in tables if table[0][0] == "Цикл")
    assert len(seminars) - 1 == sum(want["seminars"].values()) == 4
    assert "Положение о сетевом взаимодействии" in _section(paragraphs, 6)  # documents of the seminars
    coverage = next(table for table in tables if table[0][0] == "Результат ФГОС")
    assert len(coverage) - 1 == want["fgos_agreed"]
    assert sum(1 for row in coverage[1:] if row[3] == "покрыто") == want["fgos_covered"]
    problems = _section(paragraphs, 9)
    assert sum(1 for text in problems if text.startswith("Не проведено:")) == want["not_held"]
    assert any(text.startswith("Продолжить реализацию программы") for text in _section(paragraphs, 10))


def test_a_line_not_held_is_a_problem_and_a_next_step(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        execution = (
            db.session.execute(
                select(m.EventExecution)
                .filter_by(school_id=ids["school31"], year=YEAR, status="held")
                .order_by(m.EventExecution.id)
            )
            .scalars()
            .first()
        )
        execution.status, execution.results = "cancelled", "Перенесено из-за карантина."
        title = execution.event.title
        db.session.commit()
    paragraphs, _tables = _read(_report(client_as("school31"), ids["school31"]))
    assert any(
        text.startswith(f"Не проведено: «{title}»") and "карантина" in text
        for text in _section(paragraphs, 9)
    )
    assert any(
        text.startswith(f"Провести в 2020/2021 учебном году: «{title}»") for text in _section(paragraphs, 10)
    )


def test_the_reporting_year_ends_on_31_may(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        school = db.session.get(m.School, ids["school31"])
        partner = db.session.get(m.Partner, ids["kemsu"])
        summer = m.Event(
            school=school, partner=partner, title="Летняя профильная смена", first_year=YEAR, last_year=YEAR
        )
        summer.set_timing("июнь")
        late = m.Seminar(
            school=school, cycle="results", held_on=dt.date(2020, 6, 10), topic="Семинар после 31 мая"
        )
        db.session.add_all([summer, late])
        db.session.commit()
    paragraphs, tables = _read(_report(client_as("coordinator"), ids["school31"]))
    assert not any("Летняя профильная смена" in row[1] for row in _plan_rows(tables))
    assert "Запланировано на июнь–август, после отчётного периода:" in paragraphs
    assert any(text.startswith("Летняя профильная смена") for text in paragraphs)
    assert not any("Семинар после 31 мая" in cell for table in tables for row in table for cell in row)


def test_a_school_without_a_programme_gets_a_report_that_says_so(client_as: Any, ids: dict[str, int]) -> None:
    paragraphs, tables = _read(_report(client_as("admin"), ids["gymnasium17"]))
    assert _section(paragraphs, 1) == ["В этом учебном году программа не реализуется."]
    assert "В отчётном периоде семинары не проводились." in _section(paragraphs, 5)
    assert _plan_rows(tables) == []


@pytest.mark.parametrize(
    ("key", "school", "status"),
    [
        ("anonymous", "school31", 302),
        ("admin", "school31", 200),
        ("coordinator", "gymnasium17", 200),
        ("school31", "school31", 200),
        ("school31", "gymnasium17", 404),
        ("gymnasium17", "school31", 404),
        ("kemsu", "school31", 403),
        ("museum", "gymnasium17", 403),
    ],
)
def test_who_may_have_the_report(
    app: Flask, client_as: Any, ids: dict[str, int], key: str, school: str, status: int
) -> None:
    response = client_as(key).get(f"/admin/dashboard/report.docx?school={ids[school]}&year={YEAR}")
    assert response.status_code == status
    if status == 200:
        with app.app_context():
            name = db.session.get(m.School, ids[school]).name
        assert _read(response.data)[0][1] == name


@pytest.mark.parametrize(
    "query",
    [
        "year=2019",
        "school=abc&year=2019",
        "school=999999&year=2019",
        "school={school}&year=abc",
        "school={school}&year=1812",
    ],
)
def test_a_bad_request_is_not_found(client_as: Any, ids: dict[str, int], query: str) -> None:
    url = "/admin/dashboard/report.docx?" + query.format(school=ids["school31"])
    assert client_as("coordinator").get(url).status_code == 404


def test_the_dashboard_offers_the_report_once_a_school_is_chosen(client_as: Any, ids: dict[str, int]) -> None:
    client = client_as("coordinator")
    assert "report.docx" not in client.get("/admin/dashboard/?year=2019").text
    page = client.get(f"/admin/dashboard/?year=2019&school={ids['school31']}").text
    assert f"/admin/dashboard/report.docx?school={ids['school31']}&amp;year=2019" in page
    assert "/admin/dashboard/report.docx" in client_as("school31").get("/admin/").text  # on its home page


def test_the_cli_writes_the_report(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "report.docx"
    result = app.test_cli_runner().invoke(
        args=["coop", "report", "--school", "СОШ № 31", "--year", "2019", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    paragraphs, tables = _read(out.read_bytes())
    assert paragraphs[2] == "за 2019/2020 учебный год" and _plan_rows(tables)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--school", "Лицей № 999", "--year", "2019", "-o", "{tmp}/r.docx"], "Лицей № 999"),
        (["--school", "СОШ № 31", "--year", "1812", "-o", "{tmp}/r.docx"], "1812"),
        (["--school", "СОШ № 31", "--year", "2019", "-o", "{tmp}/no/such/dir/r.docx"], "Не удалось записать"),
        (["--school", "СОШ № 31", "--year", "2019"], "-o"),
    ],
)
def test_the_cli_refuses_bad_input_clearly(app: Flask, tmp_path: Path, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(args=["coop", "report", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
