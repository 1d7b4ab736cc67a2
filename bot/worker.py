"""Post-ack work on a few threads of its own.

Bolt runs listeners on its thread pool and answers Slack once a listener has called ack(). If that
same thread then does the slow part (database, rendering, Web API calls), a burst of requests can
occupy every pool thread and the next request waits to be acknowledged. Listeners therefore ack,
hand the rest to this worker and return. Queued work also waits briefly while requests from Slack
are being answered (`request()`), so under a burst the acks go first and the work catches up after.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, threads: int = 4, intake_threads: int = 4):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="work")
        # Short writes that must finish before the ack (saving a case), kept apart from the slow work
        # above so a queue of Slack calls never delays them, and waited for only up to a deadline.
        self._intake = ThreadPoolExecutor(max_workers=intake_threads, thread_name_prefix="intake")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._front = 0  # requests from Slack being answered right now
        self._front_idle = threading.Condition(threading.Lock())

    @contextmanager
    def request(self) -> Iterator[None]:
        """Around answering a request from Slack: queued work waits (briefly) so the ack goes first."""
        with self._front_idle:
            self._front += 1
        try:
            yield
        finally:
            with self._front_idle:
                self._front -= 1
                if not self._front:
                    self._front_idle.notify_all()

    def _yield_to_requests(self, most: float = 0.05) -> None:
        deadline = time.monotonic() + most
        with self._front_idle:
            while self._front and time.monotonic() < deadline:
                self._front_idle.wait(max(0.0, deadline - time.monotonic()))

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
            self._yield_to_requests()
            fn(*args, **kwargs)
        except Exception:  # listeners report to the user themselves; this is the last net
            log.exception("post-ack work failed")
        finally:
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def within(self, fn: Callable[[], Any], seconds: float, on_late: Callable[[Any], None] | None = None) -> Any:
        """Run `fn` on the intake threads and wait at most `seconds`; its result, or None if it failed
        or did not finish in time. A write that had not started by then never runs; one that was
        already running and finishes later hands its result to `on_late` (so it is not left unposted)."""
        started = time.monotonic()

        def guarded() -> Any:
            if time.monotonic() - started > seconds:  # queued past its deadline: the caller gave up
                return None
            return fn()

        try:
            future = self._intake.submit(guarded)
        except RuntimeError:  # shutting down
            return None
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            if not future.cancel() and on_late is not None:
                future.add_done_callback(lambda done: self._late(done, on_late))
            log.warning("a write before the ack took longer than %.1f s; answered without it", seconds)
            return None
        except Exception:
            log.exception("a write before the ack failed")
            return None

    def _late(self, done: "Future[Any]", on_late: Callable[[Any], None]) -> None:
        if done.cancelled() or done.exception() is not None or done.result() is None:
            return
        self.submit(on_late, done.result())

    def drain(self, timeout: float) -> bool:
        """Finish queued work for up to `timeout` seconds; True if nothing is left."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
            left = self._pending
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._intake.shutdown(wait=False, cancel_futures=True)
        if left:
            log.warning("stopping with %s request(s) not finished", left)
        return not left
