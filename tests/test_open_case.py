"""storage.repositories.opening: a new case's rows written together (one statement on PostgreSQL, one
INSERT each on SQLite), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.cases import Cases
from bot.core.config import load_config
from bot.followups.hooks import LONG_OPEN, FollowUpHooks
from storage import repositories as repo
from storage.errors import Conflict
from storage.models import CaseEvent, CaseStep, Reminder
from tests.support import Clock

NOW = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
FIELDS = dict(team_id="T1", channel_id="C1", flagged_by="U1", owner_id="U1", summary="charged twice",
              post_state="pending")
OPENED = repo.OpeningEvent("U1", "case_opened", {"summary": "charged <twice> & \"more\"", "mood": None})


def reminder(prefix: str, minutes: int) -> repo.OpeningReminder:
    return repo.OpeningReminder(prefix, "breather", "U1", NOW + timedelta(minutes=minutes), {"reason": prefix})


def open_one(db, **extra):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return repo.open_case(session, now=NOW, step_count=4, event=OPENED, **FIELDS, **extra)


def test_every_row_of_a_new_case_is_written(db) -> None:  # type: ignore[no-untyped-def]
    case_id = open_one(db, reminders=[reminder("a:", 30), reminder("b:", 60)])
    with db.session() as session:
        steps = session.execute(select(CaseStep.c.step, CaseStep.c.done).where(CaseStep.c.case_id == case_id)
                                .order_by(CaseStep.c.step)).all()
        events = session.execute(select(CaseEvent).where(CaseEvent.c.case_id == case_id)).all()
        reminders = session.execute(select(Reminder).where(Reminder.c.case_id == case_id).order_by(Reminder.c.dedupe_key)).all()
    assert [tuple(row) for row in steps] == [(1, False), (2, False), (3, False), (4, False)]
    assert [(e.kind, e.actor, e.at, e.data) for e in events] == [("case_opened", "U1", NOW, OPENED.data)]
    assert [(r.dedupe_key, r.kind, r.recipient, r.due_at, r.payload, r.status, r.attempts) for r in reminders] == [
        (f"a:{case_id}", "breather", "U1", NOW + timedelta(minutes=30), {"reason": "a:"}, "pending", 0),
        (f"b:{case_id}", "breather", "U1", NOW + timedelta(minutes=60), {"reason": "b:"}, "pending", 0),
    ]


def test_a_reminder_already_scheduled_is_kept_and_the_case_still_opens(db) -> None:  # type: ignore[no-untyped-def]
    first = open_one(db)
    with db.session() as session:  # the key the next case's reminder will have, taken beforehand
        repo.add_reminder(session, dedupe_key=f"a:{first + 1}", now=NOW, kind="breather", case_id=first,
                          recipient="U9", due_at=NOW)
    second = open_one(db, reminders=[reminder("a:", 30)])
    assert second == first + 1
    with db.session() as session:
        kept = session.execute(select(Reminder).where(Reminder.c.dedupe_key == f"a:{second}")).all()
        steps = session.scalar(select(func.count()).select_from(CaseStep).where(CaseStep.c.case_id == second))
    assert [(r.case_id, r.recipient) for r in kept] == [(first, "U9")] and steps == 4


def test_a_second_case_for_the_same_request_writes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    open_one(db, intake_key="command:trigger-1", reminders=[reminder("a:", 30)])
    with pytest.raises(Conflict):
        open_one(db, intake_key="command:trigger-1", reminders=[reminder("a:", 30)])
    with db.session() as session:
        counts = [session.scalar(select(func.count()).select_from(model)) for model in (CaseStep, CaseEvent, Reminder)]
    assert counts == [4, 1, 1]


def test_opening_schedules_the_owners_long_case_breather(db) -> None:  # type: ignore[no-untyped-def]
    config = load_config({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "sqlite:///unused.db"})
    clock = Clock()
    cases = Cases(db, clock=clock, hooks=FollowUpHooks(config))
    case = cases.open(team_id="T1", channel_id="C1", flagged_by="U7", customer="Acme", summary="charged twice")
    with db.session() as session:
        breathers = session.execute(select(Reminder).where(Reminder.c.case_id == case.id)).all()
    assert [(r.dedupe_key, r.kind, r.recipient, r.payload["reason"]) for r in breathers] == [
        (f"breather:long:{case.id}", "breather", "U7", "long")]
    assert breathers[0].due_at == clock.now + LONG_OPEN
