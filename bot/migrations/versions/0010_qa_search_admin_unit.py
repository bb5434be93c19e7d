"""qa entries' folded search text; admin accounts' unit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.qa.models import search_text

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

entries = sa.table(
    'qa_entries',
    sa.column('id', sa.String),
    sa.column('question', sa.Text),
    sa.column('alternatives', sa.JSON),
    sa.column('answer', sa.Text),
    sa.column('tags', sa.JSON),
    sa.column('search_text', sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table('qa_entries') as batch:
        batch.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('admin_users') as batch:
        batch.add_column(sa.Column('unit', sa.String(length=200), nullable=False, server_default=''))
    bind = op.get_bind()
    rows = bind.execute(sa.select(entries.c.id, entries.c.question, entries.c.alternatives, entries.c.answer, entries.c.tags))
    for entry_id, question, alternatives, answer, tags in rows.all():
        text = search_text(entry_id, question, alternatives or [], answer, tags or [])
        bind.execute(entries.update().where(entries.c.id == entry_id).values(search_text=text))


def downgrade() -> None:
    with op.batch_alter_table('admin_users') as batch:
        batch.drop_column('unit')
    with op.batch_alter_table('qa_entries') as batch:
        batch.drop_column('search_text')
