"""Bad input that still got through (issue 10, part 9): numbers out of any range in
URLs, hostile archives to the importer, and what a stored file is served as."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
from typing import Any
from urllib.parse import quote

import pytest
from docx import Document
from flask import Flask
from flask_admin.contrib.sqla import filters as sqla_filters
from openpyxl import Workbook
from sqlalchemy import insert, select

from coop import models as m
from coop import uploads
from coop.extensions import db
from coop.plan_io import importer
from coop.plan_io.imported import PlanFileError

from .conftest import csrf_token
from .test_import_seed import seed_docx, seed_xlsx
from .test_import_web import _uploads, upload

# --- numbers in URLs ------------------------------------------------------------------

HUGE = "99999999999999999999"  # > 2**64
# Values no integer column, page or year holds, and garbage an int() parser may trip on.
BAD_NUMBERS = [
    HUGE,
    "1234567890123456789012345",
    "-" + HUGE,
    "-1",
    "0",
    "9" * 5000,  # beyond Python's int() digit limit: ValueError, not a number
    "1e400",
    "٣",  # an Arabic-Indic digit: str.isdigit() says yes
    "abc",
]
ROLES = ["admin", "school31"]
# Whatever the value, a refusal is one of these, on a Russian page.
REFUSALS = {400, 404}
RUSSIAN = ("Некорректный запрос", "Не найдено")

PAGES = [
    "/admin/event/?page={v}",
    "/admin/event/?page_size={v}",
    "/admin/event/?sort={v}&desc={v}",
    "/admin/event/?search={v}",
    "/admin/event/details/?id={v}",
    "/admin/event/edit/?id={v}",
    "/admin/event/export/csv/?page={v}",
    "/admin/eventexecution/?page={v}",
    "/admin/programme/?page={v}",
    "/admin/history/?page={v}",
    "/admin/event/ajax/lookup/?name=partner&query=&offset={v}&limit={v}",
    "/admin/event/ajax/lookup/?name=programme&query=&offset={v}",
    "/admin/calendar/?year={v}",
    "/admin/calendar/?school={v}",
    "/admin/calendar/?partner={v}&audience={v}&fgos={v}",
    "/admin/calendar/?view=month&month={v}",
    "/admin/calendar/export/json/?school={v}",
    "/admin/calendar/export/json/?year={v}",
    "/admin/dashboard/?year={v}",
    "/admin/dashboard/?school={v}",
    "/api/plan.json?school={v}&year=2019",
    "/api/plan.json?school=1&year={v}",
    "/files/{v}",
]


def _answer_is_not_an_error(response: Any, url: str) -> None:
    """Not a 500; a refusal is a Russian page (or, for the JSON API, a JSON error)."""
    assert response.status_code in {200, 302, *REFUSALS}, (url, response.status_code)
    if response.status_code in REFUSALS:
        text = response.get_data(as_text=True)
        if response.mimetype == "application/json":
            assert response.get_json()["error"], url
        else:
            assert any(words in text for words in RUSSIAN), (url, text[:300])


@pytest.mark.parametrize("key", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_numbers_out_of_range_in_urls_are_refused_not_500(client_as: Any, key: str, page: str) -> None:
    client = client_as(key)
    for value in BAD_NUMBERS:
        url = page.format(v=value)
        response = client.get(url)
        response.close()
        _answer_is_not_an_error(response, url)


@pytest.mark.parametrize(
    "page", ["/admin/event/?page={v}", "/admin/event/ajax/lookup/?name=partner&offset={v}"]
)
@pytest.mark.parametrize("value", [HUGE, "1234567890123456789012345"])
def test_a_page_past_any_number_is_refused(client_as: Any, page: str, value: str) -> None:
    """Python's int has no bound; the database refuses the offset (SQLite's driver with
    OverflowError, PostgreSQL with a data exception) and the user reads why."""
    response = client_as("school31").get(page.format(v=value))
    assert response.status_code == 400
    assert "Некорректный запрос" in response.text and "вне допустимого диапазона" in response.text


# Integer and relation filters of every list (flt0_<index>=<value>), found from the views.
INT_FILTERS = (
    sqla_filters.IntEqualFilter,
    sqla_filters.IntNotEqualFilter,
    sqla_filters.IntGreaterFilter,
    sqla_filters.IntSmallerFilter,
    sqla_filters.IntInListFilter,
    sqla_filters.IntNotInListFilter,
)


def _integer_filter_urls(app: Flask) -> list[str]:
    admin = app.extensions["admin"][0]
    urls = {}  # one of each kind of integer filter per list
    for view in admin._views:
        for index, flt in enumerate(getattr(view, "_filters", None) or ()):
            if isinstance(flt, INT_FILTERS):
                urls.setdefault((view.endpoint, type(flt)), f"/admin/{view.endpoint}/?flt0_{index}={{v}}")
    return list(urls.values())


@pytest.mark.parametrize("key", ROLES)
def test_integer_filters_with_numbers_out_of_range_are_refused_not_500(
    app: Flask, client_as: Any, key: str
) -> None:
    urls = _integer_filter_urls(app)
    assert any(url.startswith("/admin/event/?flt0_") for url in urls)
    client = client_as(key)
    for page in urls:
        for value in ("1234567890123456789012345", "-" + HUGE, f"1,{HUGE}"):
            url = page.format(v=value)
            response = client.get(url)
            response.close()
            _answer_is_not_an_error(response, url)


# --- hostile files to the importer --------------------------------------------------------

SPREADSHEET_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORD_NS = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
COLUMNS = (b"A", b"B", b"C", b"D", b"E")


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _deflated(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _workbook_members() -> dict[str, bytes]:
    """A workbook's parts, with a shared strings part (openpyxl writes none of its own)."""
    wb = Workbook()
    wb.active.append(["Партнёр", "№", "Мероприятие", "Сроки", "Ответственные"])
    out = io.BytesIO()
    wb.save(out)
    members = _members(out.getvalue())
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )
    members["xl/sharedStrings.xml"] = b'<sst xmlns="' + SPREADSHEET_NS + b'"/>'
    return members


