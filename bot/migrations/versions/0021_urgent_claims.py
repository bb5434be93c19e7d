"""deliveries: an index for claiming urgent warnings first, without walking every ordinary row

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 21:10:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_deliveries_status_urgent_due', 'deliveries', ['status', 'urgent', 'due_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_deliveries_status_urgent_due', table_name='deliveries')
