"""How fast the outbox delivers: 1,000 queued notifications to a real SMTP server on loopback.

    .venv/bin/python bench/mail_delivery.py [--messages 1000]         # SQLite in a temporary folder
    .venv/bin/python bench/mail_delivery.py --database-url postgresql://postgres@127.0.0.1/coop_mail

The database (a fresh SQLite file, or the one ``--database-url`` names: use one of
its own, its outbox empty) gets the demo data, then N notifications queued the way
the site writes them: ``coop.notify.queue`` for the submission of demo events, each
rendered from its templates for a school's users (real rows of the outbox). aiosmtpd
listens on 127.0.0.1 in a process of its own (``tests/mailbox.py``'s Server, with a
handler that only notes each Message-ID: a real server is not in our process either)
and ``outbox.deliver_due()`` runs as ``flask coop send-mail`` runs it, one SMTP
connection for the run, each message claimed, sent and marked sent in its own
transaction. Printed: messages per second of wall time and of the delivering
process's CPU time (on a busy machine the wall time says more about the neighbours),
and that each message arrived exactly once (the notification's id is in its
Message-ID) and is marked sent.

On PostgreSQL it then queues N more and starts two workers, two processes, at the
same moment (``FOR UPDATE SKIP LOCKED`` shares the queue between them): each
worker's count, as it says and as the server received them (the process id is in
the Message-ID too), the messages per second of the two together, and that no
message arrived twice.

The rows it queued are deleted at the end. Results go to
``bench/results/mail-<database>.md`` and ``.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the app, and the tests' loopback server

from run import RESULTS, machine, sqlalchemy_url  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from coop import create_app, notify, outbox  # noqa: E402
from coop import models as m  # noqa: E402
from coop.extensions import db  # noqa: E402
from coop.seed.demo import load_demo  # noqa: E402
from tests.mailbox import Server  # noqa: E402

# make_msgid(idstring=f"coop-{id}"): <time.pid.random.coop-ID@host>
MESSAGE_ID = re.compile(r"<\d+\.(\d+)\.\d+\.coop-(\d+)@")
HEADER = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Tally:
    """The server's handler: the Message-ID of every message received, nothing more."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        headers = envelope.content.split(b"\r\n\r\n", 1)[0]
        found = HEADER.search(headers)
        self.ids.append(found.group(1).decode() if found else "")
        return "250 OK"


def serve(ports: Any, stop: Any, received: Any) -> None:
    """The SMTP server process: its port out, then, when told to stop, what it received."""
    tally = Tally()
    server = Server(tally)  # type: ignore[arg-type]  # any aiosmtpd handler
    server.start()
    ports.put(server.port)
    stop.wait()
    server.stop()
    received.put(tally.ids)


class SmtpProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        ports, self.received, self.stop_event = context.Queue(), context.Queue(), context.Event()
        self.process = context.Process(target=serve, args=(ports, self.stop_event, self.received))
        self.process.start()
        self.port = ports.get(timeout=60)

    def stop(self) -> list[str]:
        self.stop_event.set()
        ids = self.received.get(timeout=60)
        self.process.join()
        return ids


def make_app(url: str, port: int) -> Any:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "AUTO_MIGRATE": True,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_USERNAME": "",
        }
    )


def unsent() -> int:
    stmt = select(func.count()).select_from(m.Notification).where(m.Notification.sent_at.is_(None))
    return db.session.execute(stmt).scalar_one()


def queue(count: int) -> list[int]:
    """`count` notifications of demo events' submissions, written by coop.notify; their ids."""
    events = db.session.execute(select(m.Event).order_by(m.Event.id)).scalars().all()
    first = (db.session.execute(select(func.max(m.Notification.id))).scalar() or 0) + 1
    queued, index = 0, 0
    while queued < count:
        happened = [notify.Happened(events[index % len(events)], "submit")]
        queued += notify.queue(db.session.connection(), happened, actor_id=None)
        index += 1
    ids = list(
        db.session.execute(
            select(m.Notification.id).where(m.Notification.id >= first).order_by(m.Notification.id)
        ).scalars()
    )
    surplus = ids[count:]  # the last event's school had more users than were needed
    if surplus:
        db.session.execute(delete(m.Notification).where(m.Notification.id.in_(surplus)))
    db.session.commit()
    return ids[:count]


