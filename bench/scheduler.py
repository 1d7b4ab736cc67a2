"""Reminder scheduler benchmark: idle-tick cost at scale and the cost of sending due reminders.

For each database (a SQLite file in a temp dir, and a fresh PostgreSQL database created with
CREATE DATABASE on --pg-url and dropped afterwards) this script:

  1. bulk-inserts --pending (default 100,000) pending reminders due in the future (SQLAlchemy Core
     insert of many rows per statement, in chunks), then times --ticks (default 50) ticks of
     ReminderEngine.tick() with nothing due (median, p95, max; target: idle tick < 10 ms), and
     shows the query plan of the real claim statement (captured from a tick, then run through
     EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) inside a rolled-back transaction on
     PostgreSQL) to show that ix_reminders_status_due is used. PostgreSQL is measured twice: right
     after the bulk load (no statistics yet) and after VACUUM ANALYZE (what autovacuum does soon
     after such a load).
  2. makes --send (default 10,000) reminders due and sends them in one tick:
     (a) real path: follow-up reminders of a closed case per seeded agent, delivered by
         app.wire(...)'s reminder sender (deliver) through slack_sdk to the Slack stand-in (tests/slack_standin.py,
         workspace seeded by tests/conftest.seed_workspace). Time is split, exclusively, into
           http       inside WebClient.api_call (slack_sdk encode + loopback HTTP + stand-in + decode)
           engine db  inside db.session() blocks opened by the engine (claim, mark sending, record)
           deliver db inside db.session() blocks opened by deliver (people cache, breather, dm channel)
           python     the rest (building Due objects and messages, outcome handling)
     (b) no-op deliver (returns bot.core.reminders.sent(None, None)): the pure database cost of the engine.
     Both report this process's CPU time per reminder too: on a shared 2-core machine, wall time
     includes waiting for a core, and the CPU figure is the steadier one.
  3. times one single-row UPDATE transaction layer by layer (--breakdown N, default 1000): the bare
     driver, a prebuilt Core statement, the same inside db.session(), and
     repo.finish_reminder exactly as the engine calls it; plus the read session deliver opens 3x per
     send. Variants run round-robin in 5 rounds; the median round is reported.
  4. times one claim of 50 while --send and --pending rows are due at the same instant (a mass
     09:00 follow-up, or a backlog after an outage), in rolled-back transactions, with the plan's
     sort / index-scan lines on PostgreSQL (--no-backlog skips).
  5. optionally (--million, PostgreSQL only) tops the pending rows up to 1,000,000 and times the
     idle tick and the plan again.

The stand-in runs in a child process by default (so its request handling does not share this
process's GIL); --standin-inprocess runs it in a thread of this process instead. Only 127.0.0.1 is
used. Nothing outside the temp dir / the throw-away database is written, except --json PATH.

    cd /work/main && /work/venv/bin/python bench/scheduler.py
    /work/venv/bin/python bench/scheduler.py --pending 20000 --send 2000 --json /tmp/sched.json
    /work/venv/bin/python bench/scheduler.py --no-sqlite --million

Exit status: 0 when the benchmark ran (missed targets are reported, not fatal, unless
--fail-on-miss), 1 when something broke (a reminder was not sent, the stand-in did not see the
expected messages), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import math
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import StandInProcess, Unavailable, pg_database  # noqa: E402  (bench/common.py puts the repo on sys.path)

IDLE_TARGET_MS = 10.0
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
AGENTS = ("UAGENT", "UCOLLEAGUE", "UTHIRD", "UEXPERT")  # people seeded by tests/conftest.seed_workspace
INDEX_NAME = "ix_reminders_status_due"
CHUNK = 10_000

log = logging.getLogger("bench.scheduler")


# --------------------------------------------------------------------------- small helpers
def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


class Timer:
    """Exclusive time per category: a region's time does not include regions nested inside it.

    Single-threaded use only (the engine runs in the calling thread)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self._stack: list[list[Any]] = []

    def inside(self, category: str) -> bool:
        return any(frame[0] == category for frame in self._stack)

    @contextmanager
    def region(self, category: str) -> Iterator[None]:
        frame: list[Any] = [category, 0.0]
        self._stack.append(frame)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self._stack.pop()
            self.totals[category] += elapsed - frame[1]
            self.counts[category] += 1
            if self._stack:
                self._stack[-1][1] += elapsed


# --------------------------------------------------------------------------- the Slack stand-in
# --------------------------------------------------------------------------- databases
def bulk_insert_future(db: Any, count: int, *, start: int, now: datetime, seed: int) -> float:
    """Insert `count` pending reminders due 1 hour .. 30 days from now (random order); seconds taken."""
    from sqlalchemy import insert

    from storage.models import Reminder

    rng = random.Random(seed)
    table = Reminder
    stmt = insert(table)
    horizon = 30 * 24 * 3600 - 3600
    until = now.isoformat()
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        rows = []
        for offset in range(size):
            i = start + done + offset
            rows.append({
                "kind": "breather_end", "case_id": None, "recipient": AGENTS[i % len(AGENTS)],
                "due_at": now + timedelta(seconds=3600 + rng.random() * horizon), "status": "pending",
                "attempts": 0, "dedupe_key": f"bench:future:{i}", "payload": {"until": until}, "created_at": now,
            })
        with db.engine.begin() as conn:
            conn.execute(stmt, rows)
        done += size
    return time.perf_counter() - started


