"""Reading plans from files: the layouts schools use, and every kind of bad input.

Bad input is a PlanFileError with a code and a message naming the problem and
where it is, or a row-level error in the plan; never another exception.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator

import pytest
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from flask import Flask
from openpyxl import Workbook

from coop.plan_io import importer, xlsx_out
from coop.plan_io.imported import PlanFileError, audience_code, join_timing, split_responsible

from .test_import_seed import HEADER, seed_docx, seed_xlsx


@pytest.fixture(autouse=True)
def _context(app: Flask) -> Iterator[None]:
    with app.test_request_context():  # messages are translated in a request
        yield


def docx_bytes(doc: Document) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xlsx_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plan_docx(
    *rows: tuple[str, ...] | str, name: str = "Муниципальное бюджетное учреждение «Музей»"
) -> Document:
    doc = Document()
    doc.add_paragraph("Сетевой план на 2020/2021 учебный год")
    if name:
        doc.add_paragraph(name)
    table = doc.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        if isinstance(row, str):
            cells[0].merge(cells[3]).text = row
        else:
            for cell, text in zip(cells, row, strict=False):
                cell.text = text
    return doc


def refused(data: bytes, filename: str = "") -> PlanFileError:
    with pytest.raises(PlanFileError) as caught:
        importer.read_plan(data, filename)
    assert str(caught.value).strip()
    return caught.value


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- layouts that read -------------------------------------------------------------------


def test_text_helpers() -> None:
    assert join_timing("октябрь,\n\nмарт") == "октябрь, март"
    assert join_timing("октябрь\nмарт") == "октябрь, март"
    assert join_timing("ноябрь -\nапрель\n\n") == "ноябрь - апрель"
    assert split_responsible("Руководитель ШМО \n\nучителей математики") == (
        "Руководитель ШМО учителей математики",
    )
    assert split_responsible("Заместитель директора по УВР\nКлассные руководители") == (
        "Заместитель директора по УВР",
        "Классные руководители",
    )
    assert [
        audience_code(t) for t in ("учителя-предметники", "Учащиеся", "для родителей", "Педагогический вуз")
    ] == [
        "teachers",
        "students",
        "parents",
        None,
    ]


def test_a_docx_renamed_to_csv_is_read_by_its_content() -> None:
    plan = importer.read_plan(seed_docx(), "план.csv")
    assert (plan.kind, len(plan.events)) == ("docx", 48)


def test_partner_named_in_a_merged_row_inside_the_table_and_sections_in_the_number_column() -> None:
    doc = Document()
    doc.add_paragraph("Мероприятия с партнёрами")  # a heading, not a partner's name
    table = doc.add_table(rows=0, cols=4)
    cells = table.add_row().cells
    cells[0].merge(cells[3]).text = "ГПОУ «Новокузнецкий строительный техникум»"
    for cell, text in zip(table.add_row().cells, HEADER, strict=True):
        cell.text = text
    table.add_row().cells[0].text = "учащиеся"  # a section written in «№», not merged
    for cell, text in zip(
        table.add_row().cells, ("1", "Экскурсия", "октябрь", "Классные руководители"), strict=True
    ):
        cell.text = text
    table.add_row().cells[0].text = "родители"
    for cell, text in zip(
        table.add_row().cells, ("1", "Собрание", "март", "Классные руководители"), strict=True
    ):
        cell.text = text
    plan = importer.read_plan(docx_bytes(doc))
    assert [p.name for p in plan.partners] == ["ГПОУ «Новокузнецкий строительный техникум»"]
    assert [(e.number, e.section, e.audience) for e in plan.events] == [
        (1, "учащиеся", "students"),
        (1, "родители", "parents"),
    ]


def test_a_table_split_in_two_continues_the_plan_and_vertical_merges_repeat() -> None:
    doc = plan_docx(("1.", "Экскурсия", "октябрь", "Классные руководители"))
    second = doc.add_table(rows=2, cols=4)
    for row, values in zip(
        second.rows, (("2.", "Квест", "ноябрь", "Педагог-организатор"), ("3.", "Урок", "", "")), strict=True
    ):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    # «ноябрь» and the responsible merged down over rows 2 and 3, as Word writes it.
    second.cell(0, 2).merge(second.cell(1, 2))
    second.cell(0, 3).merge(second.cell(1, 3))
    plan = importer.read_plan(docx_bytes(doc))
    assert len(plan.partners) == 1
    assert [(e.number, e.timing, e.responsible) for e in plan.events] == [
        (1, "октябрь", ("Классные руководители",)),
        (2, "ноябрь", ("Педагог-организатор",)),
        (3, "ноябрь", ("Педагог-организатор",)),
    ]


def test_tables_inside_content_controls_are_read() -> None:
    doc = plan_docx(("1.", "Экскурсия", "октябрь", "Классные руководители"))
    body = doc.element.body
    table = body.find(qn("w:tbl"))
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    table.addprevious(sdt)
    sdt.append(content)
    content.append(table)
    plan = importer.read_plan(docx_bytes(doc))
    assert [e.title for e in plan.events] == ["Экскурсия"]


def test_unreadable_timing_is_kept_and_odd_numbers_are_warnings() -> None:
    doc = plan_docx(
        ("1.1", "Экскурсия", "по согласованию", "Классные руководители"),
        ("", "Музейный урок", "", ""),
    )
    plan = importer.read_plan(docx_bytes(doc))
    assert [(e.number, e.timing) for e in plan.events] == [(None, "по согласованию"), (None, "")]
    assert plan.errors == []
    assert any("1.1" in w.message for w in plan.warnings)


def test_xlsx_with_a_partner_column_merged_down_and_a_title_merged_across() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["Организация-партнёр", "№", "Мероприятие", "Сроки проведения", "Ответственный", "Место проведения"]
    )
    ws.append(["Музей", 1, "Экскурсия", "октябрь", "Классные руководители", "музей"])
    ws.append([None, 2, "Урок в музее: «Кузнецкая крепость»", None, "Учитель истории", None])
    ws.append([None, 3, "Квест", "в течение года", "Педагог-организатор", None])
    ws.merge_cells("A2:A4")  # the partner, once for its three events
    ws.merge_cells("C3:D3")  # a title spread over the timing column: no timing, not the title twice
    plan = importer.read_plan(xlsx_bytes(wb))
    assert [p.name for p in plan.partners] == ["Музей"]
    assert [(e.number, e.title, e.timing) for e in plan.events] == [
        (1, "Экскурсия", "октябрь"),
        (2, "Урок в музее: «Кузнецкая крепость»", ""),
        (3, "Квест", "в течение года"),
    ]


def test_xlsx_partner_blocks_read_like_word() -> None:
    plan = importer.read_plan(seed_xlsx())
    assert (len(plan.partners), len(plan.events), plan.issues) == (5, 48, [])


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1251", ";"), ("utf-16", "\t")],
)
def test_csv_encodings_and_separators(encoding: str, delimiter: str) -> None:
    lines = [
        delimiter.join(("Партнёр", "№ п/п", "Наименование мероприятия", "Сроки", "Ответственные")),
        delimiter.join(
            ("Краеведческий музей", "1", "Экскурсия «Кузнецк»", '"октябрь, март"', "Учитель истории")
        ),
    ]
    plan = importer.read_plan("\r\n".join(lines).encode(encoding))
    assert [(p.name, e.title, e.timing) for p in plan.partners for e in p.events] == [
        ("Краеведческий музей", "Экскурсия «Кузнецк»", "октябрь, март")
    ]


def test_our_own_xlsx_export_reads_back() -> None:
    # Covered end to end in test_import_flow.py; here only that its extra columns
    # (months, state, execution) do not stop the header from being found.
    wb = Workbook()
    ws = wb.active
    ws.append(["Сетевой план МБОУ «СОШ № 31» на 2019/2020 учебный год"])
    ws.append([*xlsx_out.HEADER, *xlsx_out.MONTH_ABBR.values()])
    ws.append(
        ["КемГУ", 1, "Дни открытых дверей", "апрель", "апрель", "Родители (законные представители)", "9-11"]
    )
    plan = importer.read_plan(xlsx_bytes(wb))
    assert [(e.title, e.audience, e.grades) for e in plan.events] == [
        ("Дни открытых дверей", "parents", "9-11")
    ]


# --- bad input ------------------------------------------------------------------------------


def test_empty_file() -> None:
    assert refused(b"").code == "empty"


def test_file_over_the_size_limit() -> None:
    error = refused(b"x" * (importer.MAX_BYTES + 1))
    assert error.code == "too_large"
    assert "5" in str(error)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "unknown_format"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "unknown_format"),
        (b"{\\rtf1\\ansi hello}", "unknown_format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old_format"),
        (b"\x98\x98 not text", "encoding"),
    ],
    ids=["png", "pdf", "rtf", "doc-xls", "bad-encoding"],
)
def test_not_a_plan_format(data: bytes, code: str) -> None:
    assert refused(data).code == code


def test_a_renamed_file() -> None:
    error = refused("просто текст".encode(), "plan.docx")
    assert error.code == "renamed"
    assert ".docx" in str(error)


@pytest.mark.parametrize(
    "name", ["plan.docx", "plan.xlsx", "plan.doc", "plan.xls", "plan.xlsm", "plan.docm", "PLAN.XLSX"]
)
def test_text_named_as_any_office_file_is_refused_as_renamed(name: str) -> None:
    error = refused("№;Партнёр;Наименование мероприятия\n".encode(), name)
    assert error.code == "renamed"
    assert name.lower()[name.index(".") :] in str(error)


@pytest.mark.parametrize("name", ["plan.csv", "plan.txt", "plan", ""])
def test_text_named_as_text_or_not_at_all_is_read_as_csv(name: str) -> None:
    assert importer.detect_kind("№;Партнёр;Наименование мероприятия\n".encode(), name) == "csv"


@pytest.mark.parametrize(
    "members",
    [
        {"readme.txt": b"hello"},
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
    ],
    ids=["zip", "odt"],
)
def test_zip_that_is_no_office_file(members: dict[str, bytes]) -> None:
    assert refused(zip_of(members)).code == "unknown_format"


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_file(cut: float) -> None:
    data = seed_docx()
    assert refused(data[: int(len(data) * cut)]).code == "corrupt"


def test_damaged_part_inside_a_sound_archive() -> None:
    with zipfile.ZipFile(io.BytesIO(seed_docx())) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["word/document.xml"] = members["word/document.xml"][:5000]  # XML cut mid-way
    assert refused(zip_of(members)).code == "corrupt"


@pytest.mark.parametrize("kind", ["xlsm", "docm"])
@pytest.mark.parametrize("sign", ["both", "content type", "macro part"])
def test_macro_enabled_files_are_refused(kind: str, sign: str) -> None:
    """By either sign alone: a workbook saved with macros, or one whose macros were kept
    under a name without them."""
    source = seed_xlsx() if kind == "xlsm" else seed_docx()
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    prefix = "xl" if kind == "xlsm" else "word"
    if sign != "content type":
        members[f"{prefix}/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 macro"
    if sign != "macro part":
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            b"sheet.main+xml" if kind == "xlsm" else b"document.main+xml",
            b"sheet.macroEnabled.main+xml" if kind == "xlsm" else b"document.macroEnabled.main+xml",
        )
    error = refused(zip_of(members), f"plan.{kind}")
    assert error.code == "macro"
    assert ".xlsm" in str(error)


def test_document_without_a_plan_table() -> None:
    doc = Document()
    doc.add_paragraph("Пояснительная записка. Сетевой план будет приложен позже.")
    signatures = doc.add_table(rows=1, cols=3)
    for cell, text in zip(signatures.rows[0].cells, ("ФИО", "Должность", "Подпись"), strict=True):
        cell.text = text
    error = refused(docx_bytes(doc))
    assert error.code == "no_plan_table"
    assert "«ФИО»" in str(error)


def test_table_with_unknown_columns() -> None:
    doc = Document()
    table = doc.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Колонка 1", "Колонка 2", "Колонка 3"), strict=True):
        cell.text = text
    error = refused(docx_bytes(doc))
    assert error.code == "no_plan_table"
    assert "«Колонка 2»" in str(error)


def test_table_without_a_timing_column_is_an_error_at_the_table() -> None:
    doc = Document()
    doc.add_paragraph("Муниципальное учреждение «Музей»")
    table = doc.add_table(rows=2, cols=3)
    for cell, text in zip(
        table.rows[0].cells, ("№ п/п", "Наименование мероприятия", "Ответственные"), strict=True
    ):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("1", "Экскурсия", "Учитель истории"), strict=True):
        cell.text = text
    plan = importer.read_plan(docx_bytes(doc))
    [error] = plan.errors
    assert "1" in error.where
    assert "«Сроки»" in error.message


def test_plan_table_without_events() -> None:
    assert refused(docx_bytes(plan_docx())).code == "no_events"


def test_rows_without_a_name_or_a_partner_are_errors() -> None:
    plan = importer.read_plan(docx_bytes(plan_docx(("2.", "", "октябрь", "Учитель истории"), name="")))
    assert plan.partners == []
    assert len(plan.errors) == 1
    plan = importer.read_plan(
        docx_bytes(plan_docx(("1.", "Экскурсия", "октябрь", "Учитель истории"), name=""))
    )
    assert any("2" in e.where for e in plan.errors)  # row 2 of the table has no partner


def test_formulas_are_refused_with_their_cell() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Партнёр", "№", "Мероприятие", "Сроки", "Ответственные"])
    ws.append(["Музей", 1, '=B2&" экскурсия"', "октябрь", "Учитель истории"])
    ws.append(["Музей", "=B2+1", "Квест", "ноябрь", "Учитель истории"])
    plan = importer.read_plan(xlsx_bytes(wb))
    assert [e.where for e in plan.errors] == [plan.errors[0].where, plan.errors[1].where]
    assert "C2" in plan.errors[0].message
    assert "B3" in plan.errors[1].message
    assert plan.events == []


def test_text_that_only_looks_like_a_formula_is_text() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Партнёр", "№", "Мероприятие", "Сроки", "Ответственные"])
    ws.append(["Музей", 1, "'-«Изучение профессиональных намерений»", "октябрь", "Учитель истории"])
    ws.append(["Музей", 2, None, "ноябрь", "Учитель истории"])
    ws["C3"].value, ws["C3"].data_type = "=конкурс", "s"  # text in Excel, not a formula
    plan = importer.read_plan(xlsx_bytes(wb))
    assert plan.errors == []
    assert [e.title for e in plan.events] == ["-«Изучение профессиональных намерений»", "=конкурс"]


def test_sheet_with_too_many_rows() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Партнёр", "№", "Мероприятие", "Сроки", "Ответственные"])
    for n in range(5001):
        ws.append(["Музей", n, "Экскурсия", "октябрь", "Учитель"])
    assert refused(xlsx_bytes(wb)).code == "too_big"


def test_zip_bomb_is_refused_before_unpacking() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"wordprocessingml.document.main+xml")
        archive.writestr("word/document.xml", b"<" + b" " * (importer.MAX_UNPACKED + 1))
    assert refused(out.getvalue()).code == "too_big"


@pytest.mark.parametrize("ref", ["A1:XFD1048576", "F1:Z2000"])
def test_huge_merged_ranges_are_refused_before_loading(ref: str) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Партнёр", "№", "Мероприятие", "Сроки", "Ответственные"])
    ws.merge_cells("F1:G2")
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(wb))) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet].replace(b'ref="F1:G2"', f'ref="{ref}"'.encode())
    assert refused(zip_of(members)).code == "too_big"  # in milliseconds, not hours


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"wordprocessingml.document.main+xml")
        archive.writestr("word/document.xml", b"<" + b" " * (importer.MAX_UNPACKED + 1))
    return out.getvalue()


def _lying_size(member: str) -> bytes:
    """A plan whose member unpacks to more than the archive's directory says it does."""
    members = {"[Content_Types].xml": b"wordprocessingml.document.main+xml", member: b"x" * 100_000}
    data = bytearray(zip_of(members))
    at = data.find(member.encode())  # the local header's name; its sizes end 4 bytes before
    local, central = data.rfind(b"PK\x03\x04", 0, at), data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 1000)  # uncompressed size, local header
    struct.pack_into("<I", data, central + 24, 1000)  # and in the central directory
    return bytes(data)


