"""Storage tests (SQLite and PostgreSQL): the digest's queries read the right weeks and cases; the weekly
run posts once with two engines claiming, once after missed weeks, retries only what Slack refused."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Row, insert, select

from bot.core.ports import Message, Posted, SlackFailure, Tag
from bot.core.settings import DigestSchedule
from bot.learning.digest import Digest, collect
from storage.db import Database
from storage.models import Case, JobRun, Reminder, Review

NOW = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)  # Monday, five minutes after the default schedule
CHANNEL = "CDIGEST"
SCHEDULE = DigestSchedule(0, time(9, 0), "UTC")
_ids = itertools.count(1)


def add_case(db: Database, *, opened: timedelta, closed: timedelta | None = None, status: str = "resolved",
             visibility: str | None = "public", channel: str = "C1", customer: str = "Acme",
             review: tuple[str, timedelta, str | None, bool] | None = None) -> int:
    """A case opened `opened` before NOW (closed `closed` before NOW), with an optional review
    (cause, how long before NOW, UX issue, forwarded to the product channel)."""
    with db.session() as session:
        case_id: int = session.execute(insert(Case).returning(Case.c.id).values(
            channel_id=channel, summary="charged twice", customer=customer, flagged_by="UA", owner_id="UA",
            status=status, opened_at=NOW - opened, closed_at=None if closed is None else NOW - closed,
            visibility=visibility, permalink=f"https://x.slack.com/archives/{channel}/p{next(_ids)}",
            updated_at=NOW)).scalar_one()
        if review:
            cause, ago, ux, forwarded = review
            session.execute(insert(Review).values(case_id=case_id, cause=cause, ux_issue=ux, reviewed_by="UA",
                                                  reviewed_at=NOW - ago, forwarded_ts="1.2" if forwarded else None))
        return case_id


def add_follow_up(db: Database, recipient: str, due: timedelta, status: str = "pending") -> None:
    with db.session() as session:
        session.execute(insert(Reminder).values(kind="follow_up", recipient=recipient, due_at=NOW - due, status=status,
                                                dedupe_key=f"f:{next(_ids)}", payload={}, created_at=NOW - due))


def test_queries_split_the_two_weeks_and_the_lists(db: Database) -> None:
    d = timedelta(days=1)
    add_case(db, opened=2 * d, closed=2 * d - timedelta(hours=2), review=("bug", d, None, False))
    add_case(db, opened=3 * d, closed=d, review=("ux", d, "button hidden", True))
    add_case(db, opened=4 * d, closed=3 * d, status="unresolved", review=("ux", d, "not sent", False))
    add_case(db, opened=9 * d, closed=8 * d, review=("bug", 9 * d, None, False))  # the week before
    add_case(db, opened=30 * d, closed=29 * d, review=("bug", 29 * d, None, False))  # older: in neither week
    stale = add_case(db, opened=5 * d, status="open")
    older = add_case(db, opened=6 * d, status="escalated")
    add_case(db, opened=6.5 * d, status="open", visibility="private", channel="CPRIV", customer="Secret")
    add_case(db, opened=2 * d, status="open")  # open, but not for three days yet
    add_follow_up(db, "UB", due=2 * d)
    add_follow_up(db, "UC", due=3 * d)
    add_follow_up(db, "UC", due=4 * d)
    add_follow_up(db, "UD", due=timedelta(hours=20))  # less than a day late
    add_follow_up(db, "UE", due=5 * d, status="done")

    data = collect(db, NOW, CHANNEL)
    assert (data.week.opened, data.week.resolved, data.week.unresolved) == (7, 2, 1)
    assert sorted(data.week.resolve_seconds) == [7200.0, 2 * 86400.0]
    assert (data.previous.opened, data.previous.resolved, data.previous.unresolved) == (1, 1, 0)
    assert data.causes == {"bug": 1, "ux": 2} and data.previous_causes == {"bug": 1}
    assert [(c.note, c.customer) for c in data.ux_issues.shown] == [("button hidden", "Acme")]
    assert (data.ux_issues.total, data.ux_issues.hidden) == (1, 0)
    assert [c.id for c in data.open_too_long.shown] == [older, stale]
    assert (data.open_too_long.total, data.open_too_long.hidden) == (3, 1)
    assert data.overdue_follow_ups == 3 and data.overdue_owners == ("UC", "UB")


def test_a_private_case_in_the_digest_channel_is_listed(db: Database) -> None:
    here = add_case(db, opened=timedelta(days=5), status="open", visibility="private", channel=CHANNEL)
    add_case(db, opened=timedelta(days=6), status="open", visibility=None, channel="COLD")
    listing = collect(db, NOW, CHANNEL).open_too_long
    assert [c.id for c in listing.shown] == [here] and (listing.total, listing.hidden) == (2, 1)


class FakeSlack:
    """The Slack port's post and join (bot.core.ports.Slack); `errors` are raised by the next posts, in order."""

    def __init__(self, *errors: SlackFailure):
        self.errors = list(errors)
        self.posts: list[dict[str, Any]] = []
        self.joined: list[str] = []
        self._lock = threading.Lock()

    def post(self, channel: str, message: Message, *, thread_ts: str | None = None, tag: Tag | None = None,
             once: bool = False) -> Posted:
        with self._lock:
            if self.errors:
                raise self.errors.pop(0)
            self.posts.append({"channel": channel, "text": message.text, "blocks": message.blocks, "metadata": tag})
            return Posted(channel, f"{len(self.posts)}.0")

    def join(self, channel: str) -> bool:
        self.joined.append(channel)
        return True


