"""Export benchmark: `bot.learning.export.write_export` over --cases (default 100,000) seeded cases.

For each database (a SQLite file in a temp dir; with --pg-url a fresh PostgreSQL database created
and dropped afterwards) this script bulk-inserts closed cases spread over two years (about 200
agents, cases/5 customers so many repeat, six steps each with some ticked, attempts, notes,
handoffs, escalations, reviews and follow-up events) with SQLAlchemy Core multi-row inserts, then
times a full export (all cases: --days 3650) in this process, then the same through the operators'
command `python app.py export` in a child process (its wall time, and its peak resident memory: the
export must not hold the cases in memory), and finally the retention erase of the same rows.
Target: 100,000 cases in under 30 s.

    /work/main/.venv/bin/python bench/export.py
    /work/main/.venv/bin/python bench/export.py --cases 20000 --pg-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot import export  # noqa: E402
from bot.learning.retention import Retention  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Case, CaseEvent, CaseStep, Handoff, Review  # noqa: E402

CHUNK = 2000


def chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def seed(db: Database, count: int, now: datetime, rng: random.Random) -> int:
    """Insert `count` closed cases and their records; returns the number of events."""
    agents = [f"U{n:08d}" for n in range(200)]
    customers = max(1, count // 5)
    start = now - timedelta(days=730)
    events = 0
    case_id = 0
    while case_id < count:
        cases, steps, log, handoffs, reviews = [], [], [], [], []
        for _ in range(min(CHUNK, count - case_id)):
            case_id += 1
            opened = start + timedelta(seconds=rng.randrange(730 * 86400 - 7 * 86400))
            closed = opened + timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
            owner = rng.choice(agents)
            customer = rng.randrange(customers)
            status = "resolved" if rng.random() < 0.8 else "unresolved"
            escalation = None
            if rng.random() < 0.15:
                promised = opened + timedelta(hours=rng.randrange(1, 48))
                fixed = opened + timedelta(hours=rng.randrange(1, 60))
                escalation = {"need": "billing fix", "severity": rng.choice(["low", "normal", "high"]),
                              "expected_by": promised.isoformat(), "fixed_at": fixed.isoformat(), "by": owner}
            cases.append(dict(
                id=case_id, team_id="T1", channel_id="C1", customer=f"Customer {customer}",
                customer_name_key=f"customer {customer}", customer_email=f"c{customer}@example.com" if customer % 3 else None,
                summary="charged twice and angry about it", mood=rng.choice(["calm", "upset", "angry", "furious"]),
                flagged_by=owner, owner_id=owner, status=status, opened_at=opened, closed_at=closed, closed_by=owner,
                resolution={"outcome": status, "fix": "refund"}, escalation=escalation, hard_nudged=False,
                updated_at=closed,
            ))
            ticked = rng.randrange(7)
            for n in range(1, 7):
                done = n <= ticked
                details = {"apology": "accepted", "note": "ok"} if done and n == 4 else None
                steps.append(dict(case_id=case_id, step=n, done=done, done_by=owner if done else None,
                                  done_at=opened if done else None, details=details))
            log.append(dict(case_id=case_id, at=opened, actor=owner, kind="case_opened", data={"summary": "x"}))
            for _ in range(rng.randrange(4)):
                log.append(dict(case_id=case_id, at=opened, actor=owner, kind="attempt",
                                data={"what": "offered a refund", "result": "calmer",
                                      "outcome": rng.choice(["helped", "partly", "failed"])}))
            if rng.random() < 0.3:
                log.append(dict(case_id=case_id, at=opened, actor=owner, kind="note", data={"text": "called back"}))
            if rng.random() < 0.1:
                handoffs.append(dict(case_id=case_id, from_user=owner, to_user=rng.choice(agents), note="please",
                                     status="accepted", requested_at=opened))
            if escalation:
                log.append(dict(case_id=case_id, at=opened, actor=owner, kind="escalated", data=dict(escalation)))
            log.append(dict(case_id=case_id, at=closed, actor=owner, kind=status, data={"fix": "refund"}))
            if rng.random() < 0.7:
                reviews.append(dict(case_id=case_id, cause=rng.choice(["bug", "ux", "support", "outside", "other"]),
                                    improve="faster", ux_issue="menu" if rng.random() < 0.2 else None,
                                    reviewed_by=owner, reviewed_at=closed))
            if rng.random() < 0.5:
                log.append(dict(case_id=case_id, at=closed + timedelta(days=1), actor=owner, kind="follow_up",
                                data={"outcome": rng.choice(["happy", "unhappy", "no_answer"]), "note": "fine"}))
        with db.session() as session:
            session.execute(insert(Case), cases)
            for part in chunks(steps, 6 * CHUNK):
                session.execute(insert(CaseStep), part)
            for part in chunks(log, 4 * CHUNK):
                session.execute(insert(CaseEvent), part)
            if handoffs:
                session.execute(insert(Handoff), handoffs)
            if reviews:
                session.execute(insert(Review), reviews)
        events += len(log)
    return events


def measure(url: str, count: int, out: Path) -> dict[str, Any]:
    db = Database(url, pool_size=2)
    db.migrate()
    now = datetime.now(UTC)
    started = time.perf_counter()
    events = seed(db, count, now, random.Random(7))
    seeded = time.perf_counter() - started
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    started = time.perf_counter()
    result = export.write_export(db, out, days=3650, now=now)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "export", "--days", "3650", "--out", str(out / "cli")],
                          env=env, capture_output=True, text=True, timeout=600)
    cli_seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"python app.py export failed: {done.stderr.strip()}")
    cli_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    started = time.perf_counter()
    erased = Retention(db, 30, clock=lambda: now).erase(now)
    erase_seconds = time.perf_counter() - started
    db.dispose()
    return {
        "database": "sqlite" if url.startswith("sqlite") else "postgresql",
        "cases": result.cases, "activity_rows": result.activity, "events_seeded": events,
        "seed_seconds": round(seeded, 1), "export_seconds": round(seconds, 2),
        "cases_csv_mb": round(result.cases_path.stat().st_size / 1e6, 1),
        "activity_csv_mb": round(result.activity_path.stat().st_size / 1e6, 1),
        "cli_seconds": round(cli_seconds, 2), "cli_peak_rss_mb": round(cli_peak_mb, 1),
        "retention_erased": erased, "retention_seconds": round(erase_seconds, 1),
        "under_30s": seconds < 30,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pg-url", help="PostgreSQL server URL; a throw-away database is created on it")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure(f"sqlite:///{tmp}/bench.db", args.cases, Path(tmp) / "sqlite"))
        print(json.dumps(results[-1]), flush=True)
        if args.pg_url:
            import psycopg

            admin = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
            name = "defuse_bench_" + uuid.uuid4().hex[:8]
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
                results.append(measure(url, args.cases, Path(tmp) / "pg"))
                print(json.dumps(results[-1]), flush=True)
            finally:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
