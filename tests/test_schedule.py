"""Scheduling policy (bot/schedule.py): offsets, working hours in the recipient's own zone, DST,
`off`, a custom first date and the snooze choices. Pure functions: explicit datetimes, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import load_config
from bot.core.reminders import retry_delay
from bot.core.settings import Offset, WorkingHours, parse_offsets, parse_working_hours
from bot.followups.schedule import add_offset, follow_up_times, in_working_hours, next_working_time, snooze_until

UTC = UTC
BERLIN, NEW_YORK, TOKYO = "Europe/Berlin", "America/New_York", "Asia/Tokyo"
HOURS = WorkingHours(time(9, 0), time(17, 0))
DEFAULT = parse_offsets("1d,7d,30d")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


def wall(when: datetime, tz: str) -> tuple[str, str]:
    """(ISO date, HH:MM) of `when` on the recipient's wall clock."""
    here = when.astimezone(ZoneInfo(tz))
    return here.date().isoformat(), here.strftime("%H:%M")


# --- configuration that feeds the policy ------------------------------------------------------
def test_defaults_are_one_seven_thirty_days_and_nine_to_five():
    cfg = load_config({"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"})
    assert cfg.follow_up_schedule == (Offset(1, "d"), Offset(7, "d"), Offset(30, "d"))
    assert cfg.working_hours == HOURS


def test_off_means_no_working_hours_and_no_follow_ups():
    assert parse_working_hours("off") is None
    assert parse_working_hours("OFF") is None
    assert parse_offsets("off") == ()


@pytest.mark.parametrize(
    "raw, seconds, calendar",
    [("45s", 45, False), ("30m", 1800, False), ("12h", 43200, False), ("1d", 86400, True), ("2w", 14 * 86400, True)],
)
def test_offset_units(raw, seconds, calendar):
    (offset,) = parse_offsets(raw)
    assert offset.delta == timedelta(seconds=seconds)
    assert offset.is_calendar is calendar


# --- offsets ----------------------------------------------------------------------------------
def test_exact_units_are_plain_durations_whatever_the_zone():
    start = utc(2026, 6, 3, 12, 0, 0)
    for tz in (BERLIN, NEW_YORK, TOKYO, None):
        assert add_offset(start, Offset(3, "s"), tz) == start + timedelta(seconds=3)
        assert add_offset(start, Offset(90, "m"), tz) == start + timedelta(minutes=90)
        assert add_offset(start, Offset(36, "h"), tz) == start + timedelta(hours=36)


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, TOKYO])
def test_day_offsets_keep_the_local_wall_time(tz):
    start = local(tz, 2026, 6, 3, 14, 25)
    for days, unit, amount in ((1, "d", 1), (7, "d", 7), (30, "d", 30), (14, "w", 2)):
        due = add_offset(start.astimezone(UTC), Offset(amount, unit), tz)
        assert wall(due, tz) == ((date(2026, 6, 3) + timedelta(days=days)).isoformat(), "14:25")


def test_seven_days_across_the_end_of_dst_keeps_wall_time_but_168_hours_does_not():
    # Berlin leaves summer time on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET).
    closed = local(BERLIN, 2026, 10, 19, 10, 0).astimezone(UTC)
    assert closed == utc(2026, 10, 19, 8, 0)
    by_days = add_offset(closed, Offset(7, "d"), BERLIN)
    by_hours = add_offset(closed, Offset(168, "h"), BERLIN)
    assert wall(by_days, BERLIN) == ("2026-10-26", "10:00")
    assert by_days == utc(2026, 10, 26, 9, 0)
    assert wall(by_hours, BERLIN) == ("2026-10-26", "09:00")
    assert by_hours == utc(2026, 10, 26, 8, 0)
    assert by_days - closed == timedelta(hours=169)


def test_one_week_across_the_us_end_of_dst():
    # New York leaves summer time on Sunday 2026-11-01, a week after Berlin.
    closed = local(NEW_YORK, 2026, 10, 28, 15, 30).astimezone(UTC)
    due = add_offset(closed, Offset(1, "w"), NEW_YORK)
    assert wall(due, NEW_YORK) == ("2026-11-04", "15:30")
    assert due == utc(2026, 11, 4, 20, 30)
    # The same instant in Berlin already was in winter time: a plain 7 x 24 h there.
    assert add_offset(closed, Offset(1, "w"), BERLIN) == closed + timedelta(days=7)


