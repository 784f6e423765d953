"""The data requests' pages (coop/views/data_requests.py) as every role: the list, the
coordinator's board, the answer form and the decisions. Statuses by role and by whether the
request goes to the school; a school never reads another school's answer nor its state;
the whole way of an answer through the forms; bad input refused in Russian, nothing written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, csrf_token

pytestmark = pytest.mark.usefixtures("fresh_db")

# The gymnasium's demo answer: only the admin and the coordinator may read it.
GYMNASIUM_ANSWER = "Профориентационные пробы"


@pytest.fixture
def requests_(app: Flask, ids: dict[str, int]) -> Iterator[dict[str, int]]:
    """The demo's request (to every school) and one to the gymnasium alone."""
    with app.app_context():
        demo = db.session.execute(select(m.DataRequest)).scalar_one()
        only = m.DataRequest(
            title="Только гимназии", year=2019, deadline=dt.date(2030, 1, 1), addressees="chosen"
        )
        only.schools = [db.session.get(m.School, ids["gymnasium17"])]
        db.session.add(only)
        db.session.add(m.DataRequestQuestion(request=only, label="Секретный вопрос гимназии", kind="text"))
        db.session.commit()
        found = {"demo": demo.id, "only_gymnasium": only.id, **{q.label: q.id for q in demo.questions}}
    yield found


INDEX = {None: 302, "admin": 200, "coordinator": 200, "school": 200, "partner": 403}
BOARD = {None: 302, "admin": 200, "coordinator": 200, "school": 403, "partner": 403}


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_every_page_as_every_role(
    client_as: Any, ids: dict[str, int], requests_: dict[str, int], key: str
) -> None:
    client = client_as(key)
    role = ACCOUNTS[key].role
    demo, only = requests_["demo"], requests_["only_gymnasium"]
    pages: dict[str, int] = {
        "/admin/datarequests/": INDEX[role],
        f"/admin/datarequests/board/?id={demo}": BOARD[role],
        f"/admin/datarequests/board/?id={only}": BOARD[role],
        "/admin/datarequests/board/?id=x": {**BOARD, "admin": 404, "coordinator": 404}[role],
    }
    if role == "school":
        pages[f"/admin/datarequests/answer/?id={demo}"] = 200
        # The request to the gymnasium alone is not СОШ № 31's to see.
        pages[f"/admin/datarequests/answer/?id={only}"] = 200 if key == "gymnasium17" else 404
        # A school names no other school: its own answer it is, whatever ?school= says.
        pages[f"/admin/datarequests/answer/?id={demo}&school={ids['gymnasium17']}"] = 200
    elif role in ("admin", "coordinator"):
        pages[f"/admin/datarequests/answer/?id={demo}&school={ids['school31']}"] = 200
        pages[f"/admin/datarequests/answer/?id={only}&school={ids['school31']}"] = 404  # not sent to it
        pages[f"/admin/datarequests/answer/?id={demo}"] = 404  # whose answer?
    else:
        pages[f"/admin/datarequests/answer/?id={demo}&school={ids['school31']}"] = (
            302 if role is None else 403
        )
    for url, status in pages.items():
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        if role is None:
            assert "/login" in response.headers["Location"]
        body = response.get_data(as_text=True)
        if key == "school31":  # never the gymnasium's answer, nor that it has submitted it
            assert GYMNASIUM_ANSWER not in body and "Отправлено" not in body, url
            assert "Только гимназии" not in body and "Секретный вопрос" not in body, url


def test_a_school_sees_its_open_requests_on_its_home_page(client_as: Any, requests_: dict[str, int]) -> None:
    home = client_as("school31").get("/admin/").text
    assert "Запросы данных, ждущие ответа" in home and "Сетевое взаимодействие" in home
    assert "Только гимназии" not in home
    # The gymnasium has submitted the demo's: it has only the new one left.
    home = client_as("gymnasium17").get("/admin/").text
    assert "Только гимназии" in home and "Сетевое взаимодействие" not in home
    assert "Запросы данных, ждущие ответа" not in client_as("coordinator").get("/admin/").text


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data})


