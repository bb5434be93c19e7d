"""media store: a reply's attachment names its file by store key ('ab/<hash>.ogg', 'exports/<token>.json')
instead of a path on the disk of the machine that queued it, so any machine can send it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 21:05:00
"""
import json
from collections.abc import Sequence
from pathlib import PurePath

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
messages = sa.table('messages', sa.column('id', sa.Integer()), sa.column('payload', sa.JSON()))


def _rename(old: str, new: str, convert) -> None:
    """Rewrite the attachment of every stored reply that has one, a batch of rows at a time."""
    bind = op.get_bind()
    has = sa.cast(messages.c.payload, sa.Text()).like(f'%"{old}"%')
    last = 0
    while True:
        rows = bind.execute(
            sa.select(messages.c.id, messages.c.payload)
            .where(messages.c.id > last, has)
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, payload in rows:
            payload = json.loads(payload) if isinstance(payload, str) else payload
            attached = (payload or {}).get('attachment')
            if isinstance(attached, dict) and old in attached:
                attached[new] = convert(attached.pop(old))
                bind.execute(sa.update(messages).where(messages.c.id == row_id).values(payload=payload))
        last = rows[-1][0]


def upgrade() -> None:
    # Files were kept as <media folder>/<2 hex>/<hash>.<ext> and <media folder>/exports/<token>.json: the
    # last two parts of the path are the key under the same layout.
    _rename('path', 'key', lambda path: '/'.join(PurePath(path).parts[-2:]) if path else '')


def downgrade() -> None:
    # The media folder the paths were under is not known here: the keys go back as paths relative to it.
    _rename('key', 'path', lambda key: key)
