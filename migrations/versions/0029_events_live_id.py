"""the ids of the plan lines not in the trash, indexed for a list's deep pages (issue 13)

Revision ID: 0029_events_live_id
Revises: 0028_attention_kept
Create Date: 2026-12-06 14:20:00.000000

A list page reads its ids first (ORDER BY id LIMIT 100 OFFSET n, WHERE deleted_at IS NULL),
then the rows. With the primary key alone, PostgreSQL fetched every skipped row from the
table to read deleted_at: page 1,500 at 10,000 schools walked 150,000 rows (122 ms); from
this index alone, 27 ms (EXPLAIN ANALYZE in bench/results/2026-12-06-national-scale.md).
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0029_events_live_id"
down_revision = "0028_attention_kept"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_live_id",
            ["id"],
            unique=False,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_live_id")
