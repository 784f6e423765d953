"""A network plan as read from a file, before anything is matched or written.

The readers (read_docx, read_table) turn a document into tables of cell texts
and hand each table to a ``PlanBuilder``. The builder finds the header row,
tells section and partner headings from events and records row-level problems,
so plans from Word, Excel and CSV are understood by one set of rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext

# Fields a plan table may have, found by the wording of its header.
NUMBER, TITLE, TIMING, RESPONSIBLE, PARTNER, SECTION, AUDIENCE, GRADES, IGNORED = (
    "number",
    "title",
    "timing",
    "responsible",
    "partner",
    "section",
    "audience",
    "grades",
    "ignored",
)
REQUIRED = (TITLE, TIMING)
# How a header of each field begins (lower case, ё → е, punctuation → space),
# tried in this order: «Сроки проведения мероприятия» is a timing, not a title,
# and «Наименование организации» a partner. A stronger match wins a column for
# its field: «Наименование мероприятия» over «Форма проведения».
HEADER_STARTS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    (TIMING, 2, ("срок", "дат", "время", "период", "когда")),
    (RESPONSIBLE, 2, ("ответствен", "отв", "исполнител")),
    (PARTNER, 2, ("партнер", "организац", "учреждени", "сетевой партнер", "социальный партнер")),
    (PARTNER, 2, ("наименование организац", "наименование партнер", "наименование учреждени")),
    (NUMBER, 2, ("№", "номер")),
    (AUDIENCE, 2, ("аудитори", "участник", "целев", "категори")),
    (GRADES, 2, ("класс", "параллел")),
    (SECTION, 2, ("раздел", "направлени", "блок")),
    (TITLE, 2, ("наименовани", "название", "мероприяти")),
    (TITLE, 1, ("содержани", "тема", "форм", "событи", "вид")),
    # Columns a plan may have that the import does not read (our own export's too).
    (IGNORED, 0, ("месяц", "состояни", "исполнени", "статус", "примечани", "отметк", "результат", "место")),
    (IGNORED, 0, ("охват", "количеств", "итог", "комментари")),
)
# Headers that are a whole word only: «N», «No», «п/п», the export's month columns.
HEADER_EXACT = {
    **dict.fromkeys(("n", "no", "nn", "п п", "n п п"), NUMBER),
    **dict.fromkeys(
        ("сен", "окт", "ноя", "дек", "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг"), IGNORED
    ),
}
MAX_HEADER_WORDS = 6
# A column of a field added in the site (coop/added_fields.py) is named EXTRA + its key.
EXTRA = "extra:"
COLUMN_LABELS = {TITLE: "«Наименование мероприятия»", TIMING: "«Сроки»"}

AUDIENCE_CODES = ("students", "teachers", "parents")
# A heading names an audience when it begins like these («учителя-предметники»,
# «учащиеся», «для родителей»); whole words, so «Педагогический университет»
# is not one.
_AUDIENCE_RE = re.compile(
    r"^(?:для |с |со |работа с )?(?:"
    r"(?P<parents>родител\w*|законн\w* представител\w*)"
    r"|(?P<teachers>учител\w*|педагог(?:и|ов|ам|ами)?|преподавател\w*|классн\w* руководител\w*)"
    r"|(?P<students>учащ\w*|обучающ\w*|школьник\w*|ученик\w*|дет(?:и|ей|ьми)|студент\w*"
    r"|воспитанник\w*|старшеклассник\w*|выпускник\w*)"
    r")(?!\w)"
)
_PARENTS_IN_TITLE = re.compile(r"родител", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^№?\s*(\d{1,4})\s*[.)]?$")
# Partner names are not sentences; the prose around a plan is.
_SENTENCE_END = (".", "!", "?", ":", ";")
_PLAN_TITLE_RE = re.compile(r"сетев\w* план|мероприяти|учебн\w* год|^программа", re.IGNORECASE)
# How much a plan file may hold, whatever its format: a real plan has some hundreds
# of rows of a few columns and tens of thousands of characters. More is refused
# before any cell is looked at (shared strings and merged cells let a small file
# repeat one long text in every cell).
MAX_CELLS = 100_000  # openpyxl loads these in about a second
MAX_TEXT = 2_000_000  # characters in all cells together
MAX_NAME = 500  # Partner.name
MAX_FIELD = 255  # Event.timing_text and .section, Position.name
MAX_GRADES = 64  # Event.grades


class PlanFileError(ValueError):
    """The file cannot be read as a plan at all; str() is the message for the user.

    ``code`` names the kind of problem for callers and tests: "empty", "too_large",
    "unknown_format", "old_format", "renamed", "macro", "corrupt", "encoding",
    "too_big", "no_plan_table", "no_events".
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RowIssue:
    """A problem at one place of the file: errors stop the import, warnings do not."""

    where: str
    message: str
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class ImportedEvent:
    number: int | None
    title: str  # its paragraphs on separate lines
    timing: str  # as written, its paragraphs on one line
    responsible: tuple[str, ...]  # positions as written, split on commas
    section: str
    audience: str | None  # a code of AUDIENCE_CODES; None when the file does not say
    grades: str
    where: str
    # The texts of the columns headed by an added field's label, by the field's key
    # (non-empty cells only); importer.prepare reads them by the field's kind.
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportedPartner:
    name: str  # as written, whitespace collapsed
    where: str
    events: list[ImportedEvent] = field(default_factory=list)


