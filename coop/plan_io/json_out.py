"""A network plan as plain JSON data: the stable contract for other programs.

Also home of the Russian state labels and text cleaning the other writers
share, because documents are written without a Flask app (no gettext there).
"""

from __future__ import annotations

import re
from typing import Any

from .plan import Plan, PlanEvent, PlanPartner

# Russian labels for models.EVENT_STATES and models.EXECUTION_STATUSES codes.
STATE_LABELS: dict[str, str] = {
    "draft": "Черновик",
    "submitted": "На согласовании",
    "approved": "Согласовано",
    "held": "Проведено",
    "cancelled": "Отменено",
}
EXECUTION_LABELS: dict[str, str] = {
    "planned": "Запланировано",
    "held": "Проведено",
    "not_held": "Не проведено",
    "cancelled": "Отменено",
}

# Control characters other than tab, LF and CR: text pasted from Word carries
# \x0b (soft line break) and \x07, which XML and iCalendar do not allow.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """`text` without control characters; Word's soft line break becomes a newline."""
    return _CONTROL_RE.sub("", text.replace("\x0b", "\n"))


def state_label(code: str) -> str:
    return STATE_LABELS.get(code, code)


def execution_label(code: str | None) -> str:
    return EXECUTION_LABELS.get(code, code) if code else ""


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-serialisable data; keys are part of the public contract."""
    return {
        "school": {"id": plan.school_id, "name": plan.school_name, "short_name": plan.school_short_name},
        "year": plan.year,
        "year_label": plan.year_label,
        "programme": plan.programme_title,
        "events": [_event(partner, event) for partner in plan.partners for event in partner.events],
    }


def _event(partner: PlanPartner, event: PlanEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "partner_id": partner.id,
        "partner": partner.name,
        "partner_short_name": partner.short_name,
        "section": event.section,
        "number": event.number,
        "title": event.title,
        "timing_text": event.timing_text,
        "timing_recognized": event.timing_recognized,
        "months": list(event.months),
        "all_year": event.all_year,
        "start": event.start.isoformat() if event.start else None,
        "end": event.end.isoformat() if event.end else None,
        "first_year": event.first_year,
        "last_year": event.last_year,
        "audience": event.audience,
        "grades": event.grades,
        "responsible": list(event.responsible),
        "kind": event.kind,
        "level": event.level,
        "fgos_results": list(event.fgos_results),
        "state": event.state,
        "state_label": state_label(event.state),
        "execution": event.execution,
        "execution_label": execution_label(event.execution),
    }
