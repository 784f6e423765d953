"""Alembic environment for Flask-Migrate: the app's engine and metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from alembic.script import ScriptDirectory
from flask import current_app

from coop import search
from coop.seed.catalogs import fill_empty_catalogs

config = context.config
# Keep the app's own loggers when Alembic configures logging on upgrade at start.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=db.metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context, revision, directives):
        # `flask db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("include_object", search.include_object)
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
            if _fills_catalogs():
                filled = fill_empty_catalogs(connection)
                if filled:
                    logger.info("Filled the empty catalogs with their defaults: %s.", filled)
        if connection.in_transaction():
            # SQLite has no transactional DDL: Alembic committed each migration by
            # itself, and the catalogs' rows are in a transaction of their own.
            connection.commit()


def _fills_catalogs() -> bool:
    """After an upgrade (or stamp) that leaves the database at the newest revision.

    Commands that name no destination (current, check, autogenerate) write nothing.
    """
    migration = context.get_context()
    if "destination_rev" not in migration.opts:
        return False
    return set(migration.get_current_heads()) == set(ScriptDirectory.from_config(config).get_heads())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
