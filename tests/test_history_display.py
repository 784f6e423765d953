"""A history entry as a person reads it: fields by their labels, labels for codes, yes/no, month names."""

from __future__ import annotations

from flask import Flask

from coop.history import shown_changes


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
        ("Состояние", "Согласовано", "Проведено"),
        ("В течение года", "—", "нет"),
        ("Месяцы", "—", "ноябрь, декабрь, январь, февраль, март, апрель"),
        ("Школа", "—", "1"),
        ("Ответственные", "—", "Учителя-предметники"),
        ("Мероприятие", "—", "Лекция"),
    ]


def test_a_state_is_named_by_the_workflow_of_its_table(app: Flask) -> None:
    with app.test_request_context():
        assert shown_changes("agreements", {"state": ["signing", "active"]}) == [
            ("Состояние", "На подписании", "Действует")
        ]
        assert shown_changes("event_executions", {"status": ["planned", "held"]}) == [
            ("Статус", "Запланировано", "Проведено")
        ]
