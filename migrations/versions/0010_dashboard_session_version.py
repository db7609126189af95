"""dashboard accounts carry a session version, so sign-out and a new password end every session

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dashboard_users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('dashboard_users') as batch:
        batch.drop_column('session_version')
