"""Each broadcast delivery keeps when it was sent, delivered and read (set once, by the first status that
reached the step), so a broadcast's results count the funnel by the hour exactly; rows from before keep them
empty and are counted the approximate way

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COLUMNS = ('sent_at', 'delivered_at', 'read_at')


def upgrade():
    for name in COLUMNS:
        op.add_column('broadcast_deliveries', sa.Column(name, sa.DateTime(), nullable=True))


def downgrade():
    for name in reversed(COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE broadcast_deliveries DROP COLUMN {name}')
        else:
            op.drop_column('broadcast_deliveries', name)
