"""Every page speaks the interface's language: <html lang> on each (the sign-in and error pages
included), and no text of Flask-Admin's catalog left in English on a Russian page, as each role
meets them (buttons, filter operations, the pager, delete confirmations, empty lists); in the
English locale (COOP_LOCALE=en) the calendar's months are English too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import flask_admin
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from flask import Flask
from sqlalchemy import select

from coop import create_app
from coop import models as m
from coop.extensions import db

from .conftest import ACCOUNTS, login


class _Visible(HTMLParser):
    """The text a person reads or hears: text outside scripts and styles, and the labels
    of buttons, titles, placeholders, confirmations and options."""

    ATTRIBUTES = ("title", "placeholder", "aria-label", "data-confirm", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        self.parts += [value for name, value in attrs if name in self.ATTRIBUTES and value]
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.parts.append(found["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


@cache
def flask_admin_english() -> tuple[str, ...]:
    """The English phrases of Flask-Admin's messages (its templates and code), placeholders cut out."""
    root = Path(flask_admin.__file__).parent
    method_map = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    keywords = {
        **DEFAULT_KEYWORDS,
        "_gettext": None,
        "_ngettext": (1, 2),
        "lazy_gettext": None,
        "_lazy_gettext": None,
    }
    phrases = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, keywords=keywords
    ):
        for text in (message,) if isinstance(message, str) else message:
            for piece in re.split(r"%\(\w+\)s|%s|\{\}|[.:!?]", text or ""):
                piece = piece.strip()
                if re.search(r"[A-Za-z]{3}", piece):
                    phrases.add(piece)
    # Tokens that are not English to a reader: names and the formats' own letters.
    return tuple(sorted(phrases - {"Coop", "CSV", "XLSX"}))


def english_in(html: str) -> list[str]:
    text = visible_text(html)
    return [p for p in flask_admin_english() if re.search(rf"(?<![A-Za-z]){re.escape(p)}(?![A-Za-z])", text)]


def _ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        first = lambda stmt: db.session.execute(stmt).scalars().first().id  # noqa: E731
        school31 = db.session.execute(select(m.School).filter_by(short_name="МБОУ «СОШ № 31»")).scalar_one()
        kemsu = db.session.execute(select(m.Partner).filter_by(short_name="КемГУ (НФИ КемГУ)")).scalar_one()
        return {
            "event": first(
                select(m.Event).filter_by(school_id=school31.id, partner_id=kemsu.id).order_by(m.Event.id)
            ),
            "record": first(
                select(m.EventExecution).filter_by(school_id=school31.id).order_by(m.EventExecution.id)
            ),
            "history": first(select(m.History).filter_by(table_name="events").order_by(m.History.id)),
            "agreement": first(select(m.Agreement).filter_by(school_id=school31.id).order_by(m.Agreement.id)),
        }


PAGES = {
    "anonymous": ["/login", "/no-such-page"],
    "admin": [
        "/admin/",
        "/admin/event/",
        "/admin/event/new/",
        "/admin/event/details/?id={event}",
        "/admin/event/edit/?id={event}",
        "/admin/history/",
        "/admin/history/details/?id={history}",
        "/admin/user/",
        "/admin/user/new/",
        "/admin/signin/",
        "/admin/trash/",
        "/admin/agreement/",
        "/admin/eventexecution/?search=no-such-record",
    ],
    "coordinator": ["/admin/", "/admin/remark/", "/admin/remark/new/", "/admin/history/", "/admin/calendar/"],
    "school31": [
        "/admin/",
        "/admin/event/",
        "/admin/event/details/?id={event}",
        "/admin/event/edit/?id={event}",
        "/admin/eventexecution/",
        "/admin/eventexecution/new/",
        "/admin/eventexecution/details/?id={record}",
        "/admin/agreement/details/?id={agreement}",
        "/admin/review/",
        "/admin/seminar/new/",
        "/admin/user/",
    ],
    "kemsu": [
        "/admin/",
        "/admin/event/",
        "/admin/event/new/",
        "/admin/event/details/?id={event}",
        "/password",
    ],
}


def _pages() -> Iterator[tuple[str, str]]:
    for account, urls in PAGES.items():
        for url in urls:
            yield account, url


@pytest.mark.parametrize(("account", "url"), list(_pages()))
def test_a_russian_page_has_no_english_of_flask_admin(
    app: Flask, client_as: Any, account: str, url: str
) -> None:
    response = client_as(account).get(url.format(**_ids(app)))
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    assert re.search(r'<html lang="ru">', response.text), f'{url}: no <html lang="ru">'
    assert english_in(response.text) == [], url
    # Nor Python's or Flask-Admin's raw values: None, true/false, «system», a sr-only «Toggle navigation».
    raw = re.findall(
        r"(?<![\w@.])(?:None|True|False|true|false|system|Toggle navigation)(?![\w@.])",
        visible_text(response.text),
    )
    assert raw == [], url


def test_the_catalog_finds_what_it_looks_for() -> None:
    """The check above is not empty-handed: Flask-Admin's English is recognised when present."""
    page = (
        '<html lang="ru"><input type="submit" value="Save and Add Another">'
        '<a title="Delete Record">x</a>equals</html>'
    )
    assert {"Save and Add Another", "Delete Record", "equals"} <= set(english_in(page))


@pytest.fixture(scope="module")
def english_app(app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The same database, served in English (COOP_LOCALE=en)."""
    english = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads-en")),
            "AUTO_MIGRATE": False,
            "RATELIMIT_ENABLED": False,
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    yield english
    with english.app_context():  # its own connections, closed (PostgreSQL counts them)
        db.session.remove()
        db.engine.dispose()


def test_the_english_locale_is_english_down_to_the_calendars_months(english_app: Flask) -> None:
    client = english_app.test_client()
    account = ACCOUNTS["school31"]
    login(client, account.email, account.password)
    calendar = client.get("/admin/calendar/?year=2019").text
    assert '<html lang="en">' in calendar
    headings = re.findall(r'<th class="col-month[^"]*" title="([^"]+)"[^>]*>([^<]+)</th>', calendar)
    assert headings[:2] == [("September", "Sep"), ("October", "Oct")], headings
    page = client.get("/admin/event/").text
    assert '<html lang="en">' in page and "Add filter" in visible_text(page)
