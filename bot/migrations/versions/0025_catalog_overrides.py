"""catalog overrides: translated strings per language, their version counter, translators' languages

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-06 21:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db


revision: str = '0025'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_strings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('context', sa.String(length=200), nullable=False),
    sa.Column('msgid', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published', sa.Text(), nullable=True),
    sa.Column('translator_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reviewer_id'], ['admin_users.id'], name=op.f('fk_catalog_strings_reviewer_id_admin_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['translator_id'], ['admin_users.id'], name=op.f('fk_catalog_strings_translator_id_admin_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_strings')),
    sa.UniqueConstraint('language', 'key', name='uq_catalog_strings_language_key')
    )
    versions = op.create_table('catalog_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_versions'))
    )
    op.bulk_insert(versions, [{'id': 1, 'version': 0}])
    op.create_table('admin_languages',
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['admin_users.id'], name=op.f('fk_admin_languages_admin_id_admin_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('admin_id', 'language', name=op.f('pk_admin_languages'))
    )


def downgrade() -> None:
    op.drop_table('admin_languages')
    op.drop_table('catalog_versions')
    op.drop_table('catalog_strings')
