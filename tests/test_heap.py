"""Giving freed memory back after a burst (handlers/slack/heap.py): when a trim is due, that it waits for a quiet
moment, and that glibc's malloc_trim really lowers the RSS a burst left behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from handlers.slack.heap import HeapTrimmer, glibc_trim
from handlers.slack.worker import Worker

pytestmark = pytest.mark.unit


class Trims:
    """A stand-in for malloc_trim that counts its calls and lets a test wait for one."""

    def __init__(self) -> None:
        self.calls = 0
        self.called = threading.Event()

    def __call__(self) -> int:
        self.calls += 1
        self.called.set()
        return 1


def test_no_trim_is_due_before_enough_work_or_while_work_is_going_on():
    trims = Trims()
    heap = HeapTrimmer(trims, after=3, quiet=0.01)
    assert not heap.finished(idle=True)  # one unit: not worth it yet
    assert not heap.finished(idle=False)
    assert not heap.finished(idle=False)  # enough units, but more work is queued or in flight
    assert heap.finished(idle=True)
    assert trims.called.wait(5)
    assert trims.calls == 1
    heap.stop()


def test_the_count_starts_again_after_a_trim():
    trims = Trims()
    heap = HeapTrimmer(trims, after=2, quiet=0.01)
    heap.finished(idle=False)
    assert heap.finished(idle=True)
    assert trims.called.wait(5)
    assert not heap.finished(idle=True)  # the units before the trim no longer count
    heap.stop()


def test_it_waits_for_the_burst_to_be_over_before_trimming():
    trims = Trims()
    heap = HeapTrimmer(trims, after=1, quiet=0.05)
    pauses = 0
    real_wait = heap._stopping.wait

    def busy_at_first(seconds: float) -> bool:  # work keeps finishing during the first two quiet periods
        nonlocal pauses
        pauses += 1
        if pauses <= 2:
            heap.finished(idle=False)
        return real_wait(seconds)

    heap._stopping.wait = busy_at_first  # type: ignore[method-assign]
    heap.finished(idle=True)
    assert trims.called.wait(5)
    assert pauses == 3  # two periods with work finishing, then a quiet one
    heap.stop()


def test_a_failing_trim_is_logged_and_the_thread_goes_on(caplog):
    first, second = threading.Event(), threading.Event()

    def trim() -> None:
        if not first.is_set():
            first.set()
            raise OSError("no")
        second.set()

    heap = HeapTrimmer(trim, after=1, quiet=0.01)
    heap.finished(idle=True)
    assert first.wait(5)
    heap.finished(idle=True)
    assert second.wait(5)
    assert "giving freed memory back failed" in caplog.text
    heap.stop()


def test_without_malloc_trim_nothing_is_ever_due():
    heap = HeapTrimmer(None, after=1)
    assert not heap.finished(idle=True)


def test_the_worker_reports_each_job_and_request_and_whether_it_is_idle():
    seen: list[bool] = []

    class Recording(HeapTrimmer):
        def finished(self, idle: bool) -> bool:
            seen.append(idle)
            return False

    worker = Worker(threads=1, heap=Recording(None))
    hold = threading.Event()
    started = threading.Event()
    with worker.request():
        worker.submit(lambda: (started.set(), hold.wait(5)))
        assert started.wait(5)
    # the request ended while the job was still running: not idle
    hold.set()
    assert worker.drain(timeout=5)
    assert seen == [False, True]


@pytest.mark.skipif(glibc_trim() is None, reason="this C library has no malloc_trim (not glibc)")
def test_malloc_trim_gives_back_what_a_burst_on_other_threads_left_in_their_arenas():
    # A fresh interpreter: threads allocate 60 MB of 1 KB strings (glibc's malloc, each thread its own arena)
    # and keep one in ten, so no arena's free space lies at its top and nothing is returned by itself.
    script = textwrap.dedent("""
        import threading
        from handlers.slack.heap import glibc_trim

        def rss_mb():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

        kept = []
        def burst():
            chunks = [bytes(1000) + str(n).encode() for n in range(15_000)]
            kept.extend(chunks[::10])
        threads = [threading.Thread(target=burst) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        before = rss_mb()
        glibc_trim()()
        print(before, rss_mb())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    before, after = map(float, out.stdout.split())
    assert before - after > 20, f"RSS {before:.1f} MB before the trim, {after:.1f} MB after"
