"""The values configuration is made of (follow-up offsets, working hours, the digest's schedule, leads,
retention) and how each is read from its variable. Parsers raise ValueError or return problem lines that
say what is wrong and how to write it; bot.core.config collects them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_FOLLOW_UP_SCHEDULE = "1d,7d,30d"
DEFAULT_WORKING_HOURS = "09:00-17:00"
DEFAULT_DIGEST_SCHEDULE = "mon 09:00"
DEFAULT_DIGEST_TIMEZONE = "UTC"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_OFFSET_RE = re.compile(r"^(\d{1,6})\s*([smhdw])$")
_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_DIGEST_RE = re.compile(r"^([A-Za-z]+)\s+(\d{1,2}):(\d{2})$")
_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_RE = re.compile(r"^S[A-Z0-9]{2,}$")
RETENTION_RANGE = (1, 3650)


@dataclass(frozen=True)
class Offset:
    """A follow-up offset. Day and week offsets are calendar days in the recipient's time zone."""

    amount: int
    unit: str

    @property
    def is_calendar(self) -> bool:
        return self.unit in ("d", "w")

    @property
    def days(self) -> int:
        return self.amount * (7 if self.unit == "w" else 1)

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.amount * _UNITS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class WorkingHours:
    start: time
    end: time


@dataclass(frozen=True)
class DigestSchedule:
    """When the weekly digest goes out: a weekday (0 = Monday) and a local time in `tz`."""

    weekday: int
    at: time
    tz: str = DEFAULT_DIGEST_TIMEZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


def parse_offsets(raw: str) -> tuple[Offset, ...]:
    """`1d,7d,30d` -> offsets. `off` or empty means no follow-ups. Raises ValueError."""
    raw = raw.strip()
    if raw.lower() in ("off", "none"):
        return ()
    offsets = []
    for part in raw.split(","):
        match = _OFFSET_RE.match(part.strip().lower())
        if not match or int(match.group(1)) == 0:
            raise ValueError(f"{part.strip()!r} is not an offset like 1d, 12h, 30m, 2w or 45s")
        offsets.append(Offset(int(match.group(1)), match.group(2)))
    return tuple(offsets)


def parse_working_hours(raw: str) -> WorkingHours | None:
    raw = raw.strip()
    if raw.lower() == "off":
        return None
    match = _HOURS_RE.match(raw)
    if not match:
        raise ValueError("use HH:MM-HH:MM, e.g. 09:00-17:00, or off")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError("hours are 00-23 and minutes 00-59")
    start = time(h1, m1)
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError("the end must be later than the start on the same day")
    return WorkingHours(start, end)


def parse_digest_schedule(raw: str) -> tuple[int, time]:
    """`mon 09:00` -> (0, 09:00). Raises ValueError saying what is wrong."""
    match = _DIGEST_RE.match(raw.strip())
    if not match:
        raise ValueError("write a weekday and a time, e.g. mon 09:00")
    day, hour, minute = match.group(1).lower()[:3], int(match.group(2)), int(match.group(3))
    if match.group(1).lower() not in (day, _full_day(day)) or day not in WEEKDAYS:
        raise ValueError(f"{match.group(1)!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")
    if hour > 23 or minute > 59:
        raise ValueError(f"{hour:02d}:{minute:02d} is not a time of day; hours are 00-23 and minutes 00-59")
    return WEEKDAYS.index(day), time(hour, minute)


def _full_day(short: str) -> str:
    names = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
             "sat": "saturday", "sun": "sunday"}
    return names.get(short, "")


def parse_digest_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{raw!r} is not a known IANA time zone; use a name like Europe/Berlin or UTC") from None
    return raw


@dataclass(frozen=True)
class Leads:
    users: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    def named(self) -> str:
        """Who can export, as Slack mrkdwn (mentions render as names, groups as @group)."""
        names = [f"<@{u}>" for u in sorted(self.users)] + [f"<!subteam^{g}>" for g in self.groups]
        return ", ".join(names)


def parse_leads(raw: str | None) -> tuple[Leads, list[str]]:
    """`U01,W02,S03` -> Leads; one problem line per entry that is not a user or user-group ID."""
    if not raw:
        return Leads(), []
    users: set[str] = set()
    groups: list[str] = []
    problems: list[str] = []
    for part in raw.split(","):
        entry = part.strip()
        if not entry:
            continue
        if _USER_RE.match(entry):
            users.add(entry)
        elif _GROUP_RE.match(entry):
            if entry not in groups:
                groups.append(entry)
        else:
            problems.append(
                f"LEADS: {entry[:40]!r} is not a Slack user ID (U… or W…, from the person's profile > ⋮ > "
                "Copy member ID) or user-group ID (S…, from the group's page); separate IDs with commas."
            )
    return Leads(frozenset(users), tuple(groups)), problems


def parse_retention_days(raw: str | None) -> tuple[int | None, str | None]:
    """RETENTION_DAYS: a whole number of days from 1 to 3650, or unset (kept forever)."""
    if raw is None:
        return None, None
    low, high = RETENTION_RANGE
    if raw.isdigit() and low <= int(raw) <= high:
        return int(raw), None
    return None, (
        f"RETENTION_DAYS {raw[:20]!r} must be a whole number of days from {low} to {high} "
        "(customer details of cases closed longer ago are erased); unset it to keep them."
    )