def test_days_into_the_start_of_dst_keep_wall_time():
    # Berlin springs forward on Sunday 2026-03-29 (02:00 CET -> 03:00 CEST).
    closed = local(BERLIN, 2026, 3, 27, 11, 0).astimezone(UTC)
    due = add_offset(closed, Offset(3, "d"), BERLIN)
    assert wall(due, BERLIN) == ("2026-03-30", "11:00")
    assert due - closed == timedelta(hours=71)


def test_a_wall_time_skipped_by_dst_lands_just_after_the_gap():
    closed = local(BERLIN, 2026, 3, 28, 2, 30).astimezone(UTC)
    due = add_offset(closed, Offset(1, "d"), BERLIN)
    assert wall(due, BERLIN) == ("2026-03-29", "03:30")
    assert due == utc(2026, 3, 29, 1, 30)


def test_no_time_zone_means_utc():
    closed = utc(2026, 10, 19, 8, 0)
    assert add_offset(closed, Offset(7, "d"), None) == utc(2026, 10, 26, 8, 0)


# --- working hours ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tz, when, expected",
    [
        # Inside: unchanged.
        (BERLIN, utc(2026, 6, 3, 10, 0), utc(2026, 6, 3, 10, 0)),
        # Berlin 07:00 on a Wednesday: 09:00 the same day.
        (BERLIN, utc(2026, 6, 3, 5, 0), utc(2026, 6, 3, 7, 0)),
        # Berlin Friday 18:30: Monday 09:00.
        (BERLIN, utc(2026, 6, 5, 16, 30), utc(2026, 6, 8, 7, 0)),
        # Berlin Saturday noon: Monday 09:00.
        (BERLIN, utc(2026, 6, 6, 12, 0), utc(2026, 6, 8, 7, 0)),
        # New York 08:00 EDT on a Wednesday: 09:00 EDT.
        (NEW_YORK, utc(2026, 6, 3, 12, 0), utc(2026, 6, 3, 13, 0)),
        # Saturday 02:00 UTC is still Friday 22:00 in New York: next Monday 09:00 EDT.
        (NEW_YORK, utc(2026, 6, 6, 2, 0), utc(2026, 6, 8, 13, 0)),
        # Friday 22:00 UTC is already Saturday 07:00 in Tokyo: Monday 09:00 JST.
        (TOKYO, utc(2026, 6, 5, 22, 0), utc(2026, 6, 8, 0, 0)),
        # Sunday 23:00 UTC is Monday 08:00 in Tokyo: 09:00 JST that Monday, not the UTC Monday.
        (TOKYO, utc(2026, 6, 7, 23, 0), utc(2026, 6, 8, 0, 0)),
        # Tokyo Friday 18:00: Monday.
        (TOKYO, utc(2026, 6, 5, 9, 0), utc(2026, 6, 8, 0, 0)),
    ],
)
def test_next_working_time_in_the_recipients_zone(tz, when, expected):
    assert next_working_time(when, tz, HOURS) == expected
    assert in_working_hours(expected, tz, HOURS)


def test_one_instant_three_zones():
    monday = utc(2026, 6, 8, 8, 0)  # Berlin 10:00, New York 04:00, Tokyo 17:00
    assert next_working_time(monday, BERLIN, HOURS) == monday
    assert next_working_time(monday, NEW_YORK, HOURS) == utc(2026, 6, 8, 13, 0)
    assert next_working_time(monday, TOKYO, HOURS) == utc(2026, 6, 9, 0, 0)


def test_end_of_working_hours_is_exclusive_and_start_inclusive():
    assert in_working_hours(local(BERLIN, 2026, 6, 3, 9, 0), BERLIN, HOURS)
    assert in_working_hours(local(BERLIN, 2026, 6, 3, 16, 59, 59), BERLIN, HOURS)
    assert not in_working_hours(local(BERLIN, 2026, 6, 3, 17, 0), BERLIN, HOURS)
    assert not in_working_hours(local(BERLIN, 2026, 6, 3, 8, 59, 59), BERLIN, HOURS)
    assert next_working_time(local(BERLIN, 2026, 6, 3, 17, 0), BERLIN, HOURS) == local(BERLIN, 2026, 6, 4, 9, 0)


def test_weekends_are_outside_working_hours():
    for day in (6, 7):  # Saturday 6 June, Sunday 7 June 2026
        assert not in_working_hours(local(BERLIN, 2026, 6, day, 11, 0), BERLIN, HOURS)
    assert in_working_hours(local(BERLIN, 2026, 6, 8, 11, 0), BERLIN, HOURS)


