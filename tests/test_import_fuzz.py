"""The readers against arbitrary and damaged files: a plan or a PlanFileError, nothing else.

Arbitrary bytes and arbitrary CSV text (hypothesis), and mutated copies of real
.docx and .xlsx plans: bytes flipped or cut in the archive, and XML damaged
inside an archive that is still sound.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.plan_io import importer
from coop.plan_io.imported import ImportedPlan, PlanFileError

from .test_import_seed import seed_docx, seed_xlsx

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SOURCES = {"docx": seed_docx(), "xlsx": seed_xlsx()}
CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖ№.,;:-–«»\"' \n\t0123456789=+@")),
    max_size=30,
)
HEADERS = [
    "№ п/п",
    "Наименование мероприятия",
    "Сроки",
    "Ответственные",
    "Партнёр",
    "Раздел",
    "Аудитория",
    "",
]


@pytest.fixture(autouse=True)
def _context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def read(data: bytes, filename: str = "") -> ImportedPlan | None:
    """The plan, or None for a PlanFileError; any other exception fails the test."""
    try:
        plan = importer.read_plan(data, filename)
    except PlanFileError as error:
        assert str(error).strip()
        return None
    assert isinstance(plan, ImportedPlan)
    for issue in plan.issues:
        assert issue.message.strip()
    return plan


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from(["", "plan.docx", "plan.xlsx", "plan.csv"]))
def test_arbitrary_bytes(data: bytes, filename: str) -> None:
    read(data, filename)


@FUZZ
@given(
    st.lists(st.lists(st.one_of(CELL_TEXT, st.sampled_from(HEADERS)), max_size=8), max_size=15),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
)
def test_arbitrary_csv(rows: list[list[str]], delimiter: str, encoding: str) -> None:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    try:
        data = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return
    read(data, "plan.csv")


@FUZZ
@given(
    st.sampled_from(sorted(SOURCES)),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
)
def test_flipped_bytes(kind: str, flips: list[tuple[int, int]]) -> None:
    data = bytearray(SOURCES[kind])
    for position, value in flips:
        data[position % len(data)] = value
    read(bytes(data))


@FUZZ
@given(st.sampled_from(sorted(SOURCES)), st.integers(0, 10**6))
def test_cut_files(kind: str, length: int) -> None:
    source = SOURCES[kind]
    read(source[: length % len(source)])


def _members(source: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@FUZZ
@given(
    st.sampled_from(
        [("docx", "word/document.xml"), ("xlsx", "xl/worksheets/sheet1.xml"), ("xlsx", "xl/workbook.xml")]
    ),
    st.integers(0, 10**6),
    st.integers(1, 400),
    st.sampled_from([b"", b"<", b">", b'"', b'w:gridSpan w:val="-3"', b"<w:vMerge/>", b"\x00", b"\xff\xfe"]),
)
def test_damaged_xml_in_a_sound_archive(
    part: tuple[str, str], start: int, length: int, insert: bytes
) -> None:
    kind, name = part
    members = _members(SOURCES[kind])
    xml = members[name]
    start %= len(xml)
    members[name] = xml[:start] + insert + xml[start + length :]
    read(_zip(members))
