"""bulletins build their outbox in the background: whether it is still being prepared, how far through
the people it has come, and when the villagers' rows fall due

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-06 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = '0017'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preparing', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('outbox_cursor', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('everyone_at', bot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_column('everyone_at')
        batch_op.drop_column('outbox_cursor')
        batch_op.drop_column('preparing')
