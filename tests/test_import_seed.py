"""Seed 004's network plan rebuilt as Word, Excel and CSV files, imported into a
school: the import's «done when».

SEED_PLAN is the plan of shared/seeds/004_7c29a7336e48ba2a.txt as written there:
each partner's name in the paragraphs before its table (with the seed's blank
paragraphs and non-breaking spaces), cells of several paragraphs («октябрь,»,
«», «март»), «педагог - психолог», section rows «учителя-предметники» and
«учащиеся» with numbering restarting under each, the техникум's missing № 4.
The expected months and audiences come from coop/seed/demo_data.py, the seed's
transcription, so the two readings check each other.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import pytest
from docx import Document
from flask import Flask
from openpyxl import Workbook
from openpyxl.styles import Alignment
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer
from coop.plan_io.export import FORMATS
from coop.plan_io.imported import RowIssue
from coop.plan_io.plan import build_plan
from coop.seed import demo_data
from coop.timing import parse_timing

PROSE_BEFORE = (
    "Пояснительная записка",
    "Федеральным законом от 29 декабря 2012г. № 27Э-ФЗ «Об образовании в Российской Федерации» "
    "(часть 1 статьи 13 и статья 15) определена возможность реализации дополнительных "
    "образовательных программ в сетевой форме.",
    "Данная программа рассчитана на 2019-2023гг. для работы в рамках муниципальной инновационной площадки.",
    "Содержание программы",
    "",
    "Содержание программы составляет сетевой план – совокупность мероприятий, ежегодно реализуемых "
    "совместно с сетевыми партнерами.",
)
PROSE_AFTER = (
    "",
    "Ожидаемые результаты",
    "Для муниципальной системы образования:",
    "· программа сотрудничества с образовательными учреждениями города Новокузнецка как модель структуры "
    "сетевого взаимодействия;",
    "для родителей (законных представителей) несовершеннолетних учащихся",
)
HEADER = ("№ п/п", "Наименование мероприятия", "сроки", "ответственные")

Cells = tuple[str, str, str, str]  # № п/п, name, timing, responsible; "\n" between paragraphs
SeedPlan = tuple[tuple[tuple[str, ...], tuple[str | Cells, ...]], ...]  # (name paragraphs, rows)
EditablePlan = list[tuple[tuple[str, ...], list[str | Cells]]]  # the same, to change in a test

SEED_PLAN: SeedPlan = (
    (
        (
            "Государственное образовательное учреждение высшего профессионального образования ",
            "«Кемеровский государственный университет» ",
            "и Новокузнецкий институт (филиал) ",
            "федерального государственного бюджетного образовательного учреждения высшего образования ",
            "«Кемеровский государственный университет»",
        ),
        (
            (
                "1.",
                "Распространение наглядных пособий, буклетов о ВУЗе с целью профориентации школьников",
                "сентябрь",
                "Ответственный за профориентацию",
            ),
            (
                "2.",
                "Анкетирование и тестирование старшеклассников",
                "октябрь,\n\nмарт",
                "Ответственный за профориентацию, педагог - психолог",
            ),
            (
                "3.",
                "Выставка-ярмарка учебных мест, организованных ВУЗом",
                "ноябрь - апрель\n\n",
                "Ответственный за профориентацию, классные руководители",
            ),
            ("4.", "Дни открытых дверей", "апрель", "Ответственный за профориентацию, классные руководители"),
            (
                "5.",
                "Родительские собрания по профориентационной тематике",
                "ноябрь,\n\nмарт",
                "Ответственный за профориентацию, классные руководители",
            ),
            ("6.", "Всероссийская олимпиада школьников", "ноябрь", "Заместитель директора по УВР"),
            (
                "7.",
                "Областной конкурс юных журналистов «Молодые ветра»",
                "ноябрь-декабрь",
                "Заместитель директора по УВР",
            ),
            (
                "8.",
                "Региональный форум детской и молодежной журналистики «Новый ты»",
                "ноябрь",
                "Заместитель директора по УВР",
            ),
            (
                "9.",
                "Международная очно-заочная научно-практическая конференция обучающихся «Мир моих "
                "исследований»",
                "апрель",
                "Заместитель директора по УВР",
            ),
            (
                "10.",
                "Международная научно-практическая конференция ",
                "апрель",
                "Заместитель директора по УВР",
            ),
            ("11.", "Журналистская площадка «Это все о Победе»", "май", "Заместитель директора по УВР"),
        ),
    ),
    (
        (
            "Федеральное государственное бюджетное образовательное учреждение высшего образования ",
            "«Сибирский государственный индустриальный университет»",
        ),
        (
            (
                "1.",
                "Распространение наглядных пособий, буклетов о ВУЗе с целью профориентации школьников",
                "сентябрь",
                "Ответственный за профориентацию",
            ),
            (
                "2.",
                "Анкетирование и тестирование старшеклассников",
                "октябрь,\n\nмарт",
                "Ответственный за профориентацию, педагог - психолог",
            ),
            (
                "3.",
                "Выставка-ярмарка учебных мест, организованных ВУЗом",
                "ноябрь - апрель\n\n",
                "Ответственный за профориентацию, классные руководители",
            ),
            ("4.", "Дни открытых дверей", "апрель", "Ответственный за профориентацию, классные руководители"),
            (
                "5.",
                "Родительские собрания по профориентационной тематике",
                "ноябрь,\n\nмарт",
                "Ответственный за профориентацию, классные руководители",
            ),
            ("6.", "Фестиваль робототехники", "март", "Научный консультант, заместитель директора по ВР"),
        ),
    ),
    (
        (
            "Автономная некоммерческая организация дополнительного профессионального образования",
            "«Институт непрерывного образования»",
        ),
        (
            "учителя-предметники",
            (
                "1. ",
                "Участие учителей-предметников в методических мероприятиях АНО ДПО ИНО",
                "2019-2023гг.",
                "Заместители директора по УВР",
            ),
            (
                "2. ",
                "Участие учителей-предметников в информационных совещаниях  АНО ДПО ИНО",
                "2019-2023гг.",
                "Руководители ШМО",
            ),
            (
                "3. ",
                "Участие в ежегодной научно-практической конференции учителей",
                "2019-2023гг.",
                "Руководители ШМО",
            ),
            (
                "4. ",
                "Курсовая подготовка учителей- предметников",
                "2019-2023гг.",
                "Заместители директора по УВР",
            ),
            "учащиеся",
            (
                "1. ",
                "Дистанционный конкурс сочинений «Я и мир вокруг меня»",
                "октябрь",
                "Руководители ШМО учителей рус. языка",
            ),
            (
                "2. ",
                "Многопредметная олимпиада для учащихся 4-х классов",
                "октябрь",
                "Руководители ШМО учителей начальных классов",
            ),
            (
                "3. ",
                "Тематический интеллектуальный конкурс «Математические планеты» для учащихся 7-х классов",
                "ноябрь",
                "Руководитель ШМО учителей математики, физики, технологии, информатики",
            ),
            (
                "4. ",
                "Интеллектуальный конкурс для учащихся 1-х классов «Умники и умницы»",
                "ноябрь",
                "Руководитель ШМО учителей начальных классов",
            ),
            (
                "5. ",
                "Творческий дистанционный конкурс «Математика вокруг нас» для учащихся 5-х классов",
                "декабрь",
                "Руководитель ШМО \n\nучителей математики",
            ),
            (
                "6. ",
                "Творческий конкурс «Рождественские встречи» для учащихся 5-9 классов",
                "декабрь",
                "Заместители директора по УВР",
            ),
            (
                "7. ",
                "Заочный конкурс проектов на английском языке «Край, которым я горжусь» для "
                "учащихся 5-11-х классов",
                "ноябрь",
                "Руководитель ШМО учителей иностранного языка",
            ),
            (
                "8. ",
                "Олимпиада по математике для учащихся 5-9 классов",
                "январь",
                "Руководитель ШМО \n\nучителей математики",
            ),
            (
                "9. ",
                "Олимпиада по английскому языку для учащихся 7-8-х классов",
                "февраль",
                "Руководитель ШМО учителей иностранного языка",
            ),
            (
                "10. ",
                "Олимпиада по окружающему миру для учащихся 3-х классов",
                "февраль",
                "Руководитель ШМО учителей начальных классов",
            ),
            (
                "11. ",
                "Конкурс чтецов произведений мировой художественной литературы «Как прекрасен этот мир!»",
                "февраль",
                "Заместитель директора по УВР",
            ),
            (
                "12. ",
                "Интеллектуальная игра «Кто хочет стать отличником?»",
                "март",
                "Заместители директора по УВР",
            ),
            ("13. ", "Олимпиада по русскому языку", "март", "Руководитель ШМО учителей рус. языка"),
            (
                "14. ",
                "Творческий конкурс для учащихся 1-4 классов «Это надо живым!»",
                "апрель",
                "Руководитель ШМО учителей нач. классов",
            ),
        ),
    ),
    (
        (
            "Государственное профессиональное образовательное учреждение «Новокузнецкий "
            "транспортно-технологический техникум»",
        ),
        (
            (
                "1.",
                "Распространение наглядных пособий, буклетов техникуме с целью профориентации школьников",
                "сентябрь",
                "Ответственный за профориентацию",
            ),
            (
                "2.",
                "Анкетирование и тестирование старшеклассников \n\n-«Изучение профессиональных "
                "намерений и планов учащихся»,\n\n- «Исследование готовности учащихся к выбору "
                "профессии»,\n\n- «Изучение личностных особенностей и способностей учащихся»",
                "октябрь,\n\nмарт",
                "Ответственный за профориентацию, педагог - психолог",
            ),
            (
                "3.",
                "Участие в конкурсах, проектах, мероприятиях, соревнованиях профориентационной "
                "направленности",
                "в течение года",
                "Ответственный за профориентацию, учителя- предметники, классные руководители",
            ),
            (
                "5.",
                "Посещение выставки-ярмарки учебных мест, организованных учебным заведением",
                "ноябрь - май\n\n",
                "Ответственный за профориентацию, классные руководители",
            ),
            ("6.", " Дни открытых дверей", "март", "Ответственный за профориентацию, классные руководители"),
            (
                "7.",
                "Организация профессиональных проб",
                "в течение года",
                "Ответственный за профориентацию, учителя - предметники, классные руководители",
            ),
            (
                "8.",
                "Родительские собрания по профориентационной тематике",
                "ноябрь,\n\nмарт",
                "Ответственный за профориентацию, классные руководители",
            ),
        ),
    ),
    (
        (
            "\xa0Муниципальное бюджетное \xa0учреждение дополнительного образования\xa0",
            "",
            "«Центр детского (юношеского) технического творчества ",
            "",
            "«Меридиан»\xa0",
        ),
        (
            (
                "1.",
                "Открытые городские соревнования профессионального мастерства по методике   "
                "«WorldSkills» (компетенция  «Журналистика»)",
                "сентябрь",
                "Заместитель директора по УВР",
            ),
            (
                "2.",
                "Областная олимпиада компетенциям, входящим в чемпионат  «WorldSkills» "
                "(компетенция  «Журналистика»)",
                "сентябрь",
                "Заместитель директора по УВР",
            ),
            ("3.", "Городской конкурс журналистских материалов", "ноябрь", "Заместитель директора по УВР"),
            (
                "4.",
                "Городской открытый медиафестиваль FashionМЕДИА ",
                "апрель",
                "Заместитель директора по УВР",
            ),
            (
                "5.",
                "Конкурс профессионального мастерства «МЕДИАпрофиjunior»",
                "апрель",
                "Заместитель директора по УВР",
            ),
            (
                "6.",
                "Публикации журналистских материалов в детской городской газете «Меридиан»",
                "В течение года",
                "Заместитель директора по УВР",
            ),
        ),
    ),
)


def seed_rows() -> Iterator[tuple[str, str, Cells | None]]:
    """(partner name as one line, section heading or "", event cells or None for the heading)."""
    for name, rows in SEED_PLAN:
        partner = " ".join(" ".join(name).split())
        for row in rows:
            yield (partner, row, None) if isinstance(row, str) else (partner, "", row)


def _fill(cell, text: str) -> None:
    """A cell of several paragraphs: the text's lines, blank ones included."""
    first, *rest = text.split("\n")
    cell.paragraphs[0].text = first
    for line in rest:
        cell.add_paragraph(line)


