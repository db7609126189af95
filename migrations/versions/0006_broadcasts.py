"""broadcasts and their deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('text_sw', sa.Text(), nullable=True),
    sa.Column('media_url', sa.String(length=500), nullable=True),
    sa.Column('segment', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paused_reason', sa.String(length=16), nullable=True),
    sa.Column('send_at', sa.DateTime(), nullable=True),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('created_by', sa.String(length=20), nullable=True),
    sa.Column('audience', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    op.create_index(op.f('ix_broadcasts_status'), 'broadcasts', ['status'], unique=False)
    op.create_table('broadcast_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_rank', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=True),
    sa.Column('sender', sa.String(length=40), nullable=True),
    sa.Column('twilio_sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], name=op.f('fk_broadcast_deliveries_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_broadcast_deliveries_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_deliveries')),
    sa.UniqueConstraint('broadcast_id', 'member_id', name=op.f('uq_broadcast_deliveries_broadcast_id_member_id')),
    sa.UniqueConstraint('twilio_sid', name=op.f('uq_broadcast_deliveries_twilio_sid'))
    )
    op.create_index('ix_broadcast_deliveries_broadcast_status', 'broadcast_deliveries', ['broadcast_id', 'status'], unique=False)
    op.create_index(op.f('ix_broadcast_deliveries_member_id'), 'broadcast_deliveries', ['member_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_broadcast_deliveries_member_id'), table_name='broadcast_deliveries')
    op.drop_index('ix_broadcast_deliveries_broadcast_status', table_name='broadcast_deliveries')
    op.drop_table('broadcast_deliveries')
    op.drop_index(op.f('ix_broadcasts_status'), table_name='broadcasts')
    op.drop_table('broadcasts')
