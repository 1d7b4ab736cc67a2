"""Retention (`RETENTION_DAYS`): once a day, erase what identifies the customer in old cases.

For every case closed more than N days ago: the customer's name, e-mail and Slack user, the
summary, the ticket and source links, and every text typed about it (notes, attempts, step
answers, the close's fix and explanation, escalation needs and updates, handoff notes, review
texts, follow-up notes) are removed. Counts, causes, moods, outcomes, step ticks, who did what and
every timestamp stay, so the export and the team numbers keep working. The case's summary
becomes "(erased after N days)", which is what the case and its reminders show from then on.

Once per UTC day across all processes: the run is claimed by inserting a (job, day) row; a claim
never finished (the process died) is taken over after an hour.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import texts
from bot.learning.jobs import start_in_background
from storage import retention_queries as rq
from storage.db import Database

log = logging.getLogger(__name__)

JOB = "retention"
BATCH = 500
STALE_CLAIM = timedelta(hours=1)
# Keys of the JSON records (event data, step answers, resolution, escalation) that hold no free
# text: ids, fixed choices, moods and timestamps. Everything else is typed text and is erased.
KEEP_KEYS = frozenset({
    "step", "apology", "first_date", "outcome", "feedback_asked", "apologised", "mood", "mood_later", "cause",
    "severity", "expected_by", "by", "at", "channel", "ts", "fixed_by", "fixed_at",
    "handoff", "to", "from", "error", "reminder", "until", "choice", "was", "index", "of",
})


def utcnow() -> datetime:
    return datetime.now(UTC)


def scrub(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON record with its free text replaced by "(erased)" (edits of erased fields dropped)."""
    clean: dict[str, Any] = {}
    for key, value in record.items():
        if key in KEEP_KEYS:
            clean[key] = value
        elif isinstance(value, str) and value:
            clean[key] = texts.ERASED_TEXT
        elif isinstance(value, bool) or value is None:
            clean[key] = value
        # dicts and lists outside KEEP_KEYS (e.g. an edit's old and new customer) are dropped
    return clean


@dataclass(frozen=True)
class RetentionRun:
    day: str
    erased: int


class Retention:
    def __init__(self, db: Database, days: int, clock: Callable[[], datetime] = utcnow, worker: str | None = None):
        self.db = db
        self.days = days
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._checked_day: str | None = None
        self._lock = threading.Lock()

    def on_tick(self, *_: Any) -> None:
        """Called after every scheduler tick: a date compare once today is done. The run itself goes
        on a thread of its own, so the first erase of a large backlog never holds up reminders."""
        day = self.clock().astimezone(UTC).date().isoformat()
        if self._checked_day == day or self._lock.locked():
            return
        start_in_background("retention", self.run_daily)

    def run_daily(self, now: datetime | None = None) -> RetentionRun | None:
        """Erase old cases if no process has done so today (UTC). None when nothing was run here."""
        now = now or self.clock()
        day = now.astimezone(UTC).date().isoformat()
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._checked_day == day:
                return None
            with self.db.session() as session:
                claimed = rq.claim_day(session, job=JOB, day=day, worker=self.worker, now=now, stale_after=STALE_CLAIM)
            if not claimed:
                self._checked_day = day
                return None
            erased = self.erase(now)
            with self.db.session() as session:
                rq.finish_day(session, job=JOB, day=day, worker=self.worker, now=self.clock(), result={"erased": erased})
            self._checked_day = day
            if erased:
                log.info("retention: erased customer details of %s case(s) closed more than %s days ago", erased, self.days)
            return RetentionRun(day, erased)
        finally:
            self._lock.release()

    def erase(self, now: datetime) -> int:
        """Erase every case closed before now - days, in batches (short transactions). Returns how many."""
        cutoff = now - timedelta(days=self.days)
        summary = texts.ERASED_SUMMARY.format(days=self.days)
        total = 0
        while True:
            with self.db.session() as session:
                ids = rq.cases_to_erase(session, closed_before=cutoff, limit=BATCH)
                if not ids:
                    return total
                rq.erase_cases(session, ids, now=now, summary=summary, marker=texts.ERASED_TEXT, scrub=scrub)
            total += len(ids)
