"""WhatsApp user ids as a member's identity: members.wa_user_id, identities up to 140 characters

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# Columns that hold a member's or a staff member's WhatsApp identity (a phone number or a user id).
WIDENED = (('members', 'phone', False), ('staff_members', 'phone', False), ('certificates', 'reviewed_by', True),
           ('broadcasts', 'created_by', True))


def upgrade():
    # Every existing member keeps its row, its phone and its id: a column is added and four are widened.
    # Widening a varchar is a change of the catalog only on PostgreSQL (no table rewrite); SQLite does not
    # keep lengths, and rebuilding `members` there would cascade into every table that refers to it.
    if op.get_bind().dialect.name != 'sqlite':
        for table, column, nullable in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=140), existing_type=sa.String(length=20),
                            existing_nullable=nullable)
    op.add_column('members', sa.Column('wa_user_id', sa.String(length=140), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # the same uniqueness (and ON CONFLICT target) without a rebuild
        op.create_index('uq_members_wa_user_id', 'members', ['wa_user_id'], unique=True)
    else:
        op.create_unique_constraint('uq_members_wa_user_id', 'members', ['wa_user_id'])


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('uq_members_wa_user_id', table_name='members')
    else:
        op.drop_constraint('uq_members_wa_user_id', 'members', type_='unique')
    op.drop_column('members', 'wa_user_id')
    if op.get_bind().dialect.name != 'sqlite':
        for table, column, nullable in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=20), existing_type=sa.String(length=140),
                            existing_nullable=nullable)