# What the person uploading reads, word for word: what the file is and what to do with it.
REFUSALS = {
    "empty": (lambda: b"", "", "empty", "Файл пуст."),
    "too large": (
        lambda: b"x" * (importer.MAX_BYTES + 1),
        "",
        "too_large",
        "Размер файла превышает 5 МБ: сетевой план занимает гораздо меньше.",
    ),
    "old format": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "plan.doc",
        "old_format",
        "Это файл Word или Excel старого формата (.doc, .xls) или файл, защищённый паролем: "
        "сохраните его в формате .docx или .xlsx без пароля.",
    ),
    "pdf": (
        lambda: b"%PDF-1.7\n",
        "",
        "unknown_format",
        "Файлы PDF и RTF не читаются: сохраните план в формате .docx, .xlsx или .csv.",
    ),
    "binary": (
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
        "",
        "unknown_format",
        "Файл не является документом Word, книгой Excel или таблицей CSV (.docx, .xlsx, .csv).",
    ),
    "renamed": (
        lambda: "текст".encode(),
        "plan.xlsx",
        "renamed",
        "У файла расширение .xlsx, но в нём нет ни документа Word, ни книги Excel: файл переименовали "
        "или сохранили в другом формате. Сохраните его из Word или Excel в формате .docx или .xlsx.",
    ),
    "zip": (
        lambda: zip_of({"readme.txt": b"hello"}),
        "",
        "unknown_format",
        "Файл является ZIP-архивом, а не документом Word или книгой Excel.",
    ),
    "odt": (
        lambda: zip_of({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}),
        "",
        "unknown_format",
        "Файлы OpenDocument (.odt, .ods) не читаются: сохраните план в формате .docx или .xlsx.",
    ),
    "macro": (
        lambda: zip_of({"[Content_Types].xml": b"macroEnabled", "x": b"1"}),
        "",
        "macro",
        "Файлы с макросами (.xlsm, .docm) не принимаются: сохраните план в формате .xlsx или .docx.",
    ),
    "corrupt": (lambda: seed_docx()[:2000], "", "corrupt", "Файл повреждён: его архив не открывается."),
    # zipfile stops at the declared size and fails the CRC: a part never parsed is read too.
    "size lies": (
        lambda: _lying_size("word/media/image1.png"),
        "",
        "corrupt",
        "Файл повреждён: его архив не открывается.",
    ),
    "zip bomb": (
        _zip_bomb,
        "",
        "too_big",
        "Файл распаковывается более чем в 60 МБ или одна из его частей более чем в 8 МБ: "
        "это не сетевой план.",
    ),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_each_refusal_says_in_russian_what_the_file_is_and_what_to_do(app: Flask, case: str) -> None:
    make, name, code, message = REFUSALS[case]
    with app.test_request_context():
        error = refused(make(), name)
    assert (error.code, str(error)) == (code, message)


