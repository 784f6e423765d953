"""Finding a school or partner by the name a person types («СОШ № 31»).

The full or short name matches case-insensitively, and a unique part of either
is enough; an ambiguous or unknown name is an error with a Russian message.
"""

from __future__ import annotations

import re
from typing import TypeVar

from flask_babel import gettext
from sqlalchemy import select

from . import search
from .extensions import db
from .models import Partner, School
from .search import fold_text

T = TypeVar("T", School, Partner)

_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "'": '"'})


class NameLookupError(LookupError):
    """An unknown or ambiguous name; str() is the message for the user."""


class UnknownName(NameLookupError):
    pass


class AmbiguousName(NameLookupError):
    pass


def normalise(name: str) -> str:
    text = fold_text(name).translate(_QUOTES)
    text = re.sub(r"№\s*", "№ ", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_id(value: object) -> int | None:
    """A row id from a URL or form, or None: only ASCII digits that fit the column."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


def find(model: type[T], name: str) -> T:
    """The one row of model whose full or short name matches name."""
    wanted = normalise(name)
    what = gettext("school") if model is School else gettext("partner organisation")
    if not wanted:
        raise UnknownName(gettext("No name given for the %(what)s.", what=what))
    rows = _candidates(model, name)
    exact = [r for r in rows if wanted in (normalise(r.name), normalise(r.short_name))]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [r for r in rows if wanted in normalise(r.name) or wanted in normalise(r.short_name)]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise UnknownName(gettext("No %(what)s named «%(name)s».", what=what, name=name))
    names = "; ".join(sorted(str(r) for r in partial)[:10])
    raise AmbiguousName(
        gettext("«%(name)s» matches several: %(names)s. Give a longer name.", name=name, names=names)
    )


def _candidates(model: type[T], name: str) -> list[T]:
    """The rows whose names hold every word of name (the search's index, coop/search.py);
    when none does (a part cut inside a word, «ОШ № 3»), every row, to be read as before."""
    condition = search.condition(model, name, head_only=True)
    if condition is not None:
        found = db.session.execute(select(model).where(condition)).scalars().all()
        if found:
            return list(found)
    return list(db.session.execute(select(model)).scalars().all())


def in_trash(model: type[T], name: str) -> bool:
    """Whether a row of model with exactly this full or short name lies in the trash."""
    wanted = normalise(name)
    stmt = select(model).where(model.deleted_at.is_not(None)).execution_options(include_deleted=True)
    rows = db.session.execute(stmt).scalars()
    return any(wanted in (normalise(r.name), normalise(r.short_name)) for r in rows)


def find_school(name: str) -> School:
    return find(School, name)


def find_partner(name: str) -> Partner:
    return find(Partner, name)
