"""Request-to-ack latency of signed `/angry` slash commands under concurrent load.

Measures two apps on the same server stack, in one invocation, against one Slack stand-in:

  bare    bench/bare_app.py: Bolt App built like app.py (authorize=..., listener_executor=
          ThreadPoolExecutor(32)), Bolt's WSGI adapter, waitress threads=16; `/angry` only acks.
  defuse  `python app.py` in HTTP mode, SQLite file database in a temp dir. Its `/angry` acks and
          then, in the same listener thread, inserts the case, calls chat.postMessage (case),
          chat.getPermalink, chat.postMessage (checklist thread).

Load: --concurrency client threads (default 20) send --requests signed slash commands (default
1000) per app, after --warmup unmeasured ones. Each request is a form-encoded body signed with the
signing secret exactly as Slack signs it, with a fresh response_url and trigger_id issued by the
stand-in, text like `Customer 17: charged twice` (a new customer number per request). Closed
loop: each client sends its next request as soon as the previous one is answered (--rate R makes
it an open loop at R requests/s instead). By default every request opens a NEW TCP connection
(closer to Slack than keep-alive; the connect is inside the measured time); --keepalive reuses one
connection per client instead. Latency = from just before connect/send to the last byte of the
response. Only 127.0.0.1 is used.

After each app's run the script waits until the stand-in has seen every expected chat.postMessage
(2 per acknowledged Defuse request; 0 for bare) and reports how long that "drain" took, so one
run's post-ack work never overlaps the next measurement.

The stand-in runs in its own process by default, so its request handling does not compete with
the load generator's threads for this process's GIL (that would inflate Defuse's numbers only,
since only Defuse calls the Web API). --standin-inprocess runs it in this process instead.

    cd /work/main && /work/venv/bin/python bench/ack_latency.py
    /work/venv/bin/python bench/ack_latency.py --rounds 2 --json bench/results/ack.json
    /work/venv/bin/python bench/ack_latency.py --trace /tmp/trace      # where the ack time goes
    /work/venv/bin/python bench/ack_latency.py --apps defuse --profile /tmp/prof   # CPU profile
    /work/venv/bin/python bench/ack_latency.py --defuse-app ../fix/app.py          # try a fix

Exit status: 0 when the benchmark ran (non-200 answers and missed targets are reported, not
fatal, unless --fail-on-miss), 1 when something broke (an app did not start or died, post-ack
work did not drain in time, the load generator failed), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import StandInProcess as StandIn  # noqa: E402  (bench/common.py puts the repo on sys.path)

from tests.harness import AppProcess, sign  # noqa: E402

TARGET_P99_MS = 100.0
TARGET_P99_CONCURRENCY = 20
TARGET_RATIO = 1.5
USERS = ("UAGENT", "UCOLLEAGUE", "UTHIRD", "UEXPERT")
PROBLEMS = ("charged twice", "order never arrived", "refund still missing", "locked out of the account")


class BenchError(Exception):
    """Something broke: the numbers would be meaningless."""


# --------------------------------------------------------------------------- the apps under test
def clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


def process_cpu(pid: int) -> float | None:
    """user+system CPU seconds of a process (all threads) from /proc/<pid>/stat; None if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / clock_ticks()
    except (OSError, ValueError, IndexError):
        return None


def machine_busy() -> float | None:
    """CPU seconds the whole machine has been busy (all CPUs), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        guest = sum(values[8:10]) if len(values) > 9 else 0  # already counted in user/nice
        return (sum(values) - idle - guest) / clock_ticks()
    except (OSError, ValueError, IndexError):
        return None


class OtherLoad:
    """How much CPU processes other than the benchmark's own used during a window, in cores."""

    def __init__(self, pids: list[int]):
        self.pids = pids

    def _own(self) -> float:
        return sum(v for v in (process_cpu(pid) for pid in [os.getpid(), *self.pids]) if v is not None)

    def start(self) -> OtherLoad:
        self.t0, self.busy0, self.own0 = time.perf_counter(), machine_busy(), self._own()
        return self

    def cores(self) -> float | None:
        busy1, own1 = machine_busy(), self._own()
        wall = time.perf_counter() - self.t0
        if self.busy0 is None or busy1 is None or wall <= 0:
            return None
        return max(0.0, ((busy1 - self.busy0) - (own1 - self.own0)) / wall)


