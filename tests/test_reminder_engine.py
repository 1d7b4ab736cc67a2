"""The reminder engine (bot/core/reminders.py) on SQLite and PostgreSQL, delivering through the real
FollowUps.deliver to the Slack stand-in: due vs not due, exactly once, retries with backoff, giving
up (and keeping the row), permanent errors, 429, leases after a crash, stop(), the dedupe key and
the conversations.history check after a send that may have reached Slack."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Row, event, func, select

from bot import texts
from bot.core import reminders
from bot.core.config import load_config
from bot.core.reminders import Due, Outcome, ReminderEngine
from storage import repositories as repo
from storage.models import Agent, Reminder
from storage.sql import row_by_key
from tests.support import wired

UTC = UTC
TOKEN = "xoxb-test-token"
T0 = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)  # a Wednesday, inside working hours everywhere that matters
LEASE = timedelta(minutes=5)


class Crash(BaseException):
    """Stands in for kill -9: not an Exception, so nothing in the engine catches it."""


class World:
    """The domain in-process against the stand-in, with a clock the test moves."""

    def __init__(self, db, standin, now: datetime = T0, **env: str):  # type: ignore[no-untyped-def]
        self.db, self.standin, self.now = db, standin, now
        self.config = load_config({
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": standin.url,
            "FOLLOW_UP_WORKING_HOURS": "off", **env,
        })
        self.services, sender = wired(self.config, db, standin.url, self.clock)
        self.cases = self.services.cases
        self.deliver = sender.deliver

    def clock(self) -> datetime:
        return self.now

    def engine(self, worker: str = "worker-1", deliver: Callable[[Due, datetime], Outcome] | None = None,
               **kw: Any) -> ReminderEngine:
        return ReminderEngine(self.db, deliver or self.deliver, clock=self.clock, worker=worker, lease=LEASE, **kw)

    def enqueue(self, key: str, due_at: datetime, *, recipient: str = "UAGENT", kind: str = "breather_end") -> int:
        """A reminder without a case: the end-of-breather DM (no working hours, no buttons)."""
        with self.db.session() as session:
            rid = repo.add_reminder(session, dedupe_key=key, now=self.now, kind=kind, recipient=recipient,
                                    due_at=due_at, payload={})
        assert rid is not None
        return rid

    def row(self, rid: int) -> Row[Any]:
        with self.db.session() as session:
            reminder = row_by_key(session, Reminder, rid)
            assert reminder is not None
            return reminder

    def posts(self, rid: int | None = None, user: str = "UAGENT") -> list[Any]:
        """Successful chat.postMessage calls tagged as reminders (optionally one reminder)."""
        out = []
        for call in self.standin.calls_to("chat.postMessage"):
            meta = call.args.get("metadata") or {}
            if call.status != 200 or not call.response.get("ok") or call.args.get("channel") != user:
                continue
            if meta.get("event_type") != "defuse_reminder":
                continue
            if rid is None or meta.get("event_payload", {}).get("reminder_id") == rid:
                out.append(call)
        return out

    def attempts_at_slack(self, user: str = "UAGENT") -> int:
        return sum(1 for c in self.standin.calls_to("chat.postMessage") if c.args.get("channel") == user)


@pytest.fixture
def world(db, standin) -> World:  # type: ignore[no-untyped-def]
    return World(db, standin)


# --- due, once ------------------------------------------------------------------------------
def test_only_due_rows_are_sent_oldest_first(world: World):
    later = world.enqueue("later", T0 + timedelta(minutes=10))
    overdue = world.enqueue("overdue", T0 - timedelta(hours=1))
    exactly = world.enqueue("exactly", T0)
    tomorrow = world.enqueue("tomorrow", T0 + timedelta(days=1))
    engine = world.engine()

    stats = engine.tick(T0)
    assert (stats.claimed, stats.sent) == (2, 2)
    sent_order = [c.args["metadata"]["event_payload"]["reminder_id"] for c in world.posts()]
    assert sent_order == [overdue, exactly]
    assert world.row(later).status == "pending" and world.row(tomorrow).status == "pending"

    assert engine.tick(T0 + timedelta(minutes=9, seconds=59)).claimed == 0
    assert engine.tick(T0 + timedelta(minutes=10)).sent == 1
    assert world.row(later).status == "sent" and world.row(tomorrow).status == "pending"
    assert engine.tick(T0 + timedelta(days=1)).sent == 1
    assert [len(world.posts(r)) for r in (later, overdue, exactly, tomorrow)] == [1, 1, 1, 1]


def test_a_sent_reminder_is_sent_once_and_recorded(world: World, standin):
    rid = world.enqueue("once", T0)
    engine = world.engine()
    assert engine.tick(T0).sent == 1
    assert engine.tick(T0).claimed == 0
    assert world.engine("worker-2").tick(T0 + timedelta(days=3)).claimed == 0
    (post,) = world.posts(rid)
    row = world.row(rid)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at == T0 and row.last_error is None
    assert row.locked_until is None
    assert (row.dm_channel, row.dm_ts) == (post.response["channel"], post.response["ts"])
    dm = standin.dm_messages("UAGENT")[-1]
    assert dm["text"] == texts.BREATHER_WELCOME_BACK
    assert dm["metadata"] == {"event_type": "defuse_reminder", "event_payload": {"reminder_id": rid, "kind": "breather_end"}}
    with world.db.session() as session:  # the DM channel is remembered for the history check
        assert row_by_key(session, Agent, "UAGENT").dm_channel == post.response["channel"]


def test_reminders_due_while_down_are_sent_after_start_once(world: World):
    ids = [world.enqueue(f"missed-{n}", T0 - timedelta(days=3, hours=n)) for n in range(3)]
    fresh = world.engine("restarted")
    assert fresh.tick(T0).sent == 3
    assert fresh.tick(T0 + timedelta(seconds=1)).claimed == 0
    assert [len(world.posts(r)) for r in ids] == [1, 1, 1]


def test_a_batch_larger_than_the_claim_size_is_drained_in_one_tick(world: World):
    ids = [world.enqueue(f"many-{n}", T0 - timedelta(seconds=n)) for n in range(7)]
    stats = world.engine(batch=3).tick(T0)
    assert (stats.claimed, stats.sent) == (7, 7)
    assert all(world.row(r).status == "sent" for r in ids)


def test_each_outcome_is_durable_before_the_next_send_starts(world: World):
    """One commit per send: the last outcome is written with the next send's start, never after it."""
    ids = [world.enqueue(f"chain-{n}", T0 - timedelta(minutes=5 - n)) for n in range(4)]
    seen: list[tuple[int, list[str], str | None]] = []

    def looking(due: Due, now: datetime) -> Outcome:
        earlier = [world.row(r).status for r in ids[: ids.index(due.id)]]
        seen.append((due.id, earlier, world.row(due.id).sending_at and "marked"))
        return world.deliver(due, now)

    stats = world.engine(deliver=looking).tick(T0)
    assert stats.sent == 4
    assert seen == [(ids[n], ["sent"] * n, "marked") for n in range(4)]
    assert [world.row(r).status for r in ids] == ["sent"] * 4  # the last one is written when the batch ends


