"""tickets whose sender erased their data are closed: nobody is left to answer, so they no longer count as
waiting or overdue

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 15:30:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The history says why, as bot/feedback/service.py close_unanswerable() does for later erasures.
    op.execute(
        "INSERT INTO ticket_events (ticket_id, kind, admin_id, text, media_id, target, created_at) "
        "SELECT id, 'erased', NULL, '', NULL, '', erased_at FROM tickets "
        "WHERE erased_at IS NOT NULL AND status <> 'closed'"
    )
    op.execute(
        "UPDATE tickets SET status = 'closed', closed_at = erased_at "
        "WHERE erased_at IS NOT NULL AND status <> 'closed'"
    )


def downgrade() -> None:
    # Which status each ticket had before is not kept; the history lines go, the tickets stay closed.
    op.execute("DELETE FROM ticket_events WHERE kind = 'erased'")
