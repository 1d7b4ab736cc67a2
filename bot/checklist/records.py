"""Ticking and unticking the playbook's steps.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from typing import Any

from bot import texts
from bot.core.cases import CaseStore
from bot.core.errors import CaseError
from bot.core.snapshot import CaseSnapshot
from storage import repositories as repo

_log = logging.getLogger(__name__)


class StepRecords(CaseStore):
    """Ticking and unticking the playbook's steps."""

    def set_step(
        self, case_id: int, number: int, *, done: bool, user: str, details: dict[str, Any] | None = None
    ) -> tuple[bool, CaseSnapshot]:
        """Tick or untick a step. Returns (changed, snapshot); a repeated request changes nothing.

        The snapshot is a light one (no history or prior cases): callers re-render from `get` anyway,
        and the repeat-customer lookup would otherwise run twice per click.
        """
        now = self.clock()
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
            if not 1 <= number <= len(case.steps):
                raise ValueError(f"case {case_id} has no step {number}")
            changed = repo.set_step(session, case_id, number, done=done, user=user, now=now, details=details)
            if changed:
                data: dict[str, Any] = {"step": number}
                if details:
                    data.update(details)
                repo.add_event(session, case_id, actor=user, kind="step_done" if done else "step_undone", now=now, data=data)
                repo.update_case(session, case_id, now)
                repo.forget_loaded(session)
                case = repo.get_case(session, case_id)
                assert case is not None
            return changed, self._snapshot(session, case, light=True)
