"""Several workers on one PostgreSQL database send each reminder exactly once.

1,000 due reminders; engines each with their own worker name and a counting fake delivery (no Slack)
tick at the same moment, first as threads in this process, then as separate OS processes (spawn).
PostgreSQL only: SQLite serialises writers, so it cannot show the race this guards against.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update

from bot.core import reminders
from bot.core.reminders import Due, ReminderEngine
from storage import repositories as repo
from storage.db import Database
from storage.models import Reminder

UTC = UTC
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)
COUNT = 1000


@pytest.fixture
def pg(pg_url: str):  # type: ignore[no-untyped-def]
    """Skips with conftest's reason when TEST_POSTGRES_URL is not set or not reachable."""
    database = Database(pg_url, pool_size=10)
    database.migrate()
    yield database
    database.dispose()


def seed(db: Database, count: int = COUNT) -> list[int]:
    rows = [
        {"kind": "follow_up", "case_id": None, "recipient": f"U{n % 17:04d}", "due_at": NOW - timedelta(seconds=n % 300),
         "status": "pending", "attempts": 0, "dedupe_key": f"load:{n}", "payload": {}, "created_at": NOW}
        for n in range(count)
    ]
    with db.session() as session:
        session.execute(insert(Reminder), rows)
    with db.session() as session:
        return list(session.scalars(select(Reminder.c.id)).all())


def check_all_sent(db: Database, delivered: Counter, expected_ids: list[int]) -> dict[str, int]:
    duplicates = {rid: n for rid, n in delivered.items() if n != 1}
    assert not duplicates, f"{len(duplicates)} reminders delivered more than once, e.g. {list(duplicates.items())[:5]}"
    assert sorted(delivered) == sorted(expected_ids), "some reminders were never delivered"
    with db.session() as session:
        statuses = dict(session.execute(select(Reminder.c.status, func.count()).group_by(Reminder.c.status)).all())
        assert statuses == {"sent": len(expected_ids)}
        assert session.scalar(select(func.count()).select_from(Reminder).where(Reminder.c.attempts != 1)) == 0
        return dict(session.execute(select(Reminder.c.locked_by, func.count()).group_by(Reminder.c.locked_by)).all())


# --- threads ----------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [4, 8])
def test_threads_each_with_an_engine_deliver_every_reminder_once(pg: Database, workers: int):
    ids = seed(pg)
    delivered: Counter[int] = Counter()
    per_worker: Counter[str] = Counter()
    guard = threading.Lock()

    def counting(name: str):  # type: ignore[no-untyped-def]
        def deliver(due: Due, now: datetime) -> reminders.Outcome:
            time.sleep(random.random() / 2000)  # a little jitter so claims interleave
            with guard:
                delivered[due.id] += 1
                per_worker[name] += 1
            return reminders.sent(f"D{due.recipient}", f"{due.id}.000100")
        return deliver

    engines = [ReminderEngine(pg, counting(f"t{n}"), worker=f"t{n}", batch=25) for n in range(workers)]
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(engine: ReminderEngine) -> None:
        try:
            barrier.wait()
            idle = 0
            while idle < 3:
                idle = idle + 1 if engine.tick(NOW).claimed == 0 else 0
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,), name=e.worker) for e in engines]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, errors
    holders = check_all_sent(pg, delivered, ids)
    assert holders == {k: v for k, v in per_worker.items()}, "a row is recorded as sent by a worker that did not send it"
    assert sum(1 for n in per_worker.values() if n) >= 2, f"only one worker did anything: {per_worker}"
    assert ReminderEngine(pg, counting("late"), worker="late").tick(NOW + timedelta(days=1)).claimed == 0
    assert time.monotonic() - started < 60


# --- processes --------------------------------------------------------------------------------
def _process_worker(url: str, name: str, go: Any, results: Any) -> None:
    """Runs in a spawned process: tick until there is nothing left, report which ids it delivered."""
    db = Database(url, pool_size=2)
    mine: list[int] = []

    def deliver(due: Due, now: datetime) -> reminders.Outcome:
        mine.append(due.id)
        return reminders.sent(f"D{due.recipient}", f"{due.id}.000100")

    engine = ReminderEngine(db, deliver, worker=name, batch=25)
    try:
        go.wait(30)
        idle = 0
        while idle < 3:
            idle = idle + 1 if engine.tick(NOW).claimed == 0 else 0
        results.put((name, mine, None))
    except BaseException as exc:  # sent back to the test
        results.put((name, mine, repr(exc)))
    finally:
        db.dispose()


def test_separate_processes_deliver_every_reminder_once(pg: Database, pg_url: str):
    ids = seed(pg)
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(pg_url, f"p{n}", go, results)) for n in range(4)]
    started = time.monotonic()
    for p in procs:
        p.start()
    time.sleep(0.5)
    go.set()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(20)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    assert [o[2] for o in outcomes] == [None] * len(procs), outcomes
    delivered: Counter[int] = Counter(rid for _, mine, _ in outcomes for rid in mine)
    holders = check_all_sent(pg, delivered, ids)
    assert holders == {name: len(mine) for name, mine, _ in outcomes if mine}
    assert time.monotonic() - started < 30


def test_a_heartbeat_never_waits_for_a_row_the_tick_is_writing(pg: Database) -> None:
    """The tick's one transaction per send writes two leased rows (the last outcome, the next start). A
    heartbeat that waited for one of them while holding the other deadlocked with it (PostgreSQL then
    aborted the tick). Now it renews the rows nobody is writing and leaves the one being written, whose
    write sets its lease anyway."""
    ids = seed(pg, 5)
    worker, until = "w1", NOW + timedelta(minutes=5)
    with pg.session() as session:
        session.execute(update(Reminder).values(locked_by=worker, locked_until=NOW + timedelta(seconds=30)))
    with pg.engine.connect() as tick:
        tick.begin()
        tick.execute(update(Reminder).where(Reminder.c.id == ids[0]).values(sending_at=NOW))  # held until rollback
        with pg.session() as session:
            session.execute(text("SET LOCAL lock_timeout = '3s'"))  # the old statement waited here, then failed
            renewed = repo.renew_leases(session, worker=worker, until=until)
        tick.rollback()
    assert renewed == 4
    with pg.session() as session:
        leases = dict(session.execute(select(Reminder.c.id, Reminder.c.locked_until)).all())
    assert [leases[i] == until for i in ids] == [False, True, True, True, True]
