"""Follow-ups end to end: `python app.py` against the Slack stand-in, with a seconds-long schedule.

A case is opened with /angry and closed through the Resolve button and its modal; the breather DM
and the follow-up DMs then arrive on their own. Also: SIGKILL right after closing and a restart on
the same database (each follow-up exactly once), 429s from chat.postMessage (delayed, never lost or
doubled), and SIGTERM while a send is in flight (stops within 10 s, releases the rest)."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest
from sqlalchemy import Row, select

from handlers.closing import ids as closing_ids
from handlers.followups import ids as followups_ids
from storage import repositories as repo
from storage.db import Database
from storage.models import Agent, Case, Reminder
from storage.sql import row_by_key
from tests.harness import SlackSender

FAST = dict(FOLLOW_UP_SCHEDULE="3s,6s", FOLLOW_UP_WORKING_HOURS="off", SCHEDULER_TICK_SECONDS="0.2")


# --- looking at the database and the stand-in -------------------------------------------------
class Probe:
    """Reads the app's database from the test (a short-lived connection each time)."""

    def __init__(self, url: str):
        self.url = url

    def _read(self, fn):  # type: ignore[no-untyped-def]
        db = Database(self.url, pool_size=1)
        try:
            with db.session() as session:
                result = fn(session)
                return result
        finally:
            db.dispose()

    def reminders(self, kind: str | None = None) -> list[Row[Any]]:
        def q(session):  # type: ignore[no-untyped-def]
            stmt = select(Reminder).order_by(Reminder.c.due_at, Reminder.c.id)
            if kind:
                stmt = stmt.where(Reminder.c.kind == kind)
            return list(session.execute(stmt).all())
        return self._read(q)

    def case(self, case_id: int) -> Row[Any]:
        return self._read(lambda s: row_by_key(s, Case, case_id))

    def events(self, case_id: int) -> list[tuple[str, dict[str, Any]]]:
        return self._read(lambda s: [(e.kind, dict(e.data)) for e in repo.events(s, case_id)])

    def agent(self, user: str) -> Row[Any] | None:
        return self._read(lambda s: row_by_key(s, Agent, user))


def reminder_posts(standin, kind: str, user: str = "UAGENT") -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """(reminder id, time) of each DM of this kind that Slack accepted."""
    out = []
    for call in standin.calls_to("chat.postMessage"):
        meta = call.args.get("metadata") or {}
        if call.status == 200 and call.response.get("ok") and call.args.get("channel") == user \
                and meta.get("event_type") == "defuse_reminder" and meta["event_payload"].get("kind") == kind:
            out.append((meta["event_payload"]["reminder_id"], call.time))
    return out


def dm_of(standin, rid: int, user: str = "UAGENT") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    for message in standin.dm_messages(user):
        if ((message.get("metadata") or {}).get("event_payload") or {}).get("reminder_id") == rid:
            return {**message, "channel": "D" + user}
    raise IndexError(rid)


def open_and_close(slack: SlackSender, standin, probe: Probe) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """/angry, then Resolved + the resolve modal. Returns (case id, closed_at as epoch seconds)."""
    assert slack.command("Acme Corp: charged twice, threatening to cancel").status == 200
    parent = standin.wait_for(lambda: [m for m in standin.messages("CSUPPORT")
                                       if m.get("thread_ts") in (None, m["ts"]) and closing_ids.RESOLVE_ACTION in str(m["blocks"])][0])
    before = set(standin.views())
    reply = slack.click({**parent, "channel": "CSUPPORT"}, closing_ids.RESOLVE_ACTION)
    assert reply.status == 200
    view = standin.wait_for(lambda: [v for vid, v in standin.views().items()
                                     if vid not in before and v["callback_id"] == closing_ids.RESOLVE_VIEW][0])
    reply = slack.submit(view, {"fix": "Refunded the second charge", "prevention": "Keep one card on file",
                                "feedback": "yes"})
    assert reply.status == 200 and reply.elapsed < 2.0
    case_id = int(json.loads(view["private_metadata"])["case"])
    closed = standin.wait_for(lambda: probe.case(case_id).closed_at, timeout=5)
    return case_id, closed.timestamp()


def wait_thread_quiet(standin, probe: Probe, case_id: int) -> None:  # type: ignore[no-untyped-def]
    """The close's own Slack calls (thread lines, review prompt) are done."""
    ts = probe.case(case_id).message_ts
    standin.wait_for(lambda: any(closing_ids.REVIEW_ACTION in str(m["blocks"]) for m in standin.thread("CSUPPORT", ts)))


