"""Courses keep, per language, the words members use for them ("excel", "kompyuta"), beside their titles

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('courses', sa.Column('words', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE courses DROP COLUMN words')
    else:
        op.drop_column('courses', 'words')
