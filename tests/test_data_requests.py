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


# --- prefilled questions ------------------------------------------------------------------------


def _by_hand(school_id: int, year: int) -> dict[str, Any]:
    """The figures of a school for a year counted from the rows in Python, apart from
    coop.figures: the rules as DESIGN.md and coop/figures.py's docstring state them."""
    first, last = dt.date(year, 9, 1), dt.date(year + 1, 8, 31)
    with tenancy.as_system():
        events = [
            e
            for e in db.session.execute(select(m.Event).filter_by(school_id=school_id)).scalars()
            if (e.first_year is None or e.first_year <= year) and (e.last_year is None or e.last_year >= year)
        ]
        records = {
            r.event_id: r
            for r in db.session.execute(
                select(m.EventExecution).filter_by(school_id=school_id, year=year)
            ).scalars()
            if r.event_id in {e.id for e in events} and r.status in ("held", "not_held", "cancelled")
        }
        agreements = [
            a
            for a in db.session.execute(select(m.Agreement).filter_by(school_id=school_id)).scalars()
            if (a.valid_from is None or a.valid_from <= last) and (a.valid_to is None or a.valid_to >= first)
        ]
        partners = {a.partner for a in agreements}
        seminars = [
            s
            for s in db.session.execute(select(m.Seminar).filter_by(school_id=school_id)).scalars()
            if s.held_on is not None and first <= s.held_on <= last
        ]
        limitations = [
            lim
            for lim in db.session.execute(select(m.Limitation).filter_by(school_id=school_id)).scalars()
            if (
                lim.seminar.held_on <= last
                if lim.seminar and lim.seminar.held_on
                else lim.created_at.date() <= last
            )
        ]
        remarks = db.session.execute(select(m.Remark).filter_by(school_id=school_id)).scalars().all()
        agreed = {r.id for a in agreements for r in a.fgos_results}
        served = {
            r.id
            for e in events
            if records.get(e.id) and records[e.id].status == "held"
            for r in e.fgos_results
        }
        held = sum(1 for r in records.values() if r.status == "held")
        return {
            "lines": len(events),
            "lines_held": held,
            "lines_percent_held": round(100 * held / len(events), 1) if events else None,
            "participants_students": sum(r.students_count for r in records.values()),
            "participants_teachers": sum(r.teachers_count for r in records.values()),
            "participants_parents": sum(r.parents_count for r in records.values()),
            "agreements": len(agreements),
            "agreements_active": sum(1 for a in agreements if a.state == "active"),
            "partners": len(partners),
            **{f"partners_{sphere}": sum(1 for p in partners if p.sphere == sphere) for sphere in m.SPHERES},
            "partners_by_kind": "; ".join(
                f"{kind}: {count}"
                for kind, count in sorted(
                    {
                        k: sum(1 for p in partners if (p.kind.name if p.kind else "—") == k)
                        for k in {p.kind.name if p.kind else "—" for p in partners}
                    }.items()
                )
            ),
            "fgos_coverage": round(100 * len(agreed & served) / len(agreed), 1) if agreed else None,
            **{
                f"seminars_{cycle}": sum(1 for s in seminars if s.cycle == cycle)
                for cycle in m.SEMINAR_CYCLES
            },
            "limitations": len(limitations),
            "limitations_addressed": sum(1 for lim in limitations if lim.resource_id is not None),
            "remarks_open": sum(1 for r in remarks if r.state in ("open", "answered")),
        }


@pytest.mark.parametrize("year", [2019, 2020])
def test_every_figure_against_the_rows_counted_by_hand(ctx: None, ids: dict[str, int], year: int) -> None:
    from coop import request_figures

    _as("coordinator")
    school_ids = [ids["school31"], ids["gymnasium17"]]
    found = request_figures.computed(year, school_ids, list(request_figures.FIGURES))
    for school_id in school_ids:
        expected = _by_hand(school_id, year)
        assert set(expected) == set(request_figures.FIGURES)
        assert found[school_id] == expected, school_id
    # СОШ № 31 in 2019: its demo plan was held, so the figures are not all zero.
    assert found[ids["school31"]]["lines_held"] > 0 and found[ids["school31"]]["partners"] == 5
    # A school reads its own figures only.
    _as("gymnasium17")
    assert set(request_figures.computed(year, school_ids, ["lines"])) == {ids["gymnasium17"]}


def test_a_prefilled_value_keeps_the_computed_one_beside_the_correction(
    ctx: None, ids: dict[str, int]
) -> None:
    request_id = _new_request("all", year=2019)
    _as("coordinator")
    request = _request(request_id)
    db.session.add(
        m.DataRequestQuestion(
            request=request, label="Проведено", kind="integer", prefill="lines_held", sort_order=5
        )
    )
    db.session.add(
        m.DataRequestQuestion(
            request=request, label="Охват ФГОС", kind="decimal", prefill="fgos_coverage", sort_order=6
        )
    )
    db.session.commit()
    held_id, coverage_id = (q.id for q in _request(request_id).questions[-2:])
    computed = data_requests.prefill_all(_request(request_id))
    expected = _by_hand(ids["school31"], 2019)
    assert computed[ids["school31"]] == {
        held_id: expected["lines_held"],
        coverage_id: expected["fgos_coverage"],
    }
    school = _as("school31")
    request = _request(request_id)
    # Saved without touching it: the school's value is Coop's.
    answer = data_requests.write(school, request, ids["school31"], {})
    db.session.commit()
    assert answer.values[str(held_id)] == {
        "value": expected["lines_held"],
        "computed": expected["lines_held"],
        "source": "lines_held",
    }
    held_question = next(q for q in request.questions if q.id == held_id)
    assert not data_requests.is_corrected(answer, held_question)
    # Corrected by the school: both are kept.
    data_requests.write(school, request, ids["school31"], {held_id: expected["lines_held"] + 3})
    db.session.commit()
    assert answer.values[str(held_id)] == {
        "value": expected["lines_held"] + 3,
        "computed": expected["lines_held"],
        "source": "lines_held",
    }
    assert data_requests.is_corrected(answer, held_question)
    # The history says what changed.
    (last,) = db.session.execute(
        select(m.History)
        .filter_by(table_name="data_request_answers", row_id=answer.id)
        .order_by(m.History.id.desc())
        .limit(1)
    ).scalars()
    assert f"'value': {expected['lines_held'] + 3}" in last.changes["values"][1]


