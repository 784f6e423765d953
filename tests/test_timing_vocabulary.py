"""coop.timing against a vocabulary written out here by hand, not read from the module:
every case form and abbreviation of every month, months with a year on both sides of the
academic year's edge (1 September), and ranges that must not be read."""

from __future__ import annotations

import datetime

import pytest

from coop.timing import parse_timing

D = datetime.date

# Every form a plan writes a month in: nominative, genitive, dative, prepositional,
# instrumental, and the abbreviations (with and without the dot).
MONTH_FORMS: dict[int, tuple[str, ...]] = {
    1: ("январь", "января", "январю", "январе", "январем", "янв", "янв."),
    2: ("февраль", "февраля", "февралю", "феврале", "февралем", "фев", "фев.", "февр", "февр."),
    3: ("март", "марта", "марту", "марте", "мартом", "мар", "мар."),
    4: ("апрель", "апреля", "апрелю", "апреле", "апрелем", "апр", "апр."),
    5: ("май", "мая", "маю", "мае", "маем"),
    6: ("июнь", "июня", "июню", "июне", "июнем", "июн", "июн."),
    7: ("июль", "июля", "июлю", "июле", "июлем", "июл", "июл."),
    8: ("август", "августа", "августу", "августе", "августом", "авг", "авг."),
    9: ("сентябрь", "сентября", "сентябрю", "сентябре", "сентябрем", "сен", "сен.", "сент", "сент."),
    10: ("октябрь", "октября", "октябрю", "октябре", "октябрем", "окт", "окт."),
    11: ("ноябрь", "ноября", "ноябрю", "ноябре", "ноябрем", "ноя", "ноя.", "нояб", "нояб."),
    12: ("декабрь", "декабря", "декабрю", "декабре", "декабрем", "дек", "дек."),
}
FORMS = [(form, month) for month, forms in MONTH_FORMS.items() for form in forms]


@pytest.mark.parametrize(("form", "month"), FORMS)
def test_every_form_of_every_month_is_read(form: str, month: int) -> None:
    for text in (form, form.upper(), form.capitalize(), f"в {form}"):
        timing = parse_timing(text)
        assert (timing.recognized, timing.months, timing.all_year) == (True, (month,), False), text
        assert (timing.first_year, timing.last_year) == (None, None), text


@pytest.mark.parametrize("form", ["ёлка", "ма", "сентяб", "ию", "мая2", "июнь-", "авгус"])
def test_a_word_that_is_no_month_is_not_read(form: str) -> None:
    assert not parse_timing(form).recognized


# (text, month, academic year): September opens the academic year, August closes it.
EDGE = [
    ("сентябрь 2020", 9, 2020),
    ("сентября 2020 г.", 9, 2020),
    ("август 2020", 8, 2019),
    ("августа 2021", 8, 2020),
    ("январь 2021", 1, 2020),
    ("декабрь 2020", 12, 2020),
    ("май 2020", 5, 2019),
    ("июнь 2020", 6, 2019),
    ("октябрь 2019", 10, 2019),
]


@pytest.mark.parametrize(("text", "month", "year"), EDGE)
def test_a_month_with_its_year_falls_in_the_academic_year_it_opens_or_closes(
    text: str, month: int, year: int
) -> None:
    timing = parse_timing(text)
    assert (timing.recognized, timing.months, timing.first_year, timing.last_year) == (
        True,
        (month,),
        year,
        year,
    )


def test_a_range_over_the_edge_of_the_academic_year() -> None:
    within = parse_timing("ноябрь 2020 - апрель 2021")
    assert (within.months, within.first_year, within.last_year) == ((11, 12, 1, 2, 3, 4), 2020, 2020)
    whole = parse_timing("сентябрь 2020 - август 2021")
    assert (whole.months, whole.first_year, whole.last_year) == (
        (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8),
        2020,
        2020,
    )
    across = parse_timing("август 2020 - сентябрь 2020")  # the last month of one year, the first of the next
    assert (across.months, across.first_year, across.last_year) == ((9, 8), 2019, 2020)
    dates = parse_timing("с 01.09.2020 по 01.09.2021")
    assert (dates.first_year, dates.last_year, dates.start, dates.end) == (
        2020,
        2021,
        D(2020, 9, 1),
        D(2021, 9, 1),
    )


@pytest.mark.parametrize(
    "text",
    [
        "с 15.11.2020 по 01.11.2020",  # backwards inside one month
        "15.11.2020 - 01.11.2020",
        "с 01.12.2020 по 30.11.2020",  # backwards across months
        "апрель - ноябрь",  # backwards in the academic year
        "май - сентябрь",
        "апрель 2021 - ноябрь 2020",
        "2023-2019 гг.",
        "31.02.2020",  # no such day
        "01.13.2020",  # no such month
        "с 01.11.2020 по",  # a range with no end
        "- апрель",  # nor a start
    ],
)
def test_a_malformed_range_is_not_read(text: str) -> None:
    timing = parse_timing(text)
    assert (timing.recognized, timing.months, timing.start, timing.end) == (False, (), None, None)


def test_a_range_of_dates_inside_one_month_keeps_its_days() -> None:
    timing = parse_timing("с 01.11.2020 по 15.11.2020")
    assert (timing.months, timing.start, timing.end, timing.first_year) == (
        (11,),
        D(2020, 11, 1),
        D(2020, 11, 15),
        2020,
    )


def test_spans_and_years_that_a_careless_reading_would_keep() -> None:
    """The last month takes the first one's year; several spans keep no dates; a span of
    years needs two different years."""
    open_end = parse_timing("ноябрь 2020 - апрель")
    assert (open_end.months, open_end.first_year, open_end.last_year) == ((11, 12, 1, 2, 3, 4), 2020, 2020)
    several = parse_timing("с 01.11.2020 по 15.11.2020, март")
    assert (several.months, several.start, several.end, several.first_year) == ((11, 3), None, None, 2020)
    for text in ("2020-2020 гг.", "2020/2020"):
        assert not parse_timing(text).recognized, text


@pytest.mark.parametrize(
    ("text", "months", "first_year"),
    [
        ("\u0406 полугодие", (9, 10, 11, 12), None),  # a Roman numeral typed with the Ukrainian «І»
        ("\u0406\u0406 четверть", (11, 12), None),
        ("ноябрь,", (11,), None),  # a trailing separator
        ("ноябрь;", (11,), None),
        ("ноябрь - апрель.", (11, 12, 1, 2, 3, 4), None),
        ("ноябрь 2020 г., март 2021 г.", (11, 3), 2020),
        ("IV чётверть", (4, 5), None),  # ё read as е
        ("12.10.2020 г.", (10,), 2020),  # a date with the year's «г.»
        ("в течение года.", (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8), None),  # the whole year, a stop after
        ("2019-2023 гг.;", (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8), 2019),
    ],
)
def test_spellings_a_plan_is_typed_in(text: str, months: tuple[int, ...], first_year: int | None) -> None:
    timing = parse_timing(text)
    assert (timing.recognized, timing.months, timing.first_year) == (True, months, first_year)


@pytest.mark.parametrize("text", ["ноябрь март", ";ноябрь", ".в течение года"])
def test_months_need_a_separator_between_them(text: str) -> None:
    assert not parse_timing(text).recognized
