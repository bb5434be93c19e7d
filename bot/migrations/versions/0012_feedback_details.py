"""tickets keep their details: the sender's name and phone number

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-05 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0009'  # 0010 and 0011 are written on other branches; chained on merge
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('sender_name', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('phone', sa.String(length=10), nullable=True))
    # Named tickets filed before showed the sender's profile name: they keep it.
    op.execute(
        "UPDATE tickets SET sender_name = COALESCE("
        "(SELECT display_name FROM people WHERE people.id = tickets.person_id), '') "
        "WHERE anonymous = false"
    )


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('phone')
        batch.drop_column('sender_name')
