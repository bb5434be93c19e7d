"""report events: the reach ledger and the questions asked, for reports of past periods

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 21:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=True),
    sa.Column('commune_code', sa.Integer(), nullable=True),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('entry_id', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_events'))
    )
    op.create_index('ix_report_events_kind_at', 'report_events', ['kind', 'at'], unique=False)
    op.create_index('ix_report_events_person_id', 'report_events', ['person_id', 'id'], unique=False)
    # What the stored rows still tell: who finished onboarding and when (they answered the privacy
    # notice), where they are and on which app they came; who is unsubscribed now left at their last
    # message (the moment is not stored, the last sign of them is the best bound). Forwarded questions
    # still stored are forwarded questions; the questions Loa Bản answered itself were never dated.
    first_channel = (
        "(SELECT i.channel FROM identities i WHERE i.person_id = p.id ORDER BY i.id LIMIT 1)"
    )
    columns = "person_id, delta, province_code, commune_code, village_id, language, role, channel, outcome"
    snapshot = f"p.province_code, p.commune_code, p.village_id, COALESCE(p.language, ''), p.role, COALESCE({first_channel}, ''), ''"
    onboarded = "(p.consented_at IS NOT NULL OR p.declined_at IS NOT NULL)"
    op.execute(
        f"INSERT INTO report_events (at, kind, {columns}) SELECT COALESCE(p.consented_at, p.declined_at), 'joined', "
        f"p.id, 1, {snapshot} FROM people p WHERE {onboarded} ORDER BY p.id"
    )
    op.execute(
        f"INSERT INTO report_events (at, kind, {columns}) SELECT p.last_seen_at, 'left', "
        f"p.id, -1, {snapshot} FROM people p WHERE {onboarded} AND NOT p.subscribed ORDER BY p.id"
    )
    op.execute(
        "INSERT INTO report_events (at, kind, person_id, delta, province_code, commune_code, village_id, "
        "language, role, channel, outcome) SELECT q.created_at, 'forwarded', q.person_id, 0, p.province_code, "
        "q.commune_code, q.village_id, COALESCE(p.language, ''), '', '', q.reason FROM qa_questions q "
        "LEFT JOIN people p ON p.id = q.person_id ORDER BY q.id"
    )


def downgrade() -> None:
    op.drop_index('ix_report_events_person_id', table_name='report_events')
    op.drop_index('ix_report_events_kind_at', table_name='report_events')
    op.drop_table('report_events')