def insert_due(db: Any, count: int, *, tag: str, now: datetime, case_of: dict[str, int] | None = None) -> None:
    """`count` reminders for the seeded agents, due a few minutes ago, in due order: follow-ups of each
    agent's closed case when `case_of` is given (the real delivery path), else breather_end rows."""
    from sqlalchemy import insert

    from storage.models import Reminder

    stmt = insert(Reminder)
    first = now - timedelta(minutes=5)
    until = (now - timedelta(minutes=5)).isoformat()
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        rows = [{
            "kind": "follow_up" if case_of else "breather_end",
            "case_id": case_of[AGENTS[i % len(AGENTS)]] if case_of else None,
            "recipient": AGENTS[i % len(AGENTS)],
            "due_at": first + timedelta(milliseconds=i), "status": "pending", "attempts": 0,
            "dedupe_key": f"bench:{tag}:{i}", "payload": {"index": 0} if case_of else {"until": until},
            "created_at": now,
        } for i in range(done, done + size)]
        with db.engine.begin() as conn:
            conn.execute(stmt, rows)
        done += size


def closed_cases(cases: Any, now: datetime) -> dict[str, int]:
    """One resolved case per seeded agent, so the follow-ups render from a real case."""
    from storage import repositories as repo

    case_of = {}
    for agent in AGENTS:
        snap = cases.open(team_id="T0001", channel_id="CSUPPORT", flagged_by=agent, customer=f"Bench customer of {agent}",
                          summary="charged twice, threatening to cancel", mood="angry")
        with cases.db.session() as session:
            repo.update_case(session, snap.id, now, status="resolved", closed_at=now, closed_by=agent,
                             resolution={"outcome": "resolved", "fix": "refunded the second charge"})
        case_of[agent] = snap.id
    return case_of


def status_counts(db: Any, tag: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.models import Reminder

    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Reminder.c.status, func.count()).where(Reminder.c.dedupe_key.like(f"bench:{tag}:%"))
            .group_by(Reminder.c.status)
        ).all()
        conn.rollback()
    return {status: count for status, count in rows}


def pending_total(db: Any) -> int:
    from sqlalchemy import func, select

    from storage.models import Reminder

    with db.engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(Reminder).where(Reminder.c.status == "pending")).scalar()
        conn.rollback()
    return int(value or 0)


def vacuum_analyze(db: Any) -> float:
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE reminders")
    return time.perf_counter() - started


# --------------------------------------------------------------------------- measurements
def noop_deliver(due: Any, now: datetime) -> Any:
    from bot.core.reminders import sent

    return sent(None, None)


def measure_idle(db: Any, ticks: int, warmup: int = 5) -> dict[str, Any]:
    from bot.core.reminders import ReminderEngine

    engine = ReminderEngine(db, noop_deliver)
    for _ in range(warmup):
        engine.tick()
    samples = []
    for _ in range(ticks):
        started = time.perf_counter()
        stats = engine.tick()
        samples.append((time.perf_counter() - started) * 1000.0)
        if stats.claimed:
            raise RuntimeError(f"an idle tick claimed {stats.claimed} reminders; nothing should be due")
    return {
        "ticks": ticks,
        "median_ms": statistics.median(samples),
        "p95_ms": percentile(samples, 95),
        "max_ms": max(samples),
        "min_ms": min(samples),
        "mean_ms": statistics.fmean(samples),
        "target_ms": IDLE_TARGET_MS,
        "meets_target": percentile(samples, 95) < IDLE_TARGET_MS,
    }


def capture_claim(db: Any) -> tuple[str, Any, float]:
    """The exact claim statement and driver parameters, from repo.claim_due in a rolled-back
    transaction (so it can be used with rows due without sending them); also its duration in ms."""
    from sqlalchemy import event

    from storage import repositories as repo

    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "UPDATE reminders" in statement and "WITH due" in statement:
            seen.append((statement, parameters))

    now = datetime.now(UTC)
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        with db.engine.connect() as session:
            session.begin()
            started = time.perf_counter()
            repo.claim_due(session, now=now, until=now + timedelta(minutes=5), worker="bench-explain", limit=50)
            elapsed = (time.perf_counter() - started) * 1000.0
            session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    if not seen:
        raise RuntimeError("no claim statement was seen")
    return seen[0][0], seen[0][1], elapsed


