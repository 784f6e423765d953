"""saved views: a list's state under a name, personal or shared, and its calendar feed's key

Revision ID: 0022_saved_views
Revises: 0021_added_fields
Create Date: 2026-12-06 03:45:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022_saved_views"
down_revision = "0021_added_fields"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("feed_hash", sa.String(length=64), nullable=True),
        sa.Column("feed_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_batch", sa.String(length=32), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "visibility != 'school' OR school_id IS NOT NULL",
            name=op.f("ck_saved_views_school_when_shared"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_saved_views_school_id_schools"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_views_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("feed_hash", name=op.f("uq_saved_views_feed_hash")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_views_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_saved_views_deleted_batch"), ["deleted_batch"], unique=False)
        batch_op.create_index(batch_op.f("ix_saved_views_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_saved_views_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("saved_views")
