"""Ticking and unticking the playbook's steps.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from typing import Any

from bot import texts
from bot.core.cases import CaseStore
from bot.core.errors import CaseError
from storage import repositories as repo

_log = logging.getLogger(__name__)


class StepRecords(CaseStore):
    """Ticking and unticking the playbook's steps."""

    def set_step(
        self, case_id: int, number: int, *, done: bool, user: str, details: dict[str, Any] | None = None
    ) -> bool:
        """Tick or untick a step; True if this call changed it (a repeated request changes nothing).

        The write comes first and reads nothing: callers re-render from `get`. Only a click that changed
        nothing reads, to tell a repeat from a case or step that does not exist."""
        now = self.clock()
        with self.db.session() as session:
            if not repo.set_step(session, case_id, number, done=done, user=user, now=now, details=details):
                if repo.step_done(session, case_id, number) is None:
                    if not repo.case_exists(session, case_id):
                        raise CaseError(texts.CASE_NOT_FOUND)
                    raise ValueError(f"case {case_id} has no step {number}")
                return False
            data: dict[str, Any] = {"step": number}
            if details:
                data.update(details)
            repo.add_event(session, case_id, actor=user, kind="step_done" if done else "step_undone", now=now, data=data)
            repo.update_case(session, case_id, now)
            return True
