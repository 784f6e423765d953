"""The events list under load: wrk against gunicorn, signed in as a coordinator (issue 13's
«≥ 150 requests/s on an authenticated events list»).

    .venv/bin/python bench/wrk_events.py --database-url URL [--workers 4] [--seconds 30]

Fill the database first with ``flask --app app coop bench-data``. Needs Debian's wrk
(``apt-get install wrk``). Prints wrk's figures and the CPU wrk itself used, to state the
load client's share of the machine. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the app's modules

from run import free_port, gunicorn, sign_in, sqlalchemy_url
from sqlalchemy import create_engine, select

from coop import models as m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--path", default="/admin/event/")
    args = parser.parse_args()
    engine = create_engine(sqlalchemy_url(args.database_url))
    with engine.connect() as conn:
        email = conn.execute(
            select(m.User.email).where(m.User.role == "coordinator").order_by(m.User.id).limit(1)
        ).scalar_one()
    port = free_port()
    with gunicorn(args.database_url, port, args.workers):
        client = sign_in(port, email)
        page = client.get(args.path)
        print(f"{args.path}: HTTP {page.status}, {len(page.body.encode()) // 1024} KB", flush=True)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        wrk = ["wrk", "-t2", "-c8", f"-d{args.seconds}s", "--latency", "-H", f"Cookie: {cookie}"]
        timed = ["/usr/bin/time", "-f", "wrk's own CPU: user %U s, system %S s, wall %e s"]
        done = subprocess.run(
            [*timed, *wrk, f"http://127.0.0.1:{port}{args.path}"], capture_output=True, text=True
        )
        print(done.stdout + done.stderr)


if __name__ == "__main__":
    main()
