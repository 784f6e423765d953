"""`flask --app app coop …` commands: thin wrappers over importable functions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from . import backup, labels, outbox, reminders, search, security, site_config, summary, users
from .extensions import db
from .lookup import NameLookupError, find_school
from .models import ROLES, School, User
from .plan_io import importer
from .plan_io.export import FORMATS, export_filename
from .plan_io.imported import PlanFileError
from .plan_io.plan import build_plan
from .report.data import build_report
from .report.docx_out import report_to_docx
from .seed import bench, demo
from .timing import ACADEMIC_YEARS

coop_cli = AppGroup("coop", help="Coop: demo data, users, plans, reports.")

# DESIGN.md: a NAME matches a school's full or short name, or a unique part;
# YYYY names an academic year by its first calendar year.
school_option = click.option(
    "--school", "school_name", required=True, help="School's full or short name, or a unique part."
)
year_option = click.option(
    "--year",
    required=True,
    type=click.IntRange(ACADEMIC_YEARS.start, ACADEMIC_YEARS.stop - 1),
    help="Academic year: 2019 is 2019/2020.",
)


def school_named(name: str) -> School:
    """The school a NAME means, or the command stops with the lookup's Russian message."""
    try:
        return find_school(name)
    except NameLookupError as error:
        raise click.ClickException(str(error)) from error


def upgrade_database(app: Flask) -> None:
    """Bring the database schema to the latest migration."""
    with app.app_context():
        upgrade(directory=str(app.config["MIGRATIONS_DIR"]))


@coop_cli.command("demo")
def demo_command() -> None:
    """Load the demo data (СОШ № 31 and its 48-event plan, demo users); idempotent."""
    demo.load_demo()
    click.echo("Демо-данные загружены.")


@coop_cli.command("rebuild-search")
def rebuild_search_command() -> None:
    """Rebuild the full-text search index from the rows (after writes that bypass the app)."""
    with db.engine.begin() as connection:
        counts = search.rebuild(connection)
    click.echo(f"Поисковый индекс перестроен: {sum(counts.values())} строк.")


@coop_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--school", "school_name", help="School's full or short name (created if new).")
@click.option("--partner", "partner_name", help="Partner's full or short name (created if new).")
@click.option("--name", default="", help="Display name.")
def create_user_command(
    email: str, password: str, role: str, school_name: str | None, partner_name: str | None, name: str
) -> None:
    """Create a user, or update the one with this e-mail."""
    try:
        user, created = users.create_user(
            email=email,
            password=password,
            role=role,
            school_name=school_name,
            partner_name=partner_name,
            name=name,
        )
    except (users.UserError, NameLookupError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    verb = "создан" if created else "обновлён"
    role = labels.choice_label(User, "role", user.role)
    click.echo(f"Пользователь {user.email} ({role}) {verb}.")


@coop_cli.command("export-plan")
@school_option
@year_option
@click.option("--format", "fmt", required=True, type=click.Choice(list(FORMATS)))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
def export_plan_command(school_name: str, year: int, fmt: str, output: Path | None) -> None:
    """Export a school's network plan for an academic year (json, xlsx, docx, ics)."""
    school = school_named(school_name)
    plan = build_plan(school, year)
    data = FORMATS[fmt].render(plan)
    if output is None and fmt in ("json", "ics"):
        click.echo(data.decode("utf-8"), nl=False)
        return
    output = output or Path(export_filename(plan, fmt))
    try:
        output.write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"Не удалось записать {output}: {error.strerror}") from error
    click.echo(f"{school.short_name}, {plan.year_label}: {len(plan.events)} мероприятий → {output}", err=True)


@coop_cli.command("report")
@school_option
@year_option
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .docx to write.",
)
def report_command(school_name: str, year: int, output: Path) -> None:
    """Write the annual report of the school's innovation site for an academic year (.docx)."""
    school = school_named(school_name)
    report = build_report(school, year)
    try:
        output.write_bytes(report_to_docx(report))
    except OSError as error:
        raise click.ClickException(f"Не удалось записать {output}: {error.strerror}") from error
    click.echo(f"{school.short_name}, {report.year_label}: годовой отчёт → {output}", err=True)


