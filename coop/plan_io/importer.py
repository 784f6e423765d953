"""Importing a school's network plan from a .docx, .xlsx or .csv file.

Three steps, the same for the web page and the CLI:

1. ``read_plan(data)`` finds the file's type by its content and reads it into an
   ``ImportedPlan`` (nothing is matched or written);
2. ``prepare(plan, school, year, choices)`` matches it against the directory and
   the school's plan: each partner exactly or to similar names the user chooses
   among, each line new, changed or unchanged, lines of the plan missing from the
   file. Nothing is written; ``summary(preview)`` says it in words;
3. ``apply(preview)`` writes the whole plan in one transaction, or nothing.

A plan line is the same line again when its school, programme, partner, section,
number and name (case, quotes and spacing aside) are the same, so importing a file
twice changes nothing and a corrected file updates the lines it changed.
"""

from __future__ import annotations

import difflib
import io
import re
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import access, added_fields, search
from .. import models as m
from ..access import AccessDenied
from ..extensions import db
from ..lookup import normalise
from ..tenancy import SYSTEM, current_principal
from ..timing import Timing, academic_year_label, parse_timing
from .imported import (
    ImportedEvent,
    ImportedPartner,
    ImportedPlan,
    PlanFileError,
    RowIssue,
    collapse,
    header_key,
)
from .read_docx import read_docx
from .read_table import read_csv, read_xlsx

MAX_BYTES = 5 * 1024 * 1024
# A .docx or .xlsx is a zip. Limits on what it unpacks to, checked before any part
# is parsed (a zip bomb of a few hundred kilobytes would otherwise take seconds of
# CPU and hundreds of megabytes per request):
MAX_UNPACKED = 60 * 1024 * 1024  # all members together; pictures make most of a real file
MAX_XML_PART = 8 * 1024 * 1024  # one XML part (document, sheet, shared strings): a plan's are < 1 MB
MAX_MEMBERS = 5000
_XML_PART = (".xml", ".rels", ".vml")
READERS = {"docx": read_docx, "xlsx": read_xlsx, "csv": read_csv}
KIND_LABELS = {"docx": "Word (.docx)", "xlsx": "Excel (.xlsx)", "csv": "CSV"}
# How alike two names must be to offer one for the other: the share of the shorter
# name's distinctive words that the other name has too (spelled alike). Measured on
# the demo directory with 32 names (tests/test_import_similar.py): a partner's
# abbreviation, short name, full name or a misspelling of it scores 1.0; another
# organisation of the same city or kind («Новокузнецкий драматический театр», «Центр
# детского творчества Центрального района») scores 0 to 0.6.
SIMILAR_AT = 0.65
# Two words of four letters or more are spelled alike from this difflib ratio on
# (a letter wrong or missing: «техникм», «цдют»), or when they share a stem
# (a common beginning of at least STEM letters and 70 % of the longer word:
# «кемеровского» and «кемеровский»). Unrelated words of one suffix
# («драматический» and «технологический» 0.57, «краеведческий» 0.62) stay below it.
WORD_ALIKE_AT = 0.8
STEM = 5
MAX_SIMILAR = 5
# The partners the search index offers for an imported name, best first, to be scored.
MAX_CANDIDATES = 50
NEW = "new"  # the choice that creates a partner
_LOWER_WORD = re.compile(r"[а-яё]+")

# Legal forms, written out in _COMMON_STEMS or abbreviated here: they say what kind of
# body an organisation is, not which one (ГАПОУ, МБОУ ДО, ФГБОУ ВО, АНО ДПО…).
_LEGAL_FORMS = frozenset(
    """
    ано ноу чоу оу доу гоу гбоу гаоу гкоу гпоу гбпоу гапоу мбоу маоу мкоу моу мбдоу мадоу
    мбудо маудо мбоудо мауд мбу мау мку му гбу гау гку гу гбук гаук мбук маук мук гбуз гауз
    фгбоу фгаоу фгоу фгбу фгау фгу фгуп гуп муп во впо спо нпо до дпо ооо оао зао пао ао нко ип
    """.split()  # noqa: SIM905 - a list of 60 words reads better as text
)
# Words every organisation's name has: they say nothing about which one it is.
_COMMON_STEMS = (
    "государствен",
    "федерал",
    "муниципал",
    "бюджет",
    "автоном",
    "казен",
    "некоммерч",
    "образоват",
    "образован",
    "общеобразоват",
    "учрежден",
    "организац",
    "высш",
    "профессионал",
    "дополнител",
    "имени",
    "город",
)


