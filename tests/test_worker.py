"""The post-ack worker: jobs run off Bolt's threads, a slow one does not block the rest, acks go first."""

from __future__ import annotations

import threading
import time

from bot.worker import Worker


def test_jobs_run_and_drain_reports_done():
    worker = Worker(threads=4)
    seen: list[int] = []
    for i in range(20):
        worker.submit(seen.append, i)
    assert worker.drain(timeout=5)
    assert sorted(seen) == list(range(20))
    assert worker.pending == 0


def test_a_slow_job_does_not_hold_up_the_others():
    worker = Worker(threads=2)
    release = threading.Event()
    quick_done = threading.Event()
    worker.submit(release.wait, 2)  # like a Web API call sleeping through Retry-After
    worker.submit(quick_done.set)
    assert quick_done.wait(1)
    release.set()
    assert worker.drain(timeout=5)


def test_queued_work_waits_for_requests_being_answered_but_not_forever():
    worker = Worker(threads=1)
    ran_at: list[float] = []
    with worker.request():
        started = time.monotonic()
        worker.submit(lambda: ran_at.append(time.monotonic()))
        time.sleep(0.02)
        assert not ran_at  # still answering Slack: the job waits
    assert worker.drain(timeout=2)
    assert ran_at and ran_at[0] - started >= 0.02
    # A request that never ends does not starve the queue.
    late = Worker(threads=1)
    with late.request():
        t0 = time.monotonic()
        late.submit(lambda: None)
        assert late.drain(timeout=2)
        assert time.monotonic() - t0 < 1.0


def test_a_failing_job_does_not_stop_the_others(caplog):
    worker = Worker(threads=1)
    done = threading.Event()
    worker.submit(lambda: 1 / 0)
    worker.submit(done.set)
    assert worker.drain(timeout=2)
    assert done.is_set()
    assert "post-ack work failed" in caplog.text
