"""FAQ entries keep their texts per language code (question, answer, paraphrases) in one JSON column

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_COLUMNS = ('question_en', 'question_sw', 'answer_en', 'answer_sw', 'keywords_en', 'keywords_sw')


def upgrade():
    with op.batch_alter_table('faq_entries') as batch:
        batch.add_column(sa.Column('texts', sa.JSON(), server_default='{}', nullable=False))
    entries = sa.table('faq_entries', sa.column('id', sa.Integer()), sa.column('texts', sa.JSON()),
                       *(sa.column(name, sa.Text()) for name in OLD_COLUMNS))
    connection = op.get_bind()
    for row in connection.execute(sa.select(entries)).mappings().all():
        texts = {lang: {'question': row[f'question_{lang}'], 'answer': row[f'answer_{lang}'],
                        'paraphrases': [w for w in (row[f'keywords_{lang}'] or '').split('|') if w]}
                 for lang in ('en', 'sw')}
        connection.execute(sa.update(entries).where(entries.c.id == row['id']).values(texts=texts))
    with op.batch_alter_table('faq_entries') as batch:
        for name in OLD_COLUMNS:
            batch.drop_column(name)


def downgrade():
    with op.batch_alter_table('faq_entries') as batch:
        for name in OLD_COLUMNS:
            batch.add_column(sa.Column(name, sa.Text(), server_default='', nullable=False))
    entries = sa.table('faq_entries', sa.column('id', sa.Integer()), sa.column('texts', sa.JSON()),
                       *(sa.column(name, sa.Text()) for name in OLD_COLUMNS))
    connection = op.get_bind()
    for row in connection.execute(sa.select(entries.c.id, entries.c.texts)).mappings().all():
        values = {}
        for lang in ('en', 'sw'):
            part = (row['texts'] or {}).get(lang) or {}
            values.update({f'question_{lang}': part.get('question', ''), f'answer_{lang}': part.get('answer', ''),
                           f'keywords_{lang}': '|'.join(part.get('paraphrases', []))})
        connection.execute(sa.update(entries).where(entries.c.id == row['id']).values(**values))
    with op.batch_alter_table('faq_entries') as batch:
        batch.drop_column('texts')