def claim_plan(db: Any) -> dict[str, Any]:
    statement, parameters, claim_ms = capture_claim(db)
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            lines = [f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows]
        else:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            lines = [r[0] for r in rows]
        conn.rollback()  # EXPLAIN ANALYZE ran the UPDATE: undo it
    text = "\n".join(lines)
    return {"statement": " ".join(statement.split()), "plan": lines, "uses_index": INDEX_NAME in text,
            "full_scan": ("SCAN reminders" in text and "USING" not in text) or "Seq Scan on reminders" in text,
            "sorts": "TEMP B-TREE" in text or "Sort Key" in text, "claim_ms": claim_ms}


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth += 1
        parent = parents.get(parent, 0)
    return depth


def instrument_db(db: Any, timer: Timer) -> Callable[[], None]:
    """Time every db.session() block as engine db or deliver db; returns an undo function."""
    original = db.session

    @contextmanager
    def timed_session() -> Iterator[Any]:
        category = "deliver_db" if timer.inside("deliver") else "engine_db"
        with timer.region(category):
            with original() as session:
                yield session

    db.session = timed_session

    import storage.repositories as repo_module

    claim_due = repo_module.claim_due

    def timed_claim(*args: Any, **kwargs: Any) -> Any:
        with timer.region("claim"):
            return claim_due(*args, **kwargs)

    repo_module.claim_due = timed_claim  # bot.core.reminders looks it up on the module at call time

    def undo() -> None:
        del db.session  # back to the class attribute
        repo_module.claim_due = claim_due

    return undo


def instrument_client(client: Any, timer: Timer, calls: dict[str, int]) -> None:
    original = client.api_call

    def timed_call(api_method: str, *args: Any, **kwargs: Any) -> Any:
        calls[api_method] = calls.get(api_method, 0) + 1
        with timer.region("http"):
            return original(api_method, *args, **kwargs)

    client.api_call = timed_call


def split(total: float, timer: Timer, count: int) -> dict[str, Any]:
    http = timer.totals.get("http", 0.0)
    claim = timer.totals.get("claim", 0.0)
    engine_db = timer.totals.get("engine_db", 0.0) + claim
    deliver_db = timer.totals.get("deliver_db", 0.0)
    python = max(0.0, total - http - engine_db - deliver_db)
    per = (lambda s: s * 1000.0 / count) if count else (lambda s: float("nan"))
    return {
        "total_s": total, "per_s": count / total if total else float("nan"),
        "http_s": http, "engine_db_s": engine_db, "deliver_db_s": deliver_db, "db_s": engine_db + deliver_db,
        "python_s": python,
        "ms_per_reminder": {
            "total": per(total), "http": per(http), "db": per(engine_db + deliver_db), "engine_db": per(engine_db),
            "deliver_db": per(deliver_db), "python": per(python), "claim": per(claim),
            "mark_record": per(engine_db - claim),
        },
        "claims": timer.counts.get("claim", 0),
        "claim_ms_each": claim * 1000.0 / timer.counts["claim"] if timer.counts.get("claim") else float("nan"),
        "sessions": {"engine": timer.counts.get("engine_db", 0), "deliver": timer.counts.get("deliver_db", 0)},
        "http_share": http / total if total else float("nan"),
        "db_share": (engine_db + deliver_db) / total if total else float("nan"),
    }


def send_real(db: Any, standin: StandInProcess, count: int) -> dict[str, Any]:
    from app import wire
    from bot.core.config import load_config
    from bot.core.reminders import ReminderEngine
    from handlers.slack.blockkit import check_views
    from handlers.slack.surface import SlackSurface, make_client
    from handlers.slack.worker import Worker

    check_views(False)  # as app.main runs: the DMs are rendered without slack_sdk's per-object checks
    standin.reset()
    cfg = load_config({"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "x", "SLACK_API_URL": standin.url,
                       "FOLLOW_UP_WORKING_HOURS": "off"})
    client = make_client(cfg.bot_token, cfg.api_url)
    reminder_client = make_client(cfg.bot_token, cfg.api_url, retries=False)
    services, _sweep, sender = wire(cfg, db, SlackSurface(client), SlackSurface(reminder_client), Worker(threads=1))
    cases = services.cases

    now = datetime.now(UTC)
    case_of = closed_cases(cases, now)
    insert_due(db, count, tag="real", now=now, case_of=case_of)

    timer = Timer()
    api_calls: dict[str, int] = {}
    instrument_client(client, timer, api_calls)
    instrument_client(reminder_client, timer, api_calls)
    undo = instrument_db(db, timer)
    deliver = sender.deliver

    def timed_deliver(due: Any, when: datetime) -> Any:
        with timer.region("deliver"):
            return deliver(due, when)

    def timed_prepare(claimed: list[Any]) -> None:  # the batch's case read belongs to the delivery
        with timer.region("deliver"):
            sender.prepare(claimed)

    engine = ReminderEngine(db, timed_deliver, prepare=timed_prepare)  # as app.py wires it
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        stats = engine.tick()
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        undo()
        check_views(True)
    result = split(total, timer, stats.sent)
    result["cpu_ms_per_reminder"] = cpu * 1000.0 / stats.sent if stats.sent else float("nan")
    result.update({
        "count": count, "sent": stats.sent, "claimed": stats.claimed, "retried": stats.retried,
        "failed": stats.failed, "lost": stats.lost, "errors": sorted(set(stats.errors))[:5],
        "api_calls": api_calls, "standin_calls": standin.call_counts(), "rows": status_counts(db, "real"),
    })
    posted = result["standin_calls"].get("chat.postMessage", {}).get("ok", 0)
    result["ok"] = stats.sent == count and result["rows"].get("sent") == count and posted == count
    if not result["ok"]:
        result["problem"] = (f"sent {stats.sent}/{count}, rows {result['rows']}, stand-in chat.postMessage ok {posted}"
                             f", errors {result['errors']}")
    return result


