"""A network plan as plain JSON data: the stable contract for other programs.

Also home of the text cleaning and the state labels the other writers share.
The labels are the models' own (coop/labels.py): Russian when a document is
written outside the app, as the site is by default.
"""

from __future__ import annotations

from typing import Any

from .. import labels
from .. import models as m
from .plan import Plan, PlanEvent, PlanPartner


# Control characters other than tab, LF and CR: text pasted from Word carries
# \x0b (soft line break) and \x07, which XML and iCalendar do not allow.
def state_label(code: str) -> str:
    """A plan line's state (models.EVENT_STATES) by its label."""
    return labels.choice_label(m.Event, "state", code)


def execution_label(code: str | None) -> str:
    """A year's execution status (models.EXECUTION_STATUSES) by its label; "" when none is recorded."""
    return labels.choice_label(m.EventExecution, "status", code) if code else ""


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
        # The fields added in the site (switched on, the municipality's and the school's own).
        "extra": dict(event.extra),
    }
