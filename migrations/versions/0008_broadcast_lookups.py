"""broadcast deliveries remember a try that got no answer, for the lookup at Twilio

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcast_deliveries') as batch:
        batch.add_column(sa.Column('attempted_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('lookups', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('broadcast_deliveries') as batch:
        batch.drop_column('lookups')
        batch.drop_column('attempted_at')
