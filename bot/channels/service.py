"""Reading what channels keep in the database, for the admin; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.models import ChannelToken


def token_expiry(session: Session, channel: str) -> datetime | None:
    """When a platform's current access token stops working; None before the first one was fetched."""
    row = session.get(ChannelToken, channel)
    return row.expires_at if row is not None and row.access_token else None
