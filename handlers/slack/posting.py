"""Posting newly saved cases from a second process, so that answering Slack has an interpreter to itself.

One Python process runs Python code on one core at a time (the GIL). Under a burst of `/angry`, the work
after each ack (rendering Block Kit, three Web API calls, three transactions) took the interpreter from
the threads answering Slack: acks waited, and the app stopped at about 100 cases/s with a core idle.
So the app starts one child, `python app.py posting PARENT_PID WORKSPACE_URL`, and hands it each case it
has just saved (the intake listeners' `post_command_case` and `post_form_case`).

- The delivery lease says who posts a case. The intake saves a case leased to the child when the child
  is ready (`Posting.holder`), and to this process otherwise, which then posts it itself, as before.
- A job is a module-level function and its arguments, pickled onto the child's stdin, so the child runs
  the very code this process would have run.
- The child dies with this process (PR_SET_PDEATHSIG on Linux), so a `kill -9` leaves what any crash
  leaves: cases leased to a process that is gone, which the next run's sweep finishes, telling the agents.
- If the child dies alone, this process reaps it, runs the sweep (which releases a dead holder's leases at
  once, bot.delivery.sweep) and starts another; meanwhile it posts new cases itself.
- On shutdown the child's stdin is closed: it finishes its queue for up to 6 s, as the worker here does.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from bot.core.config import load_config
from handlers.slack.blockkit import check_views
from handlers.slack.surface import SlackSurface, make_client
from handlers.slack.worker import Worker
from storage.db import Database

log = logging.getLogger(__name__)

FRAME = struct.Struct(">I")  # a job's length before its pickle
RESTART_AFTER = 1.0  # seconds before starting the child again; doubles while it keeps dying, up to a minute
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# A case's post is mostly waiting on Slack (two posts); with nothing else in this process, more of them may
# wait at once than on the app's worker.
POSTING_THREADS = 4


class PostingProcess:
    """The child as seen from the app: started and restarted by one supervisor thread."""

    def __init__(self, command: list[str], on_lost: Callable[[], None], *, restart_after: float = RESTART_AFTER):
        self._command = command
        self._on_lost = on_lost  # the child died on its own: let the sweep take what it held
        self._restart_after = restart_after
        self._lock = threading.Lock()  # one frame at a time on the pipe; guards _proc and _holder
        self._proc: subprocess.Popen[bytes] | None = None
        self._holder: str | None = None
        self._stopping = threading.Event()
        # The child's death signal follows the thread that started it, so one long-lived thread starts them all.
        self._thread = threading.Thread(target=self._supervise, name="posting-supervisor", daemon=True)

    @property
    def holder(self) -> str | None:
        """The child's lease name while it is ready to take jobs, else None."""
        return self._holder

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def start(self) -> None:
        self._thread.start()

    def send(self, holder: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        """Hand `fn(services, *args)` to the child named `holder`; False if that child is gone.
        Blocks while the child's queue and the pipe are full, as the worker here does."""
        frame = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None or holder != self._holder:
                return False
            try:
                proc.stdin.write(FRAME.pack(len(frame)) + frame)
                proc.stdin.flush()
                return True
            except (OSError, ValueError):  # its end of the pipe is closed: it died
                self._holder = None
                return False

    def close(self) -> None:
        """Take no more jobs and close the child's stdin: it finishes its queue and ends."""
        self._stopping.set()
        if self._lock.acquire(timeout=1.0):  # else a send is stuck on a full pipe: stop() kills the child
            try:
                self._holder = None
                if self._proc is not None and self._proc.stdin is not None:
                    _close_quietly(self._proc.stdin)
            finally:
                self._lock.release()

    def stop(self, timeout: float) -> bool:
        """`close`, then wait up to `timeout` for the child to end, killing it after; True if it ended."""
        deadline = time.monotonic() + timeout
        self.close()
        if self._thread.is_alive():
            self._thread.join(max(0.0, deadline - time.monotonic()))
        proc = self._proc
        if proc is not None and proc.poll() is None:
            log.warning("the posting process did not finish in time; stopping it (the sweep finishes its cases)")
            proc.kill()
            return False
        return True

    def _supervise(self) -> None:
        delay = self._restart_after
        while not self._stopping.is_set():
            started = time.monotonic()
            self._run_one()
            if self._stopping.is_set():
                return
            log.warning("the posting process stopped; this process posts new cases until another is ready")
            self._on_lost()
            if time.monotonic() - started > 60:
                delay = self._restart_after  # it had been running well: a single failure
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, 60.0)

    def _run_one(self) -> None:
        try:
            proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError:
            log.exception("could not start the posting process")
            return
        with self._lock:
            self._proc = proc
            if self._stopping.is_set() and proc.stdin is not None:  # stopped while it was being started
                _close_quietly(proc.stdin)
        assert proc.stdout is not None
        word, _, name = proc.stdout.readline().decode(errors="replace").strip().partition(" ")
        if word == "ready" and name:
            with self._lock:
                if not self._stopping.is_set():
                    self._holder = name
            log.info("posting process %s is ready", proc.pid)
        proc.wait()
        with self._lock:
            self._holder = None
        _close_quietly(proc.stdout)


