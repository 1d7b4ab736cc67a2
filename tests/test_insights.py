"""The insight arithmetic (bot/learning/insights.py) on hand-made histories, and the query behind it
(storage/insight_queries.py) on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cases import Cases
from bot.core.mood import MoodTally
from bot.learning import insights
from storage import insight_queries as iq
from storage import repositories as repo
from tests.support import Clock

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def row(case_id: int, status: str = "resolved", *, owner: str = "UA", hours: float = 2, mood: str | None = None,
        after: str | None = None, steps: set[int] | None = None, helped: tuple[str, ...] = (), second: bool = False,
        promised: datetime | None = None, fixed: datetime | None = None, customer: str | None = None) -> iq.ClosedRow:
    return iq.ClosedRow(
        id=case_id, owner_id=owner, status=status, opened_at=T0, closed_at=T0 + timedelta(hours=hours),
        visibility="public", mood=mood, mood_at_close=after, mood_later=None,
        expected_by=promised.isoformat() if promised else None, fixed_at=fixed.isoformat() if fixed else None,
        customer=customer, steps_done=set(steps if steps is not None else range(1, 7)), step_count=6,
        attempts_helped=tuple(helped), second_contact=second)


def test_rates_times_and_the_mood_change() -> None:
    f = insights.figures([
        row(1, hours=1, mood="furious", after="calm"), row(2, hours=3, mood="angry", after="angry"),
        row(3, "unresolved", hours=10, mood="upset", after="furious"), row(4, hours=5),
    ])
    assert (f.closed, f.resolved, f.resolution_rate) == (4, 3, 0.75)
    assert f.median_resolve_seconds == 3 * 3600  # of the resolved ones only
    assert f.moods == MoodTally(calmer=1, same=1, worse=1, unknown=1)


def test_second_contact_escalations_on_time_and_repeat_customers() -> None:
    promised = T0 + timedelta(hours=4)
    f = insights.figures([
        row(1, second=True, customer="acme"), row(2, "unresolved", second=True, customer="acme"),
        row(3, promised=promised, fixed=T0 + timedelta(hours=3), customer="b"),
        row(4, promised=promised, fixed=T0 + timedelta(hours=5)),
        row(5, promised=promised),
    ])
    assert (f.second_contact, f.second_contact_resolved) == (2, 1)
    assert (f.escalated, f.escalations_on_time) == (3, 1)
    assert f.repeat_cases == 2


def test_steps_skipped_when_it_ended_badly_against_well() -> None:
    f = insights.figures([
        row(1, "unresolved", steps={1, 2, 4}), row(2, "unresolved", steps={1, 2, 3, 4}),
        row(3, steps={1, 2, 3, 4, 5, 6}), row(4, steps={1, 2, 3, 4, 5}),
    ])
    assert f.skipped_bad == {1: 0.0, 2: 0.0, 3: 0.5, 4: 0.0, 5: 1.0, 6: 1.0}
    assert f.skipped_good == {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.5}


def test_what_helped_most_folds_case_and_spaces_and_keeps_the_top_three() -> None:
    f = insights.figures([
        row(1, helped=("Refund  the fee", "call back")), row(2, helped=("refund the fee",)),
        row(3, helped=("discount",)), row(4, helped=("call back", "apology")),
    ])
    assert f.helped == (("call back", 2), ("Refund  the fee", 2), ("apology", 1))  # ties: in alphabetical order
    assert insights.figures([row(1, mood="angry", after="calm")]).moods.calmer == 1


def test_nothing_closed_gives_empty_figures_not_errors() -> None:
    f = insights.figures([])
    assert (f.closed, f.resolution_rate, f.median_resolve_seconds, f.moods.calmer_share) == (0, None, None, None)
    assert f.skipped_bad == {} and f.helped == ()


def test_per_agent_groups_by_owner() -> None:
    agents = insights.per_agent([row(1, owner="UB"), row(2, "unresolved", owner="UA"), row(3, owner="UB")])
    assert list(agents) == ["UA", "UB"]
    assert (agents["UA"].closed, agents["UA"].resolved, agents["UB"].closed, agents["UB"].resolved) == (1, 0, 2, 2)


@pytest.mark.db
def test_the_query_reads_each_closed_case_with_its_steps_attempts_and_handoffs(db) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    cases = Cases(db, clock=clock)
    early = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="s3")
    cases.close(early.id, user="UA", outcome="unresolved", details={"explanation": "e"})
    kept = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="s", customer="Acme", mood="furious")
    cases.set_step(kept.id, 1, done=True, user="UA")
    cases.set_step(kept.id, 3, done=True, user="UA")
    cases.set_destination(kept.id, channel_id="C1", visibility="public")
    cases.log_attempt(kept.id, user="UA", what="refund", result="ok", outcome="helped")
    cases.escalate(kept.id, user="UA", need="n", expected_by=clock() + timedelta(hours=3), severity="high", channel=None)
    cases.escalation_fixed(kept.id, user="UX")
    cases.log_attempt(kept.id, user="UA", what="explain", result="worse", outcome="failed")
    with db.session() as session:
        repo.add_event(session, kept.id, actor="UB", kind="handoff_accepted", now=clock(), data={})
    clock.advance(hours=2)
    cases.close(kept.id, user="UA", outcome="resolved", details={"fix": "f", "mood": "calm"})
    still_open = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="s2")
    private = cases.open(team_id="T", channel_id="GSECRET", flagged_by="UA", summary="s4")
    cases.set_destination(private.id, channel_id="GSECRET", visibility="private")
    cases.log_attempt(private.id, user="UA", what="the secret workaround", result="ok", outcome="helped")
    cases.close(private.id, user="UA", outcome="resolved", details={"fix": "f"})
    with db.session() as session:
        rows = iq.closed_cases(session, T0 + timedelta(hours=1), T0 + timedelta(days=1))
        before = iq.closed_cases(session, T0 - timedelta(days=1), T0 + timedelta(hours=1))
    found, hidden = rows  # the open case is not closed; the early one closed before the window
    assert found.id == kept.id and found.status == "resolved" and found.mood == "furious"
    assert (found.mood_at_close, found.mood_later) == ("calm", None) and found.escalated and found.fixed_at
    assert insights.figures(rows).escalations_on_time == 1
    assert hidden.id == private.id and hidden.attempts_helped == ()  # a private case's attempts are never quoted
    assert found.customer == "acme"
    assert (found.steps_done, found.step_count) == ({1, 3}, 6)
    assert found.attempts_helped == ("refund",) and found.second_contact is True
    assert [r.id for r in before] == [early.id] and still_open.id not in [r.id for r in rows + before]


@pytest.mark.db
def test_home_shows_the_last_insights_while_a_thread_works_out_the_next(db) -> None:  # type: ignore[no-untyped-def]
    import time

    from bot.home import data as home

    home.forget_cached()
    clock = Clock(T0)
    cases = Cases(db, clock=clock)
    first = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="a")
    cases.close(first.id, user="UA", outcome="resolved", details={"fix": "f"})
    assert home.team_insights(cases, clock()).windows[30].closed == 1  # nothing cached: worked out now
    second = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="b")
    cases.close(second.id, user="UA", outcome="resolved", details={"fix": "f"})
    assert home.team_insights(cases, clock()).windows[30].closed == 1  # fresh for a minute
    clock.advance(minutes=2)
    assert home.team_insights(cases, clock()).windows[30].closed == 1  # stale: shown while the next is worked out
    deadline = time.monotonic() + 30
    while home.team_insights(cases, clock()).windows[30].closed != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert home.team_insights(cases, clock()).windows[30].closed == 2
    home.forget_cached()
