"""The request for the experts, with its Update and Fixed buttons (bot.escalation.service.EscalationViews)."""

from __future__ import annotations

from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from handlers.slack import notices


class EscalationViews:
    def escalation_post(self, case: CaseSnapshot) -> Message:
        return Message(*notices.escalation_post(case))
