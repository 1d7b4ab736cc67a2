"""bot.core.cases.Cases over a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.cases import Cases
from bot.core.errors import CaseError
from storage.db import Database
from tests.support import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 3, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def cases(db, clock) -> Cases:
    return Cases(db, clock=clock)


def open_case(cases: Cases, customer: str | None = "Acme Corp", summary: str = "charged twice", **kw):
    return cases.open(team_id="T0001", channel_id=kw.pop("channel_id", "CSUPPORT"), flagged_by=kw.pop("flagged_by", "UAGENT"),
                      customer=customer, summary=summary, **kw)


def kinds(cases: Cases, case_id: int) -> list[str]:
    return [e["kind"] for e in cases.history(case_id)]


# --- opening ---------------------------------------------------------------------------------
def test_open_creates_six_open_steps_and_logs_case_opened(cases, clock):
    snap = open_case(cases, mood="furious", link="https://acme.com/t/1")
    assert snap.id > 0
    assert snap.status == "open" and snap.is_open
    assert snap.customer == "Acme Corp" and snap.summary == "charged twice"
    assert snap.flagged_by == snap.owner_id == "UAGENT"
    assert snap.mood == "furious" and snap.link == "https://acme.com/t/1"
    assert [s.number for s in snap.steps] == [1, 2, 3, 4, 5, 6]
    assert not any(s.done for s in snap.steps) and snap.done_count == 0
    assert snap.opened_at == clock.now and snap.opened_at.tzinfo is not None
    assert snap.message_ts is None and snap.checklist_ts is None
    history = cases.history(snap.id)
    assert [e["kind"] for e in history] == ["case_opened"]
    assert history[0]["actor"] == "UAGENT"
    assert history[0]["data"]["customer"] == "Acme Corp"
    assert history[0]["data"]["summary"] == "charged twice"
    assert history[0]["data"]["channel"] == "CSUPPORT"
    assert history[0]["at"] == clock.now


def test_open_without_customer(cases):
    snap = open_case(cases, customer=None, summary="no idea who")
    assert snap.customer is None and snap.prior_count == 0 and snap.prior == ()


def test_open_rejects_unknown_mood(cases):
    with pytest.raises(ValueError):
        open_case(cases, mood="livid")


def test_case_ids_increase_and_get_returns_the_same(cases):
    a = open_case(cases, customer="A")
    b = open_case(cases, customer="B")
    assert b.id > a.id
    assert cases.get(a.id) == a
    assert cases.get(999_999) is None
    with pytest.raises(CaseError):
        cases.require(999_999)


def test_long_and_unicode_text_is_stored_exactly(cases):
    summary = ("&<>😠 Überweisung " * 200)[:3000]
    customer = ("Müller & Söhne <GmbH> " * 10)[:150]
    snap = open_case(cases, customer=customer, summary=summary)
    again = cases.get(snap.id)
    assert again.summary == summary and again.customer == customer


def test_set_posted_records_message_ids(cases):
    snap = open_case(cases)
    cases.set_posted(snap.id, message_ts="1700000000.000100", permalink="https://x.slack.com/archives/C/p1")
    cases.checklist_posted(snap.id, "1700000000.000200")
    cases.set_posted(snap.id)  # nothing to change
    again = cases.get(snap.id)
    assert again.message_ts == "1700000000.000100"
    assert again.checklist_ts == "1700000000.000200"
    assert again.permalink == "https://x.slack.com/archives/C/p1"


def test_move_channel_before_posting(cases):
    snap = open_case(cases)
    cases.move_channel(snap.id, "CESCALATE")
    assert cases.get(snap.id).channel_id == "CESCALATE"


# --- steps -----------------------------------------------------------------------------------
def test_set_step_done_then_repeat_is_a_no_op(cases, clock):
    snap = open_case(cases)
    done_at = clock.advance(minutes=3)
    changed = cases.set_step(snap.id, 2, done=True, user="UCOLLEAGUE")
    after = cases.get(snap.id, full=False)
    assert changed
    step = after.step(2)
    assert step.done and step.done_by == "UCOLLEAGUE" and step.done_at == done_at
    assert after.done_count == 1
    clock.advance(minutes=1)
    changed = cases.set_step(snap.id, 2, done=True, user="UAGENT")
    again = cases.get(snap.id, full=False)
    assert not changed
    assert again.step(2).done_by == "UCOLLEAGUE" and again.step(2).done_at == done_at
    events = cases.history(snap.id)
    assert [e["kind"] for e in events] == ["case_opened", "step_done"]
    assert events[1]["data"] == {"step": 2} and events[1]["actor"] == "UCOLLEAGUE"


def test_steps_in_any_order_and_undo(cases):
    snap = open_case(cases)
    for n in (6, 1, 4):
        changed = cases.set_step(snap.id, n, done=True, user="UAGENT")
        after = cases.get(snap.id, full=False)
        assert changed
    assert after.done_count == 3
    assert [s.done for s in after.steps] == [True, False, False, True, False, True]
    changed = cases.set_step(snap.id, 4, done=False, user="UAGENT")
    after = cases.get(snap.id, full=False)
    assert changed
    step = after.step(4)
    assert not step.done and step.done_by is None and step.done_at is None and step.details is None
    assert after.done_count == 2
    changed = cases.set_step(snap.id, 4, done=False, user="UAGENT")
    assert not changed  # undoing an undone step changes nothing
    changed = cases.set_step(snap.id, 3, done=False, user="UAGENT")
    assert not changed
    assert kinds(cases, snap.id) == ["case_opened", "step_done", "step_done", "step_done", "step_undone"]
    # and it can be ticked again
    changed = cases.set_step(snap.id, 4, done=True, user="UCOLLEAGUE")
    after = cases.get(snap.id, full=False)
    assert changed and after.step(4).done_by == "UCOLLEAGUE"


def test_step_details_are_stored_and_logged(cases):
    snap = open_case(cases)
    cases.set_step(snap.id, 4, done=True, user="UAGENT", details={"apology": "accepted", "note": "she laughed"})
    after = cases.get(snap.id, full=False)
    assert after.step(4).details == {"apology": "accepted", "note": "she laughed"}
    cases.set_step(snap.id, 5, done=True, user="UAGENT", details={"action": "refund €20", "offer": "a free month"})
    after = cases.get(snap.id, full=False)
    assert after.step(5).details == {"action": "refund €20", "offer": "a free month"}
    events = cases.history(snap.id)
    assert events[1]["data"] == {"step": 4, "apology": "accepted", "note": "she laughed"}
    assert events[2]["data"] == {"step": 5, "action": "refund €20", "offer": "a free month"}
    # a repeated submission does not overwrite what was recorded
    changed = cases.set_step(snap.id, 4, done=True, user="UAGENT", details={"apology": "refused"})
    after = cases.get(snap.id, full=False)
    assert not changed and after.step(4).details["apology"] == "accepted"


@pytest.mark.parametrize("number", [0, 7, -1])
def test_set_step_rejects_unknown_step(cases, number):
    snap = open_case(cases)
    with pytest.raises(ValueError):
        cases.set_step(snap.id, number, done=True, user="UAGENT")
    assert kinds(cases, snap.id) == ["case_opened"]


def test_set_step_on_missing_case(cases):
    with pytest.raises(CaseError):
        cases.set_step(424242, 1, done=True, user="UAGENT")


def test_steps_of_one_case_do_not_touch_another(cases):
    a = open_case(cases, customer="A")
    b = open_case(cases, customer="B")
    cases.set_step(a.id, 1, done=True, user="UAGENT")
    assert cases.get(b.id).done_count == 0
    assert kinds(cases, b.id) == ["case_opened"]


def run_threads(n: int, target) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_concurrent_set_step_records_exactly_one_event(cases):
    snap = open_case(cases)
    results = run_threads(8, lambda i: cases.set_step(snap.id, 3, done=True, user=f"U{i}"))
    assert sorted(results) == [False] * 7 + [True]
    events = cases.history(snap.id)
    done = [e for e in events if e["kind"] == "step_done"]
    assert len(done) == 1
    winner = results.index(True)
    assert done[0]["actor"] == f"U{winner}"
    assert cases.get(snap.id).step(3).done_by == f"U{winner}"


def test_concurrent_undo_records_exactly_one_event(cases):
    snap = open_case(cases)
    cases.set_step(snap.id, 1, done=True, user="UAGENT")
    results = run_threads(8, lambda i: cases.set_step(snap.id, 1, done=False, user=f"U{i}"))
    assert sum(results) == 1
    assert kinds(cases, snap.id).count("step_undone") == 1


def test_concurrent_different_steps_all_recorded(cases):
    snap = open_case(cases)
    results = run_threads(6, lambda i: cases.set_step(snap.id, i + 1, done=True, user="UAGENT"))
    assert all(results)
    assert cases.get(snap.id).done_count == 6
    assert kinds(cases, snap.id).count("step_done") == 6


# --- editing ---------------------------------------------------------------------------------
def test_edit_logs_only_what_changed(cases, clock):
    snap = open_case(cases, customer=None, summary="refund failed")
    clock.advance(minutes=5)
    after = cases.edit(snap.id, user="UCOLLEAGUE", customer="Acme Corp", summary="refund failed", mood="angry", link=None)
    assert after.customer == "Acme Corp" and after.mood == "angry"
    events = cases.history(snap.id)
    assert [e["kind"] for e in events] == ["case_opened", "case_edited"]
    edit = events[1]
    assert edit["actor"] == "UCOLLEAGUE" and edit["at"] == clock.now
    assert edit["data"] == {"customer": {"from": None, "to": "Acme Corp"}, "mood": {"from": None, "to": "angry"}}


def test_edit_without_changes_logs_nothing(cases):
    snap = open_case(cases, mood="calm", link="https://acme.com/t/1")
    after = cases.edit(snap.id, user="UAGENT", customer=snap.customer, summary=snap.summary, mood="calm", link=snap.link)
    assert after == cases.get(snap.id)
    assert kinds(cases, snap.id) == ["case_opened"]


def test_edit_missing_case(cases):
    with pytest.raises(CaseError):
        cases.edit(777_777, user="UAGENT", customer="x", summary="y", mood=None, link=None)


def test_edit_keeps_steps(cases):
    snap = open_case(cases)
    cases.set_step(snap.id, 2, done=True, user="UAGENT")
    after = cases.edit(snap.id, user="UAGENT", customer="Acme", summary="changed", mood=None, link=None)
    assert after.step(2).done and after.summary == "changed"


# --- prior cases -----------------------------------------------------------------------------
def test_prior_cases_match_name_case_insensitively(cases):
    first = open_case(cases, customer="Acme Corp", summary="first")
    open_case(cases, customer="Other Inc", summary="unrelated")
    second = open_case(cases, customer="  ACME   corp ", summary="second")
    assert second.prior_count == 1
    assert [p.id for p in second.prior] == [first.id]
    assert second.prior[0].summary == "first"
    assert cases.get(first.id).prior_count == 0  # later cases are not "earlier"


def test_prior_cases_match_email(cases):
    first = open_case(cases, customer="Jane Doe <mailto:JANE@acme.com|JANE@acme.com>")
    second = open_case(cases, customer="jane@acme.com")
    third = open_case(cases, customer="J. Doe (jane@ACME.com)")
    assert [p.id for p in second.prior] == [first.id]
    assert [p.id for p in third.prior] == [second.id, first.id]  # newest first


def test_prior_cases_match_slack_user(cases):
    first = open_case(cases, customer="<@UCUSTOMER|jane>")
    second = open_case(cases, customer="<@UCUSTOMER> from Acme")
    unrelated = open_case(cases, customer="<@UOTHER|bob>")
    assert [p.id for p in second.prior] == [first.id]
    assert unrelated.prior_count == 0


def test_no_prior_cases_without_keys(cases):
    open_case(cases, customer=None, summary="a")
    snap = open_case(cases, customer=None, summary="b")
    assert snap.prior_count == 0


def test_edit_updates_the_customer_keys(cases):
    first = open_case(cases, customer="Acme Corp")
    snap = open_case(cases, customer=None, summary="who?")
    assert snap.prior_count == 0
    after = cases.edit(snap.id, user="UAGENT", customer="acme CORP", summary="who?", mood=None, link=None)
    assert after.prior_count == 1 and after.prior[0].id == first.id


def test_prior_cases_show_at_most_five_newest_with_status_and_permalink(cases):
    ids = [open_case(cases, customer="Acme", summary=f"case {i}").id for i in range(7)]
    cases.set_posted(ids[5], message_ts="1.1", permalink="https://x.slack.com/archives/C/p11")
    snap = open_case(cases, customer="Acme")
    assert snap.prior_count == 7
    assert [p.id for p in snap.prior] == list(reversed(ids))[:5]
    assert snap.prior[1].permalink == "https://x.slack.com/archives/C/p11"
    assert all(p.status == "open" for p in snap.prior)


def test_prior_count_is_not_capped(cases):
    for i in range(12):
        open_case(cases, customer="Acme", summary=f"case {i}")
    snap = open_case(cases, customer="Acme")
    assert snap.prior_count == 12


def test_prior_cases_of_an_older_case_survive_newer_cases(cases):
    first = open_case(cases, customer="Acme", summary="first")
    second = open_case(cases, customer="Acme", summary="second")
    assert second.prior_count == 1
    for i in range(10):
        open_case(cases, customer="Acme", summary=f"later {i}")
    again = cases.get(second.id)
    assert again.prior_count == 1 and [p.id for p in again.prior] == [first.id]


# --- schema ----------------------------------------------------------------------------------
def test_migrations_run_twice_without_error(db, database_url):
    cases = Cases(db)
    snap = open_case(cases)
    db.migrate()
    other = Database(database_url, pool_size=2)
    try:
        other.migrate()
        other.migrate()
        with other.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(versions) == 1
        assert Cases(other).get(snap.id) == Cases(db).get(snap.id)  # data survives
        assert other.ping()
    finally:
        other.dispose()


def test_concurrent_first_migrations(database_url):
    """Several processes starting at once on an empty database: all succeed, one schema."""
    dbs = [Database(database_url, pool_size=2) for _ in range(4)]
    try:
        run_threads(4, lambda i: dbs[i].migrate())
        snap = open_case(Cases(dbs[0]))
        assert Cases(dbs[3]).get(snap.id).id == snap.id
        with dbs[1].engine.connect() as conn:
            assert len(conn.execute(text("SELECT version_num FROM alembic_version")).all()) == 1
    finally:
        for d in dbs:
            d.dispose()