class AppServer(AppProcess):
    """One app run by the test harness (a subprocess on a free 127.0.0.1 port, output in a log file),
    optionally under bench/profile_app.py or bench/trace_app.py."""

    def __init__(self, name: str, script: Path, standin_url: str, workdir: Path, posts_per_request: int,
                 log_level: str, extra_env: dict[str, str] | None = None, wrapper: str | None = None,
                 wrapper_out: Path | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        env = dict(extra_env or {})
        database_url = env.pop("DATABASE_URL", f"sqlite:///{workdir / 'unused.db'}")
        if wrapper:  # the wrapper runs the app named in WRAPPED_APP and writes to <WRAPPER>_OUT
            env.update({"WRAPPED_APP": str(script), f"{wrapper.upper()}_OUT": str(wrapper_out)})
        super().__init__(SimpleNamespace(url=standin_url), database_url, workdir,
                         script=ROOT / "bench" / f"{wrapper}_app.py" if wrapper else script,
                         LOG_LEVEL=log_level, PYTHONUNBUFFERED="1", SCHEDULER_TICK_SECONDS="10", **env)
        self.name = name
        self.posts_per_request = posts_per_request

    def start(self, timeout: float = 30.0) -> AppServer:
        try:
            super().start(timeout)
        except RuntimeError as exc:
            raise BenchError(f"{self.name} did not start: {exc}") from None
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self) -> float | None:
        """user+system CPU time of the app process (all its threads), from /proc."""
        return process_cpu(self.proc.pid) if self.proc is not None and self.alive() else None

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self) -> int | None:  # type: ignore[override]
        return super().stop() if self.proc is not None else None


# --------------------------------------------------------------------------- load generation
@dataclass
class Prepared:
    body: bytes
    headers: dict[str, str]