@dataclass
class ImportedPlan:
    kind: str  # "docx", "xlsx" or "csv"
    partners: list[ImportedPartner] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[RowIssue]:
        return [issue for issue in self.issues if issue.blocking]

    @property
    def warnings(self) -> list[RowIssue]:
        return [issue for issue in self.issues if not issue.blocking]

    @property
    def events(self) -> list[ImportedEvent]:
        return [event for partner in self.partners for event in partner.events]


# --- text helpers ------------------------------------------------------------------


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def lines_of(cell: str) -> list[str]:
    """The non-blank paragraphs of a cell, each with its whitespace collapsed."""
    return [line for line in (collapse(part) for part in cell.splitlines()) if line]


def join_timing(cell: str) -> str:
    """A timing's paragraphs on one line: «октябрь,», «март» and «октябрь», «март» give
    «октябрь, март»; «ноябрь -», «апрель» gives «ноябрь - апрель»."""
    out = ""
    for line in lines_of(cell):
        if not out:
            out = line
        elif out.endswith((",", ";", "-", "–", "—")) or line.startswith(("-", "–", "—", "по ", "до ")):
            out = f"{out} {line}"
        else:
            out = f"{out}, {line}"
    return out


def join_title(cell: str) -> str:
    return "\n".join(lines_of(cell))


def split_responsible(cell: str) -> tuple[str, ...]:
    """Positions split on commas; a paragraph in lower case continues the one
    before («Руководитель ШМО» / «учителей математики»)."""
    text = ""
    for line in lines_of(cell):
        if not text:
            text = line
        elif line[0].islower() or text.endswith((",", ";")):
            text = f"{text} {line}"
        else:
            text = f"{text}, {line}"
    return tuple(part for part in (collapse(p) for p in re.split(r"[,;]", text)) if part)


def header_key(text: str) -> str:
    return collapse(re.sub(r"[^\w№]+", " ", text.casefold().replace("ё", "е")))


def header_field(text: str) -> tuple[str, int] | None:
    """The field a header cell names and how surely, or None."""
    key = header_key(text)
    if key in HEADER_EXACT:
        return HEADER_EXACT[key], 2
    if not key or len(key.split()) > MAX_HEADER_WORDS:
        return None
    for name, strength, starts in HEADER_STARTS:
        if key.startswith(starts):
            return name, strength
    return (TITLE, 1) if "мероприят" in key else None


