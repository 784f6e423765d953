"""Issue 14's Speed: the events list showing 5 added fields, and a filter on an added number
field, at the benchmark's scale (``bench/run.py --added``).

Five fields are added to the plan lines (shown in the list: two whole numbers, a decimal,
a yes/no and a text) and every line of the bench data gets values (one UPDATE, past the
ORM: the values fit their kinds by construction). The pages are asked in-process as the
budgets' are (3 warm-ups, then N requests): the coordinator's events list, 100 a page, and
the same list filtered on «Гостей» (a whole number) by a selective «equals» and a «greater
than», against the list budgets (≤ 8 statements, p95 ≤ 100 ms). On PostgreSQL the filter's
expression is explained with the field's expression index and without it (dropped in a
transaction rolled back), to show which plan the index buys.

    .venv/bin/python bench/run.py --database-url URL --added [--requests N]
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

from coop import added_fields
from coop import models as m
from coop.extensions import db

BUDGET_P95_MS, SQL_BUDGET = 100, 8
# key, label, kind: shown in the events list.
FIELDS = (
    ("bench_guests", "Гостей", "integer"),
    ("bench_hours", "Часов", "integer"),
    ("bench_share", "Доля бюджета", "decimal"),
    ("bench_online", "Онлайн", "boolean"),
    ("bench_note", "Заметка", "text"),
)
FILTERED = "bench_guests"  # values 0…499 (id % 500): «= 123» keeps 1 line in 500, «> 490» 9 in 500
VALUES_PG = (
    "UPDATE events SET extra = extra || jsonb_build_object("
    "'bench_guests', id % 500, 'bench_hours', id % 40, 'bench_share', round((id % 100) / 4.0, 2), "
    "'bench_online', id % 3 = 0, 'bench_note', 'заметка ' || id) WHERE NOT extra ? 'bench_guests'"
)
VALUES_SQLITE = (
    "UPDATE events SET extra = json_set(coalesce(extra, '{}'), '$.bench_guests', id % 500, "
    "'$.bench_hours', id % 40, '$.bench_share', round((id % 100) / 4.0, 2), "
    "'$.bench_online', json(CASE WHEN id % 3 = 0 THEN 'true' ELSE 'false' END), "
    "'$.bench_note', 'заметка ' || id) WHERE json_extract(extra, '$.bench_guests') IS NULL"
)


@dataclass
class Measured:
    name: str
    url: str
    status: int
    median_ms: float
    p95_ms: float
    sql: int
    rows: int
    samples_ms: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        held = self.status == 200 and self.p95_ms <= BUDGET_P95_MS and 0 <= self.sql <= SQL_BUDGET
        return "PASS" if held else "MISS"


def prepare() -> dict[str, Any]:
    """The five fields (made once, through the ORM: on PostgreSQL the number fields get
    their expression indexes in the same flush) and every plan line's values."""
    known = set(
        db.session.execute(select(m.FieldDefinition.key).where(m.FieldDefinition.model == "event")).scalars()
    )
    for order, (key, label, kind) in enumerate(FIELDS, start=1):
        if key not in known:
            db.session.add(
                m.FieldDefinition(
                    model="event", key=key, label=label, kind=kind, in_list=True, sort_order=order
                )
            )
    db.session.commit()
    started = time.perf_counter()
    dialect = db.engine.dialect.name
    updated = db.session.execute(text(VALUES_PG if dialect == "postgresql" else VALUES_SQLITE)).rowcount
    db.session.commit()
    filled_s = time.perf_counter() - started
    if dialect == "postgresql":
        db.session.execute(text("ANALYZE events"))
        db.session.commit()
    lines = db.session.execute(select(func.count()).select_from(m.Event.__table__)).scalar_one()
    db.session.rollback()  # no lock held on events while explain() drops the index
    return {"lines": lines, "filled": updated, "filled_s": round(filled_s, 1)}


def show_in_list(shown: bool) -> None:
    """The five fields shown in the list or not (through the ORM: the definitions' state
    changes, and every process reads them again)."""
    keys = [key for key, _label, _kind in FIELDS]
    for definition in db.session.execute(
        select(m.FieldDefinition).where(m.FieldDefinition.model == "event", m.FieldDefinition.key.in_(keys))
    ).scalars():
        definition.in_list = shown
    db.session.commit()


BASELINE = "events list, the 5 fields not shown, 100 a page"


