"""Ticket states: open, waiting (for the member), answered, closed; a member has one live ticket

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Existing tickets are 'open' or 'closed', both still states: no row changes. The one-ticket-per-member
    # index now covers every state but closed (a waiting or answered ticket is still the member's ticket).
    op.drop_index('uq_tickets_open_member', table_name='tickets')
    op.create_index('uq_tickets_open_member', 'tickets', ['member_id'], unique=True,
                    postgresql_where=sa.text("status <> 'closed'"), sqlite_where=sa.text("status <> 'closed'"))


def downgrade():
    op.execute("UPDATE tickets SET status = 'open' WHERE status IN ('waiting', 'answered')")
    op.drop_index('uq_tickets_open_member', table_name='tickets')
    op.create_index('uq_tickets_open_member', 'tickets', ['member_id'], unique=True,
                    postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
