"""The posting process's own side (see handlers.slack.posting for why it exists): how it comes to be
(forked at boot, or `python app.py posting PARENT_PID`), the frames it reads, and its life until its stdin ends."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from bot.core.config import load_config
from handlers.slack.blockkit import check_views
from handlers.slack.surface import SlackSurface, make_client
from handlers.slack.worker import Worker
from storage.db import Database

log = logging.getLogger(__name__)

FRAME = struct.Struct(">I")  # a frame's length before its body
NUMBER = struct.Struct(">Q")  # a job frame's number, first in its body
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# A case's post is mostly waiting on Slack (two posts); with nothing else in this process, more of them may
# wait at once than on the app's worker.
POSTING_THREADS = 4


class ForkedChild:
    """A child forked by `fork_posting_child`, with the parts of subprocess.Popen the supervisor uses."""

    def __init__(self, pid: int, stdin_fd: int, stdout_fd: int):
        self.pid = pid
        self.stdin: IO[bytes] | None = os.fdopen(stdin_fd, "wb")
        self.stdout: IO[bytes] | None = os.fdopen(stdout_fd, "rb")
        self.returncode: int | None = None
        self._reaping = threading.Lock()  # one waitpid at a time: a pid reaped twice could be someone else's

    def poll(self) -> int | None:
        return self._reap()

    def wait(self) -> int:
        if self.returncode is None:
            try:  # wait for its end without reaping it, so that another thread's poll or wait still can
                os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
            except ChildProcessError:
                pass  # reaped by another thread already
        code = self._reap()
        assert code is not None
        return code

    def kill(self) -> None:
        with self._reaping:
            if self.returncode is None:  # not reaped yet, so its pid is still its own
                os.kill(self.pid, signal.SIGKILL)

    def _reap(self) -> int | None:
        with self._reaping:
            if self.returncode is None:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): it has ended, how is unknown
                    pid, status = self.pid, -1
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status) if status >= 0 else -1
            return self.returncode


def fork_posting_child(serve: Callable[[int], int]) -> ForkedChild | None:
    """Fork the posting process now, with `serve(this process's pid)` as its whole life; None where fork
    is not safe to use this way (off Linux) or failed, and the supervisor starts a fresh one instead.
    Call it before this process starts a thread: a fork copies only the calling thread, so a lock another
    thread held would stay held in the child for ever."""
    if not sys.platform.startswith("linux"):
        return None
    jobs_read, jobs_write = os.pipe()
    ready_read, ready_write = os.pipe()
    _flush_standard_streams()  # or the child would write out the parent's buffered output a second time
    gc.freeze()  # the collector would otherwise write to every shared object, and copy its page
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        log.exception("could not fork the posting process; it is started fresh instead")
        for fd in (jobs_read, jobs_write, ready_read, ready_write):
            os.close(fd)
        return None
    if pid == 0:
        _become_child(lambda: serve(parent), jobs_read, ready_write, (jobs_write, ready_read))
    os.close(jobs_read)
    os.close(ready_write)
    return ForkedChild(pid, jobs_write, ready_read)


def _become_child(serve: Callable[[], int], stdin_fd: int, stdout_fd: int, parents: tuple[int, ...]) -> None:
    """The forked child's whole life: its pipes as stdin and stdout, `serve`, and out without ever
    returning into the app's code (os._exit skips the app's exit handlers too)."""
    code = 1
    try:
        for fd in parents:
            os.close(fd)
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
        os.close(stdin_fd)
        os.close(stdout_fd)
        code = serve()
    except BaseException:
        log.exception("the posting process failed")
    finally:
        try:
            _flush_standard_streams()
        finally:
            os._exit(code)


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None when Python was started without them
            stream.flush()


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent ends, so a crash of the app is a crash of both.
    Elsewhere the end of stdin stops it instead (after its queue)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent ended before the request took effect
        os._exit(0)


def ignore_stop_signals() -> None:
    """Ctrl-C and a SIGTERM to the whole group reach the child too; the parent decides when it stops."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def serve_posting(parent_pid: int, wire: Callable[..., tuple[Any, Any, Any]]) -> int:
    """The posting process (forked at boot, or `python app.py posting PARENT_PID`): the same environment
    and wiring (app.wire), no listener and no scheduler; it ends when its stdin does, after its queue."""
    die_with_parent(parent_pid)
    ignore_stop_signals()
    jobs = open(0, "rb", closefd=False)  # noqa: SIM115 - fd 0 is the app's pipe, whatever sys.stdin is
    setup = read_frame(jobs)  # the workspace's URL, sent once the app has migrated the database
    if setup is None:  # the app stopped before it got that far
        return 0
    config = load_config(os.environ)
    logging.basicConfig(level=config.log_level, stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s posting %(name)s: %(message)s")
    check_views(False)  # as in the app: the tests render every view with slack_sdk's checks
    db = Database(config.database_url)
    worker = Worker(threads=POSTING_THREADS)
    slack = SlackSurface(make_client(config.bot_token, config.api_url), workspace_url=setup.decode() or None)
    quick = SlackSurface(make_client(config.bot_token, config.api_url, timeout=5, retries=False))
    services, _sweep, _sender = wire(config, db, slack, quick, worker)
    out = open(1, "w", closefd=False)  # noqa: SIM115 - fd 1 is the app's pipe
    say_ready(services.publisher.me, out)
    serve_jobs(services, jobs, worker, Finished(out))
    worker.drain(timeout=6.0)
    db.dispose()
    return 0


def say_ready(name: str, out: IO[str]) -> None:
    out.write(f"ready {name}\n")
    out.flush()


class Finished:
    """Tells the parent a numbered job has finished (`done N`), so it does not run it again itself, or that
    this process could not even load it (`again N`), so the parent runs it with its own code."""

    def __init__(self, out: IO[str]):
        self._out = out
        self._lock = threading.Lock()  # one line at a time from the worker's threads

    def __call__(self, job: int, ran: bool = True) -> None:
        with self._lock:
            self._out.write(f"{'done' if ran else 'again'} {job}\n")
            self._out.flush()


def serve_jobs(services: Any, jobs: IO[bytes], worker: Worker, finished: Callable[[int, bool], None] | None = None
               ) -> int:
    """Run each job the parent sends on this process's worker, until stdin ends; how many were queued.
    A numbered job is reported to `finished` once it has run, whether it succeeded or not.

    A frame waits in the queue as the bytes it came in and is unpickled only when a worker thread takes it:
    a burst queues thousands of jobs here, and as bytes they take a third of the memory of the snapshots
    they become, which the allocator would keep for good once the burst has drained."""
    queued = 0
    while (body := read_frame(jobs)) is not None:
        worker.submit(run_frame, services, body, finished)
        queued += 1
    return queued


def job_frame(fn: Callable[..., Any], args: tuple[Any, ...], number: int | None) -> bytes:
    """A job as the parent writes it: its number (0: not tracked) ahead of the pickle, so that the child can
    hand it back even if the pickle cannot be loaded (a child started after the code on disk changed)."""
    return NUMBER.pack(number or 0) + pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)


def frame_job(body: bytes) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    fn, args = pickle.loads(memoryview(body)[NUMBER.size:])  # from our own parent, over a pipe nobody else holds
    return fn, args


def run_frame(services: Any, body: bytes, finished: Callable[[int, bool], None] | None) -> None:
    (number,) = NUMBER.unpack_from(body)
    try:
        fn, args = frame_job(body)
    except Exception:
        if number and finished is not None:
            finished(number, False)  # the parent still has the code it pickled: it runs the job itself
        raise
    try:
        fn(services, *args)
    finally:  # a job that failed here would fail the same way in the parent: it is not run again
        if number and finished is not None:
            finished(number, True)


def write_frame(stream: IO[bytes], body: bytes) -> None:
    stream.write(FRAME.pack(len(body)) + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's body; None at the end of the stream, or if the writer died mid-frame."""
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    (size,) = FRAME.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None
