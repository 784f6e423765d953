"""A partner's event by mail and back: the partner submits it in Chromium, the school's
mailbox on a real SMTP server (aiosmtpd on loopback) gets the message, its link opens the
event for the school, who returns it with a comment; the partner's mailbox has the comment,
its bell counts the notification and the notifications page lists it.

Mail leaves as `flask coop send-mail` sends it (outbox.deliver_due) between the steps; the
live site's MAIL_SERVER/MAIL_PORT point at the loopback server and COOP_BASE_URL at the site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from coop import models as m
from coop import outbox

from ..conftest import ACCOUNTS
from ..mailbox import Mailbox, Server
from .conftest import PageAs, Shot
from .test_journeys import SCHOOL31, events_found, label_of, shown, transition_button

TITLE = "Е2Е: лекция КемГУ «Почта Кузбасса» для 8-х классов"
COMMENT = "Уточните дату и число участников"
LINK = re.compile(r"^Открыть в Coop: (\S+)$", re.MULTILINE)


@pytest.fixture
def mailbox(app: Flask, smtp: tuple[Server, Mailbox], live_server: str) -> Iterator[Mailbox]:
    """The loopback server's mailbox; the messages' links lead to the live site."""
    saved = app.config["COOP_BASE_URL"]
    app.config["COOP_BASE_URL"] = live_server
    yield smtp[1]
    app.config["COOP_BASE_URL"] = saved


def send_mail(app: Flask) -> int:
    """What `flask --app app coop send-mail` does; how many were sent."""
    with app.app_context():
        sent, failed = outbox.deliver_due()
    assert failed == 0
    return sent


def the_message(mailbox: Mailbox, key: str, subject: str) -> EmailMessage:
    found = [message for message in mailbox.to(ACCOUNTS[key].email) if message["Subject"] == subject]
    assert len(found) == 1, (
        f"{key}: {[str(message['Subject']) for message in mailbox.to(ACCOUNTS[key].email)]}"
    )
    return found[0]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[attr-defined]


def bell_count(page: Page) -> int:
    badge = page.locator(".coop-bell-count:visible")
    return int(badge.inner_text()) if badge.count() else 0


@pytest.mark.usefixtures("fresh_db")
def test_a_submitted_event_reaches_the_school_by_mail_and_its_return_the_partner(
    app: Flask, page_as: PageAs, shot: Shot, live_server: str, mailbox: Mailbox
) -> None:
    partner = page_as("kemsu", reuse=True)
    partner.goto("/admin/")
    unread_before = bell_count(partner)

    # The partner proposes the event and submits it.
    partner.goto("/admin/event/new/")
    expect(partner.locator("select#school option")).to_have_text([SCHOOL31])
    partner.fill("#title", TITLE)
    partner.fill("#timing_text", "март")
    partner.click("form.admin-form input[type=submit]:not([name])")  # «Сохранить»
    expect(partner.locator(".alert-success")).to_be_visible()
    partner.goto(events_found(TITLE))
    partner.locator("table.model-list tbody tr", has_text=TITLE).locator(
        "a[href*='/admin/event/details/']"
    ).click()
    submit = transition_button(partner, "submit")
    expect(submit).to_have_text(shown(app, label_of("submit")))
    submit.click()
    expect(partner.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["submitted"]))
    shot(partner, "partner-submitted")

    # send-mail: the school's mailbox has the message, in Russian, with the event's link.
    assert send_mail(app) >= 1
    message = the_message(mailbox, "school31", f"Мероприятие на согласование: {TITLE}")
    text = text_of(message)
    assert TITLE in text and "КемГУ" in text
    found = LINK.search(text)
    assert found, text
    link = found.group(1)
    assert re.fullmatch(re.escape(live_server) + r"/admin/event/details/\?id=\d+", link), link
    html = message.get_body(("html",))
    assert html is not None and f'href="{link}"' in html.get_content()  # type: ignore[attr-defined]

    # The link opens the event's page for the school, who returns it with a comment.
    school = page_as("school31", reuse=True)
    school.goto(link)
    expect(school.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["submitted"]))
    expect(school.locator("body")).to_contain_text(TITLE)
    shot(school, "school-opens-the-link")
    back = school.locator("form:has(input[name=transition][value=return])")
    back.locator("input[name=comment]").fill(COMMENT)
    shot(school, "school-returns")
    back.locator("button[type=submit]").click()
    expect(school.locator(".state-label")).to_have_text(shown(app, m.EVENT_STATES["returned"]))
    expect(school.locator(".state-reason-comment")).to_have_text(COMMENT)
    shot(school, "school-returned")

    # send-mail again: the partner's mailbox has the return with the comment…
    assert send_mail(app) >= 1
    returned = the_message(mailbox, "kemsu", f"Мероприятие возвращено на доработку: {TITLE}")
    assert f"Комментарий: {COMMENT}" in text_of(returned)
    assert link in text_of(returned)

    # …and the site: the bell counts it, the notifications page lists it.
    partner.goto("/admin/")
    expect(partner.locator(".coop-bell-count:visible")).to_have_text(str(unread_before + 1))
    shot(partner, "partner-bell")
    partner.locator(".coop-bell:visible a.nav-link").click()
    expect(partner).to_have_url(re.compile(r"/admin/notifications/$"))
    item = partner.locator(".notifications li.notification-unread", has_text=TITLE)
    expect(item).to_have_count(1)
    expect(item).to_contain_text(COMMENT)
    shot(partner, "partner-notifications")
    item.locator(f"a[href='{link}']").click()  # «Открыть запись»
    expect(partner).to_have_url(link)
    expect(partner.locator(".state-reason-comment")).to_have_text(COMMENT)
    shot(partner, "partner-opens-the-record")
