"""a plan line is no longer "held" as a whole: held is said per academic year, on its record

Events in the state "held" go back to "approved"; the year they were marked held in
(the academic year of their last change, within the line's years) gets a record
saying held, unless the line already has a held record. Records are never removed.

Revision ID: 0010_held
Revises: 0009
Create Date: 2026-12-05 18:00:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_held'
down_revision = '0009'
branch_labels = None
depends_on = None

events = sa.table(
    'events',
    sa.column('id', sa.Integer),
    sa.column('school_id', sa.Integer),
    sa.column('state', sa.String),
    sa.column('first_year', sa.Integer),
    sa.column('last_year', sa.Integer),
    sa.column('updated_at', sa.DateTime),
    sa.column('version', sa.Integer),
)
executions = sa.table(
    'event_executions',
    sa.column('id', sa.Integer),
    sa.column('event_id', sa.Integer),
    sa.column('school_id', sa.Integer),
    sa.column('year', sa.Integer),
    sa.column('status', sa.String),
    sa.column('students_count', sa.Integer),
    sa.column('students_grades', sa.String),
    sa.column('teachers_count', sa.Integer),
    sa.column('parents_count', sa.Integer),
    sa.column('results', sa.Text),
    sa.column('evidence_url', sa.String),
    sa.column('created_at', sa.DateTime),
    sa.column('updated_at', sa.DateTime),
    sa.column('version', sa.Integer),
)


def _year_marked(updated_at, first_year, last_year):
    """The academic year of the change that marked the line held, within the line's years."""
    day = updated_at.date() if updated_at is not None else dt.date.today()
    year = day.year if day.month >= 9 else day.year - 1
    if last_year is not None:
        year = min(year, last_year)
    if first_year is not None:
        year = max(year, first_year)
    return year


def upgrade():
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    held = connection.execute(
        sa.select(events.c.id, events.c.school_id, events.c.first_year, events.c.last_year, events.c.updated_at)
        .where(events.c.state == 'held')
    ).all()
    for event_id, school_id, first_year, last_year, updated_at in held:
        records = dict(
            connection.execute(
                sa.select(executions.c.year, executions.c.status).where(executions.c.event_id == event_id)
            ).all()
        )
        if 'held' not in records.values():
            year = _year_marked(updated_at, first_year, last_year)
            if year not in records:
                connection.execute(
                    executions.insert().values(
                        event_id=event_id, school_id=school_id, year=year, status='held',
                        students_count=0, students_grades='', teachers_count=0, parents_count=0,
                        results='', evidence_url='', created_at=now, updated_at=now, version=1,
                    )
                )
            elif records[year] == 'planned':
                connection.execute(
                    executions.update()
                    .where(executions.c.event_id == event_id, executions.c.year == year)
                    .values(status='held', updated_at=now, version=executions.c.version + 1)
                )
        connection.execute(
            events.update()
            .where(events.c.id == event_id)
            .values(state='approved', version=events.c.version + 1)
        )


def downgrade():
    # Which lines were marked held as a whole is not known any more; their records say it per year.
    pass
