"""A platform's rate shared by every process that sends for one bot (Telegram's 30 messages/s, Zalo's pace):
N processes paced each on their own would send N times too fast. Each send waits for a moment of its own,
handed out in small batches by a bucket every process reaches: Redis when LOABAN_REDIS_URL is set, else a
row in PostgreSQL, else (SQLite: one machine, one sender) this process alone. The moments are spaced
evenly (no saved-up burst), which leaves the platform's own burst allowance for network jitter."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Float, cast, func, update
from sqlalchemy.dialects.postgresql import insert

from bot.channels.models import RateBucket
from bot.config import Settings
from bot.db import Database

log = logging.getLogger(__name__)
MAX_BATCH = 50  # moments taken per round trip at most (at 1,000/s: 20 round trips a second)
# A bulletin marked urgent sends through here with this set: Telegram's paid broadcast, when enabled.
paid_broadcast: ContextVar[bool] = ContextVar("paid_broadcast", default=False)


class Bucket(ABC):
    """Where the next free moment of each named rate is kept."""

    @abstractmethod
    async def reserve(self, name: str, span: float) -> float:
        """Take `span` seconds of the rate `name` from its next free moment on; return the seconds from
        now until the first of them (0 when the rate was idle)."""

    @abstractmethod
    async def close(self) -> None:
        """Let go of connections."""


class LocalBucket(Bucket):
    """One process's own moments: enough where one machine runs one sender (SQLite)."""

    def __init__(self) -> None:
        self.next_at: dict[str, float] = {}

    async def reserve(self, name: str, span: float) -> float:
        """Move this process's next free moment on."""
        now = time.monotonic()
        start = max(self.next_at.get(name, 0.0), now)
        self.next_at[name] = start + span
        return start - now

    async def close(self) -> None:
        """Nothing to let go of."""


class DatabaseBucket(Bucket):
    """One row per rate in PostgreSQL, moved on by one UPDATE … RETURNING per batch, by the database's
    clock (the machines' clocks need not agree)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(self, name: str, span: float) -> float:
        """One short transaction on a worker thread."""
        return await asyncio.to_thread(self._reserve, name, span)

    def _reserve(self, name: str, span: float) -> float:
        """Take the span from the row, creating the row the first time."""
        now = cast(func.extract("epoch", func.clock_timestamp()), Float)
        taken = (
            update(RateBucket)
            .where(RateBucket.name == name)
            .values(next_at=func.greatest(RateBucket.next_at, now) + span)
            .returning(RateBucket.next_at - span - now)
        )
        with self.db.transaction() as session:
            delay = session.scalar(taken)
            if delay is None:
                session.execute(insert(RateBucket).values(name=name, next_at=0.0).on_conflict_do_nothing())
                delay = session.scalar(taken)
        return max(0.0, float(delay or 0.0))

    async def close(self) -> None:
        """The database's pool is the process's own, closed with it."""


RESERVE_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
redis.call('SET', KEYS[1], tostring(start + tonumber(ARGV[1])), 'EX', 3600)
return tostring(start - now)
"""


class RedisBucket(Bucket):
    """One key per rate in Redis, moved on atomically by a Lua script by Redis's clock. While Redis cannot
    be reached, this process paces itself alone: a warning goes out a little fast rather than not at all."""

    def __init__(self, url: str) -> None:
        import redis.asyncio  # the `redis` extra: only deployments that set LOABAN_REDIS_URL need it

        self.client: Any = redis.asyncio.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(RESERVE_SCRIPT)
        self.errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.fallback = LocalBucket()
        self.down = False  # said once per outage, not per batch

    async def reserve(self, name: str, span: float) -> float:
        """One script call per batch."""
        try:
            delay = await self.script(keys=[f"loaban:rate:{name}"], args=[repr(span)])
        except self.errors as exc:
            if not self.down:
                log.warning("Redis unreachable (%s): this process paces itself alone meanwhile", exc)
            self.down = True
            return await self.fallback.reserve(name, span)
        if self.down:
            log.warning("Redis reachable again: the rate is shared again")
        self.down = False
        return max(0.0, float(delay))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


def shared_bucket(settings: Settings, db: Database) -> Bucket:
    """The widest bucket this deployment has: Redis, PostgreSQL, or this process alone."""
    if settings.redis_url:
        return RedisBucket(settings.redis_url)
    if db.engine.dialect.name == "postgresql":
        return DatabaseBucket(db)
    return LocalBucket()


class Pace:
    """At most `rate` calls a second under `name`, across every process sharing the bucket (0: no limit)."""

    def __init__(self, bucket: Bucket, name: str, rate: float) -> None:
        self.bucket, self.name = bucket, name
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.batch = max(1, min(MAX_BATCH, int(rate / 10)))  # ~0.1 s of the rate per round trip
        self._moments: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return at this call's moment; moments of a batch left unused for longer than one interval are
        dropped, so a quiet spell never turns into a burst."""
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        async with self._lock:
            while self._moments and self._moments[0] < loop.time() - self.interval:
                self._moments.popleft()
            if not self._moments:
                delay = await self.bucket.reserve(self.name, self.batch * self.interval)
                start = loop.time() + delay
                self._moments.extend(start + i * self.interval for i in range(self.batch))
            moment = self._moments.popleft()
        await asyncio.sleep(max(0.0, moment - loop.time()))