@pytest.fixture
def db_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'followups.db'}"


# --- the whole story --------------------------------------------------------------------------
def test_closing_sends_the_breather_then_follow_ups_at_3_and_6_seconds(start_app, standin, db_url):
    app = start_app(db_url, **FAST)
    slack, probe = SlackSender(app.url, standin), Probe(db_url)
    case_id, closed = open_and_close(slack, standin, probe)

    breather = standin.wait_for(lambda: reminder_posts(standin, "breather"), timeout=3)
    assert len(breather) == 1 and breather[0][1] - closed < 2.0
    posts = standin.wait_for(lambda: (p := reminder_posts(standin, "follow_up")) and len(p) >= 2 and p, timeout=12)
    delays = [when - closed for _, when in posts]
    assert 2.9 <= delays[0] < 5.0, delays
    assert 5.9 <= delays[1] < 8.0, delays
    # The DM reaches the stand-in a moment before the app records it as sent: wait for the record.
    rows = standin.wait_for(lambda: (r := probe.reminders("follow_up")) and {x.status for x in r} == {"sent"} and r, timeout=5)
    assert [r.id for r in rows] == [rid for rid, _ in posts]
    assert {r.recipient for r in rows} == {"UAGENT"}

    first, second = (dm_of(standin, rid) for rid, _ in posts)
    assert "Acme Corp" in str(first["blocks"]) and "Refunded the second charge" in str(first["blocks"])
    # Followed up -> the modal -> happy: the DM is updated in place and the case record says so.
    before = set(standin.views())
    assert slack.click(first, followups_ids.FOLLOWED_UP_ACTION, str(posts[0][0])).status == 200
    modal = standin.wait_for(lambda: [v for vid, v in standin.views().items()
                                      if vid not in before and v["callback_id"] == followups_ids.FOLLOWED_UP_VIEW][0])
    assert slack.submit(modal, {"outcome": "happy", "note": "she got the refund"}).status == 200
    standin.wait_for(lambda: "Followed up by" in str(dm_of(standin, posts[0][0])["blocks"]))
    assert followups_ids.FOLLOWED_UP_ACTION not in str(dm_of(standin, posts[0][0])["blocks"])
    # Skip on the second one.
    assert slack.click(second, followups_ids.SKIP_ACTION, str(posts[1][0])).status == 200
    standin.wait_for(lambda: "Skipped by" in str(dm_of(standin, posts[1][0])["blocks"]))
    standin.wait_for(lambda: [r.status for r in probe.reminders("follow_up")] == ["done", "skipped"])
    answers = [(kind, data) for kind, data in probe.events(case_id) if kind.startswith("follow_up")]
    assert answers == [("follow_up", {"reminder": posts[0][0], "outcome": "happy", "note": "she got the refund"}),
                       ("follow_up_skipped", {"reminder": posts[1][0]})]
    # Start breather on the breather DM.
    offer = dm_of(standin, breather[0][0])
    assert slack.click(offer, followups_ids.BREATHER_START_ACTION, str(breather[0][0])).status == 200
    standin.wait_for(lambda: "Breather started" in str(dm_of(standin, breather[0][0])["blocks"]))
    assert probe.agent("UAGENT").breather_until is not None

    time.sleep(1.0)  # nothing more arrives
    assert len(reminder_posts(standin, "follow_up")) == 2 and len(reminder_posts(standin, "breather")) == 1
    started = time.monotonic()
    assert app.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10


def test_sigkill_right_after_closing_then_restart_sends_each_follow_up_once(start_app, standin, database_url):
    app = start_app(database_url, **FAST)
    slack, probe = SlackSender(app.url, standin), Probe(database_url)
    _, closed = open_and_close(slack, standin, probe)
    assert len(probe.reminders("follow_up")) == 2  # committed with the close
    app.stop(signal.SIGKILL)
    assert reminder_posts(standin, "follow_up") == []

    time.sleep(max(0.0, closed + 6.5 - time.time()))  # both come due while the app is down
    restarted = time.time()
    app.start()
    posts = standin.wait_for(lambda: (p := reminder_posts(standin, "follow_up")) and len(p) >= 2 and p, timeout=10)
    assert all(when >= restarted for _, when in posts)
    time.sleep(1.5)  # and no second copy
    posts = reminder_posts(standin, "follow_up")
    assert sorted(rid for rid, _ in posts) == sorted(r.id for r in probe.reminders("follow_up"))
    assert len(posts) == 2
    assert {r.status for r in probe.reminders("follow_up")} == {"sent"}
    assert len(reminder_posts(standin, "breather")) <= 1  # a send cut by the kill may wait out its lease
    started = time.monotonic()
    assert app.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10