class Posting:
    """Where the post of a newly saved case runs: in the posting process while it is ready, else here."""

    def __init__(self, worker: Worker, process: PostingProcess | None = None):
        self.worker = worker
        self.process = process

    def holder(self) -> str | None:
        """Whom to lease a case to before saving it: the posting process, or None for this process."""
        return self.process.holder if self.process is not None else None

    def run(self, holder: str | None, services: Any, fn: Callable[..., Any], *args: Any) -> None:
        """`fn(services, *args)` for a case saved leased to `holder`: on the worker here when None."""
        if holder is None or self.process is None:
            self.worker.submit(fn, services, *args)
            return
        try:
            sent = self.process.send(holder, fn, args)
        except Exception:  # a job that cannot be pickled is a bug; its case waits for its lease to expire
            log.exception("could not hand %s to the posting process", getattr(fn, "__name__", fn))
            return
        if not sent:  # it died holding the case: the sweep posts it once it is reaped, and tells the agent
            log.warning("the posting process is gone; the sweep finishes the case it was given")


# --- the child's side -----------------------------------------------------------------------------
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


def serve_posting(argv: list[str], wire: Callable[..., tuple[Any, Any, Any]]) -> int:
    """`python app.py posting PARENT_PID WORKSPACE_URL`: the same environment and wiring (app.wire), no
    listener and no scheduler; it ends when its stdin does, after finishing its queue."""
    die_with_parent(int(argv[0]))
    ignore_stop_signals()
    config = load_config(os.environ)
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s posting %(name)s: %(message)s")
    check_views(False)  # as in the app: the tests render every view with slack_sdk's checks
    db = Database(config.database_url)  # migrated by the parent before it started this process
    worker = Worker(threads=POSTING_THREADS)
    slack = SlackSurface(make_client(config.bot_token, config.api_url), workspace_url=argv[1] or None)
    quick = SlackSurface(make_client(config.bot_token, config.api_url, timeout=5, retries=False))
    services, _sweep, _sender = wire(config, db, slack, quick, worker)
    say_ready(services.publisher.me, sys.stdout)
    serve_jobs(services, sys.stdin.buffer, worker)
    worker.drain(timeout=6.0)
    db.dispose()
    return 0


def say_ready(name: str, out: IO[str]) -> None:
    out.write(f"ready {name}\n")
    out.flush()


def serve_jobs(services: Any, jobs: IO[bytes], worker: Worker) -> int:
    """Run each job the parent sends on this process's worker, until stdin ends; how many were queued."""
    queued = 0
    while True:
        head = jobs.read(FRAME.size)
        if len(head) < FRAME.size:
            return queued
        (size,) = FRAME.unpack(head)
        body = jobs.read(size)
        if len(body) < size:
            return queued
        fn, args = pickle.loads(body)  # from our own parent, over a pipe nobody else holds
        worker.submit(fn, services, *args)
        queued += 1


def _close_quietly(stream: IO[bytes]) -> None:
    try:
        stream.close()
    except OSError:
        pass
