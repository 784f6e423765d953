"""fields and choice lists added in the site, and each record's values of them

Revision ID: 0021_added_fields
Revises: 0020_review_index
Create Date: 2026-12-06 04:00:00

Issue 14: an administrator (or a school, for its own) adds a field to a kind of record
through the site; its values are kept in the record's `extra`, a JSON object (JSONB on
PostgreSQL) from the field's key to its value (coop/added_fields.py).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0021_added_fields'
down_revision = '0020_review_index'
branch_labels = None
depends_on = None

RECORDS = ('schools', 'partners', 'programmes', 'agreements', 'events', 'event_executions', 'seminars')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _tracked():
    return [
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.Column('deleted_batch', sa.String(length=32), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
    ]


def upgrade():
    op.create_table(
        'choice_lists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        *_tracked(),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'field_definitions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('model', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=255), nullable=False),
        sa.Column('label_en', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('choice_list_id', sa.Integer(), nullable=True),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('help_text', sa.Text(), nullable=False),
        sa.Column('group', sa.String(length=255), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('filled_by', sa.String(length=16), nullable=False),
        sa.Column('in_list', sa.Boolean(), nullable=False),
        sa.Column('in_plan_document', sa.Boolean(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        *_tracked(),
        sa.ForeignKeyConstraint(['choice_list_id'], ['choice_lists.id']),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for table in ('choice_lists', 'field_definitions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_school_id'), ['school_id'], unique=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_deleted_at'), ['deleted_at'], unique=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_deleted_batch'), ['deleted_batch'], unique=False)
    with op.batch_alter_table('field_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_definitions_choice_list_id'), ['choice_list_id'], unique=False)
    for table in RECORDS:
        # In place, not in batch mode: SQLite adds a column with a constant default without
        # copying the table (a copy drops the old one, which the others' foreign keys refuse).
        op.add_column(table, sa.Column('extra', JSON, server_default=sa.text("'{}'"), nullable=False))


def downgrade():
    for table in RECORDS:
        # Not in batch mode: SQLite (3.35+) drops a column in place, where a batch would
        # copy the table and drop the old one, which the others' foreign keys refuse.
        op.drop_column(table, 'extra')
    op.drop_table('field_definitions')
    op.drop_table('choice_lists')
