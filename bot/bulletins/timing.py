"""When each group will receive a bulletin: prestigious persons first (only when the audience has any),
everyone else after the relay lead, nobody but urgent warnings in the quiet hours; and when a send will
end. The admin shows these before sending, so no official is surprised by a bulletin arriving next day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QuietHours = tuple[time, time] | None


def parse_quiet_hours(spec: str) -> QuietHours:
    """'21:00-06:00' -> (21:00, 06:00); empty means no quiet hours."""
    if not spec.strip():
        return None
    start, end = (time.fromisoformat(part.strip()) for part in spec.split("-", 1))
    return start, end


def is_quiet(moment: datetime, window: QuietHours, zone: ZoneInfo) -> bool:
    """Whether a moment falls in the quiet hours of the local day (the window may span midnight)."""
    if window is None:
        return False
    start, end = window
    local = moment.astimezone(zone).time()
    return (local >= start or local < end) if start > end else start <= local < end


def after_quiet(moment: datetime, window: QuietHours, zone: ZoneInfo) -> datetime:
    """The moment itself, or the end of the quiet hours it falls in."""
    if not is_quiet(moment, window, zone):
        return moment
    assert window is not None
    local = moment.astimezone(zone)
    end = local.replace(hour=window[1].hour, minute=window[1].minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(moment.tzinfo)


@dataclass(frozen=True)
class Timing:
    """When the rows of each group fall due, and when they will really leave."""

    prestigious_at: datetime | None  # None: no prestigious person in the audience, or sent to all at once
    everyone_at: datetime  # when the others' rows fall due
    everyone_leaves: datetime  # when they will leave (after quiet hours, for a non-urgent bulletin)

    @property
    def lead_minutes(self) -> int:
        """How much earlier prestigious persons get it (0 when everyone gets it at once)."""
        if self.prestigious_at is None:
            return 0
        return int((self.everyone_at - self.prestigious_at).total_seconds() // 60)

    @property
    def held_by_quiet(self) -> bool:
        """Whether the quiet hours push the villagers' delivery later."""
        return self.everyone_leaves > self.everyone_at


def plan(
    start: datetime,
    *,
    lead: timedelta,
    prestigious: int,
    urgent: bool,
    relay_first: bool,
    quiet: QuietHours,
    zone: ZoneInfo,
) -> Timing:
    """The lead applies only when the audience has prestigious persons and the official wants them first;
    an urgent bulletin goes to all at once and ignores quiet hours."""
    if urgent or not relay_first or prestigious == 0:
        return Timing(None, start, start if urgent else after_quiet(start, quiet, zone))
    everyone = start + lead
    return Timing(start, everyone, after_quiet(everyone, quiet, zone))


def expected_end(
    now: datetime, remaining: int, per_second: float, *, urgent: bool, quiet: QuietHours, zone: ZoneInfo
) -> datetime:
    """When the rows still to send will have left at the platform's pace; a non-urgent send waits out
    the quiet hours it runs into and goes on in the morning."""
    left = timedelta(seconds=remaining / max(per_second, 0.1))
    if urgent or quiet is None:
        return now + left
    moment = after_quiet(now, quiet, zone)
    while True:
        local = moment.astimezone(zone)
        night = local.replace(hour=quiet[0].hour, minute=quiet[0].minute, second=0, microsecond=0)
        if night <= local:
            night += timedelta(days=1)
        night_utc = night.astimezone(moment.tzinfo)
        if moment + left <= night_utc:
            return moment + left
        left -= night_utc - moment
        moment = after_quiet(night_utc, quiet, zone)
