"""Sending a due reminder (follow-up, breather, welcome back) as a DM, exactly once.

Called by the durable reminder engine. A follow-up waits for the agent's own working hours; a DM that may
have reached Slack (a crash mid-send, an unclear answer) is looked for before it is ever sent again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any, Protocol, cast

from bot import texts
from bot.core import reminders
from bot.core.cases import CaseStore
from bot.core.config import Config
from bot.core.errors import Unknown
from bot.core.people import DmChannels, People
from bot.core.ports import Message, SlackFailure, tag
from bot.core.reminders import Due, Outcome
from bot.core.snapshot import CaseSnapshot
from bot.delivery.history import HistoryCheck
from bot.followups.schedule import in_working_hours, next_working_time
from storage import repositories as repo

log = logging.getLogger(__name__)
READ_AHEAD_SECONDS = 2.0  # how old a batch's read-ahead case may be and still decide a send
MISSING = object()

# Slack errors that no retry can fix: mark the reminder failed at once (it stays visible).
PERMANENT_ERRORS = {
    "user_not_found", "channel_not_found", "account_inactive", "user_disabled", "invalid_blocks",
    "invalid_blocks_format", "not_authed", "invalid_auth", "token_revoked", "cannot_dm_bot", "is_bot",
    "msg_too_long", "no_text", "missing_scope", "invalid_metadata_format", "invalid_metadata_schema",
}


class ReminderViews(Protocol):
    def follow_up_dm(self, case: CaseSnapshot, reminder_id: int) -> Message: ...

    def breather_dm(self, case: CaseSnapshot, reminder_id: int, payload: dict[str, Any], minutes: int) -> Message: ...

    def answered(self, original: Message, outcome: str) -> Message: ...


class ReminderSender:
    def __init__(self, config: Config, cases: CaseStore, people: People, dms: DmChannels, history: HistoryCheck,
                 views: ReminderViews):
        self.config = config
        self.cases = cases
        self.db = cases.db
        self.people = people
        self.dms = dms
        self.slack = dms.slack
        self.history = history
        self.views = views
        self._read_ahead: dict[int, CaseSnapshot | None] = {}  # the claimed batch's cases
        self._read_at = 0.0

    def prepare(self, claimed: list[Due]) -> None:
        """Read the cases of a claimed batch in one query instead of one per send (the engine's hook)."""
        self._read_ahead = {}
        ids = sorted({due.case_id for due in claimed if due.case_id is not None})
        found = self.cases.get_many(ids)
        self._read_ahead = {case_id: found.get(case_id) for case_id in ids}
        self._read_at = time.monotonic()

    def _case(self, due: Due) -> CaseSnapshot | None:
        """The reminder's case: read ahead with its batch if that was moments ago (a case reopened since
        must not get its follow-up; a slow Slack can stretch a batch to minutes), else read now."""
        case_id = due.case_id or 0
        ahead = self._read_ahead.get(case_id, MISSING)
        if ahead is not MISSING and time.monotonic() - self._read_at <= READ_AHEAD_SECONDS:
            return cast("CaseSnapshot | None", ahead)
        return self.cases.get(case_id, full=False)

    def deliver(self, due: Due, now: datetime) -> Outcome:
        message = self._message(due, now)
        if not isinstance(message, Message):
            return message
        since = self._maybe_sent_since(due)
        if since is not None:
            found = self._already_delivered(due, since, now)
            if found is not None:
                if found.kind == "sent":
                    log.info("reminder %s had reached Slack already; not sending it again", due.id)
                return found
        return self._send(due, message)

    def _message(self, due: Due, now: datetime) -> Message | Outcome:
        """What to send for this reminder now, or why not (deferred, cancelled, failed)."""
        tz = self.people.tz(due.recipient)
        if due.kind == "follow_up":
            if not in_working_hours(now, tz, self.config.working_hours):
                return reminders.defer(next_working_time(now, tz, self.config.working_hours))
            case = self._case(due)
            if case is None:
                return reminders.cancel("case deleted")
            if case.is_open:
                return reminders.cancel("case reopened")
            return self.views.follow_up_dm(case, due.id)
        if due.kind == "breather":
            case = self._case(due)
            if case is None:
                return reminders.cancel("case deleted")
            if due.payload.get("reason") == "long" and not case.is_open:
                return reminders.cancel("case closed before the long-open nudge")
            return self.views.breather_dm(case, due.id, due.payload, self.config.breather_minutes)
        if due.kind == "breather_end":
            if not self._end_breather(due):
                return reminders.cancel("a newer breather replaced this one")
            return Message(texts.BREATHER_WELCOME_BACK)
        return reminders.failed(f"unknown reminder kind {due.kind}")

    def _maybe_sent_since(self, due: Due) -> datetime | None:
        """When an earlier attempt may have reached Slack: a crash mid-send (sending_at, which the engine
        clears when it records a retry) or an unclear answer (maybe_sent_at, which stays until sent)."""
        if due.maybe_sent_at is not None:  # read with the claim: no query for the usual first send
            return due.maybe_sent_at
        if due.sending_at is not None:  # keep it past the engine's retry bookkeeping
            with self.db.session() as session:
                repo.set_reminder_maybe_sent(session, due.id, due.sending_at)
        return due.sending_at

    def _send(self, due: Due, message: Message) -> Outcome:
        started = self.cases.clock()
        try:
            posted = self.slack.post(due.recipient, message, tag=tag("reminder", reminder_id=due.id, kind=due.kind))
        except SlackFailure as exc:
            if exc.ambiguous:  # Slack may have it (a 5xx, a timeout): the retry looks for it first
                with self.db.session() as session:
                    repo.set_reminder_maybe_sent(session, due.id, started)
            return _send_failed(exc)
        self.dms.remember(due.recipient, posted.channel)
        return reminders.sent(posted.channel, posted.ts)

    def _already_delivered(self, due: Due, since: datetime, now: datetime) -> Outcome | None:
        """Look for our tagged DM before sending again: sent, wait for the check, or None (not there)."""
        try:
            channel = self.dms.of(due.recipient)
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
            repo.upsert_agent(session, due.recipient, breather_until=None, breather_task=None)
            return True


def _send_failed(exc: SlackFailure) -> Outcome:
    if exc.retry_after is not None:
        return reminders.ratelimited(exc.retry_after or 30.0)
    if exc.code in PERMANENT_ERRORS:
        return reminders.failed(exc.code)
    return reminders.retry(exc.code)
