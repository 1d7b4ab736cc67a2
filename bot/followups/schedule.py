"""Scheduling policy: when a follow-up is due, in the recipient's own time zone and working hours.

Pure functions of (time, zone, settings): no database, no Slack, so they are easy to test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.core.settings import Offset, WorkingHours

UTC = UTC


def zone(tz: str | None) -> ZoneInfo | timezone:
    return ZoneInfo(tz) if tz else UTC


def _local(dt: datetime, tz: str | None) -> datetime:
    return dt.astimezone(zone(tz))


def _at(day: date, clock: time, tz: str | None) -> datetime:
    """Local wall-clock time on a day, as UTC. A time skipped by DST lands just after the gap."""
    z = zone(tz)
    local = datetime.combine(day, clock, z)
    # Round-trip through UTC normalises a non-existent wall time (spring forward) forward.
    return local.astimezone(UTC)


def add_offset(start: datetime, offset: Offset, tz: str | None) -> datetime:
    """Days and weeks are calendar days in the recipient's zone (same wall-clock time across DST);
    seconds, minutes and hours are exact durations."""
    if not offset.is_calendar:
        return start + offset.delta
    local = _local(start, tz)
    return _at(local.date() + timedelta(days=offset.days), local.time().replace(tzinfo=None), tz)


def in_working_hours(when: datetime, tz: str | None, hours: WorkingHours | None) -> bool:
    if hours is None:
        return True
    local = _local(when, tz)
    return local.weekday() < 5 and hours.start <= local.time().replace(tzinfo=None) < hours.end


def next_working_time(when: datetime, tz: str | None, hours: WorkingHours | None) -> datetime:
    """`when` if it is inside working hours on a weekday; otherwise the next start of working hours."""
    if in_working_hours(when, tz, hours):
        return when
    assert hours is not None
    local = _local(when, tz)
    day = local.date()
    if local.weekday() < 5 and local.time().replace(tzinfo=None) < hours.start:
        return _at(day, hours.start, tz)
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _at(day, hours.start, tz)


def follow_up_times(
    closed_at: datetime,
    offsets: tuple[Offset, ...],
    tz: str | None,
    hours: WorkingHours | None,
    first_date: date | None = None,
) -> list[datetime]:
    """When each follow-up of a closed case is due, in the order of the offsets.

    A custom first date (at the start of working hours that day, or the closing time of day when
    hours are off) becomes the first follow-up, and offsets that would fall on or before it are dropped.
    """
    times = [next_working_time(add_offset(closed_at, o, tz), tz, hours) for o in offsets]
    if first_date is not None:
        clock = hours.start if hours else _local(closed_at, tz).time().replace(tzinfo=None)
        custom = next_working_time(_at(first_date, clock, tz), tz, hours)
        if custom > closed_at:
            times = [custom] + [t for t in times[1:] if t > custom]
    return times


def snooze_until(now: datetime, choice: str, tz: str | None, hours: WorkingHours | None) -> datetime:
    """`hour`: an hour from now; `tomorrow`: next day at the start of work; `week`: a week from today."""
    if choice == "hour":
        return next_working_time(now + timedelta(hours=1), tz, hours)
    local = _local(now, tz)
    days = 1 if choice == "tomorrow" else 7
    clock = hours.start if hours else local.time().replace(tzinfo=None)
    return next_working_time(_at(local.date() + timedelta(days=days), clock, tz), tz, hours)
