"""a ticket records when the member asked to be called, and who handles it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('call_requested_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('holder', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('holder')
        batch.drop_column('call_requested_at')
