"""activities: stored next session start and live-until (the public list reads 20 rows by index)

Revision ID: 5b7e2c1d9a40
Revises: 1a7d61fe0303
Create Date: 2026-11-29 06:10:00

Online on PostgreSQL: two nullable columns (no table rewrite; committed at once), then, outside the
migration's transaction, the backfill in batches of 5,000 activities (each its own transaction: row locks
for a moment, never the table) and the index built CONCURRENTLY. tests/test_migrations.py books seats
on a 200,000-activity table while this runs.
"""
from alembic import op
import sqlalchemy as sa

import core.db  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '5b7e2c1d9a40'
down_revision = '1a7d61fe0303'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE activities SET
  next_starts_at = (SELECT min(s.starts_at) FROM sessions s WHERE s.activity_id = activities.id
                    AND s.status = 'scheduled' AND s.ends_at > :now),
  live_until = (SELECT max(s.ends_at) FROM sessions s WHERE s.activity_id = activities.id AND s.status = 'scheduled')
WHERE id > :low AND id <= :high
"""


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:  # never queue behind a long transaction while holding everyone else up: fail, retry the deploy
        op.execute("SET LOCAL lock_timeout = '5s'")
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_starts_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('live_until', core.db.UTCDateTime(timezone=True), nullable=True))
    if not postgres:
        _backfill(bind)
        op.create_index('ix_activities_next_start', 'activities', ['next_starts_at', 'id'], unique=False)
        return
    # Commit the new columns (a moment's lock), then backfill and index outside that transaction, each
    # batch in its own short transaction, so bookings keep writing to activities meanwhile.
    with op.get_context().autocommit_block():
        _backfill(bind)
        op.create_index('ix_activities_next_start', 'activities', ['next_starts_at', 'id'], unique=False,
                        postgresql_concurrently=True)


def _backfill(bind) -> None:
    backfill = sa.text(BACKFILL).bindparams(sa.bindparam("now", type_=core.db.UTCDateTime()))
    top = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM activities")).scalar()
    for low in range(0, top, 5000):
        bind.execute(backfill, {"now": core.db.utcnow(), "low": low, "high": low + 5000})


def downgrade():
    op.drop_index('ix_activities_next_start', table_name='activities')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('live_until')
        batch_op.drop_column('next_starts_at')
