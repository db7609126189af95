"""Broadcasts keep their texts per language code in one JSON column; each delivery records the language of
the text it carried and the language of the template it went as

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07 14:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_COLUMNS = (('en', 'text_en'), ('sw', 'text_sw'))


def broadcasts_table():
    return sa.table('broadcasts', sa.column('id', sa.Integer()), sa.column('texts', sa.JSON()),
                    *(sa.column(name, sa.Text()) for _, name in OLD_COLUMNS))


def drop_columns(table, *names):
    """Drop columns in place: on SQLite a batch would rebuild the table, and dropping the old `broadcasts`
    (foreign keys on) would delete every delivery by its ON DELETE CASCADE. SQLite (3.35+) drops a plain
    column itself."""
    for name in names:
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE {table} DROP COLUMN {name}')
        else:
            op.drop_column(table, name)


def upgrade():
    op.add_column('broadcasts', sa.Column('texts', sa.JSON(), server_default='{}', nullable=False))
    broadcasts = broadcasts_table()
    connection = op.get_bind()
    for row in connection.execute(sa.select(broadcasts)).mappings().all():
        texts = {lang: row[name] for lang, name in OLD_COLUMNS if row[name]}
        connection.execute(sa.update(broadcasts).where(broadcasts.c.id == row['id']).values(texts=texts))
    drop_columns('broadcasts', *(name for _, name in OLD_COLUMNS))
    op.add_column('broadcast_deliveries', sa.Column('language', sa.String(length=16), nullable=True))
    op.add_column('broadcast_deliveries', sa.Column('template_language', sa.String(length=16), nullable=True))


def downgrade():
    drop_columns('broadcast_deliveries', 'template_language', 'language')
    op.add_column('broadcasts', sa.Column('text_en', sa.Text(), server_default='', nullable=False))
    op.add_column('broadcasts', sa.Column('text_sw', sa.Text(), nullable=True))
    broadcasts = broadcasts_table()
    connection = op.get_bind()
    # The texts in other languages have no column to go back to: they are lost.
    for row in connection.execute(sa.select(broadcasts.c.id, broadcasts.c.texts)).mappings().all():
        texts = row['texts'] or {}
        connection.execute(sa.update(broadcasts).where(broadcasts.c.id == row['id'])
                           .values(text_en=texts.get('en') or '', text_sw=texts.get('sw')))
    if op.get_bind().dialect.name != 'sqlite':  # SQLite would rebuild the table for it (see drop_columns)
        op.alter_column('broadcasts', 'text_en', server_default=None, existing_type=sa.Text())
    drop_columns('broadcasts', 'texts')
