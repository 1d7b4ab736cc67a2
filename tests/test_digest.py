"""The weekly digest's content on hand-made data, its week key, and its three settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest

from bot import texts
from bot.core.config import ConfigError, load_config
from bot.core.settings import DigestSchedule
from bot.learning.digest import week_key
from bot.learning.digest_message import build_digest, median_seconds, resolution_rate, shareable
from storage.digest_queries import CaseRef, DigestData, Listing, WeekFigures

NOW = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)  # a Monday
CHANNEL = "CDIGEST"
HOUR = 3600.0


def ref(number: int, *, visibility: str | None = "public", channel: str = "C1", customer: str | None = "Acme",
        summary: str = "charged twice", days_open: float = 4, note: str | None = None) -> CaseRef:
    return CaseRef(number, customer, summary, f"https://x.slack.com/archives/{channel}/p{number}", channel, visibility,
                   NOW - timedelta(days=days_open), "UOWNER", note)


def data(**changes: object) -> DigestData:
    base = dict(
        now=NOW,
        week=WeekFigures(opened=12, resolved=3, unresolved=1, resolve_seconds=(1 * HOUR, 5 * HOUR, 2 * HOUR)),
        previous=WeekFigures(opened=10, resolved=2, unresolved=2, resolve_seconds=(HOUR, 3 * HOUR)),
    )
    base.update(changes)
    return DigestData(**base)  # type: ignore[arg-type]


def message(d: DigestData) -> tuple[str, list[dict], str]:
    text, blocks = build_digest(d, CHANNEL)
    return text, blocks, json.dumps(blocks, ensure_ascii=False)


def section(blocks: list[dict], start: str) -> str:
    found = [b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"]["text"].startswith(start)]
    assert len(found) == 1, [b.get("text") for b in blocks]
    return found[0]


def test_week_against_the_week_before() -> None:
    text, blocks, _ = message(data())
    week = section(blocks, "*This week")
    assert "Cases opened: *12* (week before: 10, +2)" in week
    assert "Resolved: *3* (week before: 2, +1)" in week
    assert "Not resolved: *1* (week before: 2, -1)" in week
    assert "Resolution rate: *75 %* (week before: 50 %)" in week
    assert "Median time to resolve: *2 h* (week before: 2 h)" in week  # median of 1,2,5 h; of 1,3 h
    assert "12 cases opened, 3 resolved, 1 not resolved" in text


def test_arithmetic_edges() -> None:
    assert median_seconds([]) is None and median_seconds([4.0, 1.0, 10.0, 2.0]) == 3.0
    assert resolution_rate(WeekFigures()) is None and resolution_rate(WeekFigures(0, 1, 2)) == pytest.approx(1 / 3)
    _, blocks, _ = message(data(week=WeekFigures(), previous=WeekFigures()))
    week = section(blocks, "*This week")
    assert "Cases opened: *0* (week before: 0, no change)" in week
    assert f"Resolution rate: *{texts.DIGEST_NONE}*" in week and f"resolve: *{texts.DIGEST_NONE}*" in week


def test_causes_this_week_against_last_most_frequent_first() -> None:
    _, blocks, _ = message(data(causes={"ux": 2, "bug": 5}, previous_causes={"bug": 1, "support": 3}))
    causes = section(blocks, texts.DIGEST_CAUSES_TITLE).splitlines()[1:]
    assert causes == ["• A bug: *5* (week before: 1)", "• Product UX: *2* (week before: 0)",
                      "• Our support process: *0* (week before: 3)"]
    _, blocks, _ = message(data())
    assert section(blocks, "*Why customers") == texts.DIGEST_NO_CAUSES


def test_open_too_long_oldest_first_with_links_and_owner() -> None:
    listing = Listing((ref(7, days_open=9), ref(8, days_open=4)), total=2)
    _, blocks, _ = message(data(open_too_long=listing))
    lines = section(blocks, "*Cases open more than 3 days:* 2").splitlines()
    assert lines[1].startswith("• <https://x.slack.com/archives/C1/p7|Case #7> *Acme* — charged twice · open 9 days")
    assert lines[1].endswith("owner <@UOWNER>") and "Case #8" in lines[2] and len(lines) == 3


def test_private_cases_only_counted() -> None:
    secret = ref(9, visibility="private", channel="CPRIV", customer="Secret Corp", summary="hidden trouble", note="leak")
    old_row = ref(10, visibility=None, channel="COLD", customer="Old Corp")
    here = ref(11, visibility="private", channel=CHANNEL, customer="Here Ltd")  # lives in the digest channel
    listing = Listing((ref(7), secret, old_row, here), total=6, hidden=1)
    ux = Listing((secret, ref(12, note="button hidden")), total=3, hidden=1)
    _, blocks, dumped = message(data(open_too_long=listing, ux_issues=ux))
    for leak in ("Secret Corp", "hidden trouble", "CPRIV", "Case #9", "Old Corp", "COLD", "leak"):
        assert leak not in dumped
    assert "Here Ltd" in dumped and "button hidden" in dumped
    opened = section(blocks, "*Cases open more than")
    assert texts.DIGEST_HIDDEN.format(count=3) in opened  # one counted by the query, two caught here
    assert texts.DIGEST_MORE.format(count=1) in opened  # 6 - 3 hidden - 2 shown
    assert texts.DIGEST_HIDDEN.format(count=2) in section(blocks, "*UX issues")
    assert shareable(ref(1), "CX") and shareable(here, CHANNEL) and not shareable(secret, CHANNEL)


def test_user_text_is_escaped() -> None:
    nasty = ref(5, customer="<!channel> & *Bob*", summary="a <b>\nsecond line <!here>", note="<@UEVIL|x> & <!everyone>")
    nasty = CaseRef(**{**nasty.__dict__, "permalink": "javascript:alert(1)"})
    _, _, dumped = message(data(open_too_long=Listing((nasty,), 1), ux_issues=Listing((nasty,), 1)))
    assert "<!channel>" not in dumped and "<!here>" not in dumped and "<!everyone>" not in dumped
    assert "&lt;b&gt;" in dumped and "&amp;" in dumped and "\\nsecond" not in dumped
    assert "javascript:" not in dumped and "Case #5" in dumped


def test_limits_with_long_lists_and_texts() -> None:
    many = tuple(ref(n, summary="x" * 3000, customer="y" * 500, note="z" * 3000) for n in range(40))
    owners = tuple(f"U{n:010d}" for n in range(500))
    d = data(open_too_long=Listing(many, total=400), ux_issues=Listing(many, total=400),
             causes={f"cause{n}": n for n in range(300)}, overdue_follow_ups=900, overdue_owners=owners)
    text, blocks, _ = message(d)
    assert len(blocks) <= 50 and len(text) < 3000
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    opened = section(blocks, "*Cases open more than")
    assert opened.count("• ") == 10 and texts.DIGEST_MORE.format(count=390) in opened
    follow = section(blocks, "*Follow-ups more than a day overdue:* 900")
    assert "<@U0000000000>" in follow and follow.count("<@") == 20 and texts.DIGEST_MORE.format(count=480) in follow


def test_overdue_follow_ups_name_the_owners() -> None:
    _, blocks, _ = message(data(overdue_follow_ups=3, overdue_owners=("UA", "UB")))
    assert section(blocks, "*Follow-ups") == "*Follow-ups more than a day overdue:* 3 — owners: <@UA>, <@UB>"
    _, blocks, _ = message(data())
    assert section(blocks, "*Follow-ups") == "*Follow-ups more than a day overdue:* 0"


@pytest.mark.parametrize("now, key", [
    (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "2026-11-30"),  # Monday at the time: due
    (datetime(2026, 11, 30, 8, 59, tzinfo=UTC), "2026-11-23"),  # a minute early: still last week's
    (datetime(2026, 12, 6, 23, 0, tzinfo=UTC), "2026-11-30"),  # Sunday
    (datetime(2026, 12, 21, 12, 0, tzinfo=UTC), "2026-12-21"),  # three weeks later: only the latest week
])
def test_week_key_is_the_latest_scheduled_date(now: datetime, key: str) -> None:
    assert week_key(DigestSchedule(0, time(9, 0), "UTC"), now) == key


def test_week_key_uses_the_local_time_zone() -> None:
    berlin = DigestSchedule(0, time(9, 0), "Europe/Berlin")  # 09:00 in Berlin is 08:00 UTC in winter
    assert week_key(berlin, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)) == "2026-11-30"
    assert week_key(berlin, datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) == "2026-11-23"
    tokyo = DigestSchedule(6, time(23, 30), "Asia/Tokyo")  # Sunday 23:30 in Tokyo is Sunday 14:30 UTC
    assert week_key(tokyo, datetime(2026, 12, 6, 14, 30, tzinfo=UTC)) == "2026-12-06"


ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def test_digest_settings_defaults_and_values() -> None:
    config = load_config(ENV)
    assert config.digest_channel is None and config.digest_schedule == DigestSchedule(0, time(9, 0), "UTC")
    config = load_config({**ENV, "DIGEST_CHANNEL": "C0DIGEST", "DIGEST_SCHEDULE": "Fri 16:30",
                          "DIGEST_TIMEZONE": "Europe/Berlin"})
    assert config.digest_channel == "C0DIGEST"
    assert config.digest_schedule == DigestSchedule(4, time(16, 30), "Europe/Berlin")


@pytest.mark.parametrize("name, value, words", [
    ("DIGEST_CHANNEL", "#digest", ["DIGEST_CHANNEL", "not a channel ID"]),
    ("DIGEST_SCHEDULE", "monday", ["DIGEST_SCHEDULE", "e.g. mon 09:00"]),
    ("DIGEST_SCHEDULE", "fun 09:00", ["DIGEST_SCHEDULE", "'fun' is not a weekday", "mon, tue"]),
    ("DIGEST_SCHEDULE", "mon 24:00", ["DIGEST_SCHEDULE", "24:00 is not a time of day"]),
    ("DIGEST_SCHEDULE", "mon 9:75", ["DIGEST_SCHEDULE", "minutes 00-59"]),
    ("DIGEST_TIMEZONE", "Mars/Olympus", ["DIGEST_TIMEZONE", "'Mars/Olympus' is not a known IANA time zone"]),
])
def test_digest_setting_mistakes_are_one_line_each(name: str, value: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({**ENV, name: value})
    assert len(caught.value.problems) == 1
    for word in words:
        assert word in caught.value.problems[0]


def test_the_week_says_how_many_customers_left_calmer_than_they_came() -> None:
    week = WeekFigures(opened=4, resolved=3, unresolved=1, moods=(
        ("furious", {"mood": "upset", "mood_later": "calm"}), ("angry", {"mood": "calm"}),
        ("upset", {"mood": "angry"}), ("angry", {}),  # the last one has no second mood: not counted
    ))
    previous = WeekFigures(opened=2, resolved=1, unresolved=1, moods=(("angry", {"mood": "angry"}),))
    text, _, shown = message(data(week=week, previous=previous))
    line = texts.DIGEST_MOOD.format(calmer=2, measured=3, worse=1, rate="67 %", previous_rate="0 %")
    assert json.dumps(line, ensure_ascii=False)[1:-1] in shown


def test_a_week_without_moods_says_how_to_record_them() -> None:
    _, _, shown = message(data())
    assert json.dumps(texts.DIGEST_MOOD_NONE, ensure_ascii=False)[1:-1] in shown