def pages() -> list[tuple[str, str, int | None]]:
    """(name, url, rows the page must show)."""
    equal = f"flt0_{added_filter_arg(0)}=123"
    greater = f"flt0_{added_filter_arg(1)}=490"
    return [
        ("events list showing 5 added fields, 100 a page", "/admin/event/?page_size=100", 100),
        ("filter «Гостей» = 123, 100 a page", f"/admin/event/?page_size=100&{equal}", 100),
        ("filter «Гостей» > 490, 100 a page", f"/admin/event/?page_size=100&{greater}", 100),
        ("filter «Гостей» = 123, page 3", f"/admin/event/?page_size=100&page=2&{equal}", 100),
    ]


def added_filter_arg(number: int) -> str:
    from coop.views.added_filters import ARG_PREFIX

    return f"{ARG_PREFIX}{FILTERED}_{number}"


def measure(client: Any, name: str, url: str, rows: int | None, requests: int, row_re: Any) -> Measured:
    for _ in range(3):
        answer = client.get(url)
    samples, counts = [], []
    for _ in range(requests if answer.status_code == 200 else 0):
        started = time.perf_counter()
        answer = client.get(url)
        answer.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        counts.append(int(answer.headers.get("X-SQL-Count", "-1")))
    html = answer.get_data(as_text=True)
    shown = len(set(row_re.findall(html)))
    samples_sorted = sorted(samples)
    high = samples_sorted[min(len(samples) - 1, int(len(samples) * 0.95))] if samples else 0.0
    return Measured(
        name,
        url,
        answer.status_code,
        round(statistics.median(samples), 1) if samples else 0.0,
        round(high, 1),
        max(counts) if counts else -1,
        shown,
        [round(s, 1) for s in samples],
    )


def explain(conn: Connection) -> dict[str, str]:
    """PostgreSQL: the plans of the filter's count and first page, with the field's index and
    without it (dropped in a transaction that is rolled back)."""
    if conn.dialect.name != "postgresql":
        return {}
    definition = m.FieldDefinition(model="event", key=FILTERED, kind="integer")
    value = added_fields.number_value(m.Event, definition)
    where = str(value.compile(dialect=conn.dialect))
    statements = {
        "count, = 123": f"SELECT count(*) FROM events WHERE events.deleted_at IS NULL AND {where} = 123",
        "first page, = 123": (
            f"SELECT events.id FROM events WHERE events.deleted_at IS NULL AND {where} = 123 "
            "ORDER BY events.id DESC LIMIT 100"
        ),
        "count, > 490": f"SELECT count(*) FROM events WHERE events.deleted_at IS NULL AND {where} > 490",
    }
    plans: dict[str, str] = {}
    index = added_fields.index_name("event", FILTERED)
    for label, statement in statements.items():
        conn.rollback()
        plans[f"{label} — with {index}"] = _plan(conn, statement)
        conn.rollback()
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
        plans[f"{label} — without it"] = _plan(conn, statement)
        conn.rollback()  # the index is back
    return plans


def _plan(conn: Connection, statement: str) -> str:
    rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}").scalars()
    return "\n".join(rows)


def report(
    about: dict[str, Any], prepared: dict[str, Any], results: list[Measured], plans: dict[str, str]
) -> Path:
    results_dir = Path(__file__).resolve().parent / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    base = about["database"]
    path = results_dir / f"{dt.date.today().isoformat()}-low14-added-fields-{base['dialect']}.md"
    mach = about["machine"]
    lines = [
        f"# Issue 14's Speed: 5 added fields in the events list, a filter on an added number "
        f"({base['dialect']} {base['version']})",
        "",
        f"- Data: `flask coop bench-data` — {base['rows'].get('schools')} schools, {prepared['lines']} plan "
        f"lines; 5 fields added to the plan lines, shown in the list; values written on {prepared['filled']} "
        f"lines in {prepared['filled_s']} s (one UPDATE).",
        f"- Machine: {mach['cpus']} CPUs ({mach['cpu']}), load average {mach['load_before']} before, "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} after (shared with other work).",
        f"- In-process (Flask's test client) as the coordinator: 3 warm-ups, then {about['requests']} "
        f"requests a page. Budget: p95 ≤ {BUDGET_P95_MS} ms, ≤ {SQL_BUDGET} statements.",
        "",
        "| page | median ms | p95 ms | statements | rows | verdict |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.median_ms:.1f} | {r.p95_ms:.1f} | {r.sql} | {r.rows} | **{r.verdict}** |"
        )
    if plans:
        lines += ["", "## EXPLAIN (ANALYZE, BUFFERS)", ""]
        for label, plan in plans.items():
            lines += [f"### {label}", "", "```", plan, "```", ""]
    path.write_text("\n".join(lines) + "\n")
    return path