@coop_cli.command("import-plan")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@school_option
@year_option
@click.option("--dry-run", is_flag=True, help="Show what the import would do; write nothing.")
def import_plan_command(file: Path, school_name: str, year: int, dry_run: bool) -> None:
    """Import a network plan from .docx, .xlsx or .csv into the school's programme for YEAR
    (a school with none gets a draft programme covering the plan's years).

    Partners only similar to ones in the directory are added as new organisations
    (the web import lets a person choose); run with --dry-run first to see them.
    """
    try:
        with file.open("rb") as stream:
            data = stream.read(importer.MAX_BYTES + 1)
    except OSError as error:
        raise click.ClickException(f"Не удалось прочитать {file}: {error.strerror}") from error
    school = school_named(school_name)
    try:
        plan = importer.read_plan(data, file.name, school)
        preview = importer.prepare(plan, school, year)
        if preview.undecided:
            choices = {partner.field_name: importer.NEW for partner in preview.undecided}
            preview = importer.prepare(plan, school, year, choices)
    except (PlanFileError, importer.ImportRefused) as error:
        raise click.ClickException(str(error)) from error
    for line in importer.details(preview):
        click.echo(line)
    if preview.errors:
        raise click.ClickException("В файле есть ошибки (см. выше): ничего не записано.")
    if dry_run:
        click.echo("Пробный запуск: ничего не записано.")
        return
    try:
        result = importer.apply(preview)
    except importer.ImportRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(str(result))


config_cli = AppGroup(
    "config", help="The site's configuration as a file: catalogs, choice lists, added fields."
)
coop_cli.add_command(config_cli)
CONFIG_MAX_BYTES = 10 * 1024 * 1024


