"""qa entry areas; what the bot did with a forwarded question

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('qa_entries') as batch:
        batch.add_column(sa.Column('provinces', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('communes', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('qa_questions') as batch:
        batch.add_column(sa.Column('village_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('reason', sa.String(length=12), nullable=False, server_default='typed'))
        batch.add_column(sa.Column('answered_with', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('offered', sa.JSON(), nullable=False, server_default='[]'))
        batch.create_foreign_key(
            op.f('fk_qa_questions_village_id_villages'), 'villages', ['village_id'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('qa_questions') as batch:
        batch.drop_constraint(op.f('fk_qa_questions_village_id_villages'), type_='foreignkey')
        batch.drop_column('offered')
        batch.drop_column('answered_with')
        batch.drop_column('reason')
        batch.drop_column('village_id')
    with op.batch_alter_table('qa_entries') as batch:
        batch.drop_column('communes')
        batch.drop_column('provinces')
