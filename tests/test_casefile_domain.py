"""Case file, second contact, escalation, closing and review: the domain rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot import texts
from bot.cases import Cases
from bot.core.errors import CaseError
from bot.core.rules import check_owner
from bot.handoff.records import Handoffs
from handlers.checklist import case_message as case_view
from handlers.closing import ids as closing_ids
from storage import repositories as repo
from storage.models import Case, CaseEvent, Handoff, Review
from storage.sql import row_by_key
from tests.support import Clock

UTC = UTC
OWNER, COLLEAGUE, THIRD = "UAGENT", "UCOLLEAGUE", "UTHIRD"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cases(db, clock) -> Cases:  # type: ignore[no-untyped-def]
    return Cases(db, clock=clock)


@pytest.fixture
def handoffs(cases) -> Handoffs:  # type: ignore[no-untyped-def]
    return Handoffs(cases)


def new_case(cases: Cases, customer: str | None = "Acme Corp", *, owner: str = OWNER, **kw: Any):
    return cases.open(team_id="T0001", channel_id="CSUPPORT", flagged_by=owner, summary="charged twice",
                      customer=customer, **kw)


def kinds(cases: Cases, case_id: int) -> list[str]:
    return [e["kind"] for e in cases.history(case_id)]


def escalate(cases: Cases, case_id: int, user: str = OWNER):
    return cases.escalate(case_id, user=user, need="refund approval", expected_by=cases.clock() + timedelta(days=2),
                          severity="high", channel="CESCALATE")


def run_together(*fns: Callable[[], Any]) -> list[Any]:
    """Start every function at the same moment in its own thread; results (or exceptions) in order."""
    barrier = threading.Barrier(len(fns))
    results: list[Any] = [None] * len(fns)

    def runner(i: int, fn: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # collected for the assertion
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


# --- case file -------------------------------------------------------------------------------
def test_open_keeps_mood_and_logs_it(cases):
    case = new_case(cases, mood="furious")
    assert case.mood == "furious" and case.owner_id == OWNER and case.flagged_by == OWNER and case.status == "open"
    [opened] = cases.history(case.id)
    assert opened["kind"] == "case_opened" and opened["data"]["mood"] == "furious" and opened["actor"] == OWNER
    with pytest.raises(ValueError):
        new_case(cases, mood="livid")


def test_anyone_may_log_attempts_and_notes(cases, clock):
    case = new_case(cases)
    clock.advance(minutes=5)
    snap = cases.log_attempt(case.id, user=COLLEAGUE, what="refund via Stripe", result="card declined", outcome="failed")
    clock.advance(minutes=5)
    snap = cases.log_attempt(case.id, user=OWNER, what="manual credit", result="accepted", outcome="helped")
    snap = cases.add_note(case.id, user=THIRD, text="customer prefers e-mail")
    assert [(a.author, a.text, a.result, a.outcome) for a in snap.attempts] == [
        (COLLEAGUE, "refund via Stripe", "card declined", "failed"),
        (OWNER, "manual credit", "accepted", "helped"),
    ]
    assert snap.attempts[0].at == datetime(2026, 6, 3, 10, 5, tzinfo=UTC)
    assert [(n.author, n.text) for n in snap.notes] == [(THIRD, "customer prefers e-mail")]
    history = cases.history(case.id)
    assert [e["kind"] for e in history] == ["case_opened", "attempt", "attempt", "note"]
    assert history[1]["actor"] == COLLEAGUE and history[1]["data"] == {
        "what": "refund via Stripe", "result": "card declined", "outcome": "failed"}
    assert snap.owner_id == OWNER  # logging does not take the case


def test_attempt_needs_a_known_outcome_and_an_existing_case(cases):
    case = new_case(cases)
    with pytest.raises(ValueError):
        cases.log_attempt(case.id, user=OWNER, what="x", result="y", outcome="maybe")
    with pytest.raises(CaseError):
        cases.log_attempt(case.id + 999, user=OWNER, what="x", result="y", outcome="helped")
    with pytest.raises(CaseError):
        cases.add_note(case.id + 999, user=OWNER, text="x")
    assert kinds(cases, case.id) == ["case_opened"]


def test_notes_allowed_on_a_closed_case(cases):
    case = new_case(cases)
    cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "refund"})
    snap = cases.add_note(case.id, user=COLLEAGUE, text="customer thanked us")
    assert snap.notes[-1].text == "customer thanked us" and snap.status == "resolved"


# --- ownership -------------------------------------------------------------------------------
def test_check_owner_names_the_owner(cases):
    case = new_case(cases)
    check_owner(case, OWNER, "close")
    with pytest.raises(CaseError) as info:
        check_owner(case, COLLEAGUE, "close")
    assert "<@UAGENT>" in info.value.message and texts.ACTION_NAMES["close"] in info.value.message


def test_only_the_owner_may_escalate_close_or_hand_off(cases, handoffs):
    case = new_case(cases)
    with pytest.raises(CaseError, match="Only the case owner"):
        escalate(cases, case.id, user=COLLEAGUE)
    with pytest.raises(CaseError, match="Only the case owner"):
        cases.close(case.id, user=COLLEAGUE, outcome="resolved", details={"fix": "x"})
    with pytest.raises(CaseError, match="Only the case owner"):
        handoffs.request(case.id, requester=COLLEAGUE, colleague=THIRD, note=None)
    snap = cases.require(case.id)
    assert snap.status == "open" and snap.escalation is None and snap.closed_at is None
    assert kinds(cases, case.id) == ["case_opened"]
    with cases.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Handoff)) == 0


def test_handoff_to_yourself_is_refused(cases, handoffs):
    case = new_case(cases)
    with pytest.raises(CaseError) as info:
        handoffs.request(case.id, requester=OWNER, colleague=OWNER, note=None)
    assert info.value.message == texts.HANDOFF_SELF
    with pytest.raises(CaseError):
        handoffs.check_request(case, OWNER, OWNER)
    handoffs.check_request(case, OWNER, COLLEAGUE)


def test_the_new_owner_takes_over_the_owner_rights(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note="over to you")
    assert handoffs.accept(handoff.id, user=COLLEAGUE)[0]
    with pytest.raises(CaseError, match="<@UCOLLEAGUE>"):
        cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    with pytest.raises(CaseError):
        handoffs.request(case.id, requester=OWNER, colleague=THIRD, note=None)
    changed, snap = cases.close(case.id, user=COLLEAGUE, outcome="resolved", details={"fix": "x"})
    assert changed and snap.closed_by == COLLEAGUE and snap.flagged_by == OWNER


# --- closing and reopening -------------------------------------------------------------------
def test_close_records_outcome_by_whom_and_when(cases, clock):
    case = new_case(cases)
    clock.advance(hours=2, minutes=5)
    details = {"fix": "refunded", "prevention": "update card", "feedback_asked": True}
    changed, snap = cases.close(case.id, user=OWNER, outcome="resolved", details=details)
    assert changed
    assert snap.status == "resolved" and snap.closed_by == OWNER
    assert snap.closed_at == datetime(2026, 6, 3, 12, 5, tzinfo=UTC)
    assert snap.resolution == {"outcome": "resolved", **details}
    assert not snap.is_open
    history = cases.history(case.id)
    assert history[-1]["kind"] == "resolved" and history[-1]["data"] == details
    rendered = str(case_view.case_message(snap))
    assert "Resolved" in rendered and "by <@UAGENT> after 2 h 5 min" in rendered


def test_double_close_is_a_no_op(cases, clock):
    case = new_case(cases)
    assert cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "a"})[0]
    clock.advance(minutes=10)
    changed, snap = cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "b"})
    assert not changed
    changed, snap = cases.close(case.id, user=OWNER, outcome="unresolved", details={"explanation": "c"})
    assert not changed
    # even someone else repeating the close gets a no-op, not a different outcome
    changed, snap = cases.close(case.id, user=COLLEAGUE, outcome="unresolved", details={"explanation": "d"})
    assert not changed
    assert snap.status == "resolved" and snap.resolution == {"outcome": "resolved", "fix": "a"}
    assert snap.closed_at == datetime(2026, 6, 3, 10, 0, tzinfo=UTC)
    assert kinds(cases, case.id).count("resolved") == 1 and "unresolved" not in kinds(cases, case.id)


def test_close_rejects_unknown_outcomes(cases):
    case = new_case(cases)
    with pytest.raises(ValueError):
        cases.close(case.id, user=OWNER, outcome="escalated", details={})
    assert cases.require(case.id).status == "open"


def test_not_resolved_close(cases):
    case = new_case(cases)
    changed, snap = cases.close(case.id, user=OWNER, outcome="unresolved",
                                details={"explanation": "feature missing", "apologised": True})
    assert changed and snap.status == "unresolved"
    assert snap.resolution == {"outcome": "unresolved", "explanation": "feature missing", "apologised": True}


def test_reopen_and_close_again(cases, clock):
    case = new_case(cases)
    cases.close(case.id, user=OWNER, outcome="unresolved", details={"explanation": "x"})
    clock.advance(days=1)
    changed, snap = cases.reopen(case.id, user=COLLEAGUE)
    assert changed and snap.status == "open" and snap.closed_at is None and snap.closed_by is None and snap.is_open
    assert not cases.reopen(case.id, user=COLLEAGUE)[0]  # already open: no-op
    assert kinds(cases, case.id).count("reopened") == 1
    reopened = [e for e in cases.history(case.id) if e["kind"] == "reopened"][0]
    assert reopened["actor"] == COLLEAGUE
    assert snap.owner_id == OWNER  # reopening does not take the case
    clock.advance(hours=1)
    changed, snap = cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "y"})
    assert changed and snap.status == "resolved" and snap.resolution == {"outcome": "resolved", "fix": "y"}
    assert snap.closed_at == datetime(2026, 6, 4, 11, 0, tzinfo=UTC)


def test_reopened_event_records_the_status_it_had(cases):
    case = new_case(cases)
    cases.close(case.id, user=OWNER, outcome="unresolved", details={"explanation": "x"})
    cases.reopen(case.id, user=COLLEAGUE)
    reopened = [e for e in cases.history(case.id) if e["kind"] == "reopened"][0]
    assert reopened["data"] == {"was": "unresolved"}


def test_reopen_of_an_open_case_is_a_no_op(cases):
    case = new_case(cases)
    changed, snap = cases.reopen(case.id, user=OWNER)
    assert not changed and snap.status == "open"
    assert kinds(cases, case.id) == ["case_opened"]


def test_concurrent_closes_exactly_one_wins(cases):
    case = new_case(cases)
    results = run_together(
        *[lambda i=i: cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": f"fix {i}"}) for i in range(4)]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for changed, _ in results if changed) == 1
    assert kinds(cases, case.id).count("resolved") == 1


def test_concurrent_reopens_exactly_one_wins(cases):
    case = new_case(cases)
    cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    results = run_together(*[lambda: cases.reopen(case.id, user=COLLEAGUE) for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for changed, _ in results if changed) == 1
    assert kinds(cases, case.id).count("reopened") == 1


# --- escalation ------------------------------------------------------------------------------
def test_escalate_records_need_timeframe_and_severity(cases, clock):
    case = new_case(cases)
    snap = escalate(cases, case.id)
    esc = snap.escalation
    assert snap.status == "escalated" and snap.is_open
    assert esc["need"] == "refund approval" and esc["severity"] == "high" and esc["by"] == OWNER
    assert datetime.fromisoformat(esc["expected_by"]) == clock.now + timedelta(days=2)
    assert esc["channel"] == "CESCALATE" and esc["fixed_at"] is None
    assert kinds(cases, case.id)[-1] == "escalated"
    cases.set_escalation_message(case.id, "CESCALATE", "123.456")
    assert cases.require(case.id).escalation["ts"] == "123.456"
    assert "expected by" in str(case_view.case_message(cases.require(case.id)))


def test_escalate_twice_or_when_closed_is_refused(cases):
    case = new_case(cases)
    escalate(cases, case.id)
    with pytest.raises(CaseError) as info:
        escalate(cases, case.id)
    assert info.value.message == texts.ALREADY_ESCALATED.format(number=case.id)
    other = new_case(cases, "Other Ltd")
    cases.close(other.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    with pytest.raises(CaseError, match="already closed"):
        escalate(cases, other.id)
    with pytest.raises(ValueError):
        cases.escalate(other.id, user=OWNER, need="x", expected_by=cases.clock(), severity="apocalyptic", channel=None)
    assert kinds(cases, case.id).count("escalated") == 1


def test_escalation_updates_from_anyone(cases):
    case = new_case(cases)
    with pytest.raises(CaseError):
        cases.escalation_update(case.id, user="UEXPERT", text="looking")  # nothing escalated yet
    escalate(cases, case.id)
    cases.escalation_update(case.id, user="UEXPERT", text="found the bug")
    update_event = cases.history(case.id)[-1]
    assert update_event == {**update_event, "kind": "escalation_update", "actor": "UEXPERT",
                            "data": {"text": "found the bug"}}


def test_escalation_fixed_twice_records_once(cases, clock):
    case = new_case(cases)
    escalate(cases, case.id)
    clock.advance(hours=3)
    changed, snap = cases.escalation_fixed(case.id, user="UEXPERT")
    assert changed and snap.status == "open"
    assert snap.escalation["fixed_by"] == "UEXPERT"
    assert datetime.fromisoformat(snap.escalation["fixed_at"]) == clock.now
    clock.advance(hours=1)
    changed, again = cases.escalation_fixed(case.id, user=THIRD)
    assert not changed and again.escalation["fixed_by"] == "UEXPERT"
    assert kinds(cases, case.id).count("escalation_fixed") == 1
    # a fixed escalation no longer blocks a new one
    snap = escalate(cases, case.id)
    assert snap.status == "escalated" and snap.escalation["fixed_at"] is None


def test_escalation_fixed_without_escalation_is_a_no_op(cases):
    case = new_case(cases)
    changed, snap = cases.escalation_fixed(case.id, user="UEXPERT")
    assert not changed and snap.escalation is None
    assert kinds(cases, case.id) == ["case_opened"]


def test_escalation_fixed_after_close_keeps_the_closed_status(cases):
    case = new_case(cases)
    escalate(cases, case.id)
    cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    changed, snap = cases.escalation_fixed(case.id, user="UEXPERT")
    assert changed and snap.status == "resolved"


def test_concurrent_mark_fixed_records_once(cases):
    case = new_case(cases)
    escalate(cases, case.id)
    results = run_together(*[lambda u=u: cases.escalation_fixed(case.id, user=u) for u in ("UEXPERT", THIRD, "UX3")])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for changed, _ in results if changed) == 1
    assert kinds(cases, case.id).count("escalation_fixed") == 1


def test_reopen_with_a_pending_escalation_is_escalated_again(cases):
    case = new_case(cases)
    escalate(cases, case.id)
    cases.close(case.id, user=OWNER, outcome="unresolved", details={"explanation": "waiting"})
    _, snap = cases.reopen(case.id, user=OWNER)
    assert snap.status == "escalated"


# --- second contact --------------------------------------------------------------------------
def test_handoff_request_is_pending_and_logged(cases, handoffs):
    case = new_case(cases)
    handoff, withdrawn = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note="please")
    assert withdrawn == [] and handoff.status == "pending" and handoff.to_user == COLLEAGUE and handoff.note == "please"
    assert cases.require(case.id).pending_handoff_to == COLLEAGUE
    event = cases.history(case.id)[-1]
    assert event["kind"] == "handoff_requested" and event["data"] == {"handoff": handoff.id, "to": COLLEAGUE, "note": "please"}
    handoffs.set_dm(handoff.id, "DUCOLLEAGUE", "1.2")
    assert handoffs.get(handoff.id).dm_ts == "1.2"


def test_accept_moves_the_case(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    with pytest.raises(CaseError) as info:
        handoffs.accept(handoff.id, user=THIRD)
    assert info.value.message == texts.HANDOFF_NOT_YOURS.format(user="<@UCOLLEAGUE>")
    changed, view = handoffs.accept(handoff.id, user=COLLEAGUE)
    assert changed and view.status == "accepted"
    snap = cases.require(case.id)
    assert snap.owner_id == COLLEAGUE and snap.pending_handoff_to is None
    event = cases.history(case.id)[-1]
    assert event["kind"] == "handoff_accepted" and event["actor"] == COLLEAGUE
    assert event["data"] == {"handoff": handoff.id, "from": OWNER, "to": COLLEAGUE}
    changed, view = handoffs.accept(handoff.id, user=COLLEAGUE)  # double click
    assert not changed and view.status == "accepted"
    assert kinds(cases, case.id).count("handoff_accepted") == 1


def test_decline_keeps_the_case_and_accept_after_decline_is_refused(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    with pytest.raises(CaseError):
        handoffs.decline(handoff.id, user=THIRD, reason=None)
    changed, view = handoffs.decline(handoff.id, user=COLLEAGUE, reason="on holiday")
    assert changed and view.status == "declined" and view.reason == "on holiday"
    changed, view = handoffs.accept(handoff.id, user=COLLEAGUE)
    assert not changed and view.status == "declined"
    assert not handoffs.decline(handoff.id, user=COLLEAGUE, reason="again")[0]
    snap = cases.require(case.id)
    assert snap.owner_id == OWNER and snap.pending_handoff_to is None
    assert [k for k in kinds(cases, case.id) if k.startswith("handoff")] == ["handoff_requested", "handoff_declined"]
    declined = [e for e in cases.history(case.id) if e["kind"] == "handoff_declined"][0]
    assert declined["data"] == {"handoff": handoff.id, "from": OWNER, "reason": "on holiday"}


def test_decline_after_accept_is_refused(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    handoffs.accept(handoff.id, user=COLLEAGUE)
    changed, view = handoffs.decline(handoff.id, user=COLLEAGUE, reason=None)
    assert not changed and view.status == "accepted"
    assert cases.require(case.id).owner_id == COLLEAGUE


def test_accept_when_the_owner_changed_meanwhile_is_refused(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    with cases.db.session() as session:  # the case moved to someone else by another route
        session.execute(update(Case).where(Case.c.id == case.id).values(owner_id=THIRD))
    changed, view = handoffs.accept(handoff.id, user=COLLEAGUE)
    assert not changed and view.status == "cancelled"
    assert cases.require(case.id).owner_id == THIRD
    assert "handoff_accepted" not in kinds(cases, case.id)


def test_accept_after_a_newer_request_superseded_it_is_refused(cases, handoffs):
    case = new_case(cases)
    first, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    second, withdrawn = handoffs.request(case.id, requester=OWNER, colleague=THIRD, note=None)
    assert [w.id for w in withdrawn] == [first.id] and withdrawn[0].status == "cancelled"
    assert not handoffs.accept(first.id, user=COLLEAGUE)[0]
    assert handoffs.accept(second.id, user=THIRD)[0]
    assert cases.require(case.id).owner_id == THIRD


def test_accept_after_close_is_refused(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    assert handoffs.get(handoff.id).status == "cancelled"
    changed, view = handoffs.accept(handoff.id, user=COLLEAGUE)
    assert not changed and cases.require(case.id).owner_id == OWNER
    with pytest.raises(CaseError, match="already closed"):
        handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)


def test_failed_dm_voids_the_request(cases, handoffs):
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    handoffs.failed(handoff.id, "user_disabled")
    assert handoffs.get(handoff.id).status == "failed"
    event = cases.history(case.id)[-1]
    assert event["kind"] == "handoff_failed" and event["data"]["error"] == "user_disabled"
    assert not handoffs.accept(handoff.id, user=COLLEAGUE)[0]
    assert cases.require(case.id).owner_id == OWNER


def test_concurrent_accepts_exactly_one_wins(cases, handoffs):
    for _ in range(3):
        case = new_case(cases)
        handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
        results = run_together(*[lambda: handoffs.accept(handoff.id, user=COLLEAGUE) for _ in range(3)])
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(1 for changed, _ in results if changed) == 1
        assert kinds(cases, case.id).count("handoff_accepted") == 1
        assert cases.require(case.id).owner_id == COLLEAGUE


def _is_deadlock(result: Any) -> bool:
    return isinstance(result, Exception) and "deadlock" in str(result).lower()


def test_concurrent_accept_and_decline_exactly_one_wins(cases, handoffs):
    """Exactly one answer takes effect. (On PostgreSQL the loser may currently die of a deadlock instead
    of getting a clean "no longer open": see test_accept_and_decline_do_not_deadlock.)"""
    for _ in range(4):
        case = new_case(cases)
        handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
        results = run_together(
            lambda: handoffs.accept(handoff.id, user=COLLEAGUE),
            lambda: handoffs.decline(handoff.id, user=COLLEAGUE, reason="busy"),
            lambda: handoffs.accept(handoff.id, user=COLLEAGUE),
        )
        assert not [r for r in results if isinstance(r, Exception) and not _is_deadlock(r)], results
        winners = [i for i, r in enumerate(results) if not isinstance(r, Exception) and r[0]]
        assert len(winners) == 1, results
        status = handoffs.get(handoff.id).status
        log = kinds(cases, case.id)
        owner = cases.require(case.id).owner_id
        if winners[0] == 1:
            assert status == "declined" and owner == OWNER
            assert "handoff_declined" in log and "handoff_accepted" not in log
        else:
            assert status == "accepted" and owner == COLLEAGUE
            assert log.count("handoff_accepted") == 1 and "handoff_declined" not in log


def test_accept_and_decline_do_not_deadlock(db, cases, handoffs, monkeypatch):
    if db.is_sqlite:
        pytest.skip("SQLite serialises whole write transactions (BEGIN IMMEDIATE): no lock-order deadlock")
    case = new_case(cases)
    handoff, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    real = repo.answer_handoff
    accept_holds_case = threading.Event()
    decline_answered = threading.Event()

    def answer(session, handoff_id, *, status, now, reason):  # type: ignore[no-untyped-def]
        # Interleave the two transactions the way two simultaneous clicks can: accept has the case
        # lock, decline answers the handoff, then accept tries to answer it too.
        if status == "accepted":
            accept_holds_case.set()
            decline_answered.wait(3)
        elif status == "declined":
            accept_holds_case.wait(3)
        try:
            return real(session, handoff_id, status=status, now=now, reason=reason)
        finally:
            if status == "declined":
                decline_answered.set()

    monkeypatch.setattr(repo, "answer_handoff", answer)
    results = run_together(
        lambda: handoffs.accept(handoff.id, user=COLLEAGUE),
        lambda: handoffs.decline(handoff.id, user=COLLEAGUE, reason="busy"),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for changed, _ in results if changed) == 1


def test_new_request_and_decline_do_not_deadlock(db, cases, handoffs, monkeypatch):
    if db.is_sqlite:
        pytest.skip("SQLite serialises whole write transactions (BEGIN IMMEDIATE): no lock-order deadlock")
    case = new_case(cases)
    first, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    real = repo.answer_handoff
    request_holds_case = threading.Event()
    decline_answered = threading.Event()

    def answer(session, handoff_id, *, status, now, reason):  # type: ignore[no-untyped-def]
        if status == "cancelled":
            request_holds_case.set()
            decline_answered.wait(3)
        elif status == "declined":
            request_holds_case.wait(3)
        try:
            return real(session, handoff_id, status=status, now=now, reason=reason)
        finally:
            if status == "declined":
                decline_answered.set()

    monkeypatch.setattr(repo, "answer_handoff", answer)
    results = run_together(
        lambda: handoffs.request(case.id, requester=OWNER, colleague=THIRD, note=None),
        lambda: handoffs.decline(first.id, user=COLLEAGUE, reason="busy"),
    )
    assert not [r for r in results if isinstance(r, Exception)], results


# --- customer matching -----------------------------------------------------------------------
def test_repeat_customer_matched_case_insensitively_on_name(cases):
    first = new_case(cases, "Acme Corp")
    cases.set_posted(first.id, message_ts="1.1", permalink="https://example.slack.com/archives/CSUPPORT/p11")
    cases.log_attempt(first.id, user=OWNER, what="restart the sync", result="still broken", outcome="failed")
    cases.log_attempt(first.id, user=OWNER, what="clear cache", result="better", outcome="partly")
    cases.close(first.id, user=OWNER, outcome="unresolved", details={"explanation": "x"})
    second = new_case(cases, "  ACME   corp ")
    assert second.prior_count == 1
    [prior] = second.prior
    assert prior.id == first.id and prior.status == "unresolved"
    assert prior.permalink == "https://example.slack.com/archives/CSUPPORT/p11"
    assert prior.failed_attempts == ("restart the sync",)
    rendered = str(case_view.case_message(second))
    assert "Repeat customer" in rendered and "restart the sync" in rendered and "clear cache" not in rendered
    assert "https://example.slack.com/archives/CSUPPORT/p11" in rendered
    assert new_case(cases, "Acme Corporation").prior_count == 0
    assert new_case(cases, "Globex").prior_count == 0


def test_repeat_customer_matched_on_email(cases):
    first = new_case(cases, "Jane Doe <mailto:jane.doe@example.com|jane.doe@example.com>")
    second = new_case(cases, "J. Doe (JANE.DOE@Example.com)")
    assert second.prior_count == 1 and second.prior[0].id == first.id
    assert new_case(cases, "john@example.com").prior_count == 0


def test_repeat_customer_matched_on_slack_user(cases):
    first = new_case(cases, "Jane", customer_user="UCUSTOMER")
    second = new_case(cases, "jane from Globex", customer_user="UCUSTOMER")
    assert second.prior_count == 1 and second.prior[0].id == first.id
    third = new_case(cases, "<@UCUSTOMER>")
    assert third.prior_count == 2
    assert new_case(cases, "Jim", customer_user="UOTHER").prior_count == 0


def test_prior_cases_are_earlier_ones_only_newest_first(cases):
    a = new_case(cases, "Initech")
    b = new_case(cases, "initech")
    c = new_case(cases, "INITECH")
    assert [p.id for p in cases.require(c.id).prior] == [b.id, a.id]
    assert cases.require(a.id).prior_count == 0  # later cases are not "earlier cases"
    assert cases.require(b.id).prior_count == 1
    assert new_case(cases, None).prior_count == 0


def test_repeat_customer_count_is_not_capped(cases):
    for _ in range(12):
        new_case(cases, "Hooli")
    assert new_case(cases, "hooli").prior_count == 12


def test_older_case_keeps_its_prior_cases_when_many_later_ones_exist(cases):
    new_case(cases, "Umbrella")
    older = new_case(cases, "Umbrella")
    assert older.prior_count == 1
    for _ in range(10):
        new_case(cases, "Umbrella")
    assert cases.require(older.id).prior_count == 1


def test_editing_a_case_keeps_its_slack_user_customer_key(cases):
    first = new_case(cases, "jane", customer_user="UCUSTOMER")
    cases.edit(first.id, user=OWNER, customer="jane", summary="charged twice, now also locked out", mood=None, link=None)
    later = new_case(cases, "Jane Smith", customer_user="UCUSTOMER")
    assert later.prior_count == 1


# --- review ----------------------------------------------------------------------------------
def test_review_needs_a_closed_case(cases):
    case = new_case(cases)
    with pytest.raises(CaseError) as info:
        cases.save_review(case.id, user=OWNER, cause="bug", improve=None, ux_issue=None)
    assert info.value.message == texts.CASE_NOT_CLOSED.format(number=case.id)


def test_review_is_stored(cases, clock):
    case = new_case(cases)
    cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    clock.advance(minutes=30)
    with pytest.raises(ValueError):
        cases.save_review(case.id, user=OWNER, cause="weather", improve=None, ux_issue=None)
    with pytest.raises(CaseError, match="Only the case owner"):
        cases.save_review(case.id, user=COLLEAGUE, cause="bug", improve=None, ux_issue=None)
    snap = cases.save_review(case.id, user=OWNER, cause="ux", improve="clearer billing page",
                             ux_issue="the retry button is hidden")
    assert snap.review_cause == "ux"
    with cases.db.session() as session:
        review = row_by_key(session, Review, case.id)
        assert (review.cause, review.improve, review.ux_issue, review.reviewed_by) == (
            "ux", "clearer billing page", "the retry button is hidden", OWNER)
        assert review.reviewed_at == clock.now and review.forwarded_ts is None
        assert repo.cause_counts(session) == {"ux": 1}
    event = cases.history(case.id)[-1]
    assert event["kind"] == "reviewed" and event["data"] == {
        "cause": "ux", "improve": "clearer billing page", "ux_issue": "the retry button is hidden"}
    cases.set_review_forwarded(case.id, "999.1")
    with cases.db.session() as session:
        assert row_by_key(session, Review, case.id).forwarded_ts == "999.1"
    # with a review the case message no longer offers one
    assert closing_ids.REVIEW_ACTION not in str(case_view.case_message(cases.require(case.id)))


def test_a_second_review_replaces_the_first(cases):
    case = new_case(cases)
    cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
    cases.save_review(case.id, user=OWNER, cause="bug", improve="a", ux_issue=None)
    cases.save_review(case.id, user=OWNER, cause="outside", improve=None, ux_issue=None)
    with cases.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 1
        assert row_by_key(session, Review, case.id).cause == "outside"


def test_all_review_causes_are_accepted(cases):
    for cause in ("bug", "ux", "support", "outside", "other"):
        case = new_case(cases, f"Customer {cause}")
        cases.close(case.id, user=OWNER, outcome="resolved", details={"fix": "x"})
        assert cases.save_review(case.id, user=OWNER, cause=cause, improve=None, ux_issue=None).review_cause == cause


# --- the event log as a whole ----------------------------------------------------------------
def test_full_lifecycle_is_in_the_event_log_in_order(cases, handoffs, clock):
    case = new_case(cases, mood="angry")
    cases.log_attempt(case.id, user=OWNER, what="a", result="b", outcome="failed")
    cases.add_note(case.id, user=THIRD, text="n")
    h1, _ = handoffs.request(case.id, requester=OWNER, colleague=THIRD, note=None)
    handoffs.decline(h1.id, user=THIRD, reason=None)
    h2, _ = handoffs.request(case.id, requester=OWNER, colleague=COLLEAGUE, note=None)
    handoffs.accept(h2.id, user=COLLEAGUE)
    escalate(cases, case.id, user=COLLEAGUE)
    cases.escalation_update(case.id, user="UEXPERT", text="u")
    cases.escalation_fixed(case.id, user="UEXPERT")
    cases.close(case.id, user=COLLEAGUE, outcome="resolved", details={"fix": "f"})
    cases.save_review(case.id, user=COLLEAGUE, cause="bug", improve=None, ux_issue=None)
    assert kinds(cases, case.id) == [
        "case_opened", "attempt", "note", "handoff_requested", "handoff_declined", "handoff_requested",
        "handoff_accepted", "escalated", "escalation_update", "escalation_fixed", "resolved", "reviewed",
    ]
    with cases.db.session() as session:
        rows = session.execute(select(CaseEvent).where(CaseEvent.c.case_id == case.id)).all()
        assert all(r.at.tzinfo is not None for r in rows)
