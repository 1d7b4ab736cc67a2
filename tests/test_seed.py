"""bench/seed.py: the benchmark data (CONTRACT "Benchmark data") on SQLite and PostgreSQL, at a small size."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.cases import Cases
from bot.home import data as home
from handlers.home.views import home_view
from storage import repositories as repo
from storage.db import Database
from storage.models import Agent, Case, CaseEvent, CaseStep, Handoff, Reminder, Review
from tests.harness import ROOT

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def run_seed(url: str, cases: int) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "seed.py"), "--database-url", url, "--cases", str(cases),
         "--now", NOW.isoformat()],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_seed_fills_realistic_closed_cases_that_the_app_reads(database_url):
    out = run_seed(database_url, 1000)
    assert "cases=1000" in out
    db = Database(database_url, pool_size=2)
    try:
        with db.session() as session:
            assert count(session, Case) == 1000
            assert count(session, Case, Case.c.closed_at.is_(None)) == 0
            assert count(session, Case, Case.c.status.not_in(("resolved", "unresolved"))) == 0
            assert count(session, Agent) == 200
            first, last = session.execute(select(func.min(Case.c.opened_at), func.max(Case.c.opened_at))).one()
            assert NOW - timedelta(days=731) < first and last < NOW and last - first > timedelta(days=600)
            assert count(session, CaseStep) == 6000
            assert count(session, Reminder, Reminder.c.kind == "follow_up") == 3000
            assert count(session, Reminder, Reminder.c.status == "pending") > 0  # cases closed in the last month
            assert count(session, Reminder, Reminder.c.status == "pending", Reminder.c.due_at <= NOW) == 0
            assert 400 < count(session, Review) < 800
            assert count(session, Handoff) > 50
            assert count(session, Case, Case.c.escalation.is_not(None)) > 10
            for kind in ("case_opened", "attempt", "note", "step_done", "resolved", "reviewed", "escalated", "follow_up"):
                assert count(session, CaseEvent, CaseEvent.c.kind == kind) > 0, kind
            customers = session.execute(
                select(Case.c.customer_name_key, func.count()).group_by(Case.c.customer_name_key)
            ).all()
            assert len(customers) <= 200  # N/5 customers
            assert max(n for _, n in customers) >= 10  # some come back often
            busiest = session.execute(
                select(Case.c.customer_name_key, Case.c.customer_email, Case.c.id).order_by(Case.c.id.desc())
            ).first()
        # The app reads the seeded rows: prior cases of a repeat customer, a new case after the seeded ids.
        cases = Cases(db, clock=lambda: NOW)
        latest = cases.get(busiest.id)
        assert latest is not None and latest.opened_at.tzinfo is not None
        new = cases.open(team_id="T1", channel_id="CSUPPORT", flagged_by="U00000001", customer=latest.customer,
                         summary="again")
        assert new.id == 1001 and new.prior_count >= 1
        agent = latest.owner_id
        home.forget_cached()
        assert "Opened:" in str(home_view(home.home_data(cases, agent)))
        with db.session() as session:
            assert repo.team_numbers(session, NOW - timedelta(days=30))["resolved"] > 0
    finally:
        db.dispose()


def test_seeding_again_appends(sqlite_url):
    run_seed(sqlite_url, 50)
    run_seed(sqlite_url, 30)
    db = Database(sqlite_url, pool_size=1)
    try:
        with db.session() as session:
            assert count(session, Case) == 80
            assert count(session, Agent) == 200
            assert count(session, Reminder) == 240
    finally:
        db.dispose()
