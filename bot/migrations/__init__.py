"""Alembic migrations, run by `loaban migrate` and before `loaban serve`."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

from bot.db import sqlite_file

MIGRATIONS_DIR = Path(__file__).parent
# PostgreSQL's advisory lock that one migrating process holds: a fixed class ("Loa" in ASCII) and the
# schema migrated, so deployments in schemas of their own (tests do so) do not wait for each other.
_LOCK = "SELECT pg_advisory_{}(5009249, hashtext(coalesce(current_schema(), '')))"


def alembic_config(database_url: str) -> Config:
    """An Alembic config that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Held by one process at a time around migrating, so servers started together do not all try to
    create the same tables: PostgreSQL's session advisory lock (freed by the server when the process
    dies), or on SQLite, one machine's database, an exclusive lock on a file beside the database file."""
    path = sqlite_file(database_url)
    if path is not None:
        with open(path.with_name(path.name + ".migrate-lock"), "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            yield
        return
    if make_url(database_url).get_backend_name() != "postgresql":
        yield  # an in-memory SQLite database is one process's own
        return
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(_LOCK.format("lock")))
            connection.commit()  # a session lock outlives the transaction; idle, not idle in one
            try:
                yield
            finally:
                connection.execute(text(_LOCK.format("unlock")))
                connection.commit()
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring a database schema up to date, one process at a time: whoever comes second finds it done."""
    with migration_lock(database_url):
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
