"""How a case looks in Slack: the case message and its checklist thread (bot.delivery.posting.CaseViews),
the guide, and the forms a step's tick asks for."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from bot.playbook import Playbook
from handlers.slack import blockkit, modals


class CaseViews:
    def case_message(self, case: CaseSnapshot) -> Message:
        return Message(blockkit.case_fallback(case), blockkit.case_message(case))

    def checklist(self, case: CaseSnapshot) -> Message:
        return Message(blockkit.checklist_fallback(case), blockkit.checklist(case))


def step_modal(config: Config, asks: str, case_id: int, number: int) -> dict[str, Any]:
    """The form a step's tick asks for; it carries the step number back to the submission."""
    if asks == "apology":
        return blockkit.apology_modal(case_id, number)
    if asks == "action":
        return blockkit.action_modal(case_id, number)
    return modals.plan_modal(case_id, config.follow_up_schedule, step=number)


def guide_modal(book: Playbook) -> dict[str, Any]:
    return blockkit.guide_modal(book)
