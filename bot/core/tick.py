"""Runs the reminder engine's tick on a timer (APScheduler), one tick at a time per process, and whatever
must follow each tick (the sweep, the digest, retention)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.core.reminders import ReminderEngine, TickStats
from storage.errors import ConnectionLost, DatabaseError

log = logging.getLogger("bot.core.reminders")  # the tick's lines keep the engine's logger name


class TickRunner:
    """Runs the engine's tick on an APScheduler interval job, one at a time per process."""

    def __init__(self, engine: ReminderEngine, seconds: float, on_tick: Callable[[TickStats], None] | None = None):
        self.engine = engine
        self.seconds = seconds
        self.on_tick = on_tick
        self._scheduler: Any = None

    def _run(self) -> None:
        self.engine.db.work_behind_requests()  # a burst of reminders must not hold up an ack
        try:
            stats = self.engine.tick()
            if stats.claimed:
                log.info("tick: %s claimed, %s sent, %s retried, %s failed, %s deferred in %.3f s",
                         stats.claimed, stats.sent, stats.retried, stats.failed, stats.deferred, stats.seconds)
            if self.on_tick:
                self.on_tick(stats)
        except DatabaseError as exc:  # the database is down or hung: one line per tick, not a traceback
            log.warning("reminder tick: database unavailable (%s); the next tick tries again", type(exc.orig or exc).__name__
                        if isinstance(exc, ConnectionLost) else type(exc).__name__)
        except Exception:
            log.exception("reminder tick failed; the next tick tries again")

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self._run, "interval", seconds=self.seconds, id="defuse-reminder-tick", max_instances=1, coalesce=True,
            next_run_time=datetime.now().astimezone(), misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        self.engine.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
