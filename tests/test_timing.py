"""Tests for coop.timing: reading plan timings into academic-year months."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.timing import (
    ACADEMIC_MONTHS,
    MONTH_NAMES,
    Timing,
    academic_year_bounds,
    academic_year_label,
    academic_year_of,
    format_timing,
    month_date_in_year,
    months_from_mask,
    parse_timing,
)

ALL = ACADEMIC_MONTHS
D = datetime.date

# (text, months, other expected fields)
CASES: list[tuple[str, tuple[int, ...], dict[str, object]]] = [
    # Every timing of the real plan.
    ("сентябрь", (9,), {}),
    ("октябрь,\n\nмарт", (10, 3), {}),
    ("ноябрь - апрель", (11, 12, 1, 2, 3, 4), {}),
    ("ноябрь-декабрь", (11, 12), {}),
    ("ноябрь - май", (11, 12, 1, 2, 3, 4, 5), {}),
    ("в течение года", ALL, {"all_year": True}),
    ("В течение года", ALL, {"all_year": True}),
    ("2019-2023гг.", ALL, {"all_year": True, "first_year": 2019, "last_year": 2022}),
    ("апрель", (4,), {}),
    ("май", (5,), {}),
    ("январь", (1,), {}),
    ("февраль", (2,), {}),
    ("декабрь", (12,), {}),
    # Case forms and abbreviations.
    ("сентября", (9,), {}),
    ("в сентябре", (9,), {}),
    ("СЕНТЯБРЬ", (9,), {}),
    ("мая", (5,), {}),
    ("в мае", (5,), {}),
    ("в феврале", (2,), {}),
    ("в марте", (3,), {}),
    ("в августе", (8,), {}),
    ("сент.", (9,), {}),
    ("сен", (9,), {}),
    ("окт.", (10,), {}),
    ("нояб.", (11,), {}),
    ("дек.", (12,), {}),
    ("янв.", (1,), {}),
    ("февр.", (2,), {}),
    ("фев", (2,), {}),
    ("мар.", (3,), {}),
    ("апр.", (4,), {}),
    ("авг.", (8,), {}),
    ("сент.-окт.", (9, 10), {}),
    # Lists and ranges.
    ("октябрь, март", (10, 3), {}),
    ("октябрь и март", (10, 3), {}),
    ("октябрь; март", (10, 3), {}),
    ("октябрь\nмарт", (10, 3), {}),
    ("март, октябрь", (10, 3), {}),
    ("октябрь, октябрь", (10,), {}),
    ("ноябрь – апрель", (11, 12, 1, 2, 3, 4), {}),
    ("ноябрь — апрель", (11, 12, 1, 2, 3, 4), {}),
    ("ноябрь -\nапрель", (11, 12, 1, 2, 3, 4), {}),
    ("с ноября по апрель", (11, 12, 1, 2, 3, 4), {}),
    ("с октября до марта", (10, 11, 12, 1, 2, 3), {}),
    ("сентябрь - август", ALL, {}),
    ("сентябрь, ноябрь - декабрь, май", (9, 11, 12, 5), {}),
    # All year.
    ("в течение учебного года", ALL, {"all_year": True}),
    ("весь год", ALL, {"all_year": True}),
    ("ежемесячно", ALL, {"all_year": True}),
    ("Постоянно", ALL, {"all_year": True}),
    ("в течение всего периода", ALL, {"all_year": True}),
    # Half years and quarters.
    ("I полугодие", (9, 10, 11, 12), {}),
    ("1 полугодие", (9, 10, 11, 12), {}),
    ("II полугодие", (1, 2, 3, 4, 5), {}),
    ("во II полугодии", (1, 2, 3, 4, 5), {}),
    ("1 четверть", (9, 10), {}),
    ("I четверть", (9, 10), {}),
    ("1-я четверть", (9, 10), {}),
    ("2 четверть", (11, 12), {}),
    ("3 четверть", (1, 2, 3), {}),
    ("IV четверть", (4, 5), {}),
    ("в I четверти", (9, 10), {}),
    # Months with years.
    ("октябрь 2020", (10,), {"first_year": 2020, "last_year": 2020}),
    ("март 2021", (3,), {"first_year": 2020, "last_year": 2020}),
    ("март 2021 г.", (3,), {"first_year": 2020, "last_year": 2020}),
    ("декабрь 2020 - январь 2021", (12, 1), {"first_year": 2020, "last_year": 2020}),
    ("с сентября по декабрь 2020 г.", (9, 10, 11, 12), {"first_year": 2020}),
    ("май 2020 - октябрь 2020", (9, 10, 5, 6, 7, 8), {"last_year": 2020}),
    # Exact dates.
    ("12.10.2020", (10,), {"start": D(2020, 10, 12), "end": D(2020, 10, 12)}),
    ("12.10.20", (10,), {"start": D(2020, 10, 12), "first_year": 2020}),
    (
        "12.10.2020 - 15.11.2020",
        (10, 11),
        {"start": D(2020, 10, 12), "end": D(2020, 11, 15), "first_year": 2020},
    ),
    (
        "с 01.11.2020 по 15.12.2020",
        (11, 12),
        {"start": D(2020, 11, 1), "end": D(2020, 12, 15), "last_year": 2020},
    ),
    (
        "15.06.2020 – 10.10.2020",
        (9, 10, 6, 7, 8),
        {"first_year": 2019, "last_year": 2020, "end": D(2020, 10, 10)},
    ),
    ("12.10.2020, 15.03.2021", (10, 3), {"start": None, "first_year": 2020}),
    # Year spans.
    ("2019–2023 гг.", ALL, {"first_year": 2019, "last_year": 2022, "all_year": True}),
    (
        "2019 - 2023 годы",
        ALL,
        {"first_year": 2019, "last_year": 2022, "all_year": True},
    ),
    (
        "2020-2021 уч. год",
        ALL,
        {"first_year": 2020, "last_year": 2020, "all_year": True},
    ),
    (
        "2020/2021 учебный год",
        ALL,
        {"first_year": 2020, "last_year": 2020, "all_year": True},
    ),
]

UNRECOGNIZED = [
    "по согласованию",
    "по плану ВУЗа",
    "",
    "   ",
    "13.13.2020",
    "31.02.2021",
    "май - сентябрь",
    "март – октябрь",
    "15.11.2020 - 12.10.2020",
    "с ноября",
    "октябрь, по согласованию",
    "5 четверть",
    "2020",
    "2023-2019 гг.",
    "2019/2023",
    "2019-2023 уч. год",
    "12 октября",
    "октябрь - 15.11.2020",
]


@pytest.mark.parametrize(("text", "months", "fields"), CASES)
def test_parse_timing(text: str, months: tuple[int, ...], fields: dict) -> None:
    timing = parse_timing(text)
    assert timing.recognized
    assert timing.text == text.strip()
    assert timing.months == months
    for name, value in fields.items():
        assert getattr(timing, name) == value, name
    if "all_year" not in fields:
        assert not timing.all_year


@pytest.mark.parametrize("text", UNRECOGNIZED)
def test_unrecognized(text: str) -> None:
    assert parse_timing(text) == Timing(text.strip(), (), recognized=False)


def test_text_is_kept_stripped() -> None:
    assert parse_timing("  Ноябрь - апрель \n").text == "Ноябрь - апрель"
    assert parse_timing(" по согласованию ").text == "по согласованию"


def test_no_years_without_years() -> None:
    timing = parse_timing("ноябрь - апрель")
    assert (timing.first_year, timing.last_year, timing.start, timing.end) == (
        None,
        None,
        None,
        None,
    )


def test_format_timing() -> None:
    assert format_timing([11, 12, 1, 2, 3, 4]) == "ноябрь – апрель"
    assert format_timing([3, 10]) == "октябрь, март"
    assert format_timing([9, 10, 12]) == "сентябрь – октябрь, декабрь"
    assert format_timing(ALL) == "в течение года"
    assert format_timing([], all_year=True) == "в течение года"
    assert format_timing([]) == ""
    with pytest.raises(ValueError, match=r"^not months: \[13\]$"):  # a programming error, said plainly
        format_timing([13])


def test_mask() -> None:
    timing = parse_timing("октябрь, март")
    assert timing.as_mask() == (1 << 9) | (1 << 2)
    assert months_from_mask(timing.as_mask()) == (10, 3)
    assert months_from_mask(0) == ()
    assert months_from_mask(0xFFF) == ALL


def test_academic_year_helpers() -> None:
    assert MONTH_NAMES[1] == "январь"
    assert MONTH_NAMES[5] == "май"
    assert len(MONTH_NAMES) == 12
    assert academic_year_of(D(2019, 9, 1)) == 2019
    assert academic_year_of(D(2020, 8, 31)) == 2019
    assert academic_year_bounds(2019) == (D(2019, 9, 1), D(2020, 8, 31))
    assert academic_year_label(2019) == "2019/2020"
    assert month_date_in_year(9, 2019) == D(2019, 9, 1)
    assert month_date_in_year(1, 2019) == D(2020, 1, 1)
    with pytest.raises(ValueError, match=r"^not a month: 0$"):
        month_date_in_year(0, 2019)


month_sets = st.sets(st.sampled_from(ALL), min_size=1)


@given(month_sets)
def test_format_round_trip(months: set[int]) -> None:
    expected = tuple(m for m in ACADEMIC_MONTHS if m in months)
    assert parse_timing(format_timing(months)).months == expected


@given(month_sets)
def test_mask_round_trip(months: set[int]) -> None:
    timing = Timing("", tuple(m for m in ACADEMIC_MONTHS if m in months))
    assert months_from_mask(timing.as_mask()) == timing.months


# Text made of the parser's own vocabulary reaches deeper than random text.
plan_words = st.lists(
    st.sampled_from(
        [
            "ноябрь",
            "мая",
            "сент.",
            "I",
            "II",
            "1",
            "четверть",
            "полугодие",
            "с",
            "по",
            "в",
            "-",
            "–",
            ",",
            "и",
            "\n",
            " ",
            "2020",
            "г.",
            "12.10.2020",
            "31.02.20",
            "2019-2023гг.",
            "в течение года",
            "/",
            "уч. год",
            "x",
        ]
    )
).map(" ".join)


@given(st.one_of(st.text(), plan_words))
def test_parse_never_raises(text: str) -> None:
    timing = parse_timing(text)
    assert timing.text == text.strip()
    # Academic order, no duplicates, nothing when unrecognized.
    assert timing.months == tuple(m for m in ACADEMIC_MONTHS if m in timing.months)
    assert timing.recognized or timing.months == ()
    assert timing.recognized == bool(timing.months)
    if timing.all_year:
        assert timing.months == ALL


@given(st.sampled_from(ALL), st.integers(min_value=1, max_value=9998))
def test_month_date_in_year(month: int, year: int) -> None:
    d = month_date_in_year(month, year)
    assert (d.month, d.day) == (month, 1)
    assert academic_year_of(d) == year
    first, last = academic_year_bounds(year)
    assert first <= d <= last