def send_noop(db: Any, count: int, *, profile: bool) -> dict[str, Any]:
    from bot.core.reminders import ReminderEngine

    now = datetime.now(UTC)
    insert_due(db, count, tag="noop", now=now)
    backlog_plan = claim_plan(db)  # the claim with `count` rows due (rolled back)
    timer = Timer()
    undo = instrument_db(db, timer)

    def timed_deliver(due: Any, when: datetime) -> Any:
        with timer.region("deliver"):
            return noop_deliver(due, when)

    engine = ReminderEngine(db, timed_deliver)
    profiler = cProfile.Profile() if profile else None
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        stats = engine.tick()
        if profiler:
            profiler.disable()
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        undo()
    result = split(total, timer, stats.sent)
    result["cpu_ms_per_reminder"] = cpu * 1000.0 / stats.sent if stats.sent else float("nan")
    result.update({"count": count, "sent": stats.sent, "claimed": stats.claimed, "lost": stats.lost,
                   "rows": status_counts(db, "noop"), "backlog_plan": backlog_plan})
    result["ok"] = stats.sent == count and result["rows"].get("sent") == count
    if not result["ok"]:
        result["problem"] = f"sent {stats.sent}/{count}, rows {result['rows']}"
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        result["profile"] = out.getvalue()
    return result


def backlog_claims(db: Any, sizes: list[int], repeat: int = 5) -> list[dict[str, Any]]:
    """One claim of 50 while `size` pending rows are due at the same instant (a mass follow-up at
    09:00, or the backlog after an outage). Each size runs in a transaction that is rolled back."""
    from sqlalchemy import event, select, update

    from storage import repositories as repo
    from storage.models import Reminder

    table = Reminder
    results = []
    for size in sizes:
        seen: list[tuple[str, Any]] = []

        def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            if "UPDATE reminders" in statement and "WITH due" in statement:
                seen.append((statement, parameters))

        session = db.engine.connect()
        session.begin()
        try:
            now = datetime.now(UTC)
            chosen = select(table.c.id).where(table.c.status == "pending").order_by(table.c.id).limit(size)
            made = session.execute(
                update(table).where(table.c.id.in_(chosen)).values(due_at=now - timedelta(hours=1))
            ).rowcount
            samples = []
            event.listen(db.engine, "before_cursor_execute", before)
            try:
                for _ in range(repeat):
                    started = time.perf_counter()
                    repo.claim_due(session, now=now, until=now + timedelta(minutes=5), worker="bench-backlog", limit=50)
                    samples.append((time.perf_counter() - started) * 1000.0)
            finally:
                event.remove(db.engine, "before_cursor_execute", before)
            plan: list[str] = []
            if not db.is_sqlite and seen:
                statement, parameters = seen[0]
                rows = session.exec_driver_sql("EXPLAIN (ANALYZE) " + statement, parameters).all()
                plan = [r[0].strip() for r in rows if any(k in r[0] for k in ("Sort", "Index Scan using ix_", "Execution Time"))]
        finally:
            session.rollback()
            session.close()
        results.append({"due": made, "claim_median_ms": statistics.median(samples), "claim_max_ms": max(samples),
                        "plan_excerpt": plan})
    return results


