"""messages linked to the members they name, hashed MessageSids of forgotten people, audit details
without search strings or reasons

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 13:00:00

"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_subjects',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_message_subjects_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_subjects_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'member_id', name=op.f('pk_message_subjects'))
    )
    with op.batch_alter_table('message_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_subjects_member_id'), ['member_id'], unique=False)

    op.create_table('forgotten_messages',
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('replies', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sid_hash', name=op.f('pk_forgotten_messages'))
    )
    with op.batch_alter_table('forgotten_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forgotten_messages_created_at'), ['created_at'], unique=False)

    # Audit details written before this revision held the search string of member exports and the
    # reason of rejections (free text that can name a member): keep what kind of search it was only.
    connection = op.get_bind()
    audit = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('action', sa.String),
                     sa.column('details', sa.JSON))
    rows = connection.execute(sa.select(audit.c.id, audit.c.action, audit.c.details)
                              .where(audit.c.action.in_(('members.export', 'certificate.reject')))).all()
    for row in rows:
        details = row.details if isinstance(row.details, dict) else json.loads(row.details or 'null') or {}
        if row.action == 'certificate.reject':
            details.pop('reason', None)
        filters = details.get('filters') or {}
        if filters.pop('q', None):
            details['search'] = 'text'
        connection.execute(sa.update(audit).where(audit.c.id == row.id).values(details=details or None))


def downgrade():
    op.drop_table('forgotten_messages')
    with op.batch_alter_table('message_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_subjects_member_id'))
    op.drop_table('message_subjects')