class ImportRefused(ValueError):
    """The import cannot go on (errors in the file, a choice missing,
    the database refused); str() is the message for the user."""


# --- 1. reading ------------------------------------------------------------------------


def read_plan(data: bytes, filename: str = "", school: m.School | None = None) -> ImportedPlan:
    """The plan in the file's bytes, read by their content; the name only helps
    to explain a file renamed to something it is not. With school, a column headed by
    the label of a field added to its plan lines is read as that field."""
    added = added_headers(school) if school is not None else None
    return READERS[detect_kind(data, filename)](data, added)


def added_headers(school: m.School) -> dict[str, str]:
    """The headings that name a field added to the school's plan lines: its label, Russian
    or English, as header_key compares them (case, ё and spacing aside) → the field's key."""
    headers: dict[str, str] = {}
    for definition in added_fields.of_record(m.Event, school.id):
        for label in (definition.label, definition.label_en):
            if (label or "").strip():
                headers.setdefault(header_key(label), definition.key)
    return headers


def detect_kind(data: bytes, filename: str = "") -> str:
    """ "docx", "xlsx" or "csv"; PlanFileError for anything else."""
    kind = _content_kind(data)
    suffix = Path(filename).suffix.lower()
    if kind == "csv" and suffix in (".docx", ".xlsx", ".doc", ".xls", ".xlsm", ".docm"):
        raise PlanFileError(
            "renamed",
            gettext(
                "The file is named %(suffix)s but holds no Word document or Excel workbook: "
                "it was renamed, or saved in another format. Save it from Word or Excel as .docx or .xlsx.",
                suffix=suffix,
            ),
        )
    return kind


def _content_kind(data: bytes) -> str:
    if not data:
        raise PlanFileError("empty", gettext("The file is empty."))
    if len(data) > MAX_BYTES:
        raise PlanFileError(
            "too_large",
            gettext(
                "The file is larger than %(mb)s MB: a network plan is much smaller.", mb=MAX_BYTES // 2**20
            ),
        )
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise PlanFileError(
            "old_format",
            gettext(
                "This is an old Word or Excel file (.doc, .xls) or one protected by a password: "
                "save it as .docx or .xlsx without a password."
            ),
        )
    if data.startswith((b"%PDF", b"{\\rtf")):
        raise PlanFileError(
            "unknown_format",
            gettext("PDF and RTF files are not read: save the plan as .docx, .xlsx or .csv."),
        )
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PlanFileError(
            "unknown_format",
            gettext(
                "The file is not a Word document, an Excel workbook or a CSV table (.docx, .xlsx, .csv)."
            ),
        )
    return "csv"


