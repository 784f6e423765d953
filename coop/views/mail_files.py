"""The messages written as .eml files (no MAIL_SERVER: coop/outbox.py writes them to
MAIL_FOLDER), for the admin: newest first, each opened (headers, text, the HTML part in a
sandboxed frame) or downloaded. Only names the outbox writes are opened, only in its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, request, send_file, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l

from .. import outbox
from .base import SecuredView

PAGE_SIZE = 50
# The headers the page shows first, in this order; the others follow as the file has them.
FIRST_HEADERS = ("Date", "From", "To", "Subject")


def _found(name: str) -> Path:
    path = outbox.mail_file(current_app.config["MAIL_FOLDER"], name)
    if path is None:
        abort(404)
    return path


def _described(paths: list[Path]) -> list[outbox.MailFile]:
    """Each file's date, recipient and subject; one deleted meanwhile is left out."""
    found = []
    for path in paths:
        try:
            found.append(outbox.describe(path))
        except OSError:
            continue
    return found


def _page() -> int:
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and len(value) < 6 else 0


def _part(message: Any, subtype: str) -> str:
    """The message's text or HTML part; "" when it has none or it cannot be decoded."""
    try:
        part = message.get_body((subtype,))
        return part.get_content() if part is not None else ""
    except (LookupError, ValueError, TypeError, AttributeError):
        return ""


class MailFilesView(SecuredView):
    permission = "mailfiles.view"

    @expose("/")
    def index(self) -> str:
        config = current_app.config
        files = outbox.mail_files(config["MAIL_FOLDER"])
        pages = max(1, -(-len(files) // PAGE_SIZE))
        page = min(_page(), pages - 1)
        shown = files[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        return self.render(
            "coop/mail_files.html",
            rows=_described(shown),
            total=len(files),
            page=page,
            pages=pages,
            pager_url=lambda number: url_for(".index", page=number),
            folder=config["MAIL_FOLDER"],
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
        )

    # The URL's part is not `name`: Flask-Admin's _handle_view takes that argument.
    @expose("/<filename>/")
    def message(self, filename: str) -> str:
        path = _found(filename)
        try:
            message = outbox.read_mail_file(path)
        except OSError:  # deleted since it was found
            abort(404)
        first = [(key, str(message[key])) for key in FIRST_HEADERS if message[key] is not None]
        rest = [(key, str(value)) for key, value in message.items() if key not in FIRST_HEADERS]
        return self.render(
            "coop/mail_file.html",
            name=path.name,
            headers=first + rest,
            text=_part(message, "plain"),
            html=_part(message, "html"),
        )

    @expose("/<filename>/download/")
    def download(self, filename: str) -> Any:
        path = _found(filename)
        return send_file(path, mimetype="message/rfc822", as_attachment=True, download_name=path.name)


PAGES = [(MailFilesView, "mailfiles", _l("Sent mail (files)"))]
