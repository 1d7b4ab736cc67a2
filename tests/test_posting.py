"""The posting process's parts (handlers/slack/posting.py): the job pipe, where a job runs, and the supervisor
with a real child process. The intake listeners' hand-over is in tests/handlers/test_intake_listeners.py."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handlers.slack.posting import Posting, PostingProcess
from handlers.slack.posting_child import FRAME, job_frame, run_frame, serve_jobs

ROOT = Path(__file__).resolve().parent.parent


def eventually(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


class Recorder:
    """A worker that notes what it is given."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Any, tuple[Any, ...]]] = []

    def submit(self, fn: Any, *args: Any) -> None:
        self.jobs.append((fn, args))


def frames(*jobs: tuple[Any, ...]) -> bytes:
    """Frames of (fn, args) jobs, or (fn, args, number) for numbered ones."""
    out = b""
    for job in jobs:
        body = job_frame(job[0], job[1], job[2] if len(job) == 3 else None)
        out += FRAME.pack(len(body)) + body
    return out


# --- the pipe ---------------------------------------------------------------------------------------
RAN: list[tuple[Any, Any]] = []  # what `note` was called with (a job's function must be importable to be pickled)


def note(services: Any, value: Any) -> None:
    RAN.append((services, value))


class Running(Recorder):
    """A worker that runs each job at once."""

    def submit(self, fn: Any, *args: Any) -> None:
        super().submit(fn, *args)
        fn(*args)


def test_serve_jobs_runs_each_frame_with_its_services_until_the_pipe_ends() -> None:
    RAN.clear()
    stream = io.BytesIO(frames((note, ({"a": 1},)), (note, ("[2]",))))
    assert serve_jobs("services", stream, Running()) == 2  # type: ignore[arg-type]
    assert RAN == [("services", {"a": 1}), ("services", "[2]")]


def test_a_queued_job_waits_as_its_bytes_and_is_unpickled_only_when_run() -> None:
    RAN.clear()
    worker = Recorder()
    body = job_frame(note, ({"customer": "x" * 500},), None)
    assert serve_jobs("services", io.BytesIO(FRAME.pack(len(body)) + body), worker) == 1  # type: ignore[arg-type]
    assert worker.jobs == [(run_frame, ("services", body, None))] and RAN == []
    fn, args = worker.jobs[0]
    fn(*args)
    assert RAN == [("services", {"customer": "x" * 500})]


def test_serve_jobs_drops_a_frame_cut_short_by_the_parent_dying() -> None:
    RAN.clear()
    whole = frames((note, (1,)), (note, (2,)))
    assert serve_jobs(None, io.BytesIO(whole[:-3]), Running()) == 1  # type: ignore[arg-type]
    assert RAN == [(None, 1)]


def fails(services: Any, what: str) -> None:
    raise RuntimeError(what)


def quiet(services: Any, what: Any) -> None:
    pass


def test_a_numbered_job_is_reported_finished_once_it_has_run_even_if_it_failed() -> None:
    finished: list[tuple[int, bool]] = []
    stream = io.BytesIO(frames((quiet, (1,)), (quiet, (2,), 7), (fails, ("boom",), 8)))
    worker = Running()
    with pytest.raises(RuntimeError, match="boom"):  # the worker here lets it through; the real one logs it
        serve_jobs("services", stream, worker, lambda job, ran: finished.append((job, ran)))  # type: ignore[arg-type]
    assert finished == [(7, True), (8, True)]
    assert len(worker.jobs) == 3


def test_a_numbered_job_whose_pickle_cannot_be_loaded_is_handed_back() -> None:
    # As in a child started after the code on disk changed: the parent, which has the code it pickled, runs it.
    finished: list[tuple[int, bool]] = []
    good = job_frame(quiet, (1,), 5)
    broken = good.replace(b"quiet", b"gone!")  # a function this module does not have
    worker = Running()
    with pytest.raises(AttributeError, match="gone!"):
        serve_jobs("services", io.BytesIO(FRAME.pack(len(broken)) + broken), worker,  # type: ignore[arg-type]
                   lambda job, ran: finished.append((job, ran)))
    assert finished == [(5, False)]


# --- where a job runs ---------------------------------------------------------------------------------
class StubProcess:
    def __init__(self, holder: str | None, accepts: bool) -> None:
        self.holder = holder
        self.accepts = accepts
        self.sent: list[tuple[str, Any, tuple[Any, ...]]] = []

    def send(self, holder: str, fn: Any, args: tuple[Any, ...]) -> bool:
        self.sent.append((holder, fn, args))
        return self.accepts


