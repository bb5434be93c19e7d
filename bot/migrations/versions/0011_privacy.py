"""privacy: consent versions and refusals, erased tickets, unattributed deliveries, data exports

People who agreed before this revision agreed to an unversioned notice (consent_version ''), so they are
asked again at their next message.

Revision ID: 0011
Revises: 0010b
Create Date: 2026-12-02 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0011'
down_revision: str | None = '0010b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('declined_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('consent_version', sa.String(length=40), nullable=False, server_default=''))
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('erased_at', bot.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('person_id', existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint(op.f('fk_deliveries_person_id_people'), type_='foreignkey')
        batch.create_foreign_key(
            op.f('fk_deliveries_person_id_people'), 'people', ['person_id'], ['id'], ondelete='SET NULL'
        )
    op.create_table(
        'data_exports',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('urn', sa.String(length=200), nullable=False),
        sa.Column('path', sa.String(length=200), nullable=False),
        sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['person_id'], ['people.id'], name=op.f('fk_data_exports_person_id_people'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_data_exports')),
    )
    op.create_index(op.f('ix_data_exports_person_id'), 'data_exports', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_data_exports_person_id'), table_name='data_exports')
    op.drop_table('data_exports')
    op.execute("DELETE FROM deliveries WHERE person_id IS NULL")  # erased people's rows had no person before
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_constraint(op.f('fk_deliveries_person_id_people'), type_='foreignkey')
        batch.create_foreign_key(
            op.f('fk_deliveries_person_id_people'), 'people', ['person_id'], ['id'], ondelete='CASCADE'
        )
        batch.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('erased_at')
    with op.batch_alter_table('people') as batch:
        batch.drop_column('consent_version')
        batch.drop_column('declined_at')
