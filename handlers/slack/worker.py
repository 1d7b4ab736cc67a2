"""Post-ack work on a few threads of its own, at a lower priority than answering Slack.

Bolt runs listeners on its thread pool and answers Slack once a listener has called ack(). If that
same thread then does the slow part (database, rendering, Web API calls), a burst of requests can
occupy every pool thread and the next request waits to be acknowledged. Listeners therefore ack,
hand the rest to this worker and return.

Acks go first without any waiting: the worker threads ask the operating system for a lower
scheduling priority (a higher nice value, per thread on Linux), so when the CPU is short the threads
answering requests run first, and when it is not the work runs at once. A fixed pause per job would
instead cap throughput exactly when the rate is high. The queue is bounded: when it is full,
`submit` blocks the listener thread (after its ack) until there is room, so an overload slows new
work down instead of growing memory without limit.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any

from handlers.slack.heap import HeapTrimmer
from storage.sqlite import work_behind_requests

log = logging.getLogger(__name__)

Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
STOP: Any = None  # put once per thread to end it


def lower_this_threads_priority(niceness: int) -> bool:
    """Raise the calling thread's nice value (Linux applies it to the one thread); False if not possible."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
        return True
    except OSError:  # not permitted or not supported here: run at normal priority
        return False


# Room for about a minute of post-ack work at the drain rate measured on two cores (~85 cases/s), so a burst of
# 200 requests/s for half a minute never blocks an ack. A queued job holds a case snapshot and its closures
# (a few KB), so a full queue stays within tens of MB; what it holds is also saved, and a crash loses none of it.
QUEUE_CAPACITY = 5000


class Worker:
    def __init__(self, threads: int = 4, capacity: int = QUEUE_CAPACITY, niceness: int = 5, intake_threads: int = 4,
                 heap: HeapTrimmer | None = None):
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=capacity)
        # Short writes that must finish before the ack (saving a case), kept apart from the slow work
        # so a queue of Slack calls never delays them, and waited for only up to a deadline.
        self._intake = ThreadPoolExecutor(max_workers=intake_threads, thread_name_prefix="intake")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._in_flight = 0  # requests from Slack being answered right now (the worker is idle at none)
        self._closed = False
        self._niceness = niceness
        self._local = threading.local()
        # When a burst of requests and jobs is over, the memory it freed goes back to the system (heap.py).
        self.heap = heap if heap is not None else HeapTrimmer.for_this_system()
        self._threads = [
            threading.Thread(target=self._loop, name=f"work-{n}", daemon=True) for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Around answering a request from Slack. Queued work does not wait for it: priority does that."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                idle = not self._in_flight and not self._pending
            self.heap.finished(idle)

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue `fn(*args, **kwargs)`; blocks while the queue is full. From a job, or after `drain`, it runs here."""
        inline = getattr(self._local, "inside", False)  # a job queueing more work must not wait on a full queue
        with self._lock:
            inline = inline or self._closed  # shutting down: do it here rather than drop it
            if not inline:
                self._pending += 1
        if inline:
            self._call(fn, args, kwargs)
            return
        self._jobs.put((fn, args, kwargs))

    def _loop(self) -> None:
        lower_this_threads_priority(self._niceness)
        work_behind_requests()  # and on SQLite, its database turns come after those of requests
        self._local.inside = True
        while True:
            job = self._jobs.get()
            if job is None:  # STOP
                return
            try:
                self._call(*job)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._idle.notify_all()
                    idle = not self._in_flight and not self._pending
                self.heap.finished(idle)

    @staticmethod
    def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:  # listeners report to the user themselves; this is the last net
            log.exception("post-ack work failed")

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

    def _late(self, done: Future[Any], on_late: Callable[[Any], None]) -> None:
        if done.cancelled() or done.exception() is not None or done.result() is None:
            return
        self.submit(on_late, done.result())

    def drain(self, timeout: float) -> bool:
        """Finish queued work for up to `timeout` seconds, then stop the threads; True if nothing is left."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
            while self._pending and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
            left = self._pending
        self._discard_queued()
        self.heap.stop()
        self._intake.shutdown(wait=False, cancel_futures=True)
        for _ in self._threads:
            try:
                self._jobs.put_nowait(STOP)
            except queue.Full:  # a thread is stuck in a job and the queue is full: it is a daemon
                break
        if left:
            log.warning("stopping with %s request(s) not finished", left)
        return not left

    def _discard_queued(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not STOP:
                with self._lock:
                    self._pending -= 1
