"""what needs attention in all schools, kept with the year beside the totals (issue 13)

Revision ID: 0028_attention_kept
Revises: 0027_attention_indexes
Create Date: 2026-12-06 14:00:00.000000

coop/attention.py keeps the home page's list of all schools, as counted at a version of
the year (coop/summary.py adds 1 to it at every write that may change the list) on a day,
and reads it while both agree.
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0028_attention_kept"
down_revision = "0027_attention_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("figure_years", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attention", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("figure_years", schema=None) as batch_op:
        batch_op.drop_column("attention")
