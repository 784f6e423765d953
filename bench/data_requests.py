"""The data requests at the benchmark's scale, in-process: prefilling a request for every
school (issue 15: under 10 s in all), its board page and its consolidated XLSX (each under
1 s), as the coordinator signs in to them.

    DATABASE_URL=URL .venv/bin/flask --app app coop bench-data          # first: 1,000 schools
    .venv/bin/python bench/data_requests.py --database-url URL [--requests 5]

A request to every school is written with a question per figure of coop/request_figures.py
and every school's answer submitted (as the schools would, with Coop's values), then timed;
the request and its answers are deleted afterwards. The report goes to
bench/results/data-requests-<database>-<N>schools.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, insert, select  # noqa: E402

from coop import create_app, data_requests, request_figures, tenancy  # noqa: E402
from coop import models as m  # noqa: E402
from coop.extensions import db  # noqa: E402
from coop.seed import bench as bench_data  # noqa: E402
from coop.timing import academic_year_of  # noqa: E402

TITLE = "Бенчмарк: запрос данных всем школам"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BUDGETS = {"prefill": 10.0, "board": 1.0, "xlsx": 1.0}  # seconds


def _timed(action: Any, requests: int) -> tuple[float, float]:
    """Median and worst wall time of `requests` runs, seconds."""
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), max(samples)


def _set_up(year: int) -> int:
    """The request, its questions, and every school's answer submitted: its id."""
    stamp = {"created_at": m.utcnow(), "updated_at": m.utcnow(), "version": 1}
    request_id = db.session.execute(
        insert(m.DataRequest.__table__).returning(m.DataRequest.__table__.c.id),
        [
            {
                **stamp,
                "title": TITLE,
                "explanation": "",
                "year": year,
                "deadline": dt.date.today(),
                "addressees": "all",
            }
        ],
    ).scalar_one()
    rows = [
        {**stamp, "request_id": request_id, "label": str(label), "kind": figure.kind, "required": False}
        | {"help_text": "", "sort_order": index, "prefill": name}
        for index, (name, label, figure) in enumerate(
            (name, m.PREFILL_FIGURES[name], figure) for name, figure in request_figures.FIGURES.items()
        )
    ]
    db.session.execute(insert(m.DataRequestQuestion.__table__), rows)
    db.session.commit()
    request = db.session.get(m.DataRequest, request_id)
    computed = data_requests.prefill_all(request)
    answers = [
        {
            **stamp,
            "request_id": request_id,
            "school_id": school_id,
            "state": "submitted",
            "return_comment": "",
        }
        | {
            "submitted_at": m.utcnow(),
            "values": {str(q): {"value": v, "computed": v} for q, v in values.items()},
        }
        for school_id, values in computed.items()
    ]
    db.session.execute(insert(m.DataRequestAnswer.__table__), answers)
    db.session.commit()
    return request_id


def _tear_down() -> None:
    ids = select(m.DataRequest.id).where(m.DataRequest.title == TITLE)
    for model in (m.DataRequestAnswer, m.DataRequestQuestion):
        db.session.execute(delete(model).where(model.request_id.in_(ids)))
    db.session.execute(delete(m.DataRequest).where(m.DataRequest.title == TITLE))
    db.session.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args(argv)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "AUTO_MIGRATE": False, "TESTING": True})
    results: dict[str, tuple[float, float]] = {}
    with app.app_context():
        schools = db.session.execute(select(func.count()).select_from(m.School)).scalar_one()
        year = academic_year_of(dt.date.today())
        _tear_down()
        request_id = _set_up(year)
        with tenancy.as_system():
            request = db.session.get(m.DataRequest, request_id)
            results["prefill"] = _timed(lambda: data_requests.prefill_all(request), args.requests)
        coordinator = db.session.execute(select(m.User.email).filter_by(role="coordinator")).scalars().first()
        dialect = db.engine.dialect.name
    client = app.test_client()
    found = CSRF_RE.search(client.get("/login").get_data(as_text=True))
    assert found, "no CSRF token on /login"
    token = found.group(1)
    signed = client.post(
        "/login", data={"email": coordinator, "password": bench_data.BENCH_PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302, f"cannot sign in as {coordinator}"
    for name, url in (
        ("board", f"/admin/datarequests/board/?id={request_id}"),
        ("xlsx", f"/admin/datarequests/export/?id={request_id}"),
    ):
        assert client.get(url).status_code == 200, url
        results[name] = _timed(lambda url=url: client.get(url), args.requests)
    with app.app_context():
        _tear_down()
    lines = [
        f"# Data requests at {schools} schools ({dialect})",
        "",
        f"{dt.date.today():%Y-%m-%d}; a request to every school, a question per figure "
        f"({len(request_figures.FIGURES)}), every answer submitted; {args.requests} runs each.",
        "",
        "| what | median, s | worst, s | budget, s | |",
        "|---|---:|---:|---:|---|",
    ]
    for name, (median, worst) in results.items():
        verdict = "PASS" if worst <= BUDGETS[name] else "MISS"
        lines.append(f"| {name} | {median:.3f} | {worst:.3f} | {BUDGETS[name]:.0f} | {verdict} |")
    report = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results" / f"data-requests-{dialect}-{schools}schools.md"
    out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
