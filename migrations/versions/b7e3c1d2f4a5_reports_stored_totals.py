"""reports: stored totals by month and year (per venue and per subtree), attendances per activity and day, the
top-activities windows, activities started and lectures in the daily roll-up, an index on sessions.ends_at

The roll-up's high-water mark is removed, so the next run of the sweeper rebuilds everything (the new measures
and totals need every day).

Revision ID: b7e3c1d2f4a5
Revises: 7d2e9b4c1f60
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3c1d2f4a5'
down_revision = '7d2e9b4c1f60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('daily_attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activities_started', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('lectures', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('rollup_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=64), server_default='', nullable=False))

    op.create_table('attendance_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('subtree', sa.Boolean(), nullable=False),
    sa.Column('venue_kind', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('activity_kind', sa.String(length=20), nullable=False),
    sa.Column('is_outreach', sa.Boolean(), nullable=False),
    sa.Column('sessions_held', sa.Integer(), nullable=False),
    sa.Column('checked_in', sa.Integer(), nullable=False),
    sa.Column('walk_ins', sa.Integer(), nullable=False),
    sa.Column('bookings', sa.Integer(), nullable=False),
    sa.Column('no_shows', sa.Integer(), nullable=False),
    sa.Column('activities_started', sa.Integer(), nullable=False),
    sa.Column('lectures', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_attendance_totals_venue_id_venues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_totals'))
    )
    with op.batch_alter_table('attendance_totals', schema=None) as batch_op:
        batch_op.create_index('ux_attendance_totals_key', ['subtree', 'year', 'month', 'venue_id', 'venue_kind', 'category', 'activity_kind', 'is_outreach'], unique=True)
        batch_op.create_index(batch_op.f('ix_attendance_totals_venue_id'), ['venue_id'], unique=False)

    op.create_table('activity_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('attendances', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_daily_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_activity_daily_venue_id_venues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'activity_id', name=op.f('pk_activity_daily'))
    )
    with op.batch_alter_table('activity_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_daily_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_daily_venue_id'), ['venue_id'], unique=False)

    op.create_table('activity_windows',
    sa.Column('last', sa.Date(), nullable=False),
    sa.Column('first', sa.Date(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('attendances', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_windows_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_activity_windows_venue_id_venues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('last', 'first', 'activity_id', name=op.f('pk_activity_windows'))
    )
    with op.batch_alter_table('activity_windows', schema=None) as batch_op:
        batch_op.create_index('ix_activity_windows_rank', ['last', 'first', 'attendances'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_windows_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_windows_venue_id'), ['venue_id'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_ends_at', ['ends_at'], unique=False)

    op.execute("DELETE FROM rollup_runs WHERE name = 'attendance'")


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_ends_at')
    op.drop_table('activity_windows')
    op.drop_table('activity_daily')
    op.drop_table('attendance_totals')
    with op.batch_alter_table('rollup_runs', schema=None) as batch_op:
        batch_op.drop_column('state')
    with op.batch_alter_table('daily_attendance', schema=None) as batch_op:
        batch_op.drop_column('lectures')
        batch_op.drop_column('activities_started')