def slack_error(error: str, status: int = 200) -> SlackFailure:
    """What the surface (handlers/slack/surface.py) raises for such an answer."""
    return SlackFailure(error, ambiguous=status >= 500, retry_after=1.0 if status == 429 else None)


def digest(db: Database, slack: FakeSlack, worker: str) -> Digest:
    return Digest(db, slack, CHANNEL, SCHEDULE, clock=lambda: NOW, worker=worker)  # type: ignore[arg-type]


def runs(db: Database) -> list[Row[Any]]:
    with db.session() as session:
        return list(session.execute(select(JobRun).where(JobRun.c.job == "digest").order_by(JobRun.c.day)))


def test_once_per_week_with_two_engines_claiming(database_url: str) -> None:
    one, two = Database(database_url, pool_size=5), Database(database_url, pool_size=5)
    one.migrate()
    try:
        slack = FakeSlack()
        add_case(one, opened=timedelta(days=1), closed=timedelta(hours=1))
        workers = [digest(one, slack, "w1"), digest(two, slack, "w2"), digest(one, slack, "w3"), digest(two, slack, "w4")]
        results: list[str | None] = []
        barrier = threading.Barrier(len(workers))

        def run(worker: Digest) -> None:
            barrier.wait()
            results.append(worker.run_weekly(NOW))

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert results.count("sent") == 1 and results.count(None) == 3
        assert len(slack.posts) == 1
        post = slack.posts[0]
        assert post["channel"] == CHANNEL and post["metadata"] == {"event_type": "defuse_digest",
                                                                    "event_payload": {"week": "2026-11-30"}}
        # later ticks the same week, in any process, post nothing
        for worker in workers:
            assert worker.run_weekly(NOW + timedelta(days=3)) is None
        assert digest(two, slack, "w5").run_weekly(NOW + timedelta(days=6)) is None
        assert len(slack.posts) == 1
        [row] = runs(one)
        assert row.day == "2026-11-30" and row.finished_at is not None and row.result == {"channel": CHANNEL, "ts": "1.0"}
    finally:
        one.dispose()
        two.dispose()


def test_once_after_missed_weeks(db: Database) -> None:
    slack = FakeSlack()
    assert digest(db, slack, "w1").run_weekly(NOW) == "sent"
    later = NOW + timedelta(days=22)  # three scheduled Mondays went by while nothing ran
    restarted = digest(db, slack, "w2")
    assert restarted.run_weekly(later) == "sent"
    assert restarted.run_weekly(later + timedelta(minutes=1)) is None
    assert [r.day for r in runs(db)] == ["2026-11-30", "2026-12-21"] and len(slack.posts) == 2


def test_refused_post_is_retried_later_the_same_week(db: Database) -> None:
    slack = FakeSlack(slack_error("channel_not_found"), slack_error("ratelimited", 429))
    first = digest(db, slack, "w1")
    assert first.run_weekly(NOW) == "retry"  # not_in/channel_not_found: joined, then refused again
    assert slack.joined == [CHANNEL]
    [row] = runs(db)
    assert row.finished_at is None and row.result == {"error": "ratelimited", "retry": True}
    assert digest(db, slack, "w2").run_weekly(NOW + timedelta(minutes=1)) is None  # not before RETRY_AFTER
    assert digest(db, slack, "w2").run_weekly(NOW + timedelta(minutes=11)) == "sent"
    assert len(slack.posts) == 1 and runs(db)[0].finished_at is not None


@pytest.mark.parametrize("error", [slack_error("internal_error", 500), SlackFailure("timeout", ambiguous=True)])
def test_uncertain_post_is_never_retried(db: Database, error: SlackFailure, caplog: pytest.LogCaptureFixture) -> None:
    slack = FakeSlack(error)
    assert digest(db, slack, "w1").run_weekly(NOW) == "failed"
    [row] = runs(db)
    assert row.finished_at is not None and row.result["uncertain"] is True
    assert "not retrying" in caplog.text
    assert digest(db, slack, "w2").run_weekly(NOW + timedelta(hours=5)) is None
    assert slack.posts == []


def test_a_claim_in_progress_or_left_by_a_dead_process_is_not_taken_over(db: Database) -> None:
    from storage import retention_queries as rq

    with db.session() as session:  # a process claimed the week, then died before posting
        assert rq.claim_day(session, job="digest", day="2026-11-30", worker="dead", now=NOW, stale_after=timedelta(days=7))
    slack = FakeSlack()
    other = digest(db, slack, "w2")
    assert other.run_weekly(NOW + timedelta(seconds=1)) is None
    assert other.run_weekly(NOW + timedelta(days=6, hours=23)) is None
    assert slack.posts == [] and runs(db)[0].claimed_by == "dead"
    with db.session() as session:  # had it been alive and finished, the others learn the week is done
        rq.finish_day(session, job="digest", day="2026-11-30", worker="dead", now=NOW, result={"ts": "1.0"})
    assert other.run_weekly(NOW + timedelta(days=1)) is None and other._done_week == "2026-11-30"
