"""message claims: a reply a crash left unsent, or an event left unhandled, is taken by one process at a
time until its claim expires

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('claimed_until', bot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('claimed_until')
