"""saved answers organisers insert into their replies, one language each (the dashboard's inbox)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_answers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_saved_answers_language', 'saved_answers', ['language'])


def downgrade():
    op.drop_index('ix_saved_answers_language', table_name='saved_answers')
    op.drop_table('saved_answers')
