"""Reminder DMs: the follow-up and the breather, and how they look once answered
(bot.followups.sending.ReminderViews)."""

from __future__ import annotations

from typing import Any

from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from handlers.handoff.views import answered
from handlers.slack import notices


class ReminderViews:
    def follow_up_dm(self, case: CaseSnapshot, reminder_id: int) -> Message:
        return Message(*notices.follow_up_dm(case, reminder_id))

    def breather_dm(self, case: CaseSnapshot, reminder_id: int, payload: dict[str, Any], minutes: int) -> Message:
        return Message(*notices.breather_dm(case, reminder_id, payload, minutes))

    def answered(self, original: Message, outcome: str) -> Message:
        return answered(original, outcome)
