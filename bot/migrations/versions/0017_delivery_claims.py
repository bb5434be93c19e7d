"""delivery claims: every claim of an outbox row carries a fencing token and an expiry, so several senders
share the work and a dead sender's rows are taken back only once its claims run out; the platforms' rates
shared by every process (one row per bucket)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('claim_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('claim_expires_at', bot.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'rate_buckets',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('next_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_rate_buckets')),
    )


def downgrade() -> None:
    op.drop_table('rate_buckets')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('claim_expires_at')
        batch.drop_column('claim_id')