def editable_plan(partners: int | None = None) -> EditablePlan:
    """SEED_PLAN (its first `partners`) as lists, for a test to change before seed_docx."""
    return [(name, list(rows)) for name, rows in SEED_PLAN[:partners]]


def seed_docx(plan: SeedPlan | EditablePlan = SEED_PLAN) -> bytes:
    doc = Document()
    for text in PROSE_BEFORE:
        doc.add_paragraph(text)
    for name, rows in plan:
        for text in name:
            doc.add_paragraph(text)
        table = doc.add_table(rows=1, cols=4)
        for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            if isinstance(row, str):  # a section row merged across the table
                cells[0].merge(cells[3]).text = row
            else:
                for cell, text in zip(cells, row, strict=True):
                    _fill(cell, text)
        doc.add_paragraph("")
    for text in PROSE_AFTER:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def seed_xlsx() -> bytes:
    """Partner blocks as in Word: the name merged over the row, then the header."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Сетевой план МБОУ «СОШ № 31» на 2019/2020 учебный год"])
    for name, rows in SEED_PLAN:
        ws.append([])
        ws.append([" ".join(" ".join(name).split())])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=4)
        ws.append(list(HEADER))
        for row in rows:
            if isinstance(row, str):
                ws.append([row])
                ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=4)
            else:
                ws.append(list(row))
                for cell in ws[ws.max_row]:
                    cell.alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def seed_csv(encoding: str = "utf-8-sig", delimiter: str = ";") -> bytes:
    """A partner column and a section column, one row per event."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Организация-партнёр", *HEADER, "Раздел"])
    section_of: dict[str, str] = {}
    for partner, section, cells in seed_rows():
        if cells is None:
            section_of[partner] = section
            continue
        writer.writerow([partner, *cells, section_of.get(partner, "")])
    return out.getvalue().encode(encoding)


