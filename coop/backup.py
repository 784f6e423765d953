"""Backup and restore: the database, uploaded files included, in one .tar.gz.

The archive holds ``manifest.json`` (what it is, which database and migration
it came from, row counts per table and per school, a SHA-256 of every file) and
the database (SQLite: a copy made by the online backup API, consistent while
the site runs; PostgreSQL: ``pg_dump`` custom format). The uploaded files are rows
of the database (models.stored_file_contents, since migration 0019_files_in_db).
An archive made before that also holds ``uploads/``, the folder the files were
kept in: restore puts it back as UPLOAD_FOLDER, where `flask db upgrade` (0019)
reads them into the database.
Restore goes into the configured database of the same kind; it refuses to
overwrite data unless forced, and checks the counts afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import Connection, MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL

from .extensions import db
from .seed.catalogs import untouched_defaults

FORMAT = "coop-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
UPLOADS = "uploads"  # only in archives made before the files moved into the database


class BackupError(Exception):
    """A backup or restore that cannot be done; str() is the message for the user."""


# --- what a database holds ------------------------------------------------------------


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the app's schema (tables the database does not have are left out)."""
    present = set(inspect(connection).get_table_names())
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
        if table.name in present
    }


def school_row_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """Rows per school (by id) of every table that names a school."""
    present = set(inspect(connection).get_table_names())
    counts: dict[str, dict[str, int]] = {}
    for table in db.metadata.sorted_tables:
        if table.name not in present or "school_id" not in table.c:
            continue
        column = table.c.school_id
        query = select(column, func.count()).where(column.is_not(None)).group_by(column)
        for school_id, count in connection.execute(query):
            counts.setdefault(str(school_id), {})[table.name] = count
    return counts


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink())


# --- PostgreSQL's own tools -----------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore, and an environment carrying the password
    (a password on the command line would show in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BackupError(
            f"Не найдена программа {args[0]}: установите клиент PostgreSQL (пакет postgresql-client)."
        ) from error
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-3:]
        raise BackupError(f"{args[0]} завершился с ошибкой: " + " ".join(detail))


# --- backup ---------------------------------------------------------------------------


def _sqlite_copy(target: Path) -> None:
    """A consistent copy of the live SQLite database (online backup API)."""
    with db.engine.connect() as connection:
        source = cast(sqlite3.Connection, connection.connection.driver_connection)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()


def _dump_database(folder: Path) -> dict[str, Any]:
    """Write the database into folder; its facts for the manifest."""
    dialect = db.engine.dialect.name
    if dialect not in DATABASE_FILES:
        raise BackupError(f"Резервное копирование базы {dialect} не поддерживается.")
    target = folder / DATABASE_FILES[dialect]
    if dialect == "sqlite":
        _sqlite_copy(target)
        # Counted in the copy itself: exactly what the archive holds.
        engine = create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as connection:
                return _facts(connection)
        finally:
            engine.dispose()
    # PostgreSQL: pg_dump reads the snapshot in which the rows are counted.
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = _facts(connection)
        url, env = _libpq(db.engine.url)
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}", f"--dbname={url}"],
            env,
        )
        connection.rollback()
    return facts


def _facts(connection: Connection) -> dict[str, Any]:
    return {
        "revision": _revision(connection),
        "tables": row_counts(connection),
        "schools": school_row_counts(connection),
    }


def create_backup(output: Path) -> dict[str, Any]:
    """Write the backup archive to output; returns its manifest."""
    with tempfile.TemporaryDirectory(prefix="coop-backup-") as tmp:
        folder = Path(tmp)
        facts = _dump_database(folder)
        database_file = folder / DATABASE_FILES[db.engine.dialect.name]
        files = {database_file.name: _sha256(database_file)}
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "dialect": db.engine.dialect.name,
            **facts,
            "files": files,
        }
        partial = output.with_name(output.name + ".part")
        try:
            # Password hashes and personal data: readable by the owner only.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(dt.datetime.now().timestamp()), 0o600
                archive.addfile(info, io.BytesIO(data))
                archive.add(database_file, arcname=database_file.name)
            os.replace(partial, output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise BackupError(f"Не удалось записать {output}: {error.strerror}") from error
    return manifest


# --- restore --------------------------------------------------------------------------


def extract_safely(archive: tarfile.TarFile, folder: Path) -> None:
    """Unpack archive into folder: no absolute paths, no "..", no links, no devices.

    Python's "data" filter says so where the running Python has it (3.11.4 and
    later, 3.12.0 …); on an older one (Debian 12's 3.11.2) every member is checked
    the same way by hand first, and unpacked with plain permissions and no owner.
    """
    if hasattr(tarfile, "data_filter"):
        archive.extractall(folder, filter="data")
        return
    root = folder.resolve()
    members = archive.getmembers()
    for member in members:
        target = (root / member.name).resolve()
        inside = target == root or target.is_relative_to(root)
        if os.path.isabs(member.name) or not inside or not (member.isfile() or member.isdir()):
            raise tarfile.TarError(f"unsafe member: {member.name}")
        member.mode &= 0o755  # no setuid, setgid, sticky or group/other write bits
        member.uid, member.gid, member.uname, member.gname = os.getuid(), os.getgid(), "", ""
    archive.extractall(folder, members=members)


def _unpack(archive_path: Path, folder: Path) -> dict[str, Any]:
    """Unpack a Coop backup into folder and check it whole; its manifest."""
    damaged = f"Файл {archive_path} — не архив .tar.gz или он повреждён."
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            extract_safely(archive, folder)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(damaged) from error
    except OSError as error:
        raise BackupError(f"Не удалось прочитать {archive_path}: {error.strerror or error}") from error
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"Файл {archive_path} — не резервная копия Coop: в нём нет {MANIFEST}.") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"Файл {archive_path} — не резервная копия Coop.")
    if manifest.get("version") != VERSION or manifest.get("dialect") not in DATABASE_FILES:
        raise BackupError(
            f"Формат копии {archive_path} (версия {manifest.get('version')}) этой версией Coop не читается."
        )
    files = manifest.get("files")
    if (
        not isinstance(manifest.get("tables"), dict)
        or not isinstance(files, dict)
        or DATABASE_FILES[manifest["dialect"]] not in files
    ):
        raise BackupError(f"Копия {archive_path} неполна: в ней нет базы данных.")
    for name, digest in files.items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"Копия {archive_path} повреждена: не сходится файл {name}.")
    return manifest


