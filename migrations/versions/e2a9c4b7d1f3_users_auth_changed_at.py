"""accounts: users.auth_changed_at, stamped by a trigger (PostgreSQL) whenever session_version, is_active,
suspended_until or locale changes; indexes on it and on suspended_until

accounts.auth reads the accounts changed within a token's lifetime, and those suspended now, once per process
every AUTH_CACHE_SECONDS, so that a bearer token can be judged without a read of its holder's row.

Revision ID: e2a9c4b7d1f3
Revises: b7e3c1d2f4a5
Create Date: 2026-12-04 20:30:00

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'e2a9c4b7d1f3'
down_revision = 'b7e3c1d2f4a5'
branch_labels = None
depends_on = None

# A copy of accounts.models.AUTH_CHANGED_DDL as it stood when this revision was written.
FUNCTION = """CREATE OR REPLACE FUNCTION users_auth_changed() RETURNS trigger AS $$
BEGIN
  IF NEW.session_version IS DISTINCT FROM OLD.session_version OR NEW.is_active IS DISTINCT FROM OLD.is_active
     OR NEW.suspended_until IS DISTINCT FROM OLD.suspended_until OR NEW.locale IS DISTINCT FROM OLD.locale THEN
    NEW.auth_changed_at := clock_timestamp();
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql"""
TRIGGER = "CREATE TRIGGER users_auth_changed BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_auth_changed()"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_changed_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_auth_changed_at'), ['auth_changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_suspended_until'), ['suspended_until'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS users_auth_changed ON users')
        op.execute('DROP FUNCTION IF EXISTS users_auth_changed()')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_suspended_until'))
        batch_op.drop_index(batch_op.f('ix_users_auth_changed_at'))
        batch_op.drop_column('auth_changed_at')
