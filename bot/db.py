"""Engine, declarative base and the one context manager that owns a transaction."""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    Enum,
    MetaData,
    SQLColumnExpression,
    Subquery,
    Table,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Every timestamp is stored in UTC so SQLite and PostgreSQL agree."""
    return datetime.now(UTC)


def local_today(zone: str) -> date:
    """Today where the deployment is (deadlines and quiet hours count local days)."""
    return utcnow().astimezone(ZoneInfo(zone)).date()


def midnights(first: date, days: int, zone: ZoneInfo) -> list[datetime]:
    """The local midnights that begin `days` days from `first`, and the one after the last: the edges
    officials' days have, summer time included."""
    return [datetime.combine(first + timedelta(days=i), time(), zone) for i in range(days + 1)]


def day_number(
    session: Session, moment: SQLColumnExpression[datetime], edges: Sequence[datetime]
) -> ColumnElement[int]:
    """Which of the days between `edges` (see `midnights`) a stored moment falls in, 1 for the first: a
    count per day as officials live them (`func.date()` buckets by UTC on SQLite and by the session's
    zone on PostgreSQL). PostgreSQL finds the day by a binary search over the edges (width_bucket), with
    no time-zone conversion per row; SQLite, for development, by a CASE."""
    if session.get_bind().dialect.name == "postgresql":
        bounds = bindparam("day_edges", list(edges), type_=postgresql.ARRAY(DateTime(timezone=True)))
        return func.width_bucket(moment, bounds)
    return case(*((moment < edge, i) for i, edge in enumerate(edges)), else_=len(edges))


def fold_changes(
    session: Session, changes: type[Base], kept: type[Base], keys: Sequence[str], amounts: Sequence[str]
) -> None:
    """Move the rows triggers appended to an append-only table of `changes` into the `kept` counts (summed
    per key), so writers never wait on one another for a counter row and the list of changes stays short.
    The changes moved are exactly those deleted: one statement on PostgreSQL (DELETE … RETURNING), where
    several processes fold at once and each change is deleted, so counted, by one of them; SQLite has one
    writer at a time. Keys are upserted in order, so two folds never wait on each other crosswise."""
    table, counts = cast(Table, changes.__table__), cast(Table, kept.__table__)
    last = session.scalar(select(func.max(table.c.id)))
    if last is None:
        return
    postgres = session.get_bind().dialect.name == "postgresql"
    moved: Any = (
        delete(table).where(table.c.id <= last).returning(*table.c).cte("moved")
        if postgres
        else select(table).where(table.c.id <= last).subquery()
    )
    by = [moved.c[k] for k in keys]
    sums = select(*by, *(func.sum(moved.c[a]) for a in amounts)).where(true()).group_by(*by).order_by(*by)
    insert_ = (postgresql.insert if postgres else sqlite.insert)(counts).from_select([*keys, *amounts], sums)
    session.execute(
        insert_.on_conflict_do_update(
            index_elements=list(keys), set_={a: counts.c[a] + insert_.excluded[a] for a in amounts}
        )
    )
    if not postgres:
        session.execute(delete(table).where(table.c.id <= last))


def kept_and_changed(
    changes: type[Base], kept: type[Base], columns: Sequence[str], where: Callable[[Any], Any]
) -> Subquery:
    """The kept counts and the changes not folded into them yet, as one set of rows (`columns` of both,
    filtered by `where` given a table's columns) to sum: exact at any moment, since the triggers append
    each change in the transaction that makes it and a fold moves them in one transaction."""
    tables = (kept.__table__, changes.__table__)
    return union_all(*(select(*(t.c[c] for c in columns)).where(where(t.c)) for t in tables)).subquery()


def after(session: Session, outcome: Literal["commit", "rollback"], action: Callable[[], None]) -> None:
    """Make the disk follow the database: a file is removed only when the commit that forgets it succeeds,
    and a file written for a transaction that fails is removed again."""
    event.listen(session, f"after_{outcome}", lambda _session: action(), once=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes at the door so no local time sneaks in."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLite returns naive values; they were written as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(cls: type[enum.StrEnum], length: int = 20) -> Enum:
    """A portable enum column that stores the member's value as plain text (no native PostgreSQL enum)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    """Declarative base with stable constraint names, so migrations match across backends."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[int]: JSON,
    }


def make_engine(url: str) -> Engine:
    """SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL a pre-pinged pool."""
    # Parameters are what people wrote: never in logs or error messages (hide_parameters).
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below open the transaction
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database (None for an in-memory one or another backend)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at a path (device and inode), None when there is none."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_dev, found.st_ino)


class Database:
    """Holds the engine and session factory of one process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The SQLite file this process opened: deleted or replaced under it, the process would go on
        # reading the old one (or a new empty one) and look healthy.
        self.file = sqlite_file(url)
        self.opened = _identity(self.file) if self.file else None
        if self.file is not None:
            event.listen(self.engine, "connect", self._remember_file)
        # SQLite has one writer at a time and its busy handler sleeps in growing steps; queueing this
        # process's transactions on a lock is far faster than letting threads collide. PostgreSQL runs free.
        self._lock = threading.Lock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The single owner of a unit of work: commit on success, roll back on any error."""
        with self._lock, self.sessions() as session, session.begin():
            yield session

    def _remember_file(self, *_args: Any) -> None:
        """The first connection made the file: that one is this process's database."""
        if self.opened is None and self.file is not None:
            self.opened = _identity(self.file)

    def still_opened(self) -> bool:
        """False when the database file was deleted or replaced since this process opened it."""
        return self.file is None or (self.opened is not None and _identity(self.file) == self.opened)

    def dispose(self) -> None:
        """Close pooled connections, e.g. at shutdown or between tests."""
        self.engine.dispose()
