"""Storage tests (SQLite and PostgreSQL): the export reads what was done; retention erases exactly
what it should, keeps the rest, is idempotent and runs once per day across engines."""

from __future__ import annotations

import csv
import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot import texts
from bot.cases import Cases
from bot.handoff.records import Handoffs
from bot.learning import export
from bot.learning.retention import Retention
from storage import repositories as repo
from storage.db import Database
from storage.models import Case, CaseEvent, CaseStep, Handoff, JobRun, Review
from storage.sql import row_by_key

START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def history(db: Database, clock: Clock) -> dict[str, int]:
    """Three cases: a full resolved one (steps, attempts, a note, handoff, escalation, review, follow-up),
    a repeat of the same customer left open, and an old unresolved one outside a 30-day window."""
    cases = Cases(db, clock=clock)
    handoffs = Handoffs(cases)
    old = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="ancient", customer="Old Co")
    clock.advance(hours=1)
    cases.close(old.id, user="UA", outcome="unresolved", details={"explanation": "gone", "apologised": True})
    clock.now = START + timedelta(days=60)
    full = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="charged twice",
                      customer="Jane Roe <jane@example.com>", mood="furious", link="https://tickets/1")
    cases.set_step(full.id, 1, done=True, user="UA")
    cases.set_step(full.id, 4, done=True, user="UA", details={"apology": "accepted", "note": "Jane said fine"})
    cases.set_step(full.id, 5, done=True, user="UA", details={"action": "refunded Jane", "offer": "voucher"})
    cases.log_attempt(full.id, user="UA", what="=refund", result="calmer", outcome="helped")
    cases.log_attempt(full.id, user="UA", what="explain", result="angrier", outcome="failed")
    cases.add_note(full.id, user="UA", text="Jane's phone is 555")
    view, _ = handoffs.request(full.id, requester="UA", colleague="UB", note="Jane prefers mornings")
    handoffs.accept(view.id, user="UB")
    cases.escalate(full.id, user="UB", need="refund Jane in billing", expected_by=clock.now + timedelta(hours=4),
                   severity="high", channel=None)
    clock.advance(hours=1)
    cases.escalation_fixed(full.id, user="UEXPERT")
    clock.advance(hours=1)
    cases.close(full.id, user="UB", outcome="resolved", details={"fix": "refunded Jane", "prevention": None,
                                                                    "feedback_asked": True, "mood": "upset"})
    cases.save_review(full.id, user="UB", cause="ux", improve="tell Jane sooner", ux_issue="refund button hidden")
    with db.session() as session:
        repo.add_event(session, full.id, actor="UB", kind="follow_up", now=clock.now + timedelta(days=1),
                       data={"reminder": 1, "outcome": "happy", "note": "Jane is happy", "mood": "calm"})
        resolution = repo.get_case(session, full.id).resolution  # as a follow-up answer with a mood records it
        repo.update_case(session, full.id, clock.now, resolution={**resolution, "mood_later": "calm"})
    clock.advance(days=2)
    repeat = cases.open(team_id="T", channel_id="C1", flagged_by="UC", summary="again", customer="jane@example.com")
    return {"old": old.id, "full": full.id, "repeat": repeat.id}


def test_export_rows_match_what_was_done(db: Database, tmp_path: Path):
    clock = Clock(START)
    ids = history(db, clock)
    now = clock.now + timedelta(days=1)
    result = export.write_export(db, tmp_path, days=30, now=now)
    cases = read(result.cases_path)
    assert [int(r["case_id"]) for r in cases] == [ids["full"], ids["repeat"]]  # the old case is outside 30 days
    full, repeat = cases
    assert (full["status"], full["outcome"], full["owner"], full["flagged_by"], full["closed_by"]) == (
        "resolved", "resolved", "UB", "UA", "UB")
    assert (full["steps_done_count"], full["steps_done"], full["apology_accepted"]) == ("3", "1;4;5", "accepted")
    assert (full["mood_at_flagging"], full["mood_at_close"], full["mood_latest"], full["mood_change"]) == (
        "furious", "upset", "calm", "calmer")
    assert full["time_to_resolve_seconds"] == full["time_to_close_seconds"] == "7200"
    assert (full["cause"], full["ux_issue"]) == ("ux", "yes")
    assert (full["attempts"], full["attempts_helped"], full["attempts_failed"], full["notes"]) == ("2", "1", "1", "1")
    assert (full["handoffs"], full["escalations"], full["escalation_severity"], full["escalation_timeframe_met"]) == (
        "1", "1", "high", "yes")
    assert (full["follow_ups_done"], full["last_follow_up_outcome"], full["repeat_customer"]) == ("1", "happy", "no")
    assert (repeat["status"], repeat["repeat_customer"], repeat["closed_at"]) == ("open", "yes", "")
    assert result.cases == 2

    activity = read(result.activity_path)
    kinds = [(int(r["case_id"]), r["kind"]) for r in activity]
    full_id = ids["full"]
    assert kinds == [(full_id, k) for k in ("attempt", "attempt", "note", "handoff_requested", "handoff_accepted",
                                            "escalated", "escalation_fixed", "resolved", "reviewed", "follow_up")]
    attempt = activity[0]
    assert (attempt["author"], attempt["text"], attempt["result"], attempt["outcome"]) == ("UA", "'=refund", "calmer",
                                                                                           "helped")
    assert (activity[3]["text"], activity[3]["colleague"]) == ("Jane prefers mornings", "UB")
    assert activity[-1]["outcome"] == "happy" and activity[-1]["text"] == "Jane is happy"
    assert all(r["at"].endswith("Z") for r in activity)
    # Never the customer's name or the summary.
    raw = result.cases_path.read_text(encoding="utf-8-sig")
    assert "Jane Roe" not in raw and "charged twice" not in raw


