"""Posting a case the intake has just saved (Publisher.publish_saved), on SQLite and PostgreSQL against the
stand-in: its destination is written with the lease it already holds, one transaction fewer than a claim and
then the destination, and a lease the sweep took in between means the intake does not post it too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.core.config import load_config
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


def test_a_saved_case_is_posted_with_one_transaction_fewer(db, standin):  # type: ignore[no-untyped-def]
    services = services_for(db, standin)
    first, second = saved(services, "command:one"), saved(services, "command:two")
    by_claim, claimed_commits = commits_during(db, lambda: services.publisher.publish(first.id))
    held, held_commits = commits_during(db, lambda: services.intake.post(second))
    assert by_claim.ok and held.ok
    assert held_commits == claimed_commits - 1
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
