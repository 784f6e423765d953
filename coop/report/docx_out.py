"""The annual report as a Word document: numbered sections, each a paragraph or a table.

What the report says is decided in coop.report.data; this module only lays it out.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor
from flask_babel import gettext as _

from .. import added_fields, labels
from .. import models as m
from ..docx_layout import (
    FONT,
    fill,
    fitted_widths,
    keep_row_whole,
    page_text_width,
    set_column_widths,
    setup_a4,
)
from ..text import clean_text
from ..timing import academic_year_label
from .data import AnnualReport, ReportLine

# Tables of up to six columns on a portrait page: a size smaller than the text's
# leaves their words («обучающиеся», dates) whole.
TABLE_FONT_SIZE = Pt(10)


def report_to_docx(report: AnnualReport) -> bytes:
    doc = Document()
    setup_a4(doc, title(report))
    _title_page(doc, report)
    for heading, write in (
        (_("Cooperation programme"), _programmes),
        (_("Partners and agreements"), _agreements),
        (_("The network plan against what was held"), _plan),
        (_("Participants"), _participants),
        (_("Seminars"), _seminars),
        (_("Documents produced"), _documents),
        (_("FGOS results: agreed and covered"), _coverage),
        (_("Remarks of the coordinator"), _remarks),
        (_("Problems"), _problems),
        (_("Next steps"), _next_steps),
    ):
        _heading(doc, heading)
        write(doc, report)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def title(report: AnnualReport) -> str:
    return _(
        "Report of the innovation site %(school)s for the academic year %(year)s",
        school=report.school.short_name or report.school.name,
        year=report.year_label,
    )


def filename(report: AnnualReport) -> str:
    return f"report-{report.school.id}-{report.year}-{report.year + 1}.docx"


# --- sections ---------------------------------------------------------------------------


def _title_page(doc: DocumentObject, report: AnnualReport) -> None:
    first, last = report.period
    for text, size, bold in (
        (_("Report of the innovation site"), 16, True),
        (report.school.name, 14, True),
        (_("for the academic year %(year)s", year=report.year_label), 14, False),
        (
            _("reporting period %(first)s – %(last)s", first=_date(first), last=_date(last)),
            12,
            False,
        ),
    ):
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = para.add_run(clean_text(text))
        run.bold = bold
        run.font.size = Pt(size)


def _programmes(doc: DocumentObject, report: AnnualReport) -> None:
    if not report.programmes:
        _text(doc, _("No programme runs in this academic year."))
    for programme in report.programmes:
        doc.add_paragraph().add_run(clean_text(programme.title)).bold = True
        _field(doc, _("Period"), programme.period)
        _field(doc, _("State"), labels.choice_label(m.Programme, "state", programme.state))
        _field(doc, _("Innovation status"), programme.innovation_status)
        _field(doc, _("Goal"), programme.goal)
        _field(doc, _("Tasks"), programme.tasks)
        for definition, value in added_fields.values_of(programme):  # the fields added in the site
            _field(doc, definition.label, value)


def _agreements(doc: DocumentObject, report: AnnualReport) -> None:
    if not report.agreements:
        _text(doc, _("No agreements in force in the reporting period."))
        return
    partners = {agreement.partner_id for agreement in report.agreements}
    _text(
        doc,
        _(
            "Partners: %(partners)d; agreements: %(agreements)d.",
            partners=len(partners),
            agreements=len(report.agreements),
        ),
    )
    _table(
        doc,
        (
            (_("Partner"), 4),
            (_("Agreement"), 5.5),
            (_("Valid"), 3),
            (_("State"), 2.5),
            (_("FGOS results, count"), 2.5),
        ),
        (
            (
                str(agreement.partner),
                _agreement_name(agreement),
                _span(agreement.valid_from, agreement.valid_to),
                labels.choice_label(m.Agreement, "state", agreement.state),
                str(len(agreement.fgos_results)),
            )
            for agreement in report.agreements
        ),
    )


def _plan(doc: DocumentObject, report: AnnualReport) -> None:
    lines = report.lines
    percent = report.percent_held
    _text(
        doc,
        _(
            "Plan lines in the reporting period: %(lines)d; held: %(held)d (%(percent)s); not held: "
            "%(not_held)d; cancelled: %(cancelled)d; no record yet: %(planned)d.",
            lines=len(lines),
            held=report.count("held"),
            percent="—" if percent is None else f"{percent:.1f} %".replace(".", ","),
            not_held=report.count("not_held"),
            cancelled=report.count("cancelled"),
            planned=report.count("planned"),
        ),
    )
    for partner, partner_lines in _by_partner(lines):
        _subheading(doc, partner)
        _table(
            doc,
            (
                (_("No."), 1.1),
                (_("Event"), 6),
                (_("Timing"), 2.4),
                (_("Execution"), 2.8),
                (_("Participants"), 2.6),
                (_("Results"), 2.6),
            ),
            (
                (
                    f"{line.event.number}." if line.event.number is not None else "",
                    line.event.title,
                    line.event.timing_text,
                    _execution(line),
                    _participants_of(line),
                    line.execution.results if line.execution else "",
                )
                for line in partner_lines
            ),
        )
    if report.later_lines:
        _text(doc, _("Planned for June–August, after the reporting period:"))
        _bullets(
            doc,
            (f"{line.event.title} ({line.partner}, {line.event.timing_text})" for line in report.later_lines),
        )


def _participants(doc: DocumentObject, report: AnnualReport) -> None:
    _text(
        doc,
        _(
            "Reached by the events held: students %(students)d, teachers %(teachers)d, parents %(parents)d.",
            students=report.reached("students_count"),
            teachers=report.reached("teachers_count"),
            parents=report.reached("parents_count"),
        ),
    )
    _added_totals(doc, report)


# Fields per table of the added totals: with the partner's column, a portrait page's six.
ADDED_COLUMNS = 5


def _added_totals(doc: DocumentObject, report: AnnualReport) -> None:
    """The number and yes/no fields added to the yearly records: per partner and in total."""
    totals = [total for total in report.added_totals() if total.by_partner]  # a field no record fills: none
    if not totals:
        return
    _text(doc, _("The figures added to the yearly records, by partner (yes/no fields: the «yes» counted):"))
    partners = list(dict.fromkeys(partner for total in totals for partner in total.by_partner))
    for start in range(0, len(totals), ADDED_COLUMNS):
        shown = totals[start : start + ADDED_COLUMNS]
        width = 10.5 / len(shown)
        _table(
            doc,
            ((_("Partner"), 6.5), *((total.definition.label, width) for total in shown)),
            (
                *(
                    (partner, *(_number(total.by_partner.get(partner, 0)) for total in shown))
                    for partner in partners
                ),
                (_("Total"), *(_number(total.total) for total in shown)),
            ),
        )


def _number(value: int | float) -> str:
    return added_fields.shown_number(value)


def _seminars(doc: DocumentObject, report: AnnualReport) -> None:
    if not report.seminars:
        _text(doc, _("No seminars were held in the reporting period."))
        return
    _table(
        doc,
        (
            (_("Cycle"), 3.5),
            (_("Date"), 2.6),
            (_("Topic"), 4.6),
            (_("Participants"), 2.8),
            (_("Decisions"), 4),
        ),
        (
            (
                labels.choice_label(m.Seminar, "cycle", seminar.cycle),
                _date(seminar.held_on),
                seminar.topic,
                _seminar_participants(seminar),
                seminar.decisions,
            )
            for seminar in report.seminars
        ),
    )


def _documents(doc: DocumentObject, report: AnnualReport) -> None:
    if not report.documents:
        _text(doc, _("No documents are recorded for the reporting period."))
    _bullets(doc, report.documents)


def _coverage(doc: DocumentObject, report: AnnualReport) -> None:
    coverage = report.coverage
    if not coverage.rows:
        _text(doc, _("The agreements of the year fix no FGOS results."))
        return
    _text(
        doc,
        _(
            "Agreed in the agreements: %(agreed)d; covered by events held: %(covered)d.",
            agreed=len(coverage.rows),
            covered=coverage.covered,
        ),
    )
    _table(
        doc,
        ((_("FGOS result"), 7), (_("Agreed with"), 4), (_("Events serving it"), 3), (_("Outcome"), 3.5)),
        (
            (
                row.title,
                ", ".join(row.agreed_with),
                str(sum(1 for cell in row.cells if cell is not None)),
                _gap(row.gap),
            )
            for row in coverage.rows
        ),
    )


def _remarks(doc: DocumentObject, report: AnnualReport) -> None:
    if not report.remarks:
        _text(doc, _("No remarks."))
        return
    _table(
        doc,
        ((_("Date"), 2.3), (_("Remark"), 7), (_("Answer of the school"), 5.7), (_("State"), 2.5)),
        (
            (
                _date(remark.created_at.date()),
                remark.text,
                remark.response,
                labels.choice_label(m.Remark, "state", remark.state),
            )
            for remark in report.remarks
        ),
    )


def _problems(doc: DocumentObject, report: AnnualReport) -> None:
    items = [
        *(
            _("Not held: «%(title)s» (%(partner)s).", title=line.event.title, partner=line.partner)
            + _reason(line)
            for line in report.unmet_lines
        ),
        *(
            _("A limitation no partner's resource addresses: %(title)s.", title=limitation.title)
            for limitation in report.open_limitations
        ),
        *(
            _("An FGOS result without an event held: %(title)s.", title=row.title)
            for row in report.coverage.gaps
        ),
        *(
            _("A remark of the coordinator not resolved: %(text)s", text=remark.text)
            for remark in report.open_remarks
        ),
    ]
    if not items:
        _text(doc, _("No problems found."))
    _bullets(doc, items)


def _next_steps(doc: DocumentObject, report: AnnualReport) -> None:
    following = academic_year_label(report.year + 1)
    items = [
        *(
            _(
                "Hold in %(year)s: «%(title)s» (%(partner)s).",
                year=following,
                title=line.event.title,
                partner=line.partner,
            )
            for line in report.unmet_lines
        ),
        *(
            _("Find a partner's resource for: %(title)s.", title=limitation.title)
            for limitation in report.open_limitations
        ),
        *(
            _("Add to the network plan an event forming: %(title)s.", title=row.title)
            for row in report.coverage.gaps
            if row.gap == "no_line"
        ),
        *(
            _("Hold the planned events forming: %(title)s.", title=row.title)
            for row in report.coverage.gaps
            if row.gap == "not_held"
        ),
        *(
            _("Answer the remark of the coordinator: %(text)s", text=remark.text)
            for remark in report.open_remarks
            if remark.state == "open"
        ),
        *(_continue(programme, report.year) for programme in report.programmes),
    ]
    _bullets(doc, items)


# --- pieces -----------------------------------------------------------------------------


def _continue(programme: m.Programme, year: int) -> str:
    if programme.last_year > year:
        return _(
            "Go on with the programme «%(title)s» in %(year)s.",
            title=programme.title,
            year=academic_year_label(year + 1),
        )
    return _("Sum up the results of the programme «%(title)s».", title=programme.title)


def _by_partner(lines: Sequence[ReportLine]) -> list[tuple[str, list[ReportLine]]]:
    groups: dict[str, list[ReportLine]] = {}
    for line in lines:
        groups.setdefault(line.partner, []).append(line)
    return list(groups.items())


def _execution(line: ReportLine) -> str:
    if line.execution is None:
        status = _("no record")
    else:
        status = labels.choice_label(m.EventExecution, "status", line.status)
    execution = line.execution
    if execution is not None and execution.held_on:
        return f"{status}, {_span(execution.held_on, execution.held_until)}"
    return status


def _participants_of(line: ReportLine) -> str:
    execution = line.execution
    if execution is None or line.status != "held":
        return ""
    parts = [
        (_("students"), execution.students_count),
        (_("teachers"), execution.teachers_count),
        (_("parents"), execution.parents_count),
    ]
    return ", ".join(f"{label} {count}" for label, count in parts if count)


def _reason(line: ReportLine) -> str:
    results = line.execution.results.strip() if line.execution else ""
    return f" {results}" if results else ""


def _seminar_participants(seminar: m.Seminar) -> str:
    partners = ", ".join(str(partner) for partner in seminar.partners)
    count = _("%(count)d people", count=seminar.participants_count) if seminar.participants_count else ""
    return "; ".join(part for part in (count, partners) if part)


def _gap(gap: str | None) -> str:
    return {
        None: _("covered"),
        "not_held": _("events planned, none held"),
        "no_line": _("no event serves it"),
    }[gap]


def _agreement_name(agreement: m.Agreement) -> str:
    kind = labels.choice_label(m.Agreement, "agreement_type", agreement.agreement_type)
    number = f" № {agreement.number}" if agreement.number else ""
    signed = _(" of %(date)s", date=_date(agreement.signed_on)) if agreement.signed_on else ""
    return f"{kind}{number}{signed}"


def _date(day: object) -> str:
    return day.strftime("%d.%m.%Y") if day else ""  # type: ignore[attr-defined]


def _span(first: object, last: object) -> str:
    if first and last and first != last:
        return f"{_date(first)}\u00a0– {_date(last)}"  # the dash stays with the first date
    return _date(first or last) or "—"


def _heading(doc: DocumentObject, text: str) -> None:
    headings = [para for para in doc.paragraphs if para.style is not None and para.style.name == "Heading 1"]
    number = len(headings) + 1
    para = doc.add_paragraph(style="Heading 1")
    para.paragraph_format.keep_with_next = True
    run = para.add_run(clean_text(f"{number}. {text}"))
    run.font.name = FONT  # the document's font and colour, not the heading style's
    run.font.color.rgb = RGBColor(0, 0, 0)
    run.font.size = Pt(14)


def _subheading(doc: DocumentObject, text: str) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(6)
    para.paragraph_format.keep_with_next = True
    para.add_run(clean_text(text)).bold = True


def _text(doc: DocumentObject, text: str) -> None:
    doc.add_paragraph(clean_text(text))


def _field(doc: DocumentObject, label: str, value: str) -> None:
    if value.strip():
        para = doc.add_paragraph()
        para.add_run(clean_text(f"{label}: ")).bold = True
        para.add_run(clean_text(value))


def _bullets(doc: DocumentObject, items: Iterable[str]) -> None:
    for item in items:
        doc.add_paragraph(clean_text(item), style="List Bullet")


def _table(doc: DocumentObject, columns: Sequence[tuple[str, float]], rows: Iterable[Sequence[str]]) -> None:
    """A table of (heading, preferred width in cm) columns over the 17.5 cm of text,
    each column widened to hold its longest word."""
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = [text for text, _width in columns]
    keep_row_whole(table.rows[0], header=True)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        fill(cell, text, bold=True, centred=True, size=TABLE_FONT_SIZE)
    lines = [[text or "" for text in values] for values in rows]
    for values in lines:
        row = table.add_row()
        keep_row_whole(row)
        for cell, text in zip(row.cells, values, strict=True):
            fill(cell, text, size=TABLE_FONT_SIZE)
    preferred = [Cm(width) for _heading, width in columns]
    set_column_widths(table, fitted_widths(preferred, header, lines, TABLE_FONT_SIZE, page_text_width(doc)))
    doc.add_paragraph()  # a gap before what follows
