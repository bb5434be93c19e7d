"""When each group receives a bulletin: the relay lead only for an audience with prestigious persons,
quiet hours pushing villagers to the morning, urgent warnings at once, and when a send will end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.bulletins.timing import after_quiet, expected_end, parse_quiet_hours, plan

VN = ZoneInfo("Asia/Ho_Chi_Minh")
QUIET = parse_quiet_hours("21:00-06:00")
LEAD = timedelta(minutes=60)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment on Viet Nam's clock, in UTC as stored."""
    return datetime(2026, 12, day, hour, minute, tzinfo=VN).astimezone(UTC)


def test_without_prestigious_persons_nobody_waits_for_the_lead() -> None:
    """Sent at 20:10 to villagers only: they get it at 20:10, not the next morning."""
    timing = plan(
        local(2, 20, 10), lead=LEAD, prestigious=0, urgent=False, relay_first=True, quiet=QUIET, zone=VN
    )
    assert timing.prestigious_at is None and timing.lead_minutes == 0
    assert timing.everyone_leaves == local(2, 20, 10) and not timing.held_by_quiet


def test_the_lead_can_push_villagers_into_the_quiet_hours_and_the_official_sees_it() -> None:
    timing = plan(
        local(2, 20, 10), lead=LEAD, prestigious=3, urgent=False, relay_first=True, quiet=QUIET, zone=VN
    )
    assert timing.prestigious_at == local(2, 20, 10) and timing.lead_minutes == 60
    assert timing.held_by_quiet and timing.everyone_leaves == local(3, 6, 0)
    at_once = plan(
        local(2, 20, 10), lead=LEAD, prestigious=3, urgent=False, relay_first=False, quiet=QUIET, zone=VN
    )
    assert at_once.prestigious_at is None and at_once.everyone_leaves == local(2, 20, 10)


def test_urgent_warnings_go_to_everyone_at_once_even_at_night() -> None:
    timing = plan(
        local(2, 23, 30), lead=LEAD, prestigious=3, urgent=True, relay_first=True, quiet=QUIET, zone=VN
    )
    assert timing.prestigious_at is None and timing.everyone_leaves == local(2, 23, 30)


def test_quiet_hours_end_in_the_morning() -> None:
    assert after_quiet(local(2, 22, 0), QUIET, VN) == local(3, 6, 0)
    assert after_quiet(local(3, 3, 0), QUIET, VN) == local(3, 6, 0)
    assert after_quiet(local(3, 12, 0), QUIET, VN) == local(3, 12, 0)


def test_a_send_running_into_the_night_ends_the_next_morning() -> None:
    one_hour = 29 * 3600
    assert expected_end(local(2, 10), one_hour, 29, urgent=False, quiet=QUIET, zone=VN) == local(2, 11)
    assert expected_end(local(2, 20, 30), one_hour, 29, urgent=False, quiet=QUIET, zone=VN) == local(3, 6, 30)
    assert expected_end(local(2, 20, 30), one_hour, 29, urgent=True, quiet=QUIET, zone=VN) == local(2, 21, 30)