def session_breakdown(db: Any, n: int) -> dict[str, Any]:
    """What one per-reminder transaction costs, peeled layer by layer: the same single-row UPDATE
    the engine issues to mark a send (a real write: the row matches), n times per variant."""
    from sqlalchemy import bindparam, create_engine, insert, select, update

    from storage import repositories as repo
    from storage.models import Reminder

    table = Reminder
    worker = "bench-breakdown"
    now = datetime.now(UTC)
    until = now + timedelta(minutes=5)
    far = now + timedelta(days=400)  # never due during the run
    rows = [{"kind": "breather_end", "case_id": None, "recipient": AGENTS[0], "due_at": far + timedelta(seconds=i),
             "status": "pending", "attempts": 1, "dedupe_key": f"bench:breakdown:{i}", "payload": {},
             "created_at": now, "locked_by": worker, "locked_until": until} for i in range(n)]
    with db.engine.begin() as conn:
        conn.execute(insert(table), rows)
        ids = list(conn.execute(select(table.c.id).where(table.c.dedupe_key.like("bench:breakdown:%"))).scalars())
    with db.session() as session:
        repo.upsert_agent(session, "UBENCH", name="bench", is_bot=False, deleted=False, tz="UTC")

    naive_now, naive_until = now.replace(tzinfo=None), until.replace(tzinfo=None)
    if db.is_sqlite:
        raw_sql = ("UPDATE reminders SET locked_until=?, sending_at=?, locked_by=? "
                   "WHERE id=? AND locked_by=? AND status='pending'")
        raw_args = lambda i: (naive_until.isoformat(" "), naive_now.isoformat(" "), worker, i, worker)  # noqa: E731
    else:
        raw_sql = ("UPDATE reminders SET locked_until=%s, sending_at=%s, locked_by=%s "
                   "WHERE id=%s AND locked_by=%s AND status='pending'")
        raw_args = lambda i: (naive_until, naive_now, worker, i, worker)  # noqa: E731
    core = (update(table).where(table.c.id == bindparam("rid"), table.c.locked_by == worker, table.c.status == "pending")
            .values(locked_until=until, sending_at=now, locked_by=worker))
    no_ping = None if db.is_sqlite else create_engine(db.url, pool_size=2, connect_args={"connect_timeout": 5})

    variants: list[tuple[str, Callable[[int], Any]]] = []
    matched = {"n": 0}

    raw = db.engine.raw_connection()
    driver = raw.driver_connection

    def raw_once(rid: int) -> None:
        cursor = driver.cursor()
        if db.is_sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(raw_sql, raw_args(rid))
        if db.is_sqlite:
            cursor.execute("COMMIT")
        else:
            driver.commit()
        cursor.close()

    variants.append(("driver only: BEGIN, UPDATE, COMMIT, one connection", raw_once))

    def core_once(rid: int) -> None:
        with db.engine.begin() as conn:
            conn.execute(core, {"rid": rid})

    variants.append(("Core prebuilt UPDATE in engine.begin()", core_once))
    if no_ping is not None:
        def core_noping_once(rid: int) -> None:
            with no_ping.begin() as conn:
                conn.execute(core, {"rid": rid})

        variants.append(("  same, engine without pool_pre_ping", core_noping_once))

    def session_core_once(rid: int) -> None:
        with db.session() as session:
            session.execute(core, {"rid": rid})

    variants.append(("db.session() + Core prebuilt UPDATE", session_core_once))

    def finish_once(rid: int) -> None:
        with db.session() as session:
            if repo.finish_reminder(session, rid, worker, locked_until=until, sending_at=now, locked_by=worker):
                matched["n"] += 1

    variants.append(("db.session() + repo.finish_reminder (engine, 2x/send)", finish_once))

    def read_once(rid: int) -> None:
        with db.session() as session:
            repo.get_agent(session, "UBENCH")

    variants.append(("db.session() + repo.get_agent (deliver, 3x/send)", read_once))

    def bare_session_once(rid: int) -> None:
        with db.session() as session:
            session.connection()  # checkout + BEGIN, then COMMIT: the fixed cost of any session

    variants.append(("db.session() with no statement (checkout, commit)", bare_session_once))

    # Round-robin rounds, so load from other processes on the machine hits every variant alike;
    # the reported figure is the median of the per-round means.
    rounds = 5 if len(ids) >= 50 else 1
    per_round = [ids[k::rounds] for k in range(rounds)]
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    try:
        for label, once in variants:  # warm-up: connections, statement caches
            for rid in ids[:10]:
                once(rid)
        for chunk in per_round:
            for label, once in variants:
                matched["n"] = 0
                cpu, started = time.process_time(), time.perf_counter()
                for rid in chunk:
                    once(rid)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                samples[label].append((wall * 1000.0 / len(chunk), cpu * 1000.0 / len(chunk)))
                if label.startswith("db.session() + repo.finish_reminder") and matched["n"] != len(chunk):
                    raise RuntimeError(f"breakdown: finish_reminder matched {matched['n']} of {len(chunk)} rows")
    finally:
        raw.close()
        if no_ping is not None:
            no_ping.dispose()
    results = {label: {"wall_ms": statistics.median(w for w, _ in values), "cpu_ms": statistics.median(c for _, c in values)}
               for label, values in samples.items()}
    return {"n": len(ids), "rounds": rounds, "variants": results}


