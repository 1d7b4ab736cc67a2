"""Ticking the playbook's steps: a step is ticked (with what its form asked), then Slack shows it."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.checklist.records import StepRecords
from bot.core import playbook
from bot.core.errors import CaseError
from bot.delivery.publisher import Publisher


class Checklist:
    def __init__(self, cases: StepRecords, publisher: Publisher):
        self.cases = cases
        self.publisher = publisher

    def tick(self, case_id: int, number: int, *, done: bool, user: str, details: dict[str, Any] | None = None) -> str | None:
        """Tick (or untick) step `number` and show it; Slack's error code if the case could not be updated
        there (the change is saved either way, and the sweep shows it later)."""
        kept = {k: v for k, v in details.items() if v} if details is not None else None
        changed = self.cases.set_step(case_id, number, done=done, user=user, details=kept)
        return self.publisher.refresh(case_id) if changed else None

    def asks_of(self, case_id: int, number: int) -> str | None:
        """What ticking step `number` of this case asks for (a form), from the playbook it was opened with."""
        case = self.cases.get(case_id, full=False)
        if case is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        return playbook.step(case.playbook, number).asks if 1 <= number <= case.total else None

    def step_asking(self, case_id: int, asks: str) -> int:
        """The step of this case whose tick asks `asks` (for a form opened before forms carried their step)."""
        case = self.cases.require(case_id)
        step = playbook.step_asking(case.playbook, asks)
        if step is None:
            raise CaseError(texts.GENERIC_FAILURE)
        return step.number
