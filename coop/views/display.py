"""How the admin views show and read dates, moments, academic years and yes/no.

Flask-Admin shows a date as 2019-11-21, a moment with microseconds in UTC, a year
as a bare number and a yes/no as "true"; its forms and filters read ISO dates
only. The secured base (base.py) puts these in their place for every view:
дд.мм.гггг, дд.мм.гггг чч:мм in the site's time zone, «2019/2020», да/нет
(coop/formats.py), and forms and filters that read what they show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_admin.contrib.sqla import filters as sqla
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import DatePickerWidget, Select2Field
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from markupsafe import Markup
from wtforms import fields
from wtforms.validators import Optional

from .. import formats
from ..extensions import db
from ..timing import academic_year_of
from .row_fields import ListOrLookupField, RowSelectField, RowSelectMultipleField

# Flask-Admin's own filter links say «2019-11-21 to 2019-12-01»; both are still read.
RANGE_SEPARATOR = " — "
_DATE_FORMATS = (formats.DATE, "%Y-%m-%d")
_MOMENT_FORMATS = (formats.MOMENT, "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _moment(view: Any, value: dt.datetime, name: str) -> str:
    return formats.moment(value)


def _date(view: Any, value: dt.date, name: str) -> str:
    return formats.date(value)


def _yes_no(view: Any, value: bool, name: str) -> str:
    return formats.yes_no(value)


def _list(view: Any, values: Any, name: str) -> str:
    return ", ".join(str(value) for value in values)


# A moment is a date too: moments first (Flask-Admin takes the first type that matches).
TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    dt.datetime: _moment,
    dt.date: _date,
    bool: _yes_no,
}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, dt.datetime: _moment, dt.date: _date, bool: _yes_no}
EXPORT_FORMATTERS = {
    **typefmt.EXPORT_FORMATTERS,
    dt.datetime: _moment,
    dt.date: _date,
    bool: _yes_no,
    list: _list,
}


def read_date(text: str) -> dt.date:
    """A date as typed or picked: 21.11.2019 (or 2019-11-21, as older links have it)."""
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def read_moment(text: str) -> dt.datetime:
    """A moment as typed or picked, in the site's time zone, as the database keeps it (UTC)."""
    for pattern in _MOMENT_FORMATS:
        try:
            return formats.to_utc(dt.datetime.strptime(text.strip(), pattern))
        except ValueError:
            continue
    raise ValueError(text)


def _split(text: str) -> list[str]:
    for separator in (RANGE_SEPARATOR, " to "):
        if separator in text:
            return text.split(separator)
    return [text]


def date_range(first: dt.date, last: dt.date) -> str:
    """A between-filter's value, as the filter writes it: «01.09.2019 — 31.08.2020»."""
    return f"{formats.date(first)}{RANGE_SEPARATOR}{formats.date(last)}"


class _ReadsDate:
    def clean(self, value: str) -> dt.date:
        return read_date(value)


class _ReadsMoment:
    def clean(self, value: str) -> dt.datetime:
        return read_moment(value)


class _ReadsRange:
    read: Any = staticmethod(read_date)

    def clean(self, value: str) -> list[Any]:
        return [self.read(part) for part in _split(value)]

    def validate(self, value: str) -> bool:
        try:
            parts = self.clean(value)
        except ValueError:
            return False
        return len(parts) == 2 and parts[0] <= parts[1]


class DateEqualFilter(_ReadsDate, sqla.DateEqualFilter):
    pass


class DateNotEqualFilter(_ReadsDate, sqla.DateNotEqualFilter):
    pass


class DateGreaterFilter(_ReadsDate, sqla.DateGreaterFilter):
    pass


class DateSmallerFilter(_ReadsDate, sqla.DateSmallerFilter):
    pass


class DateBetweenFilter(_ReadsRange, sqla.DateBetweenFilter):
    pass


class DateNotBetweenFilter(_ReadsRange, sqla.DateNotBetweenFilter):
    pass