def audience_code(text: str) -> str | None:
    """The audience a heading or an audience cell names, or None."""
    match = _AUDIENCE_RE.match(header_key(text))
    if match is None:
        return None
    return next(code for code in AUDIENCE_CODES if match.group(code))


def parse_number(text: str) -> int | None:
    match = _NUMBER_RE.match(collapse(text))
    return int(match.group(1)) if match else None


def looks_like_prose(text: str) -> bool:
    """Text that cannot be (part of) a partner's name: a sentence, or the plan's title."""
    text = collapse(text)
    return len(text) > 300 or text.endswith(_SENTENCE_END) or bool(_PLAN_TITLE_RE.search(text))


# --- the rules that read a table ---------------------------------------------------


@dataclass
class Row:
    """One table row: the text of each grid column. A merged cell's text is in its
    first column, and on every row it spans down."""

    cells: list[str]
    where: str
    merged: bool = False  # its only text is in one cell spanning several columns
    formulas: dict[int, str] = field(default_factory=dict)  # column → «D5: =A1&B1» (Excel)


class PlanBuilder:
    """Collects the partners and events of every plan table handed to it."""

    def __init__(self, kind: str, added: Mapping[str, str] | None = None) -> None:
        """added: the headings of the fields added to plan lines (header_key of a
        label, Russian or English) → the field's key."""
        self.plan = ImportedPlan(kind)
        self.added: Mapping[str, str] = added or {}
        self.plan_tables = 0
        self.other_tables: list[str] = []  # first rows of tables that are not plans, for the message
        self._last_columns: dict[str, int] | None = None
        self._last_partner: ImportedPartner | None = None
        self._cells = 0
        self._text = 0

    def table(self, rows: Sequence[Row], label: str, partner_name: str = "") -> None:
        """Read one table; partner_name is the name written before it, if any."""
        self._count(rows)
        rows = [row for row in rows if any(cell.strip() for cell in row.cells)]
        if not rows:
            return
        start, columns = _find_header(rows, self.added)
        above = ""
        if columns is None:
            # A table without a header continues the plan table before it (Word
            # splits a table where a page or a heading was inserted).
            if self._last_columns is None or not _starts_with_event(rows[0], self._last_columns):
                self.other_tables.append(f"{label}: " + " | ".join(f"«{collapse(c)}»" for c in rows[0].cells))
                return
            columns = self._last_columns
            if not partner_name and self._last_partner is not None:
                partner_name = self._last_partner.name
        else:
            missing = [name for name in REQUIRED if name not in columns]
            if missing:
                self.plan_tables += 1
                found = ", ".join(f"«{collapse(c)}»" for c in rows[start - 1].cells if c.strip())
                self._issue(
                    label,
                    gettext(
                        "the header has no column %(missing)s (found: %(found)s).",
                        missing=", ".join(COLUMN_LABELS[name] for name in missing),
                        found=found,
                    ),
                )
                return
            if start >= 2:  # a heading just above the header may name the partner (Excel blocks)
                text = _single_text(rows[start - 2])
                above = text if text and not looks_like_prose(text) else ""
        self.plan_tables += 1
        self._read_rows(rows[start:], columns, partner_name, above, label)
        self._last_columns = columns

    def _count(self, rows: Sequence[Row]) -> None:
        """Refuse a file past MAX_CELLS or MAX_TEXT, counting before reading a cell."""
        for row in rows:
            self._cells += len(row.cells)
            self._text += sum(map(len, row.cells))
            if self._cells > MAX_CELLS or self._text > MAX_TEXT:
                raise PlanFileError(
                    "too_big",
                    gettext(
                        "The file has more than %(cells)s cells or %(chars)s characters of text: "
                        "this is not a network plan.",
                        cells=f"{MAX_CELLS:,}".replace(",", " "),
                        chars=f"{MAX_TEXT:,}".replace(",", " "),
                    ),
                )

    def _read_rows(
        self, rows: Sequence[Row], columns: dict[str, int], named: str, above: str, label: str
    ) -> None:
        # A partner named before the table or in a column makes every heading row a
        # section; otherwise a heading that is not an audience starts a partner's block.
        headings_are_sections = bool(named) or PARTNER in columns
        partner = self._partner(named or above, label) if named or above else None
        section, section_audience = "", None
        for row in rows:
            again = _header_columns(row, self.added)
            if again is not None:  # the header repeated, perhaps with other columns
                columns = again
                continue
            heading = _heading(row, columns)
            if heading:
                code = audience_code(heading)
                if headings_are_sections or code is not None:
                    section, section_audience = heading[:MAX_FIELD], code
                else:
                    partner, section, section_audience = self._partner(heading, row.where), "", None
                continue
            in_column = collapse(_cell(row, columns, PARTNER))
            if in_column and (partner is None or in_column != partner.name):
                partner, section, section_audience = self._partner(in_column, row.where), "", None
            event = self._event(row, columns, section, section_audience)
            if event is None:
                continue
            if partner is None:
                self._issue(
                    row.where,
                    gettext("no partner organisation: write its name before the table or in a column."),
                )
                continue
            partner.events.append(event)
        self._last_partner = partner

    def _partner(self, name: str, where: str) -> ImportedPartner:
        # One partner's plan split over two tables stays one partner.
        name = collapse(name)
        for partner in self.plan.partners:
            if partner.name == name:
                return partner
        partner = ImportedPartner(name, where)
        self.plan.partners.append(partner)
        return partner

    def _issue(self, where: str, message: str, blocking: bool = True) -> None:
        self.plan.issues.append(RowIssue(where, message, blocking))

    def _event(
        self, row: Row, columns: dict[str, int], section: str, section_audience: str | None
    ) -> ImportedEvent | None:
        formula = next((text for index, text in row.formulas.items() if index in columns.values()), None)
        if formula is not None:
            self._issue(
                row.where, gettext("a formula (%(formula)s): replace it with its value.", formula=formula)
            )
            return None
        title = join_title(_cell(row, columns, TITLE))
        number_text = collapse(_cell(row, columns, NUMBER))
        timing = join_timing(_cell(row, columns, TIMING))
        responsible = split_responsible(_cell(row, columns, RESPONSIBLE))
        if not title:
            if timing or responsible:
                self._issue(row.where, gettext("the event has no name."))
            return None
        number = parse_number(number_text) if number_text else None
        if number_text and number is None:
            self._issue(
                row.where,
                gettext("the number «%(text)s» is not a whole number: it is left empty.", text=number_text),
                blocking=False,
            )
        if len(timing) > MAX_FIELD or any(len(name) > MAX_FIELD for name in responsible):
            self._issue(
                row.where, gettext("the timing or a responsible position is longer than 255 characters.")
            )
            return None
        in_column = collapse(_cell(row, columns, SECTION))[:MAX_FIELD]
        if in_column:
            section, section_audience = in_column, audience_code(in_column)
        audience_text = collapse(_cell(row, columns, AUDIENCE))
        audience = audience_code(audience_text) if audience_text else None
        if audience_text and audience is None:
            self._issue(
                row.where,
                gettext("the audience «%(text)s» is not recognised.", text=audience_text),
                blocking=False,
            )
        if audience is None:
            audience = section_audience
        if audience is None and _PARENTS_IN_TITLE.search(title):
            audience = "parents"
        extra = {
            name.removeprefix(EXTRA): text
            for name, index in columns.items()
            if name.startswith(EXTRA) and (text := _cell(row, columns, name).strip())
        }
        return ImportedEvent(
            extra=extra,
            number=number,
            title=title,
            timing=timing,
            responsible=responsible,
            section=section,
            audience=audience,
            grades=collapse(_cell(row, columns, GRADES))[:MAX_GRADES],
            where=row.where,
        )

    def result(self) -> ImportedPlan:
        """The plan read; a file without a plan table or without events is an error."""
        if not self.plan_tables:
            seen = "; ".join(self.other_tables[:5])
            raise PlanFileError(
                "no_plan_table",
                gettext(
                    "No network plan table found: it needs a header row with the columns "
                    "«№ п/п», «Наименование мероприятия», «Сроки», «Ответственные».",
                )
                + (" " + gettext("The tables in the file begin with: %(rows)s.", rows=seen) if seen else ""),
            )
        for partner in self.plan.partners:
            if len(partner.name) > MAX_NAME:
                self._issue(partner.where, gettext("the partner's name is longer than 500 characters."))
            elif not partner.events:
                self._issue(
                    partner.where, gettext("no events under «%(name)s».", name=partner.name), blocking=False
                )
        self.plan.partners = [partner for partner in self.plan.partners if partner.events]
        if not self.plan.partners and not self.plan.errors:
            raise PlanFileError("no_events", gettext("The plan table has no events."))
        return self.plan


