"""What a hostile or careless person types, and how the form fuzzer reads a form.

Used by tests/test_fuzz_forms.py: the fuzzer reads each form as the browser gets
it (field names, kinds, options), fills it from the strategies here and then
checks what reached the database and the pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser

from hypothesis import strategies as st

# --- values ------------------------------------------------------------------------

SCRIPT = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg/onload=alert(1)>"
# Pieces of the payloads above that must never reach a page unescaped.
RAW_MARKUP = ("<script>alert(", "<img src=x onerror", "<svg/onload")
# An error page or message that shows these has leaked the server's insides.
LEAKS = ("Traceback", "[SQL:", "psycopg", "sqlite3.", "IntegrityError", "DataError", "OperationalError")

PAYLOADS = (
    SCRIPT,
    IMG,
    SVG,
    "javascript:alert(1)",
    "' OR 1=1 --",
    "1; DROP TABLE events",
    "Robert'); DROP TABLE schools;--",
    "%' UNION SELECT password_hash FROM users --",
    "{{ 7*7 }}{% raw %}",
    "%s%n%x",
    '=HYPERLINK("http://evil","x")',
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "line\r\nbreak\ttab",
    "\u202eevil\u202c\ufeff",
    "😀" * 20,
    " ",
    "",
    "ё" * 300,
    "x" * 10_000,
)
NUMBERS = (
    "-1",
    "0",
    str(10**12),
    str(2**31),
    str(-(2**31) - 1),
    "9" * 5000,  # beyond Python's limit for converting text to int
    "abc",
    "1e3",
    "12.5",
    " 7 ",
    "0x1F",
    "١٢",
    "NaN",
    "",
)
DATES = (
    "31.02.2020",
    "9999-12-31",
    "0001-01-01",
    "2020-13-01",
    "2020-02-30",
    "0000-00-00",
    "10000-01-01",
    "-2020-01-01",
    "20200101",
    "2020-01-01T25:61:00",
    "",
)
# Ids that name nothing or are not ids at all; real ids of other tenants are added per form.
BAD_IDS = ("0", "-1", "999999", str(2**31), str(10**12), "abc", "1 OR 1=1", "1;DROP TABLE events", "")


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PAYLOADS),
        st.text(max_size=40),  # any code point: control characters and NUL included
        st.tuples(st.sampled_from(PAYLOADS), st.text(max_size=8)).map("".join),
        st.integers(min_value=250, max_value=12_000).map(lambda n: ("Щ<b>&" * n)[:n]),
    )


def hostile_number() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NUMBERS), st.integers().map(str), hostile_text())


def hostile_date() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(DATES), hostile_text())


def hostile_ids(foreign: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(set(foreign) | set(BAD_IDS)))


# --- the form as the browser gets it ---------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # text, number, date, datetime, checkbox, select, hidden, password
    multiple: bool = False
    ajax: bool = False  # a select2 look-up: a hidden input holding the chosen id
    options: list[str] = field(default_factory=list)
    value: str = ""
    maxlength: int | None = None


class _AdminFormParser(HTMLParser):
    """The fields of Flask-Admin's create or edit form (class admin-form)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, FormField] = {}
        self._in_form = False
        self._select: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = "admin-form" in a.get("class", "")
        if not self._in_form or (tag != "option" and not a.get("name")):
            return
        if tag == "input" and a.get("type") not in ("submit", "button"):
            role = a.get("data-role", "")
            kind = {"datepicker": "date", "datetimepicker": "datetime"}.get(role, a.get("type", "text"))
            self.fields[a["name"]] = FormField(
                a["name"],
                kind,
                ajax=role == "select2-ajax",
                value=a.get("value", ""),
                maxlength=int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
            )
        elif tag == "textarea":
            self.fields[a["name"]] = FormField(a["name"], "text")
        elif tag == "select":
            self._select = FormField(a["name"], "select", multiple="multiple" in a)
            self.fields[a["name"]] = self._select
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def form_fields(html: str) -> dict[str, FormField]:
    parser = _AdminFormParser()
    parser.feed(html)
    return parser.fields


def typical(form_field: FormField, ids: list[str], label: str) -> str | list[str] | None:
    """The value a person would enter, with the script payloads in every text field: the
    example the fuzzer always posts first, so that every form stores at least one row."""
    choices = [value for value in (form_field.options or ids) if value not in ("", "__None")]
    if form_field.kind == "select" or form_field.ajax:
        if form_field.multiple:
            return choices[:2]
        return choices[0] if choices else None
    text = f"{label} {SCRIPT} {IMG}"[: form_field.maxlength]
    return {
        "number": "2023",  # a year without executions in the demo data, and a sane count
        "date": "2020-10-01",
        "datetime": "2020-10-01 10:00:00",
        "checkbox": "y",
        "email": f"{label}@example.org",
        "password": f"Tri {label} horses {SCRIPT}",
    }.get(form_field.kind if form_field.name != "email" else "email", text)


def plausible(form_field: FormField, ids: list[str]) -> st.SearchStrategy[str | list[str] | None]:
    """A value of the right shape, so that the hostile text fields around it get stored."""
    if form_field.kind == "number":
        return st.integers(min_value=2019, max_value=2023).map(str)
    if form_field.kind in ("date", "datetime"):
        days = st.dates(dt.date(2019, 9, 1), dt.date(2024, 8, 31))
        if form_field.kind == "date":
            return days.map(dt.date.isoformat)
        return days.map(lambda day: f"{day.isoformat()} 10:00:00")
    if form_field.kind == "checkbox":
        return st.sampled_from(["y", None])
    if form_field.kind == "select" or form_field.ajax:
        choices = [value for value in (form_field.options or ids) if value != "__None"]
        if form_field.multiple:
            return st.lists(st.sampled_from(choices), max_size=3, unique=True) if choices else st.just([])
        return st.sampled_from(choices) if choices else st.none()
    return hostile_text()


def hostile(form_field: FormField, foreign_ids: list[str]) -> st.SearchStrategy[str | list[str] | None]:
    """Anything at all for this field, the wrong type included; None leaves it out of the post."""
    if form_field.kind == "number":
        typed = hostile_number()
    elif form_field.kind in ("date", "datetime"):
        typed = hostile_date()
    elif form_field.kind == "select" or form_field.ajax:
        typed = st.one_of(hostile_ids(foreign_ids), st.sampled_from(form_field.options or ["1"]))
        if form_field.multiple:
            return st.lists(st.one_of(typed, hostile_text()), max_size=4)
    else:
        typed = hostile_text()
    return st.one_of(typed, hostile_text(), st.none())