def test_working_hours_follow_dst_not_a_fixed_offset():
    # New York is on summer time from 2026-03-08, Berlin only from 2026-03-29.
    assert not in_working_hours(utc(2026, 3, 2, 13, 30), NEW_YORK, HOURS)  # 08:30 EST
    assert in_working_hours(utc(2026, 3, 9, 13, 30), NEW_YORK, HOURS)      # 09:30 EDT
    assert next_working_time(utc(2026, 3, 2, 12, 0), NEW_YORK, HOURS) == utc(2026, 3, 2, 14, 0)
    assert next_working_time(utc(2026, 3, 9, 12, 0), NEW_YORK, HOURS) == utc(2026, 3, 9, 13, 0)
    # Saturday before Berlin's autumn change: Monday 09:00 CET is 08:00 UTC, not 07:00.
    assert next_working_time(utc(2026, 10, 24, 12, 0), BERLIN, HOURS) == utc(2026, 10, 26, 8, 0)


def test_custom_working_hours():
    late = parse_working_hours("13:30-22:00")
    assert next_working_time(local(TOKYO, 2026, 6, 3, 9, 0), TOKYO, late) == local(TOKYO, 2026, 6, 3, 13, 30)
    assert in_working_hours(local(TOKYO, 2026, 6, 3, 21, 59), TOKYO, late)


def test_off_delivers_at_the_exact_time_even_on_a_weekend_night():
    sunday_night = local(BERLIN, 2026, 6, 7, 3, 17)
    assert in_working_hours(sunday_night, BERLIN, None)
    assert next_working_time(sunday_night, BERLIN, None) == sunday_night


def test_no_time_zone_uses_utc_working_hours():
    assert next_working_time(utc(2026, 6, 3, 7, 0), None, HOURS) == utc(2026, 6, 3, 9, 0)


# --- follow-up times --------------------------------------------------------------------------
CLOSED = utc(2026, 6, 3, 12, 0)  # a Wednesday: Berlin 14:00, New York 08:00, Tokyo 21:00


@pytest.mark.parametrize(
    "tz, expected",
    [
        (BERLIN, [utc(2026, 6, 4, 12, 0), utc(2026, 6, 10, 12, 0), utc(2026, 7, 3, 12, 0)]),
        # 08:00 in New York: each one waits for 09:00 EDT.
        (NEW_YORK, [utc(2026, 6, 4, 13, 0), utc(2026, 6, 10, 13, 0), utc(2026, 7, 3, 13, 0)]),
        # 21:00 in Tokyo: next morning's 09:00 JST; 30 days later is a Friday night -> Monday.
        (TOKYO, [utc(2026, 6, 5, 0, 0), utc(2026, 6, 11, 0, 0), utc(2026, 7, 6, 0, 0)]),
    ],
)
def test_default_follow_up_times_per_zone(tz, expected):
    assert follow_up_times(CLOSED, DEFAULT, tz, HOURS) == expected


def test_follow_ups_falling_on_a_weekend_move_to_monday_morning():
    closed = local(BERLIN, 2026, 6, 5, 15, 0).astimezone(UTC)  # Friday 15:00
    times = follow_up_times(closed, DEFAULT, BERLIN, HOURS)
    assert [wall(t, BERLIN) for t in times] == [
        ("2026-06-08", "09:00"),  # Saturday -> Monday
        ("2026-06-12", "15:00"),  # a Friday: inside
        ("2026-07-06", "09:00"),  # Sunday 5 July -> Monday
    ]


def test_off_gives_the_exact_offsets():
    times = follow_up_times(CLOSED, DEFAULT, TOKYO, None)
    assert times == [utc(2026, 6, 4, 12, 0), utc(2026, 6, 10, 12, 0), utc(2026, 7, 3, 12, 0)]
    assert follow_up_times(CLOSED, parse_offsets("3s,6s"), BERLIN, None) == [
        CLOSED + timedelta(seconds=3), CLOSED + timedelta(seconds=6)]


def test_follow_up_times_across_dst_keep_wall_time():
    closed = local(BERLIN, 2026, 10, 19, 10, 0).astimezone(UTC)
    times = follow_up_times(closed, parse_offsets("7d,168h"), BERLIN, None)
    assert [wall(t, BERLIN)[1] for t in times] == ["10:00", "09:00"]


def test_custom_first_date_replaces_the_first_offset_at_the_start_of_work():
    times = follow_up_times(CLOSED, DEFAULT, BERLIN, HOURS, first_date=date(2026, 6, 9))
    assert times == [local(BERLIN, 2026, 6, 9, 9, 0), utc(2026, 6, 10, 12, 0), utc(2026, 7, 3, 12, 0)]


