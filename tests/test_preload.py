"""What the app imports before it forks its posting process, so that both share one copy of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import handlers

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter: which of the modules named on the command line load_driver(URL) imported.
PROBE = """
import sys
from storage.urls import load_driver
before = set(sys.modules)
load_driver(sys.argv[1])
print(" ".join(name for name in sys.argv[2:] if name in sys.modules and name not in before))
"""


def newly_imported(url: str, *modules: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, url, *modules], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_load_driver_imports_psycopg_and_its_dialect_for_a_postgresql_url() -> None:
    found = newly_imported("postgresql+psycopg://defuse@127.0.0.1:1/none", "psycopg",
                           "sqlalchemy.dialects.postgresql.psycopg")
    assert found == ["psycopg", "sqlalchemy.dialects.postgresql.psycopg"]


def test_load_driver_imports_sqlite3_and_not_psycopg_for_a_sqlite_url(tmp_path: Path) -> None:
    found = newly_imported(f"sqlite:///{tmp_path}/defuse.db", "sqlite3", "sqlalchemy.dialects.sqlite.pysqlite",
                           "psycopg")
    assert found == ["sqlite3", "sqlalchemy.dialects.sqlite.pysqlite"]


@pytest.mark.parametrize("url", ["not a url", "mysql+nosuchdriver://x@y/z", ""])
def test_load_driver_leaves_a_bad_url_to_the_database_to_report(url: str) -> None:
    assert newly_imported(url, "psycopg") == []  # returned quietly: Database(url) says what is wrong


def test_moves_are_the_listener_modules_register_routes_from() -> None:
    modules = handlers.moves()
    names = [module.__name__ for module in modules]
    assert len(set(names)) == 8 and all(name.startswith("handlers.") and name.endswith(".listeners") for name in names)
    tables = ("ACTIONS", "VIEWS", "EVENTS", "COMMANDS", "SHORTCUTS")
    assert all(any(getattr(module, table, None) for table in tables) for module in modules)
