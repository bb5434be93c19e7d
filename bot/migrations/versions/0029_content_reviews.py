"""content reviews: who drafted and who approved each content translation (Q&A entries), and the text
people may read

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 00:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('content_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('drafted_by', sa.Integer(), nullable=True),
    sa.Column('drafted_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed', sa.JSON(), nullable=True),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['drafted_by'], ['admin_users.id'], name=op.f('fk_content_reviews_drafted_by_admin_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['admin_users.id'], name=op.f('fk_content_reviews_reviewed_by_admin_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_reviews')),
    sa.UniqueConstraint('kind', 'item_id', 'language', name='uq_content_reviews_item')
    )


def downgrade() -> None:
    op.drop_table('content_reviews')
