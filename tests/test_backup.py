"""Backup and restore: a backup restored into a fresh database holds the same rows,
table by table and school by school, and the same uploaded files (rows of the database);
an archive made when the files lived on disk still restores them; a database with
data is not overwritten unless forced; a damaged or foreign archive is a clear error."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from coop import backup, create_app, uploads
from coop import models as m
from coop.backup import DATABASE_FILES, MANIFEST, row_counts
from coop.extensions import db
from coop.seed import catalogs

from .conftest import login

UPLOADED = b"%PDF-1.4 agreement\n"


def _counts_per_school() -> dict[str, dict[str, int]]:
    """Rows of every table that names a school, by the school's name."""
    schools = m.School.__table__
    counts: dict[str, dict[str, int]] = {}
    for table in db.metadata.sorted_tables:
        if "school_id" not in table.c or table is schools:
            continue
        query = (
            select(schools.c.short_name, func.count())
            .select_from(table.join(schools, table.c.school_id == schools.c.id))
            .group_by(schools.c.short_name)
        )
        for name, count in db.session.execute(query, execution_options={"skip_scope": True}):
            counts.setdefault(name, {})[table.name] = count
    return counts


def _snapshot(app: Flask) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    with app.app_context(), db.engine.connect() as connection:
        return row_counts(connection), _counts_per_school()


