"""A history entry as a person reads it: labels for codes, yes/no, month names."""

from __future__ import annotations

from flask import Flask

from coop.audit import shown_changes


def test_codes_show_by_their_names(app: Flask) -> None:
    changes = {
        "id": [None, 5],
        "state": ["approved", "held"],
        "all_year": [None, False],
        "months_mask": [None, 3087],
        "school_id": [None, 1],
        "responsible": [[], ["Учителя-предметники"]],
        "title": ["", "Лекция"],
    }
    with app.test_request_context():
        shown = shown_changes("events", changes)
    assert shown == [
        ("state", "Согласовано", "Проведено"),
        ("all_year", "—", "нет"),
        ("months", "—", "ноябрь, декабрь, январь, февраль, март, апрель"),
        ("school", "—", "1"),
        ("responsible", "—", "Учителя-предметники"),
        ("title", "—", "Лекция"),
    ]


def test_a_state_is_named_by_the_workflow_of_its_table(app: Flask) -> None:
    with app.test_request_context():
        assert shown_changes("agreements", {"state": ["signing", "active"]}) == [
            ("state", "На подписании", "Действует")
        ]
        assert shown_changes("event_executions", {"status": ["planned", "held"]}) == [
            ("status", "Запланировано", "Проведено")
        ]
