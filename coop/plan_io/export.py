"""One entry point for writing a plan in any export format."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .docx_out import plan_to_docx
from .ics_out import plan_to_ics
from .json_out import plan_to_json
from .plan import Plan
from .xlsx_out import plan_to_xlsx


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    mimetype: str
    render: Callable[[Plan], bytes]


def _json_bytes(plan: Plan) -> bytes:
    return json.dumps(plan_to_json(plan), ensure_ascii=False, indent=2).encode("utf-8")


def _ics_bytes(plan: Plan) -> bytes:
    return plan_to_ics([plan], calendar_name=f"{plan.school_short_name} — сетевой план {plan.year_label}")


FORMATS: dict[str, ExportFormat] = {
    "docx": ExportFormat(
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", plan_to_docx
    ),
    "xlsx": ExportFormat(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", plan_to_xlsx
    ),
    "json": ExportFormat("json", "application/json", _json_bytes),
    "ics": ExportFormat("ics", "text/calendar", _ics_bytes),
}


def export_filename(plan: Plan, fmt: str) -> str:
    return f"plan-{plan.school_id}-{plan.year}-{plan.year + 1}.{FORMATS[fmt].extension}"
