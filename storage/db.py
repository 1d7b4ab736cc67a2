"""Engine, sessions, schema migration and health check, each with a deadline.

A database that is down, or hung (the server stopped, a network path that swallows packets), must
never hold a thread for long: connects time out, PostgreSQL cancels long statements itself, and a
watchdog cuts the socket of a connection held past its deadline (a hung server cannot enforce its own
statement_timeout). SQLite waits at most a few seconds for another writer.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url

from storage.sqlite import SQLITE_BUSY_SECONDS, prepare_sqlite, sqlite_writer, work_behind_requests

log = logging.getLogger(__name__)

Session = Connection  # what a unit of work hands the repositories: a connection in a transaction

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant shared by every Defuse process; serialises concurrent migrations on PostgreSQL.
MIGRATION_LOCK_KEY = 0x0DEF05E

CONNECT_TIMEOUT_SECONDS = 3  # libpq's minimum useful value is 2
STATEMENT_TIMEOUT_MS = 5000  # enforced by the server while it runs
LOCK_TIMEOUT_MS = 4000
IDLE_IN_TRANSACTION_MS = 30000  # a client that vanished mid-transaction releases its locks
POOL_TIMEOUT_SECONDS = 3  # waiting for a free pooled connection
HOLD_SECONDS = 10.0  # longest a unit of work may keep a PostgreSQL connection before the watchdog cuts it
CHECKOUT_PING_SECONDS = 2.0  # the liveness check on a pooled connection
# A connection given back this recently is not checked again: under load every unit of work would pay a
# round trip (one in six or seven of a case's) to learn what the last one just showed. A server that dies
# in this window fails the unit of work as it fails the ones in flight, and a new connection would not
# have been to a restarted server so soon anyway.
RECENTLY_USED_SECONDS = 0.25
_since_boot = time.monotonic  # the pool's clock (tests move it)
PING_DEADLINE_SECONDS = 1.5  # /healthz answers within this, whatever the database does


class _Watchdog:
    """Cuts the socket of a connection held past its deadline.

    statement_timeout needs a running server; a stopped one (SIGSTOP, a stalled proxy) leaves the client
    waiting on a socket the kernel keeps open. Shutting that socket down makes the driver fail the call at
    once, and SQLAlchemy discards the connection. A COMMIT in flight is never cut: the server may already
    have applied it, and reporting a failure then would invite the user to do it twice.
    """

    def __init__(self, tick: float = 0.1):
        self._tick = tick
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, Any, bool]] = {}  # id(record) -> (deadline, dbapi conn, committing)
        self._thread: threading.Thread | None = None
        self.cuts = 0

    def arm(self, record: Any, dbapi_conn: Any, seconds: float) -> None:
        with self._lock:
            self._armed[id(record)] = (time.monotonic() + seconds, dbapi_conn, False)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()

    def disarm(self, record: Any) -> None:
        with self._lock:
            self._armed.pop(id(record), None)

    def committing(self, dbapi_conn: Any, flag: bool = True) -> None:
        with self._lock:
            for key, (deadline, conn, _) in self._armed.items():
                if conn is dbapi_conn:
                    self._armed[key] = (deadline, conn, flag)

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            time.sleep(self._tick)
            now = time.monotonic()
            with self._lock:
                if self._armed:
                    idle_since = now
                elif now - idle_since > 5.0:  # idle for a while: the next arm() starts a new thread
                    self._thread = None
                    return
                expired = [(k, c) for k, (d, c, committing) in self._armed.items() if d <= now and not committing]
                for key, _ in expired:
                    del self._armed[key]
            for _, conn in expired:
                self._cut(conn)

    def _cut(self, dbapi_conn: Any) -> None:
        try:
            fd = os.dup(dbapi_conn.fileno())
        except Exception:  # already closed: nothing is waiting on it
            return
        try:
            duplicate = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            return
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
            self.cuts += 1
            log.warning("database connection held past its deadline: cut, so the caller fails instead of hanging")
        except OSError:
            pass
        finally:
            duplicate.close()


_WATCHDOG = _Watchdog()  # one for the process, however many Database objects there are
_hold = threading.local()


@contextmanager
def unlimited_hold() -> Iterator[None]:
    """Work that may legitimately keep a connection long (migrations waiting for another process)."""
    _hold.unlimited = True
    try:
        yield
    finally:
        _hold.unlimited = False


def _postgres_options(url: URL, statement_timeout_ms: int) -> str:
    """Server-side deadlines for every session; options already in the URL come last and win."""
    ours = (f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={LOCK_TIMEOUT_MS} "
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}")
    theirs = url.query.get("options")
    if isinstance(theirs, tuple):
        theirs = " ".join(theirs)
    return f"{ours} {theirs}" if theirs else ours


def _prepare_postgres(engine: Engine, watchdog: _Watchdog, hold_seconds: float) -> None:
    """Arm the watchdog from checkout to checkin, and check a pooled connection is alive under it."""

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info["fresh"] = True

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        limited = bool(hold_seconds) and not getattr(_hold, "unlimited", False)
        fresh = record.info.pop("fresh", False)
        recently = _since_boot() - record.info.pop("returned_at", float("-inf")) < RECENTLY_USED_SECONDS
        if not fresh and not recently:  # a pooled connection may have died since it was used
            if limited:
                watchdog.arm(record, dbapi_conn, CHECKOUT_PING_SECONDS)
            try:
                engine.dialect.do_ping(dbapi_conn)
            except Exception as error:
                watchdog.disarm(record)
                raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error
        if limited:
            watchdog.arm(record, dbapi_conn, hold_seconds)
        else:
            watchdog.disarm(record)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, record):  # type: ignore[no-untyped-def]
        watchdog.disarm(record)
        if dbapi_conn is not None:  # None: it was invalidated, and the next one is fresh
            record.info["returned_at"] = _since_boot()

    @event.listens_for(engine, "commit")
    def _on_commit(conn):  # type: ignore[no-untyped-def]
        watchdog.committing(conn.connection.dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        watchdog.committing(conn.connection.dbapi_connection, False)


class Database:
    """`hold_seconds`/`statement_timeout_ms` of 0 turn those deadlines off, for bulk jobs (seeding,
    benchmarks) that legitimately run long statements; the app always runs with them."""

    def __init__(self, url: str, *, pool_size: int = 10, hold_seconds: float = HOLD_SECONDS,
                 statement_timeout_ms: int = STATEMENT_TIMEOUT_MS):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.watchdog = _WATCHDOG
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}, pool_size=pool_size
            )
            prepare_sqlite(self.engine)
        else:
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=POOL_TIMEOUT_SECONDS,
                connect_args={
                    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                    "options": _postgres_options(self.url, statement_timeout_ms),
                    # a peer that vanished (host down, cable cut) is noticed within about 20 s
                    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 5, "keepalives_count": 3,
                    "tcp_user_timeout": 15000,
                },
            )
            _prepare_postgres(self.engine, self.watchdog, hold_seconds)
        self._ping_lock = threading.Lock()
        self._ping: Future[bool] | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with sqlite_writer(self.url) if self.is_sqlite else nullcontext(), self.engine.connect() as session, session.begin():
            yield session

    @staticmethod
    def work_behind_requests() -> None:
        """Mark the calling thread as background work: on SQLite its units of work let requests go first."""
        work_behind_requests()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe with several processes starting at once."""
        # Imported here: only the process that migrates needs Alembic (about 9 MB); the app runs this in a
        # short-lived child (storage.migrating), so neither the app nor its posting process holds it.
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with unlimited_hold(), self.engine.connect() as conn:
            # On SQLite a batch migration rebuilds a table (copy, drop the old, rename). With foreign keys
            # on, dropping the old `cases` would cascade into every step, event and reminder, so they are
            # off while migrating (the pragma only works outside a transaction) and back on afterwards.
            self._sqlite_foreign_keys(conn, on=False)
            try:
                with conn.begin():
                    if not self.is_sqlite:
                        # Waiting for another process's migration, or a slow ALTER, is not a hung server.
                        conn.execute(text("SET LOCAL statement_timeout = 0"))
                        conn.execute(text("SET LOCAL lock_timeout = 0"))
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            finally:
                self._sqlite_foreign_keys(conn, on=True)

    def _sqlite_foreign_keys(self, conn: Connection, *, on: bool) -> None:
        if self.is_sqlite:
            conn.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]

    def ping(self, deadline: float = PING_DEADLINE_SECONDS) -> bool:
        """True if the database answers `SELECT 1` within `deadline` seconds.

        The probe runs on a thread of its own, one at a time: while a probe is stuck on a hung server,
        later callers wait for that same probe (at most `deadline`) instead of piling up threads.
        """
        with self._ping_lock:
            if self._ping is None or self._ping.done():
                self._ping = Future()
                threading.Thread(target=self._probe, args=(self._ping,), name="db-ping", daemon=True).start()
            probe = self._ping
        try:
            return probe.result(timeout=deadline)
        except FutureTimeout:
            log.warning("database ping: no answer within %.1f s", deadline)
            return False

    def _probe(self, result: Future[bool]) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                conn.rollback()
            result.set_result(True)
        except Exception as error:  # any driver error means "not reachable" for /healthz
            log.warning("database ping failed: %s", " ".join(str(error).split())[:200])
            result.set_result(False)

    def dispose(self) -> None:
        self.engine.dispose()
