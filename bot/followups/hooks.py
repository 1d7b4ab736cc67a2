"""Scheduling follow-ups and breathers as a case changes, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.core.cases import CaseHooks
from bot.core.config import Config
from bot.core.snapshot import CaseSnapshot
from bot.followups.schedule import follow_up_times
from storage import repositories as repo
from storage.db import Session

LONG_OPEN = timedelta(minutes=30)
CASE_REMINDERS = ("follow_up", "breather")


class FollowUpHooks(CaseHooks):
    def __init__(self, config: Config):
        self.config = config

    def reminders_on_open(self, owner_id: str, opened_at: datetime) -> list[repo.OpeningReminder]:
        """A breather for the owner if the case is still open after LONG_OPEN."""
        return [repo.OpeningReminder("breather:long:", "breather", owner_id, opened_at + LONG_OPEN,
                                     {"reason": "long", "open_seconds": LONG_OPEN.total_seconds()})]

    def case_closed(self, session: Session, case: CaseSnapshot, event_id: int, now: datetime) -> None:
        agent = repo.get_agent(session, case.owner_id)
        tz = agent.tz if agent else None
        first_date = case.answer("plan", "first_date")  # None when the playbook has no plan step
        first = date.fromisoformat(first_date) if first_date else None
        times = follow_up_times(now, self.config.follow_up_schedule, tz, self.config.working_hours, first)
        for index, due_at in enumerate(times):
            repo.add_reminder(
                session, dedupe_key=f"follow_up:{case.id}:{event_id}:{index}", now=now, kind="follow_up",
                case_id=case.id, recipient=case.owner_id, due_at=due_at, payload={"index": index, "of": len(times)},
            )
        repo.cancel_reminders(session, case.id, ("breather",), "case closed")
        open_for = (now - case.opened_at).total_seconds()
        repo.add_reminder(
            session, dedupe_key=f"breather:closed:{case.id}:{event_id}", now=now, kind="breather", case_id=case.id,
            recipient=case.owner_id, due_at=now,
            payload={"reason": "closed", "furious": case.mood == "furious", "open_seconds": open_for},
        )

    def case_reopened(self, session: Session, case: CaseSnapshot, now: datetime) -> None:
        repo.cancel_reminders(session, case.id, ("follow_up",), "case reopened")

    def owner_changed(self, session: Session, case_id: int, old: str, new: str, now: datetime) -> None:
        repo.reassign_reminders(session, case_id, old, new, CASE_REMINDERS)
