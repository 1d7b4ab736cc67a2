"""Closing's messages: the review prompt and the UX issue for the product team (bot.closing.service.ClosingViews)."""

from __future__ import annotations

from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from handlers.slack import notices


class ClosingViews:
    def review_prompt(self, case: CaseSnapshot) -> Message:
        return Message(*notices.review_prompt(case))

    def product_feedback(self, case: CaseSnapshot, user: str, cause: str, ux_issue: str) -> Message:
        return Message(notices.product_feedback(case, user, cause, ux_issue))
