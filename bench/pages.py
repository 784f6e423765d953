"""A few pages measured in-process (Flask's test client, no server): median and p95 wall
time, SQL statements and weight, for comparing one change before and after.

    DATABASE_URL=URL .venv/bin/flask --app app coop bench-data --events 100000   # first
    .venv/bin/python bench/pages.py --database-url URL [--requests 40] [--freeze]

The pages: an event's edit form (as the admin), the events list of the school with the
largest plan (as its user, 100 rows), the events list as the coordinator, first page and
a deep one (100 rows), and what a list page weighs. ``--freeze`` calls gc.freeze() after
start-up as the gunicorn workers do (gunicorn.conf.py). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from coop import create_app, sqlcount  # noqa: E402
from coop import models as m  # noqa: E402
from coop.extensions import db  # noqa: E402
from coop.seed import bench as bench_data  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page)
    assert token, "no CSRF token on /login"
    answer = client.post(
        "/login", data={"email": email, "password": bench_data.BENCH_PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, f"cannot sign in as {email}: {answer.status_code}"
    return client


def measure(client: Any, url: str, requests: int) -> dict[str, Any]:
    for _ in range(3):
        first = client.get(url)
    assert first.status_code == 200, f"{url}: HTTP {first.status_code}"
    samples, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = client.get(url)
        answer.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    body = answer.get_data()
    return {
        "url": url,
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(p95(samples), 1),
        # This process's CPU time: steadier than wall time on a shared machine (SQLite runs
        # in this process; PostgreSQL's own time is not in it).
        "cpu_ms": round(statistics.median(cpu), 1),
        "sql": answer.headers.get(sqlcount.HEADER),
        "kb": round(len(body) / 1024, 1),
        "filter_kb": round(len(_filter_data(body.decode())) / 1024, 1),
        "forms": body.count(b"<form"),
        "options": body.count(b"<option"),
    }


def _filter_data(html: str) -> str:
    found = re.search(r'<div id="filter-groups-data"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() after start-up")
    args = parser.parse_args()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "AUTO_MIGRATE": False,
            "SQL_COUNT": True,
            "SHOW_DEMO_ACCOUNTS": False,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        bench_users = m.User.email.like(f"%@{bench_data.BENCH_DOMAIN}")
        busiest = db.session.execute(
            select(m.Event.school_id).group_by(m.Event.school_id).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        emails = {
            role: db.session.execute(
                select(m.User.email)
                .where(bench_users, m.User.role == role, *where)
                .order_by(m.User.id)
                .limit(1)
            ).scalar_one()
            for role, where in (
                ("admin", ()),
                ("coordinator", ()),
                ("school", (m.User.school_id == busiest,)),
            )
        }
        event_id = db.session.execute(
            select(m.Event.id).where(m.Event.school_id == busiest).order_by(m.Event.id.desc()).limit(1)
        ).scalar_one()
        events = db.session.execute(select(func.count()).select_from(m.Event)).scalar_one()
    deep = max(1, events // 100 // 2)
    clients = {role: sign_in(app, email) for role, email in emails.items()}
    if args.freeze:
        gc.collect()
        gc.freeze()
    pages = [
        ("event edit form (admin)", "admin", f"/admin/event/edit/?id={event_id}"),
        ("event new form (admin)", "admin", "/admin/event/new/"),
        ("school's events list, 100 rows (school)", "school", "/admin/event/?page_size=100"),
        ("events list page 1, 100 rows (coordinator)", "coordinator", "/admin/event/?page_size=100"),
        (
            f"events list page {deep + 1}, 100 rows (coordinator)",
            "coordinator",
            f"/admin/event/?page_size=100&page={deep}",
        ),
        ("events list, 20 rows (coordinator)", "coordinator", "/admin/event/"),
        ("agreements list, 20 rows (coordinator)", "coordinator", "/admin/agreement/"),
    ]
    print(f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, {events} events, freeze={args.freeze}")
    heads = ("median", "p95", "cpu", "sql", "KB", "filtKB", "forms", "opts")
    print(f"{'page':<52} " + " ".join(f"{head:>{7 if len(head) > 3 else 4}}" for head in heads))
    for name, role, url in pages:
        r = measure(clients[role], url, args.requests)
        print(
            f"{name:<52} {r['median_ms']:>7} {r['p95_ms']:>7} {r['cpu_ms']:>7} {r['sql']!s:>4} {r['kb']:>7} "
            f"{r['filter_kb']:>7} {r['forms']:>5} {r['options']:>5}"
        )


if __name__ == "__main__":
    main()
