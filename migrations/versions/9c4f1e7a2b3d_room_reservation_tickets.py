"""room reservations: who checked the group in, and the door scan's nonce (room tickets)

Revision ID: 9c4f1e7a2b3d
Revises: 5b7e2c1d9a40
Create Date: 2026-11-29 06:40:00

Two nullable columns (no table rewrite on PostgreSQL) and a unique constraint on an all-NULL column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4f1e7a2b3d'
down_revision = '5b7e2c1d9a40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('room_reservations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_in_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checkin_scan_id', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_room_reservations_checked_in_by_id_users'), 'users',
                                    ['checked_in_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_unique_constraint(batch_op.f('uq_room_reservations_checkin_scan_id'), ['checkin_scan_id'])


def downgrade():
    with op.batch_alter_table('room_reservations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_room_reservations_checkin_scan_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_room_reservations_checked_in_by_id_users'), type_='foreignkey')
        batch_op.drop_column('checkin_scan_id')
        batch_op.drop_column('checked_in_by_id')
