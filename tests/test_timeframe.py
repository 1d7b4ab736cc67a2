"""parse_timeframe: what an agent types as the timeframe promised to a customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.escalation.timeframe import MAX_AHEAD, TimeframeError, parse_timeframe

UTC = UTC
# Wednesday 3 June 2026, 10:00 UTC
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def reason(text: str, now: datetime = NOW, tz: str | None = None) -> str:
    with pytest.raises(TimeframeError) as info:
        parse_timeframe(text, now, tz)
    return info.value.reason


# --- durations -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, delta",
    [
        ("2 days", timedelta(days=2)),
        ("2days", timedelta(days=2)),
        ("1 day", timedelta(days=1)),
        ("2d", timedelta(days=2)),
        ("4h", timedelta(hours=4)),
        ("4 hours", timedelta(hours=4)),
        ("1 hr", timedelta(hours=1)),
        ("3 hrs", timedelta(hours=3)),
        ("30 minutes", timedelta(minutes=30)),
        ("45 min", timedelta(minutes=45)),
        ("90m", timedelta(minutes=90)),
        ("1 week", timedelta(weeks=1)),
        ("2 weeks", timedelta(weeks=2)),
        ("1w", timedelta(weeks=1)),
        ("3 wk", timedelta(weeks=3)),
        ("in 2 days", timedelta(days=2)),
        ("a day", timedelta(days=1)),
        ("an hour", timedelta(hours=1)),
        ("one week", timedelta(weeks=1)),
        ("two days", timedelta(days=2)),
        ("five hours", timedelta(hours=5)),
        ("  2   DAYS  ", timedelta(days=2)),
        ("In Three Days", timedelta(days=3)),
        ("90 days", timedelta(days=90)),  # exactly the limit is still allowed
        ("12 weeks", timedelta(weeks=12)),
    ],
)
def test_durations_in_utc(text, delta):
    result = parse_timeframe(text, NOW)
    assert result == NOW + delta
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)


def test_duration_in_a_time_zone_is_the_same_instant_outside_dst_changes():
    for tz in ("Europe/Berlin", "America/New_York", "Asia/Tokyo"):
        assert parse_timeframe("2 days", NOW, tz) == NOW + timedelta(days=2)
        assert parse_timeframe("4 hours", NOW, tz) == NOW + timedelta(hours=4)


def test_result_is_always_utc_even_with_a_zone():
    result = parse_timeframe("tomorrow", NOW, "Asia/Tokyo")
    assert result.utcoffset() == timedelta(0)


# --- business days ---------------------------------------------------------------------------
def test_business_days_skip_the_weekend():
    friday = datetime(2026, 6, 5, 10, 0, tzinfo=UTC)
    assert parse_timeframe("1 business day", friday) == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)  # Monday
    assert parse_timeframe("3 business days", friday) == datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # Wednesday
    assert parse_timeframe("2 working days", friday) == datetime(2026, 6, 9, 10, 0, tzinfo=UTC)


def test_business_days_from_a_weekday_without_a_weekend():
    # Wednesday + 2 business days = Friday
    assert parse_timeframe("2 business days", NOW) == datetime(2026, 6, 5, 10, 0, tzinfo=UTC)
    # Wednesday + 5 business days = next Wednesday (one weekend skipped)
    assert parse_timeframe("5 business days", NOW) == datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def test_business_days_from_a_saturday():
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    assert parse_timeframe("1 business day", saturday) == datetime(2026, 6, 8, 12, 0, tzinfo=UTC)
    assert parse_timeframe("3 business days", saturday) == datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_business_days_use_the_agents_local_weekday():
    # Friday 23:30 UTC is already Saturday 08:30 in Tokyo: one business day is Monday in Tokyo.
    friday_night = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)
    tokyo = parse_timeframe("1 business day", friday_night, "Asia/Tokyo")
    assert tokyo.astimezone(ZoneInfo("Asia/Tokyo")) == datetime(2026, 6, 8, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    # In UTC the same moment is still Friday: one business day is Monday 23:30 UTC.
    assert parse_timeframe("1 business day", friday_night) == datetime(2026, 6, 8, 23, 30, tzinfo=UTC)


# --- dates and named days --------------------------------------------------------------------
def test_date_means_end_of_that_working_day_in_utc():
    assert parse_timeframe("2026-06-10", NOW) == datetime(2026, 6, 10, 17, 0, tzinfo=UTC)


def test_date_means_five_pm_in_the_agents_time_zone():
    berlin = parse_timeframe("2026-06-10", NOW, "Europe/Berlin")
    assert berlin == datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # 17:00 CEST
    tokyo = parse_timeframe("2026-06-10", NOW, "Asia/Tokyo")
    assert tokyo == datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 17:00 JST
    new_york = parse_timeframe("2026-06-10", NOW, "America/New_York")
    assert new_york == datetime(2026, 6, 10, 21, 0, tzinfo=UTC)  # 17:00 EDT


def test_date_in_winter_uses_winter_offset():
    winter_now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert parse_timeframe("2026-01-20", winter_now, "Europe/Berlin") == datetime(2026, 1, 20, 16, 0, tzinfo=UTC)


def test_today_is_still_possible_before_five_pm():
    assert parse_timeframe("today", NOW) == datetime(2026, 6, 3, 17, 0, tzinfo=UTC)
    assert parse_timeframe("EOD", NOW) == datetime(2026, 6, 3, 17, 0, tzinfo=UTC)
    assert parse_timeframe("end of day", NOW) == datetime(2026, 6, 3, 17, 0, tzinfo=UTC)


def test_today_after_five_pm_is_past():
    evening = datetime(2026, 6, 3, 18, 0, tzinfo=UTC)
    assert reason("today", evening) == "past"
    assert reason("eod", evening) == "past"


def test_today_for_a_date_that_is_today():
    assert parse_timeframe("2026-06-03", NOW) == datetime(2026, 6, 3, 17, 0, tzinfo=UTC)
    assert reason("2026-06-03", datetime(2026, 6, 3, 17, 0, tzinfo=UTC)) == "past"


def test_tomorrow_is_five_pm_the_next_day():
    assert parse_timeframe("tomorrow", NOW) == datetime(2026, 6, 4, 17, 0, tzinfo=UTC)
    assert parse_timeframe("  Tomorrow ", NOW) == datetime(2026, 6, 4, 17, 0, tzinfo=UTC)


def test_tomorrow_follows_the_agents_local_date():
    # 20:00 UTC on 3 June is already 05:00 on 4 June in Tokyo: tomorrow there is 5 June.
    late = datetime(2026, 6, 3, 20, 0, tzinfo=UTC)
    result = parse_timeframe("tomorrow", late, "Asia/Tokyo")
    assert result == datetime(2026, 6, 5, 8, 0, tzinfo=UTC)
    # In Los Angeles it is 13:00 on 3 June: tomorrow is 4 June, 17:00 PDT = 00:00 UTC on 5 June.
    assert parse_timeframe("tomorrow", late, "America/Los_Angeles") == datetime(2026, 6, 5, 0, 0, tzinfo=UTC)


# --- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["2026-06-02", "2025-12-31", "0 days", "0h", "0 business days"])
def test_past(text):
    assert reason(text) == "past"


def test_yesterday_in_the_agents_zone_is_past_even_if_not_in_utc():
    # 02:00 UTC on 3 June is still 2 June, 19:00 in Los Angeles: 2026-06-02 17:00 PDT has passed.
    early = datetime(2026, 6, 3, 2, 0, tzinfo=UTC)
    assert reason("2026-06-02", early, "America/Los_Angeles") == "past"
    # In Tokyo (11:00 on 3 June) the 3rd itself is still ahead.
    assert parse_timeframe("2026-06-03", early, "Asia/Tokyo") == datetime(2026, 6, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["91 days", "13 weeks", "999 days", "2026-09-30", "2027-01-01", "70 business days"])
def test_far(text):
    assert reason(text) == "far"


def test_just_inside_the_limit():
    assert parse_timeframe("999 hours", NOW) == NOW + timedelta(hours=999)
    assert parse_timeframe("89 days", NOW) == NOW + timedelta(days=89)
    assert reason("2161 hours") == "format"  # four digits are not read as a number
    assert parse_timeframe("2026-08-31", NOW) == datetime(2026, 8, 31, 17, 0, tzinfo=UTC)  # 89 days + 7 h
    assert reason("2026-09-01") == "far"  # 90 days + 7 h
    assert MAX_AHEAD == timedelta(days=90)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "next week",
        "asap",
        "2 months",
        "2 years",
        "1.5 days",
        "-2 days",
        "two",
        "days",
        "2",
        "2 days and 3 hours",
        "2026-13-01",
        "2026-02-30",
        "2026-6-1",
        "01/12/2026",
        "12.06.2026",
        "June 10",
        "1000 days",
        "ten days",
        "another day",
    ],
)
def test_format_errors(text):
    assert reason(text) == "format"


def test_error_is_a_value_error_with_a_reason():
    with pytest.raises(ValueError):
        parse_timeframe("whenever", NOW)
    err = TimeframeError("far")
    assert err.reason == "far" and isinstance(err, ValueError)


# --- time zones and DST ----------------------------------------------------------------------
def test_days_keep_the_local_wall_clock_across_a_dst_change():
    # Saturday 28 March 2026, 12:00 CET in Berlin; DST starts on Sunday the 29th.
    now = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    result = parse_timeframe("2 days", now, "Europe/Berlin")
    assert result.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) == datetime(2026, 3, 30, 12, 0)


def test_date_after_a_dst_change_uses_the_new_offset():
    now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    assert parse_timeframe("2026-04-01", now, "Europe/Berlin") == datetime(2026, 4, 1, 15, 0, tzinfo=UTC)
    assert parse_timeframe("2026-03-25", now, "Europe/Berlin") == datetime(2026, 3, 25, 16, 0, tzinfo=UTC)


def test_hours_are_real_elapsed_time_across_spring_forward():
    # 00:30 UTC on 29 March 2026 is 01:30 CET; clocks jump from 02:00 to 03:00 at 01:00 UTC.
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert parse_timeframe("2 hours", now, "Europe/Berlin") == now + timedelta(hours=2)


def test_hours_are_real_elapsed_time_across_fall_back():
    # 00:30 UTC on 25 October 2026 is 02:30 CEST (first pass); at 01:00 UTC clocks go back to 02:00 CET.
    now = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert parse_timeframe("1 hour", now, "Europe/Berlin") == now + timedelta(hours=1)


def test_hours_in_utc_are_unaffected_by_any_dst_change():
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert parse_timeframe("2 hours", now) == now + timedelta(hours=2)
    assert parse_timeframe("2 hours", now, "UTC") == now + timedelta(hours=2)


def test_accepts_now_given_in_another_zone():
    now_berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    assert parse_timeframe("2 days", now_berlin) == NOW + timedelta(days=2)
    assert parse_timeframe("2026-06-10", now_berlin) == datetime(2026, 6, 10, 17, 0, tzinfo=UTC)
