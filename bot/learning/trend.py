"""The trend chart that goes with the weekly digest: cases opened and how many customers left calmer,
week by week, for the last eight weeks, where people would rather look than read.

Counts only (no case details), so it may go to any digest channel. The picture is drawn on the Slack
side (handlers/learning/chart.py); a chart that cannot be drawn or uploaded is logged and the digest
stands without it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot import texts
from bot.core import mood
from bot.core.ports import Slack, SlackFailure
from storage import digest_queries as dq
from storage.db import Database

log = logging.getLogger(__name__)
WEEKS = 8
WEEK = timedelta(days=7)
FILENAME = "defuse-trend.png"


@dataclass(frozen=True)
class TrendPoint:
    start: date  # the first day of the week (UTC)
    opened: int
    calmer: int  # closed that week, calmer than when flagged
    measured: int  # closed that week with a mood at both ends

    @property
    def calmer_share(self) -> float | None:
        return self.calmer / self.measured if self.measured else None


class DrawChart(Protocol):
    def __call__(self, points: Sequence[TrendPoint], path: Path) -> None: ...


def weekly_trend(db: Database, now: datetime, weeks: int = WEEKS) -> list[TrendPoint]:
    """The last `weeks` weeks ending at `now`, oldest first."""
    points = []
    with db.session() as session:
        for back in range(weeks, 0, -1):
            start = now - back * WEEK
            figures = dq.week_figures(session, start, start + WEEK)
            tally = mood.tally((before, mood.later_mood(resolution)) for before, resolution in figures.moods)
            points.append(TrendPoint(start.date(), figures.opened, tally.calmer, tally.measured))
    return points


class TrendChart:
    """Draw the last weeks and upload the picture to the digest channel."""

    def __init__(self, db: Database, slack: Slack, channel: str, draw: DrawChart):
        self.db, self.slack, self.channel, self.draw = db, slack, channel, draw

    def send(self, now: datetime) -> str | None:
        """Draw and upload the chart; its file id (App Home shows it too), or None."""
        points = weekly_trend(self.db, now)
        if not any(p.opened or p.measured for p in points):
            return None  # nothing happened in eight weeks: an empty chart says nothing
        try:
            with tempfile.TemporaryDirectory(prefix="defuse-chart-") as folder:
                path = Path(folder) / FILENAME
                self.draw(points, path)
                ids = self.slack.upload(self.channel, [(str(path), FILENAME)], comment=texts.DIGEST_CHART_COMMENT)
        except SlackFailure as exc:
            log.warning("the digest's trend chart was not uploaded to %s: %s", self.channel, exc.code)
            return None
        return ids[0] if ids else None