BUILDERS: dict[str, Callable[[], bytes]] = {
    "docx": seed_docx,
    "xlsx": seed_xlsx,
    "csv": seed_csv,
    "csv-cp1251-comma": lambda: seed_csv("cp1251", ","),
}


def expected_lines() -> list[tuple[int, int, tuple[int, ...], bool, str]]:
    """(partner index, number, months, all year, audience code) of every event of the seed."""
    lines = []
    for index, partner in enumerate(demo_data.SCHOOL_31.partners):
        for event in partner.events:
            timing = parse_timing(event.timing_text)
            lines.append((index, event.number, timing.months, timing.all_year, event.audience))
    return lines


@pytest.fixture
def empty_school(app: Flask, fresh_db: None) -> Iterator[int]:
    """A school with a programme 2019–2023 and no plan yet."""
    with app.app_context():
        school = m.School(name="МБОУ «СОШ № 99» г. Новокузнецка", short_name="МБОУ «СОШ № 99»")
        db.session.add(school)
        db.session.flush()
        db.session.add(
            m.Programme(
                school_id=school.id, title="Программа сотрудничества", first_year=2019, last_year=2023
            )
        )
        db.session.commit()
        yield school.id


def _import(school_id: int, data: bytes, year: int = 2019) -> importer.Result:
    school = db.session.get(m.School, school_id)
    preview = importer.prepare(importer.read_plan(data), school, year)
    assert preview.errors == [], preview.errors
    return importer.apply(preview)


