"""Several processes against one database: started together they migrate once, and what a crash left
unsent or unhandled is taken by one process only, once."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bot.migrations import alembic_config, upgrade
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet: no SQLite file at all, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'loaban.db'}"
        return
    assert PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrate_together(database_url: str, start: Barrier) -> None:
    """One starting server's migration, begun the instant every other one is ready to begin too."""
    start.wait(timeout=60)
    upgrade(database_url)


def test_servers_started_at_once_on_a_new_database_migrate_it_once(fresh_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")  # real processes, each with its own interpreter
    start = spawn.Barrier(3)
    starting = [spawn.Process(target=_migrate_together, args=(fresh_url, start)) for _ in range(3)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(timeout=120)
    assert [p.exitcode for p in starting] == [0, 0, 0], "every server starts"
    head = ScriptDirectory.from_config(alembic_config(fresh_url)).get_current_head()
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        assert inspect(engine).has_table("messages")
    finally:
        engine.dispose()
