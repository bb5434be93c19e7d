"""Slowing down guessers with a growing delay, shared by password logins and one-time codes."""

from __future__ import annotations

from datetime import datetime, timedelta


def backoff(
    failures: int,
    allowed: int,
    last: datetime | None,
    cap: timedelta,
    now: datetime,
    unit: timedelta = timedelta(seconds=1),
) -> float:
    """Seconds still to wait: none for the first `allowed` failures, then one `unit`, two, four … up to
    `cap` after the last one."""
    if failures < allowed or last is None:
        return 0.0
    delay = min(unit * (1 << min(failures - allowed, 20)), cap)
    return max(0.0, (last + delay - now).total_seconds())