# --- reminders ---------------------------------------------------------------------------------------


NOW = dt.datetime(2026, 12, 5, 3, 0)  # 10:00 in Novokuznetsk, the demo's time zone
TODAY = dt.date(2026, 12, 5)


def _notified(kind: str) -> list[tuple[str, str, str]]:
    with tenancy.as_system():
        rows = db.session.execute(
            select(m.Notification).filter_by(kind=kind).order_by(m.Notification.id)
        ).scalars()
        return [(n.email, n.subject, n.link) for n in rows]


def test_reminders_a_week_and_a_day_before_and_the_day_after(app: Flask, ids: dict[str, int]) -> None:
    from coop import reminders

    with app.app_context():
        (request,) = db.session.execute(select(m.DataRequest)).scalars().all()
        request.deadline, request_id = TODAY + dt.timedelta(days=7), request.id
        db.session.commit()
        # Ten days before: nothing yet.
        reminders.remind(NOW - dt.timedelta(days=3))
        assert _notified("data_request_due_7") == []
        # A week before: СОШ № 31 (not started); not the gymnasium, which has submitted.
        reminders.remind(NOW)
        week = _notified("data_request_due_7")
        assert [email for email, *_ in week] == ["school31@coop.example"]
        email, subject, link = week[0]
        assert subject == f"Запрос данных «{request.title}»: срок 12.12.2026"
        assert link.endswith(f"/admin/datarequests/answer/?id={request_id}")
        reminders.remind(NOW + dt.timedelta(hours=5))
        assert len(_notified("data_request_due_7")) == 1  # once
        # A draft is not submitted: still reminded the day before.
        with tenancy.as_system():
            db.session.add(
                m.DataRequestAnswer(
                    request_id=request_id, school_id=ids["school31"], state="draft", values={}
                )
            )
            db.session.commit()
        reminders.remind(NOW + dt.timedelta(days=6))
        assert [email for email, *_ in _notified("data_request_due_1")] == ["school31@coop.example"]
        assert _notified("data_request_overdue") == []
        # The day after: overdue.
        reminders.remind(NOW + dt.timedelta(days=8))
        ((email, subject, _link),) = _notified("data_request_overdue")
        assert email == "school31@coop.example" and "срок истёк" in subject
        # Submitted: no more reminders, whatever comes.
        with tenancy.as_system():
            answer = db.session.execute(
                select(m.DataRequestAnswer).filter_by(request_id=request_id, school_id=ids["school31"])
            ).scalar_one()
            answer.state = "submitted"
            request = db.session.get(m.DataRequest, request_id)
            request.deadline = TODAY + dt.timedelta(days=20)  # moved: a new occasion, but delivered
            db.session.commit()
        reminders.remind(NOW + dt.timedelta(days=14))
        reminders.remind(NOW + dt.timedelta(days=21))
        # Every message went through the outbox to the school's own users only.
        with tenancy.as_system():
            schools = set(
                db.session.execute(
                    select(m.User.school_id)
                    .join(m.Notification, m.Notification.user_id == m.User.id)
                    .where(m.Notification.kind.startswith("data_request"))
                ).scalars()
            )
            assert schools == {ids["school31"]}
            unsent = db.session.execute(
                select(m.Notification.id).where(
                    m.Notification.kind.startswith("data_request"), m.Notification.sent_at.is_(None)
                )
            ).all()
            assert len(unsent) == 3  # queued for the mail worker


def test_a_submitted_answer_tells_the_coordinator_and_a_returned_one_the_school(
    ctx: None, ids: dict[str, int]
) -> None:
    request_id = _new_request("all")
    (count, *_rest) = _questions(request_id)
    data_requests.write(_as("school31"), _request(request_id), ids["school31"], {count: 4}, submit=True)
    db.session.commit()
    ((email, subject, link),) = _notified("data_request_submitted")
    assert email == "coordinator@coop.example" and subject.startswith("МБОУ «СОШ № 31»: ответ отправлен")
    assert link.endswith(f"/admin/datarequests/answer/?id={request_id}&school={ids['school31']}")
    coordinator = _as("coordinator")
    answer = data_requests.answer_of(_request(request_id), ids["school31"])
    data_requests.decide(coordinator, answer, "return", "Проверьте число")
    db.session.commit()
    returned = _notified("data_request_returned")
    assert {email for email, *_ in returned} == {"school31@coop.example"}
    with tenancy.as_system():
        body = db.session.execute(
            select(m.Notification.body_text).filter_by(kind="data_request_returned")
        ).scalar_one()
    assert "Проверьте число" in body and "Гимназ" not in body
