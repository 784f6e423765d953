"""The municipality's data requests (coop/data_requests.py) through the real session, as
each role: whom a request goes to, each state and transition of a school's answer with its
history, the checks on the values, the derived "overdue", and a school that never sees
another school's answer nor whether it has answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import select

from coop import access, data_requests, tenancy, trash, workflow
from coop import models as m
from coop.data_requests import AnswerError
from coop.extensions import db

from .conftest import ACCOUNTS

pytestmark = pytest.mark.usefixtures("fresh_db")


@pytest.fixture
def ctx(app: Flask, ids: dict[str, int]) -> Iterator[None]:
    """A request of nobody in particular (the demo's ids looked up before it)."""
    with app.test_request_context():
        yield
        db.session.rollback()


def _user(key: str) -> m.User:
    with tenancy.as_system():
        return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


def _as(key: str) -> m.User:
    g.principal = _user(key)
    return g.principal


def _new_request(
    addressees: str = "chosen", schools: tuple[str, ...] = ("school31", "gymnasium17"), **kw: Any
) -> int:
    """A request with three questions, written by the coordinator; its id."""
    _as("coordinator")
    request = m.DataRequest(
        title=kw.get("title", "Сведения о сотрудничестве"),
        year=kw.get("year", 2019),
        deadline=kw.get("deadline", dt.date.today() + dt.timedelta(days=7)),
        addressees=addressees,
    )
    if addressees == "chosen":
        with tenancy.as_system():
            request.schools = [_user(key).school for key in schools]
    db.session.add(request)
    db.session.add_all(
        [
            m.DataRequestQuestion(
                request=request, label="Проведено мероприятий", kind="integer", required=True, sort_order=1
            ),
            m.DataRequestQuestion(request=request, label="Доля, %", kind="decimal", sort_order=2),
            m.DataRequestQuestion(request=request, label="Срок отчёта", kind="date", sort_order=3),
        ]
    )
    db.session.commit()
    return request.id


def _request(request_id: int) -> m.DataRequest:
    return db.session.get(m.DataRequest, request_id)


def _questions(request_id: int) -> list[int]:
    return [q.id for q in _request(request_id).questions]


def _history(answer_id: int) -> list[tuple[str, str, str]]:
    with tenancy.as_system():
        rows = db.session.execute(
            select(m.History)
            .filter_by(table_name="data_request_answers", row_id=answer_id)
            .order_by(m.History.id)
        ).scalars()
        return [(h.action, (h.changes.get("state") or [None, None])[1] or "", h.comment) for h in rows]


def test_whom_a_request_goes_to(ctx: None, ids: dict[str, int]) -> None:
    chosen = _new_request("chosen", ("gymnasium17",), title="Только гимназии")
    everyone = _new_request("all", title="Всем")
    # In 2019 the demo's СОШ № 31 runs its programme (2019–2023); the gymnasium's starts later.
    active = _new_request("active_programme", title="Площадкам", year=2019)
    with tenancy.as_system():
        assert data_requests.addressed_school_ids(_request(chosen)) == [ids["gymnasium17"]]
        assert set(data_requests.addressed_school_ids(_request(everyone))) == {
            ids["school31"],
            ids["gymnasium17"],
        }
        assert data_requests.addressed_school_ids(_request(active)) == [ids["school31"]]
    # A school reads the requests that go to it, and their questions; no others.
    _as("school31")
    seen = set(db.session.execute(select(m.DataRequest.id)).scalars())
    assert {everyone, active} <= seen and chosen not in seen
    assert db.session.get(m.DataRequest, chosen) is None
    questions = set(db.session.execute(select(m.DataRequestQuestion.request_id)).scalars())
    assert chosen not in questions and everyone in questions
    _as("gymnasium17")
    seen = set(db.session.execute(select(m.DataRequest.id)).scalars())
    assert {chosen, everyone} <= seen and active not in seen
    # A partner none at all.
    _as("kemsu")
    assert db.session.execute(select(m.DataRequest.id)).first() is None
    assert db.session.execute(select(m.DataRequestQuestion.id)).first() is None
    assert db.session.execute(select(m.DataRequestAnswer.id)).first() is None


def test_every_state_and_transition_of_an_answer(ctx: None, ids: dict[str, int]) -> None:
    request_id = _new_request()
    count, share, date = _questions(request_id)
    school = _as("school31")
    request = _request(request_id)
    assert data_requests.answer_of(request, ids["school31"]) is None  # not started: no row yet
    # Saved as a draft: the values read as their kinds keep them.
    answer = data_requests.write(
        school, request, ids["school31"], {count: "12", share: "7,5", date: "31.05.2020"}
    )
    db.session.commit()
    assert answer.state == "draft"
    assert answer.values == {
        str(count): {"value": 12},
        str(share): {"value": 7.5},
        str(date): {"value": "2020-05-31"},
    }
    # Saved again: still a draft, the value changed.
    data_requests.write(school, request, ids["school31"], {count: 13})
    db.session.commit()
    assert answer.state == "draft" and answer.values[str(count)] == {"value": 13}
    # Submitted.
    data_requests.write(school, request, ids["school31"], {}, submit=True)
    db.session.commit()
    assert answer.state == "submitted" and answer.submitted_at is not None
    # Submitted, it is no longer the school's to change.
    with pytest.raises(AnswerError, match="изменить его уже нельзя"):
        data_requests.write(school, request, ids["school31"], {count: 1})
    db.session.rollback()
    # The coordinator returns it, saying why (a comment is required).
    coordinator = _as("coordinator")
    answer = data_requests.answer_of(_request(request_id), ids["school31"])
    with pytest.raises(workflow.WorkflowError, match="нужен комментарий"):
        data_requests.decide(coordinator, answer, "return", "  ")
    data_requests.decide(coordinator, answer, "return", "Проверьте число мероприятий")
    db.session.commit()
    assert answer.state == "returned" and answer.return_comment == "Проверьте число мероприятий"
    # Returned: the school corrects and saves a draft, then submits again.
    school = _as("school31")
    request = _request(request_id)
    answer = data_requests.write(school, request, ids["school31"], {count: 14})
    db.session.commit()
    assert answer.state == "draft"
    data_requests.write(school, request, ids["school31"], {}, submit=True)
    db.session.commit()
    # The coordinator accepts it; then may still return it.
    coordinator = _as("coordinator")
    answer = data_requests.answer_of(_request(request_id), ids["school31"])
    data_requests.decide(coordinator, answer, "accept")
    db.session.commit()
    assert answer.state == "accepted"
    with pytest.raises(workflow.WorkflowError, match="невозможно в состоянии «Принято»"):
        data_requests.decide(coordinator, answer, "accept")
    with pytest.raises(workflow.WorkflowError, match="Такого действия нет"):
        data_requests.decide(coordinator, answer, "submit")
    db.session.rollback()
    # The history: every change of state, with who and the comment.
    assert _history(answer.id) == [
        ("transition", "draft", ""),  # the row written with its first transition
        ("update", "", ""),
        ("transition", "submitted", ""),
        ("transition", "returned", "Проверьте число мероприятий"),
        ("transition", "draft", ""),
        ("transition", "submitted", ""),
        ("transition", "accepted", ""),
    ]
    # A returned answer may also be submitted at once.
    data_requests.decide(coordinator, answer, "return", "Ещё раз")
    db.session.commit()
    school = _as("school31")
    answer = data_requests.write(school, _request(request_id), ids["school31"], {}, submit=True)
    db.session.commit()
    assert answer.state == "submitted"


def test_a_school_may_not_decide_and_the_coordinator_may_not_answer(ctx: None, ids: dict[str, int]) -> None:
    request_id = _new_request()
    (count, *_rest) = _questions(request_id)
    school = _as("school31")
    answer = data_requests.write(school, _request(request_id), ids["school31"], {count: 3}, submit=True)
    db.session.commit()
    with pytest.raises(workflow.WorkflowError, match="нет прав"):
        data_requests.decide(school, answer, "accept")
    db.session.rollback()
    coordinator = _as("coordinator")
    # The coordinator writes none of the schools' answers: neither a new one nor a change.
    with pytest.raises(workflow.WorkflowError, match="нет прав"):
        data_requests.write(coordinator, _request(request_id), ids["gymnasium17"], {count: 1})
    db.session.rollback()
    answer = data_requests.answer_of(_request(request_id), ids["school31"])
    answer.values = {str(count): {"value": 99}}
    with pytest.raises(access.AccessDenied):
        db.session.flush()
    db.session.rollback()
    # A school answers no request that does not go to it.
    only_gymnasium = _new_request("chosen", ("gymnasium17",), title="Гимназии")
    school = _as("school31")
    with tenancy.as_system():
        foreign = db.session.get(m.DataRequest, only_gymnasium)
    with pytest.raises(workflow.WorkflowError, match="нет прав"):
        data_requests.write(school, foreign, ids["school31"], {})
    db.session.rollback()


def test_bad_values_and_missing_required_ones_write_nothing(ctx: None, ids: dict[str, int]) -> None:
    request_id = _new_request()
    count, share, date = _questions(request_id)
    school = _as("school31")
    with pytest.raises(AnswerError) as refused:
        data_requests.write(
            school, _request(request_id), ids["school31"], {count: "двенадцать", date: "32.13.2020"}
        )
    assert str(refused.value) == (
        "«Проведено мероприятий»: нужно целое число; «Срок отчёта»: нужна дата, например 31.12.2024"
    )
    db.session.rollback()
    assert data_requests.answer_of(_request(request_id), ids["school31"]) is None
    with pytest.raises(AnswerError, match=r"^«Проведено мероприятий»: нужен ответ$"):
        data_requests.write(school, _request(request_id), ids["school31"], {share: 5}, submit=True)
    db.session.rollback()
    assert data_requests.answer_of(_request(request_id), ids["school31"]) is None
    # A draft needs nothing required.
    data_requests.write(school, _request(request_id), ids["school31"], {share: 5})
    db.session.commit()
    assert data_requests.answer_of(_request(request_id), ids["school31"]).state == "draft"


def test_a_school_never_sees_another_schools_answer_nor_its_state(ctx: None, ids: dict[str, int]) -> None:
    request_id = _new_request("all")
    (count, *_rest) = _questions(request_id)
    gymnasium = _as("gymnasium17")
    data_requests.write(gymnasium, _request(request_id), ids["gymnasium17"], {count: 4}, submit=True)
    db.session.commit()
    school = _as("school31")
    request = _request(request_id)
    assert data_requests.answer_of(request, ids["gymnasium17"]) is None
    answers = db.session.execute(select(m.DataRequestAnswer)).scalars().all()
    assert all(a.school_id == ids["school31"] for a in answers)
    assert request.answers == []  # the relation too is scoped
    with tenancy.as_system():
        theirs = data_requests.answer_of(_request(request_id), ids["gymnasium17"])
    assert theirs is not None and not access.visible(school, theirs)
    assert not access.can(school, "datarequestanswer.view", theirs)
    # Nor the history of it.
    histories = db.session.execute(select(m.History).filter_by(table_name="data_request_answers")).scalars()
    assert all(h.school_id == ids["school31"] for h in histories)
    # The coordinator sees both schools' states on the board.
    _as("coordinator")
    board = data_requests.board(_request(request_id))
    states = {row.school.id: row.state for row in board.rows}
    assert states == {ids["school31"]: "not_started", ids["gymnasium17"]: "submitted"}
    assert board.counts["submitted"] == 1 and board.counts["not_started"] == 1


def test_overdue_is_derived_from_the_deadline(ctx: None, ids: dict[str, int]) -> None:
    request_id = _new_request("all", deadline=dt.date(2020, 5, 31))
    (count, *_rest) = _questions(request_id)
    school = _as("school31")
    data_requests.write(school, _request(request_id), ids["school31"], {count: 1})
    db.session.commit()
    _as("coordinator")
    request = _request(request_id)
    on_time = data_requests.board(request, on=dt.date(2020, 5, 31))
    assert {r.school.id: r.state for r in on_time.rows} == {
        ids["school31"]: "draft",
        ids["gymnasium17"]: "not_started",
    }
    late = data_requests.board(request, on=dt.date(2020, 6, 1))
    assert {r.school.id: r.state for r in late.rows} == {
        ids["school31"]: "overdue",
        ids["gymnasium17"]: "overdue",
    }
    assert late.counts == {
        "not_started": 0,
        "draft": 0,
        "submitted": 0,
        "returned": 0,
        "accepted": 0,
        "overdue": 2,
    }
    assert [r.state_label for r in late.rows] == ["Просрочено", "Просрочено"]
    for state in ("submitted", "accepted"):
        assert data_requests.shown_state(request, state, on=dt.date(2021, 1, 1)) == state
    for state in (None, "not_started", "draft", "returned"):
        assert data_requests.shown_state(request, state, on=dt.date(2021, 1, 1)) == "overdue"


def test_a_deleted_request_takes_its_questions_to_the_trash(ctx: None, ids: dict[str, int]) -> None:
    request_id = _new_request("all")
    (count, *_rest) = _questions(request_id)
    data_requests.write(_as("school31"), _request(request_id), ids["school31"], {count: 2})
    db.session.commit()
    _as("coordinator")
    batch = trash.discard(_request(request_id))
    db.session.commit()
    assert db.session.get(m.DataRequest, request_id) is None
    assert db.session.execute(select(m.DataRequestQuestion).filter_by(request_id=request_id)).first() is None
    _as("admin")
    assert trash.restore(batch) == 4
    db.session.commit()
    request = _request(request_id)
    assert len(request.questions) == 3
    assert data_requests.answer_of(request, ids["school31"]).values == {str(count): {"value": 2}}


def test_the_demo_holds_a_request(ctx: None, ids: dict[str, int]) -> None:
    _as("coordinator")
    (request,) = db.session.execute(select(m.DataRequest)).scalars().all()
    board = data_requests.board(request)
    assert {r.school.id: r.state for r in board.rows} == {
        ids["school31"]: "not_started",
        ids["gymnasium17"]: "submitted",
    }
    assert [q.prefill for q in request.questions][:3] == [
        "lines_held",
        "participants_students",
        "agreements_active",
    ]