def _zip_kind(data: bytes) -> str:
    corrupt = PlanFileError("corrupt", gettext("The file is damaged: its archive cannot be opened."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_unpacked_sizes(members)
            if archive.testzip() is not None:  # each member read in chunks and thrown away
                raise corrupt
            names = {member.filename for member in members}
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    except PlanFileError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,  # an encrypted member
    ) as error:
        raise corrupt from error
    if b"macroEnabled" in types or any(name.lower().endswith("vbaproject.bin") for name in names):
        raise PlanFileError(
            "macro",
            gettext("Files with macros (.xlsm, .docm) are not accepted: save the plan as .xlsx or .docx."),
        )
    if b"wordprocessingml.document.main" in types:
        return "docx"
    if b"spreadsheetml.sheet.main" in types:
        return "xlsx"
    if "mimetype" in names:
        raise PlanFileError(
            "unknown_format",
            gettext("OpenDocument files (.odt, .ods) are not read: save the plan as .docx or .xlsx."),
        )
    raise PlanFileError(
        "unknown_format", gettext("The file is a ZIP archive, not a Word document or an Excel workbook.")
    )


def _check_unpacked_sizes(members: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive that unpacks to more than a plan can be, by the sizes its directory
    declares. A declared size may lie, but zipfile never unpacks a member past it: it stops
    there and fails the CRC, which testzip() in _zip_kind finds for every member."""
    too_big = PlanFileError(
        "too_big",
        gettext(
            "The file unpacks to more than %(mb)s MB, or one of its parts to more than %(part)s MB: "
            "this is not a network plan.",
            mb=MAX_UNPACKED // 2**20,
            part=MAX_XML_PART // 2**20,
        ),
    )
    if len(members) > MAX_MEMBERS:
        raise too_big
    if sum(member.file_size for member in members) > MAX_UNPACKED:
        raise too_big
    if any(m.file_size > MAX_XML_PART for m in members if m.filename.lower().endswith(_XML_PART)):
        raise too_big


# --- 2. the preview ----------------------------------------------------------------------


@dataclass
class Line:
    """One event of the file against the school's plan."""

    imported: ImportedEvent
    timing: Timing
    responsible: tuple[str, ...]  # positions, commas inside a known one's name kept together
    # Those of them not in the catalog that the importing user may not add: kept as text.
    unlisted: tuple[str, ...] = ()
    existing: m.Event | None = None
    changes: tuple[str, ...] = ()  # labels of the fields an update changes
    repeated: bool = False  # the file has this line twice; the later one is skipped
    # The added fields' values of the file's columns, as kept (read by each field's kind).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.repeated:
            return "repeated"
        if self.existing is None:
            return "new"
        return "changed" if self.changes else "same"


@dataclass
class PartnerMatch:
    """A partner of the file and the directory's organisation it stands for."""

    index: int
    imported: ImportedPartner
    exact: m.Partner | None
    similar: list[m.Partner]
    chosen: m.Partner | None  # None: a new organisation, or not chosen yet
    decided: bool  # exact, chosen by the user, or nothing similar: new
    lines: list[Line] = field(default_factory=list)

    @property
    def field_name(self) -> str:
        """The form field (and CLI choice key) that says which organisation it is."""
        return partner_field(self.index)


def partner_field(index: int) -> str:
    return f"partner-{index}"


@dataclass
class Preview:
    school: m.School
    programme: m.Programme
    year: int
    plan: ImportedPlan
    partners: list[PartnerMatch]
    missing: list[m.Event]  # lines of the plan that the file does not have
    new_positions: list[str]  # to be added to the catalog (an admin's or the CLI's import)
    issues: list[RowIssue]
    unlisted_positions: list[str] = field(default_factory=list)  # not in the catalog: kept as text
    # The school had no programme for the year: programme is a new draft, written with the plan.
    creates_programme: bool = False

    @property
    def lines(self) -> list[Line]:
        return [line for partner in self.partners for line in partner.lines]

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def unread_timings(self) -> list[Line]:
        return [line for line in self.lines if not line.timing.recognized and line.status != "repeated"]

    @property
    def errors(self) -> list[RowIssue]:
        return [issue for issue in self.issues if issue.blocking]

    @property
    def warnings(self) -> list[RowIssue]:
        return [issue for issue in self.issues if not issue.blocking]

    @property
    def undecided(self) -> list[PartnerMatch]:
        return [partner for partner in self.partners if not partner.decided]


def may_add_positions() -> bool:
    """Whether this import may add the positions it names to the catalog, which only
    an admin edits: an admin's import may, and the CLI's (it runs as the system, started
    by someone with the shell); a school's keeps an unknown position as text on its line."""
    principal = current_principal()
    return principal is SYSTEM or access.can(principal, "position.create")


def find_programme(school: m.School, year: int) -> m.Programme | None:
    """The school's programme that runs in the academic year, if it has one."""
    return (
        db.session.execute(
            select(m.Programme)
            .where(
                m.Programme.school_id == school.id,
                m.Programme.first_year <= year,
                m.Programme.last_year >= year,
            )
            .order_by(m.Programme.first_year.desc(), m.Programme.id.desc())
        )
        .scalars()
        .first()
    )


def draft_programme(school: m.School, year: int, timings: Sequence[Timing]) -> m.Programme:
    """A draft programme for a school that has none for the year, not yet in the session
    (apply() adds it with the plan): it covers the academic years the plan's timings name
    and the year chosen. Its last_year is the calendar year it ends in, as a programme's
    «2019–2023» runs to the 2022/23 academic year."""
    named = [y for t in timings for y in (t.first_year, t.last_year) if y is not None]
    first, last = min([year, *named]), max([year, *named]) + 1
    return m.Programme(
        school_id=school.id,
        title=gettext("Cooperation programme of %(school)s", school=school.short_name or school.name),
        first_year=first,
        last_year=last,
        state="draft",
    )


def prepare(
    plan: ImportedPlan, school: m.School, year: int, choices: Mapping[str, str] | None = None
) -> Preview:
    """The plan matched against the directory and the school's plan; writes nothing.

    choices maps a partner's field_name to a partner id among its options, or
    "new"; partners without an exact match take the user's choice from there.
    """
    programme = find_programme(school, year)
    directory = _Directory()
    existing: Sequence[m.Event] = (
        []
        if programme is None
        else (
            db.session.execute(
                select(m.Event)
                .where(
                    m.Event.school_id == school.id,
                    m.Event.programme_id == programme.id,
                )
                .options(
                    selectinload(m.Event.responsible),
                    selectinload(m.Event.audience),
                    selectinload(m.Event.partner),
                )
                .order_by(m.Event.id)
            )
            .scalars()
            .all()
        )
    )
    by_key: dict[tuple, m.Event] = {}
    # A file without sections (a spreadsheet, our own export) finds a line by the
    # rest of its identity, when that names one line.
    sectionless: dict[tuple, list[m.Event]] = {}
    for row in existing:
        by_key.setdefault(_line_key(row.partner_id, row.section, row.number, row.title), row)
        sectionless.setdefault(_line_key(row.partner_id, "", row.number, row.title), []).append(row)
    positions = _positions()
    add_positions = may_add_positions()
    issues = list(plan.issues)
    definitions = _added_fields(school)
    partners: list[PartnerMatch] = []
    seen: dict[tuple, Line] = {}
    new_positions: dict[str, str] = {}
    unlisted: dict[str, str] = {}
    for index, imported in enumerate(plan.partners):
        match = directory.match(index, imported, (choices or {}).get(partner_field(index), ""))
        partners.append(match)
        for event in imported.events:
            line = Line(event, parse_timing(event.timing), _resolve_positions(event.responsible, positions))
            line.extra = _added_values(event, definitions, issues)
            for name in line.responsible:
                if _position_key(name) not in positions:
                    found = new_positions if add_positions else unlisted
                    found.setdefault(_position_key(name), _position_name(name))
            if not add_positions:
                line.unlisted = tuple(n for n in line.responsible if _position_key(n) not in positions)
            key = _line_key(
                match.chosen.id if match.chosen else None, event.section, event.number, event.title
            )
            if match.chosen is not None and key in seen:
                line.repeated = True
                issues.append(
                    RowIssue(
                        event.where,
                        gettext("repeats %(where)s: imported once.", where=seen[key].imported.where),
                        blocking=False,
                    )
                )
            elif match.chosen is not None:
                seen[key] = line
                line.existing = by_key.get(key)
                alike = sectionless.get(key, []) if not event.section else []
                if line.existing is None and len(alike) == 1:
                    line.existing = alike[0]
                if line.existing is not None:
                    line.changes = _changes(line.existing, line, definitions)
            match.lines.append(line)
    # Lines of the plan the file does not have; not yet for partners still to be chosen.
    matched = {id(line.existing) for line in seen.values() if line.existing is not None}
    pending = {partner.id for match in partners if not match.decided for partner in match.similar}
    missing = [event for event in existing if id(event) not in matched and event.partner_id not in pending]
    creates_programme = programme is None
    if programme is None:
        programme = draft_programme(school, year, [line.timing for match in partners for line in match.lines])
    preview = Preview(school, programme, year, plan, partners, missing, list(new_positions.values()), issues)
    preview.unlisted_positions = list(unlisted.values())
    preview.creates_programme = creates_programme
    return preview


@dataclass(frozen=True)
class _Name:
    """A name as compared: `key` with case, «quotes», ё and spacing aside (the exact
    match); `words`, its distinctive words, without the legal form every name has."""

    key: str
    words: tuple[str, ...]

    @classmethod
    def of(cls, name: str) -> _Name:
        key = collapse(normalise(name).replace('"', " "))
        words = tuple(
            word
            for word in re.findall(r"[^\W_]+", key)
            if word not in _LEGAL_FORMS and not word.startswith(_COMMON_STEMS)
        )
        return cls(key, words)

    def likeness(self, other: _Name) -> float:
        """0 to 1: the share of the shorter name's distinctive words that the other
        has, spelled alike («КемГУ» and «КемГУ (НФИ КемГУ)»: 1; «Новокузнецкий
        драматический театр» and «…краеведческий музей»: 1/3)."""
        shorter, longer = sorted((self.words, other.words), key=len)
        if not shorter:
            return 0.0
        found = sum(1 for word in shorter if any(_alike(word, theirs) for theirs in longer))
        return found / len(shorter)


def _alike(word: str, other: str) -> bool:
    """The same word, misspelled by a letter or inflected («кемеровского», «кемеровский»;
    «дома» and «дом», one Snowball stem as the search index reads them)."""
    if word == other or search.stem(word) == search.stem(other):
        return True
    if min(len(word), len(other)) < 4:  # abbreviations: «нфи» is not «ино»
        return False
    common = next(
        (i for i, (a, b) in enumerate(zip(word, other, strict=False)) if a != b), min(len(word), len(other))
    )
    if common >= STEM and common >= 0.7 * max(len(word), len(other)):
        return True
    return difflib.SequenceMatcher(None, word, other, autojunk=False).ratio() >= WORD_ALIKE_AT


class _Directory:
    """The partner directory as the search index (coop/search.py) finds it for an imported
    name: the partners whose names hold every word of it (among them the exact match,
    whatever the case, ё or word form) and the MAX_CANDIDATES whose names hold most of its
    distinctive words, each read by its first STEM letters (so a word misspelled further
    on, «техникм», or inflected, «Гимназии», still finds «техникум», «Гимназия»). Only
    those are scored for likeness: the cost of a name does not grow with the directory."""

    def match(self, index: int, imported: ImportedPartner, choice: str) -> PartnerMatch:
        name = _Name.of(imported.name)
        exact = next((p for p in self._holding_every_word(imported.name) if name.key in _keys(p)), None)
        if exact is not None:
            return PartnerMatch(index, imported, exact, [], exact, True)
        similar = self.similar(name)
        chosen = next((p for p in similar if str(p.id) == choice), None)
        decided = chosen is not None or choice == NEW or not similar
        return PartnerMatch(index, imported, None, similar, chosen, decided)

    def similar(self, name: _Name) -> list[m.Partner]:
        scored = []
        for partner in self._holding_any_word(name):
            names = [_Name.of(text) for text in (partner.name, partner.short_name or "") if text.strip()]
            score = max((name.likeness(other) for other in names), default=0.0)
            if score >= SIMILAR_AT:
                scored.append((score, partner))
        scored.sort(key=lambda item: (-item[0], item[1].name))
        return [partner for _score, partner in scored[:MAX_SIMILAR]]

    @staticmethod
    def _holding_every_word(name: str) -> Sequence[m.Partner]:
        every_word = " ".join(search.words(name))
        query, relevance = search.apply(select(m.Partner), m.Partner, every_word, head_only=True)
        if relevance is None:  # no word in the name: nothing to find it by
            return []
        # The shortest names first where the rank ties (PostgreSQL's ts_rank ignores length).
        order = (relevance.rank, func.length(m.Partner.name), m.Partner.id)
        return db.session.execute(query.order_by(*order).limit(MAX_CANDIDATES)).scalars().all()

    @staticmethod
    def _holding_any_word(name: _Name) -> Sequence[m.Partner]:
        beginnings = " ".join(dict.fromkeys(word[:STEM] for word in name.words))
        query, relevance = search.apply(
            select(m.Partner), m.Partner, beginnings, head_only=True, any_word=True
        )
        if relevance is None:
            return []
        return (
            db.session.execute(query.order_by(relevance.rank, m.Partner.id).limit(MAX_CANDIDATES))
            .scalars()
            .all()
        )


def _keys(partner: m.Partner) -> set[str]:
    return {_Name.of(text).key for text in (partner.name, partner.short_name or "") if text.strip()}


def _line_key(partner_id: int | None, section: str, number: int | None, title: str) -> tuple:
    return (partner_id, _text_key(section), number, _text_key(title))


def _text_key(text: str) -> str:
    return re.sub(r"\s*-\s*", "-", normalise(text)).rstrip(" .")


def _position_key(name: str) -> str:
    return _text_key(name)


def _position_name(name: str) -> str:
    name = collapse(name)
    return name[:1].upper() + name[1:]


def _resolve_positions(parts: tuple[str, ...], known: Mapping[str, object]) -> tuple[str, ...]:
    """The positions in a responsible cell split on commas, put together again where
    a known position's name has commas («Руководитель ШМО учителей математики,
    физики, технологии, информатики»); a lone lower-case word («физики») goes on
    the position before it."""
    names: list[str] = []
    start = 0
    while start < len(parts):
        end = next(
            (
                end
                for end in range(len(parts), start, -1)
                if _position_key(", ".join(parts[start:end])) in known
            ),
            start + 1,
        )
        name = ", ".join(parts[start:end])
        if end == start + 1 and names and _position_key(name) not in known and _LOWER_WORD.fullmatch(name):
            names[-1] = f"{names[-1]}, {name}"
        else:
            names.append(name)
        start = end
    return tuple(names)


def _added_fields(school: m.School) -> dict[str, tuple[m.FieldDefinition, bool]]:
    """The fields added to the school's plan lines, by key, and whether this import fills
    each: those the importing user's role fills in (every one for the CLI, the system)."""
    principal = current_principal()
    return {
        d.key: (d, principal is SYSTEM or added_fields.filled_by(d, access.role_of(principal)))
        for d in added_fields.of_record(m.Event, school.id)
    }


def _added_values(
    event: ImportedEvent, definitions: Mapping[str, tuple[m.FieldDefinition, bool]], issues: list[RowIssue]
) -> dict[str, Any]:
    """The added fields' values of an imported line, read by each field's kind; a value
    that does not fit is an error naming the row and the column (the whole file is refused)."""
    values: dict[str, Any] = {}
    for key, text in event.extra.items():
        if key not in definitions:
            continue
        definition, fills = definitions[key]
        if not fills:
            issues.append(
                RowIssue(
                    event.where,
                    gettext(
                        "the column «%(column)s» is filled in by another role: not read.",
                        column=definition.label,
                    ),
                    blocking=False,
                )
            )
            continue
        try:
            values[key] = added_fields.read(definition, text)
        except added_fields.FieldValueError as error:
            issues.append(RowIssue(event.where, gettext("column %(error)s.", error=str(error))))
    return values


def _positions() -> dict[str, m.Position]:
    return {_position_key(p.name): p for p in db.session.execute(select(m.Position)).scalars()}


def _changes(
    event: m.Event, line: Line, definitions: Mapping[str, tuple[m.FieldDefinition, bool]]
) -> tuple[str, ...]:
    imported = line.imported
    changes = []
    if event.timing_text != imported.timing:
        changes.append(gettext("timing"))
    wanted = {_position_key(name) for name in line.responsible if name not in line.unlisted}
    if line.responsible and (
        wanted != {_position_key(p.name) for p in event.responsible}
        or _other_text(line) != event.responsible_other
    ):
        changes.append(gettext("responsible"))
    if imported.audience and (event.audience is None or event.audience.code != imported.audience):
        changes.append(gettext("audience"))
    if imported.grades and imported.grades != event.grades:
        changes.append(gettext("grades"))
    kept = event.extra or {}
    changes.extend(definitions[key][0].label for key, value in line.extra.items() if kept.get(key) != value)
    return tuple(changes)


def summary(preview: Preview) -> list[str]:
    """The preview in a few sentences: the page's heading and the CLI's output."""
    partners = preview.partners
    lines = [
        gettext(
            "School: %(school)s; programme: %(programme)s; academic year %(year)s.",
            school=preview.school.short_name or preview.school.name,
            programme=str(preview.programme),
            year=academic_year_label(preview.year),
        ),
        *_programme_notice(preview),
        gettext(
            "File: %(kind)s; partners: %(partners)s; events: %(events)s.",
            kind=KIND_LABELS[preview.plan.kind],
            partners=len(partners),
            events=len(preview.lines),
        ),
        gettext(
            "Partners: found in the directory — %(found)s, to choose among similar names — %(similar)s, "
            "new — %(new)s.",
            found=sum(1 for p in partners if p.exact is not None),
            similar=sum(1 for p in partners if p.exact is None and p.similar),
            new=sum(1 for p in partners if p.exact is None and not p.similar),
        ),
        gettext(
            "Events: new — %(new)s, changed — %(changed)s, unchanged — %(same)s.",
            new=preview.count("new"),
            changed=preview.count("changed"),
            same=preview.count("same"),
        ),
    ]
    if preview.unread_timings:
        lines.append(
            gettext(
                "Timings not read — %(n)s: they are kept as written; set their months in the event form.",
                n=len(preview.unread_timings),
            )
        )
    if preview.missing:
        lines.append(
            gettext("In the plan but not in the file — %(n)s: they are kept.", n=len(preview.missing))
        )
    if preview.new_positions:
        lines.append(
            gettext(
                "New responsible positions — %(n)s: %(names)s.",
                n=len(preview.new_positions),
                names=", ".join(preview.new_positions),
            )
        )
    if preview.unlisted_positions:
        lines.append(
            gettext(
                "Responsible positions not in the catalog — %(n)s: %(names)s. They will be kept as text "
                "on their lines; an administrator may add them to the catalog.",
                n=len(preview.unlisted_positions),
                names=", ".join(preview.unlisted_positions),
            )
        )
    lines.append(
        gettext(
            "Errors — %(errors)s, warnings — %(warnings)s.",
            errors=len(preview.errors),
            warnings=len(preview.warnings),
        )
    )
    return lines


def _programme_notice(preview: Preview) -> list[str]:
    if not preview.creates_programme:
        return []
    return [
        gettext(
            "The school has no programme for this year: a draft programme «%(title)s» will be created "
            "for %(first)s–%(last)s.",
            title=preview.programme.title,
            first=preview.programme.first_year,
            last=preview.programme.last_year,
        )
    ]


def details(preview: Preview) -> list[str]:
    """The summary, then each partner's match, the timings not read, the problems
    and the lines not in the file: what the CLI prints."""
    out = [*summary(preview), ""]
    for partner in preview.partners:
        if partner.exact is not None:
            match = gettext("found in the directory: %(name)s", name=str(partner.exact))
        elif partner.chosen is not None:
            match = gettext("chosen in the directory: %(name)s", name=str(partner.chosen))
        elif partner.similar:
            match = gettext(
                "a new organisation (similar in the directory: %(names)s)",
                names="; ".join(str(p) for p in partner.similar),
            )
        else:
            match = gettext("a new organisation")
        out.append(
            f"{partner.index + 1}. {partner.imported.name} — {match}; "
            + gettext("events: %(n)s", n=len(partner.lines))
        )
    sections = (
        (
            gettext("Timings not read:"),
            [f"{line.imported.where}: «{line.imported.timing}»" for line in preview.unread_timings],
        ),
        (gettext("Errors:"), [str(issue) for issue in preview.errors]),
        (gettext("Warnings:"), [str(issue) for issue in preview.warnings]),
        (gettext("In the plan but not in the file:"), [f"{e.partner}: {e}" for e in preview.missing]),
    )
    for heading, items in sections:
        if items:
            out.extend(["", heading, *(f"  {item}" for item in items)])
    return out


# --- 3. writing ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    created: int
    updated: int
    unchanged: int
    partners_created: int
    positions_created: int
    programme_created: m.Programme | None = None  # the draft made for a school that had none

    def __str__(self) -> str:
        done = gettext(
            "Plan imported: events added — %(created)s, updated — %(updated)s, unchanged — %(unchanged)s; "
            "new partners — %(partners)s, new positions — %(positions)s.",
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            partners=self.partners_created,
            positions=self.positions_created,
        )
        if self.programme_created is None:
            return done
        return (
            done
            + " "
            + gettext("A draft programme was created: %(programme)s.", programme=str(self.programme_created))
        )


def apply(preview: Preview) -> Result:
    """Write the previewed plan in one transaction: all of it, or nothing."""
    if preview.errors:
        raise ImportRefused(gettext("The file has errors: correct them and import it again."))
    if preview.undecided:
        names = "; ".join(f"«{p.imported.name}»" for p in preview.undecided)
        raise ImportRefused(
            gettext("Choose the organisation from the directory or a new one for: %(names)s.", names=names)
        )
    try:
        result = _write(preview)
        db.session.commit()
    except (IntegrityError, StaleDataError, AccessDenied) as error:
        db.session.rollback()
        raise ImportRefused(
            gettext(
                "Nothing was imported: the database refused the plan (%(error)s).", error=type(error).__name__
            )
        ) from error
    except Exception:
        db.session.rollback()
        raise
    return result


def _write(preview: Preview) -> Result:
    positions = _positions()
    # Positions are a catalog only an admin edits: only an admin's (or the CLI's)
    # preview has new ones (may_add_positions); the ORM guard checks it once more.
    created_positions = [
        m.Position(name=name) for name in preview.new_positions if _position_key(name) not in positions
    ]
    db.session.add_all(created_positions)
    db.session.flush()
    positions.update({_position_key(p.name): p for p in created_positions})
    audiences = {a.code: a for a in db.session.execute(select(m.Audience)).scalars()}
    programme = preview.programme
    if preview.creates_programme:
        db.session.add(programme)
        db.session.flush()
    first, last = programme.first_year, max(programme.first_year, programme.last_year - 1)
    created = updated = unchanged = partners_created = 0
    for match in preview.partners:
        partner = match.chosen
        if partner is None:
            partner = m.Partner(name=match.imported.name, short_name="")
            db.session.add(partner)
            partners_created += 1
        for line in match.lines:
            imported = line.imported
            if line.repeated:
                continue
            responsible = _responsible(line, positions)
            if line.existing is None:
                event = m.Event(
                    school_id=preview.school.id,
                    partner=partner,
                    programme_id=programme.id,
                    number=imported.number,
                    title=imported.title,
                    section=imported.section,
                    audience=audiences.get(imported.audience or "students"),
                    grades=imported.grades,
                    first_year=first,
                    last_year=last,
                    responsible=responsible,
                    responsible_other=_other_text(line),
                    extra=dict(line.extra),
                )
                event.set_timing(imported.timing)
                db.session.add(event)
                created += 1
            elif line.changes:
                _update(line.existing, line, responsible, audiences)
                updated += 1
            else:
                unchanged += 1
    db.session.flush()
    return Result(
        created,
        updated,
        unchanged,
        partners_created,
        len(created_positions),
        programme if preview.creates_programme else None,
    )


def _responsible(line: Line, positions: dict[str, m.Position]) -> list[m.Position]:
    known = [positions[_position_key(name)] for name in line.responsible if name not in line.unlisted]
    return list({id(position): position for position in known}.values())


def _other_text(line: Line) -> str:
    """The line's responsible positions kept as text (not in the catalog)."""
    return ", ".join(line.unlisted)


def _update(
    event: m.Event, line: Line, responsible: list[m.Position], audiences: dict[str, m.Audience]
) -> None:
    imported = line.imported
    if event.timing_text != imported.timing:
        event.set_timing(imported.timing)
    if line.responsible:
        if {p.id for p in responsible} != {p.id for p in event.responsible}:
            event.responsible = responsible
        if _other_text(line) != event.responsible_other:
            event.responsible_other = _other_text(line)
    if imported.audience and imported.audience in audiences:
        event.audience = audiences[imported.audience]
    if imported.grades:
        event.grades = imported.grades
    if any((event.extra or {}).get(key) != value for key, value in line.extra.items()):
        event.extra = {**(event.extra or {}), **line.extra}  # an empty cell keeps the value
