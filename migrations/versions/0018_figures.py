"""figures kept per school and academic year (coop/summary.py)

Revision ID: 0018_figures
Revises: 0017_search
Create Date: 2026-12-05 21:15:00.000000

The tables start empty: until a year is kept (figure_years), its figures are counted
from the rows. The first write to the plan fills the years of the plans, and
`flask --app app coop check-figures --fix` fills them at once.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_figures'
down_revision = '0017_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('figure_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_figure_years')),
    sa.UniqueConstraint('year', name=op.f('uq_figure_years_year'))
    )
    op.create_table('school_year_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('figure', sa.String(length=16), nullable=False),
    sa.Column('text0', sa.String(length=32), nullable=True),
    sa.Column('text1', sa.String(length=32), nullable=True),
    sa.Column('number0', sa.Integer(), nullable=True),
    sa.Column('number1', sa.Integer(), nullable=True),
    sa.Column('number2', sa.Integer(), nullable=True),
    sa.Column('number3', sa.Integer(), nullable=True),
    sa.Column('number4', sa.Integer(), nullable=True),
    sa.Column('number5', sa.Integer(), nullable=True),
    sa.Column('number6', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_year_figures_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_year_figures'))
    )
    with op.batch_alter_table('school_year_figures', schema=None) as batch_op:
        batch_op.create_index('ix_school_year_figures_year_school', ['year', 'school_id'], unique=False)


def downgrade():
    with op.batch_alter_table('school_year_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_school_year_figures_year_school')
    op.drop_table('school_year_figures')
    op.drop_table('figure_years')
