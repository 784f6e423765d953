"""Delivering the outbox (models.Notification) by mail: over SMTP (the standard
library's smtplib), or into instance/mail/*.eml files when no MAIL_SERVER is set.

Each message is claimed, sent and marked sent in a transaction of its own, the row
locked with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL: several workers never
take the same message, and a message marked sent is never sent again. A failed one
is tried again later, the wait doubling from a minute up to a day.

Notifications whose recipient chose the daily digest for their kind are not mailed
one by one: from COOP_DIGEST_HOUR each day, write_digests() gathers each user's into
one message (a notification of kind DIGEST, delivered as any other) and marks them
as carried by it. The digest's key (its day) is unique per user, so two workers never
write two digests of one day for one user.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import signal
import smtplib
import ssl
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from . import formats, notify, reminders
from .extensions import db
from .models import DIGEST, Notification, User, utcnow

FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(days=1)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the attempts-th failure: 1, 2, 4 … minutes, at most a day."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def build_message(row: Notification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.email
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(idstring=f"coop-{row.id}")
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


# --- the .eml folder (MAIL_FOLDER): written without MAIL_SERVER, read by the admin page ---

FILE_NAME = re.compile(r"[0-9]{8,}\.eml")


def file_name(row_id: int) -> str:
    """A message's file: its notification's id, zero-padded (so names sort as ids do)."""
    return f"{row_id:08d}.eml"


@dataclass(frozen=True)
class MailFile:
    name: str
    date: dt.datetime  # the Date header, or the file's time (aware)
    to: str
    subject: str


def mail_files(folder: str | Path) -> list[Path]:
    """The messages written to the folder, newest first (by the file's time, then name)."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        path = mail_file(root, entry.name)
        with suppress(OSError):  # gone meanwhile
            if path is not None:
                found.append((path.stat().st_mtime, path.name, path))
    return [path for _time, _name, path in sorted(found, reverse=True)]


def mail_file(folder: str | Path, name: str) -> Path | None:
    """The message of that name in the folder, or None: a name the outbox does not write,
    a path that leads out of the folder (through a link too), a missing file."""
    if not FILE_NAME.fullmatch(name):
        return None
    root = Path(folder).resolve()
    path = (root / name).resolve()
    return path if path.parent == root and path.is_file() else None


def describe(path: Path) -> MailFile:
    """A message's date, recipient and subject, from its headers."""
    with path.open("rb") as stream:
        headers = BytesHeaderParser(policy=email.policy.default).parse(stream)
    date = getattr(headers["Date"], "datetime", None) if headers["Date"] else None
    if date is None or date.tzinfo is None:
        date = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return MailFile(path.name, date, str(headers["To"] or ""), str(headers["Subject"] or ""))


def read_mail_file(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)  # what policy.default makes
    return parsed


class _Transport:
    """One SMTP connection for a run (opened on the first message), or the .eml folder."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, row_id: int) -> None:
        if not self.config["MAIL_SERVER"]:
            folder = Path(self.config["MAIL_FOLDER"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / file_name(row_id)).write_bytes(message.as_bytes())
            return
        if self.smtp is None:
            self.smtp = self._connect()
        self.smtp.send_message(message)

    def _connect(self) -> smtplib.SMTP:
        config, timeout = self.config, 30
        if config["MAIL_USE_SSL"]:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config["MAIL_SERVER"],
                config["MAIL_PORT"],
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            with suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


def _claim(now: dt.datetime) -> Notification | None:
    """The next due message, locked for this transaction; others' locked ones are skipped."""
    stmt = (
        select(Notification)
        .where(
            Notification.sent_at.is_(None),
            Notification.delivery == notify.AT_ONCE,
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return db.session.execute(stmt).scalar_one_or_none()


def deliver_due(limit: int | None = None, now: Callable[[], dt.datetime] = utcnow) -> tuple[int, int]:
    """Send the messages that are due; (sent, failed). A server that cannot be reached
    ends the run (the rest wait for the next one), a refused message waits its backoff."""
    config = current_app.config
    transport = _Transport(config)
    sent = failed = 0
    try:
        while limit is None or sent + failed < limit:
            row = _claim(now())
            if row is None:
                db.session.rollback()
                break
            try:
                transport.send(build_message(row, config["MAIL_DEFAULT_SENDER"]), row.id)
            except (smtplib.SMTPException, OSError) as error:
                failed += 1
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:2000]
                row.next_attempt_at = now() + backoff(row.attempts)
                db.session.commit()
                transport.close()
                if not isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                    break  # the server is down or refuses us: the rest wait for the next run
                continue
            row.sent_at = now()
            row.attempts += 1
            db.session.commit()
            sent += 1
    finally:
        transport.close()
    return sent, failed


def write_digests(now: dt.datetime | None = None) -> int:
    """From COOP_DIGEST_HOUR of the site's day on, one digest per user with notifications
    waiting for it and no digest of that day yet; how many were written."""
    now = now or utcnow()
    local = formats.local(now)
    if local.hour < current_app.config["COOP_DIGEST_HOUR"]:
        return 0
    key = f"{DIGEST}:{local.date().isoformat()}"
    digest = select(Notification.id).where(Notification.user_id == User.id, Notification.dedupe_key == key)
    stmt = (
        select(User.id, User.email)
        .where(User.active.is_(True), exists().where(_waiting(), Notification.user_id == User.id))
        .where(~digest.exists())
        .order_by(User.id)
    )
    written = 0
    for user_id, address in db.session.execute(stmt).all():
        try:
            written += _write_digest(user_id, address, key, local.date())
            db.session.commit()
        except IntegrityError:  # another worker wrote this user's digest of the day first
            db.session.rollback()
    db.session.commit()
    return written


def _waiting() -> Any:
    return (Notification.delivery == DIGEST) & Notification.digest_id.is_(None)


def _write_digest(user_id: int, address: str, key: str, day: dt.date) -> int:
    """The user's digest of `day` listing what waits for it, which is marked as carried by it."""
    stmt = select(Notification).where(_waiting(), Notification.user_id == user_id).order_by(Notification.id)
    items = db.session.execute(stmt).scalars().all()
    if not items:
        return 0
    link = notify.absolute_url("notifications.index")
    settings = notify.absolute_url("notifications.settings")
    message = notify.render_message(
        "digest", {"items": items, "day": formats.date(day), "link": link, "settings": settings}
    )
    digest = Notification(**message, kind=DIGEST, user_id=user_id, email=address, link=link, dedupe_key=key)
    db.session.add(digest)
    db.session.flush()  # the unique key: a digest of this day written meanwhile stops here
    for item in items:
        item.digest_id = digest.id
    return 1


def send_mail(now: Callable[[], dt.datetime] = utcnow) -> tuple[int, int]:
    """The daily digests if it is their time, then every message that is due: (sent, failed)."""
    write_digests(now())
    return deliver_due(now=now)


REMIND_EVERY = dt.timedelta(hours=1)


def run_worker(interval: float, once: bool = False) -> None:
    """Every `interval` seconds, send what is due (the digests at their hour); write the
    reminders that fell due (coop.reminders) at start and every REMIND_EVERY (until stopped, or once).

    SIGTERM and SIGINT (a service manager's stop, Ctrl+C) end the worker between two rounds:
    a message being sent is finished and marked, not cut off halfway."""
    stopping = threading.Event()
    handled = (signal.SIGTERM, signal.SIGINT)
    before = {number: signal.getsignal(number) for number in handled}
    if threading.current_thread() is threading.main_thread():  # only it may take signals
        for number in handled:
            signal.signal(number, lambda _number, _frame: stopping.set())
    try:
        reminded: dt.datetime | None = None
        while not stopping.is_set():
            if reminded is None or utcnow() - reminded >= REMIND_EVERY:
                reminders.remind()
                reminded = utcnow()
            send_mail()
            if once:
                return
            stopping.wait(interval)
        current_app.logger.info("The worker stopped on a signal.")
    finally:
        if threading.current_thread() is threading.main_thread():
            for number, handler in before.items():
                signal.signal(number, handler)
