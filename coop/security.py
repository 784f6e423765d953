"""Response headers and the deployment check.

Every response carries a Content-Security-Policy that allows scripts only from
the site itself and with this request's nonce (Flask-Admin 2.x puts it on its
tags through ``Admin(csp_nonce_generator=...)``; our templates use the same
``admin_csp_nonce_attribute`` or ``csp_nonce()``), so an injected inline script
does not run. How long a signed-in session lasts is coop/sessions.py's.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g
from limits.storage import storage_from_string
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import db
from .models import User
from .seed import demo_data


def csp_nonce() -> str:
    """This request's nonce for <script>/<link>/<style> tags (one per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


# What a download may do when a browser renders it anyway: nothing (no script, no
# request, no form, no plug-in, a unique origin).
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _set_headers(response: Response) -> Response:
    headers = response.headers
    # A response with a policy of its own keeps it; a download (a stored file, an
    # export) is sandboxed, every page gets the site's policy with this request's nonce.
    if "attachment" in headers.get("Content-Disposition", "").lower():
        headers.setdefault("Content-Security-Policy", DOWNLOAD_CSP)
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    # Calendar feed links carry a secret token: never send our URLs elsewhere.
    headers["Referrer-Policy"] = "same-origin"
    if current_app.config["HTTPS"]:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


# --- the deployment check -----------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


_WORKERS_ARG = re.compile(r"(?:--workers[= ]|-w ?)(\d+)")


def _workers(environ: Mapping[str, str]) -> int:
    """Worker processes gunicorn will start, as its environment says."""
    match = _WORKERS_ARG.search(environ.get("GUNICORN_CMD_ARGS", ""))
    value = match.group(1) if match else environ.get("WEB_CONCURRENCY", "1")
    return int(value) if value.strip().isdigit() else 1


def check_deploy(config: Mapping[str, Any], environ: Mapping[str, str]) -> list[Finding]:
    """What is unsafe in this configuration for production, like Django's `check --deploy`."""
    findings = []
    workers = _workers(environ)
    if config.get("DEBUG"):
        findings.append(
            Finding("coop.W001", "Включён режим отладки (FLASK_DEBUG/--debug): он раскрывает код и данные.")
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and workers > 1:
        findings.append(
            Finding(
                "coop.W002",
                f"SQLite при {workers} рабочих процессах: записи будут ждать друг друга и обрываться; "
                "укажите DATABASE_URL на PostgreSQL или запустите один процесс.",
            )
        )
    if not environ.get("SECRET_KEY"):
        findings.append(
            Finding(
                "coop.W003",
                "SECRET_KEY не задан: ключ подписи сессий сгенерирован в instance/ и потеряется "
                "вместе с этим каталогом; задайте SECRET_KEY в окружении.",
            )
        )
    elif len(environ["SECRET_KEY"]) < 32:
        findings.append(Finding("coop.W004", "SECRET_KEY короче 32 символов: его можно подобрать."))
    if not config["HTTPS"]:
        findings.append(
            Finding(
                "coop.W005",
                "COOP_HTTPS не равен 1: cookie сессии без флага Secure, нет HSTS; "
                "сайт должен работать только по HTTPS.",
            )
        )
    if config["SHOW_DEMO_ACCOUNTS"]:
        findings.append(
            Finding(
                "coop.W006",
                "Страница входа показывает демо-учётные записи с паролями; "
                "задайте COOP_SHOW_DEMO_ACCOUNTS=0.",
            )
        )
    if config["AUTO_MIGRATE"]:
        findings.append(
            Finding(
                "coop.W007",
                "Миграции применяются при каждом запуске (COOP_AUTO_MIGRATE=1): установите 0 и выполняйте "
                "`flask --app app db upgrade` при развёртывании.",
            )
        )
    if config["RATELIMIT_STORAGE_URI"].startswith("memory") and workers > 1:
        findings.append(
            Finding(
                "coop.W008",
                f"Счётчики неудачных входов хранятся в памяти каждого из {workers} процессов "
                "(и каждого сервера, если их несколько): задайте RATELIMIT_STORAGE_URI=redis://…",
            )
        )
    return findings


def check_demo_accounts() -> list[Finding]:
    """Demo accounts that still open with their published passwords (needs the database)."""
    emails = []
    for email, password, *_rest in demo_data.DEMO_USERS:
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one_or_none()
        if user is not None and user.is_active and user.check_password(password):
            emails.append(email)
    if not emails:
        return []
    return [
        Finding(
            "coop.W009",
            "Демо-учётные записи входят с опубликованными паролями: "
            + ", ".join(emails)
            + ". Отключите их или смените пароли.",
        )
    ]


def check_limiter_storage(uri: str) -> list[Finding]:
    """The shared store of the sign-in counters (RATELIMIT_STORAGE_URI) answers (needs the network)."""
    if uri.startswith("memory"):
        return []
    try:
        answers = storage_from_string(uri).check()
    except Exception:  # a storage's own errors (redis, memcached …) have no common base
        answers = False
    if answers:
        return []
    return [
        Finding(
            "coop.W010",
            f"Хранилище счётчиков неудачных входов ({_without_password(uri)}) не отвечает: пока оно "
            "недоступно, каждый процесс считает сам, и на нескольких процессах или серверах "
            "подбор пароля замедляется слабее.",
        )
    ]


def _without_password(uri: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", uri)


def init_app(app: Flask) -> None:
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
    app.add_template_global(csp_nonce)
    app.after_request(_set_headers)
