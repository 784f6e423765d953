"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from coop import search
from coop.extensions import db


def test_models_and_migrations_agree(app: Flask) -> None:
    """Fails when a model changed without `flask db migrate`."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": search.include_object}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `flask --app app db migrate -m '…'` and commit the migration"


def test_database_is_at_the_latest_revision(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory(str(app.config["MIGRATIONS_DIR"])).get_current_head()
    assert current == head
