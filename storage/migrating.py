"""Migrating the schema in a short-lived child, so that the serving process never imports Alembic.

Alembic and the migration scripts take about 11 MB that a process keeps for its whole life once it has
imported them, for work done once at boot. On Linux, while the app is still single-threaded, it forks a
child that migrates and exits; the app only waits for its answer. Elsewhere, or once threads exist (a
fork copies only the calling thread, so a lock another thread held would stay held in the child), it
migrates in-process as before.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
from typing import NoReturn

from storage.db import Database

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
REPORT_LIMIT = 2000  # bytes of the child's error kept for the operator
DONE = b"done"  # what the child says when the schema is current


class MigrationFailed(Exception):
    """The child could not migrate; `kind` is the class name of the error it met."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind


def migrate_apart(db: Database) -> bool:
    """Bring the schema to the newest revision, in a forked child where that is safe (then True)."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        db.migrate()
        log.info("database schema is current (migrated in this process)")
        return False
    read_end, write_end = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # or the child would write out this process's buffered output again
        stream.flush()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # no process to spare: migrate here, as elsewhere
        os.close(read_end)
        os.close(write_end)
        db.migrate()
        return False
    if pid == 0:
        _child(db, parent, read_end, write_end)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        report = answer.read()
    ended = _reap(pid)
    if report != DONE:  # decided by what the child said: with SIGCHLD ignored, no exit status is left to read
        kind, _, reason = report.decode(errors="replace").partition("\n")
        raise MigrationFailed(kind or "the migrating process died", reason or ended)
    log.info("database schema is current (migrated in a child process)")
    return True


def _reap(pid: int) -> str:
    """Wait for the child's end; how it ended, in words, for when it said nothing."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # SIGCHLD ignored: the kernel reaped it already
        return "it ended without a word"
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exit status {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:  # a signal Python has no name for (a real-time one)
        return f"killed by signal {-code}"


def _child(db: Database, parent: int, read_end: int, write_end: int) -> NoReturn:
    """The child's whole life: migrate, say how it went, and leave without ever returning into the app's code
    (os._exit skips the app's exit handlers and leaves the parent's connections alone)."""
    code = 1
    try:
        os.close(read_end)
        _die_with(parent)
        code = _migrate(db, write_end)
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_with(parent: int) -> None:
    """A `kill -9` of the app ends its migration too (rolled back, as any cut connection's transaction is),
    rather than leaving it running with nobody waiting for it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the app ended before the request took effect
        os._exit(1)


def _migrate(db: Database, report_fd: int) -> int:
    try:
        db.engine.dispose(close=False)  # a pooled connection of the parent's stays the parent's
        db.migrate()
        message, code = DONE, 0
    except BaseException as exc:
        message, code = f"{type(exc).__name__}\n{exc}".encode(errors="replace")[:REPORT_LIMIT], 1
    try:
        os.write(report_fd, message)
    except OSError:
        pass
    return code