def arrivals(
    received: list[str], ids: list[int]
) -> tuple[collections.Counter[int], collections.Counter[int]]:
    """How many times each queued id arrived, and how many messages each process sent."""
    wanted = set(ids)
    times: collections.Counter[int] = collections.Counter()
    by_pid: collections.Counter[int] = collections.Counter()
    for message_id in received:
        found = MESSAGE_ID.match(message_id)
        if found and int(found.group(2)) in wanted:
            times[int(found.group(2))] += 1
            by_pid[int(found.group(1))] += 1
    return times, by_pid


def check(times: collections.Counter[int], ids: list[int]) -> dict[str, int]:
    sent_rows = db.session.execute(
        select(func.count())
        .select_from(m.Notification)
        .where(m.Notification.id.in_(ids), m.Notification.sent_at.is_not(None))
    ).scalar_one()
    return {
        "queued": len(ids),
        "arrived": sum(times.values()),
        "arrived_once": sum(1 for n in times.values() if n == 1),
        "arrived_twice_or_more": sum(1 for n in times.values() if n > 1),
        "missing": sum(1 for i in ids if i not in times),
        "marked_sent": sent_rows,
    }


def worker(url: str, port: int, ready: Any, start: Any, results: Any) -> None:
    """One worker process: its own app, engine and SMTP connection; starts with the other."""
    app = make_app(url, port)
    with app.app_context():
        db.session.execute(select(1))  # connected before the start, as a running worker is
        db.session.rollback()
        ready.put(True)
        start.wait()
        started, cpu = time.perf_counter(), time.process_time()
        sent, failed = outbox.deliver_due()
        results.put(
            {
                "pid": multiprocessing.current_process().pid,
                "sent": sent,
                "failed": failed,
                "seconds": round(time.perf_counter() - started, 3),
                "cpu_seconds": round(time.process_time() - cpu, 3),
            }
        )


