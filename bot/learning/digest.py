"""The weekly learning digest posted to DIGEST_CHANNEL at DIGEST_SCHEDULE (in DIGEST_TIMEZONE).

`build_digest` turns plain data (storage.digest_queries.DigestData) into a Block Kit message; it
never shows a case's details (customer, summary, link, owner) unless the case is public or lives in
the digest channel itself: other cases are only counted.

`Digest` runs from the scheduler's tick. Once per week across processes: the run claims a job_runs
row keyed by this week's scheduled local date (`claim_day`), so after a downtime of several weeks
only the latest week's digest goes out. A post Slack certainly refused (`ok: false`, 429) is retried
on a later tick the same week; after a 5xx or a timeout it is not, because Slack may have posted it
and two digests are worse than none (the failure is logged and kept in the row). A claim whose
process died is not taken over within the week, for the same reason.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.ports import Message, Posted, Slack, SlackFailure, tag
from bot.core.settings import DigestSchedule
from bot.learning.digest_message import LIST_LIMIT, OPEN_TOO_LONG, OWNERS_LIMIT, WEEK, build_digest
from bot.learning.jobs import start_in_background
from storage import digest_queries as dq
from storage import retention_queries as rq
from storage.db import Database

log = logging.getLogger(__name__)

JOB = "digest"
FOLLOW_UP_GRACE = timedelta(days=1)
STALE_CLAIM = WEEK  # a claim left by a dead process is never taken over within its week
RETRY_AFTER = timedelta(minutes=10)  # after Slack refused the post: try again this much later
BUSY_RECHECK = timedelta(seconds=10)  # another process holds the claim: look again this much later


def utcnow() -> datetime:
    return datetime.now(UTC)


def collect(db: Database, now: datetime, channel: str) -> dq.DigestData:
    """Everything the digest shows, in one short read transaction."""
    with db.session() as session:
        count, owners = dq.overdue_follow_ups(session, now - FOLLOW_UP_GRACE, 10 * OWNERS_LIMIT)
        return dq.DigestData(
            now=now,
            week=dq.week_figures(session, now - WEEK, now),
            previous=dq.week_figures(session, now - 2 * WEEK, now - WEEK),
            causes=dq.cause_counts(session, now - WEEK, now),
            previous_causes=dq.cause_counts(session, now - 2 * WEEK, now - WEEK),
            ux_issues=dq.ux_issues(session, now - WEEK, now, channel, LIST_LIMIT),
            open_too_long=dq.open_too_long(session, now - OPEN_TOO_LONG, channel, LIST_LIMIT),
            overdue_follow_ups=count,
            overdue_owners=owners,
        )


# --- schedule ---------------------------------------------------------------------------------
def week_key(schedule: DigestSchedule, now: datetime) -> str:
    """The local date of the latest scheduled moment at or before `now`: one key per digest week."""
    local = now.astimezone(schedule.zone)
    day = local.date() - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    due = datetime.combine(day, schedule.at, tzinfo=schedule.zone)
    if due > local:
        day -= WEEK
    return day.isoformat()


class Digest:
    def __init__(self, db: Database, slack: Slack, channel: str, schedule: DigestSchedule,
                 clock: Callable[[], datetime] = utcnow, worker: str | None = None,
                 chart: Callable[[datetime], str | None] | None = None):
        self.db = db
        self.slack = slack
        self.channel = channel
        self.schedule = schedule
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._done_week: str | None = None
        self._quiet_until: datetime | None = None
        self._lock = threading.Lock()
        self.chart = chart  # sends the trend chart after the digest (bot.learning.trend)

    def on_tick(self, *_: Any) -> None:
        """After every scheduler tick: a compare once this week is done; the run gets its own thread."""
        now = self.clock()
        if self._done_week == week_key(self.schedule, now) or self._lock.locked():
            return
        if self._quiet_until is not None and now < self._quiet_until:
            return
        start_in_background("digest", self.run_weekly)

    def run_weekly(self, now: datetime | None = None) -> str | None:
        """Post this week's digest unless a process already has. Returns what happened here:
        "sent", "retry" (Slack refused; a later tick tries again), "failed" (maybe posted: no retry),
        or None (nothing to do here)."""
        now = now or self.clock()
        week = week_key(self.schedule, now)
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._done_week == week:
                return None
            with self.db.session() as session:
                claimed = rq.claim_day(session, job=JOB, day=week, worker=self.worker, now=now, stale_after=STALE_CLAIM)
                row = None if claimed else dq.job_row(session, JOB, week)
            if row is not None:
                self._note_taken(week, row, now)
                return None
            return self._send(week, now)
        finally:
            self._lock.release()

    def _note_taken(self, week: str, row: Any, now: datetime) -> None:
        """Another process has the week: done, waiting to retry after Slack refused it, or posting now."""
        if row.finished_at is not None:
            log.info("digest for the week of %s: already posted (or given up) by a process; nothing to do", week)
            self._done_week = week
        elif (row.result or {}).get("retry"):
            self._quiet_until = row.claimed_at + STALE_CLAIM
        else:
            self._quiet_until = now + BUSY_RECHECK

    def _send(self, week: str, now: datetime) -> str:
        try:
            text, blocks = build_digest(collect(self.db, now, self.channel), self.channel, self.schedule.tz)
        except Exception as exc:
            log.exception("digest for the week of %s could not be built; retrying later", week)
            return self._release(week, now, type(exc).__name__)
        try:
            posted = self._post(week, Message(text, blocks))
        except SlackFailure as exc:
            if not exc.ambiguous:  # Slack answered and said no (or was never reached): nothing was posted
                log.warning("digest for the week of %s: Slack refused it (%s); retrying later", week, exc.code)
                return self._release(week, now, exc.code)
            return self._give_up(week, exc.code)  # a 5xx or a timeout: Slack may have posted it
        self._finish(week, {"channel": posted.channel, "ts": posted.ts})
        log.info("digest for the week of %s posted to %s", week, self.channel)
        self._send_chart(week, now)
        return "sent"

    def _send_chart(self, week: str, now: datetime) -> None:
        """The picture goes with the digest (and on App Home); the digest stands without it."""
        if self.chart is None:
            return
        try:
            file_id = self.chart(now)
            if file_id:
                with self.db.session() as session:
                    dq.note_chart(session, job=JOB, day=week, file_id=file_id)
                log.info("trend chart %s of the week of %s is on App Home", file_id, week)
        except Exception:
            log.exception("the digest's trend chart failed; the digest itself went out")

    def _post(self, week: str, message: Message) -> Posted:
        marker = tag("digest", week=week)
        try:
            return self.slack.post(self.channel, message, tag=marker)
        except SlackFailure as exc:  # a refusal: nothing was posted, so joining and posting again is safe
            if exc.ambiguous or exc.code not in ("not_in_channel", "channel_not_found") or not self.slack.join(self.channel):
                raise
            log.info("joined %s to post the weekly digest", self.channel)
        return self.slack.post(self.channel, message, tag=marker)

    def _release(self, week: str, now: datetime, error: str) -> str:
        """Keep the failure in the row and make the claim stale RETRY_AFTER from now, so a tick retries."""
        with self.db.session() as session:
            dq.record_retry(session, job=JOB, day=week, worker=self.worker, error=error,
                            claimed_at=now - STALE_CLAIM + RETRY_AFTER)
        self._quiet_until = now + RETRY_AFTER
        return "retry"

    def _give_up(self, week: str, error: str) -> str:
        log.error("digest for the week of %s: the post to %s failed (%s) and Slack may have taken it; "
                  "not retrying this week, so it is never posted twice", week, self.channel, error)
        self._finish(week, {"error": error, "uncertain": True})
        return "failed"

    def _finish(self, week: str, result: dict[str, Any]) -> None:
        with self.db.session() as session:
            rq.finish_day(session, job=JOB, day=week, worker=self.worker, now=self.clock(), result=result)
        self._done_week = week

