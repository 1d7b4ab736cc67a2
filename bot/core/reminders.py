"""The reminder engine: claim due rows with a lease, deliver them, record the outcome.

Reminders are rows of our own (storage.models.Reminder). Each process runs `tick()` on an
interval; a claim is one atomic UPDATE (FOR UPDATE SKIP LOCKED on PostgreSQL), so several
processes never hold the same row. The lease is short (30 s) and renewed by a heartbeat while the
tick runs, so a process killed mid-burst leaves rows that another process claims within a minute.
Just before a send the row records `sending_at`; a later claim that finds it set knows an earlier
attempt may have reached Slack, and asks the delivery to check before sending again. The outcome of a
send is written in the same transaction as the next send's `sending_at`: one commit per reminder, and
still at most one DM of unknown fate after a crash.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.snapshot import Clock, utcnow
from storage import repositories as repo
from storage.db import Database, Session

log = logging.getLogger(__name__)


def retry_delay(attempt: int) -> timedelta:
    """Backoff after a failed send: 30 s, 2 min, 8 min, 30 min, then 2 h."""
    steps = (30, 120, 480, 1800)
    return timedelta(seconds=steps[attempt - 1] if 1 <= attempt <= len(steps) else 7200)


@dataclass(frozen=True)
class Due:
    """A claimed reminder, detached from the session."""

    id: int
    kind: str
    case_id: int | None
    recipient: str
    due_at: datetime
    attempts: int
    payload: dict[str, Any]
    dedupe_key: str
    sending_at: datetime | None  # set: an earlier attempt may have reached Slack
    maybe_sent_at: datetime | None = None  # set: an earlier answer was unclear (a 5xx, a timeout)


@dataclass(frozen=True)
class Outcome:
    """What a delivery attempt came to. Use the constructors below."""

    kind: str  # sent | retry | ratelimited | failed | defer | cancel
    error: str | None = None
    after: timedelta | None = None
    until: datetime | None = None
    channel: str | None = None
    ts: str | None = None


def sent(channel: str | None, ts: str | None) -> Outcome:
    return Outcome("sent", channel=channel, ts=ts)


def retry(error: str) -> Outcome:
    return Outcome("retry", error=error)


def ratelimited(seconds: float) -> Outcome:
    return Outcome("ratelimited", error="ratelimited", after=timedelta(seconds=max(1.0, seconds)))


def failed(error: str) -> Outcome:
    return Outcome("failed", error=error)


def defer(until: datetime) -> Outcome:
    return Outcome("defer", until=until)


def cancel(reason: str) -> Outcome:
    return Outcome("cancel", error=reason)


class Deliver(Protocol):
    def __call__(self, due: Due, now: datetime) -> Outcome: ...


@dataclass(frozen=True)
class Record:
    """An outcome waiting to be written: with the next send's start, or on its own at the end of a batch."""

    reminder_id: int
    kind: str
    fields: dict[str, Any]


@dataclass
class TickStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    cancelled: int = 0
    released: int = 0
    lost: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)



LEASE = timedelta(seconds=30)


