"""Alembic migrations, run by `loaban migrate` and before `loaban serve`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from bot.db import sqlite_file

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring a database schema up to date."""
    command.upgrade(alembic_config(database_url), revision)


def migrated(database_url: str) -> bool:
    """Whether `loaban migrate` made this database: `serve` must never create an empty one in place of
    a database that went missing (a SQLite file is looked for without being created)."""
    path = sqlite_file(database_url)
    if path is not None and not path.exists():
        return False
    engine = create_engine(database_url)
    try:
        return inspect(engine).has_table("alembic_version")
    finally:
        engine.dispose()
