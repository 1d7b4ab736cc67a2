"""Database deadlines (storage/db.py): SQLite waits a few seconds for another writer, PostgreSQL
sessions carry statement and lock timeouts, and a hung server can hold neither a unit of work nor
/healthz's ping for long (a throwaway cluster frozen with SIGSTOP)."""

from __future__ import annotations

import fcntl
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from storage import db as dbmod
from storage import sqlite as sqlite_mod
from storage.db import Database
from tests.pg_cluster import PgCluster, unavailable_reason


def test_sqlite_gives_up_on_a_held_write_lock_within_its_busy_timeout(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    database = Database(url, pool_size=1)
    database.migrate()
    other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock and hangs
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            with database.session() as session:
                session.execute(text("UPDATE agents SET name = 'x' WHERE 1 = 0"))
        waited = time.monotonic() - started
        assert dbmod.SQLITE_BUSY_SECONDS - 0.5 <= waited < dbmod.SQLITE_BUSY_SECONDS + 2.5
    finally:
        other.execute("ROLLBACK")
        other.close()
        database.dispose()


def test_postgres_sessions_carry_statement_and_lock_timeouts(pg_url: str):
    database = Database(pg_url, pool_size=1)
    try:
        with database.session() as session:
            assert session.execute(text("SHOW statement_timeout")).scalar() == "5s"
            assert session.execute(text("SHOW lock_timeout")).scalar() == "4s"
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"):
            with database.session() as session:
                session.execute(text("SELECT pg_sleep(30)"))
        assert time.monotonic() - started < dbmod.STATEMENT_TIMEOUT_MS / 1000 + 2
        bulk = Database(pg_url, pool_size=1, statement_timeout_ms=0, hold_seconds=0)
        with bulk.session() as session:  # seeding and benchmarks may switch them off
            assert session.execute(text("SHOW statement_timeout")).scalar() == "0"
        bulk.dispose()
    finally:
        database.dispose()


def test_a_pooled_connection_is_pinged_unless_it_was_given_back_a_moment_ago(pg_url: str,
                                                                            monkeypatch: pytest.MonkeyPatch):
    now = [1000.0]
    monkeypatch.setattr(dbmod, "_since_boot", lambda: now[0])
    database = Database(pg_url, pool_size=1)
    pings: list[int] = []
    real_ping = database.engine.dialect.do_ping
    monkeypatch.setattr(database.engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        def unit_of_work() -> None:
            with database.session() as session:
                session.execute(text("SELECT 1"))

        unit_of_work()
        assert pings == []  # a new connection is alive by definition
        now[0] += dbmod.RECENTLY_USED_SECONDS / 2
        unit_of_work()
        assert pings == []  # given back a moment ago: no round trip to learn what it just showed
        now[0] += dbmod.RECENTLY_USED_SECONDS * 2
        unit_of_work()
        assert pings == [1]  # idle for a while: it may have died since
        with pytest.raises(OperationalError):
            with database.session() as session:
                session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        now[0] += dbmod.RECENTLY_USED_SECONDS / 2
        unit_of_work()  # the ended connection was thrown away, not given back: a new one, not pinged
        assert pings == [1]
    finally:
        database.dispose()


def test_a_hung_postgres_cannot_hold_a_unit_of_work_or_the_ping():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"hung-server test skipped: {reason}")
    cluster = PgCluster().start()
    database = Database(cluster.url, pool_size=2, hold_seconds=3)
    try:
        database.migrate()
        assert database.ping()
        with database.session() as session:  # a pooled connection, open when the server freezes
            session.execute(text("SELECT 1"))
        cluster.hang()
        started = time.monotonic()
        assert database.ping() is False
        assert time.monotonic() - started < 2.0
        started = time.monotonic()
        with pytest.raises(SQLAlchemyError):
            with database.session() as session:
                session.execute(text("SELECT 1"))
        held = time.monotonic() - started
        # the pooled connection's liveness check is cut at 2 s, a new connection times out at 3 s
        assert held < dbmod.CHECKOUT_PING_SECONDS + dbmod.CONNECT_TIMEOUT_SECONDS + 1.5, held
        cluster.resume()
        deadline = time.monotonic() + 10
        while not database.ping() and time.monotonic() < deadline:
            time.sleep(0.1)
        # A statement in flight when the server freezes: the watchdog cuts it at the hold deadline.
        with pytest.raises(SQLAlchemyError):
            with database.session() as session:
                session.execute(text("SELECT 1"))
                cluster.hang()
                started = time.monotonic()
                session.execute(text("SELECT 2"))
        held = time.monotonic() - started
        assert 2.5 < held < 3 + 1.0, held
        assert database.watchdog.cuts >= 1
        cluster.resume()
        deadline = time.monotonic() + 10
        while not database.ping() and time.monotonic() < deadline:
            time.sleep(0.1)
        with database.session() as session:  # back to normal: dead connections were replaced
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()
        cluster.destroy()


def test_sqlite_units_of_work_in_one_process_take_turns_on_our_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    first, second = Database(url, pool_size=2), Database(url, pool_size=2)  # one file, one lock
    first.migrate()
    entered, release, done = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def holder() -> None:
        with first.session() as session:
            session.execute(text("INSERT INTO agents (user_id, is_bot, deleted) VALUES (:u, 0, 0)"),
                            {"u": f"U{time.monotonic_ns()}"})
            entered.set()
            release.wait(10)

    def reader() -> None:
        with second.session() as session:
            seen.append(session.execute(text("SELECT count(*) FROM agents")).scalar_one())
        done.set()

    threading.Thread(target=holder, daemon=True).start()
    assert entered.wait(10)
    threading.Thread(target=reader, daemon=True).start()
    assert not done.wait(0.2)  # waiting its turn
    release.set()
    assert done.wait(10) and seen == [1]  # began after the holder committed

    # A turn that does not come within the busy timeout fails as SQLite would, from our lock, not from SQLite.
    monkeypatch.setattr(sqlite_mod, "SQLITE_BUSY_SECONDS", 0.3)
    entered.clear(), release.clear()
    threading.Thread(target=holder, daemon=True).start()
    assert entered.wait(10)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        with second.session():
            pass
    assert time.monotonic() - started < 4  # SQLite itself would have waited its full 5 s
    release.set()
    first.dispose(), second.dispose()


HOLD_IN_ANOTHER_PROCESS = """
import sys
sys.path.insert(0, {root!r})
from sqlalchemy import text
from storage.db import Database
database = Database({url!r}, pool_size=1)
with database.session() as session:
    session.execute(text("INSERT INTO agents (user_id, is_bot, deleted) VALUES ('UCHILD', 0, 0)"))
    print("holding", flush=True)
    sys.stdin.readline()
print("committed", flush=True)
"""


def test_sqlite_units_of_work_of_two_processes_take_turns_on_a_file_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The app and its posting process write one file; SQLite's own wait polls with sleeps up to 100 ms.
    url = f"sqlite:///{tmp_path / 'two.db'}"
    database = Database(url, pool_size=2)
    database.migrate()
    code = HOLD_IN_ANOTHER_PROCESS.format(root=str(Path(__file__).resolve().parent.parent), url=url)
    other = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdin is not None
        assert other.stdout.readline().strip() == "holding"
        assert (tmp_path / "two.db.writer-lock").exists()
        # Our turn does not come while the other process holds its own: we give up after our wait (not SQLite's 5 s).
        monkeypatch.setattr(sqlite_mod, "SQLITE_BUSY_SECONDS", 0.3)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            with database.session():
                pass
        assert time.monotonic() - started < 4
        monkeypatch.setattr(sqlite_mod, "SQLITE_BUSY_SECONDS", 5)
        seen: list[int] = []
        done = threading.Event()

        def write() -> None:
            with database.session() as session:
                seen.append(session.execute(text("SELECT count(*) FROM agents WHERE user_id = 'UCHILD'")).scalar_one())
            done.set()

        threading.Thread(target=write, daemon=True).start()
        assert not done.wait(0.2)  # waiting for the other process's turn to end
        other.stdin.write("go\n")
        other.stdin.flush()
        assert done.wait(10) and seen == [1]  # began after the other process committed
        assert other.stdout.readline().strip() == "committed"
    finally:
        other.kill()
        other.wait()
        database.dispose()


def test_between_processes_a_waiting_request_goes_before_background_work(tmp_path: Path):
    # Each FileTurn has its own open file descriptions, as each process has: flock tells them apart.
    path = str(tmp_path / "file.db")
    holder, request, background = (sqlite_mod.FileTurn.beside(path) for _ in range(3))
    assert holder and request and background
    assert holder.acquire(1, behind=True)
    assert not background.acquire(0.05, behind=True)  # taken: gives up after its wait
    order: list[str] = []

    def take(turn: sqlite_mod.FileTurn, name: str, behind: bool) -> None:
        assert turn.acquire(10, behind=behind)
        order.append(name)
        turn.release()

    waiting_file = open(path + ".waiting-lock", "rb")

    def a_request_waits() -> bool:
        try:
            fcntl.flock(waiting_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(waiting_file, fcntl.LOCK_UN)
        return False

    first = threading.Thread(target=take, args=(background, "background", True))
    first.start()  # waiting first
    second = threading.Thread(target=take, args=(request, "request", False))
    second.start()
    wait_until(a_request_waits)
    holder.release()
    first.join(10), second.join(10)
    waiting_file.close()
    assert order == ["request", "background"]


def test_a_request_takes_its_turn_before_background_work_that_waited_longer():
    turns = sqlite_mod.Turns()
    order: list[str] = []
    assert turns.acquire(5, behind=False)  # someone is writing

    def take(name: str, behind: bool) -> None:
        assert turns.acquire(10, behind=behind)
        order.append(name)
        turns.release()

    background = threading.Thread(target=take, args=("background", True))
    background.start()
    wait_until(lambda: turns.waiting == 1)
    request = threading.Thread(target=take, args=("request", False))
    request.start()
    wait_until(lambda: turns.waiting == 2)
    turns.release()
    background.join(10), request.join(10)
    assert order == ["request", "background"]
    # Re-entrant for its holder.
    assert turns.acquire(1, behind=True) and turns.acquire(1, behind=True)
    turns.release(), turns.release()
    assert turns.acquire(1, behind=False)
    turns.release()


def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
