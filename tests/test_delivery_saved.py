"""Posting a case the intake has just saved (Publisher.publish_saved), on SQLite and PostgreSQL against the
stand-in: its destination is written with the lease it already holds and the mark of its first post, the
case message's ts with the mark of the checklist's post, and the checklist's ts with the lease handed back:
three transactions, against five for a claim first. A lease the sweep took in between means the intake does
not post it too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.core.config import load_config
from bot.delivery.publisher import DELIVERY_LEASE
from storage import repositories as repo
from tests.support import wired

NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def services_for(db: Any, standin: Any) -> Any:
    config = load_config({"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "secret",
                          "SLACK_API_URL": standin.url})
    services, _sender = wired(config, db, standin.url, lambda: NOW)
    return services


def saved(services: Any, key: str) -> Any:
    fields = dict(team_id="T0001", channel_id="CSUPPORT", flagged_by="UAGENT", customer="Acme Corp",
                  summary="charged twice", intake={"via": "command"})
    case = services.intake.save(key, fields, lambda late: None)
    assert case is not None
    return case


def commits_during(db: Any, work: Any) -> tuple[Any, int]:
    commits: list[int] = []
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        return work(), len(commits)
    finally:
        event.remove(db.engine, "commit", listener)


def test_a_saved_case_is_posted_in_three_transactions(db, standin):  # type: ignore[no-untyped-def]
    services = services_for(db, standin)
    first, second = saved(services, "command:one"), saved(services, "command:two")
    by_claim, claimed_commits = commits_during(db, lambda: services.publisher.publish(first.id))
    held, held_commits = commits_during(db, lambda: services.intake.post(second))
    assert by_claim.ok and held.ok
    assert (held_commits, claimed_commits) == (3, 5)
    case = services.cases.get(second.id)
    assert case.post_state == "done" and case.message_ts and case.checklist_ts and case.permalink
    with db.session() as session:
        row = repo.get_case(session, second.id)
        assert row.sync_by is None and row.sync_until is None  # the lease is handed back
    posted = [m for m in standin.messages("CSUPPORT") if m["thread_ts"] in (None, m["ts"])]
    assert len(posted) == 2 and len(standin.thread("CSUPPORT", case.message_ts)) == 1


def test_a_saved_case_whose_lease_the_sweep_took_is_left_to_it(db, standin):  # type: ignore[no-untyped-def]
    services = services_for(db, standin)
    case = saved(services, "command:taken")
    with db.session() as session:  # the sweep decided this process was gone and took the case over
        repo.set_case_delivery(session, case.id, None, sync_by="sweeper", sync_until=NOW + timedelta(minutes=1))
    result = services.intake.post(case)
    assert not result.ok and result.error == "busy"
    assert standin.messages("CSUPPORT") == []
    with db.session() as session:
        row = repo.get_case(session, case.id)
        assert row.sync_by == "sweeper" and row.post_state == "pending"


def crash_holding(db: Any, case_id: int) -> None:
    """This process dies with the lease: the next one finds it run out."""
    with db.session() as session:
        repo.set_case_delivery(session, case_id, None, sync_by="gone", sync_until=NOW - timedelta(seconds=1))


def routed_and_marked(services: Any, case: Any) -> Any:
    records, me = services.publisher.cases, services.publisher.me
    routed = records.route_held(case, me, DELIVERY_LEASE, channel_id="CSUPPORT", visibility="public")
    assert routed is not None and routed.post_state == "sending" and routed.posting_at == NOW
    return routed


def test_a_crash_after_the_first_mark_is_looked_for_before_it_is_posted(db, standin):  # type: ignore[no-untyped-def]
    services = services_for(db, standin)
    case = saved(services, "command:crash-before-post")
    routed_and_marked(services, case)
    crash_holding(db, case.id)  # marked as started, never sent
    result = services.publisher.publish(case.id)
    assert result.ok
    assert standin.calls_to("conversations.history"), "an unfinished post is looked for first"
    top = [m for m in standin.messages("CSUPPORT") if m["thread_ts"] in (None, m["ts"])]
    assert len(top) == 1 and len(standin.thread("CSUPPORT", top[0]["ts"])) == 1


def test_a_crash_after_the_case_message_is_looked_for_in_its_thread(db, standin):  # type: ignore[no-untyped-def]
    services = services_for(db, standin)
    case = saved(services, "command:crash-before-checklist")
    posted = services.publisher.poster.post_case_once(routed_and_marked(services, case), False, marked=True)
    assert posted.message_ts and posted.checklist_posting_at == NOW  # the ts and the checklist's mark together
    assert services.cases.get(case.id).checklist_posting_at == NOW
    crash_holding(db, case.id)  # the checklist was never sent
    assert standin.thread("CSUPPORT", posted.message_ts) == []
    looked_before = len(standin.calls_to("conversations.history"))
    result = services.publisher.publish(case.id)
    assert result.ok
    # the case message is read back for its thread's replies before the checklist is posted
    assert len(standin.calls_to("conversations.history")) > looked_before, "an unfinished checklist is looked for"
    assert len(standin.thread("CSUPPORT", posted.message_ts)) == 1
    assert services.cases.get(case.id).post_state == "done"


def full_reads(monkeypatch: Any) -> list[int]:
    """The case ids route_held had to read in full (it took the fallback)."""
    reads: list[int] = []
    plain = repo.route_held_case

    def spy(session: Any, case_id: int, **kwargs: Any) -> bool:
        reads.append(case_id)
        return plain(session, case_id, **kwargs)

    monkeypatch.setattr(repo, "route_held_case", spy)
    return reads


def test_the_routed_snapshot_is_the_case_as_stored_with_earlier_cases_where_it_goes(db, standin, monkeypatch):  # type: ignore[no-untyped-def]
    services, reads = services_for(db, standin), full_reads(monkeypatch)
    first = saved(services, "command:earlier")
    assert services.intake.post(first).ok
    case = saved(services, "command:repeat")
    assert case.prior == ()  # the ack path leaves them out
    routed = routed_and_marked(services, case)
    assert [p.id for p in routed.prior] == [first.id] and routed.prior_count == 1
    assert routed == services.cases.get(case.id) and reads == []


def test_a_case_changed_before_it_is_routed_is_read_in_full(db, standin, monkeypatch):  # type: ignore[no-untyped-def]
    services, reads = services_for(db, standin), full_reads(monkeypatch)
    case = saved(services, "command:noted")
    with db.session() as session:  # a note from the case file, between the save and the post
        repo.add_event(session, case.id, actor="UAGENT", kind="note", now=NOW, data={"text": "called them back"})
        repo.update_case(session, case.id, NOW + timedelta(seconds=1))
    routed = routed_and_marked(services, case)
    assert [n.text for n in routed.notes] == ["called them back"] and reads == [case.id]
    assert routed == services.cases.get(case.id)