def prepare(standin: StandIn, n: int, first_customer: int, keepalive: bool) -> list[Prepared]:
    """n signed /angry commands, each with its own response_url and trigger_id from the stand-in."""
    out = []
    for i, (response_url, trigger_id) in enumerate(standin.issue(n)):
        number = first_customer + i
        user = USERS[number % len(USERS)]
        body = urllib.parse.urlencode({
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "CSUPPORT",
            "channel_name": "support",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/angry",
            "text": f"Customer {number}: {PROBLEMS[number % len(PROBLEMS)]}",
            "api_app_id": "A0DEFUSE",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        if not keepalive:
            headers["Connection"] = "close"
        out.append(Prepared(body, headers))
    return out


@dataclass
class Sample:
    start: float  # seconds since the load started
    latency: float  # seconds
    status: int  # HTTP status; 0 for a transport error
    error: str | None = None


def run_load(port: int, requests: list[Prepared], concurrency: int, keepalive: bool, timeout: float,
             rate: float | None = None) -> tuple[list[Sample], float]:
    """Closed loop: `concurrency` threads each send the next request as soon as the previous one is answered.

    With `rate`, request i is due at i/rate seconds after the start instead (open loop, still at most
    `concurrency` in flight) and its latency counts from when it was due, so a request that had to
    wait for a free client is not reported as fast (no coordinated omission)."""
    samples: list[Sample | None] = [None] * len(requests)
    counter = itertools.count()
    counter_lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    origin = [0.0]
    crashed: list[BaseException] = []

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        try:
            ready.wait()
            while True:
                with counter_lock:
                    i = next(counter)
                if i >= len(requests):
                    return
                req = requests[i]
                t0 = time.perf_counter()
                if rate:
                    due = origin[0] + i / rate
                    if due > t0:
                        time.sleep(due - t0)
                    t0 = due
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                    conn.request("POST", "/slack/events", body=req.body, headers=req.headers)
                    resp = conn.getresponse()
                    resp.read()
                    t1 = time.perf_counter()
                    samples[i] = Sample(t0 - origin[0], t1 - t0, resp.status)
                    if not keepalive or resp.will_close:
                        conn.close()
                        conn = None
                except (OSError, http.client.HTTPException) as exc:
                    t1 = time.perf_counter()
                    samples[i] = Sample(t0 - origin[0], t1 - t0, 0, f"{type(exc).__name__}: {exc}")
                    if conn is not None:
                        conn.close()
                        conn = None
        except BaseException as exc:  # a bug here must not look like a fast run
            crashed.append(exc)
        finally:
            if conn is not None:
                conn.close()

    threads = [threading.Thread(target=worker, name=f"client-{k}", daemon=True) for k in range(concurrency)]
    for t in threads:
        t.start()
    origin[0] = time.perf_counter()
    ready.wait()
    bound = time.monotonic() + timeout * (len(requests) / concurrency + 2) + 30 + (len(requests) / rate if rate else 0)
    for t in threads:
        t.join(max(0.0, bound - time.monotonic()))
    wall = time.perf_counter() - origin[0]
    if crashed:
        raise BenchError(f"load generator failed: {crashed[0]!r}")
    if any(t.is_alive() for t in threads):
        raise BenchError("load generator threads did not finish in time")
    done = [s for s in samples if s is not None]
    if len(done) != len(requests):
        raise BenchError(f"only {len(done)} of {len(requests)} requests were sent")
    return done, wall


def wait_for_drain(standin: StandIn, baseline: int, expected: int, timeout: float) -> tuple[bool, float, int]:
    """Wait until the stand-in has seen `expected` chat.postMessage calls beyond `baseline`."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        seen = standin.counts()["methods"].get("chat.postMessage", 0) - baseline
        if seen >= expected:
            return True, time.perf_counter() - started, seen
        if time.monotonic() >= deadline:
            return False, time.perf_counter() - started, seen
        time.sleep(0.02)


def wait_until_idle(app: AppServer, timeout: float = 10.0, window: float = 0.2) -> float:
    """After the last expected post, wait until the app's CPU use is at most one clock tick per window
    (its final database writes are done); returns the seconds waited."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    tick = 1.0 / clock_ticks()
    before = app.cpu_seconds()
    while before is not None and time.monotonic() < deadline:
        time.sleep(window)
        after = app.cpu_seconds()
        if after is None or after - before <= tick + 1e-9:
            break
        before = after
    return time.perf_counter() - started


# --------------------------------------------------------------------------- statistics
def percentile(sorted_values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(samples: list[Sample], wall: float) -> dict[str, Any]:
    ok = sorted(s.latency * 1000 for s in samples if s.status == 200)
    statuses = Counter(s.status for s in samples)
    errors = Counter(s.error.split(":")[0] for s in samples if s.error)
    by_start = [s for s in sorted(samples, key=lambda s: s.start) if s.status == 200]
    tenth = max(1, len(by_start) // 10)
    trend = [percentile(sorted(s.latency * 1000 for s in by_start[k:k + tenth]), 50)
             for k in range(0, tenth * 10 if len(by_start) >= 10 else len(by_start), tenth)]
    return {
        "requests": len(samples),
        "ok": len(ok),
        "non_200": len(samples) - len(ok),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "transport_errors": dict(errors),
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
        "p99_ms": percentile(ok, 99),
        "max_ms": ok[-1] if ok else float("nan"),
        "mean_ms": sum(ok) / len(ok) if ok else float("nan"),
        "wall_s": wall,
        "throughput_rps": len(samples) / wall if wall > 0 else float("nan"),
        "p50_ms_by_tenth_of_run": [round(v, 2) for v in trend],  # drift check: grows if the app slows down as it runs
    }


# --------------------------------------------------------------------------- one measured phase
@dataclass
class Phase:
    app: str
    round: int
    summary: dict[str, Any]
    samples: list[Sample]
    warmup: dict[str, Any]
    drain_ok: bool
    drain_s: float
    idle_s: float
    posts_expected: int
    posts_seen: int
    app_cpu_s: float | None
    app_cpu_drain_s: float | None
    failed_calls: dict[str, int] = field(default_factory=dict)
    response_url_posts: int = 0
    window: tuple[float, float] = (0.0, 0.0)  # perf_counter (CLOCK_MONOTONIC, same in every process)
    other_cores: float | None = None  # CPU used by processes outside the benchmark during the run


def measure(app: AppServer, standin: StandIn, rnd: int, args: argparse.Namespace, customer: itertools.count,
            own_pids: list[int]) -> Phase:
    # Warm-up: same load, not measured; its post-ack work drains before the measured run starts.
    warm_summary: dict[str, Any] = {}
    if args.warmup > 0:
        base = standin.counts()["methods"].get("chat.postMessage", 0)
        reqs = prepare(standin, args.warmup, next_block(customer, args.warmup), args.keepalive)
        warm, wall = run_load(app.port, reqs, min(args.concurrency, args.warmup), args.keepalive, args.timeout, args.rate)
        warm_summary = summarize(warm, wall)
        expected = app.posts_per_request * warm_summary["ok"]
        ok, drain_s, seen = wait_for_drain(standin, base, expected, args.drain_timeout)
        warm_summary.update(drain_s=drain_s, drained=ok)
        if ok and app.posts_per_request:
            wait_until_idle(app)
        if not ok:
            raise BenchError(f"{app.name}: warm-up post-ack work did not drain in {args.drain_timeout}s "
                             f"({seen}/{expected} chat.postMessage)\n{app.log_tail()}")
        if not app.alive():
            raise BenchError(f"{app.name} died during warm-up:\n{app.log_tail()}")

    # Drained: start the measured phase from an empty stand-in (keeps its per-message scans short).
    standin.reset()
    reqs = prepare(standin, args.requests, next_block(customer, args.requests), args.keepalive)
    cpu0 = app.cpu_seconds()
    others = OtherLoad(own_pids).start()
    window_start = time.perf_counter()
    samples, wall = run_load(app.port, reqs, args.concurrency, args.keepalive, args.timeout, args.rate)
    cpu1 = app.cpu_seconds()
    window_end = time.perf_counter()
    other_cores = others.cores()
    summary = summarize(samples, wall)
    expected = app.posts_per_request * summary["ok"]
    drained, drain_s, seen = wait_for_drain(standin, 0, expected, args.drain_timeout)
    idle_s = wait_until_idle(app) if drained and app.posts_per_request else 0.0
    cpu2 = app.cpu_seconds()
    counts = standin.counts()
    phase = Phase(
        app=app.name, round=rnd, summary=summary, samples=samples, warmup=warm_summary,
        drain_ok=drained, drain_s=drain_s, idle_s=idle_s, posts_expected=expected, posts_seen=seen,
        app_cpu_s=(cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None,
        app_cpu_drain_s=(cpu2 - cpu1) if cpu1 is not None and cpu2 is not None else None,
        failed_calls=counts["failed"], response_url_posts=counts["responses"], window=(window_start, window_end),
        other_cores=other_cores,
    )
    if not app.alive():
        raise BenchError(f"{app.name} died during the run:\n{app.log_tail()}")
    if not drained:
        raise BenchError(f"{app.name}: post-ack work did not drain within {args.drain_timeout}s "
                         f"({seen}/{expected} chat.postMessage seen)\n{app.log_tail()}")
    return phase


def next_block(counter: itertools.count, n: int) -> int:
    first = next(counter)
    for _ in range(n - 1):
        next(counter)
    return first


# --------------------------------------------------------------------------- report
def pooled(phases: list[Phase], app: str) -> dict[str, Any] | None:
    mine = [p for p in phases if p.app == app]
    if not mine:
        return None
    samples = [s for p in mine for s in p.samples]
    summary = summarize(samples, sum(p.summary["wall_s"] for p in mine))
    cpu = [p.app_cpu_s for p in mine if p.app_cpu_s is not None]
    cpu_drain = [p.app_cpu_drain_s for p in mine if p.app_cpu_drain_s is not None]
    summary.update(
        rounds=len(mine),
        drain_s_max=max(p.drain_s for p in mine),
        drain_s=[round(p.drain_s, 3) for p in mine],
        app_cpu_ms_per_request=(1000 * sum(cpu) / summary["requests"]) if cpu else None,
        app_cpu_drain_s=sum(cpu_drain) if cpu_drain else None,
        posts_expected=sum(p.posts_expected for p in mine),
        posts_seen=sum(p.posts_seen for p in mine),
        failed_standin_calls=dict(sum((Counter(p.failed_calls) for p in mine), Counter())),
        response_url_posts=sum(p.response_url_posts for p in mine),
    )
    return summary


def fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def report(phases: list[Phase], args: argparse.Namespace, env: dict[str, Any]) -> dict[str, Any]:
    mode = "keep-alive (one connection per client)" if args.keepalive else "new TCP connection per request"
    print()
    loop = f"open loop at {args.rate:g} req/s (at most {args.concurrency} in flight)" if args.rate else \
        f"{args.concurrency} concurrent clients (closed loop)"
    print(f"/angry request-to-ack latency: {args.requests} requests per app per round, {loop}, "
          f"{args.warmup} warm-up, {args.rounds} round(s), {mode}")
    env["loadavg_at_end"] = os.getloadavg()
    print(f"machine: {env['cpus']} CPUs, Python {env['python']}, load average {env['loadavg_at_start'][0]:.2f} at start "
          f"(other work on the machine skews the numbers); stand-in "
          f"{'in this process' if args.standin_inprocess else 'in its own process'}")
    print()
    header = (f"{'app':<8}{'round':>6}{'ok':>6}{'non200':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
              f"{'req/s':>8}{'cpu ms/req':>11}{'drain s':>9}{'other load':>11}")
    print(header)
    print("-" * len(header))
    for p in phases:
        s = p.summary
        cpu = 1000 * p.app_cpu_s / s["requests"] if p.app_cpu_s is not None else None
        print(f"{p.app:<8}{p.round:>6}{s['ok']:>6}{s['non_200']:>7}{fmt(s['p50_ms']):>9}{fmt(s['p95_ms']):>9}"
              f"{fmt(s['p99_ms']):>9}{fmt(s['max_ms']):>9}{fmt(s['throughput_rps'], 0):>8}{fmt(cpu, 2):>11}"
              f"{fmt(p.drain_s, 2):>9}{fmt(p.other_cores, 2):>11}")
    apps = {name: pooled(phases, name) for name in ("bare", "defuse")}
    if args.rounds > 1:
        print("-" * len(header))
        for name, s in apps.items():
            if s:
                print(f"{name:<8}{'all':>6}{s['ok']:>6}{s['non_200']:>7}{fmt(s['p50_ms']):>9}{fmt(s['p95_ms']):>9}"
                      f"{fmt(s['p99_ms']):>9}{fmt(s['max_ms']):>9}{fmt(s['throughput_rps'], 0):>8}"
                      f"{fmt(s['app_cpu_ms_per_request'], 2):>11}{fmt(s['drain_s_max'], 2):>9}")
    print()
    print("cpu ms/req: the app process's CPU time during the load divided by requests (both cores count);")
    print("drain s: from the last ack until the stand-in had all expected chat.postMessage calls.")
    print("other load: CPU cores used by processes outside this benchmark during the run (should be ~0).")

    bare, defuse = apps["bare"], apps["defuse"]
    ratios: dict[str, float | None] = {}
    targets: dict[str, Any] = {}
    if bare and defuse:
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            ratios[key.replace("_ms", "")] = defuse[key] / bare[key] if bare[key] else None
        print()
        print("defuse / bare: " + ", ".join(f"{k} {fmt(v, 2)}x" for k, v in ratios.items()))
    if defuse:
        p99 = defuse["p99_ms"]
        at_target_load = args.concurrency == TARGET_P99_CONCURRENCY and not args.rate
        targets["p99_under_100ms"] = {
            "met": bool(p99 < TARGET_P99_MS), "defuse_p99_ms": p99, "limit_ms": TARGET_P99_MS,
            "concurrency": args.concurrency, "at_target_concurrency": at_target_load,
        }
        if bare:
            limit = TARGET_RATIO * bare["p99_ms"]
            targets["p99_within_1_5x_bare"] = {"met": bool(p99 <= limit), "ratio": ratios.get("p99"), "limit_ms": limit}
        print()
        print("targets:")
        note = "" if at_target_load else "  (not measured at the target's load: 20 concurrent clients, closed loop)"
        print(f"  Defuse p99 < {TARGET_P99_MS:.0f} ms:            {'MET' if p99 < TARGET_P99_MS else 'MISSED'}"
              f"  ({fmt(p99)} ms){note}")
        if bare:
            t = targets["p99_within_1_5x_bare"]
            print(f"  Defuse p99 <= 1.5 x bare p99:    {'MET' if t['met'] else 'MISSED'}"
                  f"  ({fmt(p99)} ms vs {fmt(t['limit_ms'])} ms = 1.5 x {fmt(bare['p99_ms'])} ms; ratio {fmt(ratios['p99'], 2)}x)")

    notes = []
    for name, s in apps.items():
        if not s:
            continue
        if s["non_200"]:
            notes.append(f"{name}: {s['non_200']} of {s['requests']} requests were not answered 200 "
                         f"(statuses {s['statuses']}, transport errors {s['transport_errors'] or 'none'}); "
                         "their latencies are left out of the percentiles")
        if s["failed_standin_calls"]:
            notes.append(f"{name}: Web API calls the stand-in refused during the run: {s['failed_standin_calls']}")
        if s["response_url_posts"]:
            notes.append(f"{name}: {s['response_url_posts']} posts to response_url (Defuse reports failures that way)")
    busy = [p for p in phases if p.other_cores is not None and p.other_cores > 0.2]
    if busy:
        notes.append("other processes used CPU during " + ", ".join(f"{p.app} round {p.round} ({p.other_cores:.2f} cores)"
                                                               for p in busy) + ": on a 2-core machine that skews the numbers")
    if defuse:
        notes.append(f"defuse: post-ack work drained {fmt(defuse['drain_s_max'], 2)} s after the last ack "
                     f"({defuse['posts_seen']}/{defuse['posts_expected']} chat.postMessage); "
                     f"app CPU while draining {fmt(defuse['app_cpu_drain_s'], 2)} s")
    if notes:
        print()
        for n in notes:
            print("note: " + n)
    return {
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "connection_mode": "keepalive" if args.keepalive else "new_connection_per_request",
        "environment": env,
        "apps": apps,
        "ratios_defuse_over_bare": ratios,
        "targets": targets,
        "phases": [
            {"app": p.app, "round": p.round, **p.summary, "warmup": p.warmup, "drain_ok": p.drain_ok,
             "drain_s": p.drain_s, "idle_wait_s": p.idle_s, "posts_expected": p.posts_expected, "posts_seen": p.posts_seen,
             "app_cpu_s": p.app_cpu_s, "app_cpu_drain_s": p.app_cpu_drain_s, "failed_standin_calls": p.failed_calls,
             "response_url_posts": p.response_url_posts, "other_load_cores": p.other_cores}
            for p in phases
        ],
        "notes": notes,
    }


def trace_report(phases: list[Phase], directory: Path) -> dict[str, Any]:
    """Where the server-side ack time went, from bench/trace_app.py's records of the measured runs."""
    stages = (("middleware", "enter", "submit"), ("wait_listener_thread", "submit", "start"),
              ("listener_before_ack", "start", "ack"), ("ack_to_response", "ack", "exit"),
              ("server_total", "enter", "exit"), ("listener_total", "start", "done"))
    out: dict[str, Any] = {}
    print()
    print("server-side stages of the measured requests (bench/trace_app.py; ms, p50 / p99):")
    print(f"  {'app':<8}" + "".join(f"{name:>24}" for name, _, _ in stages) + f"{'busy listeners p50/max':>26}")
    for name in dict.fromkeys(p.app for p in phases):
        path = directory / f"{name}.trace.json"
        try:
            records = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            print(f"  {name}: no trace ({exc})")
            continue
        windows = [p.window for p in phases if p.app == name]
        mine = [r for r in records if any(a <= r["enter"] <= b for a, b in windows)]
        row: dict[str, Any] = {"requests": len(mine)}
        cells = []
        for stage, a, b in stages:
            values = sorted(1000 * (r[b] - r[a]) for r in mine if a in r and b in r)
            row[stage] = {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99), "n": len(values)}
            cells.append(f"{fmt(row[stage]['p50_ms'])} / {fmt(row[stage]['p99_ms'])}")
        busy = sorted(r.get("running_at_submit", 0) for r in mine)
        queued = sorted(r.get("queued_at_submit", 0) for r in mine)
        row["listeners_running_at_submit"] = {"p50": percentile(busy, 50), "max": busy[-1] if busy else None}
        row["listener_queue_at_submit"] = {"p50": percentile(queued, 50), "max": queued[-1] if queued else None}
        out[name] = row
        print(f"  {name:<8}" + "".join(f"{c:>24}" for c in cells)
              + f"{fmt(row['listeners_running_at_submit']['p50'], 0) + ' / ' + fmt(row['listeners_running_at_submit']['max']):>26}")
    print("  middleware = Bolt before the listener is handed over; wait_listener_thread = queue in the 32-thread")
    print("  executor; ack_to_response = Bolt's 10 ms poll noticing ack() plus getting the GIL back;")
    print("  listener_total = the whole listener including post-ack work.")
    return out


# --------------------------------------------------------------------------- main
def _no_nan(value: Any) -> Any:
    """NaN (no successful request) becomes null, so the file is strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concurrency", type=int, default=20, help="concurrent clients (default 20)")
    ap.add_argument("--requests", type=int, default=1000, help="measured requests per app per round (default 1000)")
    ap.add_argument("--warmup", type=int, default=100, help="unmeasured warm-up requests before each run (default 100)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate bare/defuse this many times (default 1)")
    ap.add_argument("--apps", default="bare,defuse", help="which apps, in order (default bare,defuse)")
    ap.add_argument("--rate", type=float, default=None, metavar="REQ_PER_S",
                    help="open loop: send at this fixed rate (still at most --concurrency in flight) instead of "
                    "closed loop; latency then counts from when each request was due")
    ap.add_argument("--keepalive", action="store_true", help="one keep-alive connection per client instead of one per request")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-request socket timeout in seconds (default 10)")
    ap.add_argument("--drain-timeout", type=float, default=120.0, help="max wait for post-ack work, seconds (default 120)")
    ap.add_argument("--defuse-app", default=str(ROOT / "app.py"), metavar="PATH",
                    help="the Defuse entry point to run (default ./app.py; e.g. another worktree's app.py to compare a fix)")
    ap.add_argument("--standin-inprocess", action="store_true", help="run the Slack stand-in in this process")
    ap.add_argument("--log-level", default="INFO", help="LOG_LEVEL for both apps (default INFO, as in production)")
    ap.add_argument("--profile", metavar="DIR", help="run the apps under bench/profile_app.py (per-thread CPU "
                    "profiles to DIR/<app>.pstats and .txt); latencies under the profiler are NOT representative")
    ap.add_argument("--trace", metavar="DIR", help="run the apps under bench/trace_app.py and report where the "
                    "server-side ack time goes (Bolt middleware, wait for a listener thread, ack -> response)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (app logs, SQLite file)")
    ap.add_argument("--fail-on-miss", action="store_true", help="exit 3 when a target is missed")
    ap.add_argument("--smoke", action="store_true", help="a few requests at low concurrency: seconds, to check it still runs")
    args = ap.parse_args(argv)
    if args.smoke:
        args.concurrency, args.requests, args.warmup, args.rounds = 4, 40, 8, 1
    apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    if not apps or any(a not in ("bare", "defuse") for a in apps) or len(set(apps)) != len(apps):
        ap.error("--apps takes bare and/or defuse, comma-separated")
    if not (1 <= args.concurrency <= 200) or not (1 <= args.requests <= 100_000) or not (0 <= args.warmup <= 100_000):
        ap.error("need 1 <= --concurrency <= 200, 1 <= --requests <= 100000, 0 <= --warmup <= 100000")
    if args.rate is not None and not (0.1 <= args.rate <= 10_000):
        ap.error("need 0.1 <= --rate <= 10000")
    if not (1 <= args.rounds <= 20):
        ap.error("need 1 <= --rounds <= 20")
    args.app_list = apps
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
           "loadavg_at_start": os.getloadavg()}
    tmp = Path(tempfile.mkdtemp(prefix="defuse-bench-"))
    if args.profile and args.trace:
        print("--profile and --trace exclude each other", file=sys.stderr)
        return 2
    for directory in (args.profile, args.trace):
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
    standin: StandIn | None = None
    servers: dict[str, AppServer] = {}
    phases: list[Phase] = []
    broken: str | None = None
    started = time.perf_counter()
    try:
        standin = StandIn(args.standin_inprocess)
        specs = {
            "bare": (ROOT / "bench" / "bare_app.py", 0, {}),
            "defuse": (Path(args.defuse_app).resolve(), 2, {"DATABASE_URL": f"sqlite:///{tmp / 'defuse' / 'defuse.db'}",
                                            "FOLLOW_UP_WORKING_HOURS": "off"}),
        }
        for name in args.app_list:
            script, posts, extra = specs[name]
            wrapper, wrapper_out = None, None
            if args.profile:
                wrapper, wrapper_out = "profile", Path(args.profile).resolve() / f"{name}.pstats"
            elif args.trace:
                wrapper, wrapper_out = "trace", Path(args.trace).resolve() / f"{name}.trace.json"
            servers[name] = AppServer(name, script, standin.url, tmp / name, posts, args.log_level, extra,
                                      wrapper, wrapper_out)
            print(f"starting {name} ({script}) on 127.0.0.1:{servers[name].port} ...", flush=True)
            servers[name].start()
        customer = itertools.count(1)
        for rnd in range(1, args.rounds + 1):
            for name in args.app_list:
                print(f"round {rnd}: {name}: {args.warmup} warm-up + {args.requests} measured requests ...", flush=True)
                own_pids = [s.proc.pid for s in servers.values() if s.proc] + standin.pids()
                phase = measure(servers[name], standin, rnd, args, customer, own_pids)
                s = phase.summary
                print(f"  p50 {s['p50_ms']:.1f} ms  p99 {s['p99_ms']:.1f} ms  {s['throughput_rps']:.0f} req/s  "
                      f"non-200 {s['non_200']}  drain {phase.drain_s:.2f} s", flush=True)
                phases.append(phase)
    except (BenchError, RuntimeError) as exc:  # RuntimeError: the stand-in process
        broken = str(exc)
    except KeyboardInterrupt:
        broken = "interrupted"
    finally:
        for server in servers.values():
            server.stop()
        if standin is not None:
            standin.stop()

    result: dict[str, Any] = {}
    if phases:
        result = report(phases, args, env)
        if args.trace:
            result["trace"] = trace_report(phases, Path(args.trace).resolve())
    elapsed = time.perf_counter() - started
    print(f"\ntotal time {elapsed:.1f} s; app logs in {tmp}" if args.keep_tmp or broken else f"\ntotal time {elapsed:.1f} s")
    if broken:
        print(f"\nBROKEN: {broken}", file=sys.stderr)
        result["broken"] = broken
    if args.profile:
        print(f"profiles in {Path(args.profile).resolve()} (latencies above were measured under the profiler)")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        result["total_s"] = elapsed
        path.write_text(json.dumps(_no_nan(result), indent=2, default=str, allow_nan=False))
        print(f"results written to {path}")
    if not args.keep_tmp and not broken:
        shutil.rmtree(tmp, ignore_errors=True)
    if broken:
        return 1
    if args.fail_on_miss and any(not t["met"] for t in result.get("targets", {}).values()):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