@pytest.fixture
def target(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on that fresh database, migrated (as `flask` starts it by default) and empty."""
    fresh = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": str(tmp_path / "restored-uploads"),
            "AUTO_MIGRATE": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def uploaded(app: Flask, fresh_db: None) -> int:
    """A file attached to a school's agreement (its bytes in the database), to travel with
    the backup; its id."""
    with app.app_context():
        agreement = db.session.execute(select(m.Agreement)).scalars().first()
        row = uploads.store(FileStorage(io.BytesIO(UPLOADED), "Договор.pdf"), agreement)
        db.session.commit()
        return row.id


@pytest.fixture
def archive(app: Flask, tmp_path: Path, uploaded: int) -> Path:
    path = tmp_path / "coop-backup.tar.gz"
    result = app.test_cli_runner().invoke(args=["coop", "backup", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_backup_restores_into_a_fresh_database(
    app: Flask, target: Flask, archive: Path, uploaded: int
) -> None:
    tables, schools = _snapshot(app)
    defaults = {model.__tablename__: len(rows) for model, rows in catalogs.DEFAULTS.items()}
    assert _snapshot(target)[0] == {**dict.fromkeys(tables, 0), **defaults}  # a fresh install

    result = target.test_cli_runner().invoke(args=["coop", "restore", str(archive)])
    assert result.exit_code == 0, result.output

    restored_tables, restored_schools = _snapshot(target)
    assert restored_tables == tables
    assert restored_schools == schools
    assert {"МБОУ «СОШ № 31»", "МБОУ «Гимназия № 17»"} <= set(restored_schools)
    assert not Path(target.config["UPLOAD_FOLDER"]).exists()  # the file came inside the database
    client = target.test_client()  # password hashes and sessions work on the copy
    login(client, "admin@coop.example", "admin")
    assert client.get("/admin/event/").status_code == 200
    download = client.get(f"/files/{uploaded}")
    assert download.status_code == 200 and download.data == UPLOADED


def test_an_archive_made_when_files_lived_on_disk_restores_them_for_the_migration(
    app: Flask, target: Flask, archive: Path, tmp_path: Path
) -> None:
    """Before 0019_files_in_db an archive held uploads/ beside the database: it is still read,
    and the folder comes back as UPLOAD_FOLDER, where `flask db upgrade` finds the files."""

    def with_uploads_folder(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        members["uploads/files/0123456789abcdef0123456789abcdef.pdf"] = UPLOADED
        manifest["files"]["uploads/files/0123456789abcdef0123456789abcdef.pdf"] = hashlib.sha256(
            UPLOADED
        ).hexdigest()

    older = _rewritten(archive, tmp_path, with_uploads_folder)
    result = target.test_cli_runner().invoke(args=["coop", "restore", str(older)])
    assert result.exit_code == 0, result.output
    restored = Path(target.config["UPLOAD_FOLDER"]) / "files" / "0123456789abcdef0123456789abcdef.pdf"
    assert restored.read_bytes() == UPLOADED


def test_manifest_counts_rows_per_table_and_per_school(app: Flask, archive: Path) -> None:
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile(MANIFEST).read())
    # The manifest and the database: the uploaded files are rows of it.
    assert names == [MANIFEST, DATABASE_FILES[manifest["dialect"]]]
    assert set(manifest["files"]) == {names[1]}
    tables, _schools = _snapshot(app)
    assert manifest["format"] == "coop-backup" and manifest["tables"] == tables
    assert manifest["tables"]["events"] >= 48
    with app.app_context():
        school31 = db.session.execute(
            select(m.School.id).filter_by(short_name="МБОУ «СОШ № 31»")
        ).scalar_one()
    assert manifest["schools"][str(school31)]["events"] >= 48
    assert archive.stat().st_mode & 0o077 == 0  # personal data: the owner's only


def test_a_database_with_data_is_not_overwritten_without_force(app: Flask, archive: Path) -> None:
    before = _snapshot(app)
    result = app.test_cli_runner().invoke(args=["coop", "restore", str(archive)])
    assert result.exit_code != 0
    assert "--force" in result.output and "Traceback" not in result.output
    assert _snapshot(app) == before


@pytest.mark.usefixtures("fresh_db")
def test_force_replaces_the_data(app: Flask, archive: Path) -> None:
    before = _snapshot(app)
    with app.app_context():
        db.session.add(m.Partner(name="Появился после копии", short_name="После копии"))
        db.session.commit()
    assert _snapshot(app) != before
    result = app.test_cli_runner().invoke(args=["coop", "restore", str(archive), "--force"])
    assert result.exit_code == 0, result.output
    assert _snapshot(app) == before


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}


def _rewritten(archive: Path, tmp_path: Path, change: Any) -> Path:
    """The archive with its manifest (and members) changed by change()."""
    members = _members(archive)
    manifest = json.loads(members[MANIFEST])
    change(manifest, members)
    members[MANIFEST] = json.dumps(manifest).encode()
    return _tar(tmp_path / f"{change.__name__}.tar.gz", members)


def _bad_archives(archive: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    data = archive.read_bytes()
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x00\x01 not an archive at all" * 100)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    database_name = next(name for name in _members(archive) if name.startswith("database."))

    def other_dialect(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["dialect"] = "sqlite" if manifest["dialect"] == "postgresql" else "postgresql"
        name = DATABASE_FILES[manifest["dialect"]]
        members[name] = members.pop(database_name)
        manifest["files"][name] = manifest["files"].pop(database_name)

    def tampered(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        members[database_name] = members[database_name][:-10] + b"0123456789"

    def wrong_format(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["format"] = "other"

    def newer(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["revision"] = "9999"

    return {
        "garbage": (garbage, "повреждён"),
        "truncated": (truncated, "повреждён"),
        "foreign": (_tar(tmp_path / "foreign.tar.gz", {"README.txt": b"hello"}), "не резервная копия Coop"),
        "wrong format": (
            _rewritten(archive, tmp_path, wrong_format),
            "не резервная копия Coop",
        ),
        "tampered": (_rewritten(archive, tmp_path, tampered), "повреждена"),
        "other database": (_rewritten(archive, tmp_path, other_dialect), "того же вида"),
        "newer": (_rewritten(archive, tmp_path, newer), "более новой версией"),
        "escaping path": (_tar(tmp_path / "escape.tar.gz", {"../../escaped.txt": b"x"}), "повреждён"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "truncated",
        "foreign",
        "wrong format",
        "tampered",
        "other database",
        "newer",
        "escaping path",
    ],
)
def test_a_damaged_or_foreign_archive_is_a_clear_error(
    target: Flask, archive: Path, tmp_path: Path, case: str
) -> None:
    path, message = _bad_archives(archive, tmp_path)[case]
    before = _snapshot(target)
    result = target.test_cli_runner().invoke(args=["coop", "restore", str(path)])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert _snapshot(target) == before
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_backup_to_an_unwritable_place_is_a_clear_error(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["coop", "backup", "-o", str(tmp_path / "no" / "such" / "b.tar.gz")]
    )
    assert result.exit_code != 0
    assert "Не удалось записать" in result.output and "Traceback" not in result.output


def _hostile(path: Path, kind: str) -> Path:
    """A one-member archive that would write outside its folder, or what is not a file."""
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(
            {"absolute": "/tmp/coop-absolute.txt", "dotdot": "../coop-escaped.txt"}.get(kind, "x")
        )
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, "../../etc/passwd"
        elif kind == "device":
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        info.size = 0 if info.type != tarfile.REGTYPE else 1
        tar.addfile(info, io.BytesIO(b"x") if info.type == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize("with_filter", [True, False], ids=["data filter", "checked by hand"])
@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "hardlink", "device"])
def test_hostile_members_are_refused_with_or_without_the_tar_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, with_filter: bool
) -> None:
    if not with_filter:  # as on Python before 3.11.4 (Debian 12's 3.11.2)
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tar filter")
    folder = tmp_path / "unpacked"
    folder.mkdir()
    with tarfile.open(_hostile(tmp_path / "hostile.tar.gz", kind)) as archive:
        try:
            backup.extract_safely(archive, folder)
        except tarfile.TarError:
            assert list(folder.iterdir()) == []  # refused before anything is written
    # Refused, or (the filter strips a leading "/") kept inside as a plain file.
    for path in folder.rglob("*"):
        assert path.resolve().is_relative_to(folder.resolve())
        assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
    assert not (tmp_path / "coop-escaped.txt").exists() and not Path("/tmp/coop-absolute.txt").exists()


@pytest.mark.parametrize("with_filter", [True, False], ids=["data filter", "checked by hand"])
def test_unpacked_files_lose_setuid_and_write_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_filter: bool
) -> None:
    if not with_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tar filter")
    path = tmp_path / "modes.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("sub/tool.sh")
        info.size, info.mode = 1, 0o4777
        tar.addfile(info, io.BytesIO(b"x"))
    folder = tmp_path / "unpacked"
    folder.mkdir()
    with tarfile.open(path) as archive:
        backup.extract_safely(archive, folder)
    mode = (folder / "sub" / "tool.sh").stat().st_mode
    assert (folder / "sub" / "tool.sh").read_bytes() == b"x"
    assert not mode & 0o4000 and not mode & 0o022
