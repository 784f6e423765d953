"""notification preferences, the daily digest, reminders once per occasion

Each user chooses per kind: at once, a daily digest, or off (notification_preferences);
a notification keeps what was chosen (delivery), the digest that carried it (digest_id),
and the occasion that makes a reminder or a digest one of a kind (dedupe_key, unique per user).

Revision ID: 0014_preferences
Revises: 0013_sessions
Create Date: 2026-12-05 20:43:59.383773

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_preferences'
down_revision = '0013_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('delivery', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'kind', name='preference_per_kind')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(length=16), server_default='now', nullable=False))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_notifications_digest', ['delivery', 'digest_id'], unique=False)
        batch_op.create_unique_constraint('notification_once', ['user_id', 'dedupe_key'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_digest_id_notifications'), 'notifications', ['digest_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_digest_id_notifications'), type_='foreignkey')
        batch_op.drop_constraint('notification_once', type_='unique')
        batch_op.drop_index('ix_notifications_digest')
        batch_op.drop_column('digest_id')
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('delivery')

    op.drop_table('notification_preferences')
