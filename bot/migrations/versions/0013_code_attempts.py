"""code attempts: wrong one-time codes (invite UT-, link LB- and LK-) kept a day to slow guessing

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 15:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'code_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=4), nullable=False),
        sa.Column('chat', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('origin', sa.String(length=64), nullable=True),
        sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['person_id'], ['people.id'], name=op.f('fk_code_attempts_person_id_people'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_code_attempts')),
    )
    op.create_index('ix_code_attempts_chat_at', 'code_attempts', ['chat', 'at'], unique=False)
    op.create_index('ix_code_attempts_kind_at', 'code_attempts', ['kind', 'at'], unique=False)
    op.create_index('ix_code_attempts_origin_at', 'code_attempts', ['origin', 'at'], unique=False)
    op.create_index(op.f('ix_code_attempts_person_id'), 'code_attempts', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_code_attempts_person_id'), table_name='code_attempts')
    op.drop_index('ix_code_attempts_origin_at', table_name='code_attempts')
    op.drop_index('ix_code_attempts_kind_at', table_name='code_attempts')
    op.drop_index('ix_code_attempts_chat_at', table_name='code_attempts')
    op.drop_table('code_attempts')
