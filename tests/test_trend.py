"""The digest's trend chart (bot/learning/trend.py, handlers/learning/chart.py): the weekly figures on
both databases, the picture, and what happens when Slack refuses it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cases import Cases
from bot.learning.trend import FILENAME, TrendChart, TrendPoint, weekly_trend
from handlers.learning.chart import draw_trend
from tests.support import Clock, FakeSlack

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHANNEL = "CDIGEST"


class KeepingSlack(FakeSlack):
    """Reads each uploaded file while it still exists (the chart's folder is gone after the upload)."""

    def __init__(self) -> None:
        super().__init__()
        self.uploaded: list[tuple[str, str, bytes, str]] = []

    def upload(self, channel: str, files: Sequence[tuple[str, str]], *, comment: str) -> list[str]:
        ids = super().upload(channel, files, comment=comment)
        self.uploaded += [(channel, name, Path(path).read_bytes(), comment) for path, name in files]
        return ids


def test_the_picture_is_a_png_with_the_weeks(tmp_path: Path) -> None:
    points = [TrendPoint(date(2026, 10, 5) + timedelta(weeks=n), opened=n + 1, calmer=n, measured=n + 1)
              for n in range(8)]
    points[2] = TrendPoint(points[2].start, opened=0, calmer=0, measured=0)  # a quiet week: no share to draw
    path = tmp_path / "chart.png"
    draw_trend(points, path)
    content = path.read_bytes()
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 5000


@pytest.mark.db
def test_weekly_figures_count_cases_opened_and_customers_left_calmer(db) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(NOW - timedelta(days=20))  # three weeks back: in the sixth of the eight weeks
    cases = Cases(db, clock=clock)
    calmer = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="a", mood="furious")
    worse = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="b", mood="calm")
    clock.advance(days=1)
    cases.close(calmer.id, user="UA", outcome="resolved", details={"fix": "f", "mood": "calm"})
    cases.close(worse.id, user="UA", outcome="unresolved", details={"explanation": "e", "mood": "angry"})
    clock.now = NOW - timedelta(days=2)
    cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="c")  # the last week: opened, not closed
    points = weekly_trend(db, NOW)
    assert [p.start for p in points] == [(NOW - timedelta(weeks=n)).date() for n in range(8, 0, -1)]
    assert [p.opened for p in points] == [0, 0, 0, 0, 0, 2, 0, 1]
    assert [(p.calmer, p.measured) for p in points][5] == (1, 2) and points[5].calmer_share == 0.5
    assert all(p.measured == 0 for i, p in enumerate(points) if i != 5)


@pytest.mark.db
def test_the_chart_goes_to_the_digest_channel_once_drawn(db) -> None:  # type: ignore[no-untyped-def]
    Cases(db, clock=Clock(NOW - timedelta(days=3))).open(team_id="T", channel_id="C1", flagged_by="UA", summary="a")
    slack = KeepingSlack()
    assert TrendChart(db, slack, CHANNEL, draw_trend).send(NOW) == slack.sent[-1].extra["file_ids"][0]
    ((channel, name, content, comment),) = slack.uploaded
    assert (channel, name) == (CHANNEL, FILENAME) and content.startswith(b"\x89PNG") and comment


@pytest.mark.db
def test_eight_quiet_weeks_send_no_chart(db) -> None:  # type: ignore[no-untyped-def]
    slack = KeepingSlack()
    assert TrendChart(db, slack, CHANNEL, draw_trend).send(NOW) is None
    assert slack.uploaded == []


@pytest.mark.db
def test_a_refused_upload_is_logged_and_the_digest_stands(db, caplog) -> None:  # type: ignore[no-untyped-def]
    Cases(db, clock=Clock(NOW - timedelta(days=3))).open(team_id="T", channel_id="C1", flagged_by="UA", summary="a")
    slack = KeepingSlack()
    slack.fail("upload", "not_in_channel")
    assert TrendChart(db, slack, CHANNEL, draw_trend).send(NOW) is None
    assert "trend chart was not uploaded" in caplog.text and "not_in_channel" in caplog.text
    assert slack.uploaded == []


@pytest.mark.db
def test_the_digest_keeps_the_charts_file_id_and_home_shows_the_latest(db) -> None:  # type: ignore[no-untyped-def]
    from bot.core.settings import DigestSchedule
    from bot.home import data as home
    from bot.learning.digest import Digest
    from handlers.home.views import home_view

    clock = Clock(NOW - timedelta(days=1))
    cases = Cases(db, clock=clock)
    cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="a")
    clock.now = NOW
    slack = KeepingSlack()
    chart = TrendChart(db, slack, CHANNEL, draw_trend)
    schedule = DigestSchedule(NOW.weekday(), (NOW - timedelta(minutes=1)).time())
    assert Digest(db, slack, CHANNEL, schedule, clock=clock, chart=chart.send).run_weekly() == "sent"
    ((_, _, content, _),) = slack.uploaded
    file_id = slack.sent[-1].extra["file_ids"][0]
    home.forget_cached()
    view = home_view(home.home_data(cases, "UA"))
    images = [b for b in view["blocks"] if b["type"] == "image"]
    assert images == [{"type": "image", "slack_file": {"id": file_id}, "alt_text": images[0]["alt_text"],
                       "title": images[0]["title"]}] and content.startswith(b"\x89PNG")
    home.forget_cached()
