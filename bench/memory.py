"""Memory over a long run: Defuse's RSS and PSS, per process, after each round of sustained /angry load.

The capacity run in sweep.py reads memory once, after a few thousand cases. This script shows whether
memory keeps growing as cases accumulate (a leak, or bursts whose memory the allocator keeps): it starts
the app (and the bare Bolt app, measured the same way as a floor), sends --rounds rounds of --per-round
/angry commands at --rate, waits until the app is idle, and prints after each round the RSS of the app,
of its posting process, their sum, and their PSS (pages they share counted once). Builds given with
--compare are measured the same way, one after the other.

    python bench/memory.py --rounds 10 --per-round 1500 --rate 150
    python bench/memory.py --compare /tmp/old/app.py --database postgresql
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ack_latency import AppServer, prepare, run_load, summarize, wait_until_idle  # noqa: E402
from common import (  # noqa: E402
    BARE_APP,
    DEFAULT_PG_URL,
    ROOT,
    StandInProcess,
    children,
    database,
    load_average,
    own_rss_mb,
    print_table,
    pss_mb,
)
from sweep import wait_for  # noqa: E402

CONCURRENCY = 64


def snapshot(app: AppServer) -> dict[str, Any]:
    assert app.proc is not None
    pid = app.proc.pid
    child = sum(own_rss_mb(c) or 0.0 for c in children(pid))
    own = own_rss_mb(pid) or 0.0
    return {"app_mb": own, "child_mb": child, "sum_mb": own + child, "pss_mb": pss_mb(pid) or 0.0,
            "load": load_average()}


def measure(name: str, script: Path, url: str | None, args: argparse.Namespace, standin: StandInProcess,
            tmp: Path) -> list[dict[str, Any]]:
    env = {"DATABASE_URL": url} if url else {}
    app = AppServer(name, script, standin.url, tmp / name, 2 if url else 0, "WARNING", env).start()
    rows = []
    try:
        time.sleep(1.0)  # let start-up work (the first sweep, the first tick) finish
        rows.append({"build": name, "cases": 0, **snapshot(app)})
        for number in range(args.rounds):
            standin.reset()  # its stored messages would slow it down over many rounds
            requests = prepare(standin, args.per_round, 1_000_000 * (number + 1), keepalive=False)
            samples, wall = run_load(app.port, requests, CONCURRENCY, False, 10.0, rate=args.rate)
            ok = summarize(samples, wall)["ok"]
            if ok != args.per_round:
                print(f"  {name}: {args.per_round - ok} of {args.per_round} requests failed", flush=True)
            if url:  # the posting process works on after the app has acked: wait for its posts (2 a case)
                drained, _ = wait_for(standin, "chat.postMessage", 2 * ok, 300.0)
                if not drained:
                    print(f"  {name}: not every case was posted within 5 minutes", flush=True)
            wait_until_idle(app, timeout=120.0)
            rows.append({"build": name, "cases": args.per_round * (number + 1), **snapshot(app)})
            print(f"  {name}: {rows[-1]['cases']:>6} cases  app {rows[-1]['app_mb']:.0f} MB  posting "
                  f"{rows[-1]['child_mb']:.0f} MB  PSS {rows[-1]['pss_mb']:.0f} MB  (load {rows[-1]['load']})",
                  flush=True)
    finally:
        app.stop()
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--per-round", type=int, default=1500)
    p.add_argument("--rate", type=float, default=150.0, help="requests/s within a round")
    p.add_argument("--defuse-app", type=Path, default=ROOT / "app.py")
    p.add_argument("--compare", type=Path, action="append", default=[], help="another build's app.py")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL)
    p.add_argument("--smoke", action="store_true", help="two small rounds: to check it still runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.rounds, args.per_round, args.rate = 2, 20, 40.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    standin = StandInProcess()
    rows: list[dict[str, Any]] = []
    print(f"load average at start: {load_average()}; Defuse's database: {args.database}", flush=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bare = measure("bare", BARE_APP, None, argparse.Namespace(**{**vars(args), "rounds": 1}), standin,
                           Path(tmp))
            builds = [("defuse", args.defuse_app)] + [(f"compare{i + 1}", p) for i, p in enumerate(args.compare)]
            for name, script in builds:
                with database(args.database, Path(tmp), args.pg_url) as url:
                    rows += measure(name, script, url, args, standin, Path(tmp))
    finally:
        standin.stop()
    print(f"\nbare Bolt app: {bare[0]['app_mb']:.0f} MB at start, {bare[-1]['app_mb']:.0f} MB after "
          f"{bare[-1]['cases']} commands")
    print_table(["build", "cases", "app MB", "posting MB", "RSS sum MB", "PSS MB", "load"],
                [[r["build"], r["cases"], f"{r['app_mb']:.0f}", f"{r['child_mb']:.0f}", f"{r['sum_mb']:.0f}",
                  f"{r['pss_mb']:.0f}", r["load"]] for r in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