def two_workers(url: str, port: int) -> tuple[list[dict[str, Any]], float]:
    context = multiprocessing.get_context("spawn")
    ready, start, results = context.Queue(), context.Event(), context.Queue()
    processes = [context.Process(target=worker, args=(url, port, ready, start, results)) for _ in range(2)]
    for process in processes:
        process.start()
    for _ in processes:  # both apps built and connected (spawn imports the app anew)
        ready.get(timeout=300)
    started = time.perf_counter()
    start.set()
    answers = [results.get(timeout=900) for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    return answers, seconds


def one_worker(app: Any, count: int) -> dict[str, Any]:
    """Queue `count`, deliver them in this process as send-mail does; what arrived."""
    ids = queue(count)
    smtp = SmtpProcess()
    app.config["MAIL_PORT"] = smtp.port
    try:
        started, cpu = time.perf_counter(), time.process_time()
        sent, failed = outbox.deliver_due()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    finally:
        received = smtp.stop()
    times, _ = arrivals(received, ids)
    one = {
        "sent": sent,
        "failed": failed,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "messages_per_second": round(sent / seconds, 1),
        "messages_per_cpu_second": round(sent / cpu_seconds, 1),
        **check(times, ids),
    }
    print(
        f"one worker: {sent} sent, {failed} failed in {seconds:.2f} s = {one['messages_per_second']} "
        f"messages/s ({cpu_seconds:.2f} s of CPU = {one['messages_per_cpu_second']} messages per CPU second)"
    )
    print(arrived_line(one))
    return one


def two_processes(url: str, count: int) -> dict[str, Any]:
    """Queue `count`, deliver them by two worker processes at once; what arrived from whom."""
    ids = queue(count)
    db.session.remove()
    smtp = SmtpProcess()
    try:
        answers, seconds = two_workers(url, smtp.port)
    finally:
        received = smtp.stop()
    times, by_pid = arrivals(received, ids)
    two = {
        "workers": [{**answer, "received": by_pid[answer["pid"]]} for answer in answers],
        "seconds": round(seconds, 3),
        "messages_per_second": round(sum(answer["sent"] for answer in answers) / seconds, 1),
        **check(times, ids),
    }
    print(
        f"two workers (two processes) on {len(ids)} more: {seconds:.2f} s = "
        f"{two['messages_per_second']} messages/s together"
    )
    for number, answer in enumerate(two["workers"], 1):
        print(
            f"  worker {number} (pid {answer['pid']}): sent {answer['sent']}, failed {answer['failed']}, "
            f"received from it {answer['received']}; {answer['seconds']} s, {answer['cpu_seconds']} s of CPU"
        )
    print(arrived_line(two))
    return two


def arrived_line(result: dict[str, Any]) -> str:
    return (
        f"  arrived exactly once: {result['arrived_once']} of {result['queued']}; twice or more: "
        f"{result['arrived_twice_or_more']}; missing: {result['missing']}; "
        f"marked sent: {result['marked_sent']}"
    )


def exactly_once(result: dict[str, Any]) -> bool:
    return result["arrived_once"] == result["queued"] == result["marked_sent"] == result["arrived"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="coop-mail-bench-")
    url = sqlalchemy_url(args.database_url) if args.database_url else f"sqlite:///{folder.name}/coop.sqlite3"
    app = make_app(url, 0)
    report: dict[str, Any] = {"date": dt.date.today().isoformat(), "machine": machine()}
    try:
        with app.app_context():
            report["database"] = db.engine.dialect.name
            report["messages"] = args.messages
            load_demo()
            db.session.commit()
            waiting = unsent()
            if waiting:
                raise SystemExit(
                    f"В очереди этой базы есть неотправленные письма ({waiting}): укажите базу для замера."
                )
            first = (db.session.execute(select(func.max(m.Notification.id))).scalar() or 0) + 1
            try:
                report["one_worker"] = one_worker(app, args.messages)
                if report["database"] == "postgresql":
                    report["two_workers"] = two_processes(url, args.messages)
            finally:  # the rows the benchmark queued
                db.session.rollback()
                db.session.execute(delete(m.Notification).where(m.Notification.id >= first))
                db.session.commit()
                db.engine.dispose()
    finally:
        folder.cleanup()
    report["ok"] = all(exactly_once(report[key]) for key in ("one_worker", "two_workers") if key in report)
    write(report)
    if not report["ok"]:
        raise SystemExit("Не каждое письмо дошло ровно один раз.")


def write(report: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"mail-{report['database']}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report))
    print(f"Results: {RESULTS / name}.md")


def markdown(report: dict[str, Any]) -> str:
    runs: list[tuple[str, dict[str, Any]]] = [("one worker", report["one_worker"])]
    two = report.get("two_workers")
    if two:
        workers = two["workers"]
        total = {key: sum(w[key] for w in workers) for key in ("sent", "failed", "cpu_seconds")}
        runs.append(("two workers together", {**two, **total}))
        for number, w in enumerate(workers, 1):
            speed = round(w["sent"] / w["seconds"], 1)
            runs.append((f"worker {number} (received {w['received']})", {**w, "messages_per_second": speed}))
    columns = ("sent", "failed", "seconds", "messages_per_second", "cpu_seconds", "arrived_once")
    columns += ("arrived_twice_or_more", "missing")
    lines = [
        f"# Mail delivery: {report['database']}, {report['messages']} messages to aiosmtpd on loopback",
        "",
        f"{report['date']}; machine: {report['machine']}",
        "",
        "| run | " + " | ".join(column.replace("_", " ") for column in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for label, run in runs:
        cells = [str(round(run[c], 3)) if c in run else "" for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    verdict = "yes" if report["ok"] else "NO"
    lines += ["", f"Each message arrived exactly once and was marked sent: {verdict}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
