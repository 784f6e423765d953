"""How long importing a 500-event network plan takes: read, preview, write; then again.

    .venv/bin/python bench/import_speed.py [--events 500] [--format docx|xlsx|csv]

Builds a Word (or Excel, CSV) plan of 10 partners with sections and cells of
several paragraphs, imports it into a new school of a fresh database (SQLite in a
temporary folder, or DATABASE_URL), and prints the time of each step. The target
is under 2 seconds for the whole first import. The CPU time is printed too: on a
busy machine the wall time says more about the neighbours than about the import.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from docx import Document
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop import create_app
from coop import models as m
from coop.extensions import db
from coop.plan_io import importer
from coop.seed.demo import load_demo

HEADER = ("№ п/п", "Наименование мероприятия", "Сроки", "Ответственные")
TIMINGS = (
    "сентябрь",
    "октябрь,\n\nмарт",
    "ноябрь - апрель",
    "в течение года",
    "2019-2023гг.",
    "по согласованию",
)
RESPONSIBLE = (
    "Заместитель директора по УВР",
    "Ответственный за профориентацию, педагог - психолог",
    "Руководитель ШМО \n\nучителей математики",
    "Классные руководители, учителя-предметники",
)
PARTNERS = 10


def plan_rows(events: int) -> list[tuple[str, list[str | tuple[str, str, str, str]]]]:
    """(partner name, rows) with a section heading every 25 events."""
    per_partner = events // PARTNERS
    plan = []
    for p in range(PARTNERS):
        rows: list[str | tuple[str, str, str, str]] = []
        for n in range(per_partner):
            if n % 25 == 0:
                rows.append("учителя-предметники" if (n // 25) % 2 else "учащиеся")
            rows.append(
                (
                    f"{n % 25 + 1}.",
                    f"Мероприятие {p + 1}-{n + 1}: конкурс для учащихся {n % 11 + 1}-х классов",
                    TIMINGS[n % len(TIMINGS)],
                    RESPONSIBLE[n % len(RESPONSIBLE)],
                )
            )
        plan.append((f"Муниципальное бюджетное учреждение «Партнёр № {p + 1}»", rows))
    return plan


def as_docx(plan: list) -> bytes:
    doc = Document()
    doc.add_paragraph("Содержание программы составляет сетевой план.")
    for name, rows in plan:
        doc.add_paragraph(name)
        table = doc.add_table(rows=1, cols=4)
        for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            if isinstance(row, str):
                cells[0].merge(cells[3]).text = row
                continue
            for cell, text in zip(cells, row, strict=True):
                first, *rest = text.split("\n")
                cell.paragraphs[0].text = first
                for line in rest:
                    cell.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def as_xlsx(plan: list) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["Организация-партнёр", *HEADER, "Раздел"])
    for name, rows in plan:
        section = ""
        for row in rows:
            if isinstance(row, str):
                section = row
            else:
                ws.append([name, *row, section])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def as_csv(plan: list) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Организация-партнёр", *HEADER, "Раздел"])
    for name, rows in plan:
        section = ""
        for row in rows:
            if isinstance(row, str):
                section = row
            else:
                writer.writerow([name, *row, section])
    return out.getvalue().encode("utf-8-sig")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--format", choices=("docx", "xlsx", "csv"), default="docx")
    args = parser.parse_args()
    data = {"docx": as_docx, "xlsx": as_xlsx, "csv": as_csv}[args.format](plan_rows(args.events))

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp})
        with app.app_context():
            load_demo()
            school = m.School(name=f"Школа для замера {time.time_ns()}", short_name=f"Замер {time.time_ns()}")
            db.session.add(school)
            db.session.flush()
            db.session.add(
                m.Programme(school_id=school.id, title="Программа", first_year=2019, last_year=2023)
            )
            db.session.commit()
            print(f"{args.format}, {args.events} events, {len(data) / 1024:.0f} KiB")
            for attempt in ("first import", "same file again"):
                started, cpu = time.perf_counter(), time.process_time()
                plan = importer.read_plan(data)
                read = time.perf_counter()
                preview = importer.prepare(plan, school, 2019)
                prepared = time.perf_counter()
                result = importer.apply(preview)
                done = time.perf_counter()
                print(
                    f"{attempt}: {done - started:.2f} s, CPU {time.process_time() - cpu:.2f} s "
                    f"(read {read - started:.2f} s, preview {prepared - read:.2f} s, "
                    f"write {done - prepared:.2f} s) — {result}"
                )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
