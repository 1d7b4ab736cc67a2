"""Shared fixtures: the Slack stand-in, databases (SQLite and PostgreSQL), the running app."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness import AppProcess, SlackSender  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

# PostgreSQL tests run where TEST_POSTGRES_URL names a server (CI sets it); elsewhere they skip.
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "")


def _pg_reason() -> str | None:
    if not PG_ADMIN_URL:
        return "PostgreSQL tests skipped: TEST_POSTGRES_URL is not set (CI sets it to the local server)"
    try:
        import psycopg

        with psycopg.connect(_libpq(PG_ADMIN_URL), connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL tests skipped: cannot connect to TEST_POSTGRES_URL ({exc})"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


_PG_SKIP = _pg_reason()


def pytest_report_header(config: pytest.Config) -> str:
    return _PG_SKIP or f"PostgreSQL tests run against {PG_ADMIN_URL}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers for the inner loop (`pytest -m unit` runs in well under a minute): e2e drives
    `python app.py` (the files test_e2e_*, and anything starting the app or a cluster); db needs a
    database; unit is everything else."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.path.name.startswith("test_e2e_") or fixtures & {"start_app", "app", "slack", "pg_cluster"}:
            item.add_marker(pytest.mark.e2e)
        elif fixtures & {"db", "database_url", "pg_url", "sqlite_url"}:
            item.add_marker(pytest.mark.db)
        else:
            item.add_marker(pytest.mark.unit)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if _PG_SKIP:
        terminalreporter.write_line(_PG_SKIP, yellow=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    import psycopg

    name = "defuse_t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'defuse.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'defuse.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    from storage.db import Database

    database = Database(database_url, pool_size=5)
    database.migrate()
    yield database
    database.dispose()


def seed_workspace(standin: SlackStandIn) -> None:
    standin.add_channel("CSUPPORT", "support")
    standin.add_channel("CPUBLIC", "public-help", bot_member=False)
    standin.add_channel("GPRIVATE", "vip-support", is_private=True, bot_member=False)
    standin.add_channel("CESCALATE", "experts")
    standin.add_channel("CPRODUCT", "product-feedback")
    standin.add_user("UAGENT", "alex", tz="Europe/Berlin")
    standin.add_user("UCOLLEAGUE", "sam", tz="America/New_York")
    standin.add_user("UTHIRD", "kim", tz="Asia/Tokyo")
    standin.add_user("UEXPERT", "robin", tz="Europe/London")
    standin.add_user("UBOTTY", "otherbot", is_bot=True)
    standin.add_user("UCUSTOMER", "jane", tz="America/Los_Angeles")


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    seed_workspace(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_app(standin: SlackStandIn, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: start `python app.py` against the stand-in with extra environment variables."""
    started: list[AppProcess] = []

    def start(database_url: str | None = None, **env: str) -> AppProcess:
        url = database_url or f"sqlite:///{tmp_path / 'app.db'}"
        proc = AppProcess(standin, url, tmp_path, **env).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.proc and proc.proc.poll() is None:
            proc.stop()


@pytest.fixture
def app(start_app) -> AppProcess:  # type: ignore[no-untyped-def]
    return start_app()


@pytest.fixture
def slack(app: AppProcess, standin: SlackStandIn) -> SlackSender:
    return SlackSender(app.url, standin)