def is_header(cells: list[str], added: Mapping[str, str] | None = None) -> bool:
    return _header_columns(Row(cells, ""), added) is not None


def brief_error(error: Exception) -> str:
    """A library's error message, short enough to show beside ours."""
    return collapse(str(error))[:120] or type(error).__name__


def _find_header(
    rows: Sequence[Row], added: Mapping[str, str] | None = None
) -> tuple[int, dict[str, int] | None]:
    """The index of the row after the header and the header's columns."""
    for index, row in enumerate(rows[:25]):
        columns = _header_columns(row, added)
        if columns is not None:
            return index + 1, columns
    return 0, None


def _header_columns(row: Row, added: Mapping[str, str] | None = None) -> dict[str, int] | None:
    """The fields of a header row by column, or None when the row is not a header.

    A header names the event and its number, timing or responsible; most of its
    cells are known headers, and none is a number (an event's row may well have a
    title starting «Мероприятие…» and a responsible «Ответственный за …»). A cell that
    is an added field's label (added, by header_key) is that field's column, before
    any core field it might start like («Количество…», «Партнёрские ресурсы»).
    """
    if row.merged:
        return None
    columns: dict[str, int] = {}
    strengths: dict[str, int] = {}
    known = filled = 0
    for index, text in enumerate(row.cells):
        if not text.strip():
            continue
        filled += 1
        if parse_number(text) is not None:
            return None
        if added and (key := added.get(header_key(text))) is not None:
            known += 1
            columns.setdefault(EXTRA + key, index)
            continue
        found = header_field(text)
        if found is None:
            continue
        known += 1
        name, strength = found
        if name != IGNORED and strength > strengths.get(name, 0):
            columns[name], strengths[name] = index, strength
    if known * 2 <= filled or TITLE not in columns or not {NUMBER, TIMING, RESPONSIBLE} & columns.keys():
        return None
    return columns


def _cell(row: Row, columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row.cells[index] if index is not None and index < len(row.cells) else ""


def _single_text(row: Row) -> str:
    """The text of a row whose filled cells all say the same, else ""."""
    texts = {collapse(cell) for cell in row.cells if cell.strip()}
    return texts.pop() if len(texts) == 1 else ""


def _heading(row: Row, columns: dict[str, int]) -> str:
    """The text of a section or partner heading row, else "".

    A heading is a merged row, or a lone text in the first or «№» column that is
    not a number (some plans write «учащиеся» there without merging).
    """
    text = _single_text(row)
    if not text or row.merged:
        return text
    filled = [index for index, cell in enumerate(row.cells) if cell.strip()]
    lone = (
        len(filled) == 1
        and filled[0] in (0, columns.get(NUMBER))
        and filled[0] not in (columns.get(TITLE), columns.get(PARTNER))
    )
    return text if lone and parse_number(text) is None else ""


def _starts_with_event(row: Row, columns: dict[str, int]) -> bool:
    """A row as wide as the plan's columns, with a number in «№»."""
    return (
        NUMBER in columns
        and len(row.cells) > max(columns.values())
        and parse_number(_cell(row, columns, NUMBER)) is not None
    )
