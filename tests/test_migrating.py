"""Migrating in a forked child (storage/migrating.py): the schema is built there, the caller never imports
Alembic, and a failure comes back as the error the child met. Each case runs in a fresh interpreter, since
this one imported Alembic long ago."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from storage.db import Database
from storage.models import metadata

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the migration is forked only on Linux")

SCRIPT = """
import json, os, signal, sys, threading
sys.path.insert(0, {root!r})
from storage.db import Database
from storage.migrating import MigrationFailed, migrate_apart
if {thread!r}:
    threading.Thread(target=threading.Event().wait, daemon=True).start()
{prelude}
try:
    apart = migrate_apart(Database({url!r}))
    print(json.dumps({{"apart": apart, "alembic": "alembic" in sys.modules}}))
except MigrationFailed as exc:
    print(json.dumps({{"kind": exc.kind, "reason": str(exc), "alembic": "alembic" in sys.modules}}))
"""


def migrate_in_fresh_python(url: str, *, thread: bool = False, prelude: str = "") -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", script(url, thread=thread, prelude=prelude)],
                          capture_output=True, text=True, timeout=120, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_child_builds_the_schema_and_the_caller_never_imports_alembic(database_url: str) -> None:
    assert migrate_in_fresh_python(database_url) == {"apart": True, "alembic": False}
    database = Database(database_url)
    try:
        tables = set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()
    assert set(metadata.tables) | {"alembic_version"} <= tables


def test_a_failed_migration_names_the_error_the_child_met(tmp_path: Path) -> None:
    broken = tmp_path / "not-a-database.db"
    broken.write_bytes(b"this is no SQLite file, just bytes " * 100)
    found = migrate_in_fresh_python(f"sqlite:///{broken}")
    assert found["kind"] == "DatabaseError" and "not a database" in str(found["reason"])
    assert found["alembic"] is False


def test_a_server_without_the_database_is_reported_as_the_driver_said(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/defuse_no_such_database"
    found = migrate_in_fresh_python(missing)
    assert found["kind"] == "OperationalError" and "does not exist" in str(found["reason"])


def test_with_sigchld_ignored_the_childs_own_word_decides(tmp_path: Path) -> None:
    # Some launchers start the app with SIGCHLD ignored: the kernel then reaps the child, and no exit status is left.
    url = f"sqlite:///{tmp_path / 'defuse.db'}"
    found = migrate_in_fresh_python(url, prelude="signal.signal(signal.SIGCHLD, signal.SIG_IGN)")
    assert found == {"apart": True, "alembic": False}


def test_a_child_killed_mid_migration_is_reported_as_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'defuse.db'}"
    found = migrate_in_fresh_python(url, prelude="Database.migrate = lambda self: os.kill(os.getpid(), signal.SIGKILL)")
    assert found["kind"] == "the migrating process died" and found["reason"] == "killed by SIGKILL"


def test_once_threads_exist_it_migrates_in_this_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'defuse.db'}"
    assert migrate_in_fresh_python(url, thread=True) == {"apart": False, "alembic": True}
    assert "cases" in inspect(Database(url).engine).get_table_names()


def test_kill_9_of_the_app_mid_migration_ends_the_migrating_child_too(pg_url: str) -> None:
    import psycopg

    from storage.db import MIGRATION_LOCK_KEY

    holder = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))  # the migration waits behind it
        app = subprocess.Popen([sys.executable, "-c", script(pg_url)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        child = eventually(lambda: children(app.pid))
        assert child, "the migrating child never started"
        os.kill(app.pid, signal.SIGKILL)
        app.wait(timeout=30)
        assert eventually(lambda: not Path(f"/proc/{child[0]}").exists() or zombie(child[0])), "it outlived the app"
    finally:
        holder.close()


def script(url: str, *, thread: bool = False, prelude: str = "") -> str:
    return SCRIPT.format(root=str(ROOT), url=url, thread=thread, prelude=prelude)


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def eventually(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value
