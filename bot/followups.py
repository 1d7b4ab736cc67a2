"""Follow-ups and breathers: what gets scheduled when, how each reminder is delivered, and what
the agent's buttons on a reminder do."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot import notices, reminders, texts
from bot.cases import CaseHooks, Cases
from bot.config import Config
from bot.core.errors import CaseError
from bot.core.snapshot import CaseSnapshot
from bot.delivery import HistoryCheck, Unknown, is_ambiguous, tag
from bot.people import People
from bot.reminders import Due, Outcome
from bot.schedule import follow_up_times, in_working_hours, next_working_time, snooze_until, zone
from bot.slack import error_code
from storage import repositories as repo
from storage.models import Reminder

log = logging.getLogger(__name__)

LONG_OPEN = timedelta(minutes=30)
CASE_REMINDERS = ("follow_up", "breather")
# Slack errors that no retry can fix: mark the reminder failed at once (it stays visible).
PERMANENT_ERRORS = {
    "user_not_found", "channel_not_found", "account_inactive", "user_disabled", "invalid_blocks",
    "invalid_blocks_format", "not_authed", "invalid_auth", "token_revoked", "cannot_dm_bot", "is_bot",
    "msg_too_long", "no_text", "missing_scope", "invalid_metadata_format", "invalid_metadata_schema",
}


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


def _view(r: Reminder) -> ReminderView:
    return ReminderView(r.id, r.kind, r.case_id, r.recipient, r.status, r.due_at, dict(r.payload or {}), r.dm_channel,
                        r.dm_ts, r.dedupe_key)


class FollowUps(CaseHooks):
    """Schedules reminders as cases change, and delivers them when the engine says they are due."""

    def __init__(self, config: Config, cases: Cases, people: People, client: WebClient):
        self.config = config
        self.cases = cases
        self.db = cases.db
        self.people = people
        self.client = client
        self._known_dm: dict[str, str] = {}
        self.history = HistoryCheck(self.db, client, cases.clock)
        cases.hooks = self

    # --- scheduling (inside the lifecycle transaction) ---------------------------------------
    def case_opened(self, session: Session, case: CaseSnapshot, now: datetime) -> None:
        repo.add_reminder(
            session, dedupe_key=f"breather:long:{case.id}", now=now, kind="breather", case_id=case.id,
            recipient=case.owner_id, due_at=case.opened_at + LONG_OPEN,
            payload={"reason": "long", "open_seconds": LONG_OPEN.total_seconds()},
        )

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

    # --- delivery (called by the engine) -----------------------------------------------------
    def deliver(self, due: Due, now: datetime) -> Outcome:
        tz = self.people.tz(due.recipient)
        if due.kind == "follow_up":
            if not in_working_hours(now, tz, self.config.working_hours):
                return reminders.defer(next_working_time(now, tz, self.config.working_hours))
            case = self.cases.get(due.case_id or 0, full=False)
            if case is None:
                return reminders.cancel("case deleted")
            if case.is_open:
                return reminders.cancel("case reopened")
            text, body = notices.follow_up_dm(case, due.id)
        elif due.kind == "breather":
            case = self.cases.get(due.case_id or 0, full=False)
            if case is None:
                return reminders.cancel("case deleted")
            if due.payload.get("reason") == "long" and not case.is_open:
                return reminders.cancel("case closed before the long-open nudge")
            text, body = notices.breather_dm(case, due.id, due.payload, self.config.breather_minutes)
        elif due.kind == "breather_end":
            if not self._end_breather(due):
                return reminders.cancel("a newer breather replaced this one")
            text, body = texts.BREATHER_WELCOME_BACK, None
        else:
            return reminders.failed(f"unknown reminder kind {due.kind}")
        since = self._maybe_sent_since(due)
        if since is not None:
            found = self._already_delivered(due, since, now)
            if found is not None:
                if found.kind == "sent":
                    log.info("reminder %s had reached Slack already; not sending it again", due.id)
                return found
        return self._send(due, text, body)

    def _maybe_sent_since(self, due: Due) -> datetime | None:
        """When an earlier attempt may have reached Slack: a crash mid-send (sending_at, which the engine
        clears when it records a retry) or an unclear answer (maybe_sent_at, which stays until sent)."""
        with self.db.session() as session:
            marked = repo.reminder_maybe_sent_at(session, due.id)
            if marked is None and due.sending_at is not None:  # keep it past the engine's retry bookkeeping
                repo.set_reminder_maybe_sent(session, due.id, due.sending_at)
        return marked or due.sending_at

    def _send(self, due: Due, text: str, body: list[dict[str, Any]] | None) -> Outcome:
        started = self.cases.clock()
        try:
            response = self.client.chat_postMessage(
                channel=due.recipient, text=text, blocks=body, unfurl_links=False,
                metadata=tag("reminder", reminder_id=due.id, kind=due.kind),
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            if is_ambiguous(exc):  # Slack may have it (a 5xx, a timeout): the retry looks for it first
                with self.db.session() as session:
                    repo.set_reminder_maybe_sent(session, due.id, started)
            return self._send_failed(exc)
        channel = response.get("channel")
        if channel:
            self.remember_dm_channel(due.recipient, channel)
        return reminders.sent(channel, response.get("ts"))

    @staticmethod
    def _send_failed(exc: Exception) -> Outcome:
        if isinstance(exc, SlackApiError):
            code = error_code(exc)
            if exc.response.status_code == 429:
                return reminders.ratelimited(float(exc.response.headers.get("Retry-After", 30) or 30))
            if code in PERMANENT_ERRORS:
                return reminders.failed(code)
            return reminders.retry(code)
        return reminders.retry(error_code(exc))

    def remember_dm_channel(self, user: str, channel: str) -> None:
        if self._known_dm.get(user) == channel:
            return
        self._known_dm[user] = channel
        with self.db.session() as session:
            agent = repo.get_agent(session, user)
            if agent is None:
                repo.add_agent_if_missing(session, user, dm_channel=channel)
            elif agent.dm_channel != channel:
                agent.dm_channel = channel

    def dm_channel_of(self, user: str) -> str:
        """The bot's DM channel with `user` (stored, or conversations.open); raises Unknown if not known."""
        with self.db.session() as session:
            agent = repo.get_agent(session, user)
            if agent is not None and agent.dm_channel:
                return agent.dm_channel
        try:
            channel = str(self.client.conversations_open(users=user)["channel"]["id"])
        except (SlackApiError, SlackClientError, OSError, KeyError, TypeError) as exc:
            raise Unknown(f"no DM channel for {user}: {error_code(exc)}") from None
        self.remember_dm_channel(user, channel)
        return channel

    def _already_delivered(self, due: Due, since: datetime, now: datetime) -> Outcome | None:
        """Look for our tagged DM before sending again: sent, wait for the check, or None (not there)."""
        try:
            channel = self.dm_channel_of(due.recipient)
            found = self.history.find(channel, "reminder", "reminder_id", due.id, since)
        except Unknown as exc:
            wait = (exc.retry_at - now).total_seconds() if exc.retry_at else 60.0
            log.info("reminder %s may have been sent; checking after %.0f s (%s)", due.id, wait, exc.reason)
            return reminders.ratelimited(wait)
        return reminders.sent(channel, found) if found else None

    def _end_breather(self, due: Due) -> bool:
        """End the breather this reminder belongs to; False if a newer breather replaced it."""
        until = due.payload.get("until")
        with self.db.session() as session:
            agent = repo.get_agent(session, due.recipient)
            if agent is None or not until:
                return True
            if agent.breather_until is None:
                return due.sending_at is not None  # ended by our own earlier attempt: finish sending
            if agent.breather_until.isoformat() != until:
                return False
            agent.breather_until = None
            agent.breather_task = None
            return True

    # --- the agent's answers -------------------------------------------------------------------
    def get(self, reminder_id: int) -> ReminderView | None:
        with self.db.session() as session:
            reminder = repo.get_reminder(session, reminder_id)
            return _view(reminder) if reminder else None

    def _answer(self, session: Session, reminder_id: int, user: str, kinds: tuple[str, ...], status: str) -> tuple[bool, Reminder]:
        reminder = repo.get_reminder(session, reminder_id)
        if reminder is None or reminder.kind not in kinds:
            raise CaseError(texts.CASE_NOT_FOUND)
        if reminder.recipient != user:
            raise CaseError(texts.HANDOFF_NOT_YOURS.format(user=f"<@{reminder.recipient}>"))
        changed = repo.set_reminder_status(session, reminder_id, status=status, expect=("sent",))
        session.refresh(reminder)
        return changed, reminder

    def followed_up(self, reminder_id: int, *, user: str, outcome: str, note: str | None) -> tuple[bool, ReminderView]:
        if outcome not in texts.FOLLOWED_UP_OUTCOMES:
            raise ValueError(outcome)
        now = self.cases.clock()
        with self.db.session() as session:
            changed, reminder = self._answer(session, reminder_id, user, ("follow_up",), "done")
            if changed and reminder.case_id:
                repo.add_event(session, reminder.case_id, actor=user, kind="follow_up", now=now,
                               data={"reminder": reminder_id, "outcome": outcome, "note": note})
            return changed, _view(reminder)

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
                task = notices.breather_task(reminder_id)
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