def _check_target(manifest: dict[str, Any], force: bool, uploads_in_archive: bool) -> None:
    dialect = db.engine.dialect.name
    if manifest["dialect"] != dialect:
        raise BackupError(
            f"Копия сделана из базы {manifest['dialect']}, а настроена база {dialect}: "
            "восстанавливайте в базу того же вида."
        )
    scripts = ScriptDirectory(str(current_app.config["MIGRATIONS_DIR"]))
    revision = manifest.get("revision")
    if revision is not None and revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupError(f"Копия сделана более новой версией Coop (миграция {revision}): обновите код.")
    with db.engine.connect() as connection:
        # A fresh install holds the default catalogs: nothing a restore would lose.
        rows = sum(row_counts(connection).values()) - sum(untouched_defaults(connection).values())
    # An older archive replaces the uploads folder too: the files there count.
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    files = sum(1 for _ in _files(uploads)) if uploads_in_archive and uploads.is_dir() else 0
    if (rows or files) and not force:
        raise BackupError(
            f"База данных не пуста ({rows} строк, {files} загруженных файлов): восстановление заменит "
            "всё её содержимое. Если это и нужно, повторите команду с --force."
        )


@contextmanager
def _no_connections() -> Iterator[None]:
    """The app's own connections closed while the database is replaced."""
    db.session.remove()
    db.engine.dispose()
    try:
        yield
    finally:
        db.engine.dispose()


def _restore_sqlite(source: Path) -> None:
    target = db.engine.url.database
    if not target or target == ":memory:":
        raise BackupError("Восстановление в базу SQLite в памяти не поддерживается.")
    copy = sqlite3.connect(source)
    try:
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("База данных в копии повреждена (PRAGMA integrity_check).")
        with _no_connections():
            destination = sqlite3.connect(target)
            try:
                copy.backup(destination)  # page by page, in one write transaction
            finally:
                destination.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"База данных в копии повреждена: {error}") from error
    finally:
        copy.close()


def _restore_postgresql(dump: Path) -> None:
    url, env = _libpq(db.engine.url)
    _run(["pg_restore", "--list", str(dump)], env)  # a readable archive, before anything is dropped
    with _no_connections():
        with db.engine.begin() as connection:
            # Tables a newer schema has and the copy lacks would outlive the restore.
            existing = MetaData()
            existing.reflect(connection)
            existing.drop_all(connection)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={url}",
                str(dump),
            ],
            env,
        )


def _restore_uploads(source: Path) -> None:
    """An archive made before the files moved into the database: its uploads folder back
    as UPLOAD_FOLDER, for `flask db upgrade` (0019_files_in_db) to read into the database."""
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.exists():
        shutil.rmtree(uploads)
    shutil.copytree(source, uploads)


def restore_backup(archive_path: Path, *, force: bool = False) -> dict[str, Any]:
    """Replace the configured database (and, from an older archive, the uploads folder)
    with the backup's; its manifest."""
    with tempfile.TemporaryDirectory(prefix="coop-restore-") as tmp:
        folder = Path(tmp)
        manifest = _unpack(archive_path, folder)
        uploads = folder / UPLOADS
        _check_target(manifest, force, uploads.is_dir())
        database_file = folder / DATABASE_FILES[manifest["dialect"]]
        if manifest["dialect"] == "sqlite":
            _restore_sqlite(database_file)
        else:
            _restore_postgresql(database_file)
        if uploads.is_dir():
            _restore_uploads(uploads)
    with db.engine.connect() as connection:
        restored = row_counts(connection)
    wrong = {
        name: (count, restored.get(name))
        for name, count in manifest["tables"].items()
        if restored.get(name) != count
    }
    if wrong:
        listed = ", ".join(f"{name}: {got} вместо {want}" for name, (want, got) in sorted(wrong.items()))
        raise BackupError(f"После восстановления не сходится число строк: {listed}.")
    return manifest


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory(str(current_app.config["MIGRATIONS_DIR"])).get_current_head()