def _plan_of(school_id: int) -> list[m.Event]:
    return list(
        db.session.execute(
            select(m.Event).where(m.Event.school_id == school_id).order_by(m.Event.id)
        ).scalars()
    )


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_the_seed_plan_imports_into_an_empty_school(app: Flask, empty_school: int, kind: str) -> None:
    with app.app_context():
        plan = importer.read_plan(BUILDERS[kind]())
        assert plan.errors == []
        assert len(plan.partners) == 5
        assert [len(p.events) for p in plan.partners] == [11, 6, 18, 7, 6]

        result = _import(empty_school, BUILDERS[kind]())
        assert (result.created, result.updated, result.unchanged) == (48, 0, 0)
        events = _plan_of(empty_school)
        partners = list(dict.fromkeys(event.partner for event in events))
        directory = [demo_data.KEMSU, demo_data.SIBGIU, demo_data.INO, demo_data.NTTT, demo_data.MERIDIAN]
        # The directory already has them (the demo's school 31 works with them): linked, not duplicated.
        assert [p.name for p in partners] == [d.name for d in directory]
        assert result.partners_created == 0
        got = [
            (
                partners.index(e.partner),
                e.number,
                e.months,
                e.all_year,
                e.audience.code if e.audience else None,
            )
            for e in events
        ]
        assert got == expected_lines()
        assert all(e.timing_recognized and e.state == "approved" for e in events)
        assert all((e.first_year, e.last_year) == (2019, 2022) for e in events)


def test_sections_titles_and_responsible_as_written(app: Flask, empty_school: int) -> None:
    with app.app_context():
        _import(empty_school, seed_docx())
        events = _plan_of(empty_school)
        ino = [e for e in events if e.partner.short_name == "АНО ДПО ИНО"]
        assert [e.section for e in ino] == ["учителя-предметники"] * 4 + ["учащиеся"] * 14
        assert [e.number for e in ino] == [1, 2, 3, 4, *range(1, 15)]
        survey = next(
            e for e in events if e.title.startswith("Анкетирование") and e.partner.short_name == "НТТТ"
        )
        assert survey.title.splitlines() == [
            "Анкетирование и тестирование старшеклассников",
            "-«Изучение профессиональных намерений и планов учащихся»,",
            "- «Исследование готовности учащихся к выбору профессии»,",
            "- «Изучение личностных особенностей и способностей учащихся»",
        ]
        assert survey.timing_text == "октябрь, март"
        assert {p.name for p in survey.responsible} == {"Ответственный за профориентацию", "Педагог-психолог"}
        maths = next(e for e in ino if e.title.startswith("Олимпиада по математике"))
        assert [p.name for p in maths.responsible] == ["Руководитель ШМО учителей математики"]
        assert [e.number for e in events if e.partner.short_name == "НТТТ"] == [1, 2, 3, 5, 6, 7, 8]


def test_reimport_changes_nothing(app: Flask, empty_school: int) -> None:
    with app.app_context():
        _import(empty_school, seed_docx())
        before = [(e.id, e.version, e.timing_text) for e in _plan_of(empty_school)]
        counts = {
            model: db.session.scalar(select(func.count()).select_from(model))
            for model in (m.Partner, m.Position)
        }
        for data in (seed_docx(), seed_xlsx(), seed_csv()):
            result = _import(empty_school, data)
            assert (result.created, result.updated, result.unchanged) == (0, 0, 48)
        db.session.expire_all()
        assert [(e.id, e.version, e.timing_text) for e in _plan_of(empty_school)] == before
        assert counts == {
            model: db.session.scalar(select(func.count()).select_from(model))
            for model in (m.Partner, m.Position)
        }


