"""Weekly digest benchmark: how long `bot.learning.digest.collect` + `build_digest` take over a seeded history.

For each database (a SQLite file; PostgreSQL on --pg-url, skipped with the reason if unreachable) this
seeds --cases closed cases with bench/seed.py (two years, ~200 agents, reviews, follow-ups), adds
--open open cases (1 in 3 in a private channel, a third of them older than three days) and their
pending follow-ups, then times the digest's queries and its message --samples times.
Target (issue 11): under 1 s at 100,000 cases. Measured 2026-12-01 on 2 cores (load ~1): SQLite p50 14 ms
(max 24), PostgreSQL p50 29 ms (max 37).

    /work/main/.venv/bin/python bench/digest.py                 # 100,000 cases, both databases
    /work/main/.venv/bin/python bench/digest.py --databases sqlite --cases 20000
    /work/main/.venv/bin/python bench/digest.py --smoke         # seconds: proves the benchmark still runs
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

from common import load_average, median, seeded_runs
from seed import seed  # noqa: E402 (bench/seed.py, found beside this script)
from sqlalchemy import insert  # noqa: E402

from bot.learning.digest import collect  # noqa: E402
from bot.learning.digest_message import build_digest  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Case, Reminder  # noqa: E402

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHANNEL = "CDIGEST"


def add_open_cases(url: str, count: int) -> None:
    """Open cases the seed does not make: spread over the last nine days, some private, some with late follow-ups."""
    db = Database(url, pool_size=1)
    try:
        cases, reminders = [], []
        for n in range(count):
            opened = NOW - timedelta(hours=1 + (n * 216 / max(count, 1)))
            private = n % 3 == 0
            cases.append(dict(channel_id="GPRIV" if private else "CSUPPORT", summary="still waiting", customer=f"Open {n}",
                              flagged_by="U00000001", owner_id=f"U{n % 200:08d}", status="open", opened_at=opened,
                              updated_at=opened, visibility="private" if private else "public",
                              permalink=f"https://example.slack.com/archives/CSUPPORT/p{n}"))
            reminders.append(dict(kind="follow_up", recipient=f"U{n % 200:08d}", due_at=opened, status="pending",
                                  dedupe_key=f"bench-digest:{n}", payload={}, created_at=opened, attempts=0))
        with db.session() as session:
            if cases:
                session.execute(insert(Case), cases)
                session.execute(insert(Reminder), reminders)
    finally:
        db.dispose()


def measure(url: str, samples: int) -> list[float]:
    db = Database(url, pool_size=2)
    try:
        build_digest(collect(db, NOW, CHANNEL), CHANNEL)  # warm the pool and the statement cache
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            text, blocks = build_digest(collect(db, NOW, CHANNEL), CHANNEL)
            times.append(time.perf_counter() - started)
            assert text and len(blocks) <= 50
        return times
    finally:
        db.dispose()


def seeded(url: str, args: argparse.Namespace) -> None:
    seed(url, args.cases, now=NOW, quiet=True)
    add_open_cases(url, args.open)


def run(kind: str, url: str, args: argparse.Namespace, seed_seconds: float) -> None:
    times = measure(url, args.samples)
    print(f"{kind}: {args.cases:,} cases (+{args.open} open), seeded in {seed_seconds:.1f} s; digest build "
          f"p50 {median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {len(times)} runs "
          f"(target < 1000 ms); load average {load_average()}")


def main(argv: list[str] | None = None) -> int:
    def more(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--open", type=int, default=300, help="open cases to add")

    return seeded_runs(__doc__.split("\n\n")[0], {"samples": 20}, {"cases": 500, "open": 30, "samples": 3}, seeded,
                       run, argv,
                       extra=more)


if __name__ == "__main__":
    sys.exit(main())