def test_without_a_holder_the_job_runs_on_this_process_worker() -> None:
    worker, process = Recorder(), StubProcess("h:1:t", accepts=True)
    posting = Posting(worker, process)  # type: ignore[arg-type]
    posting.run(None, "services", json.dumps, 1)
    assert worker.jobs == [(json.dumps, ("services", 1))] and process.sent == []


def test_a_case_leased_to_the_posting_process_goes_there_and_never_runs_here_too() -> None:
    worker, process = Recorder(), StubProcess("h:1:t", accepts=True)
    posting = Posting(worker, process)  # type: ignore[arg-type]
    assert posting.holder() == "h:1:t"
    posting.run("h:1:t", "services", json.dumps, 1)
    assert process.sent == [("h:1:t", json.dumps, (1,))] and worker.jobs == []


def test_a_job_the_dead_posting_process_cannot_take_is_left_to_the_sweep(caplog: pytest.LogCaptureFixture) -> None:
    # Its case is leased to the dead process: posting it here would only meet that lease ("busy").
    worker, process = Recorder(), StubProcess(None, accepts=False)
    Posting(worker, process).run("h:1:t", "services", json.dumps, 1)  # type: ignore[arg-type]
    assert worker.jobs == [] and "the sweep finishes" in caplog.text


# --- the supervisor, with a real child --------------------------------------------------------------------
CHILD = """
import os, sys
sys.path.insert(0, {root!r})
from handlers.slack.posting_child import frame_job, read_frame, say_ready, serve_jobs
out = open({out!r}, "a")
class Worker:
    def submit(self, run, services, body, finished):  # the frame, as it came: unpickled here to show what it is
        fn, args = frame_job(body)
        out.write(repr((fn.__name__, services, args)) + "\\n"); out.flush()
out.write("setup " + read_frame(sys.stdin.buffer).decode() + "\\n"); out.flush()
say_ready(f"host:{{os.getpid()}}:tok", sys.stdout)
serve_jobs("child", sys.stdin.buffer, Worker())
out.write("eof\\n"); out.flush()
"""


@pytest.fixture
def child(tmp_path: Path) -> tuple[list[str], Path]:
    out = tmp_path / "jobs.txt"
    out.touch()
    return [sys.executable, "-c", CHILD.format(root=str(ROOT), out=str(out))], out


def test_the_child_takes_jobs_once_ready_and_finishes_when_its_stdin_closes(child: tuple[list[str], Path]) -> None:
    command, out = child
    lost: list[int] = []
    process = PostingProcess(command, on_lost=lambda: lost.append(1), workspace_url="https://acme.slack.com/")
    process.start()
    holder = eventually(lambda: process.holder)
    assert holder == f"host:{process.pid}:tok"
    assert out.read_text().splitlines()[0] == "setup https://acme.slack.com/"  # before it said it was ready
    assert process.send(holder, json.dumps, ([1, 2],))
    assert not process.send("host:1:other", json.dumps, (3,))  # a child that is not this one any more
    assert eventually(lambda: "('dumps', 'child', ([1, 2],))" in out.read_text())
    assert process.stop(timeout=10)
    assert out.read_text().splitlines()[-1] == "eof" and lost == []  # it ended by itself, not by a kill
    assert process.holder is None


def test_a_child_that_dies_is_reported_and_replaced(child: tuple[list[str], Path]) -> None:
    command, _ = child
    lost: list[int] = []
    process = PostingProcess(command, on_lost=lambda: lost.append(1), restart_after=0.05)
    process.start()
    first = eventually(lambda: process.holder)
    first_pid = process.pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    second = eventually(lambda: (h := process.holder) and h != first and h)
    assert second and lost == [1]
    assert not process.send(first, json.dumps, (1,))  # a case given to the dead one is the sweep's
    assert process.stop(timeout=10)


def test_a_child_that_never_gets_ready_is_retried_and_never_given_jobs(tmp_path: Path) -> None:
    lost: list[int] = []
    process = PostingProcess([sys.executable, "-c", "import sys; sys.exit(3)"], on_lost=lambda: lost.append(1),
                             restart_after=0.05)
    process.start()
    assert eventually(lambda: len(lost) >= 2)
    assert process.holder is None
    assert process.stop(timeout=10)