def test_a_corrected_file_updates_adds_and_reports_what_it_lacks(app: Flask, empty_school: int) -> None:
    with app.app_context():
        _import(empty_school, seed_docx())
        corrected = editable_plan()
        kemsu, sibgiu = corrected[0][1], corrected[1][1]
        kemsu[0] = (*kemsu[0][:2], "сентябрь, октябрь", kemsu[0][3])  # a changed timing
        kemsu[1] = (*kemsu[1][:3], "Педагог-психолог")  # another position, known
        kemsu.append(("12.", "Летняя школа юного журналиста", "июнь", "Заместитель директора по УВР"))
        sibgiu.pop()  # «Фестиваль робототехники» is no longer in the file
        data = seed_docx(corrected)
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        changed = {line.imported.number: line.changes for line in preview.lines if line.status == "changed"}
        assert changed == {1: ("сроки",), 2: ("ответственные",)}
        assert [e.title for e in preview.missing] == ["Фестиваль робототехники"]
        result = importer.apply(preview)
        assert (result.created, result.updated, result.unchanged) == (1, 2, 45)
        events = _plan_of(empty_school)
        assert len(events) == 49  # nothing deleted silently
        first = events[0]
        assert (first.timing_text, first.months) == ("сентябрь, октябрь", (9, 10))
        assert [p.name for p in events[1].responsible] == ["Педагог-психолог"]


# Two titles of a line, and whether an import takes them for one: case, ё, spacing around a
# dash and a final full stop aside.
TITLES = [
    ("Экскурсия в музей.", "экскурсия в музей", True),
    ("Экскурсия в музей . ", "Экскурсия в музей", True),
    ("Форум «Наука - детям»", "Форум «Наука-детям»", True),
    ("Ёлка", "Елка", True),
    (". Экскурсия", "Экскурсия", False),  # only a final stop
    ("Фестиваль XX", "Фестиваль", False),
    ("Наука – детям", "Наука детям", False),
]


@pytest.mark.parametrize(("title", "other", "same"), TITLES)
def test_titles_taken_for_one_line(title: str, other: str, same: bool) -> None:
    assert (importer._text_key(title) == importer._text_key(other)) is same


def test_a_line_repeated_in_the_file_is_imported_once(app: Flask, empty_school: int) -> None:
    plan = editable_plan()
    kemsu = plan[0][1]
    kemsu.insert(2, kemsu[0])  # the first line once more, before the partner's other lines
    data = seed_docx(plan)
    with app.app_context():
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        lines = preview.partners[0].lines
        assert [line.repeated for line in lines] == [False, False, True] + [False] * (len(lines) - 3)
        first, again = lines[0].imported.where, lines[2].imported.where
        repeats = [str(issue) for issue in preview.warnings if first in issue.message]
        assert repeats == [f"{again}: повтор строки ({first}): будет импортировано один раз."]
        assert preview.errors == []
        result = importer.apply(preview)
        assert (result.created, len(_plan_of(empty_school))) == (48, 48)


def test_a_line_under_another_section_is_another_line(app: Flask, empty_school: int) -> None:
    """A line is found without its section only when the file has none (a spreadsheet):
    under another section of the same partner, the same number and title are a new line."""
    plan = editable_plan()
    ino = plan[2][1]
    teachers_first = ino[1]
    assert ino[0] == "учителя-предметники" and not isinstance(teachers_first, str)
    ino += ["родители", teachers_first]
    data = seed_docx(plan)
    with app.app_context():
        _import(empty_school, seed_docx())
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        statuses = {
            (line.imported.section, line.imported.number): line.status for line in preview.partners[2].lines
        }
        assert statuses["учителя-предметники", 1] == "same"
        assert statuses["родители", 1] == "new"
        assert (preview.count("new"), preview.count("same")) == (1, 48)


def test_the_lines_of_a_partner_still_to_be_chosen_are_not_missing(app: Flask, empty_school: int) -> None:
    """While the person has not said which organisation a name is, its lines in the plan
    are not reported as lacking from the file."""
    plan = editable_plan()
    plan[1] = (("Сибирский индустриальный университет",), plan[1][1])  # СибГИУ, said otherwise
    data = seed_docx(plan)
    with app.app_context():
        _import(empty_school, seed_docx())
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        sibgiu = preview.partners[1]
        assert (sibgiu.decided, [str(p) for p in sibgiu.similar]) == (False, ["СибГИУ"])
        assert preview.missing == []
        chosen = {sibgiu.field_name: "new"}  # another organisation: the plan's СибГИУ lines lack
        preview = importer.prepare(importer.read_plan(data), school, 2019, chosen)
        assert len(preview.missing) == len(SEED_PLAN[1][1]) > 0


