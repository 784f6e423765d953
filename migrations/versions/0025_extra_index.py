"""the added fields' texts in the full-text index (issue 14)

Revision ID: 0025_extra_index
Revises: 0022_saved_views
Create Date: 2026-12-06 07:10:00.000000

What the index holds is stated once, in coop/search.py: a searchable table with added
fields (its `extra`) indexes their string values with its other text. PostgreSQL's
generated tsvector column is made again with them; SQLite's FTS5 tables are refilled.
"""

from alembic import op

from coop import search

# revision identifiers, used by Alembic.
revision = "0025_extra_index"
down_revision = "0022_saved_views"
branch_labels = None
depends_on = None


def _index(with_extra: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        search.drop(connection, only_extra=True)  # a generated column's expression is not altered
    search.rebuild(connection, with_extra=with_extra)


def upgrade():
    _index(with_extra=True)


def downgrade():
    _index(with_extra=False)