# --- the first child, forked at boot -----------------------------------------------------------------
FORKING = """
import json, os, sys
sys.path.insert(0, {root!r})
from handlers.slack.posting import PostingProcess
from handlers.slack.posting_child import fork_posting_child, frame_job, read_frame, say_ready, serve_jobs
class Worker:
    def submit(self, run, services, body, finished):
        fn, args = frame_job(body)
        print("job", fn(*args), file=sys.stderr, flush=True)
def serve(parent):
    assert parent == os.getppid()
    setup = read_frame(open(0, "rb", closefd=False)).decode()
    print("child", os.getpid(), "setup", setup, file=sys.stderr, flush=True)
    say_ready(f"host:{{os.getpid()}}:tok", open(1, "w", closefd=False))
    return 7 if serve_jobs("child", open(0, "rb", closefd=False), Worker()) == 1 else 0
child = fork_posting_child(serve)
print("after fork in", os.getpid(), file=sys.stderr, flush=True)  # the child must never get here
process = PostingProcess([sys.executable, "-c", "raise SystemExit(5)"], on_lost=lambda: None,
                         workspace_url="https://acme.slack.com/")
process.start(child)
while process.holder is None:
    pass
assert process.pid == child.pid and process.send(process.holder, len, ("abc",))
process.close()
print("exit", child.wait(), file=sys.stderr, flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the posting process is forked only on Linux")
def test_the_forked_first_child_runs_only_its_job_and_is_adopted_by_the_supervisor(tmp_path: Path) -> None:
    script = tmp_path / "forking.py"
    script.write_text(FORKING.format(root=str(ROOT)))
    import subprocess

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    lines = done.stderr.splitlines()
    assert done.returncode == 0, done.stderr
    child_pid = next(line.split()[1] for line in lines if line.startswith("child "))
    assert f"child {child_pid} setup https://acme.slack.com/" in lines
    assert lines.count(f"after fork in {child_pid}") == 0 and f"after fork in {child_pid}" not in done.stderr
    assert len([line for line in lines if line.startswith("after fork in")]) == 1  # the parent only
    assert "job 3" in lines  # len("abc"), run in the child
    assert lines[-1] == "exit 7"  # it took one job, then ended at the end of its stdin, with serve's code


TRACKING = """
import os, sys
sys.path.insert(0, {root!r})
from handlers.slack.posting_child import Finished, read_frame, say_ready, serve_jobs
jobs = sys.stdin.buffer
read_frame(jobs)
class Worker:
    def submit(self, run, services, body, finished):
        if b"stuck" not in body:  # a job given "stuck" never gets to run, nor to be reported
            try:
                run(services, body, finished)
            except Exception:
                pass  # as the real worker, which logs it and goes on
out = open(1, "w", closefd=False)
say_ready(f"host:{{os.getpid()}}:tok", out)
serve_jobs("child", jobs, Worker(), Finished(out))
"""


def test_a_tracked_job_the_child_never_finished_runs_here_once_when_it_dies() -> None:
    lost: list[int] = []
    process = PostingProcess([sys.executable, "-c", TRACKING.format(root=str(ROOT))],
                             on_lost=lambda: lost.append(1), restart_after=0.05)
    process.start()
    first = eventually(lambda: process.holder)
    ran_here: list[str] = []
    assert process.send_tracked(os.path.join, ("a",), lambda: ran_here.append("a"))
    assert process.send_tracked(os.path.join, ("stuck",), lambda: ran_here.append("stuck"))
    assert eventually(lambda: process.unfinished == 1)  # "a" was reported finished
    pid = process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: ran_here == ["stuck"] and lost == [1])
    assert eventually(lambda: (h := process.holder) and h != first)  # a new child takes tracked jobs again
    assert process.unfinished == 0
    assert process.stop(timeout=10)
    assert ran_here == ["stuck"]


def test_a_tracked_job_the_child_cannot_load_runs_here_once() -> None:
    only_here = types.ModuleType("defuse_only_in_this_process")  # the child cannot import it
    exec("def job(services, what):\n    pass", only_here.__dict__)
    sys.modules[only_here.__name__] = only_here
    lost: list[int] = []
    process = PostingProcess([sys.executable, "-c", TRACKING.format(root=str(ROOT))],
                             on_lost=lambda: lost.append(1), restart_after=0.05)
    process.start()
    try:
        first = eventually(lambda: process.holder)
        ran_here: list[str] = []
        assert process.send_tracked(only_here.job, ("x",), lambda: ran_here.append("x"))
        assert eventually(lambda: ran_here == ["x"] and process.unfinished == 0)
        assert process.send_tracked(os.path.join, ("a",), lambda: ran_here.append("a"))  # the same child goes on
        assert eventually(lambda: process.unfinished == 0)
        assert process.holder == first and lost == []
    finally:
        assert process.stop(timeout=10)
        del sys.modules[only_here.__name__]
    assert ran_here == ["x"]


def test_a_tracked_job_is_refused_while_no_child_is_ready() -> None:
    process = PostingProcess([sys.executable, "-c", "raise SystemExit(3)"], on_lost=lambda: None)
    assert not process.send_tracked(os.path.join, ("a",), lambda: None)
