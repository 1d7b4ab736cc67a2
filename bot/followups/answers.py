"""What Slack shows when the agent answers a reminder: the DM loses its buttons and says what happened,
the case thread records a follow-up, and an unhappy customer reopens the case."""

from __future__ import annotations

import logging

from bot import texts
from bot.closing.service import Closing
from bot.core import mrkdwn
from bot.core.cases import CaseStore
from bot.core.config import Config
from bot.core.notify import Notify
from bot.core.ports import Message, SlackFailure
from bot.followups.records import Reminders, ReminderView
from bot.followups.sending import ReminderViews

log = logging.getLogger(__name__)


class FollowUpAnswers:
    def __init__(self, config: Config, cases: CaseStore, reminders: Reminders, closing: Closing, notify: Notify,
                 views: ReminderViews):
        self.config = config
        self.cases = cases
        self.reminders = reminders
        self.closing = closing
        self.notify = notify
        self.views = views

    def followed_up(self, reminder_id: int, *, user: str, outcome: str, note: str | None,
                    mood: str | None = None) -> None:
        changed, reminder = self.reminders.followed_up(reminder_id, user=user, outcome=outcome, note=note, mood=mood)
        if not changed:
            return self._stale(reminder)
        label = texts.FOLLOWED_UP_OUTCOMES[outcome]
        when = mrkdwn.slack_date(self.cases.clock())
        self._update_dm(reminder, texts.FOLLOWED_UP_DONE.format(user=mrkdwn.mention(user), when=when, outcome=label))
        case = self.cases.get(reminder.case_id or 0)
        if case is not None:
            extra = texts.FOLLOWED_UP_MOOD_NOTE.format(mood=texts.MOODS[mood]) if mood else ""
            extra += f"\n{mrkdwn.safe_limited(note, 1500)}" if note else ""
            self.notify.thread_note(case, texts.FOLLOWED_UP_THREAD.format(
                user=mrkdwn.mention(user), outcome=label.lower(), note=extra))
            if outcome == "unhappy":
                self.closing.reopen(case.id, user=user)  # shows the case afresh, mood and all
            elif mood:
                self.closing.publisher.refresh(case.id)  # the case message shows the mood it ended in

    def snooze(self, reminder_id: int, *, user: str, choice: str) -> None:
        changed, reminder, until = self.reminders.snooze(reminder_id, user=user, choice=choice)
        if not changed or until is None:
            return self._stale(reminder)
        self._update_dm(reminder, texts.SNOOZED.format(when=mrkdwn.slack_date(until)))

    def skip(self, reminder_id: int, *, user: str) -> None:
        changed, reminder = self.reminders.skip(reminder_id, user=user)
        if not changed:
            return self._stale(reminder)
        self._update_dm(reminder, texts.SKIPPED.format(user=mrkdwn.mention(user)))

    def start_breather(self, reminder_id: int, *, user: str) -> None:
        changed, reminder, until = self.reminders.start_breather(reminder_id, user=user)
        if not changed or until is None:
            return self._stale(reminder)
        self._update_dm(reminder, texts.BREATHER_STARTED.format(until=mrkdwn.slack_date(until, "{time}")))

    def skip_breather(self, reminder_id: int, *, user: str) -> None:
        changed, reminder = self.reminders.skip_breather(reminder_id, user=user)
        if not changed:
            return self._stale(reminder)
        self._update_dm(reminder, texts.BREATHER_SKIPPED)

    def _update_dm(self, reminder: ReminderView, line: str) -> None:
        if not (reminder.dm_channel and reminder.dm_ts):
            return
        case = self.cases.get(reminder.case_id or 0)
        original = Message(line)
        if reminder.kind == "follow_up" and case is not None:
            original = self.views.follow_up_dm(case, reminder.id)
        elif reminder.kind == "breather" and case is not None:
            original = self.views.breather_dm(case, reminder.id, reminder.payload, self.config.breather_minutes)
        try:
            self.notify.slack.update(reminder.dm_channel, reminder.dm_ts, self.views.answered(original, line))
        except SlackFailure as exc:
            log.warning("updating reminder DM %s failed: %s", reminder.id, exc.code)

    @staticmethod
    def _stale(reminder: ReminderView) -> None:
        """A second click on an answered reminder: the DM already shows the first answer; keep it."""
        log.info("reminder %s was already %s; ignoring a repeated answer", reminder.id, reminder.status)
