"""What the benchmarks share, on top of the test harness (tests/harness.py, tests/slack_standin.py).

The apps run exactly as in the end-to-end tests (`AppProcess`: `python app.py` or bench/bare_app.py in
HTTP mode against the stand-in) and are driven with the tests' signed requests (`SlackSender`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def own_rss_mb(pid: int) -> float | None:
    """Resident set size of one process in MB, from /proc; None where that is not readable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def children(pid: int) -> list[int]:
    """The process's children (Defuse's posting process), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def pss_mb(pid: int) -> float | None:
    """Proportional set size in MB of the process and its children: pages they share (the interpreter,
    libraries) counted once between them, unlike RSS; None where /proc does not tell."""
    total = 0.0
    for one in (pid, *children(pid)):
        try:
            for line in Path(f"/proc/{one}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
        except (OSError, ValueError):
            return None
    return total


def rss_mb(pid: int) -> float | None:
    """Resident set size in MB of the process and its children together (the app and its posting process)."""
    own = own_rss_mb(pid)
    if own is None:
        return None
    return own + sum(own_rss_mb(child) or 0.0 for child in children(pid))


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


def schema_revision(url: str) -> str:
    """The Alembic revision the database's schema is at."""
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url, pool_size=1)
    try:
        with db.engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        db.dispose()


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


# --------------------------------------------------------------------------- the stand-in in its own process
# Under load, a stand-in in the benchmark's own process shares its GIL with the load generator and
# inflates only Defuse's figures (only Defuse calls the Web API); in a child process it does not.
def _standin_op(standin: SlackStandIn, op: str, arg: Any) -> Any:
    from collections import Counter

    if op == "url":
        return standin.url
    if op == "issue":  # arg fresh (response_url, trigger_id) pairs
        return [(standin.new_response_url(), standin.new_trigger_id()) for _ in range(int(arg))]
    if op == "counts":  # per method and failures, for the ack benchmark
        calls = standin.calls
        failed = Counter(f"{c.method}:{c.response.get('error', c.status)}" for c in calls
                         if c.status != 200 or not c.response.get("ok"))
        return {"methods": dict(Counter(c.method for c in calls)), "failed": dict(failed),
                "responses": len(standin.responses())}
    if op == "call_counts":  # {method: {"calls": n, "ok": n}}, for the scheduler benchmark
        counts: dict[str, dict[str, int]] = {}
        for call in standin.calls:
            entry = counts.setdefault(call.method, {"calls": 0, "ok": 0})
            entry["calls"] += 1
            entry["ok"] += int(call.status == 200 and bool(call.response.get("ok")))
        return counts
    if op == "checklists":  # the checklist (first reply) of every case message in #support, for step clicks
        first: dict[str, dict[str, Any]] = {}
        for m in standin.messages("CSUPPORT"):
            if m.get("thread_ts") and m["ts"] != m["thread_ts"]:
                first.setdefault(m["thread_ts"], {**m, "channel": "CSUPPORT"})
        return list(first.values())
    if op == "reset":
        standin.reset()
        return None
    raise ValueError(op)


def _standin_child(conn: Any, root: str) -> None:
    if root not in sys.path:
        sys.path.insert(0, root)
    standin = start_standin()
    try:
        while True:
            try:
                op, arg = conn.recv()
            except EOFError:
                return
            if op == "stop":
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", _standin_op(standin, op, arg)))
            except Exception as exc:  # report to the parent instead of dying silently
                conn.send(("error", repr(exc)))
    finally:
        standin.stop()


class StandInProcess:
    """The stand-in (workspace seeded as in the tests) in a child process, or with inprocess=True in this one."""

    def __init__(self, inprocess: bool = False):
        import multiprocessing

        self._local: SlackStandIn | None = None
        self._proc: Any = None
        self._conn: Any = None
        if inprocess:
            self._local = start_standin()
        else:
            ctx = multiprocessing.get_context("spawn")
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=_standin_child, args=(child, str(ROOT)), name="slack-standin", daemon=True)
            self._proc.start()
            child.close()
        self.url: str = self._call("url")

    def _call(self, op: str, arg: Any = None) -> Any:
        if self._local is not None:
            return _standin_op(self._local, op, arg)
        self._conn.send((op, arg))
        if not self._conn.poll(60):
            raise RuntimeError(f"the stand-in process did not answer {op!r}")
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"stand-in {op!r} failed: {value}")
        return value

    def pids(self) -> list[int]:
        return [self._proc.pid] if self._proc is not None and self._proc.pid else []

    def issue(self, n: int) -> list[tuple[str, str]]:
        return self._call("issue", n)

    def counts(self) -> dict[str, Any]:
        return self._call("counts")

    def call_counts(self) -> dict[str, dict[str, int]]:
        return self._call("call_counts")

    def checklists(self) -> list[dict[str, Any]]:
        return self._call("checklists")

    def reset(self) -> None:
        self._call("reset")

    def stop(self) -> None:
        if self._local is not None:
            self._local.stop()
            self._local = None
        elif self._proc is not None:
            try:
                if self._proc.is_alive():
                    self._call("stop")
            except (RuntimeError, OSError, EOFError):
                pass
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(5)
            self._proc = None


def seeded_runs(description: str, defaults: dict[str, Any], smoke: dict[str, Any],
                seed: Callable[[str, argparse.Namespace], None],
                run: Callable[[str, str, argparse.Namespace, float], None], argv: list[str] | None = None,
                extra: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """The command line the seeded-history benchmarks share: --cases, --samples, --databases, --pg-url and
    --smoke (tiny sizes, SQLite only). For each database: a throw-away one, `seed(url, args)` timed, then
    `run(kind, url, args, seeded_seconds)`; a PostgreSQL server that cannot be used is skipped with its reason."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=defaults.get("cases", 100_000), help="closed cases to seed")
    parser.add_argument("--samples", type=int, default=defaults.get("samples", 20), help="timed runs per database")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server where databases may be created")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, SQLite only: seconds, to check it still runs")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in {**smoke, "databases": "sqlite"}.items():
            setattr(args, name, value)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in (k.strip() for k in args.databases.split(",")):
            try:
                with database(kind, Path(tmp), args.pg_url) as url:
                    started = time.perf_counter()
                    seed(url, args)
                    run(kind, url, args, time.perf_counter() - started)
            except Unavailable as exc:
                print(f"{kind}: skipped ({exc})")
    return 0
