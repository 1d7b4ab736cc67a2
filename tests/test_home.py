"""The App Home tab over a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set): the right
follow-ups for a busy agent, a fixed number of queries whatever the history, team numbers cached a minute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.cases import Cases
from bot.home import data as home
from handlers.home.views import home_view
from storage import repositories as repo
from tests.support import Clock

UTC = UTC
NOW = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
AGENT = "UAGENT"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def cases(db, clock) -> Iterator[Cases]:  # type: ignore[no-untyped-def]
    home.forget_cached()
    yield Cases(db, clock=clock)
    home.forget_cached()


def closed_case(cases: Cases, customer: str, *, opened: datetime, hours: float = 2, status: str = "resolved") -> int:
    with cases.db.session() as session:
        case_id = repo.create_case(session, now=opened, channel_id="CSUPPORT", flagged_by=AGENT, owner_id=AGENT,
                                   customer=customer, summary="charged twice")
        repo.update_case(session, case_id, opened, status=status, closed_at=opened + timedelta(hours=hours))
    return case_id


def follow_up(cases: Cases, case_id: int, due: datetime, status: str) -> None:
    with cases.db.session() as session:
        rid = repo.add_reminder(session, dedupe_key=f"f:{case_id}:{due.isoformat()}", now=due, kind="follow_up",
                                case_id=case_id, recipient=AGENT, due_at=due)
        if status != "pending":
            repo.set_reminder_status(session, rid, status=status, expect=("pending",), sent_at=due)


def home_text(cases: Cases) -> str:
    return json.dumps(home_view(home.home_data(cases, AGENT)))


def count_queries(cases: Cases) -> list[str]:
    seen: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(cases.db.engine, "before_cursor_execute", remember)
    return seen


def test_a_busy_agent_sees_their_next_follow_ups_not_the_oldest(cases):
    for n in range(60):  # a long history of sent follow-ups, all older than the upcoming one
        old = closed_case(cases, f"Old customer {n}", opened=NOW - timedelta(days=400 - n))
        follow_up(cases, old, NOW - timedelta(days=390 - n), "sent")
    soon = closed_case(cases, "Upcoming Ltd", opened=NOW - timedelta(days=1))
    follow_up(cases, soon, NOW + timedelta(days=1), "pending")
    later = closed_case(cases, "Next Month Inc", opened=NOW - timedelta(days=1))
    follow_up(cases, later, NOW + timedelta(days=20), "pending")  # beyond the week shown

    shown = home_text(cases)
    assert "Upcoming Ltd" in shown and f"#{soon}" in shown
    assert "Next Month Inc" not in shown
    # The rest of the list is the most recent sent ones, not the oldest.
    assert "Old customer 59" in shown and "Old customer 0\\" not in shown and '"Old customer 0 ' not in shown


def test_follow_ups_are_listed_soonest_first(cases):
    ids = []
    for days in (3, 1, 2):
        case_id = closed_case(cases, f"Customer in {days} days", opened=NOW - timedelta(days=1))
        follow_up(cases, case_id, NOW + timedelta(days=days), "pending")
        ids.append(case_id)
    shown = home_text(cases)
    positions = [shown.index(f"Customer in {d} days") for d in (1, 2, 3)]
    assert positions == sorted(positions)


def test_home_runs_the_same_queries_for_one_follow_up_or_fifteen(cases, clock):
    first = closed_case(cases, "Only One", opened=NOW - timedelta(days=2))
    follow_up(cases, first, NOW + timedelta(hours=5), "pending")
    home_text(cases)  # the team numbers are counted (and cached) here
    queries = count_queries(cases)
    home_text(cases)
    with_one = len(queries)
    for n in range(14):
        case_id = closed_case(cases, f"Another {n}", opened=NOW - timedelta(days=2))
        follow_up(cases, case_id, NOW - timedelta(hours=6 + n), "sent" if n % 2 else "failed")
    queries.clear()
    shown = home_text(cases)
    assert "Another 13" in shown
    assert len(queries) == with_one, queries


def test_team_numbers_are_recounted_after_a_minute_not_on_every_render(cases, clock):
    closed_case(cases, "First", opened=NOW - timedelta(days=3))
    assert "*Resolved:* 1 " in home_text(cases)
    closed_case(cases, "Second", opened=NOW - timedelta(days=2))
    queries = count_queries(cases)
    assert "*Resolved:* 1 " in home_text(cases)  # cached: still the first count
    assert not any("closed_at >=" in q for q in queries)
    clock.now = NOW + timedelta(seconds=61)
    assert "*Resolved:* 2 " in home_text(cases)


def test_a_step_click_looks_up_the_customers_earlier_cases_once(cases, monkeypatch):
    earlier = cases.open(team_id="T1", channel_id="CSUPPORT", flagged_by=AGENT, customer="Acme Corp", summary="one")
    case = cases.open(team_id="T1", channel_id="CSUPPORT", flagged_by=AGENT, customer="Acme Corp", summary="two")
    calls: list[int] = []
    real = repo.prior_cases
    monkeypatch.setattr(repo, "prior_cases", lambda session, **kw: calls.append(1) or real(session, **kw))
    changed = cases.set_step(case.id, 1, done=True, user=AGENT)
    assert changed and not calls
    snapshot = cases.get(case.id)  # the re-render that follows the click
    assert snapshot is not None and [p.id for p in snapshot.prior] == [earlier.id]
    assert calls == [1]


def test_the_home_view_is_valid_block_kit_and_escapes_customer_names(cases):
    from slack_sdk.models.views import View

    case_id = closed_case(cases, "<!channel> *Acme* & Co", opened=NOW - timedelta(days=1))
    follow_up(cases, case_id, NOW + timedelta(days=1), "pending")
    view = home_view(home.home_data(cases, AGENT))
    assert View(**view).to_dict() == view  # slack_sdk's model classes accept it unchanged
    shown = json.dumps(view)
    assert "<!channel>" not in shown and "&amp; Co" in shown  # no ping, no broken markup


def test_reminders_for_returns_the_next_due_not_the_history(cases):
    for n in range(30):
        old = closed_case(cases, f"Old {n}", opened=NOW - timedelta(days=300 - n))
        follow_up(cases, old, NOW - timedelta(days=290 - n), "sent")
    due = {}
    for days in (5, 1, 20, 3, 2):
        case_id = closed_case(cases, f"Due in {days}", opened=NOW - timedelta(days=1))
        follow_up(cases, case_id, NOW + timedelta(days=days), "pending")
        due[case_id] = days
    with cases.db.session() as session:
        found = repo.reminders_for(session, AGENT, kind="follow_up", due_before=NOW + timedelta(days=7), limit=3)
        assert [due[r.case_id] for r in found] == [1, 2, 3]
        assert all(r.status == "pending" for r in found)
