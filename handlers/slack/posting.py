"""Posting new cases and showing ticked steps from a second process, so that answering Slack has an interpreter to itself.

One Python process runs Python code on one core at a time (the GIL). Under a burst of `/angry`, the work
after each ack (rendering Block Kit, three Web API calls, three transactions) took the interpreter from
the threads answering Slack: acks waited, and the app stopped at about 100 cases/s with a core idle.
So the app runs one child and hands it each case it has just saved (the intake listeners' `post_command_case`
and `post_form_case`) and each step's tick (`tick_step`, about twenty database round trips and two Web API
calls).

- On Linux the first child is forked at boot, after the imports and before any thread or connection exists,
  so both processes share the pages of everything imported (copy-on-write) instead of each holding its own
  copy. Later children, after one died, are started fresh: `python app.py posting PARENT_PID`.
- Either way the child waits for its first frame, the workspace's URL (known once the app has called
  auth.test), before it wires itself: so it never touches the database before the app has migrated it.
  Its side is handlers.slack.posting_child.
- The delivery lease says who posts a case. The intake saves a case leased to the child when the child
  is ready (`Posting.holder`), and to this process otherwise, which then posts it itself, as before.
- A job is a module-level function and its arguments, pickled onto the child's stdin, so the child runs
  the very code this process would have run.
- The child dies with this process (PR_SET_PDEATHSIG on Linux), so a `kill -9` leaves what any crash
  leaves: cases leased to a process that is gone, which the next run's sweep finishes, telling the agents.
- If the child dies alone, this process reaps it, runs the sweep (which releases a dead holder's leases at
  once, bot.delivery.sweep) and starts another; meanwhile it posts new cases itself.
- A tick has no lease: it is numbered (`send_tracked`), the child writes `done N` on its stdout once it
  has run it (`again N` if it could not even load it: a child started on newer code), and the app runs
  here each job handed back, and, when the child ends, whatever it never reported. Ticking a step that
  is already ticked changes nothing, so a tick run twice is recorded once.
- On shutdown the child's stdin is closed: it finishes its queue for up to 6 s, as the worker here does.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from handlers.slack.posting_child import ForkedChild, job_frame, write_frame
from handlers.slack.worker import Worker

log = logging.getLogger(__name__)

RESTART_AFTER = 1.0  # seconds before starting the child again; doubles while it keeps dying, up to a minute
Child = subprocess.Popen[bytes] | ForkedChild


class PostingProcess:
    """The child as seen from the app: started and restarted by one supervisor thread."""

    def __init__(self, command: list[str], on_lost: Callable[[], None], *, workspace_url: str = "",
                 restart_after: float = RESTART_AFTER):
        self._command = command
        self._workspace_url = workspace_url  # the child's first frame
        self._on_lost = on_lost  # the child died on its own: let the sweep take what it held
        self._restart_after = restart_after
        self._lock = threading.Lock()  # one frame at a time on the pipe; guards _proc and _holder
        self._proc: Child | None = None
        self._forked: ForkedChild | None = None  # the first child, forked at boot, until the supervisor takes it
        self._holder: str | None = None
        # Numbered jobs the child has not reported finished, each with how to run it here instead.
        self._unfinished: dict[int, Callable[[], None]] = {}
        self._numbers = itertools.count(1)
        self._stopping = threading.Event()
        # The child's death signal follows the thread that started it, so one long-lived thread starts them all.
        self._thread = threading.Thread(target=self._supervise, name="posting-supervisor", daemon=True)

    @property
    def holder(self) -> str | None:
        """The child's lease name while it is ready to take jobs, else None."""
        return self._holder

    @property
    def unfinished(self) -> int:
        """How many jobs handed with send_tracked the child has not reported finished yet."""
        return len(self._unfinished)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def start(self, forked: ForkedChild | None = None) -> None:
        """Supervise from now on, with the child forked at boot as the first one, if there is one."""
        self._forked = forked
        self._thread.start()

    def send(self, holder: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        """Hand `fn(services, *args)` to the child named `holder`; False if that child is gone.
        Blocks while the child's queue and the pipe are full, as the worker here does."""
        return self._write(holder, fn, args, None)

    def send_tracked(self, fn: Callable[..., Any], args: tuple[Any, ...], instead: Callable[[], None]) -> bool:
        """Hand `fn(services, *args)` to the child if it is ready (False if not); if it dies before it
        reports the job finished, `instead` runs (the job again, here)."""
        holder = self._holder
        return holder is not None and self._write(holder, fn, args, instead)

    def _write(self, holder: str, fn: Callable[..., Any], args: tuple[Any, ...],
               instead: Callable[[], None] | None) -> bool:
        number = next(self._numbers) if instead is not None else None
        frame = job_frame(fn, args, number)
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None or holder != self._holder:
                return False
            if number is not None and instead is not None:
                self._unfinished[number] = instead  # before the write: the child may finish it at once
            try:
                write_frame(proc.stdin, frame)
                return True
            except (OSError, ValueError):  # its end of the pipe is closed: it died
                self._holder = None
                if number is not None:
                    self._unfinished.pop(number, None)
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
        proc = self._forked or self._start_fresh()
        self._forked = None
        if proc is None:
            return
        with self._lock:
            self._proc = proc
            if self._stopping.is_set() and proc.stdin is not None:  # stopped while it was being started
                _close_quietly(proc.stdin)
            elif proc.stdin is not None:
                try:
                    write_frame(proc.stdin, self._workspace_url.encode())
                except (OSError, ValueError):
                    pass  # it died already: the read below ends at once
        assert proc.stdout is not None
        word, _, name = proc.stdout.readline().decode(errors="replace").strip().partition(" ")
        if word == "ready" and name:
            with self._lock:
                if not self._stopping.is_set():
                    self._holder = name
            log.info("posting process %s is ready", proc.pid)
            self._read_finished(proc.stdout)
        proc.wait()
        with self._lock:
            self._holder = None
            if proc.stdin is not None:
                _close_quietly(proc.stdin)
            unfinished, self._unfinished = list(self._unfinished.values()), {}
        _close_quietly(proc.stdout)
        if unfinished:
            log.warning("the posting process ended without reporting %s job(s) finished; running them here",
                        len(unfinished))
        for instead in unfinished:
            instead()

    def _read_finished(self, out: IO[bytes]) -> None:
        """Forget each job the child reports finished, and run here each it could not load, until its stdout
        ends (it died or stopped)."""
        for line in out:
            word, _, number = line.decode(errors="replace").strip().partition(" ")
            if word in ("done", "again") and number.isdigit():
                with self._lock:
                    instead = self._unfinished.pop(int(number), None)
                if word == "again" and instead is not None:
                    log.warning("the posting process could not load job %s; running it here", number)
                    instead()

    def _start_fresh(self) -> subprocess.Popen[bytes] | None:
        try:
            return subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError:
            log.exception("could not start the posting process")
            return None


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

    def hand(self, services: Any, fn: Callable[..., Any], *args: Any) -> None:
        """`fn(services, *args)`, work after an ack that is safe to run twice (a step's tick finds it done
        the second time): in the posting process while it is ready, else here; and here again if that
        process ends before it reports the job finished."""

        def here() -> None:
            self.worker.submit(fn, services, *args)

        if self.process is None or not self.process.send_tracked(fn, args, here):
            here()


def _close_quietly(stream: IO[bytes]) -> None:
    try:
        stream.close()
    except OSError:
        pass
