"""indexes the home page's attention counts read per school at national scale (issue 13)

Revision ID: 0027_attention_indexes
Revises: 0026_figure_totals
Create Date: 2026-12-06 10:50:00.000000

At 10,000 schools the home page counted, per school, the proposals waiting for review
(148,000 of them in the bench data, fetched row by row from the table), the agreements
about to end (every agreement scanned) and the lines without a record of the year (the
kept figures, 120,000 rows from the table): each now from an index alone.
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0027_attention_indexes"
down_revision = "0026_figure_totals"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_state_updated_at")
        batch_op.create_index(
            "ix_events_state_updated_at",
            ["state", "updated_at", "school_id"],
            unique=False,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index("ix_agreements_valid_to", ["valid_to", "state", "school_id"], unique=False)
    with op.batch_alter_table("school_year_figures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_school_year_figures_year_figure",
            ["year", "figure", "school_id", "number0", "number1"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("school_year_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_school_year_figures_year_figure")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index("ix_agreements_valid_to")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_state_updated_at")
        batch_op.create_index("ix_events_state_updated_at", ["state", "updated_at"], unique=False)
