"""bulletins build their outbox in the background (whether it is still being prepared, how far through the
people it has come, when the villagers' rows fall due), and their progress is read from counts the
database keeps: triggers on deliveries append every change, the builder folds them into delivery_counts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL: one row per (bulletin, status) a statement changed, from its transition tables, so a batch
# of 5,000 rows is one insert; updates that leave the status and retake count alone add nothing.
POSTGRESQL = [
    """
    CREATE FUNCTION deliveries_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken)
            SELECT bulletin_id, status, count(*), sum(retaken) FROM new_rows GROUP BY bulletin_id, status;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken)
            SELECT bulletin_id, status, -count(*), -sum(retaken) FROM old_rows GROUP BY bulletin_id, status;
        ELSE
            INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken)
            SELECT bulletin_id, status, sum(n), sum(r) FROM (
                SELECT bulletin_id, status, 1 AS n, retaken AS r FROM new_rows
                UNION ALL SELECT bulletin_id, status, -1, -retaken FROM old_rows
            ) AS moved GROUP BY bulletin_id, status HAVING sum(n) <> 0 OR sum(r) <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION deliveries_counted()",
    "CREATE TRIGGER deliveries_counted_update AFTER UPDATE ON deliveries "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_counted()",
    "CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION deliveries_counted()",
]
# SQLite has row triggers only (and one writer, so nobody waits on anybody).
SQLITE = [
    "CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries BEGIN "
    "INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken) "
    "VALUES (NEW.bulletin_id, NEW.status, 1, NEW.retaken); END",
    "CREATE TRIGGER deliveries_counted_update AFTER UPDATE OF status, retaken ON deliveries "
    "WHEN OLD.status IS NOT NEW.status OR OLD.retaken IS NOT NEW.retaken BEGIN "
    "INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken) "
    "VALUES (OLD.bulletin_id, OLD.status, -1, -OLD.retaken); "
    "INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken) "
    "VALUES (NEW.bulletin_id, NEW.status, 1, NEW.retaken); END",
    "CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries BEGIN "
    "INSERT INTO delivery_count_changes (bulletin_id, status, amount, retaken) "
    "VALUES (OLD.bulletin_id, OLD.status, -1, -OLD.retaken); END",
]


def upgrade() -> None:
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preparing', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('outbox_cursor', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('everyone_at', bot.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table('delivery_counts',
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('retaken', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_delivery_counts_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bulletin_id', 'status', name=op.f('pk_delivery_counts'))
    )
    op.create_table('delivery_count_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('retaken', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_count_changes'))
    )
    with op.batch_alter_table('delivery_count_changes', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_count_changes_bulletin', ['bulletin_id'], unique=False)
    op.execute(
        "INSERT INTO delivery_counts (bulletin_id, status, amount, retaken) "
        "SELECT bulletin_id, status, count(*), sum(retaken) FROM deliveries GROUP BY bulletin_id, status"
    )
    for statement in POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for kind in ('insert', 'update', 'delete'):
        op.execute(f"DROP TRIGGER IF EXISTS deliveries_counted_{kind}" + (
            " ON deliveries" if op.get_bind().dialect.name == 'postgresql' else ""
        ))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS deliveries_counted()")
    with op.batch_alter_table('delivery_count_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_count_changes_bulletin')
    op.drop_table('delivery_count_changes')
    op.drop_table('delivery_counts')
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_column('everyone_at')
        batch_op.drop_column('outbox_cursor')
        batch_op.drop_column('preparing')
