"""the added fields' texts in the full-text index; the kept figures' codes as long as a field's key (issue 14)

Revision ID: 0025_extra_index
Revises: 0024_data_requests
Create Date: 2026-12-06 07:10:00.000000

What the index holds is stated once, in coop/search.py: a searchable table with added
fields (its `extra`) indexes their string values with its other text. PostgreSQL's
generated tsvector column is made again with them; SQLite's FTS5 tables are refilled.
The figures kept per school and year (coop/summary.py) keep the added fields' sums under
their key: its codes take a key's 64 characters. On PostgreSQL each number field of the
municipality's gets the expression index its list filters read (coop/added_fields.py:
sync_index; made and dropped with the definition from now on).
"""

from alembic import op
import sqlalchemy as sa

from coop import added_fields, search

# revision identifiers, used by Alembic.
revision = "0025_extra_index"
down_revision = "0024_data_requests"
branch_labels = None
depends_on = None


def _index(with_extra: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        search.drop(connection, only_extra=True)  # a generated column's expression is not altered
    search.rebuild(connection, with_extra=with_extra)


def _codes(length: int) -> None:
    with op.batch_alter_table("school_year_figures", schema=None) as batch_op:
        for name in ("text0", "text1"):
            batch_op.alter_column(name, existing_type=sa.String(), type_=sa.String(length=length))


def _number_fields():
    rows = op.get_bind().execute(
        sa.text(
            "SELECT model, key FROM field_definitions WHERE school_id IS NULL AND deleted_at IS NULL "
            "AND kind IN ('integer', 'decimal')"
        )
    )
    return list(rows)


def upgrade():
    _index(with_extra=True)
    _codes(64)
    for model, key in _number_fields():
        added_fields.sync_index(op.get_bind(), model, key, True)


def downgrade():
    for model, key in _number_fields():
        added_fields.sync_index(op.get_bind(), model, key, False)
    op.execute("DELETE FROM school_year_figures WHERE figure = 'added'")  # kept again on the next write
    _codes(32)
    _index(with_extra=False)
