"""Timing of events as written in a school's yearly network plan.

Turns free text such as «ноябрь - апрель», «I полугодие», «2019-2023гг.» or
«с 01.11.2020 по 15.12.2020» into months of the academic year (September to
August), keeping the text as written. Anything not understood is returned
unrecognized rather than guessed, so the UI can ask for the months by hand.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ACADEMIC_MONTHS: tuple[int, ...] = (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8)
# The academic years Coop accepts anywhere (forms, URLs, the CLI), by their first calendar year.
ACADEMIC_YEARS = range(2000, 2100)
# Position of a calendar month within the academic year (September = 0).
_POS: dict[int, int] = {m: i for i, m in enumerate(ACADEMIC_MONTHS)}

# Every case form of every month name, plus the abbreviations plans use.
_SOFT = ("ь", "я", "е", "ю", "ем")
_HARD = ("", "а", "е", "у", "ом")
_MONTH_WORDS: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    1: ("январ", _SOFT, ("янв",)),
    2: ("феврал", _SOFT, ("февр", "фев")),
    3: ("март", _HARD, ("мар",)),
    4: ("апрел", _SOFT, ("апр",)),
    5: ("ма", ("й", "я", "е", "ю", "ем"), ()),
    6: ("июн", _SOFT, ("июн",)),
    7: ("июл", _SOFT, ("июл",)),
    8: ("август", _HARD, ("авг",)),
    9: ("сентябр", _SOFT, ("сент", "сен")),
    10: ("октябр", _SOFT, ("окт",)),
    11: ("ноябр", _SOFT, ("нояб", "ноя")),
    12: ("декабр", _SOFT, ("дек",)),
}
_MONTH_FORMS: dict[str, int] = {
    form: month
    for month, (stem, endings, abbrevs) in _MONTH_WORDS.items()
    for form in (*(stem + e for e in endings), *abbrevs)
}
# The first ending is the nominative: "январ" + "ь", "март" + "", "ма" + "й".
MONTH_NAMES: dict[int, str] = {m: w[0] + w[1][0] for m, w in _MONTH_WORDS.items()}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# (parts of the year, number) -> months; the second half year is the school
# term January–May, the summer is not part of it.
_PERIODS: dict[tuple[int, int], tuple[int, ...]] = {
    (2, 1): (9, 10, 11, 12),
    (2, 2): (1, 2, 3, 4, 5),
    (4, 1): (9, 10),
    (4, 2): (11, 12),
    (4, 3): (1, 2, 3),
    (4, 4): (4, 5),
}
_WORDS = {
    **dict.fromkeys(("в", "во"), "prep"),
    **dict.fromkeys(("с", "со"), "from"),
    **dict.fromkeys(("по", "до"), "dash"),
    **dict.fromkeys(("г", "гг", "год", "года", "годы"), "ysuf"),
    "и": "sep",
}

_ALL_YEAR_RE = re.compile(
    r"в течение (?:всего )?(?:учебного )?(?:года|периода)"
    r"|весь (?:учебный )?год|ежемесячно|постоянно|круглогодично"
)
# «2019-2023гг.», «2020/2021 учебный год», «2020-2021 уч. г.»
_YEAR_SPAN_RE = re.compile(
    r"(?:в (?:течение )?)?([0-9]{4}) ?([-/]) ?([0-9]{4}) ?"
    r"(?:гг|годы|года|год|г|(уч(?:ебный|ебного|\.)? ?(?:год|года|г)))?\.?"
)
_TOKEN_RE = re.compile(
    r"(?P<date>[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{4}|[0-9]{2}))(?![0-9])"
    r"|(?P<year>[0-9]{4})(?![0-9])"
    r"|(?P<num>[0-9]{1,2})(?:-?(?:ое|ая|ой|е|я|й))?(?![0-9а-я])"
    r"|(?P<word>[a-zа-я]+)\.?"
    r"|(?P<dash>-)|(?P<sep>[,;])|(?P<nl>\s*\n\s*)|(?P<space>\s+)|(?P<other>.)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Timing:
    """The months of an academic year an event takes place in."""

    text: str
    months: tuple[int, ...]
    all_year: bool = False
    first_year: int | None = None
    last_year: int | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    recognized: bool = True

    def as_mask(self) -> int:
        """Bit (m - 1) set for each month m."""
        return sum(1 << (m - 1) for m in self.months)


def months_from_mask(mask: int) -> tuple[int, ...]:
    """Months whose bit (m - 1) is set, in academic order."""
    return tuple(m for m in ACADEMIC_MONTHS if mask >> (m - 1) & 1)


def academic_year_of(d: datetime.date) -> int:
    """The academic year (by its first calendar year) containing `d`."""
    return d.year if d.month >= 9 else d.year - 1


def academic_year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """First and last day of academic year `year`."""
    return datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31)


def academic_year_label(year: int) -> str:
    """E.g. 2019 -> "2019/2020"."""
    return f"{year}/{year + 1}"


def month_date_in_year(month: int, year: int) -> datetime.date:
    """First day of `month` within academic year `year`."""
    if month not in _POS:
        raise ValueError(f"not a month: {month!r}")
    return datetime.date(year if month >= 9 else year + 1, month, 1)


def format_timing(months: Iterable[int], all_year: bool = False) -> str:
    """Canonical text: "ноябрь – апрель", "октябрь, март", "в течение года"."""
    months = list(months)
    if not all(m in _POS for m in months):
        raise ValueError(f"not months: {months!r}")
    positions = sorted({_POS[m] for m in months})
    if all_year or len(positions) == 12:
        return "в течение года"
    runs: list[list[int]] = []
    for p in positions:
        if runs and runs[-1][-1] == p - 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    names = [[MONTH_NAMES[ACADEMIC_MONTHS[p]] for p in run] for run in runs]
    return ", ".join(n[0] if len(n) == 1 else f"{n[0]} – {n[-1]}" for n in names)


def parse_timing(text: str) -> Timing:
    """Read a plan's timing; never raises, unrecognized text gives no months."""
    text = text.strip()
    norm = re.sub("[\u2010-\u2015\u2212]", "-", text.lower().replace("ё", "е").replace("і", "i"))
    flat = " ".join(norm.split()).rstrip(" .,;")
    if _ALL_YEAR_RE.fullmatch(flat):
        return Timing(text, ACADEMIC_MONTHS, all_year=True)
    span = _YEAR_SPAN_RE.fullmatch(flat)
    if span:
        first, last = int(span[1]), int(span[3])
        # «2019-2023гг.» is a programme ending in the 2022/23 academic year;
        # «2020/2021» and «уч. год» name exactly one academic year.
        one_year = span[2] == "/" or span[4] is not None
        if last == first + 1 or (last > first and not one_year):
            return Timing(text, ACADEMIC_MONTHS, True, first, last - 1)
        return Timing(text, (), recognized=False)
    spans = _parse_items(_tokens(norm))
    if not spans:
        return Timing(text, (), recognized=False)
    # A span longer than a year covers every month; don't walk it.
    positions = {i % 12 for s in spans for i in range(s.lo, min(s.hi, s.lo + 11) + 1)}
    dated = [s for s in spans if s.known_year]
    return Timing(
        text,
        tuple(ACADEMIC_MONTHS[p] for p in sorted(positions)),
        first_year=min(s.lo // 12 for s in dated) if dated else None,
        last_year=max(s.hi // 12 for s in dated) if dated else None,
        # Start and end only mean something for a single date or date range.
        start=spans[0].start if len(spans) == 1 else None,
        end=spans[0].end if len(spans) == 1 else None,
    )


# Below: a small tokenizer and recursive-descent parser for lists of months,
# ranges, quarters, half years and dates. Positions are absolute month
# indices: academic year * 12 + position within it (year 0 when not given).

_Token = tuple[str, Any]


@dataclass(frozen=True)
class _Point:
    lo: int  # academic positions; a quarter spans several
    hi: int
    year: int | None  # academic year, when written
    day: datetime.date | None = None


@dataclass(frozen=True)
class _Span:
    lo: int
    hi: int
    known_year: bool
    start: datetime.date | None
    end: datetime.date | None


def _tokens(norm: str) -> list[_Token] | None:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(norm):
        kind, value = match.lastgroup or "other", match[match.lastgroup or 0]
        if kind == "date":
            day = _date(value)
            if day is None:
                return None
            tokens.append((kind, day))
        elif kind in ("year", "num"):
            tokens.append((kind, int(match[kind])))
        elif kind == "word":
            word = match["word"]
            if word in _MONTH_FORMS:
                tokens.append(("month", _MONTH_FORMS[word]))
            elif word in _ROMAN:
                tokens.append(("num", _ROMAN[word]))
            elif word.startswith(("четверт", "полугод")):
                tokens.append(("period", 4 if word[0] == "ч" else 2))
            elif word in _WORDS:
                tokens.append((_WORDS[word], word))
            else:
                return None
        elif kind == "other":
            return None
        elif kind != "space":
            tokens.append((kind, value))
    return tokens


def _date(value: str) -> datetime.date | None:
    day, month, year = (int(x) for x in value.split("."))
    try:  # «12.10.20» is 2020: plans are not older than this century
        return datetime.date(year + 2000 if year < 100 else year, month, day)
    except ValueError:  # «13.13.2020»
        return None


class _Cursor:
    # Line breaks separate list items («октябрь,\n\nмарт», «октябрь\nмарт»)
    # but are otherwise just spaces («ноябрь -\nапрель»), so peek/take skip
    # them and only `separator` looks at them.
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.i = tokens, 0

    def _next(self) -> int:
        j = self.i
        while j < len(self.tokens) and self.tokens[j][0] == "nl":
            j += 1
        return j

    def peek(self) -> str:
        j = self._next()
        return self.tokens[j][0] if j < len(self.tokens) else "end"

    def take(self) -> _Token:
        j = self._next()
        self.i = j + 1
        return self.tokens[j] if j < len(self.tokens) else ("end", None)

    def separator(self) -> bool:
        start = self.i
        while self.i < len(self.tokens) and self.tokens[self.i][0] in ("sep", "nl"):
            self.i += 1
        return self.i > start


def _parse_items(tokens: list[_Token] | None) -> list[_Span] | None:
    if not tokens:
        return None
    cur, spans = _Cursor(tokens), []
    while True:
        span = _item(cur)
        if span is None:
            return None
        spans.append(span)
        if cur.peek() == "end":
            return spans
        if not cur.separator():
            return None
        if cur.peek() == "end":  # a trailing comma
            return spans


def _item(cur: _Cursor) -> _Span | None:
    opened = cur.peek() == "from"  # «с ноября» needs its «по …»
    if cur.peek() in ("prep", "from"):
        cur.take()
    first = _point(cur)
    if first is None:
        return None
    if cur.peek() != "dash":
        return None if opened else _join(first, first)
    cur.take()
    last = _point(cur)
    return _join(first, last) if last else None


def _point(cur: _Cursor) -> _Point | None:
    kind, value = cur.take()
    if kind == "month":
        year = None
        if cur.peek() == "year":
            written = cur.take()[1]
            year = written if value >= 9 else written - 1
            if cur.peek() == "ysuf":
                cur.take()
        return _Point(_POS[value], _POS[value], year)
    if kind == "num" and cur.peek() == "period":
        months = _PERIODS.get((cur.take()[1], value))
        return _Point(_POS[months[0]], _POS[months[-1]], None) if months else None
    if kind == "date":
        if cur.peek() == "ysuf":
            cur.take()
        return _Point(_POS[value.month], _POS[value.month], academic_year_of(value), value)
    return None


def _join(first: _Point, last: _Point) -> _Span | None:
    if (first.day is None) != (last.day is None):
        return None
    # A year written on one end of a range applies to the other end too.
    y1 = first.year if first.year is not None else last.year
    y2 = last.year if last.year is not None else y1
    lo, hi = (y1 or 0) * 12 + first.lo, (y2 or 0) * 12 + last.hi
    # Ranges that run backwards in academic order («май - сентябрь») are not guessed.
    if lo > hi or (first.day and last.day and first.day > last.day):
        return None
    return _Span(lo, hi, y1 is not None, first.day, last.day)
