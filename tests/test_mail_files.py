"""The message files (no MAIL_SERVER: coop/outbox.py writes each message to MAIL_FOLDER as
an .eml file) on the admin's page: newest first, each opened and downloaded; no other role
opens them, and no name reads outside the folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from coop import models as m
from coop import outbox
from coop.security import DOWNLOAD_CSP

from .conftest import ACCOUNTS
from .test_workflow import _fire, _propose

PAGES = ("/admin/mailfiles/", "/admin/mailfiles/00000001.eml/", "/admin/mailfiles/00000001.eml/download/")


@pytest.fixture
def folder(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app writing its messages to an empty folder of this test's."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path / "mail"))
    (tmp_path / "mail").mkdir()
    return tmp_path / "mail"


def _write(app: Flask, folder: Path, row_id: int, subject: str, html: str = "", at: float = 0) -> Path:
    """A message as the outbox writes it, the file dated `at` (seconds since the epoch)."""
    row = m.Notification(
        id=row_id,
        email=f"user{row_id}@coop.example",
        subject=subject,
        body_text=f"Текст {row_id}\n",
        body_html=html,
    )
    with app.app_context():
        message = outbox.build_message(row, app.config["MAIL_DEFAULT_SENDER"])
    del message["Date"]  # the file's time is the date then
    path = folder / outbox.file_name(row_id)
    path.write_bytes(message.as_bytes())
    if at:
        os.utime(path, (at, at))
    return path


@pytest.mark.parametrize("key", list(ACCOUNTS))
def test_only_the_admin_opens_the_message_files(app: Flask, client_as: Any, folder: Path, key: str) -> None:
    _write(app, folder, 1, "Секретная тема письма")
    client = client_as(key)
    for url in PAGES:
        response = client.get(url)
        response.close()  # a download's file
        if key == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        elif key == "admin":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
            assert "Секретная тема письма" not in response.text
    menu = client.get("/admin/").text
    assert ("Отправленные письма (файлы)" in menu) is (key == "admin")


def test_the_files_are_listed_newest_first_with_date_recipient_and_subject(
    app: Flask, client_as: Any, folder: Path
) -> None:
    _write(app, folder, 1, "Старое письмо", at=1_700_000_000)
    _write(app, folder, 2, "Новое письмо", at=1_700_086_400)
    _write(app, folder, 3, "Среднее письмо", at=1_700_040_000)
    (folder / "notes.txt").write_text("не письмо")
    page = client_as("admin").get("/admin/mailfiles/").text
    assert page.index("Новое письмо") < page.index("Среднее письмо") < page.index("Старое письмо")
    assert "Писем: 3." in page and "notes.txt" not in page
    assert "user2@coop.example" in page
    assert "16.11.2023" in page  # 1_700_086_400 in the site's zone (Новокузнецк, UTC+7)
    assert f"{folder}" in page and "<code>flask --app app coop send-mail</code>" in page
    assert 'href="/admin/mailfiles/00000002.eml/"' in page
    assert 'href="/admin/mailfiles/00000002.eml/download/"' in page


def test_a_message_shows_its_headers_text_and_html_in_a_sandboxed_frame(
    app: Flask, client_as: Any, folder: Path
) -> None:
    html = '<p>Привет, <b>школа</b> &amp; «партнёр»</p><script>alert("x")</script><img src="https://evil.example/t.gif">'
    _write(app, folder, 7, "Мероприятие на согласование: Лекция", html)
    response = client_as("admin").get("/admin/mailfiles/00000007.eml/")
    page = response.text
    assert response.status_code == 200
    for shown in (
        "Subject",
        "Мероприятие на согласование: Лекция",
        "user7@coop.example",
        "Message-ID",
        "Текст 7",
    ):
        assert shown in page
    # The HTML part only as the frame's document, escaped into its attribute; the frame has no rights.
    assert '<iframe class="mail-html" sandbox srcdoc="' in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&lt;b&gt;школа&lt;/b&gt; &amp;amp; «партнёр»" in page
    # The site's policy, unchanged: the frame inherits it (no inline script, no foreign image).
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
    assert "img-src 'self' data:" in policy


def test_a_message_is_downloaded_as_it_was_written(app: Flask, client_as: Any, folder: Path) -> None:
    path = _write(app, folder, 5, "Письмо для скачивания", "<p>HTML</p>")
    response = client_as("admin").get("/admin/mailfiles/00000005.eml/download/")
    assert response.status_code == 200
    assert response.mimetype == "message/rfc822"
    assert response.headers["Content-Disposition"] == "attachment; filename=00000005.eml"
    assert response.headers["Content-Security-Policy"] == DOWNLOAD_CSP
    assert response.data == path.read_bytes()
    response.close()


@pytest.mark.parametrize(
    "name",
    [
        "00000099.eml",  # no such file
        "00000001.txt",
        "00000001.eml.bak",
        "1.eml",
        "secret.eml",
        "..%2Fsecret.eml",
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "00000001.eml%00",  # (the site answers a NUL anywhere with 400 first)
        "00000004.eml",  # a link in the folder to a file outside it
        "00000006.eml",  # a folder, not a file
    ],
)
def test_a_bad_or_traversing_name_answers_404(
    app: Flask, client_as: Any, folder: Path, tmp_path: Path, name: str
) -> None:
    _write(app, folder, 1, "Письмо")
    (tmp_path / "secret.eml").write_text("Subject: секрет\n\nсекрет")
    (folder / "00000004.eml").symlink_to(tmp_path / "secret.eml")
    (folder / "00000006.eml").mkdir()
    client = client_as("admin")
    for url in (f"/admin/mailfiles/{name}/", f"/admin/mailfiles/{name}/download/"):
        response = client.get(url)
        response.close()
        assert response.status_code == (400 if "%00" in name else 404), url
        assert "секрет" not in response.text
    assert "00000004.eml" not in client.get("/admin/mailfiles/").text  # nor listed


def test_a_damaged_file_opens_without_an_error(app: Flask, client_as: Any, folder: Path) -> None:
    (folder / "00000008.eml").write_bytes(
        b"Subject: =?x-unknown?B?0J/RgNC40LI=?=\nDate: not a date\n"
        b"Content-Type: text/plain; charset=x-unknown\n\n\xff\xfe"
    )
    client = client_as("admin")
    assert client.get("/admin/mailfiles/").status_code == 200
    assert client.get("/admin/mailfiles/00000008.eml/").status_code == 200


def test_long_lists_are_paged(app: Flask, client_as: Any, folder: Path) -> None:
    for row_id in range(1, 56):
        _write(app, folder, row_id, f"Письмо № {row_id:02d}", at=1_700_000_000 + row_id)
    client = client_as("admin")
    first, second = client.get("/admin/mailfiles/").text, client.get("/admin/mailfiles/?page=1").text
    assert "Письмо № 55" in first and "Письмо № 06" in first and "Письмо № 05" not in first
    assert "Письмо № 05" in second and "Письмо № 01" in second and "Письмо № 06" not in second
    assert "Писем: 55." in first
    for bad in ("x", "-1", "99999999999"):
        assert client.get(f"/admin/mailfiles/?page={bad}").status_code == 200


def test_the_page_says_where_mail_goes(app: Flask, client_as: Any, folder: Path, monkeypatch: Any) -> None:
    client = client_as("admin")
    assert "Файлов писем пока нет." in client.get("/admin/mailfiles/").text
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setitem(app.config, "MAIL_PORT", 587)
    page = client.get("/admin/mailfiles/").text
    assert "Письма отправляются по SMTP через smtp.example.org, порт 587" in page
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(folder / "absent"))
    assert client.get("/admin/mailfiles/").status_code == 200


@pytest.mark.usefixtures("fresh_db")
def test_a_notification_delivered_without_a_server_is_listed(
    app: Flask, client_as: Any, ids: dict[str, int], folder: Path
) -> None:
    partner = client_as("kemsu")
    _fire(partner, "event", _propose(app, partner, ids, "Лекция о почтовых ящиках"), "submit")
    result = app.test_cli_runner().invoke(args=["coop", "send-mail"])
    assert result.exit_code == 0, result.output
    admin = client_as("admin")
    page = admin.get("/admin/mailfiles/").text
    assert "Мероприятие на согласование: Лекция о почтовых ящиках" in page
    assert ACCOUNTS["school31"].email in page
    name = sorted(folder.glob("*.eml"))[0].name
    message = admin.get(f"/admin/mailfiles/{name}/").text
    assert "Открыть в Coop: http://localhost:5000/admin/event/details/?id=" in message
