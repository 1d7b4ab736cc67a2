"""Post-ack work on a few threads of its own.

Bolt runs listeners on its thread pool and answers Slack once a listener has called ack(). If that
same thread then does the slow part (database, rendering, Web API calls), a burst of requests can
occupy every pool thread and the next request waits to be acknowledged. Listeners therefore ack,
hand the rest to this worker and return; a few threads keep CPU-heavy work from crowding out the
threads that answer Slack.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, threads: int = 4):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="work")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self._pending += 1
        try:
            self._pool.submit(self._run, fn, args, kwargs)
        except RuntimeError:  # shutting down: do it here rather than drop it
            self._run(fn, args, kwargs)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:  # listeners report to the user themselves; this is the last net
            log.exception("post-ack work failed")
        finally:
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Finish queued work for up to `timeout` seconds; True if nothing is left."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
            left = self._pending
        self._pool.shutdown(wait=False, cancel_futures=True)
        if left:
            log.warning("stopping with %s request(s) not finished", left)
        return not left
