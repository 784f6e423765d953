"""indexes for the list filters (programme years, execution dates) and the review queue

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 23:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_state_updated_at', ['state', 'updated_at'], unique=False)

    with op.batch_alter_table('event_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_executions_held_on'), ['held_on'], unique=False)

    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programmes_first_year'), ['first_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_programmes_last_year'), ['last_year'], unique=False)


def downgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programmes_last_year'))
        batch_op.drop_index(batch_op.f('ix_programmes_first_year'))

    with op.batch_alter_table('event_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_executions_held_on'))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_state_updated_at')
