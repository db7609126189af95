"""a member's objection to broadcasts (they stop union news only; reminders and answers go on)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcasts_stopped_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('broadcasts_stopped_at')
