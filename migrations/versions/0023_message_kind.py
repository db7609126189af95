"""Messages the union starts record their kind (the name of their entry in WHATSAPP_TEMPLATES), so that a
63016 in a status callback can resend one as its template

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    # Messages stored before this have no kind: a 63016 for one of them is parked as "no template".
    op.add_column('messages', sa.Column('kind', sa.String(length=32), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE messages DROP COLUMN kind')
    else:
        op.drop_column('messages', 'kind')
