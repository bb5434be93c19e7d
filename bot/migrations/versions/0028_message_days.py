"""message days: messages per local day, commune, app and direction, so the dashboard's year of messages
is a few thousand rows instead of every message: triggers on messages append each statement's messages to
message_day_changes, the outbox builder folds them into message_days (as 0018 does for deliveries)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 00:30:00
"""
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from bot.config import Settings

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Where a message counts: its person's commune when it was stored (inbound rows are stored before they are
# linked to their person, so the address's person), 0 when there is none. Never moved or taken back after:
# a person who moves or erases their data leaves the days they wrote on as they were.
PERSON = "COALESCE({m}.person_id, (SELECT i.person_id FROM identities i WHERE i.urn = {m}.urn))"
# PostgreSQL: one row per key a statement stored, from its transition table (a bulletin's 5,000 sent rows
# are a few), only ever inserted: no writer waits on a counter row that another has not committed yet.
POSTGRESQL = [
    f"""
    CREATE FUNCTION message_days_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO message_day_changes (day, commune_code, channel, direction, messages)
        SELECT (m.created_at AT TIME ZONE z.zone)::date, COALESCE(p.commune_code, 0), m.channel, m.direction,
               count(*)
        FROM new_rows m CROSS JOIN message_day_zone z LEFT JOIN people p ON p.id = {PERSON.format(m="m")}
        GROUP BY 1, 2, 3, 4;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER message_days_count AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION message_days_count()",
]
# SQLite has row triggers only, and no time zones: the zone's fixed offset as a date() modifier, applied
# to the whole seconds (its date() rounds 23:59:59.9999 up to the next day).
SQLITE_DAY = "date(substr({m}.created_at, 1, 19), {modifier})"
SQLITE = [
    "CREATE TRIGGER message_days_count AFTER INSERT ON messages "
    "WHEN EXISTS (SELECT 1 FROM message_day_zone WHERE zone <> '') BEGIN "
    "INSERT INTO message_day_changes (day, commune_code, channel, direction, messages) VALUES ("
    f"{SQLITE_DAY.format(m='NEW', modifier='(SELECT sqlite_modifier FROM message_day_zone)')}, "
    f"COALESCE((SELECT p.commune_code FROM people p WHERE p.id = {PERSON.format(m='NEW')}), 0), "
    "NEW.channel, NEW.direction, 1); END",
]


def sqlite_modifier(zone: ZoneInfo) -> str | None:
    """The zone's offset as SQLite's date() modifier, if it has had one offset all century (Viet Nam's
    has); None for a zone with summer time, whose days SQLite cannot find."""
    offsets = {
        zone.utcoffset(datetime(year, month, 1)) for year in range(2000, 2041) for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    minutes = int((offsets.pop() or timedelta()) / timedelta(minutes=1))
    return f"{minutes:+d} minutes"


def upgrade() -> None:
    op.create_table('message_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('commune_code', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'commune_code', 'channel', 'direction', name=op.f('pk_message_days'))
    )
    op.create_table('message_day_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('commune_code', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_day_changes'))
    )
    op.create_table('message_day_zone',
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('sqlite_modifier', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('zone', name=op.f('pk_message_day_zone'))
    )
    name = Settings().timezone
    postgresql = op.get_bind().dialect.name == 'postgresql'
    modifier = sqlite_modifier(ZoneInfo(name))
    zone = name if postgresql or modifier is not None else ''
    op.execute(
        sa.text("INSERT INTO message_day_zone (zone, sqlite_modifier) VALUES (:zone, :modifier)")
        .bindparams(zone=zone, modifier=modifier or '')
    )
    # The days before: each stored message under its person's commune now, as the dashboard counted them.
    day = (
        "(m.created_at AT TIME ZONE z.zone)::date" if postgresql
        else SQLITE_DAY.format(m="m", modifier="z.sqlite_modifier")
    )
    op.execute(
        "INSERT INTO message_days (day, commune_code, channel, direction, messages) "
        f"SELECT {day}, COALESCE(p.commune_code, 0), m.channel, m.direction, count(*) "
        "FROM messages m CROSS JOIN message_day_zone z LEFT JOIN people p ON p.id = m.person_id "
        "WHERE z.zone <> '' GROUP BY 1, 2, 3, 4"
    )
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS message_days_count" + (
        " ON messages" if op.get_bind().dialect.name == 'postgresql' else ""
    ))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS message_days_count()")
    op.drop_table('message_day_zone')
    op.drop_table('message_day_changes')
    op.drop_table('message_days')
