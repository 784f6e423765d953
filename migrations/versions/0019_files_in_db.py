"""stored files and staged imports in the database (several app servers)

Revision ID: 0019_files_in_db
Revises: 0018_figures
Create Date: 2026-12-06 00:50:00.000000

The bytes of every stored file move from UPLOAD_FOLDER/files/<stored_name> (as the
app configures UPLOAD_FOLDER: instance/uploads by default) into stored_file_contents.
A file missing on disk is named in the log and its row stays (its download answers
404, as it did). The files on disk are left where they are: nothing reads them any
more, and they may be removed once a backup holds the database.

Imports waiting for their confirmation (UPLOAD_FOLDER/imports) are not carried over:
they lived a day at most; whoever was importing uploads the file again.

The downgrade writes every file's bytes back to UPLOAD_FOLDER/files/ first.
"""
import logging
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from flask import current_app, has_app_context


# revision identifiers, used by Alembic.
revision = '0019_files_in_db'
down_revision = '0018_figures'
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

stored_files = sa.table(
    "stored_files",
    sa.column("id", sa.Integer),
    sa.column("stored_name", sa.String),
)
contents = sa.table(
    "stored_file_contents",
    sa.column("stored_file_id", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


def _files_folder() -> Path:
    """Where the app kept the files: UPLOAD_FOLDER/files."""
    if not has_app_context():
        raise RuntimeError("0019_files_in_db reads UPLOAD_FOLDER: run it by `flask --app app db upgrade`")
    return Path(current_app.config["UPLOAD_FOLDER"]) / "files"


def upgrade():
    op.create_table('stored_file_contents',
    sa.Column('stored_file_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'], name=op.f('fk_stored_file_contents_stored_file_id_stored_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stored_file_id', name=op.f('pk_stored_file_contents'))
    )
    op.create_table('staged_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_staged_imports_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staged_imports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_imports')),
    sa.UniqueConstraint('token', name=op.f('uq_staged_imports_token'))
    )
    with op.batch_alter_table('staged_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_imports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_imports_user_id'), ['user_id'], unique=False)

    connection = op.get_bind()
    rows = connection.execute(sa.select(stored_files.c.id, stored_files.c.stored_name).order_by(stored_files.c.id)).all()
    if not rows:
        return
    folder = _files_folder()
    moved = missing = 0
    for file_id, stored_name in rows:
        path = folder / Path(stored_name).name  # a random name the app gave; never a path
        try:
            data = path.read_bytes()
        except OSError as error:
            missing += 1
            logger.warning(
                "0019_files_in_db: stored file %d: %s cannot be read (%s); its row stays, its download answers 404.",
                file_id, path, error.strerror or error,
            )
            continue
        # One file at a time: at most one file's bytes in memory.
        connection.execute(sa.insert(contents).values(stored_file_id=file_id, data=data))
        moved += 1
    logger.info(
        "0019_files_in_db: %d of %d stored files moved from %s into the database%s.",
        moved, len(rows), folder, f"; {missing} missing on disk" if missing else "",
    )


def downgrade():
    connection = op.get_bind()
    query = (
        sa.select(stored_files.c.id, stored_files.c.stored_name)
        .select_from(stored_files.join(contents, contents.c.stored_file_id == stored_files.c.id))
        .order_by(stored_files.c.id)
    )
    rows = connection.execute(query).all()
    if rows:
        folder = _files_folder()
        folder.mkdir(parents=True, exist_ok=True)
        for file_id, stored_name in rows:
            data = connection.execute(
                sa.select(contents.c.data).where(contents.c.stored_file_id == file_id)
            ).scalar_one()
            (folder / Path(stored_name).name).write_bytes(bytes(data))
        logger.info("0019_files_in_db: %d stored files written back to %s.", len(rows), folder)

    with op.batch_alter_table('staged_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_imports_user_id'))
        batch_op.drop_index(batch_op.f('ix_staged_imports_created_at'))
    op.drop_table('staged_imports')
    op.drop_table('stored_file_contents')