def test_one_commit_per_send(world: World):
    for n in range(4):
        world.enqueue(f"count-{n}", T0 - timedelta(minutes=n))
    commits: list[int] = []
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(world.db.engine, "commit", listener)
    try:
        stats = world.engine(deliver=lambda due, now: reminders.sent("D1", f"{due.id}.0001")).tick(T0)
    finally:
        event.remove(world.db.engine, "commit", listener)
    assert stats.sent == 4
    assert len(commits) == 1 + 4 + 1  # the claim, one per send, the last outcome at the end of the batch


def test_a_crash_after_several_sends_leaves_only_the_last_one_unrecorded(world: World):
    ids = [world.enqueue(f"burst-{n}", T0 - timedelta(minutes=5 - n)) for n in range(4)]

    def dies_after_the_third(due: Due, now: datetime) -> Outcome:
        outcome = world.deliver(due, now)
        if due.id == ids[2]:
            raise Crash()  # the third DM reached Slack, its outcome was never written
        return outcome

    with pytest.raises(Crash):
        world.engine("doomed", deliver=dies_after_the_third).tick(T0)
    rows = [world.row(r) for r in ids]
    assert [r.status for r in rows] == ["sent", "sent", "pending", "pending"]
    assert rows[2].sending_at == T0 and rows[3].sending_at is None  # one DM of unknown fate, the next untouched


