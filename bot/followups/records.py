"""The agent's answers to reminders: followed up (and how it went), skipped, snoozed, breather taken or not.

Each answer counts once: a second click on an answered reminder changes nothing (`changed` is False).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import texts
from bot.core.cases import CaseStore
from bot.core.config import Config
from bot.core.errors import CaseError
from bot.core.mood import MOODS
from bot.core.people import People
from bot.followups.schedule import snooze_until, zone
from storage import repositories as repo
from storage.db import Session


@dataclass(frozen=True)
class ReminderView:
    id: int
    kind: str
    case_id: int | None
    recipient: str
    status: str
    due_at: datetime
    payload: dict[str, Any]
    dm_channel: str | None
    dm_ts: str | None
    dedupe_key: str


def _view(r: repo.ReminderRow) -> ReminderView:
    return ReminderView(r.id, r.kind, r.case_id, r.recipient, r.status, r.due_at, dict(r.payload or {}), r.dm_channel,
                        r.dm_ts, r.dedupe_key)


class Reminders:
    def __init__(self, config: Config, cases: CaseStore, people: People):
        self.config = config
        self.cases = cases
        self.db = cases.db
        self.people = people

    def get(self, reminder_id: int) -> ReminderView | None:
        with self.db.session() as session:
            reminder = repo.get_reminder(session, reminder_id)
            return _view(reminder) if reminder else None

    def _answer(self, session: Session, reminder_id: int, user: str, kinds: tuple[str, ...], status: str) -> tuple[bool, repo.ReminderRow]:
        reminder = repo.get_reminder(session, reminder_id)
        if reminder is None or reminder.kind not in kinds:
            raise CaseError(texts.CASE_NOT_FOUND)
        if reminder.recipient != user:
            raise CaseError(texts.HANDOFF_NOT_YOURS.format(user=f"<@{reminder.recipient}>"))
        changed = repo.set_reminder_status(session, reminder_id, status=status, expect=("sent",))
        return changed, repo.get_reminder(session, reminder_id) or reminder

    def followed_up(self, reminder_id: int, *, user: str, outcome: str, note: str | None,
                    mood: str | None = None) -> tuple[bool, ReminderView]:
        """Record the answer (and the customer's mood now, the latest outcome of the case) once."""
        if outcome not in texts.FOLLOWED_UP_OUTCOMES or mood not in (None, *MOODS):
            raise ValueError(f"{outcome!r}, {mood!r}")
        now = self.cases.clock()
        with self.db.session() as session:
            changed, reminder = self._answer(session, reminder_id, user, ("follow_up",), "done")
            if changed and reminder.case_id:
                repo.add_event(session, reminder.case_id, actor=user, kind="follow_up", now=now,
                               data={"reminder": reminder_id, "outcome": outcome, "note": note, **({"mood": mood} if mood else {})})
                if mood:
                    self._note_later_mood(session, reminder.case_id, mood, now)
            return changed, _view(reminder)

    @staticmethod
    def _note_later_mood(session: Session, case_id: int, mood: str, now: datetime) -> None:
        case = repo.get_case(session, case_id)
        if case is not None and case.resolution is not None:
            repo.update_case(session, case_id, now, resolution={**case.resolution, "mood_later": mood})

    def skip(self, reminder_id: int, *, user: str) -> tuple[bool, ReminderView]:
        now = self.cases.clock()
        with self.db.session() as session:
            changed, reminder = self._answer(session, reminder_id, user, ("follow_up",), "skipped")
            if changed and reminder.case_id:
                repo.add_event(session, reminder.case_id, actor=user, kind="follow_up_skipped", now=now,
                               data={"reminder": reminder_id})
            return changed, _view(reminder)

    def snooze(self, reminder_id: int, *, user: str, choice: str) -> tuple[bool, ReminderView, datetime | None]:
        if choice not in texts.SNOOZE_CHOICES:
            raise ValueError(choice)
        now = self.cases.clock()
        person = self.people.cached(user)
        until = snooze_until(now, choice, person.tz if person else None, self.config.working_hours)
        with self.db.session() as session:
            changed, reminder = self._answer(session, reminder_id, user, ("follow_up",), "snoozed")
            if changed:
                repo.add_reminder(
                    session, dedupe_key=f"follow_up:snooze:{reminder_id}", now=now, kind="follow_up",
                    case_id=reminder.case_id, recipient=user, due_at=until,
                    payload={**(reminder.payload or {}), "snoozed_from": reminder_id},
                )
                if reminder.case_id:
                    repo.add_event(session, reminder.case_id, actor=user, kind="follow_up_snoozed", now=now,
                                   data={"reminder": reminder_id, "until": until.isoformat(), "choice": choice})
            return changed, _view(reminder), until if changed else None

    def start_breather(self, reminder_id: int, *, user: str) -> tuple[bool, ReminderView, datetime | None]:
        now = self.cases.clock()
        until = now + timedelta(minutes=self.config.breather_minutes)
        with self.db.session() as session:
            changed, reminder = self._answer(session, reminder_id, user, ("breather",), "accepted")
            if changed:
                task = breather_task(reminder_id)
                repo.upsert_agent(session, user, breather_until=until, breather_task=task)
                repo.add_reminder(
                    session, dedupe_key=f"breather_end:{reminder_id}", now=now, kind="breather_end",
                    case_id=reminder.case_id, recipient=user, due_at=until, payload={"until": until.isoformat()},
                )
            return changed, _view(reminder), until if changed else None

    def skip_breather(self, reminder_id: int, *, user: str) -> tuple[bool, ReminderView]:
        with self.db.session() as session:
            changed, reminder = self._answer(session, reminder_id, user, ("breather",), "declined")
            return changed, _view(reminder)

    def check_plan_date(self, raw: str | None, user: str | None = None) -> tuple[date | None, str | None]:
        """The optional first follow-up date from step 6, judged by the agent's own today.

        This runs before ack(), so it reads no database: the agent's time zone comes from memory; when it
        is not known, a date is refused only if it is past (or too far) in every time zone."""
        if not raw:
            return None, None
        try:
            chosen = date.fromisoformat(raw)
        except ValueError:
            return None, texts.ERR_REQUIRED
        now = self.cases.clock()
        known, tz = self.people.remembered_tz(user) if user else (True, None)
        if known:
            earliest = latest = now.astimezone(zone(tz)).date()
        else:
            earliest = (now - timedelta(hours=12)).astimezone(UTC).date()  # today at UTC-12
            latest = (now + timedelta(hours=14)).astimezone(UTC).date()  # today at UTC+14
        if chosen <= earliest:
            return None, texts.ERR_DATE_PAST
        if chosen > latest + timedelta(days=120):
            return None, texts.ERR_DATE_FAR
        return chosen, None


def breather_task(reminder_id: int) -> str:
    """The small thing to do away from the screen, the same one the breather DM suggested."""
    return texts.BREATHER_TASKS[reminder_id % len(texts.BREATHER_TASKS)]
