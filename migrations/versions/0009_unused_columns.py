"""drop columns nothing reads: agreements.document (files are attached), event_executions.evidence_file

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('document')
    with op.batch_alter_table('event_executions', schema=None) as batch_op:
        batch_op.drop_column('evidence_file')


def downgrade():
    with op.batch_alter_table('event_executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_file', sa.String(length=500), nullable=False, server_default=''))
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document', sa.String(length=500), nullable=False, server_default=''))
