"""SQLite as Defuse uses it: WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE, and this process's
units of work taking turns on a lock of our own."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import URL

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


_WRITER_LOCKS: dict[str, threading.RLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _sqlite_writer_lock(url: str) -> threading.RLock:
    """One lock per SQLite database in this process, shared by every Database opened on it."""
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(url, threading.RLock())


@contextmanager
def sqlite_writer(url: URL) -> Iterator[None]:
    """This process's units of work on one SQLite file take turns on a lock of our own before BEGIN IMMEDIATE.

    SQLite allows one writer; a connection that finds the file locked polls with sleeps that grow to
    100 ms. Under load (a burst of /angry) the listener threads spent half their time in those sleeps
    and throughput fell as the rate rose; queued on a lock, the next one starts the moment the last
    one commits. Other processes on the same file still meet SQLite's busy timeout.
    """
    lock = _sqlite_writer_lock(str(url))
    if not lock.acquire(timeout=SQLITE_BUSY_SECONDS):
        raise exc.OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    try:
        yield
    finally:
        lock.release()
