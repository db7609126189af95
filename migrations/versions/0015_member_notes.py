"""internal notes staff write about a member on the dashboard

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'member_notes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id', ondelete='CASCADE'), nullable=False),
        sa.Column('author', sa.String(length=254), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_member_notes_member_id', 'member_notes', ['member_id'])


def downgrade():
    op.drop_index('ix_member_notes_member_id', table_name='member_notes')
    op.drop_table('member_notes')