def run_backend(name: str, url: str, args: argparse.Namespace, standin: StandInProcess | None) -> dict[str, Any]:
    from storage.db import Database

    db = Database(url)
    out: dict[str, Any] = {"backend": name, "loadavg_start": loadavg()}
    try:
        db.migrate()
        if not db.is_sqlite:
            with db.engine.connect() as conn:
                out["server_version"] = conn.exec_driver_sql("SHOW server_version").scalar()
                out["synchronous_commit"] = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
                conn.rollback()
        now = datetime.now(UTC)
        step(f"{name}: inserting {args.pending:,} pending reminders due in the future")
        seconds = bulk_insert_future(db, args.pending, start=0, now=now, seed=1)
        out["insert"] = {"rows": args.pending, "seconds": seconds, "rows_per_s": args.pending / seconds if seconds else 0}
        step(f"{name}: {args.ticks} idle ticks")
        out["idle"] = measure_idle(db, args.ticks)
        out["plan"] = claim_plan(db)
        if not db.is_sqlite:
            out["vacuum_analyze_s"] = vacuum_analyze(db)
            step(f"{name}: {args.ticks} idle ticks after VACUUM ANALYZE")
            out["idle_analyzed"] = measure_idle(db, args.ticks)
            out["plan_analyzed"] = claim_plan(db)
        if args.send and standin is not None:
            step(f"{name}: sending {args.send:,} due reminders through deliver -> slack_sdk -> stand-in")
            out["real"] = send_real(db, standin, args.send)
        if args.send:
            step(f"{name}: sending {args.send:,} due reminders with a no-op deliver")
            out["noop"] = send_noop(db, args.send, profile=args.profile)
        if args.breakdown:
            step(f"{name}: cost of one transaction, layer by layer ({args.breakdown:,} each)")
            out["breakdown"] = session_breakdown(db, args.breakdown)
        out["idle_after_send"] = measure_idle(db, args.ticks)
        sizes = sorted({n for n in (args.send, args.pending) if n >= 1000})
        if sizes and not args.no_backlog:
            step(f"{name}: one claim with {' / '.join(f'{n:,}' for n in sizes)} rows due at one instant (rolled back)")
            out["backlog"] = backlog_claims(db, sizes)
        if args.million and not db.is_sqlite:
            have = pending_total(db)
            extra = max(0, 1_000_000 - have)
            step(f"{name}: topping up to 1,000,000 pending ({extra:,} more rows)")
            seconds = bulk_insert_future(db, extra, start=args.pending, now=datetime.now(UTC), seed=2)
            million: dict[str, Any] = {"rows": pending_total(db), "insert_rows": extra, "insert_seconds": seconds}
            million["idle"] = measure_idle(db, args.ticks)
            million["plan"] = claim_plan(db)
            million["vacuum_analyze_s"] = vacuum_analyze(db)
            million["idle_analyzed"] = measure_idle(db, args.ticks)
            out["million"] = million
        out["pending_at_end"] = pending_total(db)
        out["loadavg_end"] = loadavg()
    finally:
        db.dispose()
    return out


def loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- report
def fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[str]:
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, getter: Callable[[dict[str, Any]], Any], spec: str = ".2f") -> None:
        values = []
        for name in names:
            try:
                values.append(fmt(getter(results[name]), spec))
            except (KeyError, TypeError, IndexError):
                values.append("-")
        if any(v != "-" for v in values):
            rows.append((label, values))

    def section(title: str) -> None:
        rows.append((title, [""] * len(names)))

    section(f"-- {args.pending:,} pending, due in the future")
    add("bulk insert (s)", lambda r: r["insert"]["seconds"])
    add("bulk insert (rows/s)", lambda r: r["insert"]["rows_per_s"], ",.0f")
    add("idle tick median (ms)", lambda r: r["idle"]["median_ms"], ".3f")
    add("idle tick p95 (ms)", lambda r: r["idle"]["p95_ms"], ".3f")
    add("idle tick max (ms)", lambda r: r["idle"]["max_ms"], ".3f")
    add("claim plan uses (status, due_at) index", lambda r: r["plan"]["uses_index"])
    add("idle p95 after VACUUM ANALYZE (ms)", lambda r: r["idle_analyzed"]["p95_ms"], ".3f")
    add(f"idle p95 < {IDLE_TARGET_MS:g} ms",
        lambda r: r["idle"]["meets_target"] and r.get("idle_analyzed", {"meets_target": True})["meets_target"])
    section(f"-- send {args.send:,} due: real deliver -> slack_sdk -> stand-in")
    add("total (s)", lambda r: r["real"]["total_s"])
    add("reminders/s", lambda r: r["real"]["per_s"], ",.0f")
    add("per reminder total (ms)", lambda r: r["real"]["ms_per_reminder"]["total"], ".3f")
    add("  http: slack_sdk + stand-in (ms)", lambda r: r["real"]["ms_per_reminder"]["http"], ".3f")
    add("  db: engine, claim /50 (ms)", lambda r: r["real"]["ms_per_reminder"]["claim"], ".3f")
    add("  db: engine, mark + record (ms)", lambda r: r["real"]["ms_per_reminder"]["mark_record"], ".3f")
    add("  db: deliver sessions (ms)", lambda r: r["real"]["ms_per_reminder"]["deliver_db"], ".3f")
    add("  python, other (ms)", lambda r: r["real"]["ms_per_reminder"]["python"], ".3f")
    add("  (this process's CPU, ms)", lambda r: r["real"]["cpu_ms_per_reminder"], ".3f")
    add("share of time in http", lambda r: 100 * r["real"]["http_share"], ".1f")
    add("share of time in db", lambda r: 100 * r["real"]["db_share"], ".1f")
    add("db sessions per reminder",
        lambda r: (r["real"]["sessions"]["engine"] + r["real"]["sessions"]["deliver"]) / r["real"]["sent"], ".2f")
    add("all sent and seen by stand-in", lambda r: r["real"]["ok"])
    section(f"-- send {args.send:,} due: no-op deliver (database only)")
    add("total (s)", lambda r: r["noop"]["total_s"])
    add("reminders/s", lambda r: r["noop"]["per_s"], ",.0f")
    add("per reminder total (ms)", lambda r: r["noop"]["ms_per_reminder"]["total"], ".3f")
    add("  db: engine, claim /50 (ms)", lambda r: r["noop"]["ms_per_reminder"]["claim"], ".3f")
    add("  db: engine, mark + record (ms)", lambda r: r["noop"]["ms_per_reminder"]["mark_record"], ".3f")
    add("  python, other (ms)", lambda r: r["noop"]["ms_per_reminder"]["python"], ".3f")
    add("  (this process's CPU, ms)", lambda r: r["noop"]["cpu_ms_per_reminder"], ".3f")
    add("db sessions per reminder", lambda r: r["noop"]["sessions"]["engine"] / r["noop"]["sent"], ".2f")
    add("one claim of 50 (ms)", lambda r: r["noop"]["claim_ms_each"], ".3f")
    add(f"claim with {args.send:,} due, rolled back (ms)", lambda r: r["noop"]["backlog_plan"]["claim_ms"], ".3f")
    add("  plan uses index / sorts", lambda r: f"{fmt(r['noop']['backlog_plan']['uses_index'])} / "
        f"{'sort' if r['noop']['backlog_plan']['sorts'] else 'no sort'}")
    add("all sent", lambda r: r["noop"]["ok"])
    section("-- afterwards")
    add("1-min load average at start / end", lambda r: f"{r['loadavg_start']:.1f} / {r['loadavg_end']:.1f}")
    add("idle tick p95 after the sends (ms)", lambda r: r["idle_after_send"]["p95_ms"], ".3f")
    for index in range(2):
        add(f"claim of 50, backlog #{index + 1}: rows due at one instant",
            lambda r, i=index: f"{r['backlog'][i]['due']:,}", "")
        add(f"claim of 50, backlog #{index + 1}: median (ms)", lambda r, i=index: r["backlog"][i]["claim_median_ms"], ".3f")
    add("1M pending: insert (s)", lambda r: r["million"]["insert_seconds"], ".1f")
    add("1M pending: idle median (ms)", lambda r: r["million"]["idle"]["median_ms"], ".3f")
    add("1M pending: idle p95 (ms)", lambda r: r["million"]["idle"]["p95_ms"], ".3f")
    add("1M pending: p95 after ANALYZE (ms)", lambda r: r["million"]["idle_analyzed"]["p95_ms"], ".3f")
    add("1M pending: plan uses index", lambda r: r["million"]["plan"]["uses_index"])

    variants: list[str] = []
    for r in results.values():
        for label in r.get("breakdown", {}).get("variants", {}):
            if label not in variants:
                variants.append(label)
    if variants:
        section("-- one single-row UPDATE transaction, layer by layer (ms wall / ms CPU of this process)")
        for label in variants:
            add(label, lambda r, label=label: "{wall_ms:.3f} / {cpu_ms:.3f}".format(**r["breakdown"]["variants"][label]))

    # drop section headers with nothing under them
    rows = [row for k, row in enumerate(rows)
            if not row[0].startswith("--") or (k + 1 < len(rows) and not rows[k + 1][0].startswith("--"))]
    width = max(len(label) for label, _ in rows if not label.startswith("--")) + 2
    col = max(12, *(len(n) + 2 for n in names), *(len(v) + 2 for _, values in rows for v in values))
    lines = ["", f"{'':<{width}}" + "".join(f"{n:>{col}}" for n in names)]
    for label, values in rows:
        if label.startswith("--"):
            lines.append(label)
        else:
            lines.append(f"{label:<{width}}" + "".join(f"{v:>{col}}" for v in values))

    for name in names:
        r = results[name]
        for key, title in (("plan", "claim plan"), ("plan_analyzed", "claim plan after VACUUM ANALYZE")):
            if key in r:
                lines += ["", f"{name} {title} ({args.pending:,} pending):"] + [f"    {line}" for line in r[key]["plan"]]
        if "noop" in r:
            lines += ["", f"{name} claim plan with {args.send:,} due:"]
            lines += [f"    {line}" for line in r["noop"]["backlog_plan"]["plan"]]
        for item in r.get("backlog", []):
            if item["plan_excerpt"]:
                lines += ["", f"{name} claim with {item['due']:,} due at one instant (plan excerpt):"]
                lines += [f"    {line}" for line in item["plan_excerpt"]]
        if "million" in r:
            lines += ["", f"{name} claim plan at 1M pending:"] + [f"    {line}" for line in r["million"]["plan"]["plan"]]
    any_plan = next((r["plan"]["statement"] for r in results.values() if "plan" in r), None)
    if any_plan:
        lines += ["", "claim statement (as sent by the last backend, parameters elided):", f"    {any_plan}"]

    lines.append("")
    for name in names:
        r = results[name]
        if "real" in r and "noop" in r:
            real, noop = r["real"]["ms_per_reminder"], r["noop"]["ms_per_reminder"]
            bound = "the stand-in (HTTP)" if real["http"] > real["db"] else "the database"
            lines.append(
                f"{name}: real send {real['total']:.2f} ms/reminder = http {real['http']:.2f} + db {real['db']:.2f} "
                f"(engine {real['engine_db']:.2f}, deliver {real['deliver_db']:.2f}) + python {real['python']:.2f}; "
                f"no-op deliver costs {noop['total']:.2f} ms/reminder (db {noop['db']:.2f}). Sending is bound by {bound}."
            )
        for key in ("real", "noop"):
            if key in r and not r[key]["ok"]:
                lines.append(f"{name}: PROBLEM in {key} send: {r[key]['problem']}")
        if "noop" in r and "profile" in r["noop"]:
            lines += ["", f"{name}: cProfile of the no-op send (cumulative):", r["noop"]["profile"]]
    return lines


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", type=int, default=100_000, help="pending future reminders (default 100000)")
    parser.add_argument("--send", type=int, default=10_000, help="due reminders to send per mode (default 10000; 0 skips)")
    parser.add_argument("--ticks", type=int, default=50, help="idle ticks to time (default 50)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
                        help=f"PostgreSQL server to CREATE/DROP a scratch database on (default {DEFAULT_PG_URL})")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--million", action="store_true", help="PostgreSQL: also time the idle tick at 1,000,000 pending")
    parser.add_argument("--no-real", action="store_true", help="skip the real delivery path (no stand-in)")
    parser.add_argument("--standin-inprocess", action="store_true", help="run the stand-in in this process")
    parser.add_argument("--profile", action="store_true", help="cProfile the no-op send and print the top entries")
    parser.add_argument("--breakdown", type=int, default=1000, metavar="N",
                        help="time N single-row UPDATE transactions per layer (driver, Core, a unit of work); 0 skips")
    parser.add_argument("--no-backlog", action="store_true",
                        help="skip timing a claim while --send / --pending rows are due at one instant")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 1 when an idle tick misses the target")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on SQLite only: seconds, to check it still runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.pending, args.send, args.ticks, args.breakdown = 300, 60, 5, 0
        args.no_pg, args.no_backlog = True, True
    if args.pending < 0 or args.send < 0 or args.ticks < 1 or args.breakdown < 0:
        parser.error("--pending and --send must be >= 0 and --ticks >= 1")
    if args.no_sqlite and args.no_pg:
        parser.error("nothing to do: both --no-sqlite and --no-pg")
    return args


