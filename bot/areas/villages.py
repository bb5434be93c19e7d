"""The villages officials keep for each commune: the domain's get, get_all, create, update and delete;
never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.areas.models import Village


def get(session: Session, *, village_id: int) -> Village | None:
    """One village by id."""
    return session.get(Village, village_id)


def get_all(session: Session, *, commune_code: int) -> list[Village]:
    """Villages of a commune in name order."""
    stmt = select(Village).where(Village.commune_code == commune_code).order_by(Village.name)
    return list(session.scalars(stmt))


def create(session: Session, *, commune_code: int, name: str) -> Village:
    """Add a village; the caller's transaction decides whether it sticks."""
    village = Village(commune_code=commune_code, name=name.strip())
    session.add(village)
    session.flush()
    return village


def get_or_create(session: Session, *, commune_code: int, name: str) -> Village:
    """Idempotent import of sample and bulk village lists."""
    existing = session.scalar(
        select(Village).where(Village.commune_code == commune_code, Village.name == name.strip())
    )
    return existing or create(session, commune_code=commune_code, name=name)


def update(session: Session, *, village: Village, name: str) -> Village:
    """Rename a village."""
    village.name = name.strip()
    session.flush()
    return village


def delete(session: Session, *, village: Village) -> None:
    """Remove a village; people who chose it keep their commune."""
    session.delete(village)
    session.flush()
