"""Tests for the plan writers: Word, Excel, JSON and iCalendar, on hand-built plans."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table
from icalendar import Calendar
from openpyxl import load_workbook

from coop.plan_io.docx_out import plan_to_docx
from coop.plan_io.ics_out import plan_to_ics
from coop.plan_io.json_out import plan_to_json
from coop.plan_io.plan import Plan, PlanEvent, PlanPartner
from coop.plan_io.xlsx_out import plan_to_xlsx, safe_cell
from coop.timing import parse_timing

YEAR = 2019
STAMP = dt.datetime(2019, 8, 20, 9, 30, tzinfo=dt.UTC)
KEMSU = "Новокузнецкий институт (филиал)\n«Кемеровский государственный университет»"
INO = (
    "Автономная некоммерческая организация дополнительного профессионального образования"
    " «Институт непрерывного образования»"
)
MERIDIAN = "МБУ ДО «Центр детского (юношеского) технического творчества «Меридиан»"
PROFORIENT = "Ответственный за профориентацию"
# The longest responsible list pushes DESCRIPTION well past 75 octets.
LONG_RESPONSIBLE = ("Руководитель ШМО учителей математики, физики, технологии, информатики",)


def event(id: int, title: str, timing: str, **fields: Any) -> PlanEvent:
    """A plan line whose months come from its timing, as the app reads them."""
    parsed = parse_timing(timing)
    values: dict[str, Any] = {
        "id": id,
        "number": None,
        "title": title,
        "timing_text": timing,
        "months": parsed.months,
        "all_year": parsed.all_year,
        "timing_recognized": parsed.recognized,
        "start": parsed.start,
        "end": parsed.end,
        "section": "",
        "audience": "учащиеся",
        "grades": "9-11",
        "responsible": (PROFORIENT,),
        "kind": "",
        "level": "",
        "fgos_results": (),
        "state": "approved",
        "execution": None,
        "first_year": parsed.first_year,
        "last_year": parsed.last_year,
    }
    values.update(fields)
    return PlanEvent(**values)


def sample_plan(year: int = YEAR) -> Plan:
    kemsu = (
        event(
            1,
            "Распространение наглядных пособий, буклетов о ВУЗе с целью профориентации",
            "сентябрь",
            number=1,
        ),
        event(
            2,
            "Анкетирование и тестирование старшеклассников",
            "октябрь,\n\nмарт",
            number=2,
            responsible=(PROFORIENT, "педагог - психолог"),
        ),
        event(3, "Выставка-ярмарка учебных мест, организованных ВУЗом", "ноябрь - апрель", number=3),
        event(4, '=HYPERLINK("http://evil")', "апрель", number=4, state="submitted"),
        event(5, "Дни открытых дверей", "май", number=5, execution="cancelled"),
        event(6, "Журналистская площадка «Это все о Победе»", "по согласованию", number=6),
    )
    ino = (
        event(
            11,
            "Участие учителей-предметников в методических мероприятиях АНО ДПО ИНО",
            "2019-2023гг.",
            number=1,
            section="учителя-предметники",
            audience="педагоги",
            responsible=("Заместители директора по УВР",),
        ),
        event(
            12,
            "Курсовая подготовка учителей-предметников",
            "2019-2023гг.",
            number=2,
            section="учителя-предметники",
            audience="педагоги",
        ),
        event(
            13,
            "Дистанционный конкурс сочинений «Я и мир вокруг меня»",
            "с 01.11.2019 по 15.11.2019",
            number=1,
            section="учащиеся",
            responsible=LONG_RESPONSIBLE,
        ),
        event(14, "Олимпиада по русскому языку", "март", number=2, section="учащиеся", state="cancelled"),
    )
    meridian = (
        event(21, "Публикации в детской городской газете «Меридиан»", "В течение года", state="draft"),
        event(22, "Городской конкурс журналистских материалов", "ноябрь", section="учащиеся"),
    )
    return Plan(
        school_id=31,
        school_name="МБОУ «Средняя общеобразовательная школа № 31» г. Новокузнецка",
        school_short_name="МБОУ «СОШ № 31»",
        programme_title="Программа сотрудничества с образовательными учреждениями города",
        year=year,
        partners=(
            PlanPartner(1, KEMSU, "КемГУ", kemsu),
            PlanPartner(2, INO, "АНО ДПО ИНО", ino),
            PlanPartner(3, MERIDIAN, "", meridian),
        ),
    )


def test_sample_timings_are_read_as_expected() -> None:
    """The fixture itself: the tricky timings give the months the writers rely on."""
    events = {e.id: e for e in sample_plan().events}
    assert events[3].months == (11, 12, 1, 2, 3, 4)
    assert events[2].months == (10, 3)
    assert events[11].all_year and events[21].all_year
    assert (events[13].start, events[13].end) == (dt.date(2019, 11, 1), dt.date(2019, 11, 15))
    assert events[6].months == () and not events[6].timing_recognized


# --- Word ---------------------------------------------------------------------------------------------


def _docx() -> Any:
    return Document(io.BytesIO(plan_to_docx(sample_plan())))


def test_docx_title() -> None:
    texts = [p.text for p in _docx().paragraphs]
    assert texts[0] == "Сетевой план МБОУ «СОШ № 31» на 2019/2020 учебный год"
    assert texts[1] == "Программа сотрудничества с образовательными учреждениями города"


def test_docx_partner_heading_before_each_table() -> None:
    blocks = list(_docx().iter_inner_content())
    headings = [blocks[i - 1] for i, block in enumerate(blocks) if isinstance(block, Table)]
    assert [p.text for p in headings] == [KEMSU, INO, MERIDIAN]
    assert all(p.runs[0].bold and p.alignment == WD_ALIGN_PARAGRAPH.CENTER for p in headings)


def test_docx_table_header_repeats() -> None:
    for table in _docx().tables:
        header = table.rows[0]
        assert [c.text for c in header.cells] == [
            "№ п/п",
            "Наименование мероприятия",
            "сроки",
            "ответственные",
        ]
        assert all(c.paragraphs[0].runs[0].bold for c in header.cells)
        assert header._tr.trPr.find(qn("w:tblHeader")) is not None
        assert table.style.name == "Table Grid"


def test_docx_event_rows_keep_timing_as_written() -> None:
    kemsu = _docx().tables[0]
    assert len(kemsu.rows) == 1 + 6  # one partner section only: no section rows
    assert [c.text for c in kemsu.rows[1].cells] == [
        "1.",
        "Распространение наглядных пособий, буклетов о ВУЗе с целью профориентации",
        "сентябрь",
        PROFORIENT,
    ]
    assert [c.text for c in kemsu.rows[2].cells] == [
        "2.",
        "Анкетирование и тестирование старшеклассников",
        "октябрь,\n\nмарт",
        "Ответственный за профориентацию, педагог - психолог",
    ]
    assert kemsu.rows[3].cells[2].text == "ноябрь - апрель"
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in kemsu.rows)
    assert kemsu.rows[6].cells[2].text == "по согласованию"  # unrecognized, still printed


def test_docx_sections_get_merged_rows() -> None:
    ino = _docx().tables[1]
    rows = [[c.text for c in row.cells] for row in ino.rows]
    assert rows[1] == ["учителя-предметники"] * 4
    assert rows[4] == ["учащиеся"] * 4
    assert [r[0] for r in rows] == ["№ п/п", "учителя-предметники", "1.", "2.", "учащиеся", "1.", "2."]
    section = ino.rows[1]
    assert len({id(c._tc) for c in section.cells}) == 1  # one merged cell, not four copies
    assert section.cells[0]._tc.grid_span == 4


def test_docx_single_section_needs_no_section_row() -> None:
    # Meridian has one unsectioned line and one «учащиеся» line: one named section only.
    rows = [[c.text for c in row.cells] for row in _docx().tables[2].rows]
    assert [r[0] for r in rows] == ["№ п/п", "1.", "1."]  # numbers fall back to position in group
    assert rows[1][1] == "Публикации в детской городской газете «Меридиан»"


def test_docx_empty_plan() -> None:
    plan = Plan(1, "Школа", "", "", YEAR)
    doc = Document(io.BytesIO(plan_to_docx(plan)))
    assert [p.text for p in doc.paragraphs] == [
        "Сетевой план Школа на 2019/2020 учебный год",
        "Мероприятий нет.",
    ]


def test_docx_drops_control_characters() -> None:
    plan = sample_plan()
    partner = plan.partners[0]
    bad = event(99, "Soft\x0bbreak\x07", "май")
    plan = Plan(1, "Школа", "Ш", "", YEAR, (PlanPartner(1, partner.name, "", (bad,)),))
    doc = Document(io.BytesIO(plan_to_docx(plan)))
    assert doc.tables[0].rows[1].cells[1].text == "Soft\nbreak"


# --- Excel --------------------------------------------------------------------------------------------

MONTH_HEADER = ["сен", "окт", "ноя", "дек", "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг"]
HEADER = [
    "Организация-партнёр",
    "№ п/п",
    "Наименование мероприятия",
    "Сроки",
    "Месяцы",
    "Аудитория",
    "Классы",
    "Ответственные",
    "Состояние",
    "Исполнение",
    *MONTH_HEADER,
]


def _sheet() -> Any:
    wb = load_workbook(io.BytesIO(plan_to_xlsx(sample_plan())))
    assert wb.sheetnames == ["Сетевой план"]
    return wb["Сетевой план"]


def _rows_by_title(ws: Any) -> dict[str, dict[str, Any]]:
    header = [c.value for c in ws[2]]
    return {row[2]: dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=3, values_only=True)}


def test_xlsx_layout() -> None:
    ws = _sheet()
    assert ws["A1"].value == (
        "Сетевой план МБОУ «СОШ № 31» на 2019/2020 учебный год. "
        "Программа сотрудничества с образовательными учреждениями города"
    )
    assert [c.value for c in ws[2]] == HEADER
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:V14"
    assert ws.max_row == 2 + 12
    assert ws.column_dimensions["C"].width > ws.column_dimensions["B"].width
    assert ws["C3"].alignment.wrap_text


def test_xlsx_values() -> None:
    rows = _rows_by_title(_sheet())
    row = rows["Анкетирование и тестирование старшеклассников"]
    assert row["Организация-партнёр"] == "КемГУ"
    assert row["№ п/п"] == 2
    assert row["Сроки"] == "октябрь,\n\nмарт"
    assert row["Месяцы"] == "октябрь, март"
    assert row["Ответственные"] == "Ответственный за профориентацию, педагог - психолог"
    assert (row["Аудитория"], row["Классы"]) == ("учащиеся", "9-11")
    assert (row["Состояние"], row["Исполнение"]) == ("Согласовано", None)
    cancelled = rows["Дни открытых дверей"]
    assert cancelled["Исполнение"] == "Отменено"
    assert rows["Олимпиада по русскому языку"]["Состояние"] == "Отменено"
    # A partner without a short name goes by its full name.
    assert rows["Городской конкурс журналистских материалов"]["Организация-партнёр"] == MERIDIAN
    assert rows["Журналистская площадка «Это все о Победе»"]["Месяцы"] is None


def test_xlsx_formula_is_written_as_text() -> None:
    ws = _sheet()
    cell = ws["C6"]
    assert cell.value == '\'=HYPERLINK("http://evil")'
    assert cell.data_type == "s"
    assert _rows_by_title(ws)[cell.value]["Состояние"] == "На согласовании"


def test_xlsx_month_marks() -> None:
    rows = _rows_by_title(_sheet())

    def marked(title: str) -> list[str]:
        return [m for m in MONTH_HEADER if rows[title][m] == "●"]

    assert marked("Выставка-ярмарка учебных мест, организованных ВУЗом") == [
        "ноя",
        "дек",
        "янв",
        "фев",
        "мар",
        "апр",
    ]
    assert marked("Анкетирование и тестирование старшеклассников") == ["окт", "мар"]
    assert marked("Публикации в детской городской газете «Меридиан»") == MONTH_HEADER
    assert marked("Журналистская площадка «Это все о Победе»") == []
    unmarked = rows["Выставка-ярмарка учебных мест, организованных ВУЗом"]["сен"]
    assert unmarked is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+7 999", "'+7 999"),
        ("-«Изучение планов»", "'-«Изучение планов»"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        ("bell\x07", "bell"),
        ("", ""),
        (5, 5),
        (None, None),
    ],
)
def test_safe_cell(value: Any, expected: Any) -> None:
    assert safe_cell(value) == expected


# --- JSON ---------------------------------------------------------------------------------------------


def test_json_contract() -> None:
    data = plan_to_json(sample_plan())
    assert data["school"] == {"id": 31, "name": sample_plan().school_name, "short_name": "МБОУ «СОШ № 31»"}
    assert (data["year"], data["year_label"]) == (2019, "2019/2020")
    assert data["programme"] == "Программа сотрудничества с образовательными учреждениями города"
    assert [e["id"] for e in data["events"]] == [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 21, 22]
    first = data["events"][0]
    for key in (
        "partner",
        "partner_short_name",
        "number",
        "title",
        "timing_text",
        "months",
        "all_year",
        "audience",
        "grades",
        "responsible",
        "state",
        "state_label",
        "execution",
        "section",
        "id",
    ):
        assert key in first
    assert first["partner"] == KEMSU and first["partner_short_name"] == "КемГУ"
    json.loads(json.dumps(data, ensure_ascii=False))


def test_json_event_values() -> None:
    events = {e["id"]: e for e in plan_to_json(sample_plan())["events"]}
    assert events[3]["months"] == [11, 12, 1, 2, 3, 4]  # academic order, not sorted
    assert events[2]["months"] == [10, 3]
    assert events[2]["responsible"] == [PROFORIENT, "педагог - психолог"]
    assert events[11]["all_year"] and events[11]["months"] == [9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8]
    assert events[6]["months"] == [] and events[6]["timing_text"] == "по согласованию"
    assert (events[13]["start"], events[13]["end"]) == ("2019-11-01", "2019-11-15")
    assert events[13]["section"] == "учащиеся"
    assert (events[4]["state"], events[4]["state_label"]) == ("submitted", "На согласовании")
    assert (events[5]["execution"], events[5]["execution_label"]) == ("cancelled", "Отменено")


# --- iCalendar ----------------------------------------------------------------------------------------


def _ics(*plans: Plan) -> bytes:
    return plan_to_ics(plans or (sample_plan(),), "Сетевой план СОШ № 31", "coop.example", stamp=STAMP)


def _vevents(raw: bytes) -> list[Any]:
    return list(Calendar.from_ical(raw).walk("VEVENT"))


def _by_uid(raw: bytes) -> dict[str, Any]:
    return {str(v["UID"]): v for v in _vevents(raw)}


def test_ics_calendar_properties() -> None:
    cal = Calendar.from_ical(_ics())
    assert str(cal["PRODID"]) == "-//Coop//Сетевой план//RU"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["X-WR-CALNAME"]) == "Сетевой план СОШ № 31"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"


def test_ics_every_event_is_all_day_with_uid_and_stamp() -> None:
    vevents = _vevents(_ics())
    assert vevents
    for vevent in vevents:
        assert vevent["UID"]
        assert vevent["DTSTAMP"].dt == STAMP
        for key in ("DTSTART", "DTEND"):
            value = vevent[key]
            assert isinstance(value.dt, dt.date) and not isinstance(value.dt, dt.datetime)
            assert value.params["VALUE"] == "DATE"
        assert vevent["DTSTART"].dt < vevent["DTEND"].dt
        assert int(vevent["SEQUENCE"]) == 0


def test_ics_occurrences() -> None:
    events = _by_uid(_ics())

    def span(uid: str) -> tuple[dt.date, dt.date]:
        return events[uid]["DTSTART"].dt, events[uid]["DTEND"].dt

    assert span("event-3-2019-0@coop.example") == (dt.date(2019, 11, 1), dt.date(2020, 5, 1))
    assert span("event-2-2019-0@coop.example") == (dt.date(2019, 10, 1), dt.date(2019, 11, 1))
    assert span("event-2-2019-1@coop.example") == (dt.date(2020, 3, 1), dt.date(2020, 4, 1))
    assert "event-2-2019-2@coop.example" not in events
    assert span("event-21-2019-0@coop.example") == (dt.date(2019, 9, 1), dt.date(2020, 9, 1))
    assert span("event-13-2019-0@coop.example") == (dt.date(2019, 11, 1), dt.date(2019, 11, 16))
    assert not any(uid.startswith("event-6-") for uid in events)  # unrecognized timing
    assert len(events) == 12  # 11 events with months, one of them twice


def test_ics_event_fields() -> None:
    vevent = _by_uid(_ics())["event-2-2019-1@coop.example"]
    assert str(vevent["SUMMARY"]) == "Анкетирование и тестирование старшеклассников"
    description = str(vevent["DESCRIPTION"])
    assert "Новокузнецкий институт (филиал) «Кемеровский государственный университет»" in description
    assert "октябрь, март" in description  # as written, its line breaks flattened
    assert "педагог - психолог" in description
    assert str(vevent["LOCATION"]) == "МБОУ «СОШ № 31»"
    assert vevent["CATEGORIES"].cats == ["учащиеся"]


def test_ics_status() -> None:
    events = _by_uid(_ics())
    assert str(events["event-1-2019-0@coop.example"]["STATUS"]) == "CONFIRMED"
    assert str(events["event-4-2019-0@coop.example"]["STATUS"]) == "TENTATIVE"  # submitted
    assert str(events["event-21-2019-0@coop.example"]["STATUS"]) == "TENTATIVE"  # draft
    assert str(events["event-14-2019-0@coop.example"]["STATUS"]) == "CANCELLED"  # state
    assert str(events["event-5-2019-0@coop.example"]["STATUS"]) == "CANCELLED"  # execution


def test_ics_uids_unique_and_stable() -> None:
    first = [str(v["UID"]) for v in _vevents(_ics())]
    again = plan_to_ics([sample_plan()], "другое имя", "coop.example")  # another stamp, same UIDs
    assert len(first) == len(set(first))
    assert first == [str(v["UID"]) for v in _vevents(again)]


def test_ics_several_years() -> None:
    events = _by_uid(_ics(sample_plan(2019), sample_plan(2020), sample_plan(2019)))
    assert len(events) == 2 * 12  # the repeated 2019 plan adds nothing
    assert events["event-3-2020-0@coop.example"]["DTSTART"].dt == dt.date(2020, 11, 1)
    # Its 2019 dates don't fall in 2020/2021: its month does.
    assert events["event-13-2020-0@coop.example"]["DTEND"].dt == dt.date(2020, 12, 1)


def test_ics_is_rfc5545_text() -> None:
    raw = _ics()
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # long lines were folded, not left long
    raw.decode("utf-8")


def test_ics_a_recorded_date_replaces_the_planned_months() -> None:
    from coop.plan_io.ics_out import occurrences

    planned = event(2, "Анкетирование", "октябрь, март")
    assert occurrences(planned, YEAR) == [
        (dt.date(2019, 10, 1), dt.date(2019, 11, 1)),
        (dt.date(2020, 3, 1), dt.date(2020, 4, 1)),
    ]
    one_day = event(2, "Анкетирование", "октябрь, март", execution="held", held_on=dt.date(2019, 10, 15))
    assert occurrences(one_day, YEAR) == [(dt.date(2019, 10, 15), dt.date(2019, 10, 16))]
    span = event(
        2,
        "Анкетирование",
        "октябрь, март",
        execution="held",
        held_on=dt.date(2020, 3, 2),
        held_until=dt.date(2020, 3, 4),
    )
    assert occurrences(span, YEAR) == [(dt.date(2020, 3, 2), dt.date(2020, 3, 5))]
