"""Several app servers: two gunicorn instances on two ports, one PostgreSQL database and one
Redis, nothing else shared. A file uploaded through one downloads through the other; a
session opened on one is valid on the other and ends on both at sign-out; sign-in failures
split across both are counted together.

The instances run on a database of their own (<the suite's database>_instances, migrated
and given the demo data by the CLI, dropped afterwards), so the suite's is not disturbed;
Redis is the database number REDIS_DB, emptied before and after. Skipped only where the
suite does not run on PostgreSQL or no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .conftest import CSRF_RE

ROOT = Path(__file__).resolve().parent.parent
REDIS_DB = 13
REDIS_URI = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET_KEY = "the-same-secret-key-on-every-instance-0123456789"
PDF = b"%PDF-1.4\n% uploaded through one instance\n" + secrets.token_bytes(4096) + b"\n%%EOF\n"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """A browser's cookie jar, sent to whichever instance it asks: cookies do not tell ports apart."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, port: int, method: str, path: str, body: bytes = b"", content_type: str = "") -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            reply = Reply(response.status, dict(response.getheaders()), response.read())
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if (morsel["expires"] and "1970" in morsel["expires"]) or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return reply
        finally:
            connection.close()

    def get(self, port: int, path: str) -> Reply:
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, form: dict[str, str]) -> Reply:
        return self.request(port, "POST", path, urlencode(form).encode(), "application/x-www-form-urlencoded")

    def csrf(self, port: int, path: str) -> str:
        match = CSRF_RE.search(self.get(port, path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    def sign_in(self, port: int, email: str, password: str) -> Reply:
        token = self.csrf(port, "/login")
        return self.post(port, "/login", {"email": email, "password": password, "csrf_token": token})


def _redis() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URI, socket_connect_timeout=2)


def _ports() -> list[int]:
    """COOP_TEST_PORTS="5610,5611" names them; otherwise two free ones."""
    named = os.environ.get("COOP_TEST_PORTS", "")
    if named:
        return [int(port) for port in named.split(",")[:2]]
    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(int(probe.getsockname()[1]))
    return ports


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """Two gunicorn instances on one PostgreSQL database and one Redis: their ports."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith(("postgresql", "postgres")):
        pytest.skip("two app instances need a shared PostgreSQL: DATABASE_URL names none")
    try:
        _redis().ping()
    except redis.RedisError as error:
        pytest.skip(f"two app instances need a shared Redis: none answers at {REDIS_URI} ({error})")
    _redis().flushdb()
    url = make_url("postgresql+psycopg://" + suite_url.split("://", 1)[1])
    name = f"{url.database}_instances"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    env = {
        **os.environ,
        "DATABASE_URL": url.set(drivername="postgresql", database=name).render_as_string(hide_password=False),
        "SECRET_KEY": SECRET_KEY,
        "RATELIMIT_STORAGE_URI": REDIS_URI,
        "COOP_AUTO_MIGRATE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_APP", None)
    servers: list[subprocess.Popen] = []
    opened: list[IO[str]] = []
    logs = tmp_path_factory.mktemp("instances")
    try:
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        _run([*flask, "db", "upgrade"], env)
        _run([*flask, "coop", "demo"], env)
        ports = _ports()
        for port in ports:
            log = (logs / f"gunicorn-{port}.log").open("w")
            opened.append(log)
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "app:app",
            ]
            servers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log))
        for port, process in zip(ports, servers, strict=True):
            for _ in range(240):
                assert process.poll() is None, (logs / f"gunicorn-{port}.log").read_text()
                try:
                    if Browser().get(port, "/login").status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.25)
            else:
                pytest.fail((logs / f"gunicorn-{port}.log").read_text())
        yield ports
    finally:
        for process in servers:
            process.terminate()
        for process in servers:
            process.wait(timeout=30)
        for log in opened:
            log.close()
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()
        _redis().flushdb()


def _agreement_of_school31(port: int, browser: Browser) -> int:
    page = browser.get(port, "/admin/agreement/").text
    ids = re.findall(r"/admin/agreement/details/\?id=(\d+)", page)
    assert ids, "school31 lists no agreement"
    return int(ids[0])


def _attach(browser: Browser, port: int, agreement: int, data: bytes) -> Reply:
    token = browser.csrf(port, f"/admin/agreement/details/?id={agreement}")
    boundary = secrets.token_hex(12)
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="agreement.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return browser.request(
        port,
        "POST",
        f"/admin/agreement/attach/?id={agreement}",
        body,
        f"multipart/form-data; boundary={boundary}",
    )


def test_a_file_uploaded_through_one_downloads_through_the_other(instances: list[int]) -> None:
    first, second = instances
    browser = Browser()
    assert browser.sign_in(first, "school31@coop.example", "school31").status == 302
    agreement = _agreement_of_school31(first, browser)
    assert _attach(browser, first, agreement, PDF).status == 302
    details = browser.get(second, f"/admin/agreement/details/?id={agreement}")
    file_id = int(re.findall(r"/files/(\d+)", details.text)[-1])
    download = browser.get(second, f"/files/{file_id}")
    assert download.status == 200 and download.body == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    # The other school sees nothing of it, through either door.
    neighbour = Browser()
    assert neighbour.sign_in(second, "gymnasium17@coop.example", "gymnasium17").status == 302
    assert neighbour.get(first, f"/files/{file_id}").status == 404


def test_a_session_opened_on_one_is_valid_on_the_other_and_ends_on_both(instances: list[int]) -> None:
    first, second = instances
    browser = Browser()
    assert browser.get(second, "/admin/event/").status == 302  # not signed in
    assert browser.sign_in(first, "kemsu@coop.example", "kemsu").status == 302
    for port in (first, second):
        page = browser.get(port, "/password")  # the page names the account signed in
        assert page.status == 200 and "kemsu@coop.example" in page.text, port
    copy = Browser(dict(browser.cookies))  # the cookie, as someone might have kept it
    assert browser.get(second, "/logout").status == 302
    for port in (first, second):
        refused = copy.get(port, "/password")
        assert refused.status == 302 and "/login" in refused.headers["Location"], port


def test_sign_in_failures_are_counted_across_both(instances: list[int]) -> None:
    """5 failures on one account from one address within 40 s are the limit (coop/auth.py):
    3 on one instance and 2 on the other reach it, and both then answer 429."""
    first, second = instances
    browser = Browser()
    for port in (first, second, first, second, first):
        assert browser.sign_in(port, "museum@coop.example", "wrong").status == 200
    for port in (second, first):
        refused = browser.sign_in(port, "museum@coop.example", "museum")  # even the right password
        assert refused.status == 429, port
        assert 0 < int(refused.headers["Retry-After"]) <= 40
    assert _redis().dbsize() > 0  # the counters are in the shared Redis, not in either process