class Heartbeat:
    """While a tick holds claimed rows, extend their leases every `seconds` on a thread of its own
    (a single send can be slow). Stops with the tick; dies with the process, so the leases run out."""

    def __init__(self, engine: ReminderEngine, now: Callable[[], datetime]):
        self.engine = engine
        self.now = now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.engine.heartbeat_seconds):
            try:
                with self.engine.db.session() as session:
                    repo.renew_leases(session, worker=self.engine.worker, until=self.now() + self.engine.lease)
            except Exception as exc:  # the next beat tries again; a lost lease is checked before every write
                log.warning("renewing reminder leases failed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReminderEngine:
    def __init__(
        self,
        db: Database,
        deliver: Deliver,
        *,
        clock: Clock = utcnow,
        worker: str | None = None,
        lease: timedelta = LEASE,
        batch: int = 50,
        max_attempts: int = 6,
        prepare: Callable[[list[Due]], None] | None = None,
    ):
        self.db = db
        self.deliver = deliver
        self.clock = clock
        self.worker = worker or worker_name()
        self.lease = lease
        self.heartbeat_seconds = lease.total_seconds() / 3  # two renewals may fail before a lease runs out
        self.batch = batch
        self.max_attempts = max_attempts
        self.prepare = prepare  # given each claimed batch before its sends, e.g. to read their cases at once
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Ask a running tick to finish the send in hand and release the rest of its claim."""
        self.stopping.set()

    def tick(self, now: datetime | None = None, *, max_rows: int | None = None) -> TickStats:
        """Send everything due at `now` (default: the clock). Safe to run in many processes at once."""
        started = time.perf_counter()
        stats = TickStats()
        fixed_now = now
        heartbeat: Heartbeat | None = None

        def lease_now() -> datetime:  # a tick run at a given `now` keeps that time base
            return fixed_now + timedelta(seconds=time.perf_counter() - started) if fixed_now else self.clock()

        try:
            while not self.stopping.is_set():
                current = fixed_now or self.clock()
                with self.db.session() as session:
                    rows = repo.claim_due(
                        session, now=current, until=current + self.lease, worker=self.worker, limit=self.batch
                    )
                    claimed = [
                        Due(r.id, r.kind, r.case_id, r.recipient, r.due_at, r.attempts, dict(r.payload or {}),
                            r.dedupe_key, r.sending_at, r.maybe_sent_at)
                        for r in rows
                    ]
                if not claimed:
                    break
                if heartbeat is None:
                    heartbeat = Heartbeat(self, lease_now)
                stats.claimed += len(claimed)
                self._prepare(claimed)
                pending: Record | None = None
                for index, due in enumerate(claimed):
                    # One send at a time: a crash leaves at most one DM whose fate is unknown, and finding
                    # out costs a conversations.history read, which Slack allows once a minute.
                    if self.stopping.is_set():
                        self._write_alone(pending, stats)
                        pending = None
                        self._release(claimed[index:], stats)
                        break
                    pending = self._one(due, fixed_now, stats, pending)
                self._write_alone(pending, stats)
                if max_rows is not None and stats.claimed >= max_rows:
                    break
                if len(claimed) < self.batch:
                    break
        finally:
            if heartbeat is not None:
                heartbeat.stop()
        stats.seconds = time.perf_counter() - started
        return stats

    def _prepare(self, claimed: list[Due]) -> None:
        if self.prepare is None:
            return
        try:
            self.prepare(claimed)
        except Exception:  # only a shortcut: each delivery can still read what it needs itself
            log.exception("preparing %s reminders failed", len(claimed))

    def _one(self, due: Due, fixed_now: datetime | None, stats: TickStats, pending: Record | None) -> Record | None:
        """Send `due`; return its outcome to be written with the next send's start (one commit per send)."""
        now = fixed_now or self.clock()
        with self.db.session() as session:  # the last outcome, then renew this lease and mark the send as started
            if pending is not None:
                self._write(session, pending, stats)
            if not repo.finish_reminder(session, due.id, self.worker, locked_until=now + self.lease, sending_at=now,
                                        locked_by=self.worker):
                stats.lost += 1
                return None
        try:
            outcome = self.deliver(due, now)
        except Exception as exc:  # a bug or an unexpected error must not lose the reminder
            log.exception("delivering reminder %s failed", due.id)
            outcome = retry(f"{type(exc).__name__}: {exc}")
        return self._record(due, outcome, fixed_now or self.clock(), stats)

    def _record(self, due: Due, outcome: Outcome, now: datetime, stats: TickStats) -> Record:
        """The row's fields after this outcome (written by the caller) and its count in the stats."""
        fields: dict[str, Any]
        if outcome.kind == "sent":
            fields = dict(status="sent", sent_at=now, dm_channel=outcome.channel, dm_ts=outcome.ts, last_error=None)
            stats.sent += 1
        elif outcome.kind == "cancel":
            fields = dict(status="cancelled", last_error=outcome.error, sending_at=None)
            stats.cancelled += 1
        elif outcome.kind == "defer":
            fields = dict(due_at=outcome.until, attempts=due.attempts - 1, sending_at=None, locked_by=None)
            stats.deferred += 1
        elif outcome.kind == "ratelimited":
            fields = dict(due_at=now + (outcome.after or timedelta(seconds=30)), attempts=due.attempts - 1,
                          sending_at=None, last_error=outcome.error, locked_by=None)
            stats.retried += 1
        elif outcome.kind == "failed" or due.attempts >= self.max_attempts:
            fields = dict(status="failed", last_error=outcome.error, sending_at=None)
            stats.failed += 1
            log.error("reminder %s (%s for %s) failed for good: %s", due.id, due.kind, due.recipient, outcome.error)
        else:
            fields = dict(due_at=now + retry_delay(due.attempts), last_error=outcome.error, sending_at=None, locked_by=None)
            stats.retried += 1
            log.warning("reminder %s attempt %s failed (%s); retrying", due.id, due.attempts, outcome.error)
        if outcome.error:
            stats.errors.append(outcome.error)
        return Record(due.id, outcome.kind, fields)

    def _write(self, session: Session, record: Record, stats: TickStats) -> None:
        if not repo.finish_reminder(session, record.reminder_id, self.worker, **record.fields):
            stats.lost += 1
            log.warning("reminder %s: lease lost before recording %s", record.reminder_id, record.kind)

    def _write_alone(self, record: Record | None, stats: TickStats) -> None:
        if record is not None:
            with self.db.session() as session:
                self._write(session, record, stats)

    def _release(self, rows: list[Due], stats: TickStats) -> None:
        with self.db.session() as session:
            for due in rows:
                if repo.finish_reminder(session, due.id, self.worker, attempts=due.attempts - 1, locked_by=None):
                    stats.released += 1


