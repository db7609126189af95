"""a voucher code remembers when it was sent to its member: one that could not be sent stays reserved

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vouchers') as batch:
        batch.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
    # Codes given before this change were handed to the sending pipeline when they were assigned.
    op.execute("UPDATE vouchers SET sent_at = assigned_at WHERE assigned_at IS NOT NULL")
    op.create_index('ix_vouchers_reserved', 'vouchers', ['member_id'],
                    postgresql_where=sa.text('sent_at IS NULL AND member_id IS NOT NULL'),
                    sqlite_where=sa.text('sent_at IS NULL AND member_id IS NOT NULL'))


def downgrade():
    op.drop_index('ix_vouchers_reserved', table_name='vouchers')
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_column('sent_at')