def test_a_changed_audience_or_grades_is_named_and_written(app: Flask, empty_school: int) -> None:
    def plan(*lines: str) -> bytes:
        rows = [f"{n};Краеведческий музей;{line};Учитель истории" for n, line in enumerate(lines, 1)]
        return "\n".join(
            ["№;Партнёр;Наименование мероприятия;Сроки;Аудитория;Классы;Ответственные", *rows]
        ).encode()

    with app.app_context():
        _import(empty_school, plan("Экскурсия;октябрь;учащиеся;5-7", "Лекция;ноябрь;учащиеся;5-7"))
        school = db.session.get(m.School, empty_school)
        again = plan("Экскурсия;октябрь;родители;5-7", "Лекция;ноябрь;учащиеся;8-9")
        preview = importer.prepare(importer.read_plan(again), school, 2019)
        assert [line.changes for line in preview.lines] == [("целевая аудитория",), ("классы",)]
        assert importer.apply(preview).updated == 2
        db.session.expire_all()
        events = _plan_of(empty_school)
        assert [(e.title, e.audience.code, e.grades) for e in events] == [
            ("Экскурсия", "parents", "5-7"),
            ("Лекция", "students", "8-9"),
        ]


def test_an_import_is_refused_with_errors_or_organisations_to_choose(app: Flask, empty_school: int) -> None:
    """Word for word, and nothing written."""
    plan = editable_plan(2)
    plan[0] = (("Кемеровский государственный университет",), plan[0][1])  # КемГУ, said otherwise
    plan[1] = (("Сибирский индустриальный университет",), plan[1][1])  # СибГИУ, said otherwise
    data = seed_docx(plan)
    with app.app_context():
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        with pytest.raises(importer.ImportRefused) as refused:
            importer.apply(preview)
        assert str(refused.value) == (
            "Выберите организацию из перечня или новую организацию для: "
            "«Кемеровский государственный университет»; «Сибирский индустриальный университет»."
        )
        preview = importer.prepare(importer.read_plan(seed_docx()), school, 2019)
        preview.issues.append(RowIssue("строка 2", "нет названия"))
        with pytest.raises(importer.ImportRefused) as refused:
            importer.apply(preview)
        assert str(refused.value) == "В файле есть ошибки: исправьте их и повторите импорт."
        assert _plan_of(empty_school) == []


def test_partners_chosen_as_new_are_made_with_their_lines(app: Flask, empty_school: int) -> None:
    """A name like one in the directory but chosen as new, and a name like none: each becomes a
    partner of that full name (its short name for the person to give) with its own lines."""
    plan = editable_plan(2)
    plan[1] = (("Сибирский индустриальный университет",), plan[1][1])  # like «СибГИУ», said new
    plan.append((("Новокузнецкий драматический театр",), [("1.", "Спектакль", "март", "Учитель литературы")]))
    with app.app_context():
        school = db.session.get(m.School, empty_school)
        partners_before = db.session.execute(select(func.count()).select_from(m.Partner)).scalar_one()
        chosen = {importer.partner_field(1): importer.NEW}
        result = importer.apply(importer.prepare(importer.read_plan(seed_docx(plan)), school, 2019, chosen))
        assert (result.created, result.partners_created) == (
            len(SEED_PLAN[0][1]) + len(SEED_PLAN[1][1]) + 1,
            2,
        )
        assert str(result) == (
            f"План импортирован: мероприятий добавлено — {result.created}, обновлено — 0, без изменений — 0; "
            "новых организаций-партнёров — 2, новых должностей — 1."  # «Учитель литературы»
        )
        lines_of: dict[tuple[str, str], list[str]] = {}
        for event in _plan_of(empty_school):
            lines_of.setdefault((event.partner.name, event.partner.short_name), []).append(event.title)
        made = {key: titles for key, titles in lines_of.items() if key[0] != demo_data.KEMSU.name}
        assert made == {
            ("Сибирский индустриальный университет", ""): [
                row[1] for row in SEED_PLAN[1][1] if not isinstance(row, str)
            ],
            ("Новокузнецкий драматический театр", ""): ["Спектакль"],
        }
        partners_after = db.session.execute(select(func.count()).select_from(m.Partner)).scalar_one()
        assert partners_after == partners_before + 2


