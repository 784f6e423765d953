"""a covering index for the dashboard's join of plan lines with the year's records

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ['year', 'event_id', 'deleted_at', 'status', 'students_count', 'teachers_count', 'parents_count']


def upgrade():
    with op.batch_alter_table('event_executions', schema=None) as batch_op:
        batch_op.create_index('ix_event_executions_dashboard', COLUMNS, unique=False)
        batch_op.drop_index('ix_event_executions_year')  # the new index leads with the year


def downgrade():
    with op.batch_alter_table('event_executions', schema=None) as batch_op:
        batch_op.create_index('ix_event_executions_year', ['year'], unique=False)
        batch_op.drop_index('ix_event_executions_dashboard')
