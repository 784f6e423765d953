"""The named figures a data request's question may be prefilled from (DataRequestQuestion.
prefill): Coop's own data of a school for an academic year, as the dashboard counts it.

Each figure reads coop.figures' SchoolFigures (coop.figures.FIGURES: the dashboard's
table, read from the figures coop.summary keeps), so that a prefilled answer says what the
dashboard says; the partners by kind and sphere, which the dashboard does not show, count
the partners of the agreements of the year (coop.figures.agreements_in_year) as its
«partners with agreements» does. `computed()` gives the figures of many schools in two
statements whatever their number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import distinct, func, select

from . import figures, labels
from . import models as m
from .extensions import db
from .figures import SchoolFigures


@dataclass
class Extra:
    """What a school's figures need beyond SchoolFigures: its partners by sphere and by kind."""

    spheres: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)  # kind's name ("" none) -> partners


@dataclass(frozen=True)
class Figure:
    read: Callable[[SchoolFigures, Extra], Any]
    kind: str = "integer"  # the kind of value (added_fields.KINDS) it fits


def _table(key: str) -> Callable[[SchoolFigures, Extra], Any]:
    """A figure of the dashboard's table (coop.figures.FIGURES)."""
    return lambda fig, extra: figures.FIGURES[key](fig)


def _coverage(fig: SchoolFigures, extra: Extra) -> float | None:
    """ФГОС results covered by held lines, % of those agreed; None when none is agreed."""
    return round(100 * fig.fgos_covered / fig.fgos_agreed, 1) if fig.fgos_agreed else None


def _sphere(sphere: str) -> Callable[[SchoolFigures, Extra], Any]:
    return lambda fig, extra: extra.spheres.get(sphere, 0)


def _by_kind(fig: SchoolFigures, extra: Extra) -> str:
    return "; ".join(f"{kind or '—'}: {count}" for kind, count in sorted(extra.kinds.items()))


FIGURES: dict[str, Figure] = {
    "lines": Figure(_table("lines")),
    "lines_held": Figure(_table("held")),
    "lines_percent_held": Figure(_table("percent_held"), "decimal"),
    "participants_students": Figure(_table("students")),
    "participants_teachers": Figure(_table("teachers")),
    "participants_parents": Figure(_table("parents")),
    "agreements": Figure(_table("agreements")),
    "agreements_active": Figure(_table("agreements_active")),
    "partners": Figure(_table("partners")),
    **{f"partners_{sphere}": Figure(_sphere(sphere)) for sphere in m.SPHERES},
    "partners_by_kind": Figure(_by_kind, "long_text"),
    "fgos_coverage": Figure(_coverage, "decimal"),
    **{f"seminars_{cycle}": Figure(_table(f"seminars_{cycle}")) for cycle in m.SEMINAR_CYCLES},
    "limitations": Figure(_table("limitations")),
    "limitations_addressed": Figure(_table("limitations_addressed")),
    "remarks_open": Figure(_table("remarks_open")),
}
# Their names are the choices of a question's prefill, labelled there (models.PREFILL_FIGURES).
assert list(FIGURES) == list(m.PREFILL_FIGURES)


def label(name: str | None) -> str:
    """The figure's name as a page shows it ("" for none or an unknown one)."""
    figure = m.PREFILL_FIGURES.get(name or "")
    return labels.text(figure) if figure is not None else ""


def _extras(year: int, school_ids: Sequence[int]) -> dict[int, Extra]:
    """The partners of each school's agreements of the year, by sphere and by kind: one
    statement."""
    agreement, partner, kind = m.Agreement, m.Partner, m.PartnerKind
    stmt = (
        select(agreement.school_id, partner.sphere, kind.name, func.count(distinct(partner.id)))
        .join(partner, partner.id == agreement.partner_id)
        .outerjoin(kind, kind.id == partner.kind_id)
        .where(figures.agreements_in_year(year), agreement.school_id.in_(school_ids))
        .group_by(agreement.school_id, partner.sphere, kind.name)
    )
    extras: dict[int, Extra] = {school_id: Extra() for school_id in school_ids}
    for school_id, sphere, kind_name, count in db.session.execute(stmt):
        extra = extras[school_id]
        extra.spheres[sphere] = extra.spheres.get(sphere, 0) + count
        extra.kinds[kind_name or ""] = extra.kinds.get(kind_name or "", 0) + count
    return extras


def computed(year: int, school_ids: Sequence[int], names: Sequence[str]) -> dict[int, dict[str, Any]]:
    """The named figures of each school for the academic year: school → name → value.
    Two statements for all the schools (their figures as kept, their partners); schools
    the asker may not see get none."""
    wanted = [name for name in dict.fromkeys(names) if name in FIGURES]
    if not wanted or not school_ids:
        return {}
    ids = list(school_ids)
    rows = {fig.school_id: fig for fig in figures.school_figures(year, ids)}
    needs_extra = any(name.startswith("partners_") for name in wanted)
    extras = _extras(year, ids) if needs_extra else {}
    return {
        school_id: {name: FIGURES[name].read(fig, extras.get(school_id, Extra())) for name in wanted}
        for school_id, fig in rows.items()
        if school_id is not None
    }
