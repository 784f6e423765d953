"""Migration 0019_files_in_db: the files kept on disk before end in the database after the
upgrade (and download from it); one missing on disk is a clear line in the log, not a crash;
the downgrade writes them back to the folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select

from coop import create_app
from coop import models as m
from coop.extensions import db
from coop.users import create_user

from .conftest import login

PASSWORD = "Kx9#mP2$vL7q!Wz"
FILES = {
    "a1b2c3d4e5f60718293a4b5c6d7e8f90.pdf": b"%PDF-1.4 kept on disk\n",
    "0f1e2d3c4b5a69788796a5b4c3d2e1f0.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
}
MISSING = "ffffffffffffffffffffffffffffffff.pdf"


@pytest.fixture
def app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "test-secret-key",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "AUTO_MIGRATE": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _contents() -> dict[str, bytes]:
    table = m.stored_file_contents
    stmt = select(m.StoredFile.stored_name, table.c.data).join(
        table, table.c.stored_file_id == m.StoredFile.id
    )
    return {name: bytes(data) for name, data in db.session.execute(stmt)}


def test_files_on_disk_move_into_the_database_and_back(
    app: Flask, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "files"
    directory = app.config["MIGRATIONS_DIR"]
    with app.app_context():
        create_user(email="admin@files.example", password=PASSWORD, role="admin")
        school = m.School(name="СОШ № 5", short_name="СОШ № 5")
        db.session.add(school)
        db.session.commit()
        school_id = school.id  # read now: the rows of 0018 have fewer columns than the model
        db.session.rollback()  # and end the read: an open one would hold the downgrade's DROPs
        downgrade(directory=directory, revision="0018_figures")
        # As the app kept them before: a row, and the bytes under UPLOAD_FOLDER/files.
        folder.mkdir(parents=True)
        ids = {}
        for name, data in {**FILES, MISSING: b"%PDF-1.4 lost\n"}.items():
            if name in FILES:
                (folder / name).write_bytes(data)
            row = {
                "school_id": school_id,
                "owner_table": "schools",
                "owner_id": school_id,
                "original_name": f"Документ{Path(name).suffix}",
                "stored_name": name,
                "content_type": "application/pdf" if name.endswith(".pdf") else "image/png",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "created_at": m.utcnow(),
                "updated_at": m.utcnow(),
                "version": 1,
            }
            ids[name] = db.session.execute(insert(m.StoredFile.__table__).values(row)).inserted_primary_key[0]
        db.session.commit()
        capfd.readouterr()

        upgrade(directory=directory)
        log = capfd.readouterr().err
        assert _contents() == FILES
        # The one missing on disk: named in the log, its row kept.
        assert f"stored file {ids[MISSING]}" in log and MISSING in log and "404" in log
        assert "2 of 3 stored files moved" in log
        assert db.session.get(m.StoredFile, ids[MISSING]) is not None

    client = app.test_client()
    login(client, "admin@files.example", PASSWORD)
    for name, data in FILES.items():
        download = client.get(f"/files/{ids[name]}")
        assert download.status_code == 200 and download.data == data, name
    assert client.get(f"/files/{ids[MISSING]}").status_code == 404

    # The downgrade writes every file back where the app of 0018 reads it.
    for name in FILES:
        (folder / name).unlink()
    with app.app_context():
        downgrade(directory=directory, revision="0018_figures")
        assert {path.name: path.read_bytes() for path in folder.iterdir()} == FILES
        upgrade(directory=directory)
        assert _contents() == FILES
