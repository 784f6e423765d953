"""the review queue's count reads an index of the partners' reports waiting

Revision ID: 0020_review_index
Revises: 0019_files_in_db
Create Date: 2026-12-06 01:50:00.000000

Every page's menu counts the events and the reports awaiting approval. The reports
(event_executions.status = 'reported') had no index: at 10,000 schools the count read
10.6 million yearly records, 0.8 s a page (bench/results/2026-12-06-national-scale.md).
On PostgreSQL a partial index holds only the few rows waiting; SQLite cannot use a
partial index for a bound parameter (`status = ?`), so there the index is of every row.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_review_index'
down_revision = '0019_files_in_db'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'reported'")


def upgrade():
    op.create_index(
        'ix_event_executions_reported', 'event_executions', ['status'], postgresql_where=WAITING
    )


def downgrade():
    op.drop_index('ix_event_executions_reported', table_name='event_executions')