def test_custom_first_date_on_a_weekend_moves_to_monday():
    times = follow_up_times(CLOSED, DEFAULT, NEW_YORK, HOURS, first_date=date(2026, 6, 6))
    assert times[0] == local(NEW_YORK, 2026, 6, 8, 9, 0)


def test_custom_first_date_with_hours_off_keeps_the_closing_time_of_day():
    times = follow_up_times(CLOSED, DEFAULT, TOKYO, None, first_date=date(2026, 6, 20))
    assert times[0] == local(TOKYO, 2026, 6, 20, 21, 0)
    assert times[1:] == [utc(2026, 7, 3, 12, 0)]  # the 7-day one would come before the chosen first date


def test_custom_first_date_not_after_the_close_is_ignored():
    assert follow_up_times(CLOSED, DEFAULT, BERLIN, HOURS, first_date=date(2026, 6, 1)) == \
        follow_up_times(CLOSED, DEFAULT, BERLIN, HOURS)


def test_custom_first_date_without_a_schedule_still_gives_one_follow_up():
    assert follow_up_times(CLOSED, (), BERLIN, HOURS, first_date=date(2026, 6, 9)) == [local(BERLIN, 2026, 6, 9, 9, 0)]
    assert follow_up_times(CLOSED, (), BERLIN, HOURS) == []


# --- snooze -----------------------------------------------------------------------------------
def test_snooze_an_hour():
    now = local(BERLIN, 2026, 6, 3, 10, 15).astimezone(UTC)
    assert snooze_until(now, "hour", BERLIN, HOURS) == now + timedelta(hours=1)


def test_snooze_an_hour_past_the_end_of_the_day_waits_for_the_next_working_morning():
    wednesday = local(BERLIN, 2026, 6, 3, 16, 30).astimezone(UTC)
    assert snooze_until(wednesday, "hour", BERLIN, HOURS) == local(BERLIN, 2026, 6, 4, 9, 0)
    friday = local(BERLIN, 2026, 6, 5, 16, 30).astimezone(UTC)
    assert snooze_until(friday, "hour", BERLIN, HOURS) == local(BERLIN, 2026, 6, 8, 9, 0)


def test_snooze_tomorrow_is_the_next_working_morning():
    assert snooze_until(local(NEW_YORK, 2026, 6, 3, 15, 0), "tomorrow", NEW_YORK, HOURS) == local(NEW_YORK, 2026, 6, 4, 9, 0)
    assert snooze_until(local(NEW_YORK, 2026, 6, 5, 10, 0), "tomorrow", NEW_YORK, HOURS) == local(NEW_YORK, 2026, 6, 8, 9, 0)
    # "Tomorrow" is the recipient's tomorrow: Tokyo is already on Thursday at 23:30 UTC Wednesday.
    assert snooze_until(utc(2026, 6, 3, 23, 30), "tomorrow", TOKYO, HOURS) == local(TOKYO, 2026, 6, 5, 9, 0)


def test_snooze_next_week():
    assert snooze_until(local(BERLIN, 2026, 6, 3, 15, 0), "week", BERLIN, HOURS) == local(BERLIN, 2026, 6, 10, 9, 0)


def test_snooze_with_hours_off_keeps_the_time_of_day_across_dst():
    now = local(BERLIN, 2026, 10, 21, 15, 0)
    assert snooze_until(now, "tomorrow", BERLIN, None) == local(BERLIN, 2026, 10, 22, 15, 0)
    week = snooze_until(now, "week", BERLIN, None)
    assert wall(week, BERLIN) == ("2026-10-28", "15:00")
    assert snooze_until(now, "hour", BERLIN, None) == now + timedelta(hours=1)


def test_every_snooze_choice_lands_in_the_future_inside_working_hours():
    start = utc(2026, 6, 1, 0, 0)
    for step in range(7 * 24 * 4):
        now = start + timedelta(minutes=15 * step)
        for tz in (BERLIN, NEW_YORK, TOKYO):
            for choice in ("hour", "tomorrow", "week"):
                until = snooze_until(now, choice, tz, HOURS)
                assert until > now, (now, tz, choice)
                assert in_working_hours(until, tz, HOURS), (now, tz, choice, until)


# --- retries ----------------------------------------------------------------------------------
def test_retry_backoff_grows_then_stays_at_two_hours():
    assert [retry_delay(n).total_seconds() for n in range(1, 8)] == [30, 120, 480, 1800, 7200, 7200, 7200]
