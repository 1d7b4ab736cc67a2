"""Closing, reopening and the review of why the customer was angry.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from typing import Any

from bot import texts
from bot.core.cases import CaseStore
from bot.core.errors import CaseError
from bot.core.rules import check_owner
from bot.core.snapshot import CLOSED_STATUSES, MOODS, CaseSnapshot
from storage import repositories as repo

_log = logging.getLogger(__name__)


class ClosingRecords(CaseStore):
    """Closing, reopening and the review of why the customer was angry."""

    def close(self, case_id: int, *, user: str, outcome: str, details: dict[str, Any]) -> tuple[bool, CaseSnapshot]:
        """Resolved or not: owner only, once. A repeated submission changes nothing."""
        if outcome not in CLOSED_STATUSES:
            raise ValueError(f"unknown outcome {outcome!r}")
        if details.get("mood") not in (None, *MOODS):
            raise ValueError(f"unknown mood {details['mood']!r}")
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if case.status in CLOSED_STATUSES:
                return False, self._snapshot(session, case)
            check_owner(case, user, "close")
            changed = repo.update_case_if(
                session, case_id, now, expect={"open": True},
                status=outcome, closed_at=now, closed_by=user, resolution={"outcome": outcome, **details},
            )
            if not changed:
                return False, self._fresh(session, case_id)
            event_id = repo.add_event(session, case_id, actor=user, kind=outcome, now=now, data=details)
            for handoff in repo.pending_handoffs(session, case_id):
                repo.answer_handoff(session, handoff.id, status="cancelled", now=now, reason="case closed")
            snapshot = self._fresh(session, case_id)
            self.hooks.case_closed(session, snapshot, event_id, now)
            return True, snapshot

    def reopen(self, case_id: int, *, user: str) -> tuple[bool, CaseSnapshot]:
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if case.status not in CLOSED_STATUSES:
                return False, self._snapshot(session, case)
            was = case.status
            waiting = bool(case.escalation) and not (case.escalation or {}).get("fixed_at")
            changed = repo.update_case_if(
                session, case_id, now, expect={"open": False},
                status="escalated" if waiting else "open", closed_at=None, closed_by=None,
            )
            if not changed:
                return False, self._fresh(session, case_id)
            repo.add_event(session, case_id, actor=user, kind="reopened", now=now, data={"was": was})
            snapshot = self._fresh(session, case_id)
            self.hooks.case_reopened(session, snapshot, now)
            return True, snapshot

    def save_review(self, case_id: int, *, user: str, cause: str, improve: str | None, ux_issue: str | None) -> CaseSnapshot:
        if cause not in texts.CAUSES:
            raise ValueError(f"unknown cause {cause!r}")
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if case.status not in CLOSED_STATUSES:
                raise CaseError(texts.CASE_NOT_CLOSED.format(number=case_id))
            if user not in (case.owner_id, case.closed_by):
                check_owner(case, user, "review")
            repo.save_review(session, case_id, cause=cause, improve=improve, ux_issue=ux_issue, reviewed_by=user,
                             reviewed_at=now)
            repo.add_event(
                session, case_id, actor=user, kind="reviewed", now=now,
                data={"cause": cause, "improve": improve, "ux_issue": ux_issue},
            )
            return self._fresh(session, case_id)

    def review_forwarded(self, case_id: int) -> bool:
        with self.db.session() as session:
            review = repo.get_review(session, case_id)
            return bool(review and review.forwarded_ts)

    def set_review_forwarded(self, case_id: int, ts: str) -> None:
        with self.db.session() as session:
            repo.set_review_forwarded(session, case_id, ts)
