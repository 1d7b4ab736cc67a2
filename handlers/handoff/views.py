"""Second contact's messages: the request DM with Accept and Decline (bot.handoff.service.HandoffViews)."""

from __future__ import annotations

from datetime import datetime

from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from handlers.slack import notices


def answered(original: Message, outcome: str) -> Message:
    """A DM as it was, with its buttons replaced by what happened."""
    return Message(outcome, notices.answered([dict(b) for b in original.blocks or []], outcome))


class HandoffViews:
    def request_dm(self, case: CaseSnapshot, handoff_id: int, requester: str, note: str | None,
                   breather_until: datetime | None = None) -> Message:
        return Message(*notices.handoff_dm(case, handoff_id, requester, note, breather_until))

    def answered(self, original: Message, outcome: str) -> Message:
        return answered(original, outcome)
