"""a school's plan lines by their last year, indexed for the year picker (issue 13)

Revision ID: 0030_events_school_last_year
Revises: 0029_events_live_id
Create Date: 2026-12-06 14:30:00.000000

The year picker of a school's pages (the calendar, the dashboard) asks for the last year
of the school's latest line (ORDER BY last_year DESC LIMIT 1). PostgreSQL walked the
last_year index of every school's lines, filtering by school, down to this school's first:
58,093 rows at 1,000 schools, 41 ms; with (school_id, last_year), 0.4 ms.
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0030_events_school_last_year"
down_revision = "0029_events_live_id"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_school_last_year",
            ["school_id", "last_year"],
            unique=False,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_school_last_year")