def test_the_prepare_hook_sees_each_claimed_batch_and_its_failure_sends_anyway(world: World):
    ids = [world.enqueue(f"prep-{n}", T0 - timedelta(minutes=n)) for n in range(5)]
    batches: list[list[int]] = []

    def prepare(claimed: list[Due]) -> None:
        batches.append([d.id for d in claimed])
        raise RuntimeError("the read-ahead failed")

    stats = world.engine(batch=3, prepare=prepare).tick(T0)
    assert stats.sent == 5
    assert sorted(sum(batches, [])) == sorted(ids) and [len(b) for b in batches] == [3, 2]


# --- failures -------------------------------------------------------------------------------
def test_transient_errors_back_off_then_give_up_and_keep_the_row(world: World, standin):
    rid = world.enqueue("flaky", T0)
    standin.fail_next("chat.postMessage", "internal_error", times=10)
    engine = world.engine(max_attempts=6)
    when = T0
    for attempt, delay in enumerate([30, 120, 480, 1800, 7200], start=1):
        stats = engine.tick(when)
        assert stats.retried == 1 and stats.errors == ["internal_error"]
        row = world.row(rid)
        assert (row.status, row.attempts, row.last_error) == ("pending", attempt, "internal_error")
        assert row.due_at == when + timedelta(seconds=delay)
        assert row.locked_by is None and row.sending_at is None
        assert engine.tick(row.due_at - timedelta(seconds=1)).claimed == 0  # not before the backoff
        when = row.due_at
    stats = engine.tick(when)
    assert stats.failed == 1
    row = world.row(rid)
    assert (row.status, row.attempts, row.last_error) == ("failed", 6, "internal_error")
    assert engine.tick(when + timedelta(days=30)).claimed == 0
    assert world.attempts_at_slack() == 6
    assert world.posts(rid) == []
    with world.db.session() as session:  # kept, never dropped
        assert session.scalar(select(func.count()).select_from(Reminder)) == 1


def test_a_transient_error_then_success(world: World, standin):
    rid = world.enqueue("recovers", T0)
    standin.fail_next("chat.postMessage", "internal_error", times=2)
    engine = world.engine()
    engine.tick(T0)
    engine.tick(T0 + timedelta(seconds=30))
    assert engine.tick(T0 + timedelta(seconds=150)).sent == 1
    row = world.row(rid)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(world.posts(rid)) == 1


def test_an_exception_in_delivery_is_retried_not_lost(world: World):
    rid = world.enqueue("buggy", T0)
    calls = []

    def broken(due: Due, now: datetime) -> Outcome:
        calls.append(due.id)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return world.deliver(due, now)

    engine = world.engine(deliver=broken)
    assert engine.tick(T0).retried == 1
    row = world.row(rid)
    assert row.status == "pending" and "boom" in (row.last_error or "")
    assert engine.tick(T0 + timedelta(seconds=30)).sent == 1
    assert len(world.posts(rid)) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "account_inactive", "invalid_blocks", "not_authed"])
def test_permanent_slack_errors_fail_at_once(world: World, standin, error):
    rid = world.enqueue("doomed", T0)
    standin.fail_next("chat.postMessage", error)
    engine = world.engine()
    assert engine.tick(T0).failed == 1
    row = world.row(rid)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, error)
    assert engine.tick(T0 + timedelta(days=1)).claimed == 0
    assert world.attempts_at_slack() == 1


def test_a_deactivated_recipient_fails_at_once(world: World, standin):
    standin.add_user("UGONE", "gone", tz="Europe/Berlin", deleted=True)
    rid = world.enqueue("to-gone", T0, recipient="UGONE")
    engine = world.engine()
    assert engine.tick(T0).failed == 1
    assert (world.row(rid).status, world.row(rid).last_error) == ("failed", "user_disabled")
    assert engine.tick(T0 + timedelta(hours=3)).claimed == 0


