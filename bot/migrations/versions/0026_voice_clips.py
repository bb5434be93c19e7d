"""voice clips: voice notes of texts ('🔊 Nghe' under answers, spoken prompts) kept by what they speak,
made once; people who chose to hear the prompts

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 21:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('voice_clips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('engine', sa.String(length=40), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], name=op.f('fk_voice_clips_media_id_media'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_clips')),
    sa.UniqueConstraint('key', 'origin', name=op.f('uq_voice_clips_key'))
    )
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('spoken_prompts', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.drop_column('spoken_prompts')
    op.drop_table('voice_clips')
