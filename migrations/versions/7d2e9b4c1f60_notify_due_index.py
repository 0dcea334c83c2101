"""notify: the dispatcher's claim reads due rows in order from a partial index (no sort of every due row)

Revision ID: 7d2e9b4c1f60
Revises: 50857f1f3708
Create Date: 2026-12-02 14:20:00

`ix_messages_state_next_attempt_at` (state, next_attempt_at) cannot return the rows of two states
(pending, sending) in next_attempt_at order: the claim sorted every due row for each batch (1.4 s a claim
with 240,000 due reminders). `ix_messages_due` (next_attempt_at, id) WHERE state IN ('pending', 'sending')
is read in order and stops after the batch, and holds only the rows still to send (sent rows leave it);
`ix_messages_failed` serves the staff's failed list. `ix_messages_provider_id` keeps only rows with a
provider id (one index fewer to write for each enqueued row). Built CONCURRENTLY on PostgreSQL, outside the
migration's transaction; the old index is dropped after.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2e9b4c1f60'
down_revision = '50857f1f3708'
branch_labels = None
depends_on = None

DUE = sa.text("state IN ('pending', 'sending')")
SENT = sa.text("provider_id IS NOT NULL")
FAILED = sa.text("state = 'failed'")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.create_index('ix_messages_due', 'messages', ['next_attempt_at', 'id'], sqlite_where=DUE)
        op.create_index('ix_messages_failed', 'messages', ['id'], sqlite_where=FAILED)
        op.drop_index('ix_messages_state_next_attempt_at', table_name='messages')
        op.drop_index('ix_messages_provider_id', table_name='messages')
        op.create_index('ix_messages_provider_id', 'messages', ['provider_id'], sqlite_where=SENT)
        return
    with op.get_context().autocommit_block():
        op.create_index('ix_messages_due', 'messages', ['next_attempt_at', 'id'], postgresql_where=DUE,
                        postgresql_concurrently=True, if_not_exists=True)
        op.create_index('ix_messages_failed', 'messages', ['id'], postgresql_where=FAILED,
                        postgresql_concurrently=True, if_not_exists=True)
        op.drop_index('ix_messages_state_next_attempt_at', table_name='messages', postgresql_concurrently=True,
                      if_exists=True)
        op.create_index('ix_messages_provider_id_sent', 'messages', ['provider_id'], postgresql_where=SENT,
                        postgresql_concurrently=True, if_not_exists=True)
        op.drop_index('ix_messages_provider_id', table_name='messages', postgresql_concurrently=True, if_exists=True)
        op.execute("ALTER INDEX ix_messages_provider_id_sent RENAME TO ix_messages_provider_id")


def downgrade():
    op.drop_index('ix_messages_provider_id', table_name='messages')
    op.create_index('ix_messages_provider_id', 'messages', ['provider_id'], unique=False)
    op.create_index('ix_messages_state_next_attempt_at', 'messages', ['state', 'next_attempt_at'], unique=False)
    op.drop_index('ix_messages_failed', table_name='messages')
    op.drop_index('ix_messages_due', table_name='messages')