def test_rate_limited_follow_ups_are_delayed_not_lost_or_doubled(start_app, standin, db_url):
    app = start_app(db_url, **FAST)
    slack, probe = SlackSender(app.url, standin), Probe(db_url)
    case_id, closed = open_and_close(slack, standin, probe)
    standin.wait_for(lambda: reminder_posts(standin, "breather"), timeout=3)
    wait_thread_quiet(standin, probe, case_id)
    assert time.time() - closed < 2.5, "too slow to set up before the first follow-up"
    standin.rate_limit_next("chat.postMessage", times=3, retry_after=1)

    posts = standin.wait_for(lambda: (p := reminder_posts(standin, "follow_up")) and len(p) >= 2 and p, timeout=15)
    limited = [c for c in standin.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 3 and all(c.args.get("channel") == "UAGENT" for c in limited)
    rows = probe.reminders("follow_up")
    first_at = dict(posts)[rows[0].id]
    assert first_at - closed >= 5.0, "the first follow-up was not held back by the 429s"
    time.sleep(1.5)
    posts = reminder_posts(standin, "follow_up")
    assert sorted(rid for rid, _ in posts) == sorted(r.id for r in rows)
    rows = probe.reminders("follow_up")
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    started = time.monotonic()
    assert app.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10


def test_sigterm_during_a_send_stops_in_time_and_releases_the_rest(start_app, standin, db_url):
    app = start_app(db_url, FOLLOW_UP_SCHEDULE="2s,2s,2s", FOLLOW_UP_WORKING_HOURS="off", SCHEDULER_TICK_SECONDS="0.2")
    slack, probe = SlackSender(app.url, standin), Probe(db_url)
    case_id, _ = open_and_close(slack, standin, probe)
    standin.wait_for(lambda: reminder_posts(standin, "breather"), timeout=3)
    wait_thread_quiet(standin, probe, case_id)
    standin.set_delay("chat.postMessage", 2.5)
    in_flight = standin.wait_for(
        lambda: [r for r in probe.reminders("follow_up") if r.status == "pending" and r.sending_at], timeout=6)
    assert len(in_flight) == 1
    started = time.monotonic()
    assert app.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    rows = probe.reminders("follow_up")
    done = [r for r in rows if r.status == "sent"]
    released = [r for r in rows if r.status == "pending"]
    assert [r.id for r in done] == [in_flight[0].id], [(r.id, r.status, r.sending_at) for r in rows]
    assert len(released) == 2
    for row in released:  # released, not left to a lease
        assert row.locked_by is None and row.locked_until is None and row.attempts == 0 and row.sending_at is None

    standin.set_delay("chat.postMessage", 0)
    restarted = time.time()
    app.start()
    posts = standin.wait_for(lambda: (p := reminder_posts(standin, "follow_up")) and len(p) >= 3 and p, timeout=10)
    assert all(when - restarted < 8 for rid, when in posts if rid != in_flight[0].id)
    time.sleep(1.0)
    assert sorted(rid for rid, _ in reminder_posts(standin, "follow_up")) == sorted(r.id for r in rows)
    assert {r.status for r in probe.reminders("follow_up")} == {"sent"}


def test_sigterm_during_a_hung_send_still_releases_the_rest(start_app, standin, db_url):
    app = start_app(db_url, FOLLOW_UP_SCHEDULE="2s,2s,2s", FOLLOW_UP_WORKING_HOURS="off", SCHEDULER_TICK_SECONDS="0.2")
    slack, probe = SlackSender(app.url, standin), Probe(db_url)
    case_id, _ = open_and_close(slack, standin, probe)
    standin.wait_for(lambda: reminder_posts(standin, "breather"), timeout=3)
    wait_thread_quiet(standin, probe, case_id)
    standin.set_delay("chat.postMessage", 12)
    in_flight = standin.wait_for(
        lambda: [r for r in probe.reminders("follow_up") if r.status == "pending" and r.sending_at], timeout=6)
    started = time.monotonic()
    app.stop(signal.SIGTERM)
    assert time.monotonic() - started < 10
    rest = [r for r in probe.reminders("follow_up") if r.id != in_flight[0].id]
    assert len(rest) == 2
    assert all(r.locked_by is None and r.locked_until is None for r in rest), \
        [(r.id, r.locked_by, r.locked_until) for r in rest]
