"""full-text search: FTS5 tables (SQLite) or stored tsvector columns under GIN indexes (PostgreSQL)

What they hold is stated once, in coop/search.py (INDEX): SQLite's tables are filled
here from the rows, PostgreSQL computes its generated columns itself.

Revision ID: 0017_search
Revises: 0016_invitations
Create Date: 2026-12-05 21:20:00.000000

"""
from alembic import op

from coop import search

# revision identifiers, used by Alembic.
revision = '0017_search'
down_revision = '0016_invitations'
branch_labels = None
depends_on = None


def upgrade():
    search.rebuild(op.get_bind(), with_extra=False)  # no added fields yet (0021, 0025)


def downgrade():
    search.drop(op.get_bind())
