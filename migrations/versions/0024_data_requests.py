"""data requests: the municipality's requests for figures, their questions and schools, the answers

Revision ID: 0024_data_requests
Revises: 0023_api_tokens
Create Date: 2026-12-06 07:00:06.762321

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024_data_requests"
down_revision = "0023_api_tokens"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("addressees", sa.String(length=32), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_batch", sa.String(length=32), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["data_requests.id"],
            name=op.f("fk_data_requests_previous_id_data_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
    )
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_requests_deadline"), ["deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_requests_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_requests_deleted_batch"), ["deleted_batch"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_requests_previous_id"), ["previous_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_requests_year"), ["year"], unique=False)

    op.create_table(
        "data_request_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("return_comment", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_batch", sa.String(length=32), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_requests.id"],
            name=op.f("fk_data_request_answers_request_id_data_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_data_request_answers_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_request_answers")),
        sa.UniqueConstraint("request_id", "school_id", name="answer_per_school"),
    )
    with op.batch_alter_table("data_request_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_request_answers_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_data_request_answers_deleted_batch"), ["deleted_batch"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_data_request_answers_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_request_answers_school_id"), ["school_id"], unique=False)

    op.create_table(
        "data_request_schools",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_requests.id"],
            name=op.f("fk_data_request_schools_request_id_data_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_data_request_schools_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "school_id", name=op.f("pk_data_request_schools")),
    )
    op.create_table(
        "data_request_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choice_list_id", sa.Integer(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("help_text", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("prefill", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_batch", sa.String(length=32), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["choice_list_id"],
            ["choice_lists.id"],
            name=op.f("fk_data_request_questions_choice_list_id_choice_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_requests.id"],
            name=op.f("fk_data_request_questions_request_id_data_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_request_questions")),
    )
    with op.batch_alter_table("data_request_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_request_questions_choice_list_id"), ["choice_list_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_request_questions_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_request_questions_deleted_batch"), ["deleted_batch"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_request_questions_request_id"), ["request_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("data_request_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_request_questions_request_id"))
        batch_op.drop_index(batch_op.f("ix_data_request_questions_deleted_batch"))
        batch_op.drop_index(batch_op.f("ix_data_request_questions_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_data_request_questions_choice_list_id"))

    op.drop_table("data_request_questions")
    op.drop_table("data_request_schools")
    with op.batch_alter_table("data_request_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_request_answers_school_id"))
        batch_op.drop_index(batch_op.f("ix_data_request_answers_request_id"))
        batch_op.drop_index(batch_op.f("ix_data_request_answers_deleted_batch"))
        batch_op.drop_index(batch_op.f("ix_data_request_answers_deleted_at"))

    op.drop_table("data_request_answers")
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_requests_year"))
        batch_op.drop_index(batch_op.f("ix_data_requests_previous_id"))
        batch_op.drop_index(batch_op.f("ix_data_requests_deleted_batch"))
        batch_op.drop_index(batch_op.f("ix_data_requests_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_data_requests_deadline"))

    op.drop_table("data_requests")