def test_export_pages_through_many_cases_in_order(db: Database, tmp_path: Path):
    clock = Clock(START)
    cases = Cases(db, clock=clock)
    opened = [cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary=f"s{i}").id for i in range(7)]
    for case_id in opened:
        cases.add_note(case_id, user="UA", text=f"note {case_id}")
    rows = list(export.case_rows(db, START - timedelta(days=1), clock.now, batch_size=2))
    assert [int(r[0]) for r in rows] == opened
    notes = list(export.activity_rows(db, START - timedelta(days=1), batch_size=3))
    assert [(int(r[1]), r[5]) for r in notes] == [(i, f"note {i}") for i in opened]


# --- retention ----------------------------------------------------------------------------------
def snapshot(db: Database, case_id: int) -> dict:
    with db.session() as session:
        case = row_by_key(session, Case, case_id)
        assert case is not None
        steps = {s.step: s.details for s in session.execute(select(CaseStep).where(CaseStep.c.case_id == case_id))}
        events = [(e.kind, e.data) for e in session.execute(select(CaseEvent).where(CaseEvent.c.case_id == case_id)
                                                             .order_by(CaseEvent.c.id))]
        handoffs = [(h.note, h.reason, h.status) for h in session.execute(select(Handoff).where(Handoff.c.case_id == case_id))]
        review = row_by_key(session, Review, case_id)
        return {
            "case": {k: getattr(case, k) for k in ("customer", "customer_name_key", "customer_email", "customer_user",
                                                   "summary", "link", "source_permalink", "mood", "status", "opened_at",
                                                   "closed_at", "resolution", "escalation", "erased_at", "owner_id")},
            "steps": steps, "events": events, "handoffs": handoffs,
            "review": (review.cause, review.improve, review.ux_issue) if review else None,
        }


def test_retention_erases_exactly_what_it_should(db: Database, tmp_path: Path):
    clock = Clock(START)
    ids = history(db, clock)
    before_full = snapshot(db, ids["full"])
    before_repeat = snapshot(db, ids["repeat"])
    now = before_full["case"]["closed_at"] + timedelta(days=30, minutes=1)
    run = Retention(db, 30, clock=lambda: now).run_daily()
    assert run is not None and run.erased == 2  # the full case and the old one; the open repeat stays

    after = snapshot(db, ids["full"])
    case = after["case"]
    assert case["customer"] is case["customer_name_key"] is case["customer_email"] is case["customer_user"] is None
    assert case["link"] is None and case["summary"] == texts.ERASED_SUMMARY.format(days=30)
    assert case["erased_at"] == now
    for kept in ("mood", "status", "opened_at", "closed_at", "owner_id"):
        assert case[kept] == before_full["case"][kept], kept
    assert case["resolution"] == {"outcome": "resolved", "fix": texts.ERASED_TEXT, "prevention": None,
                                  "feedback_asked": True, "mood": "upset", "mood_later": "calm"}  # moods stay
    assert case["escalation"]["need"] == texts.ERASED_TEXT
    assert {k: v for k, v in case["escalation"].items() if k != "need"} == {
        k: v for k, v in before_full["case"]["escalation"].items() if k != "need"}
    assert after["steps"][4] == {"apology": "accepted", "note": texts.ERASED_TEXT}
    assert after["steps"][5] == {"action": texts.ERASED_TEXT, "offer": texts.ERASED_TEXT}
    assert after["handoffs"] == [(None, None, "accepted")]
    assert after["review"] == ("ux", None, texts.ERASED_TEXT)
    assert [k for k, _ in after["events"]] == [k for k, _ in before_full["events"]]  # every event stays
    flat = repr(after)
    for secret in ("Jane", "jane@example.com", "555", "charged twice", "tickets/1", "billing", "refund button"):
        assert secret not in flat, secret
    attempts = [d for k, d in after["events"] if k == "attempt"]
    assert attempts == [{"what": texts.ERASED_TEXT, "result": texts.ERASED_TEXT, "outcome": "helped"},
                        {"what": texts.ERASED_TEXT, "result": texts.ERASED_TEXT, "outcome": "failed"}]
    assert snapshot(db, ids["repeat"]) == before_repeat  # still open: untouched

    # The export still counts everything for the erased case.
    rows = {r["case_id"]: r for r in read(export.write_export(db, tmp_path, days=3650, now=now).cases_path)}
    full = rows[str(ids["full"])]
    assert (full["attempts"], full["notes"], full["handoffs"], full["cause"], full["steps_done"]) == ("2", "1", "1", "ux", "1;4;5")
    assert full["erased_at"] == export.iso(now)


