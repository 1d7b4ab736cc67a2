"""Reading a timeframe an agent promises a customer: a date or a duration."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_AHEAD = timedelta(days=90)

_UNIT_SECONDS = {
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}
_DURATION_RE = re.compile(r"^(?:in\s+)?(\d{1,3}|an?|one|two|three|four|five)\s*(business\s+days?|working\s+days?|[a-z]+)$")
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


class TimeframeError(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "format" | "past" | "far"


def _add_business_days(start: datetime, days: int) -> datetime:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def parse_timeframe(text: str, now: datetime, tz: str | None = None) -> datetime:
    """`2 days`, `4h`, `1 week`, `3 business days`, `tomorrow`, or `2026-12-01` -> an aware UTC datetime.

    A date means the end of that working day (17:00) in the agent's time zone (UTC if unknown).
    """
    raw = " ".join(text.strip().lower().split())
    zone = ZoneInfo(tz) if tz else UTC
    local_now = now.astimezone(zone)
    when: datetime | None = None
    if raw in ("today", "end of day", "eod"):
        when = datetime.combine(local_now.date(), time(17, 0), zone)
    elif raw == "tomorrow":
        when = datetime.combine(local_now.date() + timedelta(days=1), time(17, 0), zone)
    elif re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise TimeframeError("format") from None
        when = datetime.combine(day, time(17, 0), zone)
    else:
        match = _DURATION_RE.match(raw)
        if not match:
            raise TimeframeError("format")
        amount = int(match.group(1)) if match.group(1).isdigit() else _WORDS[match.group(1)]
        unit = match.group(2)
        if unit.startswith(("business", "working")):
            when = _add_business_days(local_now, amount)
        elif unit in _UNIT_SECONDS and _UNIT_SECONDS[unit] < 86400:
            when = now + timedelta(seconds=amount * _UNIT_SECONDS[unit])  # elapsed time, whatever the clocks do
        elif unit in _UNIT_SECONDS:
            days = amount * _UNIT_SECONDS[unit] // 86400  # calendar days: same wall-clock time
            when = datetime.combine(local_now.date() + timedelta(days=days), local_now.timetz().replace(tzinfo=None), zone)
        else:
            raise TimeframeError("format")
    result = when.astimezone(UTC)
    if result <= now:
        raise TimeframeError("past")
    if result - now > MAX_AHEAD:
        raise TimeframeError("far")
    return result