def shared_string_bomb(megabytes: float, rows: int) -> bytes:
    """One long shared string, and every cell of `rows` rows showing it."""
    members = _workbook_members()
    header = b"".join(b"<si><t>" + text.encode() + b"</t></si>" for text in ("Мероприятие", "Сроки"))
    members["xl/sharedStrings.xml"] = (
        b'<sst xmlns="'
        + SPREADSHEET_NS
        + b'"><si><t>'
        + b"A" * int(megabytes * 2**20)
        + b"</t></si>"
        + header
        + b"</sst>"
    )
    sheet = [b'<worksheet xmlns="' + SPREADSHEET_NS + b'"><sheetData>']
    sheet.append(b'<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v>2</v></c></row>')
    for r in range(2, rows + 2):
        cells = b"".join(b'<c r="%s%d" t="s"><v>0</v></c>' % (column, r) for column in COLUMNS[:2])
        sheet.append(b'<row r="%d">%s</row>' % (r, cells))
    members["xl/worksheets/sheet1.xml"] = b"".join(sheet) + b"</sheetData></worksheet>"
    return _deflated(members)


def many_cells_workbook(cells: int) -> bytes:
    """A sheet of `cells` tiny number cells (no coordinates: 20 bytes each)."""
    members = _workbook_members()
    row = b"<row>" + b"<c><v>1</v></c>" * 40 + b"</row>"
    members["xl/worksheets/sheet1.xml"] = (
        b'<worksheet xmlns="'
        + SPREADSHEET_NS
        + b'"><sheetData>'
        + row * (cells // 40)
        + b"</sheetData></worksheet>"
    )
    return _deflated(members)


def _document_members() -> dict[str, bytes]:
    out = io.BytesIO()
    Document().save(out)
    return _members(out.getvalue())


def _cell(text: bytes = b"", merge: bool = False) -> bytes:
    properties = b'<w:tcPr><w:vMerge w:val="continue"/></w:tcPr>' if merge else b""
    return b"<w:tc>" + properties + b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p></w:tc>"


def merged_text_document(megabytes: float, rows: int) -> bytes:
    """A plan table whose first event's long title is merged down over `rows` rows."""
    members = _document_members()
    header = b"<w:tr>" + b"".join(_cell(t.encode()) for t in ("№", "Мероприятие", "Сроки")) + b"</w:tr>"
    first = b"<w:tr>" + _cell(b"1") + _cell(b"A" * int(megabytes * 2**20)) + _cell(b"x") + b"</w:tr>"
    merged = b"<w:tr>" + _cell(b"2") + _cell(merge=True) + _cell(merge=True) + b"</w:tr>"
    members["word/document.xml"] = (
        b'<w:document xmlns:w="'
        + WORD_NS
        + b'"><w:body><w:tbl>'
        + header
        + first
        + merged * rows
        + b"</w:tbl></w:body></w:document>"
    )
    return _deflated(members)


def paragraphs_document(count: int) -> bytes:
    members = _document_members()
    members["word/document.xml"] = (
        b'<w:document xmlns:w="' + WORD_NS + b'"><w:body>' + b"<w:p/>" * count + b"</w:body></w:document>"
    )
    return _deflated(members)


def lying_sizes(data: bytes, member: str) -> bytes:
    """The archive with `member`'s declared size (in both headers) set to 100 bytes."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    encoded = info.filename.encode()
    # The local header: sizes at offsets 18 (compressed) and 22 (uncompressed).
    struct.pack_into("<I", out, info.header_offset + 22, 100)
    # The central directory entry: find it by its name, sizes at 20 and 24.
    central = out.rfind(b"PK\x01\x02", 0, out.rfind(encoded))
    struct.pack_into("<I", out, central + 24, 100)
    return bytes(out)


def hostile_files() -> list[tuple[str, bytes, str]]:
    return [
        # 64 MB of shared string in a 70 KB file: refused by what the archive declares.
        ("shared-strings-64mb.xlsx", shared_string_bomb(64, 100), "распаковывается"),
        # 7 MB shared string (a part under the limit) in every cell of 3000 rows: 42 GB of text.
        ("shared-strings-in-every-cell.xlsx", shared_string_bomb(7, 3000), "знаков текста"),
        ("million-cells.xlsx", many_cells_workbook(380_000), "ячеек"),
        ("merged-title.docx", merged_text_document(7, 4000), "знаков текста"),
        ("paragraphs.docx", paragraphs_document(1_000_000), "элементов"),
        ("wide.csv", b"a;" * (2 * 2**20), "ячеек"),
    ]


@pytest.fixture(scope="module")
def hostile() -> list[tuple[str, bytes, str]]:
    return hostile_files()


def test_hostile_files_are_small_on_disk(hostile: list[tuple[str, bytes, str]]) -> None:
    for name, data, _message in hostile:
        assert len(data) < importer.MAX_BYTES, name


def test_hostile_files_are_refused_before_they_are_unpacked(
    app: Flask, hostile: list[tuple[str, bytes, str]]
) -> None:
    """Each is refused with its reason in Russian, before the expansion: memory stays
    within a sanity bound far below what parsing the file would take."""
    with app.test_request_context():
        for name, data, message in hostile:
            tracemalloc.start()
            try:
                with pytest.raises(PlanFileError) as caught:
                    importer.read_plan(data, name)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert caught.value.code == "too_big", name
            assert message in str(caught.value), (name, str(caught.value))
            assert peak < 64 * 2**20, (name, peak // 2**20)


def test_a_member_that_unpacks_to_more_than_it_declares_is_refused(app: Flask) -> None:
    """zipfile trusts the directory; the importer reads every member in chunks and
    refuses one that gives more than it said (here: 100 bytes declared, 2 MB inside)."""
    members = _workbook_members()
    members["xl/styles.xml"] = members["xl/styles.xml"] + b" " * (2 * 2**20)
    data = lying_sizes(_deflated(members), "xl/styles.xml")
    with app.test_request_context(), pytest.raises(PlanFileError) as caught:
        importer.read_plan(data, "plan.xlsx")
    assert caught.value.code in ("too_big", "corrupt")


def test_the_web_import_refuses_hostile_files_on_its_form(
    app: Flask, client_as: Any, hostile: list[tuple[str, bytes, str]]
) -> None:
    client = client_as("school31")
    for name, data, message in hostile:
        started = time.monotonic()
        reply = upload(client, data, name)
        text = reply.get_data(as_text=True)
        assert reply.status_code == 400, name
        assert 'class="alert alert-danger"' in text and message in text, name
        assert time.monotonic() - started < 30, name  # a sanity bound, not a benchmark
    assert _uploads(app) == []


def test_a_real_plan_still_reads(app: Flask) -> None:
    with app.test_request_context():
        assert importer.read_plan(seed_docx(), "plan.docx").events
        assert importer.read_plan(seed_xlsx(), "plan.xlsx").events


# --- what a stored file is served as -----------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64)


def _office(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr(part, b"<x/>")
    return out.getvalue()


# (content, the name it came with, the name it is stored and offered under)
NAMED_FILES = [
    (PDF, "Отчёт.hta", "Отчёт.pdf"),
    (PDF, "Отчёт.pdf", "Отчёт.pdf"),
    (PDF, "Отчёт", "Отчёт.pdf"),
    (PDF, "Отчёт.PDF", "Отчёт.PDF"),
    (PNG, "фото.html", "фото.png"),
    (JPEG, "фото.jpeg", "фото.jpeg"),
    (JPEG, "фото.svg", "фото.jpg"),
    (_office("word/document.xml"), "Договор.exe", "Договор.docx"),
    (_office("xl/workbook.xml"), "Смета.xlsx.js", "Смета.xlsx.xlsx"),
]


def _check_download_csp(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp, csp
    assert "'self'" not in csp and "nonce-" not in csp, csp  # not the site's policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.usefixtures("fresh_db")
def test_a_stored_file_is_offered_under_the_extension_of_its_checked_type(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    client = client_as("school31")
    with app.app_context():
        agreement = (
            db.session.execute(select(m.Agreement.id).filter_by(school_id=ids["school31"])).scalars().first()
        )
    for data, given, offered in NAMED_FILES:
        page = client.get(f"/admin/agreement/details/?id={agreement}")
        reply = client.post(
            f"/admin/agreement/attach/?id={agreement}",
            data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(data), given)},
            content_type="multipart/form-data",
        )
        assert reply.status_code == 302, given
        with app.app_context():
            stored = (
                db.session.execute(select(m.StoredFile).order_by(m.StoredFile.id.desc())).scalars().first()
            )
            file_id, original_name, content_type = stored.id, stored.original_name, stored.content_type
        assert original_name == offered, given
        extension = original_name.lower().rsplit(".", 1)[-1]
        assert f".{extension}" in (uploads.EXTENSIONS[content_type], *uploads.ALSO.get(content_type, ()))
        download = client.get(f"/files/{file_id}")
        download.close()
        assert download.status_code == 200
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;"), disposition
        assert quote(offered) in disposition, (disposition, offered)
        assert ".hta" not in disposition and ".exe" not in disposition and ".html" not in disposition
        _check_download_csp(download)


@pytest.mark.usefixtures("fresh_db")
def test_a_file_stored_before_under_a_foreign_extension_is_served_under_its_types(
    app: Flask, client_as: Any, ids: dict[str, int]
) -> None:
    """Rows stored before this rule keep their name in the table; the download fixes it."""
    with app.app_context():
        agreement = (
            db.session.execute(select(m.Agreement).filter_by(school_id=ids["school31"])).scalars().first()
        )
        row = m.StoredFile(
            school_id=agreement.school_id,
            owner_table=agreement.__tablename__,
            owner_id=agreement.id,
            original_name="Отчёт.hta",
            stored_name="0123456789abcdef0123456789abcdef.pdf",
            content_type=uploads.PDF,
            size=len(PDF),
            sha256="0" * 64,
        )
        db.session.add(row)
        db.session.flush()
        db.session.execute(insert(m.stored_file_contents).values(stored_file_id=row.id, data=PDF))
        db.session.commit()
        file_id = row.id
    download = client_as("school31").get(f"/files/{file_id}")
    download.close()
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert quote("Отчёт.pdf") in download.headers["Content-Disposition"]
    _check_download_csp(download)


@pytest.mark.parametrize("fmt", ["json", "xlsx", "docx", "ics"])
def test_plan_exports_are_sandboxed_attachments(client_as: Any, ids: dict[str, int], fmt: str) -> None:
    response = client_as("school31").get(f"/admin/calendar/export/{fmt}/?school={ids['school31']}&year=2019")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    _check_download_csp(response)


def test_list_exports_are_sandboxed_attachments(client_as: Any) -> None:
    response = client_as("school31").get("/admin/event/export/csv/")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    _check_download_csp(response)


def test_pages_keep_the_sites_policy(client_as: Any) -> None:
    csp = client_as("school31").get("/admin/event/").headers["Content-Security-Policy"]
    assert "nonce-" in csp and "sandbox" not in csp
