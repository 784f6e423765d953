"""The figures kept per school and year (coop/summary.py): exact after every kind of write,
read by the dashboard and the home page, checked and rebuilt by `coop check-figures`.

conftest.py checks them too, after every test that writes (fresh_db) and at the end of the
session: the whole suite's writes are held to them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from coop import attention, figures, summary
from coop import models as m
from coop.extensions import db
from coop.timing import academic_year_of

YEAR = 2019


def _counted_live(year: int, school_id: int) -> figures.SchoolFigures:
    """The school's figures counted from the rows, as when the year is not kept."""
    line = figures._line_statuses(year, [school_id])
    rows = figures._tagged_rows(figures._figure_branches(year, [school_id], line))
    return figures._school_figures(rows)[0]


def _charts_live(year: int) -> figures.Charts:
    return figures._charts(figures._tagged_rows(figures._chart_branches(figures._line_statuses(year, None))))


def test_the_demo_keeps_the_years_of_its_plans_and_check_figures_passes(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coop", "check-figures"])
    assert result.exit_code == 0, result.output
    assert "совпадают" in result.output and "2019/2020" in result.output
    with app.app_context():
        kept = summary.kept_years(db.session.connection())
        assert set(range(2019, 2023)) <= kept
        assert summary.wanted_years(db.session) <= kept


def test_the_dashboard_reads_the_kept_figures_and_they_are_those_counted(
    app: Flask, ids: dict[str, int]
) -> None:
    with app.app_context():
        for year in (2019, 2020, 2022):
            whole = figures.dashboard(year)
            assert whole.kept
            assert whole.charts == _charts_live(year)
            for school in (ids["school31"], ids["gymnasium17"]):
                assert figures.school_figures(year, [school])[0] == _counted_live(year, school)


def test_a_year_not_kept_is_counted_from_the_rows(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        year = max(summary.kept_years(db.session.connection())) + 3
        data = figures.dashboard(year, ids["school31"])
        assert not data.kept
        assert data.school == _counted_live(year, ids["school31"])


def _school31(app: Flask, ids: dict[str, int]) -> figures.SchoolFigures:
    with app.app_context():
        return figures.school_figures(YEAR, [ids["school31"]])[0]


def test_every_kind_of_write_keeps_the_figures_exact(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    school = ids["school31"]
    before = _school31(app, ids)
    with app.app_context():
        record = db.session.execute(
            select(m.EventExecution).filter_by(school_id=school, year=YEAR, status="not_held").limit(1)
        ).scalar_one()
        record.status = "held"
        db.session.commit()
    after = _school31(app, ids)
    assert (after.held, after.not_held) == (before.held + 1, before.not_held - 1)
    with app.app_context():  # a line to the trash, then back
        event = db.session.execute(
            select(m.Event).filter_by(school_id=school).order_by(m.Event.id).limit(1)
        ).scalar_one()
        event.deleted_at = dt.datetime(2026, 1, 1)
        db.session.commit()
        assert figures.school_figures(YEAR, [school])[0].lines == after.lines - 1
        assert not summary.check(db.session)
        event = db.session.execute(
            select(m.Event).filter_by(id=event.id).execution_options(include_deleted=True)
        ).scalar_one()
        event.deleted_at = None
        db.session.commit()
        assert figures.school_figures(YEAR, [school])[0].lines == after.lines
        # a line moved to another school: both schools' figures follow
        event.school_id = ids["gymnasium17"]
        db.session.commit()
        assert figures.school_figures(YEAR, [school])[0].lines == after.lines - 1
        # a seminar, a limitation, a remark, an agreement's end
        seminar = db.session.execute(select(m.Seminar).filter_by(school_id=school).limit(1)).scalar_one()
        seminar.held_on = dt.date(2030, 1, 1)
        db.session.add(m.Remark(school_id=school, text="Проверка", state="open"))
        agreement = db.session.execute(select(m.Agreement).filter_by(school_id=school).limit(1)).scalar_one()
        agreement.valid_to = dt.date(2019, 1, 1)
        db.session.commit()
        assert not summary.check(db.session)
        # the lines' years: a plan line running one more year keeps that year too
        event.first_year, event.last_year = 2019, 2035
        db.session.commit()
        assert 2035 in summary.kept_years(db.session.connection())
        assert not summary.check(db.session)
        # purged for good
        db.session.delete(event)
        db.session.commit()
        assert not summary.check(db.session)


def test_a_partners_kind_and_trash_move_the_charts(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    with app.app_context():
        partner = db.session.get(m.Partner, ids["kemsu"])
        other = db.session.execute(
            select(m.PartnerKind).where(m.PartnerKind.id != partner.kind_id).limit(1)
        ).scalar_one()
        partner.kind_id = other.id
        db.session.commit()
        assert figures.charts(YEAR) == _charts_live(YEAR)
        partner.deleted_at = dt.datetime(2026, 1, 1)
        db.session.commit()
        assert figures.charts(YEAR) == _charts_live(YEAR)
        assert not summary.check(db.session)


def test_writes_through_the_web_keep_the_figures(
    client_as: Any, app: Flask, ids: dict[str, int], fresh_db: None
) -> None:
    """A school's user edits through the site: the flush is the user's, the figures the system's."""
    from .test_outcomes import HELD, _event, _post

    school = client_as("school31")
    before = _school31(app, ids)
    assert _post(school, _event(app, ids["school31"], "not_held"), **HELD).status_code == 302
    after = _school31(app, ids)
    assert after.held == before.held + 1
    with app.app_context():
        assert not summary.check(db.session)


def test_check_figures_finds_a_difference_and_fix_repairs_it(app: Flask, fresh_db: None) -> None:
    runner = app.test_cli_runner()
    with app.app_context():  # past the ORM, on the connection: nothing keeps the figures
        records = m.EventExecution.__table__
        db.session.connection().execute(update(records).where(records.c.year == YEAR).values(status="held"))
        db.session.commit()
    result = runner.invoke(args=["coop", "check-figures"])
    assert result.exit_code == 1
    assert "расходятся" in result.output and "2019/2020 учебный год" in result.output
    result = runner.invoke(args=["coop", "check-figures", "--fix"])
    assert result.exit_code == 0 and "пересчитаны" in result.output
    result = runner.invoke(args=["coop", "check-figures"])
    assert result.exit_code == 0, result.output


def test_a_bulk_update_through_the_session_counts_every_school_again(app: Flask, fresh_db: None) -> None:
    with app.app_context():
        db.session.execute(
            update(m.EventExecution).where(m.EventExecution.year == YEAR).values(status="held")
        )
        db.session.commit()
        assert not summary.check(db.session)


def test_the_home_page_reads_the_lines_without_a_record_from_the_kept_figures(app: Flask) -> None:
    now = dt.datetime(2026, 12, 1)
    with app.app_context():
        for year in (2019, 2022):
            assert attention.per_school(year, now, kept=True) == attention.per_school(year, now, kept=False)


# --- the totals of all schools, kept with the year ------------------------------------------


def _totals_shown(client: Any, year: int = YEAR) -> dict[str, str]:
    page = client.get(f"/admin/dashboard/?year={year}").text
    match = re.search(r'<tr data-school="total"[^>]*>(.*?)</tr>', page, re.DOTALL)
    assert match, "no totals on the dashboard"
    return {
        key: value.replace("\u202f", "")
        for key, value in re.findall(r'data-figure="([a-z_]+)">([^<]*)<', match.group(1))
    }


def _kept_totals(app: Flask, year: int = YEAR) -> tuple[int, dict[str, Any] | None]:
    with app.app_context():
        kept = db.session.execute(select(m.FigureYear).filter_by(year=year)).scalar_one()
        return kept.version, kept.totals


def test_the_totals_of_all_schools_are_kept_and_read_until_a_write_changes_them(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    client = client_as("coordinator")
    shown = _totals_shown(client)
    version, kept = _kept_totals(app)
    assert kept is not None and kept["version"] == version  # counted once, kept for the next page
    with app.app_context():
        assert kept["rows"] == figures.count_totals(YEAR)
        # Planted in the kept totals: the page reads them, not the schools' rows.
        planted = {**kept, "rows": {**kept["rows"], "lines": [[-1, None, None, 99999, 0, 0, 0, 0, 0, 0]]}}
        db.session.execute(update(m.FigureYear).filter_by(year=YEAR).values(totals=planted))
        db.session.commit()
        assert summary.check_totals(db.session) == [YEAR]  # check-figures sees the difference
    assert _totals_shown(client)["lines"] == "99999"
    with app.app_context():  # a user who does not see every school has the totals counted
        assert figures.dashboard(YEAR).page.totals.lines == int(shown["lines"])
    result = app.test_cli_runner().invoke(args=["coop", "check-figures"])
    assert result.exit_code != 0 and "итоги по всем школам" in result.output, result.output
    # A line's record says «held» now: the version moves on, the totals are counted again.
    with app.app_context():
        record = db.session.execute(
            select(m.EventExecution)
            .filter_by(school_id=ids["school31"], year=YEAR, status="not_held")
            .limit(1)
        ).scalar_one()
        record.status = "held"
        db.session.commit()
    assert _kept_totals(app)[0] == version + 1
    after = _totals_shown(client)
    assert (int(after["lines"]), int(after["held"])) == (int(shown["lines"]), int(shown["held"]) + 1)
    assert _kept_totals(app)[1]["version"] == version + 1


def test_a_school_in_the_trash_leaves_the_kept_totals(
    app: Flask, ids: dict[str, int], fresh_db: None
) -> None:
    with app.app_context():
        before = figures.dashboard(YEAR, every_school=True).page.totals.lines
        own = figures.school_figures(YEAR, [ids["school31"]])[0].lines
        assert _kept_totals(app)[1] is not None
        school = db.session.get(m.School, ids["school31"])
        school.deleted_at = m.utcnow()
        db.session.commit()
        assert own > 0
        assert figures.dashboard(YEAR, every_school=True).page.totals.lines == before - own


def test_a_renamed_partner_kind_is_named_so_in_the_kept_charts(
    app: Flask, client_as: Any, fresh_db: None
) -> None:
    client = client_as("coordinator")
    client.get(f"/admin/dashboard/?year={YEAR}")  # the totals and the charts kept
    with app.app_context():
        kind = db.session.execute(select(m.PartnerKind).order_by(m.PartnerKind.id)).scalars().first()
        kind.name = "Вид партнёров, переименованный"
        db.session.commit()
    assert "Вид партнёров, переименованный" in client.get(f"/admin/dashboard/?year={YEAR}").text


# --- what needs attention in all schools, kept with the year --------------------------------

CURRENT = academic_year_of(dt.date.today())


def _kept_attention(app: Flask, year: int = CURRENT) -> tuple[int, dict[str, Any] | None]:
    with app.app_context():
        kept = db.session.execute(select(m.FigureYear).filter_by(year=year)).scalar_one()
        return kept.version, kept.attention


def _remarks_total(page: str) -> int:
    found = re.search(r'<li data-attention-item="remarks">.*?Открытые замечания: (\d+)', page, re.S)
    assert found, "no open remarks on the home page"
    return int(found.group(1))


def _plant(app: Flask, kept: dict[str, Any], name: str) -> None:
    """A school named `name` first among those with proposals waiting, in the kept list only."""
    counts = {**kept["counts"], "review": [[-1, name, 999, None], *kept["counts"]["review"]]}
    with app.app_context():
        db.session.execute(
            update(m.FigureYear).filter_by(year=CURRENT).values(attention={**kept, "counts": counts})
        )
        db.session.commit()


def test_the_attention_list_of_all_schools_is_kept_and_read_until_a_write_changes_it(
    app: Flask, client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    client = client_as("coordinator")
    remarks = _remarks_total(client.get("/admin/").text)
    version, kept = _kept_attention(app)
    assert kept is not None and kept["version"] == version  # counted once, kept for the next page
    with app.app_context():
        assert {**kept, "version": None} == {
            **attention.count_attention(CURRENT, m.utcnow(), True),
            "version": None,
        }
    # Planted in the kept list: the page reads it, not the rows; check-figures sees it.
    _plant(app, kept, "Школа из хранимого списка")
    assert "Школа из хранимого списка" in client.get("/admin/").text
    assert "Школа из хранимого списка" in client_as("admin").get("/admin/").text
    assert "Школа из хранимого списка" not in client_as("school31").get("/admin/").text  # its own, counted
    with app.app_context():
        assert summary.check_totals(db.session) == [CURRENT]
    result = app.test_cli_runner().invoke(args=["coop", "check-figures"])
    assert result.exit_code != 0 and "итоги по всем школам" in result.output, result.output
    # A remark written: the version moves on, the list is counted again and kept at the new one.
    with app.app_context():
        db.session.add(m.Remark(school_id=ids["school31"], text="Новое замечание", state="open"))
        db.session.commit()
    assert _kept_attention(app) == (version + 1, None)
    page = client.get("/admin/").text
    assert "Школа из хранимого списка" not in page and _remarks_total(page) == remarks + 1
    assert _kept_attention(app)[1]["version"] == version + 1


def test_a_list_kept_on_another_day_is_counted_again(app: Flask, client_as: Any, fresh_db: None) -> None:
    client = client_as("coordinator")
    client.get("/admin/")
    version, kept = _kept_attention(app)
    assert kept is not None
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    _plant(app, {**kept, "counted_as": [yesterday, *kept["counted_as"][1:]]}, "Школа вчерашнего списка")
    assert "Школа вчерашнего списка" not in client.get("/admin/").text  # agreements end, proposals wait
    assert _kept_attention(app) == (version, kept)  # counted again today and kept as before
    with app.app_context():
        assert summary.check_totals(db.session) == []


def test_a_proposal_waits_for_review_in_whole_days(app: Flask, ids: dict[str, int], fresh_db: None) -> None:
    """More than REVIEW_WAIT_DAYS days since the day of its last change: the same all day long."""
    now = dt.datetime.combine(dt.date.today(), dt.time(15, 30))
    first_day = dt.datetime.combine(now.date() - dt.timedelta(days=attention.REVIEW_WAIT_DAYS), dt.time())
    with app.app_context():
        events = (
            db.session.execute(select(m.Event).filter_by(school_id=ids["school31"]).limit(2)).scalars().all()
        )
        (late, on_time) = events
        late.state, late.updated_at = "submitted", first_day - dt.timedelta(seconds=1)
        on_time.state, on_time.updated_at = "submitted", first_day
        db.session.flush()
        waiting = set(
            db.session.execute(
                select(m.Event.id).where(m.Event.id.in_([late.id, on_time.id]), attention.waiting_review(now))
            ).scalars()
        )
        assert waiting == {late.id}
        # At the first minute of the day and at its last, the same.
        for moment in (dt.time(0, 0), dt.time(23, 59, 59)):
            stmt = select(m.Event.id).where(
                m.Event.id.in_([late.id, on_time.id]),
                attention.waiting_review(dt.datetime.combine(now.date(), moment)),
            )
            assert set(db.session.execute(stmt).scalars()) == {late.id}
        db.session.rollback()