def test_rate_limit_reschedules_by_retry_after_without_counting_an_attempt(world: World, standin):
    rid = world.enqueue("busy", T0)
    standin.rate_limit_next("chat.postMessage", times=8, retry_after=7)  # more 429s than max_attempts
    engine = world.engine(max_attempts=6)
    when = T0
    for _ in range(8):
        stats = engine.tick(when)
        assert stats.claimed == 1 and stats.sent == 0 and stats.failed == 0
        row = world.row(rid)
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, "ratelimited")
        assert row.due_at == when + timedelta(seconds=7)
        assert engine.tick(when + timedelta(seconds=6)).claimed == 0
        when = row.due_at
    assert engine.tick(when).sent == 1
    row = world.row(rid)
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(world.posts(rid)) == 1
    assert len([c for c in standin.calls_to("chat.postMessage") if c.status == 429]) == 8


# --- leases, crashes, stopping --------------------------------------------------------------
def test_a_crashed_claim_is_retried_by_another_worker_after_the_lease(world: World):
    rid = world.enqueue("orphan", T0)
    with world.db.session() as session:  # worker "crashed" claims it and dies before doing anything
        (claimed,) = repo.claim_due(session, now=T0, until=T0 + LEASE, worker="crashed", limit=10)
        assert claimed.id == rid
    other = world.engine("survivor")
    assert other.tick(T0 + timedelta(minutes=1)).claimed == 0
    assert other.tick(T0 + LEASE - timedelta(seconds=1)).claimed == 0
    stats = other.tick(T0 + LEASE + timedelta(seconds=1))
    assert (stats.claimed, stats.sent) == (1, 1)
    assert other.tick(T0 + LEASE + timedelta(minutes=10)).claimed == 0
    assert len(world.posts(rid)) == 1
    # The crashed worker coming back cannot overwrite what the lease holder recorded.
    with world.db.session() as session:
        assert not repo.finish_reminder(session, rid, "crashed", status="pending", locked_by=None)
    assert world.row(rid).status == "sent"


def _crashing(deliver: Callable[[Due, datetime], Outcome], *, after_send: bool) -> Callable[[Due, datetime], Outcome]:
    def crash(due: Due, now: datetime) -> Outcome:
        if after_send:
            deliver(due, now)  # Slack accepted the DM ...
        raise Crash()          # ... and the process died before recording it

    return crash