@config_cli.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
def config_export_command(output: Path | None) -> None:
    """Write the catalogs, the choice lists and the fields added in the site as JSON."""
    text = json.dumps(site_config.export(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"Не удалось записать {output}: {error.strerror}") from error
    click.echo(f"Настройки сайта → {output}", err=True)


@config_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what the import would change; write nothing.")
def config_import_command(file: Path, dry_run: bool) -> None:
    """Apply a configuration written by `config export`: rows added or changed, none deleted."""
    try:
        with file.open("rb") as stream:
            raw = stream.read(CONFIG_MAX_BYTES + 1)
    except OSError as error:
        raise click.ClickException(f"Не удалось прочитать {file}: {error.strerror}") from error
    if len(raw) > CONFIG_MAX_BYTES:
        raise click.ClickException(f"{file}: файл больше {CONFIG_MAX_BYTES // 1024 // 1024} МБ.")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(
            f"{file}: не читается как JSON в UTF-8 ({error}). Ничего не записано."
        ) from None
    try:
        outcome = site_config.apply(data, dry_run=dry_run)
    except site_config.ConfigError as error:
        raise click.ClickException(f"{error} Ничего не записано.") from None
    for line in outcome.lines():
        click.echo(line)
    if dry_run:
        click.echo("Пробный запуск: ничего не записано.")


def _bench_size(name: str, low: int, high: int | None = None, scaled: bool = False) -> Callable[[Any], Any]:
    if scaled:  # by default in proportion to --schools, as the defaults are to 1,000 schools
        default: Any = None
        shown: Any = f"{bench.DEFAULTS[name]} per {bench.DEFAULTS['schools']} schools"
    else:
        default = shown = bench.DEFAULTS[name]
    return click.option(f"--{name}", type=click.IntRange(low, high), default=default, show_default=shown)


@coop_cli.command("bench-data")
@_bench_size("schools", 1)
@_bench_size("partners", 1, scaled=True)
@_bench_size("agreements", 1, scaled=True)
@_bench_size("events", 0, scaled=True)
@_bench_size("years", 1, 10)
@_bench_size("users", 0, scaled=True)
@click.option("--seed", type=int, default=bench.DEFAULTS["seed"], show_default=True)
def bench_data_command(**sizes: Any) -> None:
    """Generate the regional benchmark data (deterministic for a seed); the sizes not given
    grow with --schools (10,000 schools: 3,000,000 plan lines)."""
    sizes = bench.scaled_sizes(sizes)
    main = bench.main_rows(**{k: v for k, v in sizes.items() if k not in ("years", "seed")})
    try:
        with click.progressbar(length=main, label="Генерация", show_pos=True) as bar:
            stats = bench.generate(**sizes, progress=bar.update)
    except bench.BenchDataError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for table, rows in sorted(stats.rows.items()):
        click.echo(f"  {table:<24} {rows:>10}")
    click.echo(
        f"Записано {stats.total} строк за {stats.seconds:.0f} с ({stats.rows_per_second:.0f} строк/с). "
        f"Пароль всех пользователей: {bench.BENCH_PASSWORD}"
    )


@coop_cli.command("check-figures")
@click.option("--fix", is_flag=True, help="Count the kept figures again from the rows and keep them.")
def check_figures_command(fix: bool) -> None:
    """Count the kept figures (per school and year) again from the rows; non-zero exit on any difference."""
    differences = summary.check(db.session)
    for difference in differences[:SHOWN_DIFFERENCES]:
        click.echo(str(difference))
    if len(differences) > SHOWN_DIFFERENCES:
        click.echo(f"… и ещё {len(differences) - SHOWN_DIFFERENCES}.")
    totals = summary.check_totals(db.session)
    for year in totals:
        click.echo(
            f"{year}/{year + 1} учебный год: хранимые итоги по всем школам расходятся с показателями школ"
        )
    years = sorted(summary.kept_years(db.session.connection()))
    if fix:
        rows = summary.rebuild(db.session)
        db.session.commit()
        click.echo(f"Показатели пересчитаны по записям: {rows} строк.")
        return
    if differences or totals:
        raise click.ClickException(
            f"Хранимые показатели расходятся с записями: {len(differences) + len(totals)} расхождений "
            "(исправить: flask --app app coop check-figures --fix)."
        )
    shown = ", ".join(f"{year}/{year + 1}" for year in years) or "нет"
    click.echo(f"Хранимые показатели совпадают с записями. Учебные годы: {shown}.")


SHOWN_DIFFERENCES = 50


@coop_cli.command("check-deploy")
def check_deploy_command() -> None:
    """Report what is unsafe in this configuration for production; non-zero exit if anything is."""
    findings = security.check_deploy(current_app.config, os.environ) + security.check_demo_accounts()
    findings += security.check_limiter_storage(current_app.config["RATELIMIT_STORAGE_URI"])
    for finding in findings:
        click.echo(f"{finding.code}: {finding.message}")
    if findings:
        raise click.ClickException(f"Небезопасных настроек: {len(findings)}.")
    click.echo("Проблем не найдено.")


@coop_cli.command("backup")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Archive (.tar.gz).",
)
def backup_command(output: Path) -> None:
    """Back up the database and the uploaded files into one .tar.gz."""
    try:
        manifest = backup.create_backup(output)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(manifest["tables"].values())
    click.echo(
        f"Резервная копия: {output} ({rows} строк в {len(manifest['tables'])} таблицах, "
        f"файлов: {len(manifest['files']) - 1})."
    )


@coop_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(archive: Path, force: bool) -> None:
    """Restore the database and the uploaded files from a backup archive."""
    try:
        manifest = backup.restore_backup(archive, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(manifest["tables"].values())
    click.echo(f"Восстановлено из {archive} (копия от {manifest['created_at']}): {rows} строк.")
    if manifest.get("revision") != backup.head_revision():
        click.echo("Схема копии старее кода: выполните `flask --app app db upgrade`.")


@coop_cli.command("send-mail")
def send_mail_command() -> None:
    """Deliver the notifications that are due (for cron or a systemd timer), then exit."""
    sent, failed = outbox.send_mail()
    click.echo(f"Отправлено писем: {sent}, не удалось: {failed}.")


@coop_cli.command("remind")
def remind_command() -> None:
    """Write the reminders that fell due (agreements ending, reviews waiting, lines with no record)."""
    written = reminders.remind()
    click.echo(f"Напоминаний записано: {written}.")


@coop_cli.command("worker")
@click.option(
    "--interval", type=click.FloatRange(1), default=30, show_default=True, help="Seconds between runs."
)
@click.option("--once", is_flag=True, help="Deliver once and exit.")
def worker_command(interval: float, once: bool) -> None:
    """Keep delivering the notifications as they fall due; write the reminders hourly."""
    outbox.run_worker(interval, once=once)


def init_app(app: Flask) -> None:
    app.cli.add_command(coop_cli)
