"""Load test: many simulated users of mixed roles at once, against gunicorn.

    .venv/bin/python bench/load.py --database-url URL [--users 50] [--seconds 120]
    .venv/bin/python bench/load.py --database-url sqlite:///… --writers 20 [--seconds 60]

The first form signs in ``--users`` people (admins, coordinators, schools and
partners of the bench data, in the proportions of a working day) and has each of
them open pages in a loop: the home page, lists (first and later pages,
searches), details, the calendar, the JSON plan. It reports requests per second,
median and p95 time, and every error (HTTP status 500 and up, or no answer).

The second form has ``--writers`` school users write at the same moment, again
and again: each replaces its school's iCalendar link (a read, then a write) and
signs in anew (which records the sign-in time). On SQLite this is the «database
is locked» test: the server's log is searched for it.

Fill the database first with ``flask --app app coop bench-data``. Results go to
``bench/results/load-<database>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the app's modules

from run import RESULTS, Client, csrf, free_port, gunicorn, machine, p95, sqlalchemy_url
from sqlalchemy import create_engine, func, select

from coop import models as m
from coop.seed import bench as bench_data
from coop.timing import academic_year_of

# Of 50 people at work: a few administrators and coordinators, mostly schools and partners.
ROLE_SHARES = {"admin": 2, "coordinator": 8, "school": 25, "partner": 15}
LISTS = {
    "admin": ("event", "eventexecution", "agreement", "school", "partner", "user", "history"),
    "coordinator": ("event", "eventexecution", "agreement", "school", "partner", "remark"),
    "school": ("event", "eventexecution", "agreement", "seminar", "remark", "partner"),
    "partner": ("event", "school", "partner", "partnerresource"),
}
SEARCHES = ("экскурсия", "конкурс", "музей", "олимпиада")


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock = threading.Lock()

    def add(self, ms: float, error: str | None) -> None:
        with self.lock:
            self.times.append(ms)
            if error:
                self.errors.append(error)


def accounts(url: str, role: str, count: int) -> list[tuple[str, int | None]]:
    """E-mails of bench users of a role, with the school each one's pages show."""
    engine = create_engine(sqlalchemy_url(url))
    users, events = m.User.__table__, m.Event.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(users.c.email, users.c.school_id, users.c.partner_id)
            .where(users.c.role == role, users.c.email.like(f"%@{bench_data.BENCH_DOMAIN}"))
            .order_by(users.c.id)
            .limit(count)
        ).all()
        result = []
        for email, school_id, partner_id in rows:
            if partner_id is not None:  # a school it has plan lines with
                school_id = conn.execute(
                    select(events.c.school_id).where(events.c.partner_id == partner_id).limit(1)
                ).scalar()
            result.append((email, school_id))
        busiest = conn.execute(
            select(events.c.school_id).group_by(events.c.school_id).order_by(func.count().desc()).limit(1)
        ).scalar()
    engine.dispose()
    return [(email, school_id or busiest) for email, school_id in result]


def sign_in(port: int, email: str, tally: Tally) -> Client:
    client = Client(port)
    page = client.get("/login")
    check(tally, page, "/login")
    form = {"email": email, "password": bench_data.BENCH_PASSWORD, "csrf_token": csrf(page.body)}
    answer = client.post("/login", form)
    tally.add(answer.ms, None if answer.status == 302 else f"sign-in {email}: HTTP {answer.status}")
    return client


def check(tally: Tally, answer: Any, what: str) -> None:
    error = None
    if answer.status >= 500:
        error = f"HTTP {answer.status} {what}"
    elif "database is locked" in answer.body:
        error = f"database is locked: {what}"
    tally.add(answer.ms, error)


def reader(port: int, role: str, email: str, school: int, year: int, until: float, tally: Tally) -> None:
    rng = random.Random(email)
    try:
        client = sign_in(port, email, tally)
    except OSError as error:
        tally.add(0, f"sign-in {email}: {error}")
        return
    while time.monotonic() < until:
        endpoint = rng.choice(LISTS[role])
        choice = rng.random()
        if choice < 0.15:
            path = "/admin/"
        elif choice < 0.55:
            path = f"/admin/{endpoint}/?page={rng.randint(0, 20)}"
        elif choice < 0.7:
            path = f"/admin/{endpoint}/?{urllib.parse.urlencode({'search': rng.choice(SEARCHES)})}"
        elif choice < 0.9:
            path = f"/admin/calendar/?school={school}&year={year}"
        else:
            path = f"/api/plan.json?school={school}&year={year}"
        try:
            check(tally, client.get(path), path)
        except Exception as error:  # any failure is an error of the run, counted
            tally.add(0, f"{path}: {error!r}")


def writer(port: int, email: str, school: int, until: float, tally: Tally, start: threading.Barrier) -> None:
    start.wait()
    while time.monotonic() < until:
        try:
            client = sign_in(port, email, tally)  # a write: the sign-in time
            calendar = f"/admin/calendar/?school={school}"
            page = client.get(calendar)
            check(tally, page, calendar)
            answer = client.post(f"/admin/calendar/feed/?school={school}", {"csrf_token": csrf(page.body)})
            check(tally, answer, "replace the iCalendar link")
        except (OSError, SystemExit) as error:
            tally.add(0, f"{email}: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--writers", type=int, default=0, help="concurrent writers instead of readers")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    tally = Tally()
    args.port = args.port or free_port()
    year = academic_year_of(dt.date.today()) - 1  # the last year that is over, as bench/run.py
    if args.writers:
        people = [("school", *a) for a in accounts(args.database_url, "school", args.writers)]
    else:
        total = sum(ROLE_SHARES.values())
        people = []
        for role, share in ROLE_SHARES.items():
            wanted = max(1, round(args.users * share / total))
            people += [(role, *a) for a in accounts(args.database_url, role, wanted)]
        people = people[: args.users]
    log = RESULTS / "load-server.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with gunicorn(args.database_url, args.port, args.workers, log=log):
        until = time.monotonic() + args.seconds
        barrier = threading.Barrier(len(people))
        threads = [
            threading.Thread(
                target=writer if args.writers else reader,
                args=(args.port, email, school, until, tally, barrier)
                if args.writers
                else (args.port, role, email, school, year, until, tally),
            )
            for role, email, school in people
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    locked = log.read_text(errors="replace").count("database is locked")
    log.unlink()
    report(args, people, tally, elapsed, locked)


def report(args: Any, people: list[tuple[str, str, int]], tally: Tally, elapsed: float, locked: int) -> None:
    dialect = sqlalchemy_url(args.database_url).split(":", 1)[0].split("+")[0]
    mode = f"{args.writers} writers" if args.writers else f"{len(people)} users"
    times = tally.times or [0.0]
    summary = {
        "database": dialect,
        "mode": mode,
        "roles": {role: sum(1 for p in people if p[0] == role) for role in ROLE_SHARES},
        "seconds": round(elapsed, 1),
        "requests": len(tally.times),
        "requests_per_second": round(len(tally.times) / elapsed, 1),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95(times), 1),
        "errors": len(tally.errors),
        "error_examples": sorted(set(tally.errors))[:20],
        "database_is_locked_in_server_log": locked,
        "gunicorn_workers": args.workers,
        "machine": machine(),
    }
    name = f"load-{dialect}-{'writers' if args.writers else 'users'}"
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    lines = [f"# Load test: {dialect}, {mode}, {summary['seconds']} s", ""]
    lines += [f"- {key}: {value}" for key, value in summary.items() if key != "error_examples"]
    lines += [f"- error: {e}" for e in summary["error_examples"]]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
