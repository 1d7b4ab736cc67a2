"""The post-ack worker: jobs run off Bolt's threads, a slow one does not block the rest, acks go first."""

from __future__ import annotations

import os
import threading

import pytest

from handlers.slack.worker import Worker


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


def test_queued_work_runs_while_requests_are_being_answered():
    # No fixed pause per job: at high rates a request is almost always in flight, and a pause then
    # caps throughput. The ack goes first through the threads' lower priority instead.
    worker = Worker(threads=1)
    ran = threading.Event()
    with worker.request():
        assert worker.in_flight == 1
        worker.submit(ran.set)
        assert ran.wait(1), "queued work waited for the request to end"
    assert worker.in_flight == 0
    assert worker.drain(timeout=2)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no per-thread priorities on this system")
def test_worker_threads_run_at_a_lower_priority_than_the_threads_answering_slack():
    worker = Worker(threads=2, niceness=5)
    seen: list[int] = []
    done = threading.Event()

    def note_priority() -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        done.set()

    worker.submit(note_priority)
    assert done.wait(2)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, mine + 5)]
    assert worker.drain(timeout=2)


def test_the_queue_is_bounded_and_a_full_queue_holds_the_submitter_until_there_is_room():
    worker = Worker(threads=1, capacity=2)
    release = threading.Event()
    started = threading.Event()
    worker.submit(lambda: (started.set(), release.wait(5)))
    assert started.wait(2)
    worker.submit(lambda: None)
    worker.submit(lambda: None)  # the queue (2) is now full
    fourth_queued = threading.Event()
    submitter = threading.Thread(target=lambda: (worker.submit(lambda: None), fourth_queued.set()))
    submitter.start()
    assert not fourth_queued.wait(0.2), "submit did not block on a full queue"
    release.set()
    assert fourth_queued.wait(2)
    submitter.join(2)
    assert worker.drain(timeout=2)
    assert worker.pending == 0


def test_after_drain_new_work_runs_in_the_callers_thread():
    worker = Worker(threads=1)
    assert worker.drain(timeout=1)
    where: list[str] = []
    worker.submit(lambda: where.append(threading.current_thread().name))
    assert where == [threading.current_thread().name]


def test_a_failing_job_does_not_stop_the_others(caplog):
    worker = Worker(threads=1)
    done = threading.Event()
    worker.submit(lambda: 1 / 0)
    worker.submit(done.set)
    assert worker.drain(timeout=2)
    assert done.is_set()
    assert "post-ack work failed" in caplog.text


def test_a_job_that_queues_more_work_does_not_wait_on_a_full_queue():
    worker = Worker(threads=1, capacity=1)
    done = threading.Event()

    def fan_out() -> None:
        for _ in range(3):  # more than the queue holds, from the only worker thread
            worker.submit(lambda: None)
        done.set()

    worker.submit(fan_out)
    assert done.wait(2), "the worker deadlocked on its own full queue"
    assert worker.drain(timeout=2)