def test_an_answer_through_the_forms(
    app: Flask, client_as: Any, ids: dict[str, int], requests_: dict[str, int]
) -> None:
    school, coordinator = client_as("school31"), client_as("coordinator")
    demo = requests_["demo"]
    url = f"/admin/datarequests/answer/?id={demo}"
    held = requests_["Мероприятий сетевого плана проведено в учебном году"]
    students = requests_["Обучающихся приняли участие в мероприятиях"]
    practice = requests_["Лучшая практика сотрудничества (кратко)"]
    form = school.get(url).text
    assert "По данным Coop: 0" in form  # its plan ended in 2023: nothing held this year
    # A value that is not a number: refused in Russian, nothing written.
    response = _post(school, url, {f"q{held}": "двенадцать", "action": "save"})
    assert response.status_code == 400
    assert "нужно целое число" in response.text and 'value="двенадцать"' in response.text
    with school.application.app_context():
        assert (
            db.session.execute(select(m.DataRequestAnswer).filter_by(school_id=ids["school31"])).first()
            is None
        )
    # Submitting without a required answer: refused.
    response = _post(school, url, {f"q{held}": "3", "action": "submit"})
    assert response.status_code == 400 and "нужен ответ" in response.text
    # A draft, the prefilled figure corrected.
    response = _post(school, url, {f"q{held}": "3", f"q{students}": "40", "action": "save"})
    assert response.status_code == 302
    page = school.get(url).text
    assert "Черновик сохранён" in page and 'value="3"' in page
    # The board: one draft, one submitted (the gymnasium's).
    board = coordinator.get(f"/admin/datarequests/board/?id={demo}").text
    assert re.search(r'data-count="draft">1<', board) and re.search(r'data-count="submitted">1<', board)
    # Submitted.
    response = _post(school, url, {f"q{held}": "3", f"q{practice}": "Уроки в музее", "action": "submit"})
    assert response.status_code == 302
    assert "Ответ отправлен" in school.get(url).text
    board = coordinator.get(f"/admin/datarequests/board/?id={demo}").text
    assert re.search(r'data-count="submitted">2<', board) and re.search(r'data-count="draft">0<', board)
    # The charts of the number questions: a bar per school that submitted, the largest first.
    chart = board.split("Мероприятий сетевого плана проведено в учебном году</figcaption>")[1].split(
        "</svg>"
    )[0]
    assert re.findall(r"<title>([^<]+)</title>", chart) == ["МБОУ «СОШ № 31»: 3", "МБОУ «Гимназия № 17»: 2"]
    # The coordinator reads it: the correction beside what Coop counted.
    answer_url = f"/admin/datarequests/answer/?id={demo}&school={ids['school31']}"
    page = coordinator.get(answer_url).text
    assert "Исправлено школой; по данным Coop — 0" in page and "Уроки в музее" in page
    with app.app_context():
        answer = db.session.execute(
            select(m.DataRequestAnswer).filter_by(request_id=demo, school_id=ids["school31"])
        ).scalar_one()
        answer_id = answer.id
    # The school cannot decide on it; its state stays.
    page = school.get(url)
    response = school.post(
        "/admin/datarequests/decide/",
        data={"csrf_token": csrf_token(page.text), "id": answer_id, "transition": "accept"},
    )
    assert response.status_code == 302
    assert "нет прав" in school.get(url).text
    # Returned without a comment: refused; with one, the school reads why.
    page = coordinator.get(answer_url)
    token = csrf_token(page.text)
    decide = {"csrf_token": token, "id": answer_id, "transition": "return", "comment": " "}
    coordinator.post("/admin/datarequests/decide/", data=decide)
    assert "нужен комментарий" in coordinator.get(answer_url).text
    coordinator.post("/admin/datarequests/decide/", data={**decide, "comment": "Уточните число"})
    page = school.get(url).text
    assert "Возвращено на доработку" in page and "Уточните число" in page
    # Submitted again and accepted.
    _post(school, url, {"action": "submit"})
    coordinator.post("/admin/datarequests/decide/", data={**decide, "transition": "accept"})
    assert "Принято" in school.get(url).text
    board = coordinator.get(f"/admin/datarequests/board/?id={demo}").text
    assert re.search(r'data-count="accepted">1<', board)
    # Accepted: the school's form is gone, a write refused.
    assert 'name="action"' not in school.get(url).text
    response = _post(school, url, {f"q{held}": "9", "action": "save"})
    assert response.status_code == 403


def test_the_coordinator_writes_no_answer(
    client_as: Any, ids: dict[str, int], requests_: dict[str, int]
) -> None:
    coordinator = client_as("coordinator")
    url = f"/admin/datarequests/answer/?id={requests_['demo']}&school={ids['school31']}"
    page = coordinator.get(url)
    assert 'name="action"' not in page.text
    response = coordinator.post(url, data={"csrf_token": csrf_token(page.text), "action": "submit"})
    assert response.status_code == 403


def test_writes_without_a_csrf_token_are_refused(client_as: Any, requests_: dict[str, int]) -> None:
    school = client_as("school31")
    assert (
        school.post(
            f"/admin/datarequests/answer/?id={requests_['demo']}", data={"action": "save"}
        ).status_code
        == 400
    )
    coordinator = client_as("coordinator")
    assert (
        coordinator.post("/admin/datarequests/decide/", data={"id": 1, "transition": "accept"}).status_code
        == 400
    )


