"""Validators the forms share: numbers within what the columns hold, spans in order,
links within one school."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from ..timing import ACADEMIC_YEARS

# Integer fields within what the columns hold and what makes sense: PostgreSQL
# refuses a value beyond 32 bits with an error instead of a message.
YEAR = NumberRange(min=ACADEMIC_YEARS.start, max=ACADEMIC_YEARS.stop - 1)
COUNT = NumberRange(min=0, max=100_000)
REQUIRED_YEAR = {"validators": [InputRequired(), YEAR]}
OPTIONAL_YEAR = {"validators": [Optional(), YEAR]}
REQUIRED_COUNT = {"validators": [InputRequired(), COUNT]}


class NotBefore:
    """The end of a span (a year, a date) is not before its start, when both are given."""

    def __init__(self, start: str) -> None:
        self.start = start

    def __call__(self, form: Any, field: Any) -> None:
        start = form[self.start].data if self.start in form else None
        if start is not None and field.data is not None and field.data < start:
            raise ValidationError(
                gettext("Must not be earlier than «%(start)s».", start=form[self.start].label.text)
            )


class LinksOfThisSchool:
    """On the school field: the programme, agreement, event or seminar the record links
    belongs to the school chosen. (A school user's form has no school field, and its
    pickers offer only its own rows.) On the school field because a link left out of
    the post keeps its old value, and the link's own Optional() would drop an error."""

    def __init__(self, *links: str) -> None:
        self.links = links

    def __call__(self, form: Any, field: Any) -> None:
        for name in self.links:
            linked = form[name].data if name in form else None
            if field.data is not None and linked is not None and linked.school_id != field.data.id:
                raise ValidationError(
                    gettext("«%(link)s» belongs to another school.", link=form[name].label.text)
                )