def test_the_details_name_how_each_partner_was_matched(app: Flask, empty_school: int) -> None:
    """What the CLI prints after the summary: each partner's table, how its organisation was
    found (exactly, chosen, new with similar ones offered, new) and its number of lines."""
    plan = editable_plan(2)
    plan[1] = (("Сибирский индустриальный университет",), plan[1][1])
    plan.append((("Новокузнецкий драматический театр",), [("1.", "Спектакль", "март", "Учитель литературы")]))
    data = seed_docx(plan)
    with app.app_context():
        school = db.session.get(m.School, empty_school)
        kemsu = " ".join(" ".join(SEED_PLAN[0][0]).split())
        sibgiu = db.session.execute(select(m.Partner).filter_by(short_name="СибГИУ")).scalar_one()
        counts = (len(SEED_PLAN[0][1]), len(SEED_PLAN[1][1]))
        for choice, sibgiu_match in (
            ({}, "новая организация (похожие в перечне организаций: СибГИУ)"),
            ({importer.partner_field(1): str(sibgiu.id)}, "выбрана в перечне организаций: СибГИУ"),
        ):
            preview = importer.prepare(importer.read_plan(data), school, 2019, choice)
            out = importer.details(preview)
            blank = out.index("")
            assert out[blank + 1 : blank + 4] == [
                f"1. {kemsu} — найдена в перечне организаций: КемГУ (НФИ КемГУ); мероприятий: {counts[0]}",
                f"2. Сибирский индустриальный университет — {sibgiu_match}; мероприятий: {counts[1]}",
                "3. Новокузнецкий драматический театр — новая организация; мероприятий: 1",
            ]


def test_the_summary_and_details_of_a_preview_word_for_word(app: Flask, empty_school: int) -> None:
    """What the CLI prints: the summary (a partner found, one with similar names, two new; a
    line new, changed, the same, missing), each partner's match (the similar partners one after
    another), then each section that has items under its heading, one item a line."""
    header = "№;Партнёр;Наименование мероприятия;Сроки;Ответственные\n"
    museum = "Краеведческий музей"
    in_the_plan = (
        f"3;{museum};Экскурсия;май;Учитель истории\n"  # the same in the file
        f"6;{museum};Беседа;март;Учитель истории\n"  # another month in the file
        f"7;{museum};Викторина;апрель;Учитель истории\n"  # not in the file
    )
    data = (
        header
        + "1;Детский театр «Сказка»;Спектакль;когда-нибудь;Учитель литературы\n"
        + "2;Детский театр «Сказка»;Кукольный спектакль;март;Учитель литературы\n"
        + f"3;{museum};Экскурсия;май;Учитель истории\n"
        + f"4;{museum};Лекция;апрель;Учитель истории\n"
        + f"6;{museum};Беседа;февраль;Учитель истории\n"
        + "5;Новокузнецкий цирк;Представление;май;Классный руководитель\n"
        + "8;Городской планетарий;Лекция о звёздах;январь;Учитель физики\n"
    ).encode()
    with app.app_context():
        _import(empty_school, (header + in_the_plan).encode())
        db.session.add_all(
            m.Partner(name=name, short_name="") for name in ("Театр «Сказка»", "Детский театр «Сказка» № 2")
        )
        db.session.commit()
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        preview.issues += [
            RowIssue("строка 3", "нет названия"),
            RowIssue("строка 4", "лишний столбец", blocking=False),
        ]
        where = preview.lines[0].imported.where
        assert importer.details(preview) == [
            "Школа: МБОУ «СОШ № 99»; программа: Программа сотрудничества (2019–2023); 2019/2020 учебный год.",
            "Файл: CSV; организаций-партнёров: 4; мероприятий: 7.",
            "Организации-партнёры: найдены в перечне организаций — 1, "
            "требуют выбора среди похожих наименований — 1, новые — 2.",
            "Мероприятия: новые — 5, изменённые — 1, без изменений — 1.",
            "Нераспознанные сроки — 1: они сохраняются в том виде, как записаны; "
            "укажите месяцы в форме мероприятия.",
            "Есть в плане, но нет в файле — 1: эти мероприятия сохраняются.",
            "Новые должности ответственных — 3: Учитель литературы, Классный руководитель, Учитель физики.",
            "Ошибки — 1, предупреждения — 1.",
            "",
            "1. Детский театр «Сказка» — новая организация (похожие в перечне организаций: "
            "Детский театр «Сказка» № 2; Театр «Сказка»); мероприятий: 2",
            "2. Краеведческий музей — найдена в перечне организаций: Краеведческий музей; мероприятий: 3",
            "3. Новокузнецкий цирк — новая организация; мероприятий: 1",
            "4. Городской планетарий — новая организация; мероприятий: 1",
            "",
            "Нераспознанные сроки:",
            f"  {where}: «когда-нибудь»",
            "",
            "Ошибки:",
            "  строка 3: нет названия",
            "",
            "Предупреждения:",
            "  строка 4: лишний столбец",
            "",
            "Есть в плане, но нет в файле:",
            "  Краеведческий музей: 7. Викторина",
        ]


