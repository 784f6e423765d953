"""The access policy's rules, tested directly as a table, and its two forms kept in step."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import access, workflow
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS


def _user(key: str) -> m.User:
    return db.session.execute(select(m.User).filter_by(email=ACCOUNTS[key].email)).scalar_one()


def _event(school: str, partner: str, state: str = "approved") -> m.Event:
    event = db.session.execute(
        select(m.Event)
        .join(m.School, m.Event.school)
        .join(m.Partner, m.Event.partner)
        .where(m.School.short_name.contains(school), m.Partner.short_name.contains(partner))
        .limit(1)
    ).scalar_one()
    event.state = state  # not flushed: the rules read the attribute
    return event


# (account, permission, row: (school, partner, state) of an event or None, expected)
EVENT_RULES = [
    ("admin", "event.edit", ("СОШ № 31", "КемГУ", "approved"), True),
    ("coordinator", "event.view", ("Гимназия", "музей", "approved"), True),
    ("coordinator", "event.edit", ("СОШ № 31", "КемГУ", "approved"), False),
    ("coordinator", "event.create", None, False),
    ("school31", "event.edit", ("СОШ № 31", "СибГИУ", "approved"), True),
    ("school31", "event.view", ("Гимназия", "СибГИУ", "approved"), False),
    ("school31", "event.edit", ("Гимназия", "СибГИУ", "approved"), False),
    ("school31", "event.delete", ("Гимназия", "музей", "draft"), False),
    ("kemsu", "event.view", ("СОШ № 31", "КемГУ", "approved"), True),
    ("kemsu", "event.edit", ("СОШ № 31", "КемГУ", "approved"), False),
    ("kemsu", "event.edit", ("СОШ № 31", "КемГУ", "draft"), True),
    ("kemsu", "event.view", ("СОШ № 31", "СибГИУ", "approved"), False),
    ("museum", "event.view", ("Гимназия", "музей", "approved"), True),
    ("museum", "event.view", ("СОШ № 31", "КемГУ", "approved"), False),
    ("museum", "event.create", None, True),
    ("anonymous", "event.view", None, False),
]


@pytest.mark.parametrize(("key", "permission", "row", "expected"), EVENT_RULES)
def test_event_rules(app: Flask, key: str, permission: str, row: tuple | None, expected: bool) -> None:
    with app.app_context():
        user = _user(key) if ACCOUNTS[key].role else None
        obj = _event(*row) if row else None
        assert access.can(user, permission, obj) is expected
        db.session.rollback()


def _agreement(school: str, partner: str) -> m.Agreement:
    return db.session.execute(
        select(m.Agreement)
        .join(m.School, m.Agreement.school)
        .join(m.Partner, m.Agreement.partner)
        .where(m.School.short_name.contains(school), m.Partner.short_name.contains(partner))
        .order_by(m.Agreement.id)  # the first, where the demo has several (the gymnasium's stages)
        .limit(1)
    ).scalar_one()


def _record(school: str, partner: str) -> m.EventExecution:
    event = _event(school, partner)
    return db.session.execute(
        select(m.EventExecution).filter_by(event_id=event.id).order_by(m.EventExecution.year).limit(1)
    ).scalar_one()


# (account, permission, row: (school, partner) of an agreement / of an event's record, expected)
PARTNER_SIDE_RULES = [
    ("kemsu", "agreement.view", _agreement, ("СОШ № 31", "КемГУ"), True),
    ("kemsu", "agreement.view", _agreement, ("СОШ № 31", "СибГИУ"), False),  # its neighbour's
    ("kemsu", "agreement.edit", _agreement, ("СОШ № 31", "КемГУ"), False),
    ("kemsu", "agreement.delete", _agreement, ("СОШ № 31", "КемГУ"), False),
    ("museum", "agreement.view", _agreement, ("Гимназия", "музей"), True),
    ("museum", "agreement.view", _agreement, ("Гимназия", "СибГИУ"), False),
    ("school31", "agreement.edit", _agreement, ("СОШ № 31", "КемГУ"), True),
    ("kemsu", "eventexecution.view", _record, ("СОШ № 31", "КемГУ"), True),
    ("kemsu", "eventexecution.view", _record, ("СОШ № 31", "СибГИУ"), False),
    ("kemsu", "eventexecution.edit", _record, ("СОШ № 31", "КемГУ"), False),
    ("museum", "eventexecution.view", _record, ("Гимназия", "музей"), True),
    ("museum", "eventexecution.view", _record, ("СОШ № 31", "КемГУ"), False),
]


@pytest.mark.parametrize(("key", "permission", "find", "row", "expected"), PARTNER_SIDE_RULES)
def test_a_partners_side_of_the_work(
    app: Flask, key: str, permission: str, find: Any, row: tuple[str, str], expected: bool
) -> None:
    with app.app_context():
        assert access.can(_user(key), permission, find(*row)) is expected
        db.session.rollback()


def test_a_partner_fires_no_transition_of_its_agreement(app: Flask) -> None:
    with app.app_context():
        agreement = _agreement("СОШ № 31", "КемГУ")
        assert workflow.available(_user("kemsu"), agreement) == []
        assert workflow.available(_user("school31"), agreement) != []
        with pytest.raises(workflow.WorkflowError):
            workflow.fire(_user("kemsu"), agreement, "complete")
        assert agreement.state == "active"


def test_a_partner_reads_its_agreements_and_records_as_signed_only(app: Flask) -> None:
    """What the partner's scopes reveal: not the school's programme, nor its evidence."""
    with app.app_context():
        agreement_fields = access.visible_fields(_user("kemsu"), m.Agreement) or ()
        record_fields = access.visible_fields(_user("kemsu"), m.EventExecution) or ()
        assert {"number", "subject", "valid_to", "fgos_results", "term"} <= set(agreement_fields)
        assert "programme" not in agreement_fields and "created_by_id" not in agreement_fields
        assert {"status", "held_on", "students_grades", "parents_count", "results"} <= set(record_fields)
        assert "evidence_url" not in record_fields
        assert access.visible_fields(_user("school31"), m.Agreement) is None


MODEL_RULES = [
    ("admin", "user.create", True),
    ("coordinator", "user.view", False),
    ("school31", "user.view", False),
    ("coordinator", "programme.view", True),
    ("coordinator", "programme.create", False),
    ("coordinator", "remark.create", True),
    ("school31", "remark.create", False),
    ("school31", "remark.edit", False),
    ("school31", "remark.answer", True),
    ("coordinator", "remark.answer", False),
    ("coordinator", "remark.close", True),
    ("kemsu", "event.submit", True),
    ("kemsu", "event.review", False),
    ("school31", "event.review", True),
    ("school31", "history.edit", False),
    ("admin", "history.delete", False),
    ("kemsu", "programme.view", False),
    ("kemsu", "agreement.view", True),
    # A partner reads its agreements and its events' yearly records; the school writes them.
    ("kemsu", "agreement.create", False),
    ("kemsu", "agreement.edit", False),
    ("kemsu", "agreement.delete", False),
    ("kemsu", "eventexecution.view", True),
    ("kemsu", "eventexecution.create", False),
    ("kemsu", "eventexecution.edit", False),
    ("kemsu", "eventexecution.delete", False),
    ("kemsu", "storedfile.view", False),
    ("kemsu", "remark.view", False),
    ("kemsu", "partner.create", False),
    ("school31", "partner.create", True),
    ("school31", "partner.edit", False),
    ("kemsu", "partnerresource.create", True),
    ("school31", "fgosresult.view", True),
    ("school31", "fgosresult.edit", False),
    ("admin", "fgosresult.edit", True),
    ("school31", "nosuchthing.view", False),
    ("school31", "event.nosuchaction", False),
]


@pytest.mark.parametrize(("key", "permission", "expected"), MODEL_RULES)
def test_model_level_rules(app: Flask, key: str, permission: str, expected: bool) -> None:
    with app.app_context():
        assert access.can(_user(key), permission) is expected


@pytest.mark.parametrize("key", [k for k, a in ACCOUNTS.items() if a.role])
def test_python_and_sql_forms_of_visibility_agree(app: Flask, key: str) -> None:
    """visible(user, row) and criteria(user, Model) must pick the same rows."""
    with app.app_context():
        user = _user(key)
        for model in access.VISIBILITY:
            everything = db.session.execute(select(model)).scalars().all()
            by_sql = set(
                db.session.execute(
                    select(model.id).where(access.criteria(user, model)),
                    execution_options={"skip_scope": True},
                ).scalars()
            )
            by_python = {row.id for row in everything if access.visible(user, row)}
            assert by_sql == by_python, model.__name__


def test_anonymous_sees_nothing(app: Flask) -> None:
    with app.app_context():
        for model in access.VISIBILITY:
            rows = db.session.execute(select(model.id).where(access.criteria(None, model))).all()
            assert rows == [], model.__name__


def test_unknown_model_is_denied(app: Flask) -> None:
    class NotInThePolicy:
        pass

    with app.app_context():
        assert str(access.criteria(_user("admin"), NotInThePolicy)) == str(access.false())


def test_owner_fields_are_forced_from_the_user(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        school_user, partner_user = _user("school31"), _user("kemsu")
        programme = m.Programme(school_id=ids["gymnasium17"], title="x", first_year=2020, last_year=2021)
        access.assign_owner(school_user, programme)
        assert programme.school_id == ids["school31"]
        event = m.Event(school_id=ids["school31"], partner_id=ids["museum"], title="x")
        access.assign_owner(partner_user, event)
        assert event.partner_id == ids["kemsu"]
