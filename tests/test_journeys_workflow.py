"""Issue 11, items 1 and 2: every workflow action ends on a page its author may open,
saying what the row has become; a returned event is visibly returned (its own state,
the school's comment on its pages and in the partner's list) until it is resubmitted."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy import select

from coop import models as m
from coop.extensions import db

from .conftest import csrf_token, loaded_version
from .test_workflow import _event_id, _propose

pytestmark = pytest.mark.usefixtures("fresh_db")

COMMENT = "Уточните классы и месяц проведения"


def _state(app: Flask, event: int) -> str:
    with app.app_context():
        return db.session.execute(select(m.Event.state).filter_by(id=event)).scalar_one()


def _transition_form(page: str, transition: str) -> str:
    """The action of the page's form that fires the named transition."""
    for action, body in re.findall(r'<form method="post"[^>]*action="([^"]+)">(.*?)</form>', page, re.S):
        if f'name="transition" value="{transition}"' in body:
            return html.unescape(action)
    raise AssertionError(f"no «{transition}» button on the page")


def _fire_from(client: Any, page_url: str, transition: str, comment: str = "") -> Any:
    """Press the transition's button on the page, as a person would, and follow where it leads."""
    page = client.get(page_url)
    assert page.status_code == 200
    return client.post(
        _transition_form(page.text, transition),
        data={"csrf_token": csrf_token(page.text), "transition": transition, "comment": comment},
        follow_redirects=True,
    )


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_partner_submits_from_the_edit_page_and_sees_the_outcome(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner = client_as("kemsu")
    event = _propose(app, partner, ids, "Неделя науки в школе")
    landed = _fire_from(partner, f"/admin/event/edit/?id={event}", "submit")
    assert _state(app, event) == "submitted"
    # Not the edit page it can no longer open: the event's page, saying what happened.
    assert landed.status_code == 200
    assert landed.request.path == "/admin/event/details/"
    assert "Мероприятие «Неделя науки в школе»: На согласовании" in _text(landed)


def test_a_school_returning_from_the_edit_page_stays_there(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    event = _propose(app, partner, ids, "День открытых дверей")
    _fire_from(partner, f"/admin/event/details/?id={event}", "submit")
    landed = _fire_from(school, f"/admin/event/edit/?id={event}", "return", COMMENT)
    assert landed.status_code == 200 and landed.request.path == "/admin/event/edit/"
    assert "Мероприятие «День открытых дверей»: Возвращено на доработку" in _text(landed)


def test_bulk_submit_names_each_event_and_its_new_state(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner = client_as("kemsu")
    first = _propose(app, partner, ids, "Олимпиада по химии")
    second = _propose(app, partner, ids, "Олимпиада по физике")
    token = csrf_token(partner.get("/admin/event/").text)
    landed = partner.post(
        "/admin/event/action/",
        data={
            "csrf_token": token,
            "action": "workflow_submit",
            "rowid": [str(first), str(second)],
            "url": "/admin/event/",
        },
        follow_redirects=True,
    )
    assert {_state(app, first), _state(app, second)} == {"submitted"}
    assert landed.status_code == 200
    text = _text(landed)
    assert "Мероприятие «Олимпиада по химии»: На согласовании" in text
    assert "Мероприятие «Олимпиада по физике»: На согласовании" in text


def test_a_returned_event_is_visibly_returned_until_resubmitted(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    returned = _propose(app, partner, ids, "Экскурсия в лабораторию")
    waiting = _propose(app, partner, ids, "Лекция о профессиях")
    for event in (returned, waiting):
        _fire_from(partner, f"/admin/event/details/?id={event}", "submit")
    _fire_from(school, f"/admin/event/details/?id={returned}", "return", COMMENT)
    assert _state(app, returned) == "returned"

    # On its page and its edit page, above the form: the state, who returned it, the comment.
    for url in (f"/admin/event/details/?id={returned}", f"/admin/event/edit/?id={returned}"):
        page = partner.get(url)
        assert page.status_code == 200
        notice = re.search(
            r'<div class="alert alert-warning state-reason-notice".*?</div>\s*</div>', _text(page), re.S
        )
        assert notice is not None, url
        assert "Возвращено на доработку" in notice.group(0) and COMMENT in notice.group(0)
        assert "СОШ № 31" in notice.group(0)
        assert _text(page).index("state-reason-notice") < _text(page).index('name="transition"')
    # In the partner's list: the state and the comment on the event's row.
    listing = _text(partner.get("/admin/event/"))
    row = next(r for r in re.findall(r"<tr.*?</tr>", listing, re.S) if "Экскурсия в лабораторию" in r)
    assert "Возвращено на доработку" in row and COMMENT in row
    other = next(r for r in re.findall(r"<tr.*?</tr>", listing, re.S) if "Лекция о профессиях" in r)
    assert COMMENT not in other and "На согласовании" in other

    # The school's queue holds what awaits it, not what it sent back.
    queue = _text(school.get("/admin/review/"))
    assert "Лекция о профессиях" in queue and "Экскурсия в лабораторию" not in queue

    # The partner edits it as its own again and submits it anew.
    edit = partner.get(f"/admin/event/edit/?id={returned}")
    saved = partner.post(
        f"/admin/event/edit/?id={returned}",
        data={
            "csrf_token": csrf_token(edit.text),
            "loaded_version": loaded_version(edit.text),
            "school": ids["school31"],
            "title": "Экскурсия в лабораторию для 9-х классов",
            "timing_text": "апрель",
        },
    )
    assert saved.status_code == 302
    assert _event_id(app, "Экскурсия в лабораторию для 9-х классов") == returned
    landed = _fire_from(partner, f"/admin/event/edit/?id={returned}", "submit")
    assert landed.status_code == 200
    assert _state(app, returned) == "submitted"
    assert "Экскурсия в лабораторию для 9-х классов»: На согласовании" in _text(landed)
    assert "state-reason-notice" not in _text(landed)  # no longer returned
    assert "Экскурсия в лабораторию для 9-х классов" in _text(school.get("/admin/review/"))


def test_a_foreign_partner_still_gets_404(app: Flask, client_as: Any, ids: dict[str, int]) -> None:
    partner, school, foreign = client_as("kemsu"), client_as("school31"), client_as("museum")
    event = _propose(app, partner, ids, "Встреча с выпускниками")
    _fire_from(partner, f"/admin/event/details/?id={event}", "submit")
    _fire_from(school, f"/admin/event/details/?id={event}", "return", COMMENT)
    assert foreign.get(f"/admin/event/details/?id={event}").status_code == 404
    assert foreign.get(f"/admin/event/edit/?id={event}").status_code in (403, 404)
    token = csrf_token(foreign.get("/admin/event/").text)
    fired = foreign.post(
        f"/admin/event/transition/?id={event}", data={"csrf_token": token, "transition": "submit"}
    )
    assert fired.status_code == 404
    assert COMMENT not in _text(foreign.get("/admin/event/"))
    assert _state(app, event) == "returned"


def test_the_reasons_in_the_list_are_one_statement_for_the_page(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")

    def statements(url: str) -> int:
        counted: list[str] = []

        def count(*args: Any) -> None:
            counted.append(args[2])

        with app.app_context():
            sa_event.listen(db.engine, "before_cursor_execute", count)
            try:
                assert partner.get(url).status_code == 200
            finally:
                sa_event.remove(db.engine, "before_cursor_execute", count)
        return len(counted)

    events = [_propose(app, partner, ids, f"Возвращаемая строка {i}") for i in range(4)]
    for number, returned in enumerate(events):
        _fire_from(partner, f"/admin/event/details/?id={returned}", "submit")
        _fire_from(school, f"/admin/event/details/?id={returned}", "return", f"{COMMENT} {number}")
        if number == 0:
            one = statements("/admin/event/?search=Возвращаемая")
    four = statements("/admin/event/?search=Возвращаемая")
    assert four == one
    listing = _text(partner.get("/admin/event/?search=Возвращаемая"))
    assert all(f"{COMMENT} {number}" in listing for number in range(4))


def _fire_back_to(client: Any, event: int, transition: str, wanted: str, **environ: Any) -> str:
    """Fire the transition as if from the page `wanted`; where it lands (path and query)."""
    page = client.get(f"/admin/event/details/?id={event}", **environ)
    assert page.status_code == 200
    response = client.post(
        "/admin/event/transition/",
        query_string={"id": event, "url": wanted},
        data={"csrf_token": csrf_token(page.text), "transition": transition, "comment": COMMENT},
        **environ,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def test_an_action_lands_on_the_very_page_it_was_started_from(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """A list with its filters, a row's page with its way back, an edit page under a site
    that lives below a path of its own: each, query and all, when its user may still open it."""
    partner, school = client_as("kemsu"), client_as("school31")
    first = _propose(app, partner, ids, "Олимпиада по биологии")
    listed = "/admin/event/?flt0_0=draft&page=0"
    assert _fire_back_to(partner, first, "submit", listed) == listed
    details = f"/admin/event/details/?id={first}&url=%2Fadmin%2Fevent%2F"
    assert _fire_back_to(school, first, "approve", details) == details
    # Under /coop (SCRIPT_NAME): the school may still edit the line it returns, so it stays.
    below = {"base_url": "http://localhost/coop/"}
    edit = f"/coop/admin/event/edit/?id={first}"
    assert _fire_back_to(school, first, "return", edit, **below) == edit
    assert _state(app, first) == "returned"


@pytest.mark.parametrize("wanted", ["/admin/nowhere/", "/admin/event/edit/"])
def test_an_action_from_no_page_of_the_row_lands_on_the_rows_page(
    app: Flask, client_as: Any, ids: dict[str, int], wanted: str
) -> None:
    """A page the site does not have, or an edit page that names no row: the row's own page."""
    partner = client_as("kemsu")
    event = _propose(app, partner, ids, "Олимпиада по географии")
    landed = _fire_back_to(partner, event, "submit", wanted)
    assert landed == f"/admin/event/details/?id={event}"


def _flashes(page: str) -> list[tuple[str, str]]:
    """The page's messages: (the alert's colour, its text), in order."""
    found = re.findall(r'<div class="alert alert-(\w+)[^"]*"[^>]*>(.*?)</div>', page, re.S)
    return [(colour, re.sub(r"<[^>]+>|×", "", html.unescape(text)).strip()) for colour, text in found]


def _bulk(client: Any, action: str, events: list[int]) -> list[tuple[str, str]]:
    token = csrf_token(client.get("/admin/event/").text)
    landed = client.post(
        "/admin/event/action/",
        data={
            "csrf_token": token,
            "action": action,
            "rowid": [str(e) for e in events],
            "url": "/admin/event/",
        },
        follow_redirects=True,
    )
    assert landed.status_code == 200
    return _flashes(landed.get_data(as_text=True))


def test_a_bulk_action_names_what_it_did_and_warns_of_what_it_could_not(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner = client_as("kemsu")
    events = [_propose(app, partner, ids, f"Лекция {n}") for n in (1, 2, 3, 4)]
    for submitted in events[:2]:  # submitted: no second time
        _fire_from(partner, f"/admin/event/details/?id={submitted}", "submit")
    assert _bulk(partner, "workflow_submit", events) == [
        ("success", "Мероприятие «Лекция 3»: На согласовании"),
        ("success", "Мероприятие «Лекция 4»: На согласовании"),
        ("warning", "Выбрано записей: 4, действие выполнено для 2."),
    ]


def test_a_bulk_action_on_many_names_the_first_ten_and_counts_them_all(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    partner, school = client_as("kemsu"), client_as("school31")
    events = [_propose(app, partner, ids, f"Лекция {n:02d}") for n in range(1, 12)]
    # Ten: each named, no count.
    said = _bulk(partner, "workflow_submit", events[:10])
    assert said == [("success", f"Мероприятие «Лекция {n:02d}»: На согласовании") for n in range(1, 11)]
    # Eleven (ten submitted, one a draft: both approved): ten named, then the count.
    said = _bulk(school, "workflow_approve", events)
    assert said[:10] == [("success", f"Мероприятие «Лекция {n:02d}»: Согласовано") for n in range(1, 11)]
    assert said[10:] == [("success", "Выбрано записей: 11, действие выполнено для 11.")]
