"""The reminder lease heartbeat (bot/core/reminders.py): rows stay held while a slow tick works through
them, and are free soon after the holder stops renewing (killed)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from bot.core import reminders
from bot.core.reminders import Due, ReminderEngine
from storage import repositories as repo

LEASE = timedelta(seconds=0.9)  # heartbeat every 0.3 s


def enqueue(db, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC) - timedelta(seconds=1)
    with db.session() as session:
        return [repo.add_reminder(session, dedupe_key=f"hb:{n}", now=now, kind="breather_end", recipient="U1",
                                  due_at=now, payload={}) for n in range(count)]


def test_a_slow_tick_keeps_its_claim_past_the_lease_and_every_row_is_sent_once(db):
    ids = enqueue(db, 3)
    sent: list[tuple[str, int]] = []
    first_started = threading.Event()

    def slow(name: str):  # type: ignore[no-untyped-def]
        def deliver(due: Due, now: datetime) -> reminders.Outcome:
            first_started.set()
            time.sleep(0.8)  # three sends: 2.4 s, far beyond one 0.9 s lease
            sent.append((name, due.id))
            return reminders.sent("D1", f"{due.id}.0001")
        return deliver

    holder = ReminderEngine(db, slow("holder"), worker="holder", lease=LEASE)
    thief = ReminderEngine(db, slow("thief"), worker="thief", lease=LEASE)
    runner = threading.Thread(target=holder.tick)
    runner.start()
    assert first_started.wait(5)
    stolen = 0
    while runner.is_alive():
        stolen += thief.tick().claimed
        time.sleep(0.1)
    runner.join()
    assert stolen == 0 and sorted(rid for _, rid in sent) == sorted(ids) and {n for n, _ in sent} == {"holder"}


def test_after_the_holder_dies_its_rows_are_free_within_one_lease(db):
    ids = enqueue(db, 2)
    now = datetime.now(UTC)
    with db.session() as session:  # a process claims and is killed: no heartbeat renews it
        assert len(repo.claim_due(session, now=now, until=now + LEASE, worker="dead", limit=10)) == 2
    survivor = ReminderEngine(db, lambda due, at: reminders.sent("D1", f"{due.id}.0001"), worker="survivor", lease=LEASE)
    assert survivor.tick().claimed == 0
    deadline = time.monotonic() + 5
    sent = 0
    while sent < 2 and time.monotonic() < deadline:
        sent += survivor.tick().sent
        time.sleep(0.1)
    assert sent == len(ids)
    assert (datetime.now(UTC) - now) < LEASE + timedelta(seconds=1)


def test_renew_leases_touches_only_rows_still_held_by_that_worker(db):
    ids = enqueue(db, 3)
    now = datetime.now(UTC)
    with db.session() as session:
        repo.claim_due(session, now=now, until=now + LEASE, worker="w1", limit=2)
    with db.session() as session:
        assert repo.finish_reminder(session, ids[0], "w1", status="sent")
    with db.session() as session:
        assert repo.renew_leases(session, worker="w1", until=now + timedelta(minutes=1)) == 1
        assert repo.renew_leases(session, worker="w2", until=now + timedelta(minutes=1)) == 0