def test_retention_keeps_recent_cases_and_is_idempotent(db: Database):
    clock = Clock(START)
    ids = history(db, clock)
    full_closed = snapshot(db, ids["full"])["case"]["closed_at"]
    now = full_closed + timedelta(days=29)  # only the old case is past 30 days
    before = snapshot(db, ids["full"])
    assert Retention(db, 30, clock=lambda: now).erase(now) == 1
    assert snapshot(db, ids["full"]) == before
    erased_once = snapshot(db, ids["old"])
    assert erased_once["case"]["summary"] == texts.ERASED_SUMMARY.format(days=30)
    later = now + timedelta(hours=5)
    assert Retention(db, 30, clock=lambda: later).erase(later) == 0
    assert snapshot(db, ids["old"]) == erased_once  # erased_at not moved, nothing scrubbed twice


def test_retention_runs_once_per_day_across_engines(database_url: str):
    clock = Clock(START)
    engines = [Database(database_url, pool_size=3) for _ in range(2)]
    engines[0].migrate()
    try:
        ids = history(engines[0], clock)
        now = clock.now + timedelta(days=400)
        runners = [Retention(e, 30, clock=lambda: now, worker=f"w{i}") for i, e in enumerate(engines) for _ in range(2)]
        results: list = []
        barrier = threading.Barrier(len(runners))

        def go(runner: Retention) -> None:
            barrier.wait()
            results.append(runner.run_daily())

        threads = [threading.Thread(target=go, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        ran = [r for r in results if r is not None]
        assert len(results) == 4 and len(ran) == 1 and ran[0].erased == 2
        with engines[1].session() as session:
            job = session.execute(select(JobRun)).one()
            assert (job.job, job.day, job.result) == ("retention", now.date().isoformat(), {"erased": 2})
            assert job.finished_at is not None
        # Same day again: nobody runs. The next day: one runs (nothing left to erase).
        assert all(r.run_daily() is None for r in runners)
        tomorrow = now + timedelta(days=1)
        fresh = [Retention(e, 30, clock=lambda: tomorrow, worker=f"n{i}") for i, e in enumerate(engines)]
        next_runs = [r.run_daily() for r in fresh]
        assert [r is not None for r in next_runs].count(True) == 1
        with engines[0].session() as session:
            assert session.scalar(select(func.count()).select_from(JobRun)) == 2
        assert snapshot(engines[0], ids["repeat"])["case"]["erased_at"] is None
    finally:
        for e in engines:
            e.dispose()


def test_an_unfinished_claim_is_taken_over_after_an_hour(db: Database):
    now = START
    crashed = Retention(db, 30, clock=lambda: now, worker="crashed")
    with db.session() as session:
        from storage import retention_queries as rq

        assert rq.claim_day(session, job="retention", day=now.date().isoformat(), worker="crashed", now=now,
                            stale_after=timedelta(hours=1))
    assert Retention(db, 30, clock=lambda: now + timedelta(minutes=30), worker="b").run_daily() is None
    assert Retention(db, 30, clock=lambda: now + timedelta(minutes=61), worker="c").run_daily() is not None
    assert crashed.worker == "crashed"


def test_an_erased_case_renders_the_note_and_asks_for_nothing(db: Database):
    from handlers.checklist import case_message as case_view

    clock = Clock(START)
    ids = history(db, clock)
    now = clock.now + timedelta(days=400)
    Retention(db, 30, clock=lambda: now).run_daily()
    rendered = repr(case_view.case_message(Cases(db).require(ids["full"])))
    assert texts.ERASED_SUMMARY.format(days=30) in rendered
    assert texts.CASE_NO_CUSTOMER not in rendered and "Jane" not in rendered
    unnamed = dataclasses.replace(Cases(db).require(ids["repeat"]), customer=None)
    assert texts.CASE_NO_CUSTOMER in repr(case_view.case_message(unnamed))  # a case not erased still asks


def test_cases_outside_the_window_between_others_stay_out(db: Database):
    clock = Clock(START)
    cases = Cases(db, clock=clock)
    first = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="a").id
    middle = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="b").id
    last = cases.open(team_id="T", channel_id="C1", flagged_by="UA", summary="c").id
    for case_id in (first, middle, last):
        cases.add_note(case_id, user="UA", text=f"note {case_id}")
    cases.close(middle, user="UA", outcome="resolved", details={})
    clock.advance(days=100)  # only the two open cases are in a 30-day window now
    since = clock.now - timedelta(days=30)
    assert [int(r[0]) for r in export.case_rows(db, since, clock.now)] == [first, last]
    assert [(int(r[1]), r[5]) for r in export.activity_rows(db, since)] == [(first, f"note {first}"), (last, f"note {last}")]