def environment() -> dict[str, Any]:
    import sqlite3

    import slack_sdk
    import sqlalchemy

    env = {"python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__, "slack_sdk": slack_sdk.version.__version__,
           "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        import psycopg

        env["psycopg"] = psycopg.__version__
    except ImportError:
        pass
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    env = environment()
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    standin: StandInProcess | None = None
    tmp = Path(tempfile.mkdtemp(prefix="defuse-sched-bench-"))
    started = time.perf_counter()
    try:
        if args.send and not args.no_real:
            standin = StandInProcess(args.standin_inprocess)
            print(f"stand-in: {standin.url} ({'in this process' if args.standin_inprocess else 'child process'})")
        if not args.no_sqlite:
            results["sqlite"] = run_backend("sqlite", f"sqlite:///{tmp / 'bench.db'}", args, standin)
        if args.no_pg:
            skipped["postgresql"] = "--no-pg"
        else:
            try:
                with pg_database(args.pg_url) as url:
                    results["postgresql"] = run_backend("postgresql", url, args, standin)
            except Unavailable as exc:
                skipped["postgresql"] = str(exc)
                print(f"PostgreSQL skipped: {exc}", flush=True)
    finally:
        if standin is not None:
            standin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - started

    for line in report(results, args):
        print(line)
    for name, reason in skipped.items():
        print(f"{name} skipped: {reason}")
    print(f"benchmark wall time: {elapsed:.1f} s")

    if args.json:
        payload = {"args": vars(args), "environment": env, "results": results, "skipped": skipped,
                   "wall_seconds": elapsed, "idle_target_ms": IDLE_TARGET_MS}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
        print(f"wrote {args.json}")

    broken = any(not r[k]["ok"] for r in results.values() for k in ("real", "noop") if k in r)
    missed = any(not r[k]["meets_target"] for r in results.values() for k in ("idle", "idle_analyzed") if k in r)
    if broken or (missed and args.fail_on_miss):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
