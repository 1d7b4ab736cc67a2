"""App Home insights benchmark: how long working out *What works* takes over a seeded history
(`storage.insight_queries.closed_cases` for 90 days, then the 30/90-day figures and each agent's).

For each database (a SQLite file; PostgreSQL on --pg-url, skipped with the reason if unreachable) this
seeds --cases closed cases with bench/seed.py and times the work --samples times. A Home render waits
for it only once per process (bot.home.data keeps the answer and refreshes it on a thread), so this is
the cost of one refresh, not of a render.

    /work/main/.venv/bin/python bench/insights.py                 # 100,000 cases, both databases
    /work/main/.venv/bin/python bench/insights.py --databases sqlite --cases 20000
    /work/main/.venv/bin/python bench/insights.py --smoke         # seconds: proves the benchmark still runs
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from common import load_average, median, seeded_runs
from seed import seed  # noqa: E402 (bench/seed.py, found beside this script)

from bot.cases import Cases  # noqa: E402
from bot.home.data import work_out_insights  # noqa: E402
from storage.db import Database  # noqa: E402

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def measure(url: str, samples: int) -> tuple[list[float], int]:
    db = Database(url, pool_size=2)
    try:
        cases = Cases(db, clock=lambda: NOW)
        found = work_out_insights(cases, NOW)  # warm the pool and the statement cache
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            found = work_out_insights(cases, NOW)
            times.append(time.perf_counter() - started)
        return times, found.windows[90].closed
    finally:
        db.dispose()


def seeded(url: str, args: argparse.Namespace) -> None:
    seed(url, args.cases, now=NOW, quiet=True)


def run(kind: str, url: str, args: argparse.Namespace, seed_seconds: float) -> None:
    times, closed = measure(url, args.samples)
    print(f"{kind}: {args.cases:,} cases ({closed:,} closed in 90 days), seeded in {seed_seconds:.1f} s; insights "
          f"p50 {median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {len(times)} runs; "
          f"load average {load_average()}")


def main(argv: list[str] | None = None) -> int:
    return seeded_runs(__doc__.split("\n\n")[0], {"samples": 5}, {"cases": 500, "samples": 2}, seeded, run,
                       argv)


if __name__ == "__main__":
    sys.exit(main())