def _real_now() -> datetime:
    """The history check compares with Slack's real message timestamps: run this story in real time."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def test_after_a_crash_mid_send_history_shows_the_dm_and_it_is_not_sent_again(db, standin):
    world = World(db, standin, now=_real_now())
    now = world.now
    warmup = world.enqueue("warmup", now)  # an earlier DM: the agent's DM channel is known
    assert world.engine().tick(now).sent == 1
    rid = world.enqueue("crashy", now)
    with pytest.raises(Crash):
        world.engine("doomed", deliver=_crashing(world.deliver, after_send=True)).tick(now)
    row = world.row(rid)
    assert row.status == "pending" and row.sending_at == now and row.locked_by == "doomed"
    assert len(world.posts(rid)) == 1

    survivor = world.engine("survivor")
    assert survivor.tick(now + LEASE - timedelta(seconds=1)).claimed == 0
    stats = survivor.tick(now + LEASE + timedelta(seconds=1))
    assert stats.sent == 1
    assert len(world.posts(rid)) == 1, "the DM that reached Slack before the crash was sent again"
    history = standin.calls_to("conversations.history")
    assert len(history) == 1 and history[0].args["channel"] == world.row(warmup).dm_channel
    row = world.row(rid)
    assert row.status == "sent" and row.dm_ts == world.posts(rid)[0].response["ts"]


def test_after_a_crash_before_slack_answered_the_dm_is_sent_once_after_the_lease(db, standin):
    world = World(db, standin, now=_real_now())
    now = world.now
    world.enqueue("warmup", now)
    world.engine().tick(now)
    rid = world.enqueue("crashy", now)
    with pytest.raises(Crash):
        world.engine("doomed", deliver=_crashing(world.deliver, after_send=False)).tick(now)
    assert world.posts(rid) == []
    assert world.engine("survivor").tick(now + LEASE + timedelta(seconds=1)).sent == 1
    assert len(standin.calls_to("conversations.history")) == 1  # it looked first, found nothing
    assert len(world.posts(rid)) == 1
    assert world.row(rid).status == "sent"


def test_after_a_crash_mid_send_with_no_known_dm_channel_it_is_still_delivered(db, standin):
    world = World(db, standin, now=_real_now())
    now = world.now
    rid = world.enqueue("first-ever", now)
    with pytest.raises(Crash):
        world.engine("doomed", deliver=_crashing(world.deliver, after_send=True)).tick(now)
    assert world.engine("survivor").tick(now + LEASE + timedelta(seconds=1)).sent == 1
    assert world.row(rid).status == "sent"
    assert 1 <= len(world.posts(rid)) <= 2  # at least once: no DM channel to check without a prior DM


def test_stop_releases_the_rest_of_the_claim(world: World):
    ids = [world.enqueue(f"batch-{n}", T0 - timedelta(minutes=n)) for n in range(5)]
    engine: ReminderEngine

    def stop_during_send(due: Due, now: datetime) -> Outcome:
        engine.stop()  # SIGTERM arrives while the first send is in hand
        return world.deliver(due, now)

    engine = world.engine("stopping", deliver=stop_during_send)
    stats = engine.tick(T0)
    assert (stats.claimed, stats.sent, stats.released) == (5, 1, 4)
    released = [world.row(r) for r in ids if world.row(r).status == "pending"]
    assert len(released) == 4
    for row in released:
        assert row.locked_by is None and row.locked_until is None and row.attempts == 0 and row.sending_at is None
    assert engine.tick(T0).claimed == 0  # a stopped engine claims nothing more
    # Another process picks them up at once, without waiting for a lease.
    assert world.engine("next-process").tick(T0).sent == 4
    assert [len(world.posts(r)) for r in ids] == [1] * 5


def test_a_reminder_cancelled_while_claimed_is_not_sent(world: World):
    case = world.cases.open(team_id="T0001", channel_id="CSUPPORT", flagged_by="UAGENT", summary="charged twice",
                            customer="Acme")
    world.now = T0 + timedelta(minutes=31)
    with world.db.session() as session:
        (claimed,) = repo.claim_due(session, now=world.now, until=world.now + LEASE, worker="slow", limit=5)
        assert claimed.kind == "breather"
    with world.db.session() as session:
        assert repo.cancel_reminders(session, case.id, ("breather",), "case closed") == 1
    assert world.engine("later").tick(world.now + LEASE * 2).claimed == 0
    with world.db.session() as session:  # the slow worker finishing late changes nothing
        assert not repo.finish_reminder(session, claimed.id, "slow", status="sent")
    assert world.row(claimed.id).status == "cancelled"
    assert world.posts() == []


# --- dedupe ---------------------------------------------------------------------------------
def test_the_dedupe_key_enqueues_once(world: World):
    with world.db.session() as session:
        first = repo.add_reminder(session, dedupe_key="same", now=T0, kind="breather_end", recipient="UAGENT", due_at=T0)
        second = repo.add_reminder(session, dedupe_key="same", now=T0, kind="breather_end", recipient="UCOLLEAGUE",
                                   due_at=T0 - timedelta(hours=1))
    assert first is not None and second is None
    with world.db.session() as session:
        (row,) = session.execute(select(Reminder)).all()
        assert row.recipient == "UAGENT" and row.due_at == T0
    assert world.engine().tick(T0).sent == 1
    assert world.posts(user="UCOLLEAGUE") == []


def test_the_dedupe_key_holds_under_concurrent_enqueues(world: World):
    barrier = threading.Barrier(6)
    results: list[Any] = []

    def add() -> None:
        barrier.wait()
        try:
            with world.db.session() as session:
                results.append(repo.add_reminder(session, dedupe_key="race", now=T0, kind="breather_end",
                                                 recipient="UAGENT", due_at=T0))
        except Exception as exc:  # reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=add) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r is not None]) == 1
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Reminder)) == 1


# --- several workers ------------------------------------------------------------------------
def test_several_engines_ticking_at_once_send_each_reminder_once(world: World):
    ids = [world.enqueue(f"shared-{n}", T0 - timedelta(seconds=n)) for n in range(40)]
    engines = [world.engine(f"w{n}", batch=5) for n in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine: ReminderEngine) -> None:
        barrier.wait()
        try:
            for _ in range(20):
                engine.tick(T0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert [len(world.posts(r)) for r in ids] == [1] * 40
    assert all(world.row(r).status == "sent" for r in ids)
