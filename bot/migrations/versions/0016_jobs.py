"""jobs: slow work (a bulletin's audio) queued in the database, claimed, retried and resumed after a crash

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 18:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'running', 'done', 'failed', name='jobstatus', native_enum=False, length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=40), nullable=True),
    sa.Column('claim_expires_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_status_claim', ['status', 'claim_expires_at'], unique=False)
        batch_op.create_index('ix_jobs_status_due', ['status', 'due_at'], unique=False)

    # Audio a crash left "pending" for good (it was made by an in-process task): a job makes it now.
    as_json = 'json_build_object' if op.get_bind().dialect.name == 'postgresql' else 'json_object'
    op.execute(
        "INSERT INTO jobs (kind, payload, status, attempts, due_at, error, created_at) "
        f"SELECT 'bulletin-audio', {as_json}('bulletin_id', bulletin_id), 'pending', 0, CURRENT_TIMESTAMP, "
        "'', CURRENT_TIMESTAMP FROM (SELECT DISTINCT bulletin_id FROM bulletin_versions "
        "WHERE audio_source LIKE 'pending%') AS waiting"
    )


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_due')
        batch_op.drop_index('ix_jobs_status_claim')
    op.drop_table('jobs')