def test_the_programme_of_a_year_is_the_latest_begun_that_runs_in_it(app: Flask, empty_school: int) -> None:
    """A year from its first to its last year included; of several, the one begun last, and
    of those begun the same year, the one made last."""
    with app.app_context():
        school = db.session.get(m.School, empty_school)
        spans = {}
        for first, last in ((2021, 2025), (2021, 2024), (2020, 2023), (2024, 2027)):
            programme = m.Programme(
                school_id=empty_school, title=f"Программа {first}–{last}", first_year=first, last_year=last
            )
            db.session.add(programme)
            db.session.flush()  # made one after another: their ids in this order
            spans[first, last] = programme.title
        db.session.commit()

        def found(year: int) -> str | None:
            programme = importer.find_programme(school, year)
            return None if programme is None else programme.title

        assert found(2018) is None
        assert found(2019) == "Программа сотрудничества"  # the fixture's 2019–2023
        assert found(2020) == spans[2020, 2023]
        assert found(2022) == spans[2021, 2024]  # begun in 2021 as 2021–2025, made after it
        assert found(2024) == found(2027) == spans[2024, 2027]
        assert found(2028) is None


def test_a_draft_programme_is_named_for_the_school_by_its_short_name(app: Flask) -> None:
    with app.app_context():
        named = {"name": "Муниципальное бюджетное общеобразовательное учреждение «СОШ № 99»"}
        for short, shown in (("МБОУ «СОШ № 99»", "МБОУ «СОШ № 99»"), ("", named["name"])):
            school = m.School(id=999, short_name=short, **named)
            programme = importer.draft_programme(school, 2021, [parse_timing("сентябрь 2019 – май 2024")])
            assert programme.title == f"Программа сотрудничества {shown}"
            assert (programme.school_id, programme.first_year, programme.last_year) == (999, 2019, 2024)


def test_a_school_without_a_programme_is_told_of_its_draft_before_and_after(
    app: Flask, fresh_db: None
) -> None:
    with app.app_context():
        school = m.School(name="МБОУ «СОШ № 98» г. Новокузнецка", short_name="МБОУ «СОШ № 98»")
        db.session.add(school)
        db.session.commit()
        preview = importer.prepare(importer.read_plan(seed_docx()), school, 2019)
        assert preview.creates_programme
        assert importer.summary(preview)[1] == (
            "У школы нет программы на этот год: будет создана программа-черновик "
            "«Программа сотрудничества МБОУ «СОШ № 98»» на 2019–2023."
        )
        assert str(importer.apply(preview)) == (
            "План импортирован: мероприятий добавлено — 48, обновлено — 0, без изменений — 0; "
            "новых организаций-партнёров — 0, новых должностей — 0. "
            "Создана программа-черновик: Программа сотрудничества МБОУ «СОШ № 98» (2019–2023)."
        )


def test_another_years_plan_is_neither_matched_nor_missing(app: Flask, empty_school: int) -> None:
    with app.app_context():
        _import(empty_school, seed_docx())
        db.session.add(
            m.Programme(school_id=empty_school, title="Программа 2024–2027", first_year=2024, last_year=2027)
        )
        db.session.commit()
        school = db.session.get(m.School, empty_school)
        preview = importer.prepare(importer.read_plan(seed_docx()), school, 2024)
        assert preview.programme.first_year == 2024
        assert (preview.count("new"), preview.count("same"), preview.missing) == (48, 0, [])


def test_preparing_reads_the_plan_in_as_many_statements_for_any_size(app: Flask, empty_school: int) -> None:
    """The lines already in the plan come with their partners, positions and audiences
    (one statement each), not one statement a line."""
    statements = []

    def count(*_args: object) -> None:
        statements.append(1)

    with app.app_context():
        school = db.session.get(m.School, empty_school)
        plan = importer.read_plan(seed_docx())
        counts = []
        for _ in range(2):  # with the plan empty, then with its 48 lines
            db.session.expire_all()
            sa_event.listen(db.engine, "before_cursor_execute", count)
            try:
                importer.prepare(plan, school, 2019)
            finally:
                sa_event.remove(db.engine, "before_cursor_execute", count)
            counts.append(len(statements))
            statements.clear()
            _import(empty_school, seed_docx())
        assert counts[1] <= counts[0] + 3, counts  # the lines, and one statement for each relation


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_our_own_export_imports_back_unchanged(app: Flask, fresh_db: None, fmt: str) -> None:
    with app.app_context():
        school = db.session.execute(select(m.School).filter_by(short_name="МБОУ «СОШ № 31»")).scalar_one()
        data = FORMATS[fmt].render(build_plan(school, 2019))
        preview = importer.prepare(importer.read_plan(data), school, 2019)
        assert preview.errors == []
        assert (preview.count("new"), preview.count("changed"), preview.count("same")) == (0, 0, 48)
        assert preview.missing == []
