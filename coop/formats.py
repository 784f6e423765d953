"""How dates, moments, academic years and months read on the site.

Dates as дд.мм.гггг, moments as дд.мм.гггг чч:мм in the site's time zone (the
database keeps them in UTC without a zone), academic years as «2019/2020», month
names in the interface's language. The admin views (lists, details, exports), the
history and the templates all format through here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_day_names, get_month_names
from flask import Flask, current_app, has_app_context
from flask.json.provider import DefaultJSONProvider
from flask_babel import get_locale, gettext

from .config import DEFAULT_TIMEZONE
from .timing import ACADEMIC_YEARS, MONTH_NAMES, academic_year_label

DATE = "%d.%m.%Y"
MOMENT = "%d.%m.%Y %H:%M"
# The same formats as the date picker writes them (moment.js tokens).
DATE_PICKER = "DD.MM.YYYY"
MOMENT_PICKER = "DD.MM.YYYY HH:mm"


def timezone() -> ZoneInfo:
    """The site's time zone (COOP_TIMEZONE)."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def local(moment: dt.datetime) -> dt.datetime:
    """A stored moment (naive: UTC) in the site's time zone, without the zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(timezone()).replace(tzinfo=None)


def to_utc(moment: dt.datetime) -> dt.datetime:
    """A moment a person typed (the site's time zone) as the database keeps it."""
    return moment.replace(tzinfo=timezone()).astimezone(dt.UTC).replace(tzinfo=None)


def date(value: dt.date | None) -> str:
    """21.11.2019; a moment is read in the site's zone first; "" for none."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local(value)
    return value.strftime(DATE)


def moment(value: dt.datetime | None) -> str:
    """21.11.2019 14:05 in the site's time zone; "" for none."""
    return "" if value is None else local(value).strftime(MOMENT)


def academic_year(value: int | None) -> str:
    """2019 -> «2019/2020»; "" for none."""
    return "" if value is None else academic_year_label(value)


def academic_year_choices() -> list[tuple[int, str]]:
    """Every academic year Coop accepts, by its first calendar year, labelled «2019/2020»."""
    return [(year, academic_year_label(year)) for year in ACADEMIC_YEARS]


def _locale() -> Locale:
    found = get_locale() if has_app_context() else None
    return found or Locale.parse("ru")


def month_name(month: int) -> str:
    """«ноябрь» / «November»: the month as a calendar heading names it, in the interface's language."""
    locale = _locale()
    if locale.language == "ru":
        return MONTH_NAMES[month]  # the plan's own words (coop/timing.py reads them back)
    return str(get_month_names("wide", "stand-alone", locale)[month])


def yes_no(value: bool) -> str:
    return gettext("yes") if value else gettext("no")


def picker_locale() -> str:
    """What coop/static/admin-locale.js needs to speak the interface's language: the
    date picker's month and day names, its first weekday and buttons, the look-ups'
    messages; as JSON for a data attribute (coop/master.html: not code, the CSP runs none inline)."""
    locale = _locale()
    days = get_day_names("short", "stand-alone", locale)
    data: dict[str, Any] = {
        "language": locale.language,
        "months": [str(get_month_names("wide", "stand-alone", locale)[m]) for m in range(1, 13)],
        "monthsShort": [str(get_month_names("abbreviated", "stand-alone", locale)[m]) for m in range(1, 13)],
        # moment.js counts weekdays from Sunday, Babel from Monday.
        "weekdaysMin": [str(days[(d + 6) % 7]) for d in range(7)],
        "firstDay": (locale.first_week_day + 1) % 7,
        "dateFormat": DATE_PICKER,
        "momentFormat": MOMENT_PICKER,
        "apply": gettext("Apply"),
        "cancel": gettext("Cancel"),
        "from": gettext("From"),
        "to": gettext("To"),
        "noMatches": gettext("Nothing found"),
        "searching": gettext("Searching…"),
        "loadMore": gettext("Loading more…"),
        "inputTooShort": gettext("Type %(count)s more characters", count="{n}"),
        "ajaxError": gettext("The list could not be loaded"),
    }
    return json.dumps(data, ensure_ascii=False)


def init_app(app: Flask) -> None:
    if isinstance(app.json, DefaultJSONProvider):
        # JSON in pages (a list's filter options: a thousand schools' names) and in answers as
        # UTF-8: a Cyrillic letter weighs 2 bytes, not a 6-byte \uXXXX escape. (In a page,
        # tojson still escapes < > & ' so that the data cannot leave its element.)
        app.json.ensure_ascii = False
    app.add_template_filter(date, "date")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(academic_year, "academic_year")
    app.add_template_global(picker_locale, "picker_locale")
    # <html lang="…"> of every page (coop/templates/admin/base.html, coop/standalone.html).
    app.context_processor(lambda: {"current_locale": _locale().language})
