"""SQLite as Defuse uses it: WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE, and this process's
units of work taking turns on a lock of our own, then with other processes on a file lock."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import URL

try:
    import fcntl
except ImportError:  # POSIX only: on Windows the processes meet SQLite's own busy wait
    fcntl = None  # type: ignore[assignment]

SQLITE_BUSY_SECONDS = 5  # longest wait for another writer


def prepare_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        # Switching a new file to WAL needs an exclusive lock; when several processes open it at the
        # same moment SQLite can answer "locked" at once instead of waiting, so try again briefly.
        for attempt in range(50):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class FileTurn:
    """The processes on one SQLite file (the app and its posting process) take turns on a lock of a file
    beside it. SQLite's own wait for a file another process is writing polls with sleeps that grow to
    100 ms, and under a burst the app's intake waited through many of the other's commits (ack p99 over
    300 ms); this one polls at most every 0.5 ms for requests, 2 ms for background work.

    Requests go first here too: a request that waits holds a shared lock on a second file, and
    background work does not try for the turn while anyone holds it (each process keeps one descriptor
    per file, used by the one thread whose turn it is in that process)."""

    def __init__(self, writer: int, waiting: int) -> None:
        self._writer = writer
        self._waiting = waiting

    @classmethod
    def beside(cls, database: str | None) -> FileTurn | None:
        if not database or database == ":memory:" or fcntl is None:
            return None
        try:
            flags = os.O_RDWR | os.O_CREAT
            return cls(os.open(f"{database}.writer-lock", flags, 0o600), os.open(f"{database}.waiting-lock", flags, 0o600))
        except OSError:  # not writable here: SQLite's own wait is all there is
            return None

    def acquire(self, timeout: float, *, behind: bool) -> bool:
        assert fcntl is not None
        if not behind:
            fcntl.flock(self._waiting, fcntl.LOCK_SH)  # never blocks for long: nobody holds it exclusively
        try:
            return self._poll(timeout, behind)
        finally:
            if not behind:
                fcntl.flock(self._waiting, fcntl.LOCK_UN)

    def _poll(self, timeout: float, behind: bool) -> bool:
        assert fcntl is not None
        deadline, pause, longest = time.monotonic() + timeout, 0.0001, 0.002 if behind else 0.0005
        while True:
            if (not behind or self._nobody_waiting()) and _try_flock(self._writer):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, longest)

    def _nobody_waiting(self) -> bool:
        assert fcntl is not None
        if not _try_flock(self._waiting):
            return False
        fcntl.flock(self._waiting, fcntl.LOCK_UN)
        return True

    def release(self) -> None:
        assert fcntl is not None
        fcntl.flock(self._writer, fcntl.LOCK_UN)


def _try_flock(fd: int) -> bool:
    assert fcntl is not None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class Turns:
    """Units of work on one SQLite file take turns here, requests before background work.

    Re-entrant for the thread holding it. A thread marked with `work_behind_requests()` (post-ack work,
    the reminder tick) waits while a request thread is waiting, so a burst of background work never
    holds up an ack; it waits longer before giving up, since nobody is waiting on it. The thread whose
    turn it is then takes the file's turn among processes (`FileTurn`), when there is a file.
    """

    def __init__(self, between_processes: FileTurn | None = None) -> None:
        self._file = between_processes
        lock = threading.Lock()
        self._requests = threading.Condition(lock)  # one waiter is woken per release, requests first
        self._background = threading.Condition(lock)
        self._owner: int | None = None
        self._depth = 0
        self._requests_waiting = 0
        self.waiting = 0  # threads waiting for a turn, of either kind

    def acquire(self, timeout: float, *, behind: bool) -> bool:
        started = time.monotonic()
        if not self._acquire_here(timeout, behind=behind):
            return False
        if self._depth > 1 or self._file is None:
            return True
        if self._file.acquire(max(0.0, timeout - (time.monotonic() - started)), behind=behind):
            return True
        self._release_here()
        return False

    def release(self) -> None:
        if self._depth == 1 and self._file is not None:
            self._file.release()
        self._release_here()

    def _acquire_here(self, timeout: float, *, behind: bool) -> bool:
        me = threading.get_ident()
        with self._requests:
            if self._owner == me:
                self._depth += 1
                return True
            turn = self._background if behind else self._requests
            self.waiting += 1
            self._requests_waiting += 0 if behind else 1
            try:
                free = turn.wait_for(lambda: self._owner is None and (not behind or self._requests_waiting == 0), timeout)
            finally:
                self.waiting -= 1
                self._requests_waiting -= 0 if behind else 1
            if free:
                self._owner, self._depth = me, 1
            elif not behind:
                self._wake_next()  # background work may go now that this request stopped waiting
            return free

    def _release_here(self) -> None:
        with self._requests:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._wake_next()

    def _wake_next(self) -> None:
        if self._owner is not None:
            return
        if self._requests_waiting:
            self._requests.notify()
        else:
            self._background.notify()


_TURNS: dict[str, Turns] = {}
_TURNS_GUARD = threading.Lock()
_THIS_THREAD = threading.local()
BEHIND_REQUESTS_WAIT = 6  # times SQLITE_BUSY_SECONDS: background work waits longer for its turn


def work_behind_requests() -> None:
    """Mark the calling thread as background work: on SQLite its units of work let request threads go first."""
    _THIS_THREAD.behind = True


def _turns(url: URL) -> Turns:
    """One turn lock per SQLite database in this process, shared by every Database opened on it."""
    with _TURNS_GUARD:
        key = str(url)
        if key not in _TURNS:
            _TURNS[key] = Turns(FileTurn.beside(url.database))
        return _TURNS[key]


@contextmanager
def sqlite_writer(url: URL) -> Iterator[None]:
    """This process's units of work on one SQLite file take turns (`Turns`) before BEGIN IMMEDIATE.

    SQLite allows one writer; a connection that finds the file locked polls with sleeps that grow to
    100 ms. Under load (a burst of /angry) the listener threads spent half their time in those sleeps
    and throughput fell as the rate rose; taking turns, the next one starts the moment the last one
    commits, requests first; then the same among processes (`FileTurn`).
    """
    turns = _turns(url)
    behind = getattr(_THIS_THREAD, "behind", False)
    if not turns.acquire(SQLITE_BUSY_SECONDS * (BEHIND_REQUESTS_WAIT if behind else 1), behind=behind):
        raise exc.OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    try:
        yield
    finally:
        turns.release()