def _members(*sizes: tuple[str, int]) -> list[zipfile.ZipInfo]:
    members = []
    for name, size in sizes:
        member = zipfile.ZipInfo(name)
        member.file_size = size
        members.append(member)
    return members


def test_an_archive_is_refused_past_each_limit_its_directory_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each limit at its edge (small ones here, the same comparisons): at it read, past it refused."""
    monkeypatch.setattr(importer, "MAX_MEMBERS", 4)
    monkeypatch.setattr(importer, "MAX_UNPACKED", 1000)
    monkeypatch.setattr(importer, "MAX_XML_PART", 300)

    def refuses(*sizes: tuple[str, int]) -> bool:
        try:
            importer._check_unpacked_sizes(_members(*sizes))
        except PlanFileError as error:
            assert error.code == "too_big"
            return True
        return False

    assert not refuses(*[(f"m{n}", 1) for n in range(4)])
    assert refuses(*[(f"m{n}", 1) for n in range(5)])
    assert not refuses(("word/media/a.png", 600), ("word/media/b.png", 400))
    assert refuses(("word/media/a.png", 600), ("word/media/b.png", 401))
    for part in ("word/document.xml", "WORD/DOCUMENT.XML", "_rels/.rels", "xl/drawings/vmlDrawing1.VML"):
        assert not refuses((part, 300)), part
        assert refuses((part, 301)), part
    assert not refuses(("word/media/image1.png", 301))  # the XML parts' limit is theirs alone


def test_a_file_of_exactly_the_size_limit_is_read() -> None:
    assert importer.detect_kind(b"x" * importer.MAX_BYTES) == "csv"


def test_an_empty_zip_archive_is_a_zip_not_text(app: Flask) -> None:
    empty = zip_of({})
    assert empty.startswith(b"PK\x05\x06")  # an archive of no member: its end record alone
    with app.test_request_context():
        error = refused(empty)
    assert (error.code, str(error)) == (
        "unknown_format",
        "Файл является ZIP-архивом, а не документом Word или книгой Excel.",
    )


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"], ids=["utf-16-le", "utf-16-be"])
def test_utf16_text_with_its_byte_order_mark_is_text_though_it_holds_zero_bytes(bom: bytes) -> None:
    codec = "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"
    data = bom + "№;Партнёр;Наименование мероприятия\n".encode(codec)
    assert b"\x00" in data
    assert importer.detect_kind(data) == "csv"


def test_binary_is_sniffed_in_the_first_8_kib_alone() -> None:
    """A zero byte there is no text; one further on is the CSV reader's to judge."""
    assert refused(b"a" * 8191 + b"\x00").code == "unknown_format"
    assert importer.detect_kind(b"a" * 8192 + b"\x00") == "csv"