class MomentEqualFilter(_ReadsMoment, sqla.DateTimeEqualFilter):
    pass


class MomentNotEqualFilter(_ReadsMoment, sqla.DateTimeNotEqualFilter):
    pass


class MomentGreaterFilter(_ReadsMoment, sqla.DateTimeGreaterFilter):
    pass


class MomentSmallerFilter(_ReadsMoment, sqla.DateTimeSmallerFilter):
    pass


class MomentBetweenFilter(_ReadsRange, sqla.DateTimeBetweenFilter):
    read = staticmethod(read_moment)


class MomentNotBetweenFilter(_ReadsRange, sqla.DateTimeNotBetweenFilter):
    read = staticmethod(read_moment)


class FilterConverter(sqla.FilterConverter):
    """Flask-Admin's filters, with dates and moments read as they are shown."""

    date_filters = (
        DateEqualFilter,
        DateNotEqualFilter,
        DateGreaterFilter,
        DateSmallerFilter,
        DateBetweenFilter,
        DateNotBetweenFilter,
        sqla.FilterEmpty,
    )
    datetime_filters = (
        MomentEqualFilter,
        MomentNotEqualFilter,
        MomentGreaterFilter,
        MomentSmallerFilter,
        MomentBetweenFilter,
        MomentNotBetweenFilter,
        sqla.FilterEmpty,
    )


class DatePicker(DatePickerWidget):
    """Flask-Admin's date picker, writing дд.мм.гггг (localised by coop/static/admin-locale.js)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("data-date-format", formats.DATE_PICKER)
        return super().__call__(field, **kwargs)


class ModelConverter(AdminModelConverter):
    """Flask-Admin's form fields, with a date typed and shown as дд.мм.гггг, and relation
    selects whose options are (id, label) rows of models that say their label in SQL
    (row_fields.py), not ORM objects."""

    def _model_select_field(self, prop: Any, multiple: Any, remote_model: Any, **kwargs: Any) -> Any:
        ajax = getattr(self.view, "_form_ajax_refs", {}).get(prop.key)
        if ajax is not None and getattr(ajax, "list_up_to", None) and not multiple:
            kwargs["query_factory"] = lambda: db.session.query(remote_model)
            return ListOrLookupField(model=remote_model, loader=ajax, **kwargs)
        if ajax or "query_factory" in kwargs or not hasattr(remote_model, "sql_label"):
            return super()._model_select_field(prop, multiple, remote_model, **kwargs)
        kwargs["query_factory"] = lambda: db.session.query(remote_model)
        field = RowSelectMultipleField if multiple else RowSelectField
        return field(model=remote_model, **kwargs)

    @converts("Date")
    def convert_date(self, field_args: dict[str, Any], **extra: Any) -> fields.DateField:
        field_args.setdefault("widget", DatePicker())
        field_args.setdefault("format", list(_DATE_FORMATS))
        return fields.DateField(**field_args)


class AcademicYearField(Select2Field):
    """An academic year picked by its label («2019/2020»), kept as its first calendar year."""

    def __init__(self, label: Any = None, validators: list[Any] | None = None, **kwargs: Any) -> None:
        optional = any(isinstance(validator, Optional) for validator in validators or ())
        kwargs.pop("coerce", None)
        if not optional and kwargs.get("default") is None:
            # A required year starts on the present one, not on the list's first (2000/2001).
            kwargs["default"] = lambda: academic_year_of(dt.date.today())
        super().__init__(
            label,
            validators,
            coerce=int,
            choices=formats.academic_year_choices(),
            allow_blank=optional,
            blank_text="—",
            **kwargs,
        )

    def process_formdata(self, valuelist: Any) -> None:
        if valuelist and valuelist[0] in ("__None", ""):
            # The blank choice is no input: Optional() ends the checks, InputRequired() fails.
            self.raw_data = valuelist = list[str]()
        super().process_formdata(valuelist)
