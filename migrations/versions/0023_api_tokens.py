"""api tokens: personal tokens of the read API /api/v1/, kept as their SHA-256; its order's indexes

Revision ID: 0023_api_tokens
Revises: 0022_saved_views
Create Date: 2026-12-06 07:15:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023_api_tokens"
down_revision = "0022_saved_views"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_tokens_secret_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)
    # The read API pages the large tables by (updated_at, id).
    op.create_index("ix_events_updated_at_id", "events", ["updated_at", "id"], unique=False)
    op.create_index("ix_event_executions_updated_at_id", "event_executions", ["updated_at", "id"], unique=False)


def downgrade():
    op.drop_index("ix_event_executions_updated_at_id", table_name="event_executions")
    op.drop_index("ix_events_updated_at_id", table_name="events")
    op.drop_table("api_tokens")
