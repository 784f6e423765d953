"""the totals of all schools kept with the year whose figures are kept, and its version (issue 13)

Revision ID: 0026_figure_totals
Revises: 0025_extra_index
Create Date: 2026-12-06 10:40:00.000000

coop/summary.py adds 1 to a kept year's version in every transaction that may change the
dashboard's totals of all schools; coop/figures.py keeps those totals, as counted at a
version, in `totals`, and reads them while the versions agree.
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0026_figure_totals"
down_revision = "0025_extra_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("figure_years", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("totals", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("figure_years", schema=None) as batch_op:
        batch_op.drop_column("totals")
        batch_op.drop_column("version")