def test_the_coordinator_writes_a_request_and_its_questions(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    coordinator = client_as("coordinator")
    page = coordinator.get("/admin/datarequest/new/")
    assert page.status_code == 200
    response = coordinator.post(
        "/admin/datarequest/new/",
        data={
            "csrf_token": csrf_token(page.text),
            "title": "Кадры для сетевых программ",
            "explanation": "",
            "year": "2022",
            "deadline": "20.05.2023",
            "addressees": "chosen",
            "schools": str(ids["school31"]),
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        created = db.session.execute(
            select(m.DataRequest).filter_by(title="Кадры для сетевых программ")
        ).scalar_one()
        request_id, schools = created.id, [s.id for s in created.schools]
    assert response.headers["Location"].endswith(f"/admin/datarequests/board/?id={request_id}")
    assert schools == [ids["school31"]]
    # «Add a question» on its board names the request in the new question's form.
    form = coordinator.get(f"/admin/datarequestquestion/new/?request={request_id}")
    assert "Кадры для сетевых программ" in form.text
    response = coordinator.post(
        f"/admin/datarequestquestion/new/?request={request_id}",
        data={
            "csrf_token": csrf_token(form.text),
            "request": str(request_id),
            "label": "Педагогов прошли стажировку у партнёров",
            "kind": "integer",
            "help_text": "",
            "sort_order": "10",
            "prefill": "participants_teachers",
        },
    )
    assert response.status_code == 302, response.text
    board = coordinator.get(f"/admin/datarequests/board/?id={request_id}").text
    assert "Педагогов прошли стажировку у партнёров" in board and "Охвачено педагогов" in board
    assert "МБОУ «СОШ № 31»" in board and "МБОУ «Гимназия № 17»" not in board
    # The school it goes to answers it, prefilled; the other school does not see it.
    form = client_as("school31").get(f"/admin/datarequests/answer/?id={request_id}").text
    assert "Педагогов прошли стажировку у партнёров" in form and "По данным Coop:" in form
    assert client_as("gymnasium17").get(f"/admin/datarequests/answer/?id={request_id}").status_code == 404
    # A school writes no request.
    assert client_as("school31").get("/admin/datarequest/new/").status_code == 403


def test_the_consolidated_xlsx_cell_by_cell(
    app: Flask, client_as: Any, ids: dict[str, int], requests_: dict[str, int]
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    demo = requests_["demo"]
    held = requests_["Мероприятий сетевого плана проведено в учебном году"]
    agreements = requests_["Действующих соглашений с организациями-партнёрами"]
    practice = requests_["Лучшая практика сотрудничества (кратко)"]
    school = client_as("school31")
    url = f"/admin/datarequests/answer/?id={demo}"
    # СОШ № 31 corrects the prefilled 0 to 3, leaves the others as counted, and submits.
    response = _post(
        school,
        url,
        {f"q{held}": "3", f"q{practice}": "=Уроки в музее", "q" + str(agreements): "1", "action": "submit"},
    )
    assert response.status_code == 302
    for key in ("school31", "gymnasium17", "kemsu"):
        assert client_as(key).get(f"/admin/datarequests/export/?id={demo}").status_code == 403
    response = client_as("coordinator").get(f"/admin/datarequests/export/?id={demo}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=data-request-{demo}.xlsx"
    ws = load_workbook(BytesIO(response.data)).active
    with app.app_context():
        title = db.session.get(m.DataRequest, demo).title
    assert ws["A1"].value == title
    assert ws["A2"].value.startswith("Учебный год ") and "отправленные и принятые" in ws["A2"].value
    header = [cell.value for cell in ws[4]]
    assert header == [
        "Школа",
        "Состояние",
        "Когда отправлено",
        "Мероприятий сетевого плана проведено в учебном году",
        "Обучающихся приняли участие в мероприятиях",
        "Действующих соглашений с организациями-партнёрами",
        "Лучшая практика сотрудничества (кратко)",
        "Нужна ли школе методическая помощь?",
    ]
    rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=5)]
    gymnasium, school31, total, average = rows
    assert gymnasium[:2] == ["МБОУ «Гимназия № 17»", "Отправлено"] and re.match(
        r"\d\d\.\d\d\.\d{4} \d\d:\d\d", gymnasium[2]
    )
    assert gymnasium[3:] == [2, 130, 5, "Профориентационные пробы на базе колледжа для 8–9 классов", "нет"]
    assert school31[:2] == ["МБОУ «СОШ № 31»", "Отправлено"]
    # Its text kept as text, never a formula; the prefilled values as counted (0), the corrected one 3.
    assert school31[3:] == [3, 0, 1, "'=Уроки в музее", "нет"]  # a box left unticked: no
    assert ws.cell(6, 4).comment is not None and ws.cell(6, 4).comment.text == "По данным Coop: 0"
    assert ws.cell(6, 6).comment is not None  # 1 agreement in force said, Coop counted 0
    assert ws.cell(6, 5).comment is None  # as counted: no note
    assert total[0] == "Итого" and total[3:] == [5, 130, 6, None, None]
    assert average[0] == "Среднее" and average[3:] == [2.5, 65, 3, None, None]
    # A draft is not in the table: returned, the school's row is empty again.
    coordinator = client_as("coordinator")
    with app.app_context():
        answer_id = db.session.execute(
            select(m.DataRequestAnswer.id).filter_by(request_id=demo, school_id=ids["school31"])
        ).scalar_one()
    page = coordinator.get(f"/admin/datarequests/answer/?id={demo}&school={ids['school31']}")
    coordinator.post(
        "/admin/datarequests/decide/",
        data={"csrf_token": csrf_token(page.text), "id": answer_id, "transition": "return", "comment": "Нет"},
    )
    ws = load_workbook(BytesIO(coordinator.get(f"/admin/datarequests/export/?id={demo}").data)).active
    rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=5)]
    assert rows[1][1] == "Возвращено на доработку" and rows[1][3:] == [None] * 5
    assert rows[2][3:] == [2, 130, 5, None, None] and rows[3][3:] == [2, 130, 5, None, None]


def test_a_request_copied_to_the_next_year_and_compared(
    app: Flask, client_as: Any, ids: dict[str, int], requests_: dict[str, int]
) -> None:
    demo = requests_["demo"]
    held = requests_["Мероприятий сетевого плана проведено в учебном году"]
    practice = requests_["Лучшая практика сотрудничества (кратко)"]
    school, coordinator = client_as("school31"), client_as("coordinator")
    _post(
        school,
        f"/admin/datarequests/answer/?id={demo}",
        {f"q{held}": "3", f"q{practice}": "Музей", "action": "submit"},
    )
    board = coordinator.get(f"/admin/datarequests/board/?id={demo}")
    # A school copies nothing.
    token = csrf_token(school.get("/admin/datarequests/").text)
    assert school.post("/admin/datarequests/copy/", data={"csrf_token": token, "id": demo}).status_code in (
        403,
        404,
    )
    response = coordinator.post(
        "/admin/datarequests/copy/", data={"csrf_token": csrf_token(board.text), "id": demo}
    )
    assert response.status_code == 302
    with app.app_context():
        old = db.session.get(m.DataRequest, demo)
        new = db.session.execute(select(m.DataRequest).filter_by(previous_id=demo)).scalar_one()
        assert new.year == old.year + 1 and new.deadline == old.deadline.replace(year=old.deadline.year + 1)
        assert new.title == old.title.replace(f"{old.year}/{old.year + 1}", f"{old.year + 1}/{old.year + 2}")
        assert [(q.label, q.kind, q.prefill, q.required) for q in new.questions] == [
            (q.label, q.kind, q.prefill, q.required) for q in old.questions
        ]
        assert new.answers == []
        new_id, new_held = new.id, new.questions[0].id
        new_practice = new.questions[3].id
    assert response.headers["Location"].endswith(f"/admin/datarequests/board/?id={new_id}")
    _post(
        school,
        f"/admin/datarequests/answer/?id={new_id}",
        {f"q{new_held}": "5", f"q{new_practice}": "Завод", "action": "submit"},
    )
    compare = f"/admin/datarequests/compare/?id={new_id}&school={ids['school31']}"
    page = coordinator.get(compare)
    assert page.status_code == 200
    rows = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>((?:<td[^>]*>[^<]*</td>)+)', page.text)
    cells = {label: re.findall(r"<td[^>]*>([^<]*)</td>", tds) for label, tds in rows}
    assert cells["Мероприятий сетевого плана проведено в учебном году"] == ["3", "5"]
    assert cells["Лучшая практика сотрудничества (кратко)"] == ["Музей", "Завод"]
    # The gymnasium answered only the first year.
    page = coordinator.get(f"/admin/datarequests/compare/?id={new_id}&school={ids['gymnasium17']}").text
    assert "Профориентационные пробы" in page and "—" in page
    for key in ("school31", "kemsu"):
        assert client_as(key).get(compare).status_code == 403
