"""What the benchmarks share, on top of the test harness (tests/harness.py, tests/slack_standin.py).

The apps run exactly as in the end-to-end tests (`AppProcess`: `python app.py` or bench/bare_app.py in
HTTP mode against the stand-in) and are driven with the tests' signed requests (`SlackSender`).
"""

from __future__ import annotations

import os
import statistics
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness import AppProcess, SlackSender  # noqa: E402,F401  (re-exported for the benchmarks)
from tests.slack_standin import SlackStandIn  # noqa: E402

BARE_APP = ROOT / "bench" / "bare_app.py"
DEFAULT_PG_URL = os.environ.get("BENCH_PG_URL") or os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


class Unavailable(Exception):
    """A database the benchmark was asked for cannot be used here (said, not fatal)."""


def load_average() -> str:
    """The 1/5/15-minute load average, printed next to every figure: on 2 cores other work skews them."""
    try:
        return "/".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and b == b and a == a else "n/a"


def rss_mb(pid: int) -> float | None:
    """Resident set size of a process in MB, from /proc; None where that is not readable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def start_standin() -> SlackStandIn:
    from tests.conftest import seed_workspace

    standin = SlackStandIn().start()
    seed_workspace(standin)
    return standin


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def pg_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of `admin_url`, dropped afterwards."""
    try:
        import psycopg

        with psycopg.connect(libpq(admin_url), connect_timeout=3, autocommit=True) as conn:
            name = "defuse_bench_" + uuid.uuid4().hex[:10]
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        raise Unavailable(f"PostgreSQL at {admin_url} is not usable ({exc})") from None
    base = libpq(admin_url).rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(libpq(admin_url), connect_timeout=5, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(kind: str, tmp: Path, pg_admin_url: str) -> Iterator[str]:
    """An empty database of `kind` ("sqlite" or "postgresql") for one measurement."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / ('bench-' + uuid.uuid4().hex[:8] + '.db')}"
        return
    with pg_database(pg_admin_url) as url:
        yield url


def downgrade_to(url: str, revision: str) -> None:
    """Take the schema back to an older revision, for measuring an older checkout on the same data."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from storage.db import MIGRATIONS, Database

    db = Database(url, pool_size=1)
    try:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        db.dispose()


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
