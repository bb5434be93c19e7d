"""tickets keep their details: the sender's name and phone number; urgent categories due in hours;
transfers, agencies and duplicates; officials' reply templates

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0012'
down_revision: str | None = '0011'
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
    with op.batch_alter_table('feedback_categories') as batch:
        batch.add_column(sa.Column('deadline_hours', sa.Integer(), nullable=True))
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('due_at', bot.db.UTCDateTime(timezone=True), nullable=True))
    # Landslides, floods, fires and threats cannot wait ten working days: answered within a day, listed
    # first. The label is a catalog message id (bot/feedback/service.py).
    categories = sa.table(
        'feedback_categories',
        sa.column('code', sa.String), sa.column('label', sa.String), sa.column('deadline_days', sa.Integer),
        sa.column('deadline_hours', sa.Integer), sa.column('position', sa.Integer),
        sa.column('active', sa.Boolean),
    )
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('agency', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_tickets_duplicate_of_tickets'), 'tickets', ['duplicate_of'], ['id'], ondelete='SET NULL'
        )
    with op.batch_alter_table('ticket_events') as batch:
        batch.add_column(sa.Column('target', sa.String(length=200), nullable=False, server_default=''))
    op.create_table('reply_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('commune_code', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['admin_users.id'], name=op.f('fk_reply_templates_owner_id_admin_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_templates'))
    )
    with op.batch_alter_table('reply_templates') as batch:
        batch.create_index(batch.f('ix_reply_templates_commune_code'), ['commune_code'], unique=False)
        batch.create_index(batch.f('ix_reply_templates_owner_id'), ['owner_id'], unique=False)
    op.bulk_insert(categories, [{
        'code': 'khan-cap', 'label': 'Khẩn cấp: sạt lở, lũ, cháy, an ninh', 'deadline_days': 1,
        'deadline_hours': 24, 'position': -1, 'active': True,
    }])


def downgrade() -> None:
    op.drop_table('reply_templates')
    with op.batch_alter_table('ticket_events') as batch:
        batch.drop_column('target')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_constraint(op.f('fk_tickets_duplicate_of_tickets'), type_='foreignkey')
        batch.drop_column('duplicate_of')
        batch.drop_column('agency')
    op.execute("DELETE FROM feedback_categories WHERE code = 'khan-cap'")
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('due_at')
    with op.batch_alter_table('feedback_categories') as batch:
        batch.drop_column('deadline_hours')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('phone')
        batch.drop_column('sender_name')
